/**
 * The Library's index follows annotation edits in place (issue 20, "at MIAD scale, while
 * annotating"): after an edit the next query patches the edited samples instead of rebuilding
 * from a scan, and answers exactly what a fresh index built from the store answers — facets,
 * filtered pages in every sort, for the edits an annotator makes (label, defect type, review
 * state, mask, training flag). Writes that do not touch the samples (a run's progress) keep the
 * index; writes to the samples (import, rescan) rebuild it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIBRARY_SORTS, type LibraryFilter } from '../../src/shared/calls/library';
import { LibraryIndex } from '../../src/main/core/library/library-index';
import { LibraryService } from '../../src/main/core/library/library-service';
import { AnnotationRepo, type AnnotationRow } from '../../src/main/core/store/annotation-repo';
import { LibraryRepo } from '../../src/main/core/store/library-repo';
import { Store } from '../../src/main/core/store/store';
import { useTmpDirs } from '../helpers/tmp';
import { insertSynthetic, prng } from './synthetic';

const tmp = useTmpDirs();
const FILTERS: LibraryFilter[] = [{}, { label: ['crack'] }, { kind: ['good'], split: ['test'] }, { review: ['reviewed'] }, { training: ['excluded'] }, { mask: ['with'] }, { scenario: ['wind_turbine'], search: '00' }];

let store: Store;
let repo: LibraryRepo;
let annotations: AnnotationRepo;
let service: LibraryService;

beforeEach(async () => {
  const dir = await tmp();
  store = Store.open(dir);
  insertSynthetic(store, { count: 3000, seed: 5 });
  repo = new LibraryRepo(store);
  annotations = new AnnotationRepo(store);
  service = new LibraryService({ repo, thumbsDir: `${dir}/thumbs` });
});
afterEach(() => store.close());

/** Every facet and the every row of every sort under every filter, from the service and from a fresh index. */
function expectSameAsFresh(): void {
  const fresh = new LibraryIndex(repo.scanColumns());
  for (const filter of FILTERS) {
    expect(service.facets(filter), JSON.stringify(filter)).toEqual(fresh.facets(filter));
    for (const key of LIBRARY_SORTS) {
      for (const desc of [false, true]) {
        const sort = { key, desc };
        const page = service.query(filter, sort, 0, 3000);
        expect(page.rows.map((r) => r.id), `${JSON.stringify(filter)} ${key} ${desc}`).toEqual(fresh.page(filter, sort, 0, 3000).rows.map((r) => r.id));
        expect(page.total).toBe(fresh.page(filter, sort, 0, 3000).total);
      }
    }
  }
}

function edit(sampleId: number, change: Partial<AnnotationRow>): void {
  const before = annotations.row(sampleId);
  annotations.upsert({
    sample_id: sampleId,
    label: 'good',
    defect_type: null,
    review_state: 'unlabelled',
    mask_path: null,
    exclude_train: 0,
    ...before,
    ...change,
    updated_at: new Date().toISOString(),
    version: (before?.version ?? 0) + 1,
  });
}

describe('the Library index under annotation edits', () => {
  it('patches edited samples in place, sorts included, and answers as a fresh index does', () => {
    expectSameAsFresh(); // builds the index and the orders of every sort
    expect(service.stats).toEqual({ rebuilds: 1, patches: 0 });
    const ids = (store.connection.prepare('SELECT id FROM samples ORDER BY id').pluck().all() as number[]);
    const rand = prng(9);
    const pick = () => ids[Math.floor(rand() * ids.length)]!;
    // An annotator's session: relabels, defect types, reviews, masks, training flags; one at a time.
    for (let k = 0; k < 12; k++) {
      const id = pick();
      const change: Partial<AnnotationRow>[] = [
        { label: 'anomalous', defect_type: 'crack', review_state: 'labelled' },
        { label: 'good', defect_type: null, review_state: 'reviewed' },
        { review_state: 'rejected' },
        { mask_path: `masks/1/${id}.png` },
        { exclude_train: 1 },
        { label: 'anomalous', defect_type: null },
      ];
      edit(id, change[k % change.length]!);
      expectSameAsFresh();
    }
    expect(service.stats.rebuilds).toBe(1);
    expect(service.stats.patches).toBe(12);

    // Several edits between two queries are applied together.
    for (let k = 0; k < 5; k++) edit(pick(), { label: 'anomalous', defect_type: 'pits', review_state: 'reviewed' });
    expectSameAsFresh();
    expect(service.stats).toEqual({ rebuilds: 1, patches: 13 });
  });

  it('a defect type the index has never seen drops the label orders and still sorts right', () => {
    expectSameAsFresh();
    edit(1, { label: 'anomalous', defect_type: 'zz_new_defect' });
    expectSameAsFresh();
    expect(service.query({ label: ['zz_new_defect'] }, { key: 'label', desc: false }, 0, 10).rows.map((r) => r.id)).toEqual([1]);
    expect(service.stats.rebuilds).toBe(1);
  });

  it('a write that leaves the samples alone keeps the index; a write to the samples rebuilds it', () => {
    expectSameAsFresh();
    store.connection.prepare("INSERT INTO meta (key, value) VALUES ('x', '1') ON CONFLICT (key) DO UPDATE SET value = excluded.value").run();
    service.facets({});
    expect(service.stats).toEqual({ rebuilds: 1, patches: 0 });

    store.connection.prepare("UPDATE samples SET issues = '[\"truncated\"]' WHERE id = 2").run();
    expectSameAsFresh();
    expect(service.stats.rebuilds).toBe(2);
  });

  it('changes pruned before this index read them make it rebuild rather than miss them', () => {
    expectSameAsFresh();
    edit(3, { review_state: 'reviewed' });
    // Another reader applied and pruned them first.
    repo.pruneAnnotationChanges(Number.MAX_SAFE_INTEGER);
    edit(4, { review_state: 'reviewed' });
    expectSameAsFresh();
    expect(service.stats.rebuilds).toBe(2);
  });
});
