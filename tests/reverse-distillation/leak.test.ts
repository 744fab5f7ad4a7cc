// Reverse Distillation leaks no tensors: 12 training steps (teacher features, bottleneck, student, loss,
// tf.variableGrads, Adam step, dispose, as harness/train-loop.ts runs them) and 6 eval predictions (maps,
// scores and the per-level heat pictures) leave tf.memory().numTensors where it was. Tiny on purpose:
// the ResNet18 pairing at 32×32, batch 2, wasm.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { Adam } from '../../src/main/core/engine/optim/index';
import { resolveRdConfig } from '../../src/main/core/methods/reverse-distillation/config';
import { reverseDistillationImplementation } from '../../src/main/core/methods/reverse-distillation/fit';
import { rdLoss } from '../../src/main/core/methods/reverse-distillation/loss';
import { anomalyMaps } from '../../src/main/core/methods/reverse-distillation/anomaly-map';
import { buildReverseDistillation } from '../../src/main/core/methods/reverse-distillation/model';
import { heatRgb } from '../../src/main/core/methods/components/heat-rgb';
import { randomFeatures } from './helpers';

const SIZE = 32;
const BATCH = 2;
const { config } = resolveRdConfig('fast', { inputSize: SIZE, batchSize: BATCH, seed: 3 });

beforeAll(async () => {
  await initBackend('wasm');
});

describe('Reverse Distillation tensor accounting (ResNet18 pairing, 32×32, batch 2)', () => {
  it('12 training steps and 6 eval predictions leave numTensors unchanged', async () => {
    expect(reverseDistillationImplementation.fit).toBeTypeOf('function');
    const model = buildReverseDistillation(config);
    const optimizer = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8 });
    const batches = Array.from({ length: 3 }, (_, i) => randomFeatures(config, BATCH, SIZE, 100 + i));
    const feats = (k: number) => batches[k % batches.length]!.map((l) => tf.tensor4d(l.data, l.shape));
    const trainStep = async (k: number): Promise<number> => {
      const teacher = feats(k);
      try {
        const { value, grads } = tf.variableGrads(() => rdLoss(teacher, model.forward(teacher).student, config.loss).loss, optimizer.variables());
        try {
          const loss = (await value.data())[0]!;
          optimizer.step(grads);
          return loss;
        } finally {
          value.dispose();
          tf.dispose(grads);
        }
      } finally {
        tf.dispose(teacher);
      }
    };
    try {
      model.train();
      const start = tf.memory().numTensors;
      const first = await trainStep(0);
      // Adam's lazy state: two moments per parameter that got a gradient (conv4/bn4 never do).
      const stepped = model.parameters().length - 3;
      expect(tf.memory().numTensors, 'after the first step: + 2 Adam moments per stepped parameter').toBe(start + 2 * stepped);
      const before = tf.memory().numTensors;
      let last = first;
      for (let k = 1; k <= 12; k++) last = await trainStep(k);
      expect(tf.memory().numTensors, 'after 12 more training steps').toBe(before);
      expect(last, 'the loss went down').toBeLessThan(first);

      model.eval();
      const beforeEval = tf.memory().numTensors;
      for (let k = 0; k < 6; k++) {
        const teacher = feats(k);
        const out = tf.tidy(() => {
          const { maps, scores, levels } = anomalyMaps(teacher, model.forward(teacher).student, SIZE, config);
          return { maps, scores, pictures: levels.map((l) => heatRgb(l)) };
        });
        expect(out.maps.shape).toEqual([BATCH, SIZE, SIZE]);
        expect(out.pictures.map((p) => p.shape)).toEqual(Array(3).fill([BATCH, SIZE, SIZE, 3]));
        const rgb = out.pictures[0]!.dataSync();
        expect(Math.min(...rgb)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...rgb)).toBeLessThanOrEqual(1 + 1e-6);
        tf.dispose([out.maps, out.scores, ...out.pictures, ...teacher]);
      }
      expect(tf.memory().numTensors, 'after 6 predictions').toBe(beforeEval);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
});
