/**
 * The curated view of a scenario a method's run reads (issue 4), built in the main process from the
 * workspace database: the dataset's samples with the workspace's labels, defect types, masks and
 * training flags, so a run trains and evaluates on the dataset as it was curated, not as the files
 * on disk say. The same rules as the curated export (annotate/export-dataset.ts):
 *
 * - training images: the dataset's train samples minus those flagged out of training, rejected, or
 *   labelled anomalous (every method of the lab learns normality only);
 * - test images: their curated label ('good' or the defect type); rejected ones are left out; the
 *   mask is the edited one when there is one, else the dataset's; an anomalous image without any
 *   mask is left out (its pixels cannot be scored), and said so.
 *
 * Every sample left out is listed with its reason, for the run's summary and page.
 */
import { join, relative } from 'node:path';
import { stateOf } from '../../annotate/annotation-service';
import { annotationOfExportRow, type ExportRow } from '../../store/annotation-repo';
import type { ScenarioManifest } from './scenario-images';

export type LeftOutReason = 'excluded-from-training' | 'anomalous-in-train' | 'rejected' | 'no-mask';

export interface LeftOutSample {
  sampleId: number;
  split: 'train' | 'test';
  /** Relative to the scenario folder, with / separators. */
  relPath: string;
  reason: LeftOutReason;
}

export interface CuratedManifest {
  manifest: ScenarioManifest;
  leftOut: LeftOutSample[];
  /** Test images whose mask is an edited one. */
  editedMasks: number;
}

/**
 * The manifest of one dataset's scenario.
 * @param rows the scenario's samples with their annotations (AnnotationRepo.exportRows), any dataset
 * @param scenarioDir the scenario's folder (`<root>/<scenario>` or its nested copy), for the keys
 */
export function curatedManifest(rows: readonly ExportRow[], options: { datasetId: number; scenarioDir: string; workspaceDir: string }): CuratedManifest {
  const train: string[] = [];
  const test: ScenarioManifest['test'] = [];
  const leftOut: LeftOutSample[] = [];
  let editedMasks = 0;
  for (const r of rows) {
    if (r.dataset_id !== options.datasetId) continue;
    const path = join(r.root, r.rel_path);
    const rel = keyOf(options.scenarioDir, path, r.rel_path);
    const s = stateOf(r, annotationOfExportRow(r));
    const leave = (reason: LeftOutReason) => leftOut.push({ sampleId: r.id, split: r.split, relPath: rel, reason });
    if (s.reviewState === 'rejected') {
      leave('rejected');
      continue;
    }
    if (r.split === 'train') {
      if (s.excluded) leave('excluded-from-training');
      else if (s.label !== 'good') leave('anomalous-in-train');
      else train.push(path);
      continue;
    }
    if (s.label === 'good') {
      test.push({ rel, path, label: 'good', mask: null });
      continue;
    }
    const mask = s.mask ? join(options.workspaceDir, s.mask) : r.mask_rel_path ? join(r.root, r.mask_rel_path) : null;
    if (!mask) {
      leave('no-mask');
      continue;
    }
    if (s.mask) editedMasks++;
    test.push({ rel, path, label: s.defectType ?? (r.label !== 'good' ? r.label : 'anomalous'), mask });
  }
  return { manifest: { train, test }, leftOut, editedMasks };
}

/** The key of an image: its path relative to the scenario folder (where the run page finds it again). */
function keyOf(scenarioDir: string, path: string, relPath: string): string {
  const rel = relative(scenarioDir, path).split(/[\\/]/).join('/');
  return rel.startsWith('../') || rel === '..' ? relPath.split(/[\\/]/).join('/') : rel;
}
