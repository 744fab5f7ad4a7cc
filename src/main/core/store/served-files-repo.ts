/**
 * SQL of the file rule (../served-files.ts): whether the store knows a file a door is asked for.
 * Each question is an indexed lookup, except a dataset mask (see isDatasetFile).
 */
import type { Store } from './store';

/** Every dataset's id and root folder. */
export function datasetRootList(store: Store): { id: number; root: string }[] {
  return store.connection.prepare('SELECT id, root FROM datasets ORDER BY id').all() as { id: number; root: string }[];
}

/**
 * True when `rel` (forward slashes, relative to the dataset root) is a sample's image or mask.
 * An image is one lookup in the (dataset_id, rel_path) index. A mask has no index of its own: it
 * is looked for first among its scenario's test samples (MIAD and MVTec masks sit under
 * `<scenario>/...` and belong to test images; the facets index narrows to those, about 1 ms at
 * 105,000 samples), then, for any other layout or a file the store does not know, in all of the
 * dataset's samples (a scan, tens of ms at that scale, paid only by a refused request).
 */
export function isDatasetFile(store: Store, datasetId: number, rel: string): boolean {
  const db = store.connection;
  if (db.prepare('SELECT 1 FROM samples WHERE dataset_id = ? AND rel_path = ?').get(datasetId, rel) !== undefined) return true;
  const scenario = rel.split('/', 1)[0]!;
  const likely = db.prepare("SELECT 1 FROM samples WHERE dataset_id = ? AND scenario = ? AND split = 'test' AND mask_rel_path = ? LIMIT 1");
  if (likely.get(datasetId, scenario, rel) !== undefined) return true;
  return db.prepare('SELECT 1 FROM samples WHERE dataset_id = ? AND mask_rel_path = ? LIMIT 1').get(datasetId, rel) !== undefined;
}

/** True when `maskRel` (relative to the workspace) is a sample's edited mask, now or in its history. */
export function isAnnotationMask(store: Store, sampleId: number, maskRel: string): boolean {
  const db = store.connection;
  if (db.prepare('SELECT 1 FROM annotations WHERE sample_id = ? AND mask_path = ?').get(sampleId, maskRel) !== undefined) return true;
  const inHistory = db
    .prepare(
      `SELECT 1 FROM annotation_history WHERE sample_id = ?
         AND (json_extract(change, '$.mask[0]') = ? OR json_extract(change, '$.mask[1]') = ?) LIMIT 1`,
    )
    .get(sampleId, maskRel, maskRel);
  return inHistory !== undefined;
}

/** Every edited mask (relative to the workspace) an annotation names now or its history ever named. */
export function referencedAnnotationMasks(store: Store): Set<string> {
  const rows = store.connection
    .prepare(
      `SELECT mask_path AS m FROM annotations WHERE mask_path IS NOT NULL
       UNION SELECT json_extract(change, '$.mask[0]') FROM annotation_history WHERE json_extract(change, '$.mask[0]') IS NOT NULL
       UNION SELECT json_extract(change, '$.mask[1]') FROM annotation_history WHERE json_extract(change, '$.mask[1]') IS NOT NULL`,
    )
    .all() as { m: string }[];
  return new Set(rows.map((r) => r.m));
}

export function runExists(store: Store, runId: number): boolean {
  return store.connection.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId) !== undefined;
}
