/**
 * A dataset bundle (issue 18): the scenarios a cell needs, as the coordinator's workspace curates
 * them, moved to a worker's workspace through a blob store, so the worker trains and evaluates on
 * exactly what a local run would (methods/harness/manifest.ts builds the run's curated manifest from
 * the same sample rows and annotations there as here).
 *
 * The manifest (canonical JSON, its sha256 is the bundle's digest) holds: the dataset kind and
 * layout of those scenarios; every image and dataset mask as `{ path, size, sha256 }` with its path
 * relative to the dataset root; edited masks as files under `.curation/masks/<sha256>.png`; and one
 * row per sample (scenario, split, label, relative paths, size, format, issues) with its annotation
 * (label, defect type, review state, excluded from training, edited mask). No timestamps, no ids,
 * no absolute paths and sorted lists: the same dataset and curation give the same digest, and an
 * unchanged image is the same blob in every bundle, so it is sent once.
 *
 * Unpacking on a worker checks the manifest (manifest.ts), fetches every file checked by sha256
 * into a staging folder renamed to `<workspace>/cache/bundles/datasets/<digest>/` once complete,
 * then inserts the dataset, its samples and their annotations in one transaction. A digest already
 * unpacked there is reused (cached).
 */
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { z } from 'zod';
import type { SampleIssue } from '../../../shared/calls/import';
import { LabError } from '../../../shared/errors';
import { ImportRepo, type StoredLayout } from '../store/import-repo';
import { AnnotationRepo, annotationOfExportRow } from '../store/annotation-repo';
import { stateOf, type State } from '../annotate/annotation-service';
import type { Store } from '../store/store';
import { makeDirs } from '../fs-util';
import { BlobIntegrityError, type BlobStore } from './blob-store';
import { bundleFileSchema, checkBundleFiles, fetchFilesInto, getManifest, putManifest, unsafePathReason, type BundleFile } from './manifest';

export const DATASET_BUNDLE_FORMAT = 'miad-lab/dataset-bundle';

const relPath = z.string().refine((p) => unsafePathReason(p) === null, { message: 'not a safe relative path' });

const annotationSchema = z
  .object({
    label: z.enum(['good', 'anomalous']),
    defectType: z.string().min(1).max(200).nullable(),
    reviewState: z.enum(['unlabelled', 'labelled', 'reviewed', 'rejected']),
    excludeTrain: z.boolean(),
    /** An edited mask: a file of the bundle under `.curation/masks/`. */
    mask: relPath.nullable(),
  })
  .strict();

const sampleSchema = z
  .object({
    scenario: z.string().min(1).max(200),
    split: z.enum(['train', 'test']),
    label: z.string().min(1).max(200),
    relPath,
    maskRelPath: relPath.nullable(),
    width: z.number().int().nonnegative(),
    height: z.number().int().nonnegative(),
    format: z.enum(['png', 'jpeg']),
    issues: z.array(z.enum(['mask-missing', 'mask-size-mismatch', 'mask-unreadable', 'leak', 'duplicate'] satisfies SampleIssue[])).max(10),
    sourceFolder: z.string().max(500),
    annotation: annotationSchema.nullable(),
  })
  .strict();

export const datasetManifestSchema = z
  .object({
    format: z.literal(DATASET_BUNDLE_FORMAT),
    version: z.literal(1),
    kind: z.enum(['miad-mini', 'miad', 'mvtec', 'folder']),
    scenarios: z.array(z.string().min(1).max(200)).min(1).max(64),
    layout: z
      .object({
        scenarios: z.array(z.object({ scenario: z.string(), dir: z.string().refine((d) => d === '' || unsafePathReason(d) === null), nested: z.boolean(), family: z.string() }).strict()),
        userMapping: z.record(z.string(), z.string()),
        resolved: z.record(z.string(), z.string()),
      })
      .strict(),
    files: z.array(bundleFileSchema),
    samples: z.array(sampleSchema),
  })
  .strict();
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

const CURATION_MASKS = '.curation/masks';

function sameState(a: State, b: State): boolean {
  return a.label === b.label && a.defectType === b.defectType && a.reviewState === b.reviewState && a.mask === b.mask && a.excluded === b.excluded;
}

function sortByPath<T extends { path: string }>(list: T[]): T[] {
  return list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Puts the files of `scenarios` of a dataset into `blobs` (unchanged ones are already there) and
 * the manifest last; returns its digest. Reads images streamed; the sha256 is of the bytes put.
 */
export async function bundleDataset(
  store: Store,
  workspaceDir: string,
  blobs: BlobStore,
  options: { datasetId: number; scenarios: readonly string[] },
): Promise<{ digest: string; manifest: DatasetManifest }> {
  const repo = new ImportRepo(store);
  const dataset = repo.getDataset(options.datasetId);
  const scenarios = [...new Set(options.scenarios)].sort();
  if (scenarios.length === 0) throw new LabError('a dataset bundle needs at least one scenario', 'ValidationError');
  const annotations = new Map(new AnnotationRepo(store).exportRows().filter((r) => r.dataset_id === dataset.id && r.a_label !== null).map((r) => [r.id, r]));
  const rows = repo
    .samples(dataset.id)
    .filter((s) => scenarios.includes(s.scenario))
    .sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  const missing = scenarios.filter((s) => !rows.some((r) => r.scenario === s));
  if (missing.length > 0) throw new LabError(`dataset ${dataset.name} has no samples for scenario ${missing.join(', ')}`, 'ValidationError');

  const files = new Map<string, BundleFile>();
  const addFile = async (path: string, absolute: string): Promise<void> => {
    if (files.has(path)) return;
    const reason = unsafePathReason(path);
    if (reason) throw new LabError(`dataset ${dataset.name}: the sample path ${JSON.stringify(path)} ${reason}, it cannot travel in a bundle`, 'ValidationError');
    let size: number;
    try {
      size = (await stat(absolute)).size;
    } catch {
      throw new LabError(`dataset ${dataset.name}: ${absolute} is missing; rescan the dataset before bundling it`, 'ValidationError');
    }
    files.set(path, { path, size, sha256: await blobs.put({ file: absolute }) });
  };

  const samples: DatasetManifest['samples'] = [];
  for (const r of rows) {
    await addFile(r.relPath, join(dataset.root, r.relPath));
    if (r.maskRelPath) await addFile(r.maskRelPath, join(dataset.root, r.maskRelPath));
    const a = annotations.get(r.id);
    let annotation: DatasetManifest['samples'][number]['annotation'] = null;
    // The state a run reads (stateOf), and only when it differs from the dataset's own: a row put
    // back to what the dataset says is the same curation, so the same digest.
    const state = a ? stateOf(a, annotationOfExportRow(a)) : null;
    if (a && state && !sameState(state, stateOf(a, null))) {
      let mask: string | null = null;
      if (state.mask) {
        const absolute = join(workspaceDir, state.mask);
        const sha = await blobs.put({ file: absolute });
        mask = `${CURATION_MASKS}/${sha}.png`;
        files.set(mask, { path: mask, size: (await stat(absolute)).size, sha256: sha });
      }
      annotation = { label: state.label, defectType: state.defectType, reviewState: state.reviewState, excludeTrain: state.excluded, mask };
    }
    samples.push({
      scenario: r.scenario,
      split: r.split,
      label: r.label,
      relPath: r.relPath,
      maskRelPath: r.maskRelPath,
      width: r.width,
      height: r.height,
      format: r.format,
      issues: [...r.issues],
      sourceFolder: r.sourceFolder,
      annotation,
    });
  }
  const layout = dataset.layout;
  const manifest: DatasetManifest = {
    format: DATASET_BUNDLE_FORMAT,
    version: 1,
    kind: dataset.kind,
    scenarios,
    layout: {
      scenarios: (layout?.scenarios ?? []).filter((s) => scenarios.includes(s.scenario)).map((s) => ({ scenario: s.scenario, dir: s.dir, nested: s.nested, family: s.family })),
      userMapping: layout?.userMapping ?? {},
      resolved: layout?.resolved ?? {},
    },
    files: sortByPath([...files.values()]),
    samples,
  };
  return { digest: await putManifest(blobs, manifest), manifest };
}

/** Where a worker workspace keeps unpacked dataset bundles. */
export function datasetCacheDir(workspaceDir: string): string {
  return join(workspaceDir, 'cache', 'bundles', 'datasets');
}

/** Refuses a manifest whose samples name files it does not carry. */
function checkSampleFiles(digest: string, manifest: DatasetManifest): void {
  const what = `dataset bundle ${digest.slice(0, 16)}…`;
  checkBundleFiles(what, manifest.files);
  const paths = new Set(manifest.files.map((f) => f.path));
  const seen = new Set<string>();
  for (const s of manifest.samples) {
    if (!manifest.scenarios.includes(s.scenario)) throw new BlobIntegrityError(`${what}: sample ${s.relPath} is of scenario ${s.scenario}, which the bundle does not list`);
    if (seen.has(s.relPath)) throw new BlobIntegrityError(`${what}: sample ${s.relPath} is listed twice`);
    seen.add(s.relPath);
    for (const p of [s.relPath, s.maskRelPath, s.annotation?.mask ?? null]) {
      if (p !== null && !paths.has(p)) throw new BlobIntegrityError(`${what}: sample ${s.relPath} names ${p}, which is not among its files`);
    }
    if (s.annotation?.mask && !s.annotation.mask.startsWith(`${CURATION_MASKS}/`)) throw new BlobIntegrityError(`${what}: an edited mask must lie under ${CURATION_MASKS}/, got ${s.annotation.mask}`);
  }
}

/**
 * Unpacks a dataset bundle into a worker's workspace: checks the manifest, fetches and checks every
 * file, then imports the dataset and its curation in one transaction. Returns the dataset's id there;
 * a digest already unpacked is reused. A manifest or a blob that does not match its sha256 throws a
 * BlobIntegrityError (deterministic) before anything is written.
 */
export async function unpackDataset(store: Store, workspaceDir: string, blobs: BlobStore, digest: string): Promise<{ datasetId: number; root: string; cached: boolean }> {
  const manifest = await getManifest(blobs, digest, datasetManifestSchema, 'dataset bundle');
  checkSampleFiles(digest, manifest);
  const cache = datasetCacheDir(workspaceDir);
  const root = join(cache, digest);
  const repo = new ImportRepo(store);
  const known = repo.findDatasetByRoot(root);
  if (known !== null && existsSync(root)) return { datasetId: known, root, cached: true };
  if (known !== null) throw new LabError(`the unpacked dataset bundle at ${root} is gone, but dataset #${known} still points at it: remove that dataset and unpack again`, 'ConflictError');
  // A folder without its dataset row: a worker killed between the rename and the transaction.
  await rm(root, { recursive: true, force: true });
  await makeDirs(cache);
  await fetchFilesInto(blobs, manifest.files, root, `dataset bundle ${digest.slice(0, 16)}…`);

  const bySha = new Map(manifest.files.map((f) => [f.path, f]));
  const facts = new Map<string, { mtimeMs: number; size: number }>();
  for (const f of manifest.files) {
    const info = await stat(join(root, ...f.path.split('/')));
    facts.set(f.path, { mtimeMs: Math.floor(info.mtimeMs), size: info.size });
  }
  const now = store.nowIso();
  const layout: StoredLayout = { version: 1, ...manifest.layout };
  const annotations = new AnnotationRepo(store);
  const datasetId = store.transaction(() => {
    const id = repo.insertDataset({ name: `bundle ${digest.slice(0, 12)}`, root, kind: manifest.kind, layout, scannedAt: now });
    repo.insertSamples(
      id,
      manifest.samples.map((s) => ({
        scenario: s.scenario,
        split: s.split,
        label: s.label,
        relPath: s.relPath,
        maskRelPath: s.maskRelPath,
        maskFileSize: s.maskRelPath ? facts.get(s.maskRelPath)!.size : null,
        maskMtimeMs: s.maskRelPath ? facts.get(s.maskRelPath)!.mtimeMs : null,
        width: s.width,
        height: s.height,
        format: s.format,
        fileSize: facts.get(s.relPath)!.size,
        mtimeMs: facts.get(s.relPath)!.mtimeMs,
        contentHash: bySha.get(s.relPath)!.sha256,
        issues: s.issues,
        sourceFolder: s.sourceFolder,
      })),
    );
    const ids = new Map(repo.samples(id).map((s) => [s.relPath, s.id]));
    for (const s of manifest.samples) {
      if (!s.annotation) continue;
      const a = s.annotation;
      annotations.upsert({
        sample_id: ids.get(s.relPath)!,
        label: a.label,
        defect_type: a.defectType,
        review_state: a.reviewState,
        // Annotation masks are relative to the workspace; the bundle's folder lies inside it.
        mask_path: a.mask ? relative(workspaceDir, join(root, ...a.mask.split('/'))).split(/[\\/]/).join('/') : null,
        exclude_train: a.excludeTrain ? 1 : 0,
        updated_at: now,
        version: 1,
      });
    }
    return id;
  });
  return { datasetId, root, cached: false };
}
