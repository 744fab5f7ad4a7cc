// UniAD's model and config without PyTorch: the neighbour mask really blocks a token's 7×7 neighbourhood
// (its attention weights there are exactly 0, and positive elsewhere), the paper model's size and
// parameter names match the official state dict's, presets name a source for every value, and bad
// settings are refused with a message that says why.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { mulberry32 } from '../../src/main/core/engine/random';
import { UNIAD_PRESETS, resolveUniadConfig, uniadParameterCount } from '../../src/main/core/methods/uniad/config';
import { buildUniad, neighbourMask } from '../../src/main/core/methods/uniad/model';
import { anomalyMaps } from '../../src/main/core/methods/uniad/anomaly-map';
import { uniadTrainLoss } from '../../src/main/core/methods/uniad/fit';
import { AdamW, clipGradNorm } from '../../src/main/core/engine/optim/index';
import { methodPresets } from '../../src/main/core/methods/registry';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('UniAD neighbour mask', () => {
  it('gives a centre token exactly zero attention on its 7×7 neighbourhood and positive attention elsewhere', () => {
    const { config } = resolveUniadConfig('paper', { hiddenDim: 32, heads: 4, encoderLayers: 1, decoderLayers: 1, feedforward: 32, seed: 3 });
    // Eval mode: attention dropout (0.1 here) would zero weights outside the neighbourhood too.
    const model = buildUniad(config).eval();
    try {
      const side = 14;
      const L = side * side;
      const mask = model.mask!;
      expect(mask.shape).toEqual([L, L]);
      const attn = model.transformer.encoder.layers.at(0).selfAttn;
      const rand = mulberry32(1);
      const x = tf.tensor3d(Float32Array.from({ length: 2 * L * 32 }, () => rand() * 4 - 2), [2, L, 32]);
      const weights = tf.tidy(() => attn.forwardWithWeights(x, x, x, { attnMask: mask }).weights);
      const w = weights.arraySync() as number[][][][];
      const ci = 7;
      const cj = 7;
      const centre = ci * side + cj;
      let zeros = 0;
      for (let b = 0; b < 2; b++) {
        for (let h = 0; h < 4; h++) {
          const row = w[b]![h]![centre]!;
          for (let k = 0; k < L; k++) {
            const [ki, kj] = [Math.floor(k / side), k % side];
            const inside = Math.abs(ki - ci) <= 3 && Math.abs(kj - cj) <= 3;
            if (inside) {
              expect(row[k]).toBe(0);
              zeros++;
            } else expect(row[k]).toBeGreaterThan(0);
          }
          expect(row.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
        }
      }
      expect(zeros).toBe(2 * 4 * 49);
      tf.dispose([x, weights]);
    } finally {
      model.dispose();
    }
  });

  it('clips the neighbourhood at the borders and leaves every token 147–180 of 196 keys (METHODS 5.1)', () => {
    const m = neighbourMask(14, 14, 7);
    const allowed: number[] = [];
    for (let q = 0; q < 196; q++) {
      let n = 0;
      for (let k = 0; k < 196; k++) if (m[q * 196 + k] === 0) n++;
      allowed.push(n);
    }
    expect(Math.min(...allowed)).toBe(147);
    expect(Math.max(...allowed)).toBe(180);
    // Corner token (0, 0): its clipped neighbourhood is 4 × 4.
    expect(allowed[0]).toBe(196 - 16);
    // 8 × 8 grid (the fast preset): the centre tokens keep 64 − 49 = 15 keys.
    const small = neighbourMask(8, 8, 7);
    let min = 64;
    for (let q = 0; q < 64; q++) min = Math.min(min, small.subarray(q * 64, (q + 1) * 64).filter((v) => v === 0).length);
    expect(min).toBe(15);
  });
});

describe('UniAD model and config', () => {
  it('has the official parameter count and state-dict names at the paper size', () => {
    const { config } = resolveUniadConfig('paper');
    expect(uniadParameterCount(config)).toBe(7_717_392);
    const model = buildUniad(config);
    try {
      expect(model.parameters().reduce((a, p) => a + p.size, 0)).toBe(7_717_392);
      const names = model.namedParameters().map(([n]) => n);
      expect(names.slice(0, 4)).toEqual(['pos_embed.row_embed.weight', 'pos_embed.col_embed.weight', 'transformer.encoder.layers.0.self_attn.in_proj_weight', 'transformer.encoder.layers.0.self_attn.in_proj_bias']);
      expect(names).toContain('transformer.decoder.layers.3.learned_embed.weight');
      expect(names).toContain('transformer.decoder.layers.3.multihead_attn.out_proj.weight');
      expect(names).toContain('transformer.decoder.norm.weight');
      expect(names.slice(-4)).toEqual(['input_proj.weight', 'input_proj.bias', 'output_proj.weight', 'output_proj.bias']);
      expect(names.some((n) => n.startsWith('transformer.encoder.norm'))).toBe(false);
    } finally {
      model.dispose();
    }
  });

  it('names a source for every preset value, with the paper’s A.2.6 values', () => {
    for (const preset of methodPresets('uniad')) {
      for (const v of preset.values) expect(v.source.length, `${preset.name}.${v.key}`).toBeGreaterThan(2);
    }
    const { config, sources } = resolveUniadConfig('paper');
    expect([config.inputSize, config.batchSize, config.epochs, config.lrStepEpochs, config.learningRate, config.weightDecay]).toEqual([224, 64, 500, 400, 1e-4, 1e-4]);
    expect(sources.epochs).toMatch(/MIAD A\.2\.6/);
    expect(sources.clipMaxNorm).toMatch(/config\.yaml/);
    expect(UNIAD_PRESETS).toContain('fast');
  });

  it('refuses settings that cannot work, saying why', () => {
    expect(() => resolveUniadConfig('fast', { inputSize: 64 })).toThrow(/4×4 token grid.*blocks every key/);
    expect(() => resolveUniadConfig('fast', { inputSize: 100 })).toThrow(/multiple of 16/);
    expect(() => resolveUniadConfig('fast', { hiddenDim: 30, heads: 4 })).toThrow(/divisible by heads/);
    expect(() => resolveUniadConfig('fast', { epochs: 0 })).toThrow(/modelWeights/);
    expect(() => resolveUniadConfig('fast', { nope: 1 })).toThrow(/nope/);
    // Without the mask a 4 × 4 grid is fine.
    expect(resolveUniadConfig('fast', { inputSize: 64, neighborMask: [false, false, false] }).config.inputSize).toBe(64);
  });
});

describe('UniAD tensors', () => {
  it('leaks no tensor across training steps (jitter, dropout, clipping, AdamW) and predictions', async () => {
    const { config } = resolveUniadConfig('fast', { hiddenDim: 16, heads: 2, encoderLayers: 1, decoderLayers: 1, feedforward: 16 });
    const model = buildUniad(config);
    const opt = new AdamW(model.namedParameters(), { lr: 1e-3, weightDecay: 1e-4 });
    const rand = mulberry32(4);
    const x = tf.tensor4d(Float32Array.from({ length: 2 * 8 * 8 * 272 }, () => rand()), [2, 8, 8, 272]);
    try {
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        model.train();
        const { value, grads } = tf.variableGrads(() => uniadTrainLoss(model, x, { seed: i }, config), opt.variables());
        clipGradNorm(grads, config.clipMaxNorm);
        opt.step(grads);
        tf.dispose([value, ...Object.values(grads)]);
        model.eval();
        const out = tf.tidy(() => anomalyMaps(model.forward(x), x, config.scorePool));
        expect(out.maps.shape).toEqual([2, 128, 128]);
        expect(out.scores.shape).toEqual([2]);
        tf.dispose([out.maps, out.scores]);
        counts.push(tf.memory().numTensors);
      }
      expect(counts[2]).toBe(counts[1]);
    } finally {
      x.dispose();
      opt.dispose();
      model.dispose();
    }
  });
});
