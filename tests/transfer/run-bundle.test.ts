/**
 * Run bundles (transfer/run-bundle.ts), end to end without a shared folder: a coordinator workspace
 * with a curated MIAD-mini scenario sends it as a dataset bundle to a worker workspace, which trains
 * a tiny Auto-Encoder run (64 px, 2 epochs: loss series, weights file, sample images, maps) on it;
 * the run is exported as a run bundle and imported into the coordinator. Read through the contract
 * calls the run page and the compare view use, the imported run equals the worker's run (ids, roots
 * and sample ids mapped); it equals a run trained on the coordinator itself; importing it twice stores
 * one run; a corrupted blob is refused and leaves nothing behind.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { AnnotationRepo } from '../../src/main/core/store/annotation-repo';
import { AnnotationService } from '../../src/main/core/annotate/annotation-service';
import { listRuns } from '../../src/main/core/store/runs-repo';
import { encodePng } from '../../src/main/core/image/png';
import { DirBlobStore } from '../../src/main/core/transfer/blob-store';
import { bundleDataset, unpackDataset } from '../../src/main/core/transfer/dataset-bundle';
import { exportRun, importRun } from '../../src/main/core/transfer/run-bundle';
import { canonicalJson } from '../../src/main/core/transfer/manifest';
import type { Lab } from '../../src/main/core/lab';
import type { SampleInfo } from '../../src/shared/types';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { jobHost } from '../jobs/helpers';

const tmp = useTmpDirs();
const quiet = { out: () => {}, err: () => {} };
const SCENARIO = 'nut_and_bolt';
const SIZE = 64;
const TRAIN = ['--method', 'autoencoder', '--scenario', SCENARIO, '--preset', 'fast', '--set', 'epochs=2', '--set', 'batchSize=4', '--backend', 'wasm'];

type Host = Awaited<ReturnType<typeof jobHost>>;
let root: string;
let blobs: DirBlobStore;
let coordinator: Host;
let worker: Host;
let workerRun: number;
let localRun: number;
let imported: number;
let bundleDigest: string;
let coordinatorDataset: number;
let flagged: SampleInfo;

beforeAll(async () => {
  root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [SCENARIO], train: 12, test: 8, size: SIZE, seed: 5 });
  const wsB = join(root, 'coordinator');
  const wsA = join(root, 'worker');
  (await createLab(wsB, { create: true })).close();
  (await createLab(wsA, { create: true })).close();
  expect(await runCli(['import', '--workspace', wsB, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);

  // Curation on the coordinator: one training image flagged out, one test mask edited.
  let lab = await createLab(wsB);
  coordinatorDataset = lab.listDatasets()[0]!.id;
  const samples = lab.store.listSamples({ datasetId: coordinatorDataset, scenario: SCENARIO, offset: 0, limit: 1000 }).samples;
  flagged = samples.filter((s) => s.split === 'train')[4]!;
  const service = new AnnotationService({ repo: new AnnotationRepo(lab.store), workspaceDir: lab.dir });
  service.flagTraining([flagged.id], true);
  const gray = new Uint8Array(SIZE * SIZE);
  for (let y = 20; y < 36; y++) for (let x = 20; x < 36; x++) gray[y * SIZE + x] = 255;
  await service.saveMask(samples.find((s) => s.split === 'test' && s.label !== 'good' && s.maskPath)!.id, encodePng(gray, SIZE, SIZE, 1));
  blobs = new DirBlobStore(join(root, 'blobs'));
  const { digest } = await bundleDataset(lab.store, lab.dir, blobs, { datasetId: coordinatorDataset, scenarios: [SCENARIO] });
  lab.close();

  // The worker: another dataset imported first (so its dataset and sample ids differ from the
  // coordinator's), the bundle's, and a run on it.
  await generateMiadMini({ outDir: join(root, 'other'), scenarios: ['witness_mark'], train: 3, test: 2, size: 64, seed: 1 });
  expect(await runCli(['import', '--workspace', wsA, join(root, 'other'), '--name', 'other'], quiet)).toBe(0);
  lab = await createLab(wsA);
  const { datasetId } = await unpackDataset(lab.store, lab.dir, blobs, digest);
  lab.close();
  expect(await runCli(['train', '--workspace', wsA, '--dataset', String(datasetId), ...TRAIN], quiet)).toBe(0);
  // The same run on the coordinator itself, for the "trains on exactly what the coordinator would" check.
  expect(await runCli(['train', '--workspace', wsB, ...TRAIN], quiet)).toBe(0);

  worker = await jobHost(wsA, join(root, 'config-a'));
  coordinator = await jobHost(wsB, join(root, 'config-b'));
  workerRun = listRuns(worker.lab().store)[0]!.id;
  localRun = listRuns(coordinator.lab().store)[0]!.id;
  const exported = await exportRun(worker.lab().store, worker.lab().jobs.runDir(workerRun), blobs, workerRun, { uid: 'cell-0001', host: 'gpu-host-1' });
  bundleDigest = exported.digest;
  expect(JSON.stringify(exported.manifest)).not.toContain(root);
  const result = await importRun(coordinator.lab().store, coordinator.lab().dir, blobs, bundleDigest, { datasetId: coordinatorDataset });
  expect(result.created).toBe(true);
  imported = result.runId;
}, 240_000);

afterAll(async () => {
  await worker?.host.close();
  await coordinator?.host.close();
});

/**
 * A contract result made comparable across workspaces: run ids as `run`, dataset ids as `dataset`,
 * sample ids as the sample's dataset-relative path, absolute files as their sha256, other absolute
 * paths (dataset roots) dropped.
 */
function comparable(lab: Lab, runId: number, value: unknown): unknown {
  const sample = (id: number) => (lab.store.connection.prepare('SELECT rel_path FROM samples WHERE id = ?').get(id) as { rel_path: string } | undefined)?.rel_path ?? `missing #${id}`;
  const walk = (v: unknown, key: string): unknown => {
    if (Array.isArray(v)) return v.map((x) => walk(x, key === 'runIds' ? 'runId' : key));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    if (typeof v === 'number' && (key === 'runId' || key === 'id')) return v === runId ? 'run' : v;
    if (typeof v === 'number' && key === 'datasetId') return 'dataset';
    if (typeof v === 'number' && key === 'sampleId') return sample(v);
    if (typeof v === 'string' && v === `run:${runId}`) return 'run:run';
    if (typeof v === 'string' && isAbsolute(v)) return existsSync(v) && statSync(v).isFile() ? `file:${v.endsWith('.json') ? 'json' : ''}` : 'path';
    return v;
  };
  return walk(value, '');
}

/** The same, with files compared by content (PNG images, masks, heatmaps). */
async function withDigests(value: unknown): Promise<unknown> {
  const walk = async (v: unknown): Promise<unknown> => {
    if (Array.isArray(v)) return Promise.all(v.map(walk));
    if (v && typeof v === 'object') return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await walk(x)])));
    if (typeof v === 'string' && isAbsolute(v) && existsSync(v) && statSync(v).isFile()) return `sha256:${await fileDigest(v)}`;
    return v;
  };
  return walk(value);
}

async function viewOf(t: Host, runId: number) {
  const call = (name: string, input: unknown) => t.host.invoke(name as never, input as never);
  const views = {
    get: await call('runs:get', { runId }),
    series: await call('runs:series', { runId }),
    report: await call('runs:report', { runId }),
    heatmap: await call('runs:heatmap', { runId, relPath: 'test/good/000.png' }),
    tableRow: ((await call('runs:table', {})) as { id: number }[]).find((r) => r.id === runId),
    compareTables: await call('compare:tables', { runIds: [runId] }),
    compareCurves: await call('compare:curves', { runIds: [runId] }),
    grid: await call('compare:grid', { runIds: [runId], scenario: SCENARIO }),
  };
  return comparable(t.lab(), runId, await withDigests(views));
}

describe('a run bundle', () => {
  it('imports a worker\'s run so that the run page and the compare view read it exactly as on the worker', async () => {
    const there = await viewOf(worker, workerRun);
    const here = await viewOf(coordinator, imported);
    expect(here).toEqual(there);
    // What that equality covers: a trained run with its series, sample images, maps and stored curves.
    const report = (await coordinator.host.invoke('runs:report', { runId: imported })) as { hasMaps: boolean; curves: unknown[]; samples: unknown[]; summary: { curation: { trainExcluded: { sampleId: number }[]; editedMasks: number } } };
    expect(report.hasMaps).toBe(true);
    expect(report.curves.length).toBeGreaterThan(0);
    expect(report.samples.length).toBeGreaterThan(0);
    expect(Object.keys((await coordinator.host.invoke('runs:series', { runId: imported })) as object).length).toBeGreaterThan(0);
    // Sample ids now name the coordinator's samples.
    expect(report.summary.curation.trainExcluded.map((e) => e.sampleId)).toEqual([flagged.id]);
    expect(report.summary.curation.editedMasks).toBe(1);
    const files = await readdir(coordinator.lab().jobs.runDir(imported), { recursive: true });
    expect(files).toEqual(expect.arrayContaining(['maps.amap', 'scores.json', 'result.json', 'train-images.json', 'labels.json']));
    expect(files.some((f) => String(f).endsWith('.safetensors'))).toBe(true);
    const trainImages = JSON.parse(await readFile(join(coordinator.lab().jobs.runDir(imported), 'train-images.json'), 'utf8')) as string[];
    expect(trainImages.every((p) => p.startsWith(join(root, 'data')) && existsSync(p))).toBe(true);
  });

  it('trained on exactly what the coordinator would have: the same images, the same curation, the same results', async () => {
    const runFile = (id: number, name: string) => readFile(join(coordinator.lab().jobs.runDir(id), name), 'utf8');
    expect(await runFile(imported, 'train-images.json')).toBe(await runFile(localRun, 'train-images.json'));
    expect(await runFile(imported, 'labels.json')).toBe(await runFile(localRun, 'labels.json'));
    expect(await runFile(imported, 'scores.json')).toBe(await runFile(localRun, 'scores.json'));
    const metrics = async (id: number) => ((await coordinator.host.invoke('runs:get', { runId: id })) as { metrics: unknown[] }).metrics;
    expect(await metrics(imported)).toEqual(await metrics(localRun));
  });

  it('stores one run when the same bundle is imported twice', async () => {
    const before = listRuns(coordinator.lab().store).length;
    const again = await importRun(coordinator.lab().store, coordinator.lab().dir, blobs, bundleDigest, { datasetId: coordinatorDataset });
    expect(again).toEqual({ runId: imported, created: false });
    expect(listRuns(coordinator.lab().store)).toHaveLength(before);
    const row = coordinator.lab().store.connection.prepare('SELECT COUNT(*) AS n, MAX(host) AS host FROM runs WHERE remote_uid = ?').get('cell-0001') as { n: number; host: string };
    expect(row).toEqual({ n: 1, host: 'gpu-host-1' });
  });

  it('refuses a bundle with a corrupted blob or a path leaving the run folder, leaving no rows and no folder', async () => {
    const store = new DirBlobStore(join(root, 'blobs-2'));
    const { digest, manifest } = await exportRun(worker.lab().store, worker.lab().jobs.runDir(workerRun), store, workerRun, { uid: 'cell-0002', host: 'gpu-host-1' });
    const maps = manifest.files.find((f) => f.path === 'maps.amap')!;
    await writeFile(join(root, 'blobs-2', 'sha256', maps.sha256.slice(0, 2), maps.sha256), 'truncated');
    const before = listRuns(coordinator.lab().store).length;
    const runsBefore = await readdir(join(coordinator.lab().dir, 'runs'));
    await expect(importRun(coordinator.lab().store, coordinator.lab().dir, store, digest, { datasetId: coordinatorDataset })).rejects.toThrow(/maps\.amap: blob .* is corrupted.*nothing was written/);
    expect(listRuns(coordinator.lab().store)).toHaveLength(before);
    expect(await readdir(join(coordinator.lab().dir, 'runs'))).toEqual(runsBefore);

    // A manifest whose file would land outside the run folder.
    const good = await exportRun(worker.lab().store, worker.lab().jobs.runDir(workerRun), blobs, workerRun, { uid: 'cell-0003', host: 'gpu-host-1' });
    const evil = { ...good.manifest, files: [...good.manifest.files, { ...good.manifest.files[0]!, path: '../../escaped.json' }] };
    const evilDigest = await blobs.put(new TextEncoder().encode(canonicalJson(evil)));
    await expect(importRun(coordinator.lab().store, coordinator.lab().dir, blobs, evilDigest, { datasetId: coordinatorDataset })).rejects.toThrow(/climbs out with \.\.; nothing was written/);
    expect(existsSync(join(coordinator.lab().dir, 'escaped.json'))).toBe(false);
    expect(listRuns(coordinator.lab().store)).toHaveLength(before);
    expect(await readdir(join(coordinator.lab().dir, 'runs'))).toEqual(runsBefore);
  });
});
