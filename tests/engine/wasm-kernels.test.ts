// The kernels we register on wasm for training, checked against the cpu backend's gradients
// (tf.grad through conv2d / depthwiseConv2d / gather) and, for dilation, which core's gradients
// refuse on every backend, against a direct loop.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../../src/main/core/engine/gradients';
import { registerMissingKernels, missingTrainingKernels } from '../../src/main/core/engine/kernels/register';
import { conv2dBackpropFilterByTaps } from '../../src/main/core/engine/kernels/conv2d-backprop-filter';
import { mulberry32 } from '../../src/main/core/engine/random';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

function randomArray(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}

/** max |a - b| / max |b|: relative to the reference's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs((a[i] as number) - (b[i] as number)));
    den = Math.max(den, Math.abs(b[i] as number));
  }
  return num / Math.max(den, 1e-12);
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

let missingBefore: string[] = [];
let registered: string[] = [];

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  missingBefore = missingTrainingKernels('wasm');
  registered = registerMissingKernels('wasm');
  await tf.setBackend('cpu');
});

describe('wasm training kernels', () => {
  it('lists what wasm lacks and registers it', () => {
    expect(missingBefore).toEqual(['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']);
    expect(registered).toEqual(missingBefore);
    expect(missingTrainingKernels('wasm')).toEqual([]);
    // cpu has its own and keeps it.
    expect(registerMissingKernels('cpu')).toEqual([]);
  });

  const cases: { x: [number, number, number, number]; k: number; co: number; stride: number; pad: Pad }[] = [
    { x: [2, 9, 8, 3], k: 3, co: 4, stride: 1, pad: 'same' },
    { x: [2, 9, 8, 3], k: 3, co: 4, stride: 2, pad: 'same' },
    { x: [1, 10, 11, 5], k: 3, co: 6, stride: 1, pad: 'valid' },
    { x: [3, 10, 11, 5], k: 2, co: 3, stride: 2, pad: 'valid' },
    { x: [2, 7, 9, 4], k: 3, co: 5, stride: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
    { x: [2, 8, 8, 6], k: 1, co: 7, stride: 1, pad: 'valid' },
    { x: [2, 8, 8, 6], k: 1, co: 7, stride: 2, pad: 'same' },
    { x: [1, 13, 12, 3], k: 7, co: 8, stride: 2, pad: 'same' },
  ];

  for (const [i, c] of cases.entries()) {
    it(`conv2d gradients match cpu: x ${c.x} k ${c.k} stride ${c.stride} pad ${JSON.stringify(c.pad)}`, async () => {
      const ci = c.x[3];
      const xv = randomArray(c.x.reduce((a, b) => a * b, 1), 10 + i);
      const wv = randomArray(c.k * c.k * ci * c.co, 100 + i);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, [c.k, c.k, ci, c.co]);
          // A non-uniform upstream gradient: sum of squares of the output.
          const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))));
          return grads([x, w]).map((g) => g.dataSync().slice());
        });
      const ref = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(relErr(got[1]!, ref[1]!)).toBeLessThan(1e-4);
      expect(relErr(got[0]!, ref[0]!)).toBeLessThan(1e-4);
    });
  }

  it('honours dilation 2 (checked against a direct loop)', async () => {
    const [b, h, w, ci, co, k, d] = [2, 11, 10, 3, 4, 3, 2];
    const xv = randomArray(b * h * w * ci, 7);
    const oh = h - (k - 1) * d;
    const ow = w - (k - 1) * d;
    const dyv = randomArray(b * oh * ow * co, 8);
    await tf.setBackend('wasm');
    const got = tf.tidy(() =>
      conv2dBackpropFilterByTaps(tf.tensor4d(xv, [b, h, w, ci]), tf.tensor4d(dyv, [b, oh, ow, co]), {
        strides: 1,
        pad: 'valid',
        dilations: 2,
        filterShape: [k, k, ci, co],
      }).dataSync(),
    );
    const ref = new Float32Array(k * k * ci * co);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let r = 0; r < k; r++)
            for (let s = 0; s < k; s++)
              for (let p = 0; p < ci; p++)
                for (let q = 0; q < co; q++) {
                  const xi = ((n * h + y + r * d) * w + xx + s * d) * ci + p;
                  const di = ((n * oh + y) * ow + xx) * co + q;
                  ref[((r * k + s) * ci + p) * co + q]! += xv[xi]! * dyv[di]!;
                }
    expect(relErr(got, ref)).toBeLessThan(1e-4);
  });

  for (const [i, c] of [
    { x: [2, 9, 8, 3], k: 3, mult: 1, stride: 1, pad: 'same' },
    { x: [2, 9, 8, 3], k: 3, mult: 2, stride: 2, pad: 'same' },
    { x: [1, 10, 11, 4], k: 5, mult: 1, stride: 2, pad: 'valid' },
    { x: [2, 7, 9, 2], k: 3, mult: 3, stride: 1, pad: [[0, 0], [2, 1], [0, 1], [0, 0]] },
  ].entries() as IterableIterator<[number, { x: [number, number, number, number]; k: number; mult: number; stride: number; pad: Pad }]>) {
    it(`depthwiseConv2d gradients match cpu: x ${c.x} k ${c.k} mult ${c.mult} stride ${c.stride}`, async () => {
      const ci = c.x[3];
      const xv = randomArray(c.x.reduce((a, b) => a * b, 1), 30 + i);
      const wv = randomArray(c.k * c.k * ci * c.mult, 300 + i);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const w = tf.tensor4d(wv, [c.k, c.k, ci, c.mult]);
          const grads = tf.grads((a: tf.Tensor, f: tf.Tensor) =>
            tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.stride, c.pad))),
          );
          return grads([x, w]).map((g) => g.dataSync().slice());
        });
      const ref = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(relErr(got[0]!, ref[0]!)).toBeLessThan(1e-4);
      expect(relErr(got[1]!, ref[1]!)).toBeLessThan(1e-4);
    });
  }

  it('gather gradient (UnsortedSegmentSum) matches cpu', async () => {
    const xv = randomArray(6 * 4, 5);
    const run = () =>
      tf.tidy(() => {
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d([0, 2, 2, 5, 1, 0], 'int32')))));
        return g(tf.tensor2d(xv, [6, 4])).dataSync().slice();
      });
    const ref = await onBackend('cpu', run);
    const got = await onBackend('wasm', run);
    expect(relErr(got, ref)).toBeLessThan(1e-5);
  });

  it('leaks no tensors across gradient steps', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const step = () => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]));
    step().forEach((t) => t.dispose());
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step().forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    w.dispose();
  });
});
