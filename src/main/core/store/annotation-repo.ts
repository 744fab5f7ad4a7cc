/**
 * SQL of annotation (issue 4): the `annotations` row of a sample (the workspace's edit, which
 * overrides the dataset's label where the app reads labels) and its `annotation_history`. The
 * service (annotate/annotation-service.ts) does read-modify-write inside `store.transaction`, so
 * a row and its history entry are committed together or not at all.
 */
import type { AnnotationChange, AnnotationHistoryEntry, AnnotationLabel, ReviewState } from '../../../shared/calls/annotate';
import type { Store } from './store';

/** What annotation needs to know about a sample from the dataset side. */
export interface SampleFacts {
  id: number;
  dataset_id: number;
  scenario: string;
  split: 'train' | 'test';
  label: string;
  width: number;
  height: number;
  root: string;
  rel_path: string;
  mask_rel_path: string | null;
}

export interface ExportRow extends SampleFacts {
  a_label: AnnotationLabel | null;
  a_defect_type: string | null;
  a_review_state: ReviewState | null;
  a_mask_path: string | null;
  a_exclude_train: number | null;
}

export interface AnnotationRow {
  sample_id: number;
  label: AnnotationLabel;
  defect_type: string | null;
  review_state: ReviewState;
  mask_path: string | null;
  exclude_train: number;
  updated_at: string;
  version: number;
}

/**
 * The label the Library shows for a sample, as SQL over `samples s LEFT JOIN annotations a`: the
 * workspace's edit where there is one (its defect type, or the dataset's defect folder when the
 * edit says "anomalous" without a type), else the dataset's own label.
 */
export const EFFECTIVE_LABEL_SQL = `CASE WHEN a.sample_id IS NULL THEN s.label WHEN a.label = 'good' THEN 'good'
  ELSE coalesce(a.defect_type, CASE WHEN s.label <> 'good' THEN s.label END, 'anomalous') END`;

export class AnnotationRepo {
  constructor(private readonly store: Store) {}

  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  nowIso(): string {
    return this.store.nowIso();
  }

  facts(sampleId: number): SampleFacts | null {
    const row = this.store.connection
      .prepare(
        `SELECT s.id, s.dataset_id, s.scenario, s.split, s.label, s.width, s.height, d.root, s.rel_path, s.mask_rel_path
         FROM samples s JOIN datasets d ON d.id = s.dataset_id WHERE s.id = ?`,
      )
      .get(sampleId) as SampleFacts | undefined;
    return row ?? null;
  }

  row(sampleId: number): AnnotationRow | null {
    const row = this.store.connection.prepare('SELECT * FROM annotations WHERE sample_id = ?').get(sampleId) as AnnotationRow | undefined;
    return row ?? null;
  }

  upsert(row: AnnotationRow): void {
    this.store.connection
      .prepare(
        `INSERT INTO annotations (sample_id, label, defect_type, review_state, mask_path, exclude_train, updated_at, version)
         VALUES (@sample_id, @label, @defect_type, @review_state, @mask_path, @exclude_train, @updated_at, @version)
         ON CONFLICT (sample_id) DO UPDATE SET label = excluded.label, defect_type = excluded.defect_type,
           review_state = excluded.review_state, mask_path = excluded.mask_path, exclude_train = excluded.exclude_train,
           updated_at = excluded.updated_at, version = excluded.version`,
      )
      .run(row);
  }

  addHistory(sampleId: number, at: string, version: number, change: AnnotationChange): number {
    const info = this.store.connection
      .prepare('INSERT INTO annotation_history (sample_id, at, version, change) VALUES (?, ?, ?, ?)')
      .run(sampleId, at, version, JSON.stringify(change));
    return Number(info.lastInsertRowid);
  }

  /** Every sample (of one scenario, or all) with its annotation row's columns (null where none), for export. */
  exportRows(scenario?: string): ExportRow[] {
    return this.store.connection
      .prepare(
        `SELECT s.id, s.dataset_id, s.scenario, s.split, s.label, s.width, s.height, d.root, s.rel_path, s.mask_rel_path,
                a.label AS a_label, a.defect_type AS a_defect_type, a.review_state AS a_review_state, a.mask_path AS a_mask_path,
                a.exclude_train AS a_exclude_train
         FROM samples s JOIN datasets d ON d.id = s.dataset_id LEFT JOIN annotations a ON a.sample_id = s.id
         WHERE @scenario IS NULL OR s.scenario = @scenario ORDER BY s.scenario, s.split, s.rel_path, s.id`,
      )
      .all({ scenario: scenario ?? null }) as ExportRow[];
  }

  /** A sample's history, oldest first. */
  history(sampleId: number): AnnotationHistoryEntry[] {
    const rows = this.store.connection
      .prepare('SELECT id, sample_id, at, version, change FROM annotation_history WHERE sample_id = ? ORDER BY id')
      .all(sampleId) as HistoryRow[];
    return rows.map(toEntry);
  }

  historyEntry(id: number): AnnotationHistoryEntry | null {
    const row = this.store.connection.prepare('SELECT id, sample_id, at, version, change FROM annotation_history WHERE id = ?').get(id) as
      | HistoryRow
      | undefined;
    return row ? toEntry(row) : null;
  }
}

interface HistoryRow {
  id: number;
  sample_id: number;
  at: string;
  version: number;
  change: string;
}

function toEntry(row: HistoryRow): AnnotationHistoryEntry {
  return { id: row.id, sampleId: row.sample_id, at: row.at, version: row.version, change: JSON.parse(row.change) as AnnotationChange };
}

/** The workspace's annotation of an exported sample row, or null when the sample has none. */
export function annotationOfExportRow(r: ExportRow): AnnotationRow | null {
  if (r.a_label === null) return null;
  return {
    sample_id: r.id,
    label: r.a_label,
    defect_type: r.a_defect_type,
    review_state: r.a_review_state ?? 'unlabelled',
    mask_path: r.a_mask_path,
    exclude_train: r.a_exclude_train ?? 0,
    updated_at: '',
    version: 0,
  };
}
