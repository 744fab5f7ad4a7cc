// The BatchMatMul override on wasm (kernels/batch-mat-mul.ts): a transposed operand is transposed
// first and the plain product runs natively. Against wasm's own kernel (selected with
// setBatchMatMulImpl('native')) and the cpu backend, for transposeA / transposeB / both, ranks 2–4,
// a broadcast batch, and inside a gradient (where every matMul gradient takes this path); no leak.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/main/core/engine/backends';
import { mulberry32 } from '../../src/main/core/engine/random';
import { nativeKernel, overriddenKernels, setBatchMatMulImpl } from '../../src/main/core/engine/kernels/register';

function rand(shape: number[], seed: number): tf.Tensor {
  const r = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), shape);
}

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

beforeAll(async () => {
  await initBackend('wasm', { wasmThreads: 2 });
});

const CASES: { a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
  { a: [37, 19], b: [37, 23], tA: true, tB: false },
  { a: [19, 37], b: [23, 37], tA: false, tB: true },
  { a: [37, 19], b: [23, 37], tA: true, tB: true },
  { a: [3, 17, 9], b: [3, 17, 5], tA: true, tB: false },
  { a: [2, 4, 16, 8], b: [2, 4, 16, 8], tA: false, tB: true },
  { a: [1, 11, 7], b: [4, 13, 11], tA: true, tB: true },
];

describe('the BatchMatMul override on wasm', () => {
  it('is installed, keeps the native kernel reachable, and matches it and cpu on transposed operands', async () => {
    expect(overriddenKernels('wasm')).toContain('BatchMatMul');
    expect(nativeKernel('BatchMatMul', 'wasm')).toBeDefined();
    for (const [i, c] of CASES.entries()) {
      const a = rand(c.a, 2 * i + 1);
      const b = rand(c.b, 2 * i + 2);
      const ours = tf.matMul(a, b, c.tA, c.tB);
      setBatchMatMulImpl('native');
      const native = tf.matMul(a, b, c.tA, c.tB);
      setBatchMatMulImpl('transposed');
      await tf.setBackend('cpu');
      const ca = tf.tensor(await a.data(), a.shape);
      const cb = tf.tensor(await b.data(), b.shape);
      const cpu = tf.matMul(ca, cb, c.tA, c.tB);
      const cpuData = (await cpu.data()) as Float32Array;
      tf.dispose([ca, cb, cpu]);
      await tf.setBackend('wasm');
      expect(ours.shape, JSON.stringify(c)).toEqual(native.shape);
      expect(maxRel((await ours.data()) as Float32Array, (await native.data()) as Float32Array), JSON.stringify(c)).toBeLessThan(1e-6);
      expect(maxRel((await ours.data()) as Float32Array, cpuData), JSON.stringify(c)).toBeLessThan(1e-6);
      tf.dispose([a, b, ours, native]);
    }
  });

  it('gives the native gradients of a matMul chain and leaks nothing', async () => {
    const x = rand([12, 9], 7);
    const w1 = tf.variable(rand([9, 6], 8));
    const w2 = tf.variable(rand([6, 4], 9));
    const f = () => tf.sum(tf.square(tf.matMul(tf.relu(tf.matMul(x, w1)), w2))) as tf.Scalar;
    const grads = async () => {
      const { value, grads: g } = tf.variableGrads(f, [w1, w2]);
      const out = [await g[w1.name]!.data(), await g[w2.name]!.data()] as Float32Array[];
      tf.dispose([value, ...Object.values(g)]);
      return out;
    };
    const ours = await grads();
    const before = tf.memory().numTensors;
    await grads();
    expect(tf.memory().numTensors).toBe(before);
    setBatchMatMulImpl('native');
    const native = await grads();
    setBatchMatMulImpl('transposed');
    for (let i = 0; i < 2; i++) expect(maxRel(ours[i]!, native[i]!)).toBeLessThan(1e-6);
    tf.dispose([x, w1, w2]);
  });
});
