/**
 * The Library's query and facet logic (in-memory index) against a real SQLite workspace store,
 * checked against the plain SQL semantics of sql-reference.ts over many random filters and sorts.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Store } from '../../src/main/core/store/store';
import { LibraryRepo } from '../../src/main/core/store/library-repo';
import { LibraryService } from '../../src/main/core/library/library-service';
import { filterKey } from '../../src/main/core/library/library-index';
import { LIBRARY_SORTS, type FacetValue, type LibraryFacets, type LibraryFilter, type LibrarySort } from '../../src/shared/calls/library';
import { SCENARIOS } from '../../src/shared/taxonomy';
import { useTmpDirs } from '../helpers/tmp';
import { sqlFacets, sqlPage } from './sql-reference';
import { insertSynthetic, PROBLEM_CODES, prng } from './synthetic';

const tmp = useTmpDirs();
let dir: string;
let store: Store;
let service: LibraryService;
let datasetA: number;
let datasetB: number;

beforeAll(async () => {
  dir = await tmp();
  store = Store.open(dir);
  datasetA = insertSynthetic(store, { count: 3000, seed: 7, datasetName: 'a' });
  datasetB = insertSynthetic(store, { count: 700, seed: 9, datasetName: 'b', root: '/nonexistent/b' });
  // Rows the importer might write oddly: an empty problem list and a non-JSON one.
  store.connection.prepare("UPDATE samples SET issues = '[]' WHERE id IN (5, 6)").run();
  // Annotations on every 7th sample that keep the dataset's label (so the label facet stays the
  // SQL reference's) but set a review state and, on some, the training flag.
  store.connection
    .prepare(
      `INSERT INTO annotations (sample_id, label, defect_type, review_state, mask_path, exclude_train, updated_at, version)
       SELECT id, CASE WHEN label = 'good' THEN 'good' ELSE 'anomalous' END, CASE WHEN label = 'good' THEN NULL ELSE label END,
              CASE id % 4 WHEN 0 THEN 'unlabelled' WHEN 1 THEN 'labelled' WHEN 2 THEN 'reviewed' ELSE 'rejected' END, NULL, id % 3 = 0, '2026-01-01T00:00:00.000Z', 1
       FROM samples WHERE id % 7 = 0`,
    )
    .run();
  service = new LibraryService({ repo: new LibraryRepo(store), thumbsDir: join(dir, 'thumbs') });
});

afterAll(() => store.close());

/** Facets without zero counts, for comparing with SQL (which only lists values it found). */
function nonZero(f: LibraryFacets): LibraryFacets {
  const strip = (v: FacetValue[]) => v.filter((x) => x.count > 0);
  return {
    total: f.total,
    facets: {
      scenario: strip(f.facets.scenario),
      split: strip(f.facets.split),
      kind: strip(f.facets.kind),
      label: strip(f.facets.label),
      mask: strip(f.facets.mask),
      problems: strip(f.facets.problems),
      review: strip(f.facets.review),
      training: strip(f.facets.training),
      suspicion: strip(f.facets.suspicion),
    },
  };
}

function randomFilter(rand: () => number): LibraryFilter {
  const pick = <T>(values: readonly T[], p = 0.4): T[] | undefined => {
    if (rand() > p) return undefined;
    const out = values.filter(() => rand() < 0.4);
    return out.length ? out : [values[Math.floor(rand() * values.length)]!];
  };
  const filter: LibraryFilter = {};
  if (rand() < 0.3) filter.datasetId = rand() < 0.5 ? datasetA : datasetB;
  const scenario = pick(SCENARIOS);
  if (scenario) filter.scenario = scenario;
  const split = pick(['train', 'test'] as const);
  if (split) filter.split = split;
  const kind = pick(['good', 'anomalous'] as const);
  if (kind) filter.kind = kind;
  const label = pick(['good', 'crack', 'looseness', 'weld_pit', 'broken', 'miss', 'nut_miss', 'no_such_label'], 0.3);
  if (label) filter.label = label;
  const mask = pick(['with', 'without'] as const, 0.3);
  if (mask) filter.mask = mask;
  const problems = pick(['none', ...PROBLEM_CODES], 0.25);
  if (problems) filter.problems = problems;
  const review = pick(['unlabelled', 'labelled', 'reviewed', 'rejected'] as const, 0.25);
  if (review) filter.review = review;
  const training = pick(['included', 'excluded'] as const, 0.25);
  if (training) filter.training = training;
  if (rand() < 0.15) filter.search = ['00012', 'WIND', 'test/good', '/crack/'][Math.floor(rand() * 4)]!;
  return filter;
}

describe('library query and facets', () => {
  it('match the SQL semantics over random filters, sorts and pages', () => {
    const rand = prng(42);
    for (let trial = 0; trial < 120; trial++) {
      const filter = randomFilter(rand);
      const sort: LibrarySort = { key: LIBRARY_SORTS[trial % LIBRARY_SORTS.length]!, desc: rand() < 0.5 };
      const expected = sqlPage(store.connection, filter, sort, 0, 100_000);
      const offset = expected.total > 0 ? Math.floor(rand() * expected.total) : 0;
      const page = service.query(filter, sort, offset, 37);
      expect(page.total, JSON.stringify(filter)).toBe(expected.total);
      expect(page.rows, JSON.stringify({ filter, sort, offset })).toEqual(expected.rows.slice(offset, offset + 37));
      expect(nonZero(service.facets(filter)), JSON.stringify(filter)).toEqual(nonZero(sqlFacets(store.connection, filter)));
    }
  });

  it('counts each facet under the other facets only (live counts)', () => {
    const all = service.facets({ datasetId: datasetA });
    const wind = service.facets({ datasetId: datasetA, scenario: ['wind_turbine'] });
    // Choosing one scenario leaves the scenario counts as they were: they say what adding another would give.
    expect(wind.facets.scenario).toEqual(all.facets.scenario);
    expect(wind.total).toBe(all.facets.scenario.find((v) => v.value === 'wind_turbine')!.count);
    // Other facets narrow to wind turbine: its only defect type is crack.
    const labels = wind.facets.label.filter((v) => v.count > 0).map((v) => v.value);
    expect(labels).toEqual(['crack']);
    expect(wind.facets.kind.reduce((s, v) => s + v.count, 0)).toBe(wind.total);
    // Values with no sample under the filter stay listed with 0, so a chosen value never vanishes.
    expect(wind.facets.label.find((v) => v.value === 'weld_pit')?.count).toBe(0);
  });

  it('reads NULL, empty and malformed problem lists without failing', () => {
    store.connection.prepare("UPDATE samples SET issues = 'not json' WHERE id = 7").run();
    const facets = service.facets({});
    expect(facets.facets.problems.find((v) => v.value === 'not json')?.count).toBe(1);
    const none = service.query({ problems: ['none'] }, { key: 'imported', desc: false }, 0, 10);
    expect(none.rows.map((r) => r.id)).toEqual(expect.arrayContaining([5, 6]));
    expect(none.rows.every((r) => r.problems.length === 0)).toBe(true);
    store.connection.prepare('UPDATE samples SET issues = NULL WHERE id = 7').run();
  });

  it('sees writes from this connection and from another one (data version)', () => {
    const before = service.query({ search: 'fresh-sample' }, { key: 'default', desc: false }, 0, 10).total;
    expect(before).toBe(0);
    store.connection
      .prepare("INSERT INTO samples (dataset_id, scenario, split, label, rel_path, mask_rel_path, width, height) VALUES (?, 'wind_turbine', 'test', 'crack', 'x/fresh-sample.png', NULL, 8, 8)")
      .run(datasetB);
    expect(service.query({ search: 'fresh-sample' }, { key: 'default', desc: false }, 0, 10).total).toBe(1);
    const other = new Database(join(dir, 'lab.sqlite'));
    other.prepare("UPDATE samples SET label = 'broken' WHERE rel_path = 'x/fresh-sample.png'").run();
    other.close();
    expect(service.query({ search: 'fresh-sample' }, { key: 'default', desc: false }, 0, 10).rows[0]!.label).toBe('broken');
    store.connection.prepare("DELETE FROM samples WHERE rel_path = 'x/fresh-sample.png'").run();
    expect(service.query({ search: 'fresh-sample' }, { key: 'default', desc: false }, 0, 10).total).toBe(0);
  });

  it('reads a path holding the separator of the packed scan exactly (row-by-row fallback)', () => {
    const odd = 'x/odd\x1fname,1.png';
    store.connection
      .prepare("INSERT INTO samples (dataset_id, scenario, split, label, rel_path, mask_rel_path, width, height, issues) VALUES (?, 'wind_turbine', 'train', 'good', ?, NULL, 8, 8, '[\"odd_name\"]')")
      .run(datasetB, odd);
    const repo = new LibraryRepo(store);
    expect(repo.scanColumns()).toEqual(repo.scanRows());
    const page = service.query({ search: 'odd\x1fname' }, { key: 'default', desc: false }, 0, 10);
    expect(page.rows.map((r) => [r.relPath, r.problems])).toEqual([[odd, ['odd_name']]]);
    store.connection.prepare('DELETE FROM samples WHERE rel_path = ?').run(odd);
    expect(repo.scanColumns()).toEqual(repo.scanRows());
  });

  it('resolves a selection of "filter minus exceptions" and of ids, in sort order', () => {
    const filter: LibraryFilter = { datasetId: datasetA, kind: ['anomalous'] };
    const sort: LibrarySort = { key: 'path', desc: true };
    const all = sqlPage(store.connection, filter, sort, 0, 100_000).rows.map((r) => r.id);
    const except = [all[0]!, all[5]!, 999_999];
    const picked = service.selection({ mode: 'filter', filter, except }, sort, 0, 100_000);
    expect(picked.total).toBe(all.length - 2);
    expect(picked.ids).toEqual(all.filter((id) => id !== all[0] && id !== all[5]));
    const paged = service.selection({ mode: 'filter', filter, except }, sort, 10, 5);
    expect(paged.ids).toEqual(picked.ids.slice(10, 15));
    const ids = service.selection({ mode: 'ids', ids: [all[3]!, all[1]!, all[3]!, 999_999] }, sort, 0, 10);
    expect(ids).toEqual({ total: 2, ids: [all[1]!, all[3]!] });
  });

  it('keys a filter by its meaning, not by the order values were picked in', () => {
    expect(filterKey({ scenario: ['b', 'a'], split: [] })).toBe(filterKey({ scenario: ['a', 'b', 'a'] }));
    expect(filterKey({ search: '  Wind ' })).toBe(filterKey({ search: 'wind' }));
    expect(filterKey({ scenario: ['a'] })).not.toBe(filterKey({ label: ['a'] }));
  });
});
