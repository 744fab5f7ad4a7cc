/**
 * Import benchmark: a MIAD-layout tree of 105,000 tiny PNG images (7 scenarios × 10,000 train +
 * 2,500 test, half of the test anomalous, with masks: 122,500 files) is built once under the
 * system temp folder, then imported into fresh workspaces:
 *
 *   1. the importer as shipped (worker-thread pool: streamed read + sha256 + header, PNG CRC and
 *      PNG pixel-data check; sharp decodes only what the pixel check does not cover),
 *   2. the reference for 1, in the same run: the same import with the pixel check's verdicts
 *      dropped, so sharp decodes every image once (the import as of c2c080e, issue 20),
 *   3. with --in-thread, the import with the in-thread fs/promises reader, for the worker pool's gain,
 *   4. a rescan with nothing changed, as shipped (a stat pass in the workers) and as of c2c080e
 *      (bench/previous/rescan-v1.ts), alternated ROUNDS times each; medians of wall and CPU time,
 *   5. the naive baseline: read + decodePng (a full decode to learn the size and validity) +
 *      sha256 on the main thread, measured on a subset and extrapolated to the whole tree.
 *
 * Usage: npx tsx bench/import.ts [--images N] [--in-thread] (default 105000). The files are in
 * the page cache after the build, so the figures are for a warm cache. Prints the load average:
 * the machine may be shared.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { SCENARIOS, SCENARIO_INFO } from '../src/shared/taxonomy';
import { encodePng, decodePng } from '../src/main/core/image/png';
import { Store } from '../src/main/core/store/store';
import { importFolder, rescanDataset } from '../src/main/core/datasets/import/importer';
import { createInThreadReader, createWorkerReader, type FactReader } from '../src/main/core/datasets/import/file-facts';
import { rescanUnchangedV1 } from './previous/rescan-v1';

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

/** The worker pool with the PNG pixel check's verdicts dropped: the importer then decodes every image with sharp. */
function decodeEveryImage(): FactReader {
  const inner = createWorkerReader();
  return {
    description: `${inner.description}, every image decoded`,
    stat: (paths) => inner.stat(paths),
    read: async (batch) => (await inner.read(batch)).map((r) => (r.status === 'read' ? { ...r, pixelsVerified: false } : r)),
    close: () => inner.close(),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function timedImport(label: string, makeReader: () => FactReader): Promise<{ seconds: number; samples: number; skipped: number; ws: string }> {
  const ws = join(base, `ws-${label}`);
  await rm(ws, { recursive: true, force: true });
  await mkdir(ws, { recursive: true });
  const store = Store.open(ws);
  try {
    const t0 = performance.now();
    const result = await importFolder(store, { root: tree }, { makeReader });
    const seconds = (performance.now() - t0) / 1000;
    return { seconds, samples: result.report.totals.samples, skipped: result.report.totals.skipped, ws };
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

const ROUNDS = 5;

async function main(): Promise<void> {
  const files = await buildTree();
  console.log(`tree: ${IMAGES} images in MIAD layout (${files} files with masks), ${SIDE}×${SIDE} PNG; load average ${load()}`);

  const workers = await timedImport('workers', () => createWorkerReader());
  console.log(`import (worker pool, pixel check):     ${workers.seconds.toFixed(2)} s  ${(files / workers.seconds).toFixed(0)} files/s  (${workers.samples} samples, ${workers.skipped} skipped); load ${load()}`);

  const everyDecode = await timedImport('every-decode', decodeEveryImage);
  console.log(`import (every image decoded by sharp): ${everyDecode.seconds.toFixed(2)} s  ${(files / everyDecode.seconds).toFixed(0)} files/s  (${everyDecode.samples} samples, ${everyDecode.skipped} skipped); load ${load()}`);
  await rm(everyDecode.ws, { recursive: true, force: true });

  let inThread: { seconds: number } | null = null;
  if (process.argv.includes('--in-thread')) {
    inThread = await timedImport('in-thread', () => createInThreadReader());
    console.log(`import (in-thread reader): ${inThread.seconds.toFixed(2)} s  ${(files / inThread.seconds).toFixed(0)} files/s`);
  }

  // Wall seconds, and CPU seconds of the whole process (every thread): less swayed by a shared machine.
  const now: number[] = [];
  const v1: number[] = [];
  const nowCpu: number[] = [];
  const v1Cpu: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const which of round % 2 === 0 ? ['v1', 'now'] : ['now', 'v1']) {
      const store = Store.open(workers.ws);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const changes = which === 'now' ? (await rescanDataset(store, { datasetId: 1 })).report.changes! : await rescanUnchangedV1(store, 1);
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      store.close();
      (which === 'now' ? nowCpu : v1Cpu).push((cpu.user + cpu.system) / 1e6);
      if (changes.unchanged !== workers.samples || changes.modified + changes.touched + changes.added + changes.removed !== 0) throw new Error(`rescan ${which} saw changes: ${JSON.stringify(changes)}`);
      (which === 'now' ? now : v1).push(seconds);
    }
  }
  console.log(`rescan, nothing changed (stat pass):   ${now.map((t) => t.toFixed(2)).join(' ')} s  median ${median(now).toFixed(2)} s, CPU median ${median(nowCpu).toFixed(2)} s; load ${load()}`);
  console.log(`rescan, nothing changed (c2c080e):     ${v1.map((t) => t.toFixed(2)).join(' ')} s  median ${median(v1).toFixed(2)} s, CPU median ${median(v1Cpu).toFixed(2)} s`);

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
  console.log(`ratio import every-decode / pixel check: ${(everyDecode.seconds / workers.seconds).toFixed(2)}×`);
  if (inThread) console.log(`ratio in-thread / worker pool: ${(inThread.seconds / workers.seconds).toFixed(2)}×`);
  console.log(`ratio naive (extrapolated) / worker pool: ${(naiveTotal / workers.seconds).toFixed(2)}×`);
  console.log(`ratio rescan c2c080e / stat pass (medians): ${(median(v1) / median(now)).toFixed(2)}× wall, ${(median(v1Cpu) / median(nowCpu)).toFixed(2)}× CPU`);
  console.log(`goal: import of the whole tree under 60 s → ${workers.seconds < 60 ? 'met' : 'NOT met'} (${workers.seconds.toFixed(1)} s, load ${load()})`);
  console.log(`goal: rescan with nothing changed under 2 s → ${median(now) < 2 ? 'met' : 'NOT met'} (median ${median(now).toFixed(2)} s)`);
}

await main();
