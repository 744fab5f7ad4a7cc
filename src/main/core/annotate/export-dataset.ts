/**
 * Export of the curated dataset (issue 4): every sample as the workspace now labels it, written
 * in the MVTec AD / MIAD layout the importer reads (`<scenario>/train/good`,
 * `<scenario>/test/<label>`, `<scenario>/ground_truth/<label>/<stem>_mask.png`), plus
 * `manifest.json` naming each file's source sample and every sample left out and why. Rejected
 * samples, samples flagged out of training, and train images labelled anomalous (the layout's
 * train split holds good images only) are left out. Edited masks win over the dataset's.
 */
import { copyFile, readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LabError } from '../../../shared/errors';
import { makeDirs, writeFileAtomic } from '../fs-util';
import { annotationOfExportRow, type AnnotationRepo } from '../store/annotation-repo';
import { stateOf } from './annotation-service';

export interface ExportedFile {
  sampleId: number;
  datasetId: number;
  scenario: string;
  split: 'train' | 'test';
  label: string;
  /** Relative to the export folder. */
  path: string;
  mask: string | null;
  maskSource: 'edited' | 'dataset' | null;
  reviewState: string;
  source: string;
}

export interface ExportManifest {
  format: 'miad-lab-export';
  version: 1;
  createdAt: string;
  scenario: string | null;
  files: ExportedFile[];
  skipped: { sampleId: number; source: string; reason: 'rejected' | 'excluded-from-training' | 'anomalous-in-train' }[];
  counts: Record<string, Record<string, number>>;
}

export interface ExportOptions {
  repo: AnnotationRepo;
  workspaceDir: string;
  outDir: string;
  scenario?: string | undefined;
  now?: () => Date;
}

async function checkOutDir(outDir: string): Promise<void> {
  try {
    const info = await stat(outDir);
    if (!info.isDirectory()) throw new LabError(`${outDir} is a file, not a folder`, 'ValidationError');
    if ((await readdir(outDir)).length > 0) throw new LabError(`${outDir} is not empty: export into a new or empty folder`, 'ValidationError');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

export async function exportDataset(options: ExportOptions): Promise<ExportManifest> {
  const { repo, workspaceDir, outDir } = options;
  await checkOutDir(outDir);
  const rows = repo.exportRows(options.scenario);
  if (rows.length === 0) {
    throw new LabError(options.scenario ? `no samples of scenario ${options.scenario} in this workspace` : 'the workspace has no samples to export', 'ValidationError');
  }
  const manifest: ExportManifest = {
    format: 'miad-lab-export',
    version: 1,
    createdAt: (options.now ?? (() => new Date()))().toISOString(),
    scenario: options.scenario ?? null,
    files: [],
    skipped: [],
    counts: {},
  };
  // Two sources with one base name in one folder (two datasets, nested folders) get numbered.
  const taken = new Set<string>();
  const unique = (folder: string, name: string): string => {
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    let candidate = name;
    for (let n = 2; taken.has(`${folder}/${candidate}`); n++) candidate = `${stem}_${n}${ext}`;
    taken.add(`${folder}/${candidate}`);
    return candidate;
  };
  const made = new Set<string>();
  const ensure = async (dir: string) => {
    if (!made.has(dir)) {
      await makeDirs(join(outDir, dir));
      made.add(dir);
    }
  };
  for (const r of rows) {
    const s = stateOf(r, annotationOfExportRow(r));
    const source = join(r.root, r.rel_path);
    if (s.reviewState === 'rejected') {
      manifest.skipped.push({ sampleId: r.id, source, reason: 'rejected' });
      continue;
    }
    if (r.split === 'train' && s.excluded) {
      manifest.skipped.push({ sampleId: r.id, source, reason: 'excluded-from-training' });
      continue;
    }
    if (r.split === 'train' && s.label !== 'good') {
      manifest.skipped.push({ sampleId: r.id, source, reason: 'anomalous-in-train' });
      continue;
    }
    const label = s.label === 'good' ? 'good' : (s.defectType ?? (r.label !== 'good' ? r.label : 'anomalous'));
    const folder = `${r.scenario}/${r.split}/${label}`;
    await ensure(folder);
    const name = unique(folder, basename(r.rel_path));
    const path = `${folder}/${name}`;
    await copyFile(source, join(outDir, path));
    let mask: string | null = null;
    let maskSource: ExportedFile['maskSource'] = null;
    if (label !== 'good') {
      const maskFrom = s.mask ? join(workspaceDir, s.mask) : r.mask_rel_path ? join(r.root, r.mask_rel_path) : null;
      if (maskFrom) {
        const maskFolder = `${r.scenario}/ground_truth/${label}`;
        await ensure(maskFolder);
        mask = `${maskFolder}/${name.slice(0, name.length - extname(name).length)}_mask.png`;
        await copyFile(maskFrom, join(outDir, mask));
        maskSource = s.mask ? 'edited' : 'dataset';
      }
    }
    manifest.files.push({ sampleId: r.id, datasetId: r.dataset_id, scenario: r.scenario, split: r.split, label, path, mask, maskSource, reviewState: s.reviewState, source });
    const counts = (manifest.counts[r.scenario] ??= {});
    const key = `${r.split}/${label}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  await writeFileAtomic(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
