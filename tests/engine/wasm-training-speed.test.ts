// The training-speed kernels on wasm (issue: U-Net Auto-Encoder step at ≥ 0.3× PyTorch):
// - Conv2DBackpropFilter's flat-shift GEMM (kernels/conv2d-backprop-filter.ts) against the cpu
//   backend's kernel on odd shapes (batch, sizes, channels, kernels, strides, dilations, every
//   padding form, NCHW, chunk sizes), on wasm and through its slice/pad fallback on cpu;
// - the Tile and MaxPoolGrad replacements (kernels/tile.ts, max-pool-grad.ts) bit for bit against
//   wasm's own kernels, and against cpu;
// - the batch-norm gradient (kernels/batch-norm-grad.ts, BatchNorm2d's custom gradient) against a
//   float64 reference and against tfjs-core's composite gradient;
// and that none of them leaks tensors.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { nativeKernel, replacedKernels, registerKernelOverrides, overriddenKernels } from '../../src/main/core/engine/kernels/register';
import { chunkPositions, conv2dBackpropFilterByTaps, shiftedRows } from '../../src/main/core/engine/kernels/conv2d-backprop-filter';
import { batchNormGradChannelsLast, channelSums } from '../../src/main/core/engine/kernels/batch-norm-grad';
import { tileInto } from '../../src/main/core/engine/kernels/tile';
import { BatchNorm2d, Conv2d, batchMoments, setBatchNormImpl, setConvBiasImpl, type BatchNormImpl } from '../../src/main/core/engine/nn/layers';
import { mulberry32 } from '../../src/main/core/engine/random';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

function randomArray(n: number, seed: number, offset = 0): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1 + offset);
}

/** max |a − b| / max |b|. */
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

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

async function onBackend<T>(name: string, f: () => T): Promise<T> {
  await tf.setBackend(name);
  return f();
}

/** Runs a kernel config directly (e.g. wasm's native one we replaced) on the current backend. */
function runConfig(config: KernelConfig, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor {
  const info = (config.kernelFunc as KernelFunc)({ inputs, backend: tf.backend(), attrs } as unknown as Parameters<KernelFunc>[0]) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

beforeAll(async () => {
  await initBackend('wasm', { wasmThreads: 1 });
});

describe('Conv2DBackpropFilter (flat-shift GEMM)', () => {
  interface Case {
    x: Shape4;
    k: [number, number];
    co: number;
    strides: number | [number, number];
    pad: Pad;
    dilations?: number | [number, number];
    dataFormat?: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  }
  const cases: Case[] = [
    { x: [2, 9, 8, 3], k: [3, 3], co: 4, strides: 1, pad: 'same' },
    { x: [2, 9, 8, 3], k: [3, 3], co: 4, strides: 1, pad: 1 },
    { x: [1, 10, 11, 5], k: [3, 3], co: 6, strides: 1, pad: 'valid' },
    { x: [3, 7, 5, 1], k: [2, 4], co: 17, strides: 1, pad: [[0, 0], [2, 0], [1, 3], [0, 0]] },
    { x: [1, 13, 5, 17], k: [5, 1], co: 1, strides: 1, pad: 2 },
    { x: [2, 6, 6, 3], k: [1, 1], co: 2, strides: 1, pad: 2 },
    { x: [2, 8, 8, 6], k: [1, 1], co: 7, strides: 1, pad: 'valid' },
    { x: [2, 9, 8, 3], k: [3, 3], co: 4, strides: 2, pad: 'same' },
    { x: [3, 10, 11, 5], k: [2, 2], co: 3, strides: 2, pad: 'valid' },
    { x: [2, 7, 9, 4], k: [3, 3], co: 5, strides: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
    { x: [2, 8, 8, 6], k: [1, 1], co: 7, strides: 2, pad: 'same' },
    { x: [1, 13, 12, 3], k: [7, 7], co: 8, strides: 2, pad: 'same' },
    { x: [3, 5, 7, 2], k: [2, 4], co: 3, strides: [1, 3], pad: 2 },
    { x: [1, 13, 9, 2], k: [3, 2], co: 3, strides: [3, 2], pad: 1, dimRoundingMode: 'ceil' },
    { x: [2, 11, 10, 3], k: [3, 3], co: 4, strides: 1, pad: 'valid', dilations: 2 },
    { x: [2, 11, 10, 3], k: [3, 3], co: 4, strides: 1, pad: 'same', dilations: [2, 3] },
    { x: [2, 12, 13, 3], k: [3, 2], co: 4, strides: 2, pad: 1, dilations: [2, 3] },
    { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: 2, pad: 'same', dataFormat: 'NCHW' },
    { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: 1, pad: 1, dataFormat: 'NCHW' },
    // The U-Net's shapes, small: 3×3 'same' at the top and the 4² bottom of a batch.
    { x: [4, 16, 16, 8], k: [3, 3], co: 8, strides: 1, pad: 1 },
    { x: [16, 4, 4, 32], k: [3, 3], co: 32, strides: 1, pad: 1 },
  ];

  /** Direct loop (float64) of the filter gradient, for the dilated cases cpu cannot check. */
  function reference(c: Case, xv: Float32Array, dyv: Float32Array, info: tf.backend_util.Conv2DInfo): Float64Array {
    const [b, h, w, ci] = c.x;
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { top, left } = info.padInfo;
    const [kh, kw] = c.k;
    const ref = new Float64Array(kh * kw * ci * c.co);
    for (let n = 0; n < b; n++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let r = 0; r < kh; r++)
            for (let s = 0; s < kw; s++) {
              const iy = y * sh + r * dh - top;
              const ix = xx * sw + s * dw - left;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let p = 0; p < ci; p++)
                for (let q = 0; q < c.co; q++) ref[((r * kw + s) * ci + p) * c.co + q]! += xv[((n * h + iy) * w + ix) * ci + p]! * dyv[((n * oh + y) * ow + xx) * c.co + q]!;
            }
    return ref;
  }

  for (const [i, c] of cases.entries()) {
    const label = `x ${c.x} k ${c.k} co ${c.co} strides ${JSON.stringify(c.strides)} pad ${JSON.stringify(c.pad)} dil ${JSON.stringify(c.dilations ?? 1)} ${c.dataFormat ?? 'NHWC'} ${c.dimRoundingMode ?? ''}`;
    it(`matches the reference: ${label}`, async () => {
      const [b, h, w, ci] = c.x;
      const filterShape: Shape4 = [c.k[0], c.k[1], ci, c.co];
      const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, c.dilations ?? 1, c.pad, c.dimRoundingMode);
      const xv = randomArray(b * h * w * ci, 10 + i);
      const dyv = randomArray(b * info.outHeight * info.outWidth * c.co, 100 + i);
      const nchw = c.dataFormat === 'NCHW';
      const attrs = { strides: c.strides, pad: c.pad, filterShape, dilations: c.dilations ?? 1, dataFormat: c.dataFormat ?? 'NHWC', dimRoundingMode: c.dimRoundingMode } as Parameters<typeof conv2dBackpropFilterByTaps>[2];
      const tensors = () => {
        const x = tf.tensor4d(xv, c.x);
        const dy = tf.tensor4d(dyv, [b, info.outHeight, info.outWidth, c.co]);
        return nchw ? [tf.transpose(x, [0, 3, 1, 2]) as tf.Tensor4D, tf.transpose(dy, [0, 3, 1, 2]) as tf.Tensor4D] : [x, dy];
      };
      const ref = reference(c, xv, dyv, info);
      // The registered kernel (wasm) and, where core's gradient applies (no dilation), the cpu kernel.
      const viaKernel = (): Float32Array =>
        tf.tidy(() => {
          const [x, dy] = tensors();
          return (tf.engine().runKernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
        });
      expect(relErr(await onBackend('wasm', viaKernel), ref), label).toBeLessThan(1e-5);
      if ((c.dilations ?? 1) === 1) expect(relErr(await onBackend('cpu', viaKernel), ref), `cpu ${label}`).toBeLessThan(1e-5);
      // Every chunking, the previous per-tap formulation, and the slice/pad fallback on cpu.
      for (const backend of ['wasm', 'cpu']) {
        for (const options of [{ chunk: 1 }, { chunk: 7 }, { chunk: 50 }, {}, { method: 'taps' as const }]) {
          const got = await onBackend(backend, () =>
            tf.tidy(() => {
              const [x, dy] = tensors();
              return conv2dBackpropFilterByTaps(x!, dy!, attrs, options).dataSync();
            }),
          );
          expect(relErr(got, ref), `${backend} ${JSON.stringify(options)} ${label}`).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('copies shifted rows with zeros outside the source, on wasm and elsewhere', async () => {
    const src = Float32Array.from({ length: 12 }, (_, i) => i + 1); // [[1..6], [7..12]]
    const expected = [
      // tap 0 (rows 0–1, start 1 + shift −2): cols −1 … 2
      0, 1, 2, 3, 0, 7, 8, 9,
      // tap 1 (row 1 only via rowBase 1, start 1 + shift 3): cols 4 … 7
      11, 12, 0, 0,
    ];
    for (const backend of ['wasm', 'cpu']) {
      const got = await onBackend(backend, () =>
        tf.tidy(() => {
          const s = tf.tensor2d(src, [2, 6]);
          const a = shiftedRows(s, [0], [-2], 2, 1, 4).dataSync();
          const b = shiftedRows(s, [1], [3], 1, 1, 4).dataSync();
          return [...a, ...b];
        }),
      );
      expect(got, backend).toEqual(expected);
    }
  });

  it('sizes chunks to the cache and splits evenly', () => {
    expect(chunkPositions(144, 16, 100)).toBe(100);
    const c = chunkPositions(144, 16, 69_000);
    expect(c).toBeGreaterThanOrEqual(1024);
    expect(Math.ceil(69_000 / c) * c - 69_000).toBeLessThan(Math.ceil(69_000 / c));
    // Many rows: the 1024-position floor, split evenly.
    const big = chunkPositions(4608, 512, 100_000);
    expect(big).toBeGreaterThan(1000);
    expect(big).toBeLessThanOrEqual(1024);
  });

  it('leaks no tensors, through tf.grad and called directly', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const step = () => {
      tf.tidy(() => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'))))([x, w]).map((g) => g.dataSync()));
      tf.tidy(() => tf.grad((f: tf.Tensor) => tf.sum(tf.conv2d(x, f as tf.Tensor4D, 2, 'same')))(w).dataSync());
      tf.tidy(() => conv2dBackpropFilterByTaps(x, tf.ones([2, 9, 9, 4]) as tf.Tensor4D, { strides: 1, pad: 'same', filterShape: [3, 3, 3, 4] }, { chunk: 10 }).dataSync());
    };
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});

describe('Tile, MaxPoolGrad and Identity replacements on wasm', () => {
  it('are installed by initBackend beside the Conv2DBackpropInput override, once, and keep the native kernels', () => {
    expect(replacedKernels('wasm')).toEqual(['Tile', 'MaxPoolGrad', 'Identity']);
    expect(overriddenKernels('wasm')).toEqual(['Conv2DBackpropInput', 'BatchMatMul']);
    expect(registerKernelOverrides('wasm')).toEqual([]);
    expect(nativeKernel('Tile', 'wasm')).toBeDefined();
    expect(nativeKernel('MaxPoolGrad', 'wasm')).toBeDefined();
    expect(tf.getKernel('Tile', 'wasm')).not.toBe(nativeKernel('Tile', 'wasm'));
    expect(replacedKernels('cpu')).toEqual([]);
  });

  it('tiles bit for bit as the native kernel and cpu (float32, int32, bool, ranks 0–5, empty)', async () => {
    const cases: { shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
      { shape: [1, 1, 1, 16], reps: [3, 4, 5, 1], dtype: 'float32' },
      { shape: [2, 3], reps: [2, 3], dtype: 'float32' },
      { shape: [5], reps: [4], dtype: 'int32' },
      { shape: [], reps: [], dtype: 'float32' },
      { shape: [2, 1, 3], reps: [1, 7, 1], dtype: 'bool' },
      { shape: [3, 2, 1, 2, 3], reps: [1, 2, 3, 1, 2], dtype: 'float32' },
      { shape: [0, 3], reps: [2, 1], dtype: 'float32' },
      { shape: [2, 3], reps: [0, 2], dtype: 'int32' },
    ];
    for (const c of cases) {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const values = Array.from(randomArray(n, 5), (v) => (c.dtype === 'float32' ? v : c.dtype === 'int32' ? Math.round(v * 100) : Number(v > 0)));
      const make = () => tf.tensor(values, c.shape, c.dtype);
      const ours = await onBackend('wasm', () => tf.tidy(() => Array.from(tf.tile(make(), c.reps).dataSync())));
      const native = await onBackend('wasm', () => tf.tidy(() => Array.from(runConfig(nativeKernel('Tile', 'wasm')!, { x: make() }, { reps: c.reps }).dataSync())));
      const cpu = await onBackend('cpu', () => tf.tidy(() => Array.from(tf.tile(make(), c.reps).dataSync())));
      expect(sameBits(ours, native), JSON.stringify(c)).toBe(true);
      expect(sameBits(ours, cpu), JSON.stringify(c)).toBe(true);
    }
    // The copy itself, on a plain array: axis by axis, doubling.
    const out = new Float32Array(12);
    tileInto(Float32Array.from([1, 2, 3]), [1, 3], [2, 2], out);
    expect(Array.from(out)).toEqual([1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3]);
  });

  it('clones without copying (Identity shares the memory), and frees it with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numDataBuffers;
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const y = tf.clone(x);
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    expect(tf.memory().numDataBuffers - before).toBe(1); // one buffer for both
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
    // Strings keep the native kernel.
    const str = tf.tensor(['a', 'b']);
    expect(tf.clone(str).dataSync()).toEqual(['a', 'b']);
    str.dispose();
  });

  it('routes max-pool gradients bit for bit as the native kernel (ties, zeros, negatives, overlapping windows, padding)', async () => {
    await tf.setBackend('wasm');
    const cases: { x: Shape4; f: [number, number]; s: [number, number]; pad: Pad; dimRoundingMode?: 'floor' | 'round' | 'ceil' }[] = [
      { x: [2, 6, 8, 3], f: [2, 2], s: [2, 2], pad: 'valid' },
      { x: [3, 5, 5, 4], f: [2, 2], s: [2, 2], pad: 'valid' },
      { x: [1, 7, 9, 2], f: [3, 3], s: [2, 2], pad: 'same' },
      { x: [2, 6, 7, 3], f: [3, 3], s: [1, 1], pad: 'same' },
      { x: [1, 6, 6, 2], f: [2, 3], s: [1, 2], pad: 'valid' },
      { x: [2, 7, 6, 3], f: [3, 2], s: [2, 3], pad: 1, dimRoundingMode: 'ceil' },
      { x: [1, 5, 5, 1], f: [5, 5], s: [1, 1], pad: 'valid' },
    ];
    for (const [i, c] of cases.entries()) {
      const n = c.x.reduce((a, b) => a * b, 1);
      // ReLU-like input: a third zeros, some exact ties, some negatives.
      const xv = Float32Array.from(randomArray(n, 40 + i), (v, j) => (j % 3 === 0 ? 0 : j % 7 === 0 ? 0.5 : v));
      const run = (mode: 'ours' | 'native' | 'cpu') =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x);
          const y = tf.maxPool(x, c.f, c.s, c.pad as 'valid', c.dimRoundingMode);
          const dy = tf.tensor4d(randomArray(y.size, 400 + i), y.shape);
          const attrs = { filterSize: c.f, strides: c.s, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
          if (mode === 'native') return Array.from(runConfig(nativeKernel('MaxPoolGrad', 'wasm')!, { dy, input: x, output: y }, attrs).dataSync());
          return Array.from((tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
        });
      const ours = await onBackend('wasm', () => run('ours'));
      const native = await onBackend('wasm', () => run('native'));
      expect(sameBits(ours, native), JSON.stringify(c)).toBe(true);
      // Where no window is all ≤ 0 (cpu routes those, wasm drops them), cpu agrees too.
      const positive = Float32Array.from(xv, (v) => Math.abs(v) + 0.25);
      const viaGrad = async (backend: string) =>
        onBackend(backend, () => tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, c.f, c.s, c.pad as 'valid', c.dimRoundingMode), 3)))(tf.tensor4d(positive, c.x)).dataSync())));
      const [wasmGrad, cpuGrad] = [await viaGrad('wasm'), await viaGrad('cpu')];
      // Ties (0.5 and the shifted zeros) may route differently between cpu and wasm; the totals agree.
      expect(wasmGrad.reduce((a, b) => a + b, 0)).toBeCloseTo(cpuGrad.reduce((a, b) => a + b, 0), 3);
    }
  });
});

describe('batch-norm gradient (BatchNorm2d custom gradient)', () => {
  /** float64 closed form of dx, dscale, doffset over [n, c]. */
  function reference(xv: Float32Array, dyv: Float32Array, gv: Float32Array, c: number, eps: number) {
    const n = xv.length / c;
    const mean = new Float64Array(c);
    const v = new Float64Array(c);
    const sum = new Float64Array(c);
    const dot = new Float64Array(c);
    for (let i = 0; i < xv.length; i++) mean[i % c]! += xv[i]! / n;
    for (let i = 0; i < xv.length; i++) v[i % c]! += (xv[i]! - mean[i % c]!) ** 2 / n;
    for (let i = 0; i < xv.length; i++) {
      sum[i % c]! += dyv[i]!;
      dot[i % c]! += (xv[i]! - mean[i % c]!) * dyv[i]!;
    }
    const inv = Array.from(v, (q) => 1 / Math.sqrt(q + eps));
    const dx = Float64Array.from(xv, (xi, i) => {
      const j = i % c;
      return (dyv[i]! - sum[j]! / n - (xi - mean[j]!) * dot[j]! * inv[j]! ** 2 / n) * inv[j]! * gv[j]!;
    });
    return { dx, dscale: Float64Array.from(dot, (d, j) => d * inv[j]!), doffset: sum, mean, inv };
  }

  const shapes: [Shape4, number][] = [
    [[4, 8, 8, 5], 0],
    [[3, 5, 7, 4], 2.5],
    [[16, 4, 4, 32], 0],
    [[2, 3, 1500, 2], 0], // rows longer than the first summing level
    [[1, 2, 2, 3], 0],
  ];

  for (const [shape, offset] of shapes) {
    it(`matches the float64 forms, in every BatchNorm2d implementation: ${shape} (mean offset ${offset})`, async () => {
      const c = shape[3];
      const size = shape.reduce((a, b) => a * b, 1);
      const xv = randomArray(size, 7, offset);
      const dyv = randomArray(size, 8);
      const gv = randomArray(c, 9);
      const bv = randomArray(c, 10);
      const ref = reference(xv, dyv, gv, c, 1e-5);
      for (const backend of ['wasm', 'cpu']) {
        const [dx, dscale, doffset] = await onBackend(backend, () =>
          tf.tidy(() => {
            const x = tf.tensor4d(xv, shape);
            const { mean, variance } = batchMoments(x);
            return batchNormGradChannelsLast(x, tf.tensor4d(dyv, shape), mean, variance, tf.tensor1d(gv), 1e-5).map((t) => t.dataSync());
          }),
        );
        expect(relErr(dx!, ref.dx), `${backend} dx`).toBeLessThan(2e-6);
        expect(relErr(dscale!, ref.dscale), `${backend} dscale`).toBeLessThan(2e-6);
        expect(relErr(doffset!, ref.doffset), `${backend} doffset`).toBeLessThan(2e-6);
      }
      // BatchNorm2d in training mode, each implementation, through tf.variableGrads as the training
      // loop takes its gradients: output, dx, dweight, dbias against the float64 forms.
      const yRef = Float64Array.from(xv, (xi, i) => {
        const j = i % c;
        return (xi - ref.mean[j]!) * ref.inv[j]! * gv[j]! + bv[j]!;
      });
      for (const backend of ['wasm', 'cpu']) {
        await tf.setBackend(backend);
        for (const impl of ['vectorised', 'closed-form-grad', 'composite'] as BatchNormImpl[]) {
          const previous = setBatchNormImpl(impl);
          const bn = new BatchNorm2d(c).initialize(3);
          try {
            bn.weight!.assign(tf.tensor1d(gv));
            bn.bias!.assign(tf.tensor1d(bv));
            bn.train();
            const x = tf.tidy(() => tf.variable(tf.tensor4d(xv, shape)));
            const out: Float32Array[] = [];
            const { value, grads } = tf.variableGrads(() => {
              const y = bn.forward(x as unknown as tf.Tensor4D);
              out.push(y.dataSync() as Float32Array);
              return tf.sum(tf.mul(y, tf.tensor4d(dyv, shape))) as tf.Scalar;
            }, [x, bn.weight!, bn.bias!]);
            // tfjs-core's composite sums in one float32 level: looser.
            const tol = impl === 'composite' ? 1e-4 : 2e-6;
            const where = `${backend} ${impl}`;
            expect(relErr(out[0]!, yRef), `${where} y`).toBeLessThan(tol);
            expect(relErr(grads[x.name]!.dataSync(), ref.dx), `${where} dx`).toBeLessThan(tol);
            expect(relErr(grads[bn.weight!.name]!.dataSync(), ref.dscale), `${where} dweight`).toBeLessThan(tol);
            expect(relErr(grads[bn.bias!.name]!.dataSync(), ref.doffset), `${where} dbias`).toBeLessThan(tol);
            tf.dispose([x, value, ...Object.values(grads)]);
          } finally {
            setBatchNormImpl(previous);
            bn.dispose();
          }
        }
      }
    });
  }

  it('sums channels in two levels (pooling windows of whole rows)', async () => {
    const shape: Shape4 = [2, 6, 5, 3];
    const v = randomArray(180, 3);
    const sums = await onBackend('wasm', () => tf.tidy(() => channelSums(tf.tensor4d(v, shape)).dataSync()));
    const ref = [0, 0, 0];
    v.forEach((x, i) => (ref[i % 3]! += x));
    expect(relErr(sums, ref)).toBeLessThan(1e-6);
  });

  it('keeps the forward and the running statistics, and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const bn = new BatchNorm2d(4).initialize(1);
    bn.train();
    const xv = randomArray(2 * 5 * 5 * 4, 11, 1);
    const step = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, [2, 5, 5, 4]);
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.forward(x))) as tf.Scalar, [bn.weight!, bn.bias!]);
        return [value.dataSync()[0], ...Object.values(grads).map((g) => g.dataSync()[0])];
      });
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(Number(bn.numBatchesTracked!.dataSync()[0])).toBe(2);
    // Forward values: exactly batchNorm4d with the batch's moments in 'closed-form-grad', within
    // float rounding of it in 'vectorised' (the default).
    for (const impl of ['closed-form-grad', 'vectorised'] as BatchNormImpl[]) {
      const previous = setBatchNormImpl(impl);
      const [y, expected] = tf.tidy(() => {
        const x = tf.tensor4d(xv, [2, 5, 5, 4]);
        const { mean, variance } = batchMoments(x);
        return [bn.forward(x).dataSync(), tf.batchNorm4d(x, mean, variance, bn.bias as tf.Tensor1D, bn.weight as tf.Tensor1D, 1e-5).dataSync()];
      });
      setBatchNormImpl(previous);
      if (impl === 'closed-form-grad') expect(sameBits(y!, expected!)).toBe(true);
      else expect(relErr(y!, expected!)).toBeLessThan(1e-6);
    }
    bn.dispose();
  });
});

describe('Conv2d bias as a channel bias', () => {
  it('adds the bias bit for bit as tf.add, and its gradients match tf.add\'s (wasm, cpu)', async () => {
    for (const backend of ['wasm', 'cpu']) {
      await tf.setBackend(backend);
      const conv = new Conv2d(5, 7, 3, { padding: 1 }).initialize(4);
      const xv = randomArray(3 * 9 * 11 * 5, 21);
      const run = (impl: 'channel-bias' | 'add') => {
        const previous = setConvBiasImpl(impl);
        try {
          const x = tf.tidy(() => tf.variable(tf.tensor4d(xv, [3, 9, 11, 5])));
          const out: Float32Array[] = [];
          const { value, grads } = tf.variableGrads(() => {
            const y = conv.forward(x as unknown as tf.Tensor4D);
            out.push(y.dataSync() as Float32Array);
            return tf.sum(tf.square(y)) as tf.Scalar;
          }, [x, conv.weight, conv.bias!]);
          const result = [out[0]!, grads[x.name]!.dataSync(), grads[conv.weight.name]!.dataSync(), grads[conv.bias!.name]!.dataSync()];
          tf.dispose([x, value, ...Object.values(grads)]);
          return result;
        } finally {
          setConvBiasImpl(previous);
        }
      };
      const ours = run('channel-bias');
      const plain = run('add');
      expect(sameBits(ours[0]!, plain[0]!), `${backend} y`).toBe(true);
      expect(relErr(ours[1]!, plain[1]!), `${backend} dx`).toBeLessThan(1e-6);
      expect(relErr(ours[2]!, plain[2]!), `${backend} dweight`).toBeLessThan(1e-6);
      expect(relErr(ours[3]!, plain[3]!), `${backend} dbias`).toBeLessThan(1e-5);
      const before = tf.memory().numTensors;
      run('channel-bias');
      expect(tf.memory().numTensors, `${backend} leak`).toBe(before);
      conv.dispose();
    }
  });
});
