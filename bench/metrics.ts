/**
 * Benchmark of the evaluation metrics at MIAD scale: 2,500 anomaly maps of 256×256 (164 M pixels)
 * with synthetic ground truth (connected blobs on half the images, three defect types), every metric
 * for the scenario and per defect type. Prints seconds and peak RSS, then runs the Python reference
 * (scripts/reference/metrics.py: sklearn + scipy) on the same data written as .npy and prints the
 * ratio and the largest differences. Unless --no-previous, it also times the implementation before the
 * packed-slab rewrite (bench/previous/pixel-metrics-v1.ts) on the same data in a child process (its own
 * heap and peak RSS), prints that ratio, and checks that both give identical results, curves included.
 *
 *   npx tsx bench/metrics.ts [--n 2500] [--size 256] [--no-python] [--no-previous] [--repeat 1] [--seed 1]
 *
 * With --repeat K each implementation runs K times and the fastest run (wall) and the least CPU
 * time are printed.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pixelMetrics, type PixelSubset } from '../src/main/core/evaluation/pixel-metrics';
import { scoreMetrics } from '../src/main/core/evaluation/score-metrics';
import { encodeNpy } from '../src/main/core/evaluation/npy';
import { mulberry32 } from '../src/main/core/engine/random';
import { pixelMetrics as previousPixelMetrics } from './previous/pixel-metrics-v1';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2500' },
    size: { type: 'string', default: '256' },
    seed: { type: 'string', default: '1' },
    'no-python': { type: 'boolean', default: false },
    'no-previous': { type: 'boolean', default: false },
    // Internal: the child that times the previous implementation and prints one JSON line.
    impl: { type: 'string', default: 'current' },
    repeat: { type: 'string', default: '1' },
  },
});
const n = Number.parseInt(values.n, 10);
const size = Number.parseInt(values.size, 10);
const plane = size * size;
const repeat = Math.max(1, Number.parseInt(values.repeat, 10));

// --- synthetic test set: half normal, the rest split over three defect types --------------------
const rand = mulberry32(Number.parseInt(values.seed, 10));
const maps = new Float32Array(n * plane);
const masks = new Uint8Array(n * plane);
const group = new Int32Array(n); // 0 good, 1..3 defect types
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const anomalous = i >= n / 2;
  group[i] = anomalous ? 1 + (i % 3) : 0;
  const mask = masks.subarray(i * plane, (i + 1) * plane);
  const blobs: [number, number, number, number][] = [];
  if (anomalous) {
    const k = 1 + Math.floor(rand() * 3);
    for (let b = 0; b < k; b++) blobs.push([rand() * size, rand() * size, 2 + rand() * size * 0.08, 2 + rand() * size * 0.08]);
    for (const [cy, cx, ry, rx] of blobs) {
      const y0 = Math.max(0, Math.floor(cy - ry));
      const y1 = Math.min(size - 1, Math.ceil(cy + ry));
      const x0 = Math.max(0, Math.floor(cx - rx));
      const x1 = Math.min(size - 1, Math.ceil(cx + rx));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) if (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1) mask[y * size + x] = 255;
      }
    }
  }
  const map = maps.subarray(i * plane, (i + 1) * plane);
  const base = 0.1 * rand();
  for (let j = 0; j < plane; j++) map[j] = base + 0.3 * rand() + (mask[j] ? 0.25 + 0.3 * rand() : 0);
}
const genSeconds = (performance.now() - t0) / 1000;
console.log(`generated ${n} maps of ${size}×${size} (${((n * plane) / 1e6).toFixed(1)} M pixels) in ${genSeconds.toFixed(1)} s`);

const images = (g: number) => Array.from(group, (v) => v === 0 || v === g);
const subsets: PixelSubset[] = [
  { name: 'all', images: new Uint8Array(n).fill(1) },
  { name: 'defect_1', images: images(1) },
  { name: 'defect_2', images: images(2) },
  { name: 'defect_3', images: images(3) },
];

// --- ours ----------------------------------------------------------------------------------------
/** Image scores (max of each map, shape [n]) and labels (any mask pixel > 0, shape [n]). */
function imageScores(): { scores: Float64Array; labels: Uint8Array } {
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  // Masks read 4 bytes at a time (each plane starts word-aligned when plane % 4 === 0).
  const words = plane % 4 === 0 ? new Int32Array(masks.buffer, masks.byteOffset, masks.length >> 2) : null;
  for (let i = 0; i < n; i++) {
    const off = i * plane;
    let m = -Infinity;
    for (let j = off; j < off + plane; j++) {
      const v = maps[j]!;
      if (v > m) m = v;
    }
    scores[i] = m;
    if (words) {
      for (let k = off >> 2; k < (off + plane) >> 2; k++) {
        if (words[k] !== 0) {
          labels[i] = 1;
          break;
        }
      }
    } else labels[i] = masks.subarray(off, off + plane).some((v) => v !== 0) ? 1 : 0;
  }
  return { scores, labels };
}

const child = values.impl === 'previous';
const run = child ? previousPixelMetrics : pixelMetrics;
const rssBefore = process.memoryUsage().rss;
// Best of --repeat runs, wall and CPU seconds each: on a shared machine the quietest run is the
// honest figure, and CPU seconds inflate less than wall time when others hold the cores.
let ourSeconds = Number.POSITIVE_INFINITY;
let ourCpu = Number.POSITIVE_INFINITY;
let timings: Record<string, number> = {};
let pixel: ReturnType<typeof pixelMetrics> = [];
let image: ReturnType<typeof scoreMetrics>[] = [];
for (let r = 0; r < repeat; r++) {
  const cpu0 = process.cpuUsage();
  const t1 = performance.now();
  const runTimings: Record<string, number> = {};
  pixel = run({ width: size, height: size, count: n, maps, masks }, subsets, { timings: runTimings });
  const { scores, labels } = imageScores();
  image = subsets.map((s) => scoreMetrics(scores, labels, s.images));
  const seconds = (performance.now() - t1) / 1000;
  const cpuUsed = process.cpuUsage(cpu0);
  ourCpu = Math.min(ourCpu, (cpuUsed.user + cpuUsed.system) / 1e6);
  if (seconds < ourSeconds) {
    ourSeconds = seconds;
    timings = runTimings;
  }
}
const peakRss = process.resourceUsage().maxRSS * 1024;
const digest = createHash('sha256').update(JSON.stringify(pixel)).digest('hex');
const phases = (t: Record<string, number>): string => Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ');
if (child) {
  console.log(JSON.stringify({ seconds: ourSeconds, cpu: ourCpu, peakRss, phases: phases(timings), digest }));
  process.exit(0);
}
console.log(
  `ours${repeat > 1 ? ` (best of ${repeat})` : ''}: ${ourSeconds.toFixed(2)} s (${ourCpu.toFixed(2)} s CPU; load average ${loadavg()[0]!.toFixed(2)}) for ${subsets.length} subsets; peak RSS ${(peakRss / 2 ** 30).toFixed(2)} GiB ` +
    `(inputs ${(((maps.byteLength + masks.byteLength) / 2 ** 30)).toFixed(2)} GiB, RSS before ${(rssBefore / 2 ** 30).toFixed(2)} GiB)`,
);
console.log(`  phases: ${phases(timings)}`);

// --- the previous implementation on the same data, in a child with its own heap ----------------
if (!values['no-previous']) {
  const args = [...process.execArgv, import.meta.filename, '--n', String(n), '--size', String(size), '--seed', values.seed, '--repeat', String(repeat), '--impl', 'previous'];
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const prev = JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number; cpu: number; peakRss: number; phases: string; digest: string };
  const same = prev.digest === digest;
  console.log(`previous implementation: ${prev.seconds.toFixed(2)} s (${prev.cpu.toFixed(2)} s CPU), peak RSS ${(prev.peakRss / 2 ** 30).toFixed(2)} GiB (${prev.phases})`);
  console.log(
    `ratio: ours is ${(prev.seconds / ourSeconds).toFixed(2)}× the previous implementation's speed (${(prev.cpu / ourCpu).toFixed(2)}× in CPU time); ` +
      `results ${same ? 'identical (curves included)' : 'DIFFER'}`,
  );
  if (!same) process.exitCode = 1;
}
for (let s = 0; s < subsets.length; s++) {
  const p = pixel[s]!;
  console.log(
    `  ${subsets[s]!.name.padEnd(9)} image AUROC ${image[s]!.auroc?.toFixed(6)}  pixel AUROC ${p.auroc?.toFixed(6)}  ` +
      `AUPRO ${p.aupro?.toFixed(6)}  pixel F1 ${p.f1Max?.toFixed(6)}  regions ${p.regions}`,
  );
}

// --- the Python reference on the same data -------------------------------------------------------
if (!values['no-python']) {
  const dir = mkdtempSync(join(tmpdir(), 'miad-bench-'));
  try {
    writeLarge(join(dir, 'maps.npy'), maps, [n, size, size], 'float32');
    writeLarge(join(dir, 'masks.npy'), masks, [n, size, size], 'uint8');
    const subsetFlags = subsets.flatMap((s) => Array.from(s.images, Number));
    const f = openSync(join(dir, 'subsets.npy'), 'w');
    writeSync(f, encodeNpy(subsetFlags, [subsets.length, n], 'bool'));
    closeSync(f);
    const t2 = performance.now();
    const out = execFileSync('/usr/bin/python3', [join(import.meta.dirname, '../scripts/reference/metrics.py'), dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const wall = (performance.now() - t2) / 1000;
    const ref = JSON.parse(out) as {
      seconds: number;
      subsets: { image_auroc: number; pixel_auroc: number; pro: { aupro: number } }[];
    };
    let dAuroc = 0;
    let dAupro = 0;
    ref.subsets.forEach((r, s) => {
      dAuroc = Math.max(dAuroc, Math.abs(r.pixel_auroc - pixel[s]!.auroc!), Math.abs(r.image_auroc - image[s]!.auroc!));
      dAupro = Math.max(dAupro, Math.abs(r.pro.aupro - pixel[s]!.aupro!));
    });
    console.log(`python reference: ${ref.seconds.toFixed(2)} s of metrics (${wall.toFixed(1)} s with loading)`);
    console.log(`ratio: ours is ${(ref.seconds / ourSeconds).toFixed(1)}× faster than sklearn + scipy on the same data`);
    console.log(`largest difference: AUROC ${dAuroc.toExponential(2)}, AUPRO ${dAupro.toExponential(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes a large array as .npy without doubling it in memory (header, then the raw bytes). */
function writeLarge(path: string, data: Float32Array | Uint8Array, shape: number[], dtype: 'float32' | 'uint8'): void {
  const header = encodeNpy(dtype === 'float32' ? new Float32Array(0) : new Uint8Array(0), [0], dtype);
  // Re-encode the header with the real shape: an empty array's file is exactly its header.
  const text = new TextDecoder('latin1').decode(header.subarray(10)).replace('(0,)', `(${shape.join(', ')})`);
  const padded = text.trimEnd().padEnd(Math.ceil((10 + text.trimEnd().length + 1) / 64) * 64 - 10 - 1, ' ') + '\n';
  const head = new Uint8Array(10 + padded.length);
  head.set(header.subarray(0, 8), 0);
  new DataView(head.buffer).setUint16(8, padded.length, true);
  for (let i = 0; i < padded.length; i++) head[10 + i] = padded.charCodeAt(i);
  const f = openSync(path, 'w');
  writeSync(f, head);
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  for (let o = 0; o < bytes.length; o += 1 << 26) writeSync(f, bytes.subarray(o, Math.min(bytes.length, o + (1 << 26))));
  closeSync(f);
}
