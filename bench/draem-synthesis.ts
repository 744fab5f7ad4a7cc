/**
 * DRAEM's anomaly synthesis (issue 16): does it keep up with training?
 *
 * 1. Throughput, samples/s on one JS thread, at 64 px (fast) and 256 px (paper), by stage: the
 *    texture (procedural generation, or decoding a JPEG of a texture folder), the three augmenters,
 *    the Perlin mask (noise + rotation), the blend (and the normal image's rotation); once with every
 *    texture new (a cold texture cache: the first epoch) and once from the cache.
 * 2. Starvation on this CPU: `fast` training steps (64 px, widths 16/8, batch 8) fed by the synthesis
 *    source (methods/draem/inputs.ts, prefetching the next batch) against the same steps fed by
 *    pre-made tensors; the loss of images/s is what the synthesis costs the training loop here (on
 *    wasm the step holds the JS thread, so synthesis adds its time; on a GPU backend the prefetch runs
 *    while the loop awaits the device).
 * 3. The bar a GPU sets: the images/s a paper step reaches on PyTorch (METHODS.md: ~1,190 GFLOP per
 *    image, ~34 images/s at 40 TFLOP/s) against the 256 px synthesis throughput.
 *
 *   npx tsx bench/draem-synthesis.ts [--samples 64] [--steps 6]
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../src/main/core/engine/backends';
import { Adam } from '../src/main/core/engine/optim/index';
import { mulberry32 } from '../src/main/core/engine/random';
import { openTextureSource, type TextureSource } from '../src/main/core/methods/components/anomaly-source';
import { applyAugmentSteps, rotateUint8 } from '../src/main/core/methods/components/image-augment';
import { loadImageBytes } from '../src/main/core/methods/components/images';
import { proceduralTexture } from '../src/main/core/methods/components/textures';
import { epochOrder } from '../src/main/core/methods/harness/train-loop';
import { draemCost, resolveDraemConfig, type DraemConfig } from '../src/main/core/methods/draem/config';
import { SynthesisBatches } from '../src/main/core/methods/draem/inputs';
import { draemLoss } from '../src/main/core/methods/draem/loss';
import { buildDraem } from '../src/main/core/methods/draem/model';
import { blendAnomaly, drawSynthesis, perlinMask, sampleSeed } from '../src/main/core/methods/draem/synthesis';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/draem.py', import.meta.url));

const { values } = parseArgs({ options: { samples: { type: 'string', default: '64' }, steps: { type: 'string', default: '6' } } });
const SAMPLES = Number(values.samples);
const STEPS = Number(values.steps);

type Stage = 'texture' | 'augment' | 'mask' | 'blend';

/** Samples/s of the synthesis with per-stage seconds, as inputs.ts runs it (stages timed apart). */
async function throughput(config: DraemConfig, normals: Uint8Array[], textures: TextureSource, label: string): Promise<string> {
  const size = config.inputSize;
  const secs: Record<Stage, number> = { texture: 0, augment: 0, mask: 0, blend: 0 };
  const t0 = performance.now();
  for (let k = 0; k < SAMPLES; k++) {
    const draws = drawSynthesis(mulberry32(sampleSeed(config.seed, 0, k)), config, textures.count);
    let t = performance.now();
    const texture = await textures.texture(draws.textureIndex);
    secs.texture += (performance.now() - t) / 1000;
    t = performance.now();
    const aug = applyAugmentSteps(texture, size, size, draws.augment);
    secs.augment += (performance.now() - t) / 1000;
    t = performance.now();
    const mask = draws.anomalous ? perlinMask(size, draws, config.perlinThreshold) : null;
    secs.mask += (performance.now() - t) / 1000;
    t = performance.now();
    const normal = normals[k % normals.length]!;
    const rotated = draws.rotateImage === null ? normal : rotateUint8(normal, size, size, 3, draws.rotateImage);
    const image = Float32Array.from(rotated, (v) => v / 255);
    if (mask) blendAnomaly(image, aug, mask, draws.beta);
    secs.blend += (performance.now() - t) / 1000;
  }
  const total = (performance.now() - t0) / 1000;
  const share = (s: Stage) => `${s} ${((100 * secs[s]) / total).toFixed(0)} %`;
  return `| ${label} | ${size} | ${(SAMPLES / total).toFixed(1)} | ${((1000 * total) / SAMPLES).toFixed(1)} | ${(['texture', 'augment', 'mask', 'blend'] as Stage[]).map(share).join(', ')} |`;
}

/**
 * Samples/s of the mask and the blend alone (Perlin noise on a random lattice, its rotation, the
 * threshold, the blend), every sample anomalous: what scripts/reference/draem.py bench-synth times
 * for the official numpy code, so the two compare.
 */
function maskBlendSpeed(size: number, n: number): number {
  const { config } = resolveDraemConfig('fast', { inputSize: size, anomalyProbability: 1 });
  const rand = mulberry32(3);
  const image = Float32Array.from({ length: size * size * 3 }, () => rand());
  const texture = Uint8Array.from({ length: size * size * 3 }, () => Math.floor(rand() * 256));
  const one = (k: number) => {
    const draws = drawSynthesis(mulberry32(sampleSeed(7, 0, k)), config, 1);
    blendAnomaly(image, texture, perlinMask(size, draws, config.perlinThreshold), draws.beta);
  };
  one(-1);
  const t0 = performance.now();
  for (let k = 0; k < n; k++) one(k);
  return n / ((performance.now() - t0) / 1000);
}

async function referenceMaskBlend(size: number, n: number): Promise<number> {
  const { stdout } = await runPython([SCRIPT, 'bench-synth', '--size', String(size), '--iters', String(n)], 600_000);
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { samples_per_s: number }).samples_per_s;
}

async function torchTrainSpeed(config: DraemConfig, threads: number): Promise<number> {
  const { stdout } = await runPython(
    [SCRIPT, 'bench', '--size', String(config.inputSize), '--rec-width', String(config.reconstructiveWidth), '--seg-width', String(config.discriminativeWidth), '--batch-size', String(config.batchSize), '--threads', String(threads), '--iters', '3'],
    600_000,
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

/** images/s of `STEPS` fast training steps fed by `next` (after one warm-up step). */
async function trainSpeed(config: DraemConfig, next: (step: number) => Promise<tf.Tensor4D[]>): Promise<number> {
  const model = buildDraem(config);
  const groups = model.parameterGroups();
  const opt = new Adam([{ params: groups.reconstructive }, { params: groups.discriminative }], { lr: config.learningRate, eps: 1e-8 });
  model.train();
  const step = async (k: number) => {
    // As train-loop.ts: a turn of the event loop, the batch, the step.
    await new Promise<void>((r) => setImmediate(r));
    const [a, b, m] = await next(k);
    const { value, grads } = tf.variableGrads(() => draemLoss(model, a!, b!, m!).loss, opt.variables());
    await value.data();
    opt.step(grads);
    tf.dispose([value, a!, b!, m!, ...Object.values(grads)]);
  };
  try {
    await step(0);
    const t0 = performance.now();
    for (let k = 1; k <= STEPS; k++) await step(k);
    return (STEPS * config.batchSize) / ((performance.now() - t0) / 1000);
  } finally {
    opt.dispose();
    model.dispose();
  }
}

async function main(): Promise<void> {
  await initBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'bench-draem-synth-'));
  try {
    await generateMiadMini({ outDir: join(dir, 'mini'), scenarios: ['metal_welding'], train: 32, test: 2, size: 256, seed: 1 });
    const trainDir = join(dir, 'mini', 'metal_welding', 'train', 'good');
    const paths = Array.from({ length: 32 }, (_, i) => join(trainDir, `${String(i).padStart(3, '0')}.png`));
    // A texture folder as DTD lays it out: JPEGs of procedural textures at 640×480 (DTD's are 300–640 px).
    const dtd = join(dir, 'dtd', 'images', 'generated');
    await mkdir(dtd, { recursive: true });
    for (let i = 0; i < 24; i++) {
      const t = proceduralTexture(480, 1000 + i);
      await writeFile(join(dtd, `generated_${i}.jpg`), await sharp(Buffer.from(t), { raw: { width: 480, height: 480, channels: 3 } }).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer());
    }

    console.log(`DRAEM synthesis throughput, one JS thread, ${SAMPLES} samples per row (samples/s, ms/sample, share of the time per stage)`);
    console.log('| source | px | samples/s | ms/sample | stages |');
    console.log('|---|---|---|---|---|');
    for (const preset of ['fast', 'paper'] as const) {
      const { config } = resolveDraemConfig(preset);
      const size = config.inputSize;
      const normals = await Promise.all(paths.map((p) => loadImageBytes(p, size)));
      // Cold: every sample draws a texture the cache has not seen (pool ≫ samples).
      console.log(await throughput(config, normals, await openTextureSource({ dir: '', size, seed: 1, pool: 1_000_000 }), 'procedural, new textures'));
      const warm = await openTextureSource({ dir: '', size, seed: 1, pool: 4 });
      for (let i = 0; i < 4; i++) await warm.texture(i);
      console.log(await throughput(config, normals, warm, 'procedural, cached textures'));
      console.log(await throughput(config, normals, await openTextureSource({ dir: join(dir, 'dtd'), size, seed: 0, pool: 0, cacheBytes: 0 }), 'texture folder, JPEG decoded each time'));
    }

    const torch = await assertTorch();
    console.log(`\nmask + blend only (Perlin noise, rotation, threshold, blend; every sample anomalous), one thread, beside the official numpy code (scripts/reference/draem.py bench-synth; skimage's rotation for imgaug's) in the same run:`);
    console.log('| px | ours samples/s | numpy samples/s | ours / numpy |');
    console.log('|---|---|---|---|');
    for (const [size, n] of [[64, Math.max(SAMPLES, 200)], [256, Math.max(SAMPLES / 2, 30)]] as const) {
      const ours = maskBlendSpeed(size, n);
      const ref = await referenceMaskBlend(size, n);
      console.log(`| ${size} | ${ours.toFixed(1)} | ${ref.toFixed(1)} | ${(ours / ref).toFixed(2)} |`);
    }

    const { config } = resolveDraemConfig('fast');
    const textures = await openTextureSource({ dir: '', size: config.inputSize, seed: 0, pool: config.proceduralTextures });
    const source = new SynthesisBatches({ paths, size: config.inputSize, textures, settings: config, seed: config.seed, batchSize: config.batchSize, epochs: 1000, startStep: 0 });
    const perEpoch = Math.ceil(paths.length / config.batchSize);
    const indices = (step: number) => epochOrder(paths.length, config.seed, Math.floor(step / perEpoch)).slice((step % perEpoch) * config.batchSize, ((step % perEpoch) + 1) * config.batchSize);
    const fed = await trainSpeed(config, (k) => source.batch(indices(k)));
    const premade = await source.synthesise(0, indices(0));
    const b = config.batchSize;
    const s = config.inputSize;
    const plain = await trainSpeed(config, async () => [tf.tensor4d(premade.augmented, [b, s, s, 3]), tf.tensor4d(premade.image, [b, s, s, 3]), tf.tensor4d(premade.mask, [b, s, s, 1])]);
    const st = source.stats;
    console.log(`\nfast training (64 px, widths 16/8, batch ${b}), ${STEPS} steps after a warm-up, wasm:`);
    console.log('| fed by | images/s |');
    console.log('|---|---|');
    console.log(`| pre-made tensors | ${plain.toFixed(2)} |`);
    console.log(`| the synthesis source (prefetching) | ${fed.toFixed(2)} (${((100 * (plain - fed)) / plain).toFixed(1)} % slower) |`);
    console.log(
      `synthesis while training: ${st.samples} samples in ${st.seconds.toFixed(2)} s (${(st.samples / st.seconds).toFixed(0)} samples/s), ` +
        `the loop waited ${st.waitSeconds.toFixed(3)} s for batches, ${st.prefetchHits}/${st.batches} batches ready when asked for`,
    );
    const torchFast = await torchTrainSpeed(config, 2);
    console.log(`PyTorch ${torch} (2 threads) trains the same fast shape at ${torchFast.toFixed(2)} images/s: the synthesis above runs ${(st.samples / st.seconds / torchFast).toFixed(1)}× faster than that, on one thread.`);
    const paperGflop = draemCost(resolveDraemConfig('paper').config).gflopPerImage;
    console.log(`\nA paper step costs ${paperGflop.toFixed(0)} GFLOP per image: ${(40_000 / paperGflop).toFixed(0)} images/s at 40 TFLOP/s (PyTorch fp32 on a large GPU, METHODS.md), ${(2_000 / paperGflop).toFixed(1)} at 2 TFLOP/s (tfjs webgpu).`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
