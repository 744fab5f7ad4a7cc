/**
 * PatchCore at scale: the memory-bank phase streamed (ours: fp16 feature store + projected rows)
 * beside a naive version that holds every float32 embedding at once (anomalib's torch.vstack of
 * all embeddings, then a projection of the whole matrix), each in its own child process so its peak
 * RSS (process.resourceUsage().maxRSS, which includes the wasm heap) is its own. The naive one runs
 * on fewer images; both are extrapolated per training image to MIAD scale (10,000 images a scenario).
 * Also: greedy coreset time per 100k patches (measured on K picks, scaled to the 10 % coreset), and
 * scoring speed (images/s, whole pipeline: decode, backbone, 1-NN + eq. 7, map, .amap write).
 *
 *   npx tsx bench/patchcore.ts [--backend wasm] [--train 400] [--naive 200] [--test 60] [--size 128]
 *                              [--arch resnet18] [--ratio 0.002] [--picks 200] [--dims 128] [--store auto|memory|file]
 *
 * The coreset ratio of the memory-bank runs is `--ratio` (default 0.2 %) so the run fits a few minutes;
 * greedy cost is linear in picks, so the 10 % figure is extrapolated from the per-pick time.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../src/main/core/engine/backends';
import { mulberry32 } from '../src/main/core/engine/random';
import { greedyKCenterHost, sparseRandomProjection } from '../src/main/core/methods/components/coreset';
import { loadImageRgb } from '../src/main/core/methods/components/images';
import { resolvePatchCoreConfig } from '../src/main/core/methods/patchcore/config';
import { PatchCoreModel } from '../src/main/core/methods/patchcore/model';
import { runPatchCore } from '../src/main/core/methods/patchcore/pipeline';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    train: { type: 'string', default: '400' },
    naive: { type: 'string', default: '200' },
    test: { type: 'string', default: '60' },
    size: { type: 'string', default: '128' },
    arch: { type: 'string', default: 'resnet18' },
    ratio: { type: 'string', default: '0.002' },
    picks: { type: 'string', default: '200' },
    dims: { type: 'string', default: '128' },
    // Where the streamed run keeps its fp16 features: 'file' measures what a 10,000-image scenario
    // gets ('auto' picks a file above 4 GiB), at image counts this machine can embed.
    store: { type: 'string', default: 'auto' },
    child: { type: 'string' },
    root: { type: 'string' },
    images: { type: 'string' },
  },
});

const SCENARIO = 'metal_welding';
const MIAD_IMAGES = 10_000;
const overrides = () => ({
  arch: values.arch as 'resnet18' | 'wide_resnet50_2',
  inputSize: Number(values.size),
  batchSize: 16,
  trainImages: Number(values.images ?? values.train),
  coresetRatio: Number(values.ratio),
  projectionDims: Number(values.dims),
  featureStore: values.store as 'auto' | 'memory' | 'file',
});

interface ChildResult {
  variant: string;
  images: number;
  patches: number;
  width: number;
  seconds: { embed: number; coreset: number; total: number };
  scoreImagesPerSecond?: number;
  maxRssBytes: number;
  baseRssBytes: number;
}

/** Ours, through the real pipeline. */
async function childStreamed(root: string): Promise<ChildResult> {
  await initBackend(values.backend);
  const base = process.memoryUsage().rss;
  const out = await mkdtemp(join(tmpdir(), 'pc-bench-out-'));
  try {
    const r = await runPatchCore({ datasetRoot: root, scenario: SCENARIO, preset: 'fast', overrides: overrides(), weights: 'random', outDir: out }, { progress: () => undefined });
    return {
      variant: 'streamed',
      images: r.train.images,
      patches: r.train.patches,
      width: 0,
      seconds: { embed: r.timings.embed, coreset: r.timings.coreset, total: r.timings.embed + r.timings.coreset + r.timings.gather },
      scoreImagesPerSecond: r.testImages / r.timings.score,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      baseRssBytes: base,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** The naive memory-bank pass: every float32 embedding kept, stacked, projected at once. */
async function childNaive(root: string): Promise<ChildResult> {
  await initBackend(values.backend);
  const base = process.memoryUsage().rss;
  const { config } = resolvePatchCoreConfig('fast', overrides());
  const model = await PatchCoreModel.create(config, 'random');
  const dir = join(root, SCENARIO, 'train', 'good');
  const paths = (await readdir(dir)).sort().slice(0, Number(values.images)).map((n) => join(dir, n));
  const t0 = performance.now();
  const parts: Float32Array[] = [];
  const size = config.inputSize;
  for (let s = 0; s < paths.length; s += config.batchSize) {
    const batch = paths.slice(s, s + config.batchSize);
    const px = new Float32Array(batch.length * size * size * 3);
    for (let i = 0; i < batch.length; i++) px.set(await loadImageRgb(batch[i]!, size), i * size * size * 3);
    const x = tf.tensor4d(px, [batch.length, size, size, 3]);
    const emb = model.embed(x);
    parts.push(await emb.data<'float32'>());
    tf.dispose([x, emb]);
  }
  const width = model.width;
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0)); // torch.vstack
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  parts.length = 0;
  const n = all.length / width;
  const dims = config.projectionDims as number;
  const whole = tf.tensor2d(all, [n, width]);
  const r = tf.tensor2d(sparseRandomProjection(width, dims, 1), [width, dims]);
  const projT = tf.matMul(whole, r);
  const projected = await projT.data<'float32'>();
  tf.dispose([whole, r, projT]);
  const t1 = performance.now();
  const picked = await greedyKCenterHost([projected], dims, Math.floor(n * config.coresetRatio), { seed: 0 });
  const bank = new Float32Array(picked.length * width);
  picked.forEach((row, i) => bank.set(all.subarray(row * width, (row + 1) * width), i * width));
  const t2 = performance.now();
  model.dispose();
  return {
    variant: 'naive',
    images: paths.length,
    patches: n,
    width,
    seconds: { embed: (t1 - t0) / 1000, coreset: (t2 - t1) / 1000, total: (t2 - t0) / 1000 },
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    baseRssBytes: base,
  };
}

function runChild(variant: string, root: string, images: number): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const args = ['tsx', self, '--child', variant, '--root', root, '--images', String(images)];
  for (const k of ['backend', 'size', 'arch', 'ratio', 'dims', 'store'] as const) args.push(`--${k}`, String(values[k]));
  return new Promise((resolve, reject) => {
    execFile('npx', args, { maxBuffer: 1 << 24, timeout: 1_800_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${variant} child failed: ${stderr || error.message}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(line) as ChildResult);
    });
  });
}

const MiB = 2 ** 20;
const fmt = (x: number, d = 1) => x.toFixed(d);

async function main(): Promise<void> {
  if (values.child) {
    const root = values.root!;
    const r = values.child === 'naive' ? await childNaive(root) : await childStreamed(root);
    console.log(JSON.stringify(r));
    return;
  }
  const train = Number(values.train);
  const naiveImages = Number(values.naive);
  const root = join(tmpdir(), `pc-bench-mini-${train}-${values.test}-${values.size}`);
  if (!existsSync(join(root, 'miad-mini.json'))) {
    console.log(`generating MIAD-mini ${SCENARIO}: ${train} train, ${values.test} test, ${values.size} px …`);
    await generateMiadMini({ outDir: root, scenarios: [SCENARIO], train, test: Number(values.test), size: Number(values.size), seed: 3 });
  }
  console.log(`backend ${values.backend}, ${values.arch} at ${values.size}², coreset ratio ${values.ratio}, projection ${values.dims} dims, feature store ${values.store}`);

  // Each variant at two sizes: the slope of peak RSS over images is its memory per training
  // image, free of the fixed cost (wasm heap, weights, tfjs) that a single run would spread over it.
  const runs = {
    naive: [await runChild('naive', root, naiveImages / 2), await runChild('naive', root, naiveImages)],
    streamed: [await runChild('streamed', root, train / 2), await runChild('streamed', root, train)],
  };
  const peak = (c: ChildResult) => c.maxRssBytes - c.baseRssBytes;
  const slope = ([a, b]: ChildResult[]) => (peak(b!) - peak(a!)) / (b!.images - a!.images);
  console.log('\nmemory-bank phase (peak RSS above the process baseline after backend init)');
  console.log('variant   images  patches  peak MiB  embed s  coreset s  s/image(embed)');
  for (const c of [...runs.naive, ...runs.streamed]) {
    console.log(
      `${c.variant.padEnd(9)} ${String(c.images).padStart(6)} ${String(c.patches).padStart(8)} ${fmt(peak(c) / MiB).padStart(9)} ${fmt(c.seconds.embed).padStart(8)} ${fmt(c.seconds.coreset).padStart(10)} ${fmt(c.seconds.embed / c.images, 3).padStart(15)}`,
    );
  }
  const naiveSlope = slope(runs.naive);
  const streamedSlope = slope(runs.streamed);
  const big = runs.naive[1]!;
  const patchesPerImage = big.patches / big.images;
  const width = big.width;
  const dims = Number(values.dims);
  console.log(`measured memory per training image: naive ${fmt(naiveSlope / MiB, 3)} MiB, streamed ${fmt(streamedSlope / MiB, 3)} MiB → ratio naive/streamed ${fmt(naiveSlope / streamedSlope, 2)}×`);
  console.log(
    `data per image (${patchesPerImage} patches × ${width} ch): naive float32 features ${fmt((patchesPerImage * width * 4) / MiB, 3)} MiB (×2 while stacked, ×3 with the tensor copy); streamed fp16 ${fmt((patchesPerImage * width * 2) / MiB, 3)} MiB in memory or 0 with a file store, + projected ${fmt((patchesPerImage * dims * 4) / MiB, 3)} MiB`,
  );
  console.log(
    `extrapolated to ${MIAD_IMAGES} images at this size: naive ${fmt((naiveSlope * MIAD_IMAGES) / 2 ** 30, 2)} GiB, streamed ${fmt((streamedSlope * MIAD_IMAGES) / 2 ** 30, 2)} GiB; at MIAD's WRN50-2 224² (784 patches × 1,536 ch) the float32 features alone are ${fmt((MIAD_IMAGES * 784 * 1536 * 4) / 2 ** 30, 1)} GiB, the fp16 store ${fmt((MIAD_IMAGES * 784 * 1536 * 2) / 2 ** 30, 1)} GiB (a file), the projected rows ${fmt((MIAD_IMAGES * 784 * 128 * 4) / 2 ** 30, 1)} GiB`,
  );
  console.log(`scoring: ${fmt(runs.streamed[1]!.scoreImagesPerSecond ?? 0, 2)} images/s (whole pipeline per test image)`);

  // Greedy coreset per 100k patches: K picks on 100k projected rows, scaled to 10 % (10k picks).
  await initBackend(values.backend);
  const n = 100_000;
  const rand = mulberry32(5);
  const rows = Float32Array.from({ length: n * dims }, () => rand() - 0.5);
  const picks = Number(values.picks);
  const t = performance.now();
  await greedyKCenterHost([rows], dims, picks, { seed: 1 });
  const perPick = (performance.now() - t) / 1000 / picks;
  console.log(
    `\ncoreset (plain host greedy, ${dims} dims, uniform random rows): ${fmt(perPick * 1000, 2)} ms per pick over 100k patches → ${fmt(perPick * 10_000)} s for a 10 % coreset of 100k patches; cost grows as N²·ratio·dims, so MIAD's 7.8 M patches (784k picks) would take ${fmt((perPick * 78.4 * 784_000) / 3600)} h on this CPU. Training uses the pruned greedy instead: bench/coreset.ts measures it on real features`,
  );
}

await main();
