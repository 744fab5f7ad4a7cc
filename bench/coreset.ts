/**
 * Greedy k-center coreset on the host: the pruned greedy (coreset-pruned.ts, what training uses on
 * wasm/cpu) against the plain greedy (coreset.ts `greedyKCenterHost`, the previous implementation),
 * on real patch features: WideResNet50-2 layer2+layer3 embeddings of MIAD-mini images at 224²,
 * projected to 128 dims as the `full` preset does (random backbone weights: pretrained ones cannot
 * be downloaded here).
 *
 *   npx tsx bench/coreset.ts [--images 128] [--compare 50000] [--sizes 25000,50000,100000] [--ratio 0.1]
 *
 * 1. At `--compare` rows both run the whole 10 % coreset: the picks must be identical; ratio of times.
 *    The pruned greedy runs as training calls it, reordering (a copy of) the rows in place.
 * 2. The pruned greedy alone at each of `--sizes` rows (≤ images × 784): seconds, seconds per 100k
 *    patches, distances computed per pick; a power law fitted to the two largest sizes extrapolates
 *    to MIAD's 7.84 M patches (10,000 images). The plain greedy's cost is rows² × ratio × dims.
 *
 * The embeddings are computed once and kept in the OS temp folder (`miad-lab-bench-coreset-*.f32`).
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../src/main/core/engine/backends';
import { greedyKCenterHost, sparseRandomProjection } from '../src/main/core/methods/components/coreset';
import { greedyKCenterPruned, newPrunedGreedyStats } from '../src/main/core/methods/components/coreset-pruned';
import { loadImageRgb } from '../src/main/core/methods/components/images';
import { resolvePatchCoreConfig } from '../src/main/core/methods/patchcore/config';
import { PatchCoreModel } from '../src/main/core/methods/patchcore/model';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '128' },
    compare: { type: 'string', default: '50000' },
    sizes: { type: 'string', default: '25000,50000,100000' },
    ratio: { type: 'string', default: '0.1' },
  },
});

const SCENARIO = 'metal_welding';
const SIZE = 224;
const DIMS = 128;
const MIAD_PATCHES = 10_000 * 784;

/** Projected embeddings of `images` MIAD-mini training images, [images × 784, 128]. */
async function features(images: number): Promise<Float32Array> {
  const file = join(tmpdir(), `miad-lab-bench-coreset-wrn50-${SIZE}-${images}.f32`);
  if (existsSync(file)) {
    const b = await readFile(file);
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  }
  const root = join(tmpdir(), `miad-lab-bench-coreset-mini-${images}`);
  if (!existsSync(join(root, 'miad-mini.json'))) await generateMiadMini({ outDir: root, scenarios: [SCENARIO], train: images, test: 2, size: SIZE, seed: 3 });
  await initBackend('wasm');
  const { config } = resolvePatchCoreConfig('full', {});
  const model = await PatchCoreModel.create(config, 'random');
  const dir = join(root, SCENARIO, 'train', 'good');
  const paths = (await readdir(dir)).sort().slice(0, images).map((n) => join(dir, n));
  const projection = tf.tensor2d(sparseRandomProjection(model.width, DIMS, 1), [model.width, DIMS]);
  const parts: Float32Array[] = [];
  const t = performance.now();
  for (let s = 0; s < paths.length; s += 8) {
    const batch = paths.slice(s, s + 8);
    const px = new Float32Array(batch.length * SIZE * SIZE * 3);
    for (let i = 0; i < batch.length; i++) px.set(await loadImageRgb(batch[i]!, SIZE), i * SIZE * SIZE * 3);
    const projected = tf.tidy(() => tf.matMul(tf.reshape(model.embed(tf.tensor4d(px, [batch.length, SIZE, SIZE, 3])), [-1, model.width]), projection));
    parts.push(await projected.data<'float32'>());
    projected.dispose();
    process.stdout.write(`\rembedding ${s + batch.length}/${paths.length} (${((performance.now() - t) / 1000).toFixed(0)} s)`);
  }
  process.stdout.write('\n');
  projection.dispose();
  model.dispose();
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((o, p) => (all.set(p, o), o + p.length), 0);
  await writeFile(file, all);
  return all;
}

const fmt = (x: number, d = 1) => x.toFixed(d);

async function main(): Promise<void> {
  const ratio = Number(values.ratio);
  const all = await features(Number(values.images));
  const available = all.length / DIMS;
  const rowsOf = (n: number) => {
    if (n > available) throw new Error(`--sizes/--compare ${n} > ${available} rows (${values.images} images × 784): raise --images`);
    return all.subarray(0, n * DIMS);
  };
  console.log(`real WRN50-2 embeddings at ${SIZE}², projected to ${DIMS} dims: ${available} rows; coreset ratio ${ratio}`);

  const n = Number(values.compare);
  const count = Math.floor(n * ratio);
  let t = performance.now();
  const plain = await greedyKCenterHost([rowsOf(n)], DIMS, count, { seed: 0 });
  const plainS = (performance.now() - t) / 1000;
  const stats = newPrunedGreedyStats();
  t = performance.now();
  // As training calls it: free to reorder the rows in place (so on a copy here).
  const pruned = await greedyKCenterPruned([rowsOf(n).slice()], DIMS, count, { seed: 0, stats, reorder: true });
  const prunedS = (performance.now() - t) / 1000;
  const same = plain.length === pruned.length && plain.every((v, i) => v === pruned[i]);
  console.log(`\n${n} rows, ${count} picks: plain ${fmt(plainS)} s, pruned ${fmt(prunedS)} s → ${fmt(plainS / prunedS, 1)}× faster; identical picks: ${same ? 'yes' : 'NO'}`);
  console.log(`  distances computed: plain ${n * (count + 1)}, pruned ${stats.distances} (${fmt((100 * stats.distances) / (n * (count + 1)), 2)} %), rows whose distance went down ${stats.updates}`);
  if (!same) process.exitCode = 1;

  console.log('\npruned greedy alone:');
  console.log('    rows   picks  seconds  s per 100k  distances/pick  pivots');
  const points: { n: number; s: number }[] = [];
  for (const size of values.sizes.split(',').map(Number)) {
    const st = newPrunedGreedyStats();
    const c = Math.floor(size * ratio);
    const copy = rowsOf(size).slice();
    t = performance.now();
    await greedyKCenterPruned([copy], DIMS, c, { seed: 0, stats: st, reorder: true });
    const s = (performance.now() - t) / 1000;
    points.push({ n: size, s });
    console.log(`${String(size).padStart(8)} ${String(c).padStart(7)} ${fmt(s).padStart(8)} ${fmt((s * 100_000) / size).padStart(11)} ${String(Math.round(st.distances / c)).padStart(15)} ${String(st.pivots).padStart(7)}`);
  }
  if (points.length >= 2) {
    const [a, b] = points.slice(-2) as [{ n: number; s: number }, { n: number; s: number }];
    const exponent = Math.log(b.s / a.s) / Math.log(b.n / a.n);
    const miad = b.s * (MIAD_PATCHES / b.n) ** exponent;
    const plainMiad = plainS * (MIAD_PATCHES / n) ** 2;
    console.log(
      `\ntime grows as rows^${fmt(exponent, 2)} between ${a.n} and ${b.n} rows (plain greedy: rows^2). Extrapolated to MIAD's ${MIAD_PATCHES} patches (784k picks): pruned ≈ ${fmt(miad / 3600)} h, plain ≈ ${fmt(plainMiad / 3600)} h on this CPU (ratio ${fmt(plainMiad / miad, 0)}×)`,
    );
  }
}

await main();
