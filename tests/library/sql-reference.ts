/**
 * The Library's semantics written the plain way, in SQL: a WHERE clause per filter, one GROUP BY
 * per facet with that facet's own filter left out, and LIMIT/OFFSET paging. The unit tests use it
 * as the oracle for the in-memory index, and bench/library-query.ts as the naive baseline.
 */
import type Database from 'better-sqlite3';
import type { FacetValue, LibraryFacet, LibraryFacets, LibraryFilter, LibraryRow, LibrarySort } from '../../src/shared/calls/library';

type Param = string | number;

/** The workspace's review state and training flag of a sample (no annotation row: unlabelled, included). */
const REVIEW_SQL = "ifnull((SELECT a.review_state FROM annotations a WHERE a.sample_id = samples.id), 'unlabelled')";
const TRAINING_SQL = "CASE WHEN ifnull((SELECT a.exclude_train FROM annotations a WHERE a.sample_id = samples.id), 0) = 1 THEN 'excluded' ELSE 'included' END";

function where(filter: LibraryFilter, leaveOut: LibraryFacet | null): { sql: string; params: Param[] } {
  const parts: string[] = ['1'];
  const params: Param[] = [];
  const inList = (column: string, values: readonly string[]) => {
    parts.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  if (filter.datasetId !== undefined) {
    parts.push('dataset_id = ?');
    params.push(filter.datasetId);
  }
  if (filter.scenario?.length && leaveOut !== 'scenario') inList('scenario', filter.scenario);
  if (filter.split?.length && leaveOut !== 'split') inList('split', filter.split);
  if (filter.kind?.length && leaveOut !== 'kind') {
    const kinds = new Set(filter.kind);
    if (!(kinds.has('good') && kinds.has('anomalous'))) parts.push(kinds.has('good') ? "label = 'good'" : "label <> 'good'");
  }
  if (filter.label?.length && leaveOut !== 'label') inList('label', filter.label);
  if (filter.mask?.length && leaveOut !== 'mask') {
    const m = new Set(filter.mask);
    if (!(m.has('with') && m.has('without'))) parts.push(m.has('with') ? 'mask_rel_path IS NOT NULL' : 'mask_rel_path IS NULL');
  }
  if (filter.problems?.length && leaveOut !== 'problems') {
    const codes = filter.problems.filter((p) => p !== 'none');
    const alts: string[] = [];
    if (codes.length) {
      alts.push(`EXISTS (SELECT 1 FROM json_each(samples.issues) j WHERE j.value IN (${codes.map(() => '?').join(', ')}))`);
      params.push(...codes);
    }
    if (filter.problems.includes('none')) alts.push("(issues IS NULL OR issues = '[]')");
    parts.push(`(${alts.join(' OR ')})`);
  }
  if (filter.review?.length && leaveOut !== 'review') inList(REVIEW_SQL, filter.review);
  if (filter.training?.length && leaveOut !== 'training') inList(TRAINING_SQL, filter.training);
  // No training-set check in these workspaces: every sample is `unchecked`.
  if (filter.suspicion?.length && leaveOut !== 'suspicion') inList("'unchecked'", filter.suspicion);
  const search = filter.search?.trim().toLowerCase();
  if (search) {
    parts.push('instr(lower(rel_path), ?) > 0');
    params.push(search);
  }
  return { sql: parts.join(' AND '), params };
}

const ORDER: Record<LibrarySort['key'], string> = {
  default: "dataset_id, scenario, split = 'test', label, rel_path, id",
  path: 'rel_path, id',
  label: 'label, scenario, rel_path, id',
  fileSize: "file_size IS NULL, file_size, dataset_id, scenario, split = 'test', label, rel_path, id",
  imported: 'id',
};

function orderBy(sort: LibrarySort): string {
  const cols = ORDER[sort.key];
  return sort.desc ? cols.split(', ').map((c) => `${c} DESC`).join(', ') : cols;
}

export function sqlPage(db: Database.Database, filter: LibraryFilter, sort: LibrarySort, offset: number, limit: number): { total: number; rows: LibraryRow[] } {
  const w = where(filter, null);
  const total = (db.prepare(`SELECT COUNT(*) AS n FROM samples WHERE ${w.sql}`).get(...w.params) as { n: number }).n;
  const rows = db
    .prepare(
      `SELECT id, dataset_id, scenario, split, label, rel_path, mask_rel_path, issues, width, height FROM samples
       WHERE ${w.sql} ORDER BY ${orderBy(sort)} LIMIT ? OFFSET ?`,
    )
    .all(...w.params, limit, offset) as {
    id: number;
    dataset_id: number;
    scenario: string;
    split: 'train' | 'test';
    label: string;
    rel_path: string;
    mask_rel_path: string | null;
    issues: string | null;
    width: number;
    height: number;
  }[];
  return {
    total,
    rows: rows.map((r) => ({
      id: r.id,
      datasetId: r.dataset_id,
      scenario: r.scenario,
      split: r.split,
      label: r.label,
      relPath: r.rel_path,
      hasMask: r.mask_rel_path !== null,
      problems: r.issues ? [...new Set(JSON.parse(r.issues) as string[])] : [],
      width: r.width,
      height: r.height,
    })),
  };
}

export function sqlFacets(db: Database.Database, filter: LibraryFilter): LibraryFacets {
  const count = (facet: LibraryFacet, select: string, from = 'samples'): FacetValue[] => {
    const w = where(filter, facet);
    return (db.prepare(`SELECT ${select} AS value, COUNT(*) AS count FROM ${from} WHERE ${w.sql} GROUP BY 1 ORDER BY 1`).all(...w.params) as FacetValue[]).map((v) => ({
      value: String(v.value),
      count: v.count,
    }));
  };
  const total = (() => {
    const w = where(filter, null);
    return (db.prepare(`SELECT COUNT(*) AS n FROM samples WHERE ${w.sql}`).get(...w.params) as { n: number }).n;
  })();
  const kinds = count('kind', "CASE WHEN label = 'good' THEN 'good' ELSE 'anomalous' END");
  const masks = count('mask', "CASE WHEN mask_rel_path IS NOT NULL THEN 'with' ELSE 'without' END");
  const splits = count('split', 'split');
  const reviews = count('review', REVIEW_SQL);
  const trainings = count('training', TRAINING_SQL);
  const suspicions = count('suspicion', "'unchecked'");
  const wp = where(filter, 'problems');
  const problemRows = db
    .prepare(`SELECT j.value AS value, COUNT(DISTINCT samples.id) AS count FROM samples, json_each(samples.issues) j WHERE ${wp.sql} GROUP BY 1 ORDER BY 1`)
    .all(...wp.params) as FacetValue[];
  const none = (db.prepare(`SELECT COUNT(*) AS n FROM samples WHERE ${wp.sql} AND (issues IS NULL OR issues = '[]')`).get(...wp.params) as { n: number }).n;
  const get = (values: FacetValue[], value: string) => values.find((v) => v.value === value)?.count ?? 0;
  return {
    total,
    facets: {
      scenario: count('scenario', 'scenario'),
      split: [
        { value: 'train', count: get(splits, 'train') },
        { value: 'test', count: get(splits, 'test') },
      ],
      kind: [
        { value: 'good', count: get(kinds, 'good') },
        { value: 'anomalous', count: get(kinds, 'anomalous') },
      ],
      label: count('label', 'label').filter((v) => v.value !== 'good'),
      mask: [
        { value: 'with', count: get(masks, 'with') },
        { value: 'without', count: get(masks, 'without') },
      ],
      problems: [{ value: 'none', count: none }, ...problemRows],
      review: ['unlabelled', 'labelled', 'reviewed', 'rejected'].map((value) => ({ value, count: get(reviews, value) })),
      training: ['included', 'excluded'].map((value) => ({ value, count: get(trainings, value) })),
      suspicion: ['top-1%', 'top-5%', 'rest', 'unchecked'].map((value) => ({ value, count: get(suspicions, value) })),
    },
  };
}
