/**
 * A run bundle (issue 18): a finished run of one workspace (a queue worker's) moved into another
 * (the coordinator's) through a blob store, so its page and the compare view show it as they show a
 * run made there.
 *
 * Export puts every file of `runs/<id>/` (maps, scores, labels, weights, result.json, the log;
 * not checkpoints/, which checkpoint-bundle.ts moves) as a blob and a manifest with the run's
 * rows: the run (no ids, no owner), metrics, curves, predictions, series. No local path crosses:
 * train-images.json lists the training images relative to the dataset root, a backbone weights
 * file is named `weights:<file name>` (config, weights column, result.json), and the sample ids the
 * result names (its curation summary) travel with their dataset-relative paths.
 *
 * Import (idempotent by the bundle's `uid`, stored as runs.remote_uid): checks the manifest and every
 * blob into a staging folder under runs/, maps the dataset onto the coordinator's (`datasetId`: the
 * run's config, dataset columns, training image paths and sample ids are rewritten to it; a sample
 * the coordinator's dataset lacks is refused), then in ONE transaction inserts the rows and renames
 * the staging folder to runs/<new id>. `weightsFile` maps the bundle's weights name back to this
 * workspace's copy. Importing the same bundle again returns the run stored first.
 */
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { lstat, readFile, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, isAbsolute, join, relative, sep } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../shared/errors';
import { getCurves, getPredictions, getRun, getSeries } from '../store/runs-repo';
import { insertImportedRun, runIdByRemoteUid, runRowForExport, sampleIdsByRelPath, sampleRelPaths } from '../store/transfer-repo';
import { ImportRepo } from '../store/import-repo';
import type { Store } from '../store/store';
import { isInside, makeDirs, writeFileAtomic } from '../fs-util';
import type { BlobStore } from './blob-store';
import { bundleFileSchema, checkBundleFiles, fetchFilesInto, getManifest, putManifest, type BundleFile } from './manifest';

export const RUN_BUNDLE_FORMAT = 'miad-lab/run-bundle';

/** Files a run folder keeps that do not travel: checkpoints (their own bundle), temp files of atomic writes. */
const SKIPPED_TOP = new Set(['checkpoints']);
const TRAIN_IMAGES = 'train-images.json';

const nullableNumber = z.number().nullable();

export const runManifestSchema = z
  .object({
    format: z.literal(RUN_BUNDLE_FORMAT),
    version: z.literal(1),
    uid: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/),
    host: z.string().max(200),
    run: z
      .object({
        name: z.string().max(500),
        kind: z.enum(['internal', 'external']),
        method: z.string().min(1).max(200),
        scenarios: z.array(z.string().min(1).max(200)).max(64),
        config: z.unknown(),
        backend: z.string().max(100).nullable(),
        device: z.string().max(500).nullable(),
        weights: z.string().max(500).nullable(),
        randomInit: z.boolean(),
        status: z.literal('done'),
        error: z.string().max(10_000).nullable(),
        createdAt: z.string().max(40),
        startedAt: z.string().max(40).nullable(),
        finishedAt: z.string().max(40).nullable(),
        tags: z.array(z.string().max(200)).max(200),
        notes: z.string().max(100_000),
        jobKind: z.string().max(200).nullable(),
        requestedBackend: z.string().max(100).nullable(),
      })
      .strict(),
    metrics: z.array(z.object({ scenario: z.string(), defectType: z.string(), metric: z.string(), value: nullableNumber, threshold: nullableNumber }).strict()),
    curves: z.array(z.object({ scenario: z.string(), defectType: z.string(), curve: z.string(), x: z.array(z.number()), y: z.array(z.number()) }).strict()),
    predictions: z.array(z.object({ scenario: z.string(), relPath: z.string(), label: z.string(), score: z.number(), mapPath: z.string().nullable() }).strict()),
    series: z.array(z.object({ series: z.string(), step: z.number().int(), value: z.number() }).strict()),
    /** The sample ids the run's files name (result.json), with their paths relative to the dataset root. */
    samples: z.array(z.object({ id: z.number().int(), relPath: z.string().nullable() }).strict()),
    files: z.array(bundleFileSchema),
  })
  .strict();
export type RunManifest = z.infer<typeof runManifestSchema>;

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(join(dir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (!rel && SKIPPED_TOP.has(entry.name)) continue;
    if (entry.name.endsWith('.tmp')) continue;
    if (entry.isSymbolicLink()) throw new LabError(`the run folder ${dir} holds a link (${path}): runs are exported as plain files only`, 'ValidationError');
    if (entry.isDirectory()) out.push(...(await listFiles(dir, path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Every `sampleId` number in a JSON value, and a copy of it with each one mapped. */
function sampleIdsIn(value: unknown, into: Set<number>): void {
  if (Array.isArray(value)) for (const v of value) sampleIdsIn(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'sampleId' && typeof v === 'number') into.add(v);
      else sampleIdsIn(v, into);
    }
  }
}

function mapSampleIds(value: unknown, map: (id: number) => number): unknown {
  if (Array.isArray(value)) return value.map((v) => mapSampleIds(v, map));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'sampleId' && typeof v === 'number' ? map(v) : mapSampleIds(v, map)]));
  }
  return value;
}

/** Every string of a JSON value equal to a key of `map`, replaced by its value. */
function replaceStrings(value: unknown, map: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return map.get(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => replaceStrings(v, map));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceStrings(v, map)]));
  return value;
}

/**
 * The worker's weights file as the bundle names it: `weights:<file name>`, never its path there.
 * The coordinator maps it back to its own copy (importRun's `weightsFile`).
 */
function weightsToken(path: string): string {
  return `weights:${basename(path)}`;
}

/** The default uid of a run exported from here: stable for one run of one workspace on one host. */
export function defaultRunUid(workspaceDir: string, runId: number, createdAt: string): string {
  return `run-${createHash('sha256').update(`${hostname()}\0${workspaceDir}\0${runId}\0${createdAt}`).digest('hex').slice(0, 32)}`;
}

/**
 * Exports a done run: its files as blobs (train-images.json made dataset-relative) and the manifest
 * last. `uid` is the key the importer dedups on (the queue passes its run uid); `host` is recorded.
 */
export async function exportRun(
  store: Store,
  runDir: string,
  blobs: BlobStore,
  runId: number,
  options: { uid?: string; host?: string; workspaceDir?: string } = {},
): Promise<{ digest: string; manifest: RunManifest }> {
  const row = runRowForExport(store, runId);
  if (row.status !== 'done') throw new LabError(`run ${runId} is ${row.status}: only a done run can be exported`, 'ConflictError');
  // A backbone weights file is a path on this host: the bundle names it by its file name only.
  const local = new Map<string, string>();
  const configWeights = row.config && typeof row.config === 'object' ? (row.config as Record<string, unknown>)['weightsFile'] : undefined;
  for (const p of [configWeights, row.weights]) if (typeof p === 'string' && isAbsolute(p)) local.set(p, weightsToken(p));
  const files: BundleFile[] = [];
  const ids = new Set<number>();
  for (const path of await listFiles(runDir)) {
    const absolute = join(runDir, ...path.split('/'));
    const name = path.split('/').at(-1)!;
    if (name === TRAIN_IMAGES || name === 'result.json') {
      const parsed = JSON.parse(await readFile(absolute, 'utf8')) as unknown;
      let bytes: Uint8Array;
      if (name === TRAIN_IMAGES) {
        const root = row.datasetRoot;
        const list = Array.isArray(parsed) ? (parsed as unknown[]) : [];
        const rel = list.map((p) => (typeof p === 'string' && root && isInside(root, p) ? relative(root, p).split(sep).join('/') : p));
        bytes = new TextEncoder().encode(JSON.stringify(rel, null, 1));
      } else {
        sampleIdsIn(parsed, ids);
        bytes = local.size > 0 ? new TextEncoder().encode(JSON.stringify(replaceStrings(parsed, local), null, 2)) : new Uint8Array(await readFile(absolute));
      }
      files.push({ path, size: bytes.length, sha256: await blobs.put(bytes) });
      continue;
    }
    files.push({ path, size: (await lstat(absolute)).size, sha256: await blobs.put({ file: absolute }) });
  }
  checkBundleFiles(`run ${runId}`, files);
  const rels = sampleRelPaths(store, [...ids]);
  const detail = getRun(store, runId);
  const { datasetId: _datasetId, datasetRoot: _datasetRoot, ...exported } = row;
  const manifest: RunManifest = {
    format: RUN_BUNDLE_FORMAT,
    version: 1,
    uid: options.uid ?? defaultRunUid(options.workspaceDir ?? runDir, runId, row.createdAt),
    host: options.host ?? hostname(),
    run: { ...(exported as RunManifest['run']), config: replaceStrings(exported.config, local), weights: exported.weights === null ? null : (local.get(exported.weights) ?? exported.weights) },
    metrics: detail.metrics.map((m) => ({ scenario: m.scenario, defectType: m.defectType, metric: m.metric, value: m.value, threshold: m.threshold })),
    curves: getCurves(store, runId),
    predictions: getPredictions(store, runId),
    series: Object.entries(getSeries(store, runId)).flatMap(([series, points]) => points.map((p) => ({ series, step: p.step, value: p.value }))),
    samples: [...ids].sort((a, b) => a - b).map((id) => ({ id, relPath: rels.get(id) ?? null })),
    files,
  };
  return { digest: await putManifest(blobs, manifest), manifest };
}

/**
 * Imports a run bundle into this workspace under a new run id, its dataset mapped onto `datasetId`
 * (null: the run names no dataset here). Returns the run's id and whether it was stored now (false:
 * a run with this bundle's uid was already here; nothing changed).
 */
export async function importRun(
  store: Store,
  workspaceDir: string,
  blobs: BlobStore,
  digest: string,
  options: { datasetId: number | null; weightsFile?: string },
): Promise<{ runId: number; created: boolean }> {
  const what = `run bundle ${digest.slice(0, 16)}…`;
  const manifest = await getManifest(blobs, digest, runManifestSchema, 'run bundle');
  checkBundleFiles(what, manifest.files);
  // The weights the bundle names by file name (`weights:<name>`): this workspace's copy, when given.
  const configWeights = manifest.run.config && typeof manifest.run.config === 'object' ? (manifest.run.config as Record<string, unknown>)['weightsFile'] : undefined;
  const weights = new Map<string, string>();
  if (options.weightsFile !== undefined && typeof configWeights === 'string' && configWeights.startsWith('weights:')) weights.set(configWeights, options.weightsFile);
  const existing = runIdByRemoteUid(store, manifest.uid);
  if (existing !== null) return { runId: existing, created: false };

  const dataset = options.datasetId === null ? null : new ImportRepo(store).getDataset(options.datasetId);
  const idMap = new Map<number, number>();
  if (manifest.samples.length > 0) {
    if (!dataset) throw new LabError(`${what}: the run names samples of its dataset, give the dataset to map them onto`, 'ValidationError');
    const here = sampleIdsByRelPath(store, dataset.id);
    for (const s of manifest.samples) {
      const id = s.relPath === null ? undefined : here.get(s.relPath);
      if (id === undefined) throw new LabError(`${what}: the run names sample ${s.relPath ?? `#${s.id}`}, which dataset ${dataset.name} does not have; nothing was written`, 'ValidationError');
      idMap.set(s.id, id);
    }
  }

  const runsDir = join(workspaceDir, 'runs');
  await makeDirs(runsDir);
  const incoming = join(runsDir, `.incoming-${randomBytes(6).toString('hex')}`);
  await fetchFilesInto(blobs, manifest.files, incoming, what);
  try {
    // The files are ours now: map what names the worker's dataset onto this workspace's.
    for (const f of manifest.files) {
      const name = f.path.split('/').at(-1)!;
      const absolute = join(incoming, ...f.path.split('/'));
      if (name === TRAIN_IMAGES && dataset) {
        const list = JSON.parse(await readFile(absolute, 'utf8')) as unknown;
        if (Array.isArray(list)) await writeFileAtomic(absolute, JSON.stringify(list.map((p) => (typeof p === 'string' ? join(dataset.root, ...p.split('/')) : p)), null, 1));
      } else if (name === 'result.json' && (idMap.size > 0 || weights.size > 0)) {
        const parsed = JSON.parse(await readFile(absolute, 'utf8')) as unknown;
        await writeFileAtomic(absolute, JSON.stringify(replaceStrings(mapSampleIds(parsed, (id) => idMap.get(id) ?? id), weights), null, 2));
      }
    }
    const mapped = replaceStrings(manifest.run.config, weights);
    const config = mapped && typeof mapped === 'object' && dataset && 'datasetId' in mapped ? { ...mapped, datasetId: dataset.id } : mapped;
    const runId = store.transaction(() => {
      const id = insertImportedRun(store, {
        remoteUid: manifest.uid,
        host: manifest.host,
        row: { ...manifest.run, config, weights: manifest.run.weights === null ? null : (weights.get(manifest.run.weights) ?? manifest.run.weights) },
        datasetId: dataset?.id ?? null,
        datasetRoot: dataset?.root ?? null,
        metrics: manifest.metrics,
        curves: manifest.curves,
        predictions: manifest.predictions,
        series: manifest.series,
      });
      // Inside the transaction: a failed rename rolls the rows back. A folder already at this id
      // was left by a run whose rows are gone (ids of deleted runs are reused): it is not this run's.
      const dest = join(runsDir, String(id));
      rmSync(dest, { recursive: true, force: true });
      renameSync(incoming, dest);
      return id;
    });
    return { runId, created: true };
  } catch (error) {
    await rm(incoming, { recursive: true, force: true });
    // Another import of the same bundle won the race: it is stored once.
    if (error instanceof Error && /UNIQUE constraint failed: runs\.remote_uid/.test(error.message)) {
      const id = runIdByRemoteUid(store, manifest.uid);
      if (id !== null) return { runId: id, created: false };
    }
    throw error;
  }
}
