/**
 * SQL of the Library view (issue 3). It only reads: one compact scan of the columns the facets
 * and sorts need (the in-memory index of library/library-index.ts is built from it), sample
 * details, and what the thumbnailer needs to find a file. The data version lets the index know
 * when to rebuild without the writers having to tell it. Labels and masks are read through the
 * workspace's annotations (annotation-repo.ts): an edited label or mask overrides the dataset's
 * in the grid, the facets and the sample detail.
 */
import { SUSPICION_BINS } from '../../../shared/calls/checks';
import { EFFECTIVE_LABEL_SQL } from './annotation-repo';
import { suspicionBins } from './checks-repo';
import type { Store } from './store';

/** A sample has a mask when the dataset gives one or the workspace has an edited one. */
const HAS_MASK_SQL = '(s.mask_rel_path IS NOT NULL OR a.mask_path IS NOT NULL)';

/**
 * Every sample's browsing columns, column-wise and aligned by position (the library index's
 * input). `problems` holds the raw `issues` JSON or null; `fileSize` is null when unknown.
 */
export interface LibraryColumns {
  ids: number[];
  datasetIds: number[];
  scenarios: string[];
  /** 0 train, 1 test. */
  splits: number[];
  labels: string[];
  relPaths: string[];
  hasMask: number[];
  /** Review state as an index into LIBRARY_REVIEW_VALUES (0 unlabelled … 3 rejected). */
  reviews: number[];
  /** 1 when the sample is excluded from training sets. */
  excluded: number[];
  /** Index into SUSPICION_BINS: the bin of the sample's score in the shown check of its scenario. */
  suspicion: number[];
  issues: (string | null)[];
  fileSizes: (number | null)[];
  widths: number[];
  heights: number[];
}

/** The review state as a digit, in LIBRARY_REVIEW_VALUES order; no annotation row is `unlabelled`. */
const REVIEW_CODE_SQL = "CASE a.review_state WHEN 'labelled' THEN 1 WHEN 'reviewed' THEN 2 WHEN 'rejected' THEN 3 ELSE 0 END";
const EXCLUDED_SQL = '(ifnull(a.exclude_train, 0) = 1)';

/** Separator of text columns in the packed scan: ASCII unit separator, absent from real paths. */
const US = '\x1f';

export interface SampleDetailRow {
  id: number;
  dataset_id: number;
  dataset_name: string;
  root: string;
  scenario: string;
  split: 'train' | 'test';
  label: string;
  rel_path: string;
  mask_rel_path: string | null;
  /** The workspace's edited mask, relative to the workspace; null when none. */
  edited_mask_path: string | null;
  width: number;
  height: number;
  format: string | null;
  file_size: number | null;
  mtime_ms: number | null;
  content_hash: string | null;
  issues: string | null;
  source_folder: string | null;
}

export interface ThumbSourceRow {
  id: number;
  root: string;
  rel_path: string;
  content_hash: string | null;
  file_size: number | null;
  mtime_ms: number | null;
}

export class LibraryRepo {
  constructor(private readonly store: Store) {}

  /**
   * Changes whenever any connection committed a write: `data_version` moves on other
   * connections' commits, `total_changes()` on this connection's own. Costs microseconds.
   */
  dataVersion(): string {
    const db = this.store.connection;
    const dv = db.pragma('data_version', { simple: true }) as number;
    const own = (db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    return `${dv}:${own}`;
  }

  /**
   * Where the store stands for the Library's index: the samples' change counter (`structure`,
   * moved by any insert, update or delete of a sample) and the newest annotation change (`seq`).
   */
  libraryMark(): { structure: number; seq: number } {
    return this.store.connection
      .prepare('SELECT (SELECT n FROM library_structure WHERE id = 1) AS structure, (SELECT ifnull(max(seq), 0) FROM library_changes) AS seq')
      .get() as { structure: number; seq: number };
  }

  /**
   * The samples whose annotation changed after `seq` (each once), and the newest seq; null when
   * changes after `seq` were already pruned (by another reader), so they cannot be listed.
   */
  annotationChangesSince(seq: number): { seq: number; ids: number[] } | null {
    const rows = this.store.connection.prepare('SELECT seq, sample_id FROM library_changes WHERE seq > ? ORDER BY seq').raw(true).all(seq) as [number, number][];
    // seq is AUTOINCREMENT and rows go only by pruning a prefix: the next row after `seq` is seq + 1 unless pruned.
    if (rows.length && rows[0]![0] !== seq + 1) return null;
    return { seq: rows.length ? rows[rows.length - 1]![0] : seq, ids: [...new Set(rows.map((r) => r[1]))] };
  }

  /** Forgets annotation changes up to `seq` (the index has applied them). */
  pruneAnnotationChanges(seq: number): void {
    this.store.connection.prepare('DELETE FROM library_changes WHERE seq <= ?').run(seq);
  }

  /** The annotation-dependent columns of some samples (ids that no longer exist are left out). */
  annotationColumns(ids: readonly number[]): Pick<LibraryColumns, 'ids' | 'labels' | 'hasMask' | 'reviews' | 'excluded'> {
    const rows = this.store.connection
      .prepare(
        `SELECT s.id, ${EFFECTIVE_LABEL_SQL}, ${HAS_MASK_SQL}, ${REVIEW_CODE_SQL}, ${EXCLUDED_SQL}
         FROM json_each(?) j JOIN samples s ON s.id = j.value LEFT JOIN annotations a ON a.sample_id = s.id`,
      )
      .raw(true)
      .all(JSON.stringify(ids)) as [number, string, number, number, number][];
    return { ids: rows.map((r) => r[0]), labels: rows.map((r) => r[1]), hasMask: rows.map((r) => r[2]), reviews: rows.map((r) => r[3]), excluded: rows.map((r) => r[4]) };
  }

  /**
   * Every sample's browsing columns in one row of group_concat strings. better-sqlite3 costs
   * about a microsecond per value it hands to JavaScript, so 105,000 rows × 11 columns as row
   * objects take most of a second; eleven long strings split in JavaScript take a fraction of
   * that. The aggregates of one SELECT see the rows in the same order, so the columns stay
   * aligned whatever order SQLite scans in. A text value containing the separator would
   * misalign them: the lengths are checked and the row-by-row scan is the fallback.
   */
  scanColumns(): LibraryColumns {
    const packed = this.store.connection
      .prepare(
        `SELECT COUNT(*) AS n, group_concat(id, ',') AS ids, group_concat(dataset_id, ',') AS ds, group_concat(scenario, char(31)) AS sc,
                group_concat(split = 'test', '') AS sp, group_concat(${EFFECTIVE_LABEL_SQL}, char(31)) AS lb, group_concat(rel_path, char(31)) AS rp,
                group_concat(${HAS_MASK_SQL}, '') AS mk, group_concat(${REVIEW_CODE_SQL}, '') AS rv, group_concat(${EXCLUDED_SQL}, '') AS ex,
                group_concat(ifnull(issues, ''), char(31)) AS iss,
                group_concat(ifnull(file_size, ''), ',') AS fs, group_concat(width, ',') AS w, group_concat(height, ',') AS h
         FROM samples s LEFT JOIN annotations a ON a.sample_id = s.id`,
      )
      .get() as Record<'ids' | 'ds' | 'sc' | 'sp' | 'lb' | 'rp' | 'mk' | 'rv' | 'ex' | 'iss' | 'fs' | 'w' | 'h', string | null> & { n: number };
    const n = packed.n;
    if (n === 0) return { ids: [], datasetIds: [], scenarios: [], splits: [], labels: [], relPaths: [], hasMask: [], reviews: [], excluded: [], suspicion: [], issues: [], fileSizes: [], widths: [], heights: [] };
    const nums = (s: string | null) => (s ?? '').split(',').map(Number);
    const texts = (s: string | null) => (s ?? '').split(US);
    const digits = (s: string | null) => Array.from(s ?? '', (c) => (c === '1' ? 1 : 0));
    const codes = (s: string | null) => Array.from(s ?? '', Number);
    const columns: LibraryColumns = {
      ids: nums(packed.ids),
      datasetIds: nums(packed.ds),
      scenarios: texts(packed.sc),
      splits: digits(packed.sp),
      labels: texts(packed.lb),
      relPaths: texts(packed.rp),
      hasMask: digits(packed.mk),
      reviews: codes(packed.rv),
      excluded: digits(packed.ex),
      suspicion: [],
      issues: texts(packed.iss).map((v) => (v === '' ? null : v)),
      fileSizes: (packed.fs ?? '').split(',').map((v) => (v === '' ? null : Number(v))),
      widths: nums(packed.w),
      heights: nums(packed.h),
    };
    columns.suspicion = this.suspicionCodes(columns.ids);
    const aligned = Object.values(columns).every((c: unknown[]) => c.length === n);
    return aligned ? columns : this.scanRows();
  }

  /** Each sample's suspicion bin (an index into SUSPICION_BINS; the last, `unchecked`, when no shown check scored it). */
  private suspicionCodes(ids: readonly number[]): number[] {
    const bins = suspicionBins(this.store);
    const unchecked = SUSPICION_BINS.indexOf('unchecked');
    return ids.map((id) => {
      const bin = bins.get(id);
      return bin === undefined ? unchecked : SUSPICION_BINS.indexOf(bin);
    });
  }

  /** The same columns read row by row: slower, but exact for any text. */
  scanRows(): LibraryColumns {
    const rows = this.store.connection
      .prepare(
        `SELECT id, dataset_id, scenario, split = 'test', ${EFFECTIVE_LABEL_SQL}, rel_path, ${HAS_MASK_SQL}, issues, file_size, width, height,
                ${REVIEW_CODE_SQL}, ${EXCLUDED_SQL}
         FROM samples s LEFT JOIN annotations a ON a.sample_id = s.id ORDER BY id`,
      )
      .raw(true)
      .all() as [number, number, string, number, string, string, number, string | null, number | null, number, number, number, number][];
    return {
      ids: rows.map((r) => r[0]),
      datasetIds: rows.map((r) => r[1]),
      scenarios: rows.map((r) => r[2]),
      splits: rows.map((r) => r[3]),
      labels: rows.map((r) => r[4]),
      relPaths: rows.map((r) => r[5]),
      hasMask: rows.map((r) => r[6]),
      reviews: rows.map((r) => r[11]),
      excluded: rows.map((r) => r[12]),
      suspicion: this.suspicionCodes(rows.map((r) => r[0])),
      issues: rows.map((r) => r[7]),
      fileSizes: rows.map((r) => r[8]),
      widths: rows.map((r) => r[9]),
      heights: rows.map((r) => r[10]),
    };
  }

  detail(id: number): SampleDetailRow | null {
    const row = this.store.connection
      .prepare(
        `SELECT s.id, s.dataset_id, d.name AS dataset_name, d.root, s.scenario, s.split, ${EFFECTIVE_LABEL_SQL} AS label, s.rel_path, s.mask_rel_path,
                a.mask_path AS edited_mask_path, s.width, s.height, s.format, s.file_size, s.mtime_ms, s.content_hash, s.issues, s.source_folder
         FROM samples s JOIN datasets d ON d.id = s.dataset_id LEFT JOIN annotations a ON a.sample_id = s.id WHERE s.id = ?`,
      )
      .get(id) as SampleDetailRow | undefined;
    return row ?? null;
  }

  /** Rows for the thumbnailer, in no particular order; ids that do not exist are left out. */
  thumbSources(ids: readonly number[]): ThumbSourceRow[] {
    if (ids.length === 0) return [];
    // json_each keeps it one statement for any list length (SQLite caps bound parameters).
    return this.store.connection
      .prepare(
        `SELECT s.id, d.root, s.rel_path, s.content_hash, s.file_size, s.mtime_ms
         FROM json_each(?) j JOIN samples s ON s.id = j.value JOIN datasets d ON d.id = s.dataset_id`,
      )
      .all(JSON.stringify(ids)) as ThumbSourceRow[];
  }
}
