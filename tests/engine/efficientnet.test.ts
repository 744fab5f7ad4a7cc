// EfficientNet-B4: timm's tensor names and torchvision's parameter count, UniAD's levels (strides
// 2/4/8/16/32, 24+32+56+160 = 272 channels), refusal of weights that do not fit, seeded init, no
// tensor leaks, and its registration beside the ResNets (index.ts, the weights manager).
// Numerical agreement with torchvision is efficientnet-parity.test.ts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import {
  EfficientNetBackbone,
  EFFICIENTNET_LAYERS,
  UNIAD_LAYERS,
  efficientNetChannels,
  efficientNetParameters,
  randomEfficientNetWeights,
} from '../../src/main/core/engine/backbones/efficientnet';
import { architectureParameters, backboneChannels, backboneLayers, backboneStrides, buildBackbone, float32Bytes, isBuiltArch, normalizeImageNet, randomWeights } from '../../src/main/core/engine/backbones/index';
import { decodeSafetensors, encodeSafetensors, writeSafetensors, type DecodedTensor } from '../../src/main/core/engine/safetensors';
import { WeightsManager } from '../../src/main/core/engine/weights';

const ARCH = 'efficientnet_b4' as const;
let tensors: Map<string, DecodedTensor>;
let dir = '';

beforeAll(async () => {
  await initBackend('wasm');
  tensors = decodeSafetensors(encodeSafetensors(randomEfficientNetWeights(ARCH, 1, { randomBatchNorm: true }))).tensors;
  dir = await mkdtemp(join(tmpdir(), 'effnet-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function without(prefix: RegExp): Map<string, DecodedTensor> {
  return new Map([...tensors].filter(([name]) => !prefix.test(name)));
}

describe('EfficientNet-B4 backbone', () => {
  it("has timm's names and torchvision's parameter count (19,341,616) and UniAD's channels", () => {
    const params = efficientNetParameters(ARCH);
    let n = 0;
    for (const [name, spec] of params) if (!/running_|num_batches/.test(name)) n += spec.shape.reduce((a, b) => a * b, 1);
    expect(n).toBe(19_341_616);
    // 2 + 4 + 4 + 6 + 6 + 8 + 2 blocks (B0's repeats × 1.8, rounded up).
    const blocks = new Set([...params.keys()].filter((k) => k.startsWith('blocks.')).map((k) => k.split('.').slice(0, 3).join('.')));
    expect(blocks.size).toBe(32);
    expect(params.get('conv_stem.weight')?.shape).toEqual([48, 3, 3, 3]);
    expect(params.get('blocks.0.0.conv_dw.weight')?.shape).toEqual([48, 1, 3, 3]);
    expect(params.get('blocks.0.0.se.conv_reduce.weight')?.shape).toEqual([12, 48, 1, 1]);
    expect(params.get('blocks.0.0.conv_pw.weight')?.shape).toEqual([24, 48, 1, 1]);
    expect(params.get('blocks.2.0.conv_dw.weight')?.shape).toEqual([192, 1, 5, 5]);
    expect(params.get('blocks.2.0.se.conv_reduce.weight')?.shape).toEqual([8, 192, 1, 1]);
    expect(params.get('blocks.6.1.conv_pwl.weight')?.shape).toEqual([448, 2688, 1, 1]);
    expect(params.get('blocks.6.1.bn3.running_var')?.shape).toEqual([448]);
    expect(params.get('conv_head.weight')).toMatchObject({ shape: [1792, 448, 1, 1], optional: true });
    expect(params.get('classifier.weight')).toMatchObject({ shape: [1000, 1792], optional: true });
    expect(efficientNetChannels(ARCH)).toEqual({ layer1: 24, layer2: 32, layer3: 56, layer4: 160, layer5: 448 });
    expect(UNIAD_LAYERS.reduce((s, l) => s + efficientNetChannels(ARCH)[l], 0)).toBe(272);
  });

  it("returns NHWC features at strides 2/4/8/16/32 (UniAD's four by default) and only the layers asked for", () => {
    const model = EfficientNetBackbone.fromTensors(ARCH, tensors);
    try {
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => model.forward(tf.zeros([2, 64, 48, 3]) as tf.Tensor4D));
      expect(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape]))).toEqual({
        layer1: [2, 32, 24, 24],
        layer2: [2, 16, 12, 32],
        layer3: [2, 8, 6, 56],
        layer4: [2, 4, 3, 160],
      });
      for (const t of Object.values(out)) expect(Number.isFinite(tf.tidy(() => tf.max(t).dataSync()[0] as number))).toBe(true);
      tf.dispose(Object.values(out));
      // Odd sizes: torch's k//2 padding gives ⌈n/2⌉ at each stride-2 step.
      const deep = model.forward(tf.zeros([1, 33, 17, 3]) as tf.Tensor4D, ['layer5', 'layer2']);
      expect(Object.keys(deep).sort()).toEqual(['layer2', 'layer5']);
      expect(deep.layer2?.shape).toEqual([1, 9, 5, 32]);
      expect(deep.layer5?.shape).toEqual([1, 2, 1, 448]);
      tf.dispose(Object.values(deep));
      // Nothing but the returned tensors survives a pass (the zeros inputs were made outside tidy above).
      expect(tf.memory().numTensors - before).toBe(1);
      expect(() => model.forward(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D)).toThrow(/input must be \[batch, h, w, 3\]/);
      expect(() => model.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, ['layer6' as 'layer1'])).toThrow(/unknown layer "layer6"/);
    } finally {
      model.dispose();
    }
  });

  it('leaks no tensor across passes and frees its weights on dispose', () => {
    const start = tf.memory().numTensors;
    const model = EfficientNetBackbone.fromTensors(ARCH, tensors);
    const weights = tf.memory().numTensors - start;
    // stem 2 + 2 DS blocks × (dw 2 + SE 4 + project 2) + 30 IR blocks × (expand 2 + dw 2 + SE 4 + project 2)
    expect(weights).toBe(2 + 2 * 8 + 30 * 10);
    const x = tf.randomUniform([1, 40, 40, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    for (let i = 0; i < 2; i++) {
      const out = tf.tidy(() => model.forward(normalizeImageNet(x), EFFICIENTNET_LAYERS));
      expect(Object.keys(out)).toHaveLength(5);
      tf.dispose(Object.values(out));
      expect(tf.memory().numTensors).toBe(start + weights + 1);
    }
    x.dispose();
    model.dispose();
    model.dispose(); // idempotent
    expect(tf.memory().numTensors).toBe(start);
    expect(() => model.forward(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D)).toThrow(/was disposed/);
  });

  it('needs no classifier head, but refuses a missing or misshapen tensor by name, and ResNet weights', () => {
    const headless = without(/^(conv_head|bn2|classifier)\./);
    expect(headless.size).toBeLessThan(tensors.size);
    const model = EfficientNetBackbone.fromTensors(ARCH, headless);
    model.dispose();
    expect(() => EfficientNetBackbone.fromTensors(ARCH, without(/^blocks\.4\.5\.se\.conv_expand\.bias$/))).toThrow(
      /weights do not fit efficientnet_b4: tensor 'blocks\.4\.5\.se\.conv_expand\.bias' is missing/,
    );
    const bad = new Map(tensors);
    bad.set('blocks.1.0.conv_dw.weight', { dtype: 'F32', shape: [144, 1, 5, 5], data: new Float32Array(144 * 25) });
    expect(() => EfficientNetBackbone.fromTensors(ARCH, bad)).toThrow(/tensor 'blocks\.1\.0\.conv_dw\.weight' has shape \[144, 1, 5, 5\], expected \[144, 1, 3, 3\]/);
    const resnet = decodeSafetensors(encodeSafetensors(randomWeights('resnet18', 1))).tensors;
    expect(() => EfficientNetBackbone.fromTensors(ARCH, resnet)).toThrow(/tensor 'conv_stem\.weight' is missing.*and \d+ more/);
  });

  it("draws timm's initialisation from the seed: the same seed gives the same weights, another seed others", () => {
    // `tensors` (seed 1, random BN) drawn again, and a default draw with another seed.
    const again = randomEfficientNetWeights(ARCH, 1, { randomBatchNorm: true });
    const a = randomEfficientNetWeights(ARCH, 7);
    const w = (m: typeof a, n: string) => m.get(n)?.data as Float32Array;
    for (const name of ['blocks.3.2.conv_pw.weight', 'blocks.3.2.bn1.running_var', 'blocks.6.1.se.conv_expand.bias']) {
      expect(w(again, name), name).toEqual(tensors.get(name)?.data);
      expect(w(a, name), name).not.toEqual(tensors.get(name)?.data);
    }
    // std √(2/fan_out): fan_out = k·k·out for a dense conv (3·3·48 for the stem), k·k for a depthwise one.
    const std = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(std(w(a, 'blocks.6.0.conv_pwl.weight'))).toBeCloseTo(Math.sqrt(2 / 448), 3);
    expect(std(w(a, 'blocks.5.0.conv_dw.weight'))).toBeGreaterThan(0.8 * Math.sqrt(2 / 25));
    expect(std(w(a, 'blocks.5.0.conv_dw.weight'))).toBeLessThan(1.2 * Math.sqrt(2 / 25));
    // Identity BN and zero SE biases unless asked for random ones.
    expect([...w(a, 'blocks.2.1.bn2.weight')].every((v) => v === 1)).toBe(true);
    expect([...w(a, 'blocks.2.1.se.conv_reduce.bias')].every((v) => v === 0)).toBe(true);
    expect([...(tensors.get('blocks.2.1.se.conv_reduce.bias')?.data as Float32Array)].some((v) => v !== 0)).toBe(true);
  });

  it('is registered beside the ResNets: index.ts builds it by name and the weights manager checks its files', async () => {
    expect(isBuiltArch(ARCH)).toBe(true);
    expect(backboneLayers(ARCH)).toEqual(EFFICIENTNET_LAYERS);
    expect(backboneStrides(ARCH)).toEqual({ layer1: 2, layer2: 4, layer3: 8, layer4: 16, layer5: 32 });
    expect(backboneChannels(ARCH)).toEqual(efficientNetChannels(ARCH));
    expect(backboneChannels('resnet18')).toEqual({ layer1: 64, layer2: 128, layer3: 256, layer4: 512 });
    expect(architectureParameters(ARCH)?.size).toBe(efficientNetParameters(ARCH).size);
    expect(Math.round(float32Bytes(ARCH) / 1e6)).toBe(78); // Hugging Face lists model.safetensors as 77.9 MB
    const backbone = buildBackbone(ARCH, tensors);
    try {
      const out = tf.tidy(() => backbone.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, ['layer4']));
      expect(out.layer4?.shape).toEqual([1, 2, 2, 160]);
      tf.dispose(Object.values(out));
    } finally {
      backbone.dispose();
    }

    const ws = join(dir, 'ws');
    const manager = new WeightsManager({ workspaceDir: ws, fetchImpl: () => Promise.reject(new Error('no network in this test')) });
    const random = await manager.writeRandom(ARCH, 3);
    const stored = await manager.import('efficientnet_b4.ra2_in1k', random.path);
    expect(stored.local).toMatchObject({ source: 'import', structure: 'checked' });
    expect((await manager.verify('efficientnet_b4.ra2_in1k')).ok).toBe(true);
    const wrong = join(dir, 'resnet18.safetensors');
    await writeSafetensors(wrong, randomWeights('resnet18', 1));
    await expect(manager.import('efficientnet_b4.ra2_in1k', wrong)).rejects.toThrow(/cannot be imported as efficientnet_b4\.ra2_in1k: tensor 'conv_stem\.weight' is missing/);
  });
});
