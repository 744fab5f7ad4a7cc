// DRAEM's training batches (methods/draem/inputs.ts) and its tensor accounting: the synthesis is seeded
// by the global step, so a source that starts at step k (a resumed run) gives exactly the batches an
// uninterrupted one gives from step k; the batch of the next step is synthesised ahead, for the indices
// the training loop will ask (its seeded epoch order); and 30 training steps on those batches (loss,
// tf.variableGrads, Adam, dispose, as harness/train-loop.ts runs them) and 10 eval predictions leave
// tf.memory().numTensors where it was. Tiny on purpose: widths 4, 32×32, batch 4, wasm.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { initBackend } from '../../src/main/core/engine/backends';
import { Adam } from '../../src/main/core/engine/optim/index';
import { openTextureSource } from '../../src/main/core/methods/components/anomaly-source';
import { epochOrder } from '../../src/main/core/methods/harness/train-loop';
import { anomalyMaps } from '../../src/main/core/methods/draem/anomaly-map';
import { resolveDraemConfig } from '../../src/main/core/methods/draem/config';
import { SynthesisBatches } from '../../src/main/core/methods/draem/inputs';
import { draemLoss } from '../../src/main/core/methods/draem/loss';
import { buildDraem } from '../../src/main/core/methods/draem/model';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const SIZE = 32;
const BATCH = 4;
const N = 10;
const { config } = resolveDraemConfig('fast', { inputSize: SIZE, batchSize: BATCH, reconstructiveWidth: 4, discriminativeWidth: 4, epochs: 3, seed: 11 });

async function trainImages(): Promise<string[]> {
  const dir = join(await tmp(), 'good');
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < N; i++) {
    const raw = Buffer.alloc(40 * 40 * 3);
    for (let p = 0; p < raw.length; p++) raw[p] = (p * (3 + i)) % 200;
    const path = join(dir, `${String(i).padStart(3, '0')}.png`);
    await writeFile(path, await sharp(raw, { raw: { width: 40, height: 40, channels: 3 } }).png().toBuffer());
    paths.push(path);
  }
  return paths;
}

async function source(paths: string[], startStep: number): Promise<SynthesisBatches> {
  const textures = await openTextureSource({ dir: '', size: SIZE, seed: 0, pool: 20 });
  return new SynthesisBatches({ paths, size: SIZE, textures, settings: config, seed: config.seed, batchSize: BATCH, epochs: config.epochs, startStep });
}

/** The indices train-loop.ts asks for at global step `step`. */
function loopIndices(step: number): number[] {
  const perEpoch = Math.ceil(N / BATCH);
  const epoch = Math.floor(step / perEpoch);
  const b = step % perEpoch;
  return epochOrder(N, config.seed, epoch).slice(b * BATCH, (b + 1) * BATCH);
}

async function values(batch: tf.Tensor4D[]): Promise<Float32Array[]> {
  const out = await Promise.all(batch.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(batch);
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('DRAEM training batches', () => {
  it('are a pure function of the global step: a source resumed at step 4 gives what an uninterrupted one gives', async () => {
    const paths = await trainImages();
    const straight = await source(paths, 0);
    const all: Float32Array[][] = [];
    for (let step = 0; step < 7; step++) {
      expect(straight.predictedIndices(step)).toEqual(loopIndices(step));
      const batch = await straight.batch(loopIndices(step));
      expect(batch.map((t) => t.shape)).toEqual([[loopIndices(step).length, SIZE, SIZE, 3], [loopIndices(step).length, SIZE, SIZE, 3], [loopIndices(step).length, SIZE, SIZE, 1]]);
      all.push(await values(batch));
    }
    // Every batch after the first was ready when asked for (synthesised ahead).
    expect(straight.stats.prefetchHits).toBe(6);
    expect(straight.stats.samples).toBe(all.reduce((a, b) => a + b[2]!.length / (SIZE * SIZE), 0));
    const resumed = await source(paths, 4);
    for (let step = 4; step < 7; step++) expect(await values(await resumed.batch(loopIndices(step)))).toEqual(all[step]);
    // Another step's batch of the same images differs (fresh anomalies every epoch).
    const masks = all.map((b) => b[2]!.reduce((a, v) => a + v, 0));
    expect(new Set(masks).size).toBeGreaterThan(3);
    // The loop asking for other indices than predicted gets them (the prefetched batch is dropped).
    const other = await source(paths, 0);
    const asked = [9, 8, 7, 6];
    const [aug, image, mask] = await values(await other.batch(asked));
    expect(aug).toHaveLength(4 * SIZE * SIZE * 3);
    expect(image).toHaveLength(4 * SIZE * SIZE * 3);
    expect(mask).toHaveLength(4 * SIZE * SIZE);
  });

  it('12 training steps and 10 eval predictions leave numTensors unchanged', async () => {
    const paths = await trainImages();
    const batches = await source(paths, 0);
    const model = buildDraem(config);
    const groups = model.parameterGroups();
    const optimizer = new Adam([{ params: groups.reconstructive }, { params: groups.discriminative }], { lr: 1e-3, eps: 1e-8 });
    const step = async (k: number): Promise<number> => {
      const [augmented, image, mask] = await batches.batch(loopIndices(k));
      try {
        const { value, grads } = tf.variableGrads(() => draemLoss(model, augmented!, image!, mask!).loss, optimizer.variables());
        try {
          const loss = (await value.data())[0]!;
          optimizer.step(grads);
          return loss;
        } finally {
          value.dispose();
          tf.dispose(grads);
        }
      } finally {
        tf.dispose([augmented!, image!, mask!]);
      }
    };
    try {
      model.train();
      const start = tf.memory().numTensors;
      const first = await step(0);
      expect(tf.memory().numTensors, 'after the first step: + 2 Adam moments per parameter').toBe(start + 2 * model.parameters().length);
      const before = tf.memory().numTensors;
      let last = first;
      for (let k = 1; k <= 12; k++) last = await step(k % 9);
      expect(tf.memory().numTensors, 'after 12 more training steps').toBe(before);
      expect(Number.isFinite(last)).toBe(true);
      expect(last, 'the loss went down').toBeLessThan(first);
      model.eval();
      const beforeEval = tf.memory().numTensors;
      for (let k = 0; k < 10; k++) {
        const out = tf.tidy(() => anomalyMaps(model.forward(tf.randomUniform([2, SIZE, SIZE, 3], 0, 1, 'float32', k) as tf.Tensor4D).logits, 21));
        expect(out.maps.shape).toEqual([2, SIZE, SIZE]);
        const scores = await out.scores.data();
        expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
        tf.dispose([out.maps, out.scores]);
      }
      expect(tf.memory().numTensors, 'after 10 eval predictions').toBe(beforeEval);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }, 90_000);
});
