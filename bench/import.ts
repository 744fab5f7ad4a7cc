/**
 * Import benchmark: a MIAD-layout tree of 105,000 tiny PNG images (7 scenarios × 10,000 train +
 * 2,500 test, half of the test anomalous, with masks: 122,500 files) is built once under the
 * system temp folder, then imported into fresh workspaces:
 *
 *   1. the importer as shipped (worker-thread pool: streamed read + sha256 + header and PNG CRC
 *      check; then one decode per image by sharp, issue 20),
 *   2. the same import with the in-thread fs/promises reader, for the worker pool's gain,
 *   3. a rescan with nothing changed (size + mtime only),
 *   4. the naive baseline: read + decodePng (a full decode to learn the size and validity) +
 *      sha256 on the main thread, measured on a subset and extrapolated to the whole tree.
 *
 * Usage: npx tsx bench/import.ts [--images N] (default 105000). The files are in the page cache
 * after the build, so the figures are for a warm cache.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { SCENARIOS, SCENARIO_INFO } from '../src/shared/taxonomy';
import { encodePng, decodePng } from '../src/main/core/image/png';
import { Store } from '../src/main/core/store/store';
import { importFolder, rescanDataset } from '../src/main/core/datasets/import/importer';
import { createInThreadReader, createWorkerReader } from '../src/main/core/datasets/import/file-facts';

const arg = process.argv.indexOf('--images');
const IMAGES = arg > 0 ? Number(process.argv[arg + 1]) : 105_000;
const PER_SCENARIO = Math.round(IMAGES / 7);
const TRAIN = Math.round(PER_SCENARIO * (10_000 / 15_000));
const TEST_GOOD = Math.round((PER_SCENARIO - TRAIN) / 2);
const TEST_BAD = PER_SCENARIO - TRAIN - TEST_GOOD;
const SIDE = 16;

const base = join(tmpdir(), `miad-import-bench-${IMAGES}`);
const tree = join(base, 'MIAD');
const marker = join(base, 'built.json');

/** A tiny RGB PNG whose pixels encode `n`, so every file has its own bytes and hash. */
function tinyPng(n: number, mask = false): Uint8Array {
  const channels = mask ? 1 : 3;
  const data = new Uint8Array(SIDE * SIDE * channels);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + n) & 0xff;
  data[0] = n & 0xff;
  data[1] = (n >> 8) & 0xff;
  data[2] = (n >> 16) & 0xff;
  return encodePng(data, SIDE, SIDE, channels, { level: 1, filter: 0 });
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function buildTree(): Promise<number> {
  if (existsSync(marker)) return (JSON.parse(await readFile(marker, 'utf8')) as { files: number }).files;
  await rm(base, { recursive: true, force: true });
  const files: { path: string; bytes: Uint8Array }[] = [];
  let n = 0;
  for (const s of SCENARIOS) {
    const defects = SCENARIO_INFO[s].defects;
    const dirs = [`${s}/train/good`, `${s}/test/good`, ...defects.flatMap((d) => [`${s}/test/${d}`, `${s}/ground_truth/${d}`])];
    for (const d of dirs) await mkdir(join(tree, d), { recursive: true });
    for (let i = 0; i < TRAIN; i++) files.push({ path: `${s}/train/good/${String(i).padStart(5, '0')}.png`, bytes: tinyPng(n++) });
    for (let i = 0; i < TEST_GOOD; i++) files.push({ path: `${s}/test/good/${String(i).padStart(5, '0')}.png`, bytes: tinyPng(n++) });
    for (let i = 0; i < TEST_BAD; i++) {
      const d = defects[i % defects.length]!;
      const name = String(i).padStart(5, '0');
      files.push({ path: `${s}/test/${d}/${name}.png`, bytes: tinyPng(n++) });
      files.push({ path: `${s}/ground_truth/${d}/${name}_mask.png`, bytes: tinyPng(n, true) });
    }
  }
  const t0 = performance.now();
  await pool(files, 16, (f) => writeFile(join(tree, f.path), f.bytes));
  console.log(`built ${files.length} files in ${((performance.now() - t0) / 1000).toFixed(1)} s under ${tree}`);
  await writeFile(marker, JSON.stringify({ files: files.length }));
  return files.length;
}

async function timedImport(label: string, makeReader: () => ReturnType<typeof createWorkerReader>): Promise<{ seconds: number; samples: number; ws: string }> {
  const ws = join(base, `ws-${label}`);
  await rm(ws, { recursive: true, force: true });
  await mkdir(ws, { recursive: true });
  const store = Store.open(ws);
  try {
    const t0 = performance.now();
    const result = await importFolder(store, { root: tree }, { makeReader });
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, samples: result.report.totals.samples, ws };
  } finally {
    store.close();
  }
}

async function naiveSubset(files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of files) {
    const bytes = await readFile(f);
    decodePng(bytes);
    createHash('sha256').update(bytes).digest('hex');
  }
  return (performance.now() - t0) / 1000;
}

async function main(): Promise<void> {
  const files = await buildTree();
  console.log(`tree: ${IMAGES} images in MIAD layout (${files} files with masks), ${SIDE}×${SIDE} PNG`);

  const workers = await timedImport('workers', () => createWorkerReader());
  console.log(`import (worker pool):      ${workers.seconds.toFixed(2)} s  ${(files / workers.seconds).toFixed(0)} files/s  (${workers.samples} samples)`);

  const inThread = await timedImport('in-thread', () => createInThreadReader());
  console.log(`import (in-thread reader): ${inThread.seconds.toFixed(2)} s  ${(files / inThread.seconds).toFixed(0)} files/s`);

  const store = Store.open(workers.ws);
  const t0 = performance.now();
  const rescan = await rescanDataset(store, { datasetId: 1 });
  const rescanSeconds = (performance.now() - t0) / 1000;
  store.close();
  console.log(`rescan, nothing changed:   ${rescanSeconds.toFixed(2)} s  (${rescan.report.changes?.unchanged} unchanged)`);

  const subset: string[] = [];
  const step = Math.max(1, Math.floor(TRAIN / 3000));
  for (let i = 0; i < TRAIN && subset.length < 3000; i += step) subset.push(join(tree, `${SCENARIOS[0]}/train/good/${String(i).padStart(5, '0')}.png`));
  const naive = await naiveSubset(subset);
  const naiveTotal = (naive / subset.length) * files;
  console.log(`naive (read + decodePng + sha256, main thread): ${subset.length} files in ${naive.toFixed(2)} s → ${naiveTotal.toFixed(1)} s extrapolated to ${files} files`);

  const big = new Uint8Array(256 * 1024 * 1024);
  const h0 = performance.now();
  createHash('sha256').update(big).digest('hex');
  const hashMBs = 256 / ((performance.now() - h0) / 1000);
  console.log(`sha256 throughput (one thread): ${hashMBs.toFixed(0)} MB/s`);

  console.log('');
  console.log(`ratio in-thread / worker pool: ${(inThread.seconds / workers.seconds).toFixed(2)}×`);
  console.log(`ratio naive (extrapolated) / worker pool: ${(naiveTotal / workers.seconds).toFixed(2)}×`);
  console.log(`goal: whole tree under 60 s → ${workers.seconds < 60 ? 'met' : 'NOT met'} (${workers.seconds.toFixed(1)} s)`);
}

await main();
