// ResNet backbones: torchvision's parameter counts, output shapes and strides, BN folding against
// an unfolded reference, refusal of weights that do not fit, and no tensor leaks across passes.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { ResNetBackbone, normalizeImageNet, randomResNetWeights, resnetParameters, resnetChannels } from '../../src/main/core/engine/backbones/resnet';
import { decodeSafetensors, encodeSafetensors, type DecodedTensor } from '../../src/main/core/engine/safetensors';

function decoded(arch: 'resnet18' | 'wide_resnet50_2', seed: number, randomBatchNorm = false): Map<string, DecodedTensor> {
  return decodeSafetensors(encodeSafetensors(randomResNetWeights(arch, seed, { randomBatchNorm }))).tensors;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('ResNet backbones', () => {
  it("has torchvision's parameter counts (11,689,512 and 68,883,240)", () => {
    const count = (arch: 'resnet18' | 'wide_resnet50_2') => {
      let n = 0;
      for (const [name, spec] of resnetParameters(arch)) {
        if (/running_|num_batches/.test(name)) continue; // buffers, not parameters
        n += spec.shape.reduce((a, b) => a * b, 1);
      }
      return n;
    };
    expect(count('resnet18')).toBe(11_689_512);
    expect(count('wide_resnet50_2')).toBe(68_883_240);
    expect(resnetChannels('wide_resnet50_2')).toEqual({ layer1: 256, layer2: 512, layer3: 1024, layer4: 2048 });
  });

  it('returns NHWC features at strides 4/8/16/32 and only the layers asked for', () => {
    const model = ResNetBackbone.fromTensors('resnet18', decoded('resnet18', 1));
    try {
      const out = tf.tidy(() => model.forward(tf.zeros([2, 64, 48, 3]) as tf.Tensor4D));
      expect(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.shape]))).toEqual({
        layer1: [2, 16, 12, 64],
        layer2: [2, 8, 6, 128],
        layer3: [2, 4, 3, 256],
        layer4: [2, 2, 2, 512],
      });
      tf.dispose(Object.values(out));
      const some = model.forward(tf.zeros([1, 32, 32, 3]) as tf.Tensor4D, ['layer2']);
      expect(Object.keys(some)).toEqual(['layer2']);
      tf.dispose(Object.values(some));
      expect(() => model.forward(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D)).toThrow(/input must be \[batch, h, w, 3\]/);
    } finally {
      model.dispose();
    }
  });

  it('folds batch norm exactly: the stem equals conv → BN → ReLU computed unfolded', () => {
    const tensors = decoded('resnet18', 2, true);
    const model = ResNetBackbone.fromTensors('resnet18', tensors);
    try {
      const x = tf.randomUniform([1, 16, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const get = (n: string) => tensors.get(n)!.data as Float32Array;
      // Reference: the stem as torch computes it (conv, then BN in eval mode, ReLU, max-pool), unfolded.
      const stemRef = tf.tidy(() => {
        const w = tf.transpose(tf.tensor4d(get('conv1.weight'), [64, 3, 7, 7]), [2, 3, 1, 0]) as tf.Tensor4D;
        const y = tf.conv2d(x, w, 2, 3);
        const bn = tf.batchNorm(y, tf.tensor1d(get('bn1.running_mean')), tf.tensor1d(get('bn1.running_var')), tf.tensor1d(get('bn1.bias')), tf.tensor1d(get('bn1.weight')), 1e-5);
        return tf.maxPool(tf.relu(bn), 3, 2, 1).dataSync();
      });
      // The model's own folded stem unit (private: reached through a cast, for this check only).
      const inner = model as unknown as { conv(x: tf.Tensor4D, c: unknown, relu: boolean): tf.Tensor4D; stem: unknown };
      const stemOurs = tf.tidy(() => inner.conv(x, inner.stem, true));
      const pooled = tf.tidy(() => tf.maxPool(stemOurs, 3, 2, 1).dataSync());
      let maxAbs = 0;
      let diff = 0;
      stemRef.forEach((v, i) => {
        maxAbs = Math.max(maxAbs, Math.abs(v));
        diff = Math.max(diff, Math.abs(v - (pooled[i] as number)));
      });
      expect(diff / maxAbs).toBeLessThan(1e-5);
      stemOurs.dispose();
      x.dispose();
    } finally {
      model.dispose();
    }
  });

  it('refuses weights that do not fit, naming the tensor', () => {
    const tensors = decoded('resnet18', 1);
    tensors.delete('layer4.1.bn2.bias');
    expect(() => ResNetBackbone.fromTensors('resnet18', tensors)).toThrow(/weights do not fit resnet18: tensor 'layer4\.1\.bn2\.bias' is missing/);
    const before = tf.memory().numTensors;
    expect(() => ResNetBackbone.fromTensors('wide_resnet50_2', decoded('resnet18', 1))).toThrow(/tensor 'layer1\.0\.conv1\.weight' has shape/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaks no tensors across forward passes, and dispose frees its weights', () => {
    const before = tf.memory().numTensors;
    const model = ResNetBackbone.fromTensors('resnet18', decoded('resnet18', 1));
    const x = tf.randomUniform([1, 32, 32, 3]) as tf.Tensor4D;
    const pass = () => {
      const f = tf.tidy(() => model.forward(normalizeImageNet(x), ['layer1', 'layer3']));
      tf.dispose(Object.values(f));
    };
    pass();
    const steady = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) pass();
    expect(tf.memory().numTensors).toBe(steady);
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.forward(tf.zeros([1, 8, 8, 3]) as tf.Tensor4D)).toThrow(/was disposed/);
  });
});
