// The Auto-Encoder leaks no tensors: 100 training steps (loss, tf.variableGrads, Adam step, dispose, as
// harness/train-loop.ts runs them) and 10 eval predictions leave tf.memory().numTensors where it was.
// Tiny on purpose: base width 4, bottleneck 2, 32×32, batch 2, wasm.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { Adam } from '../../src/main/core/engine/optim/index';
import { resolveAutoencoderConfig } from '../../src/main/core/methods/autoencoder/config';
import { buildAutoencoder, normalizeInput } from '../../src/main/core/methods/autoencoder/model';
import { reconstructionLoss } from '../../src/main/core/methods/autoencoder/loss';
import { anomalyMaps } from '../../src/main/core/methods/autoencoder/anomaly-map';
import { randomImages } from './helpers';

const SIZE = 32;
const BATCH = 2;
const { config } = resolveAutoencoderConfig('fast', { inputSize: SIZE, batchSize: BATCH, baseWidth: 4, latentChannels: 2, sigma: 4, seed: 3 });

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Auto-Encoder tensor accounting (base width 4, 32×32, batch 2)', () => {
  it('100 training steps and 10 eval predictions leave numTensors unchanged', async () => {
    const model = buildAutoencoder(config);
    const optimizer = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8, weightDecay: config.weightDecay });
    const images = Array.from({ length: 4 }, (_, i) => randomImages(BATCH, SIZE, 100 + i));
    const trainStep = async (k: number): Promise<number> => {
      const x = tf.tensor4d(images[k % images.length]!, [BATCH, SIZE, SIZE, 3]);
      try {
        const { value, grads } = tf.variableGrads(() => {
          const xn = normalizeInput(x, config);
          return reconstructionLoss(model.forward(xn), xn);
        }, optimizer.variables());
        try {
          const loss = (await value.data())[0]!;
          optimizer.step(grads);
          return loss;
        } finally {
          value.dispose();
          tf.dispose(grads);
        }
      } finally {
        x.dispose();
      }
    };
    try {
      model.train();
      const start = tf.memory().numTensors;
      const first = await trainStep(0);
      // The first step creates Adam's state (exp_avg, exp_avg_sq per parameter), as torch's lazy state.
      expect(tf.memory().numTensors, 'after the first step: + 2 Adam moments per parameter').toBe(start + 2 * model.parameters().length);
      const before = tf.memory().numTensors;
      let last = first;
      for (let k = 1; k <= 100; k++) last = await trainStep(k);
      expect(tf.memory().numTensors, 'after 100 more training steps').toBe(before);
      expect(Number.isFinite(last)).toBe(true);
      expect(last, 'the loss went down').toBeLessThan(first);

      model.eval();
      const beforeEval = tf.memory().numTensors;
      for (let k = 0; k < 10; k++) {
        const out = tf.tidy(() => {
          const x = normalizeInput(tf.tensor4d(images[k % images.length]!, [BATCH, SIZE, SIZE, 3]), config);
          return anomalyMaps(model.forward(x), x, config.sigma);
        });
        expect(out.maps.shape).toEqual([BATCH, SIZE, SIZE]);
        expect((await out.scores.data()).every(Number.isFinite)).toBe(true);
        tf.dispose([out.maps, out.scores]);
      }
      expect(tf.memory().numTensors, 'after 10 eval predictions').toBe(beforeEval);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }, 60_000);
});
