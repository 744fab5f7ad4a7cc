/**
 * Dataset bundles (transfer/dataset-bundle.ts): a MIAD-mini scenario imported into a coordinator
 * workspace and curated there (a training image flagged out, a test mask edited, a test image
 * relabelled good), bundled into a file:// blob store and unpacked into a worker workspace that
 * shares no folder with it. The digest is deterministic, the worker's curated manifest (what a run
 * trains and evaluates on) is the coordinator's, and a tampered blob or manifest is refused before
 * anything is written.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { findScenarioDir } from '../../src/main/core/datasets/layout';
import { runCli } from '../../src/main/cli/main';
import { createLab, type Lab } from '../../src/main/core/lab';
import { AnnotationRepo } from '../../src/main/core/store/annotation-repo';
import { AnnotationService } from '../../src/main/core/annotate/annotation-service';
import { curatedManifest } from '../../src/main/core/methods/harness/manifest';
import { encodePng } from '../../src/main/core/image/png';
import { DirBlobStore } from '../../src/main/core/transfer/blob-store';
import { canonicalJson } from '../../src/main/core/transfer/manifest';
import { bundleDataset, datasetCacheDir, unpackDataset, type DatasetManifest } from '../../src/main/core/transfer/dataset-bundle';
import type { SampleInfo } from '../../src/shared/types';
import { fileDigest, useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const quiet = { out: () => {}, err: () => {} };
const SCENARIO = 'nut_and_bolt';
const SIZE = 64;

let root: string;
let coordinator: Lab;
let datasetId: number;
let flagged: SampleInfo;
let edited: SampleInfo;
let relabelled: SampleInfo;

function squareMask(): Uint8Array {
  const gray = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) gray[y * SIZE + x] = 255;
  return encodePng(gray, SIZE, SIZE, 1);
}

async function workerLab(name: string): Promise<Lab> {
  return createLab(join(root, name), { create: true });
}

/** The curated manifest of a workspace's dataset, with paths relative to the dataset root (they differ between workspaces). */
function curated(lab: Lab, id: number) {
  const dataset = lab.listDatasets().find((d) => d.id === id)!;
  const c = curatedManifest(new AnnotationRepo(lab.store).exportRows(SCENARIO), { datasetId: id, scenarioDir: findScenarioDir(dataset.root, SCENARIO)!, workspaceDir: lab.dir });
  return {
    train: c.manifest.train.map((p) => relative(dataset.root, p)),
    test: c.manifest.test.map((t) => ({ rel: t.rel, label: t.label, path: relative(dataset.root, t.path), hasMask: t.mask !== null })),
    masks: c.manifest.test.filter((t) => t.mask !== null).map((t) => t.mask!),
    leftOut: c.leftOut.map((l) => ({ split: l.split, relPath: l.relPath, reason: l.reason })),
    editedMasks: c.editedMasks,
  };
}

beforeAll(async () => {
  root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [SCENARIO], train: 10, test: 8, size: SIZE, seed: 7 });
  const ws = join(root, 'coordinator');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
  coordinator = await createLab(ws);
  datasetId = coordinator.listDatasets()[0]!.id;
  const samples = coordinator.store.listSamples({ datasetId, scenario: SCENARIO, offset: 0, limit: 1000 }).samples;
  flagged = samples.filter((s) => s.split === 'train')[2]!;
  const anomalous = samples.filter((s) => s.split === 'test' && s.label !== 'good' && s.maskPath);
  [edited, relabelled] = [anomalous[0]!, anomalous[1]!];
  const service = new AnnotationService({ repo: new AnnotationRepo(coordinator.store), workspaceDir: coordinator.dir });
  service.flagTraining([flagged.id], true);
  await service.saveMask(edited.id, squareMask());
  service.set(relabelled.id, { label: 'good' });
}, 120_000);

afterAll(() => coordinator?.close());

describe('a dataset bundle', () => {
  it('has a deterministic digest: the same dataset and curation give the same sha256, in any store; a curation change gives another and re-sends only what changed', async () => {
    const a = new DirBlobStore(join(root, 'store-a'));
    const b = new DirBlobStore(join(root, 'store-b'));
    const first = await bundleDataset(coordinator.store, coordinator.dir, a, { datasetId, scenarios: [SCENARIO] });
    const again = await bundleDataset(coordinator.store, coordinator.dir, a, { datasetId, scenarios: [SCENARIO, SCENARIO] });
    const elsewhere = await bundleDataset(coordinator.store, coordinator.dir, b, { datasetId, scenarios: [SCENARIO] });
    expect(again.digest).toBe(first.digest);
    expect(elsewhere.digest).toBe(first.digest);
    expect(first.manifest.samples).toHaveLength(18);
    // Images, dataset masks and the one edited mask, each listed with its sha256 and size.
    const edits = first.manifest.files.filter((f) => f.path.startsWith('.curation/masks/'));
    expect(edits).toHaveLength(1);
    expect(edits[0]!.sha256).toBe(await fileDigest(join(coordinator.dir, new AnnotationRepo(coordinator.store).row(edited.id)!.mask_path!)));
    for (const f of first.manifest.files.filter((x) => !x.path.startsWith('.curation/'))) expect(f.sha256).toBe(await fileDigest(join(coordinator.listDatasets()[0]!.root, f.path)));
    expect(JSON.stringify(first.manifest)).not.toContain(root);

    const count = async () => (await readdir(join(root, 'store-a', 'sha256'), { recursive: true })).filter((p) => /[0-9a-f]{64}$/.test(String(p))).length;
    const before = await count();
    const service = new AnnotationService({ repo: new AnnotationRepo(coordinator.store), workspaceDir: coordinator.dir });
    const other = coordinator.store.listSamples({ datasetId, scenario: SCENARIO, split: 'train', offset: 0, limit: 100 }).samples[5]!;
    service.flagTraining([other.id], true);
    try {
      const changed = await bundleDataset(coordinator.store, coordinator.dir, a, { datasetId, scenarios: [SCENARIO] });
      expect(changed.digest).not.toBe(first.digest);
      // Only the new manifest is new: every image and mask blob is shared with the first bundle.
      expect(await count()).toBe(before + 1);
    } finally {
      service.flagTraining([other.id], false);
    }
    expect((await bundleDataset(coordinator.store, coordinator.dir, a, { datasetId, scenarios: [SCENARIO] })).digest).toBe(first.digest);
  });

  it('unpacks into a worker workspace whose curated dataset is the coordinator\'s: the flagged image is not trained on, the edited mask travels; a second unpack is the cache', async () => {
    const blobs = new DirBlobStore(join(root, 'store-c'));
    const { digest } = await bundleDataset(coordinator.store, coordinator.dir, blobs, { datasetId, scenarios: [SCENARIO] });
    const worker = await workerLab('worker-1');
    try {
      const unpacked = await unpackDataset(worker.store, worker.dir, blobs, digest);
      expect(unpacked).toMatchObject({ cached: false, root: join(datasetCacheDir(worker.dir), digest) });
      const here = curated(coordinator, datasetId);
      const there = curated(worker, unpacked.datasetId);
      expect(there.train).toEqual(here.train);
      expect(there.test).toEqual(here.test);
      expect(there.leftOut).toEqual(here.leftOut);
      expect(there.editedMasks).toBe(1);
      expect(there.train).toHaveLength(9);
      expect(there.train).not.toContain(flagged.relPath);
      expect(there.test.find((t) => t.path === relabelled.relPath)).toMatchObject({ label: 'good', hasMask: false });
      // Every mask the worker evaluates with has the coordinator's bytes, the edited one included.
      expect(await Promise.all(there.masks.map(fileDigest))).toEqual(await Promise.all(here.masks.map(fileDigest)));
      expect(there.masks.filter((m) => m.includes('.curation'))).toHaveLength(1);

      const again = await unpackDataset(worker.store, worker.dir, blobs, digest);
      expect(again).toEqual({ ...unpacked, cached: true });
      expect(worker.listDatasets()).toHaveLength(1);
    } finally {
      worker.close();
    }
  });

  it('refuses a corrupted image blob, a corrupted manifest and a manifest path that leaves the cache, before anything is written', async () => {
    const blobs = new DirBlobStore(join(root, 'store-d'));
    const { digest, manifest } = await bundleDataset(coordinator.store, coordinator.dir, blobs, { datasetId, scenarios: [SCENARIO] });
    const worker = await workerLab('worker-2');
    const blobPath = (id: string) => join(root, 'store-d', 'sha256', id.slice(0, 2), id);
    const nothingWritten = async () => {
      expect(worker.listDatasets()).toEqual([]);
      const cache = datasetCacheDir(worker.dir);
      expect(existsSync(cache) ? await readdir(cache) : []).toEqual([]);
    };
    try {
      // A manifest naming a file outside the cache, and one with an absolute path.
      for (const [path, why] of [
        ['../../escaped.png', /climbs out with \.\./],
        ['/tmp/absolute.png', /not a safe relative path|is absolute/],
      ] as const) {
        const evil: DatasetManifest = { ...manifest, files: [...manifest.files, { path, size: 3, sha256: manifest.files[0]!.sha256 }] };
        const evilDigest = await blobs.put(new TextEncoder().encode(canonicalJson(evil)));
        await expect(unpackDataset(worker.store, worker.dir, blobs, evilDigest)).rejects.toThrow(why);
        await nothingWritten();
      }
      const traversing: DatasetManifest = { ...manifest, samples: manifest.samples.map((s, i) => (i === 0 ? { ...s, relPath: 'nut_and_bolt/../../x.png' } : s)) };
      await expect(unpackDataset(worker.store, worker.dir, blobs, await blobs.put(new TextEncoder().encode(canonicalJson(traversing))))).rejects.toThrow(/not a safe relative path/);
      expect(existsSync(join(root, 'escaped.png'))).toBe(false);
      await nothingWritten();

      // An image blob whose bytes no longer match its sha256.
      const image = manifest.files.find((f) => f.path.endsWith('.png') && f.path.includes('/test/'))!;
      await writeFile(blobPath(image.sha256), 'not the image');
      await expect(unpackDataset(worker.store, worker.dir, blobs, digest)).rejects.toThrow(new RegExp(`${image.path.replace(/[.]/g, '\\.')}: blob .* is corrupted.*nothing was written`));
      await nothingWritten();

      // The manifest itself altered under its digest.
      await writeFile(blobPath(digest), canonicalJson({ ...manifest, samples: manifest.samples.slice(1) }));
      await expect(unpackDataset(worker.store, worker.dir, blobs, digest)).rejects.toThrow(/is corrupted/);
      await nothingWritten();
    } finally {
      worker.close();
    }
  });
});
