/**
 * FastFlow's pieces on their own (no PyTorch): a block's inverse gives back its input, the
 * permutation is a permutation and its state-dict form is checked when loaded, the presets carry a
 * source for every value and refuse bad overrides, the parameter count is the paper's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { mulberry32 } from '../../src/main/core/engine/random';
import type { DecodedTensor } from '../../src/main/core/engine/safetensors';
import { fastflowCost, fastflowParameterCount, resolveFastflowConfig } from '../../src/main/core/methods/fastflow/config';
import { AllInOneBlock, buildFastFlow, GLOBAL_SCALE_INIT, permutationFromMatrix, permutationMatrix, seededPermutation } from '../../src/main/core/methods/fastflow/model';
import { methodPresets } from '../../src/main/core/methods/registry';
import { fastflowOptimizer } from '../../src/main/core/methods/fastflow/fit';
import { fastflowLoss } from '../../src/main/core/methods/fastflow/loss';
import { anomalyMaps } from '../../src/main/core/methods/fastflow/anomaly-map';
import { heatRgb } from '../../src/main/core/methods/components/heat-rgb';

beforeAll(async () => {
  await initBackend('wasm');
});

function randomTensor(shape: [number, number, number, number], seed: number, scale = 2): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (rand() - 0.5)), shape);
}

describe('FastFlow model pieces', () => {
  it.each([
    [16, 3],
    [16, 1],
    [7, 3],
  ] as const)('inverting an AllInOneBlock (C = %i, %i×%i subnet) gives back its input to 1e-5', (channels, kernel) => {
    const block = new AllInOneBlock(channels, kernel, channels - Math.floor(channels / 2), 2).initialize(3);
    block.syncPermutation(true, 'block');
    // Move the global affine off its identity so the inverse has to undo it.
    tf.tidy(() => {
      block.globalScale.assign(tf.add(block.globalScale, randomTensor([1, channels, 1, 1], 8, 1)));
      block.globalOffset.assign(randomTensor([1, channels, 1, 1], 9, 0.4));
    });
    const x = randomTensor([2, 6, 6, channels], 1);
    try {
      const err = tf.tidy(() => {
        const { y } = block.forward(x);
        const back = block.inverse(y);
        // the block really transforms (not the identity)
        expect(tf.max(tf.abs(tf.sub(y, x))).dataSync()[0]).toBeGreaterThan(1e-2);
        return tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]!;
      });
      expect(err).toBeLessThan(1e-5);
    } finally {
      x.dispose();
      block.dispose();
    }
  });

  it('γ starts at 1, the permutation is a seeded permutation stored as FrEIA’s one-hot w_perm with w_perm_inv its transpose', () => {
    expect(0.2 * Math.log1p(Math.exp(0.5 * GLOBAL_SCALE_INIT))).toBeCloseTo(1, 12);
    const p = seededPermutation(10, 5);
    expect([...p].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seededPermutation(10, 5)).toEqual(p);
    expect(permutationFromMatrix(permutationMatrix(p), 10)).toEqual(p);
    const { config } = resolveFastflowConfig('fast', { inputSize: 32 });
    const model = buildFastFlow(config);
    try {
      const block = model.nfFlows.at(1).moduleList.at(2);
      const c = block.channels;
      const w = block.wPerm.dataSync();
      const wInv = block.wPermInv.dataSync();
      for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) expect(wInv[i * c + j]).toBe(w[j * c + i]);
      expect(block.wPerm.trainable).toBe(false);
      // Two blocks draw different permutations (seeded by their names).
      expect(model.nfFlows.at(1).moduleList.at(3).permutation).not.toEqual(block.permutation);
    } finally {
      model.dispose();
    }
  });

  it('refuses a state dict whose w_perm is not a permutation matrix, or whose w_perm_inv is not its transpose, loading nothing', () => {
    const { config } = resolveFastflowConfig('fast', { inputSize: 32 });
    const model = buildFastFlow(config);
    const other = buildFastFlow({ ...config, seed: 9 });
    try {
      const sd = new Map<string, DecodedTensor>([...other.stateDict()].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data }]));
      const name = 'nf_flows.0.module_list.3';
      const w = sd.get(`${name}.w_perm`)!;
      const broken = new Float32Array(w.data as Float32Array);
      broken[0] = 0.5;
      const before = model.norms.at(0).weight.dataSync()[0];
      expect(() => model.loadStateDict(new Map(sd).set(`${name}.w_perm`, { ...w, data: broken }), { source: 'flows.safetensors' })).toThrow(/flows\.safetensors: nf_flows\.0\.module_list\.3\.w_perm is not a permutation matrix/);
      expect(() => model.loadStateDict(new Map(sd).set(`${name}.w_perm_inv`, sd.get(`${name}.w_perm`)!), { source: 'f' })).toThrow(/w_perm_inv is not the transpose of its w_perm/);
      expect(model.norms.at(0).weight.dataSync()[0]).toBe(before);
      // A good one loads, permutations included.
      model.loadStateDict(sd);
      expect(model.nfFlows.at(0).moduleList.at(3).permutation).toEqual(other.nfFlows.at(0).moduleList.at(3).permutation);
    } finally {
      model.dispose();
      other.dispose();
    }
  });

  it('presets: every value has a source; paper is MIAD A.2.3 with 45.0 M parameters; overrides are checked', () => {
    for (const preset of methodPresets('fastflow')) {
      for (const v of preset.values) expect(v.source, `${preset.name}.${v.key}`).toBeTruthy();
    }
    const { config, sources } = resolveFastflowConfig('paper');
    expect(config).toMatchObject({ backbone: 'wide_resnet50_2', inputSize: 256, batchSize: 32, epochs: 500, learningRate: 1e-3, weightDecay: 1e-5, flowSteps: 8, conv3x3Only: false, clamp: 2 });
    expect(sources.epochs).toMatch(/A\.2\.3/);
    // METHODS.md 2.1: flows 41.34 M + LayerNorm 3.67 M = 45.01 M.
    expect(fastflowParameterCount(config) / 1e6).toBeCloseTo(45.01, 2);
    // ResNet18, 3×3 only at 256: 4.66 M flows + 0.92 M LayerNorm (METHODS.md 2.1).
    expect(fastflowParameterCount({ ...resolveFastflowConfig('fast').config, inputSize: 256 }) / 1e6).toBeCloseTo(4.66 + 0.92, 1);
    // 24.0 backbone + 3 × 48.3 flows (METHODS.md section 0).
    expect(fastflowCost(config).gflopPerImage).toBeGreaterThan(160);
    expect(fastflowCost(config).gflopPerImage).toBeLessThan(175);
    expect(() => resolveFastflowConfig('fast', { inputSize: 40 })).toThrow(/inputSize: must be a multiple of 16/);
    expect(() => resolveFastflowConfig('fast', { epochs: 0 })).toThrow(/set flowWeights too/);
    expect(() => resolveFastflowConfig('fast', { flowWeights: 'relative.safetensors' })).toThrow(/absolute path/);
    expect(() => resolveFastflowConfig('fast', { sigma: 4 })).toThrow(/sigma/);
  });

  it('leaks no tensors: 8 training steps (norms, flows, loss, tf.variableGrads, Adam) and 4 eval predictions leave numTensors where it was', async () => {
    const { config } = resolveFastflowConfig('fast', { inputSize: 32, batchSize: 2, seed: 3 });
    const model = buildFastFlow(config);
    const optimizer = fastflowOptimizer(config, model);
    const feats = (k: number) => [randomTensor([2, 8, 8, 64], 100 + k, 4), randomTensor([2, 4, 4, 128], 200 + k, 4), randomTensor([2, 2, 2, 256], 300 + k, 4)];
    const trainStep = async (k: number): Promise<number> => {
      const x = feats(k % 3);
      try {
        const { value, grads } = tf.variableGrads(() => fastflowLoss(model.forward(x)).loss, optimizer.variables());
        try {
          const loss = (await value.data())[0]!;
          optimizer.step(grads);
          return loss;
        } finally {
          value.dispose();
          tf.dispose(grads);
        }
      } finally {
        tf.dispose(x);
      }
    };
    try {
      model.train();
      const start = tf.memory().numTensors;
      const first = await trainStep(0);
      // Adam's lazy state: two moments per trainable parameter (w_perm and w_perm_inv are not in the optimiser).
      expect(tf.memory().numTensors).toBe(start + 2 * optimizer.variables().length);
      const before = tf.memory().numTensors;
      let last = first;
      for (let k = 1; k <= 8; k++) last = await trainStep(k);
      expect(tf.memory().numTensors, 'after 8 more training steps').toBe(before);
      expect(last, 'the loss went down').toBeLessThan(first);
      model.eval();
      const beforeEval = tf.memory().numTensors;
      for (let k = 0; k < 4; k++) {
        const x = feats(k);
        const out = tf.tidy(() => {
          const { maps, scores, scales } = anomalyMaps(model.forward(x).map((o) => o.z), 32);
          return { maps, scores, pictures: scales.map((m) => heatRgb(tf.add(m, 1) as tf.Tensor3D)) };
        });
        expect(out.maps.shape).toEqual([2, 32, 32]);
        const m = out.maps.dataSync();
        expect(Math.max(...m)).toBeLessThanOrEqual(0);
        expect(Math.min(...m)).toBeGreaterThanOrEqual(-1);
        tf.dispose([out.maps, out.scores, ...out.pictures, ...x]);
      }
      expect(tf.memory().numTensors, 'after 4 predictions').toBe(beforeEval);
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  });
});
