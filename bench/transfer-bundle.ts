/**
 * Dataset bundle benchmark (issue 18, transfer/dataset-bundle.ts): a MIAD-mini scenario of N images
 * (with masks) imported into a coordinator workspace, then
 *
 *   reference: a plain recursive copy of the dataset folder (fs.cp), what a shared folder would cost;
 *   1. bundleDataset into an empty file:// blob store (every file hashed and stored: cold);
 *   2. bundleDataset again after one training image is flagged out (warm: only the manifest is new);
 *   3. unpackDataset into a fresh worker workspace (every blob checked into staging, one transaction);
 *   4. unpackDataset of the same digest again (the cache).
 *
 * Each is printed with its ratio to the reference, measured in the same run on the same files.
 * Usage: npx tsx bench/transfer-bundle.ts [--images N] (default 2000, 128 px).
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../src/main/cli/main';
import { createLab } from '../src/main/core/lab';
import { AnnotationRepo } from '../src/main/core/store/annotation-repo';
import { AnnotationService } from '../src/main/core/annotate/annotation-service';
import { DirBlobStore } from '../src/main/core/transfer/blob-store';
import { bundleDataset, unpackDataset } from '../src/main/core/transfer/dataset-bundle';

const arg = process.argv.indexOf('--images');
const IMAGES = arg > 0 ? Number(process.argv[arg + 1]) : 2000;
const SCENARIO = 'nut_and_bolt';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, (performance.now() - t0) / 1000];
}

async function countBlobs(root: string): Promise<number> {
  return (await readdir(join(root, 'sha256'), { recursive: true })).filter((p) => /[0-9a-f]{64}$/.test(String(p))).length;
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'miad-transfer-bench-'));
  try {
    const train = Math.round(IMAGES * 0.8);
    await generateMiadMini({ outDir: join(base, 'data'), scenarios: [SCENARIO], train, test: IMAGES - train, size: 128, seed: 3 });
    const ws = join(base, 'coordinator');
    (await createLab(ws, { create: true })).close();
    const quiet = { out: () => {}, err: () => {} };
    if ((await runCli(['import', '--workspace', ws, join(base, 'data'), '--name', 'mini'], quiet)) !== 0) throw new Error('import failed');
    const lab = await createLab(ws);
    const datasetId = lab.listDatasets()[0]!.id;

    const [, copySec] = await timed(() => cp(join(base, 'data'), join(base, 'copy'), { recursive: true }));
    const blobsDir = join(base, 'blobs');
    const blobs = new DirBlobStore(blobsDir);
    const [cold, coldSec] = await timed(() => bundleDataset(lab.store, lab.dir, blobs, { datasetId, scenarios: [SCENARIO] }));
    const files = cold.manifest.files.length;
    const bytes = cold.manifest.files.reduce((n, f) => n + f.size, 0);
    const blobsCold = await countBlobs(blobsDir);

    const sample = lab.store.listSamples({ datasetId, scenario: SCENARIO, split: 'train', offset: 0, limit: 1 }).samples[0]!;
    new AnnotationService({ repo: new AnnotationRepo(lab.store), workspaceDir: lab.dir }).flagTraining([sample.id], true);
    const [warm, warmSec] = await timed(() => bundleDataset(lab.store, lab.dir, blobs, { datasetId, scenarios: [SCENARIO] }));
    const blobsWarm = await countBlobs(blobsDir);
    lab.close();

    const worker = await createLab(join(base, 'worker'), { create: true });
    const [, unpackSec] = await timed(() => unpackDataset(worker.store, worker.dir, blobs, warm.digest));
    const [cached, cachedSec] = await timed(() => unpackDataset(worker.store, worker.dir, blobs, warm.digest));
    worker.close();

    const row = (what: string, sec: number) => console.log(`${what.padEnd(44)} ${sec.toFixed(3).padStart(8)} s  ${(sec / copySec).toFixed(2).padStart(6)}x copy`);
    console.log(`dataset: ${files} files (${IMAGES} images + masks), ${(bytes / 1e6).toFixed(1)} MB, 128 px PNG`);
    row('reference: fs.cp of the dataset folder', copySec);
    row('1. bundle, empty store (cold)', coldSec);
    row(`2. bundle after a curation edit (+${blobsWarm - blobsCold} blob)`, warmSec);
    row('3. unpack into a worker workspace', unpackSec);
    row(`4. unpack again (cached: ${cached.cached})`, cachedSec);
    console.log(`digests: cold ${cold.digest.slice(0, 12)}…, after the edit ${warm.digest.slice(0, 12)}…`);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

await main();
