// The Conv2DBackpropInput override on wasm (kernels/conv2d-backprop-input.ts): installed by
// initBackend in place of wasm's scalar kernel, and equal to the cpu backend's kernel on odd shapes
// (batch, sizes, channels, kernels 1/2/3/5, strides 1/2/3 and unequal, every padding form, NCHW,
// rounding modes), through tf.grad of conv2d and through tf.conv2dTranspose; no tensors leak; and
// a training step on the threaded backend repeats bit for bit.
// Runs on a 2-thread wasm (the default on a multi-core machine), so the threaded build is what is
// checked; the thread count is fixed by the process's first wasm initialisation.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { getKernel } from '@tensorflow/tfjs-core';
import { initBackend, type ChosenBackend } from '../../src/main/core/engine/backends';
import { nativeKernel, overriddenKernels, registerKernelOverrides, setConv2DBackpropInputImpl } from '../../src/main/core/engine/kernels/register';
import {
  conv2dBackpropInputComposed,
  planConv2dBackpropInput,
  type BackpropInputAttrs,
  type BackpropInputMethod,
} from '../../src/main/core/engine/kernels/conv2d-backprop-input';
import { mulberry32 } from '../../src/main/core/engine/random';

type Shape4 = [number, number, number, number];
type Pad = BackpropInputAttrs['pad'];

/** fp32 sums of at most 5·5·17 products, in a different order than cpu's loop: ~1e-7 relative. */
const TOL = 1e-5;

function randomArray(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
}

/** max |a − b| / max |b|: relative to the reference's scale. */
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

interface Case {
  x: Shape4; // NHWC shape of the forward input (dx)
  k: [number, number];
  co: number;
  strides: [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function label(c: Case): string {
  return `x ${c.x} k ${c.k} co ${c.co} strides ${c.strides} pad ${JSON.stringify(c.pad)} ${c.dataFormat ?? 'NHWC'} ${c.dimRoundingMode ?? ''}`;
}

/** The kernel's inputs for a case: dy (in dataFormat), filter, attrs; null when the conv has no output. */
function kernelInputs(c: Case, seed: number): { dy: Float32Array; dyShape: Shape4; f: Float32Array; fShape: Shape4; attrs: BackpropInputAttrs } | null {
  const ci = c.x[3];
  const fShape: Shape4 = [c.k[0], c.k[1], ci, c.co];
  const info = tf.backend_util.computeConv2DInfo(c.x, fShape, c.strides, 1, c.pad, c.dimRoundingMode);
  if (info.outHeight <= 0 || info.outWidth <= 0) return null;
  const nchw = c.dataFormat === 'NCHW';
  const [b, h, w] = c.x;
  const dyShape: Shape4 = nchw ? [b, c.co, info.outHeight, info.outWidth] : [b, info.outHeight, info.outWidth, c.co];
  const inputShape: Shape4 = nchw ? [b, ci, h, w] : c.x;
  const attrs: BackpropInputAttrs = { strides: c.strides, pad: c.pad, dataFormat: c.dataFormat ?? 'NHWC', inputShape };
  if (c.dimRoundingMode) attrs.dimRoundingMode = c.dimRoundingMode;
  return { dy: randomArray(dyShape.reduce((a, v) => a * v, 1), seed), dyShape, f: randomArray(fShape.reduce((a, v) => a * v, 1), seed + 1), fShape, attrs };
}

function runKernel(inp: NonNullable<ReturnType<typeof kernelInputs>>): Float32Array {
  return tf.tidy(() => {
    const dy = tf.tensor4d(inp.dy, inp.dyShape);
    const filter = tf.tensor4d(inp.f, inp.fShape);
    return (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, inp.attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** The cpu kernel's dx, and on wasm: the override's, and each composition forced. */
async function compare(c: Case, seed: number): Promise<number> {
  const inp = kernelInputs(c, seed);
  if (inp === null) return -1;
  const ref = await onBackend('cpu', () => runKernel(inp));
  const got = await onBackend('wasm', () => runKernel(inp));
  expect(relErr(got, ref), label(c)).toBeLessThan(TOL);
  for (const method of ['window', 'phases'] as BackpropInputMethod[]) {
    const forced = tf.tidy(() => {
      const dy = tf.tensor4d(inp.dy, inp.dyShape);
      const plan = planConv2dBackpropInput(dy.shape, inp.fShape, inp.attrs, method);
      expect(plan, label(c)).not.toBeNull();
      return conv2dBackpropInputComposed(dy, tf.tensor4d(inp.f, inp.fShape), inp.attrs, plan!).dataSync();
    });
    expect(relErr(forced, ref), `${method}: ${label(c)}`).toBeLessThan(TOL);
  }
  return 1;
}

let chosen: ChosenBackend;

beforeAll(async () => {
  chosen = await initBackend('wasm', { wasmThreads: 2 });
});

describe('the Conv2DBackpropInput override on wasm', () => {
  it('is installed by initBackend, keeps the native kernel reachable, and installs once', () => {
    expect(chosen.threads).toBe(2);
    expect(overriddenKernels('wasm')).toEqual(['Conv2DBackpropInput', 'BatchMatMul']);
    const installed = getKernel('Conv2DBackpropInput', 'wasm');
    const native = nativeKernel('Conv2DBackpropInput', 'wasm');
    expect(native).toBeDefined();
    expect(installed).toBeDefined();
    expect(installed).not.toBe(native);
    expect(installed?.kernelFunc).not.toBe(native?.kernelFunc);
    // The native setup hook stays with the override, so a re-initialised backend still prepares the fallback.
    expect(installed?.setupFunc).toBe(native?.setupFunc);
    expect(registerKernelOverrides('wasm')).toEqual([]);
    expect(getKernel('Conv2DBackpropInput', 'wasm')).toBe(installed);
    // Only wasm is overridden.
    expect(registerKernelOverrides('cpu')).toEqual([]);
    expect(overriddenKernels('cpu')).toEqual([]);
  });

  const shapes: { x: Shape4; co: number }[] = [
    { x: [1, 7, 9, 3], co: 5 },
    { x: [3, 13, 5, 1], co: 17 },
    { x: [1, 13, 5, 17], co: 1 },
    { x: [3, 7, 9, 5], co: 3 },
  ];
  const strides: [number, number][] = [
    [1, 1],
    [2, 2],
    [3, 3],
    [2, 3],
    [1, 2],
  ];
  const pads: Pad[] = [
    'same',
    'valid',
    1,
    [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  ];
  for (const k of [1, 2, 3, 5]) {
    it(`matches the cpu kernel: ${k}×${k} and ${k}×${k === 1 ? 2 : 1} kernels, every stride and padding`, async () => {
      let n = 0;
      let seed = 1000 * k;
      for (const [si, s] of strides.entries()) {
        for (const [pi, pad] of pads.entries()) {
          const shape = shapes[(si + pi + k) % shapes.length] as { x: Shape4; co: number };
          const kw = (si + pi) % 2 === 0 ? k : k === 1 ? 2 : 1;
          if ((await compare({ x: shape.x, k: [k, kw], co: shape.co, strides: s, pad }, seed++)) > 0) n++;
        }
      }
      expect(n).toBeGreaterThan(15);
    });
  }

  it('matches the cpu kernel for NCHW and the dim rounding modes', async () => {
    const cases: Case[] = [
      { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: [2, 2], pad: 'same', dataFormat: 'NCHW' },
      { x: [1, 13, 5, 4], k: [2, 2], co: 6, strides: [2, 2], pad: 'valid', dataFormat: 'NCHW' },
      { x: [1, 7, 9, 3], k: [2, 2], co: 4, strides: [2, 2], pad: 1, dimRoundingMode: 'ceil' },
      { x: [3, 7, 9, 3], k: [2, 3], co: 4, strides: [2, 2], pad: 1, dimRoundingMode: 'round' },
      { x: [1, 13, 5, 2], k: [3, 2], co: 3, strides: [3, 2], pad: 2, dimRoundingMode: 'floor' },
    ];
    for (const [i, c] of cases.entries()) expect(await compare(c, 50 + i), label(c)).toBe(1);
  });

  it('tf.grad of conv2d (dX) matches cpu', async () => {
    const cases: { x: Shape4; k: number; co: number; stride: number | [number, number]; pad: Pad }[] = [
      { x: [3, 13, 5, 3], k: 3, co: 17, stride: 1, pad: 'same' },
      { x: [1, 7, 9, 5], k: 3, co: 3, stride: 2, pad: 'same' },
      { x: [2, 8, 8, 4], k: 3, co: 6, stride: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
      { x: [1, 13, 5, 17], k: 1, co: 5, stride: 2, pad: 'valid' },
      { x: [3, 7, 9, 1], k: 5, co: 3, stride: [3, 2], pad: 'valid' },
      { x: [1, 16, 16, 8], k: 2, co: 8, stride: 2, pad: 'valid' },
    ];
    for (const [i, c] of cases.entries()) {
      const xv = randomArray(c.x.reduce((a, v) => a * v, 1), 200 + i);
      const wv = randomArray(c.k * c.k * c.x[3] * c.co, 300 + i);
      const run = () =>
        tf.tidy(() => {
          // A non-uniform upstream gradient: the sum of squares of the output.
          const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, tf.tensor4d(wv, [c.k, c.k, c.x[3], c.co]), c.stride, c.pad))));
          return g(tf.tensor4d(xv, c.x)).dataSync().slice();
        });
      const ref = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(relErr(got, ref), JSON.stringify(c)).toBeLessThan(TOL);
    }
  });

  it('tf.conv2dTranspose forward matches cpu (Reverse Distillation 2×2 stride 2, and 3×3/4×4 stride 2)', async () => {
    const cases: { x: Shape4; k: number; out: number; stride: number; pad: 'same' | 'valid' | number; outSize: [number, number] }[] = [
      { x: [2, 7, 9, 16], k: 2, out: 8, stride: 2, pad: 'valid', outSize: [14, 18] },
      { x: [1, 5, 5, 6], k: 3, out: 4, stride: 2, pad: 'same', outSize: [10, 10] },
      { x: [1, 6, 5, 3], k: 4, out: 5, stride: 2, pad: 1, outSize: [12, 10] },
    ];
    for (const [i, c] of cases.entries()) {
      const xv = randomArray(c.x.reduce((a, v) => a * v, 1), 400 + i);
      const wv = randomArray(c.k * c.k * c.out * c.x[3], 500 + i);
      const run = () =>
        tf.tidy(() =>
          tf
            .conv2dTranspose(tf.tensor4d(xv, c.x), tf.tensor4d(wv, [c.k, c.k, c.out, c.x[3]]), [c.x[0], ...c.outSize, c.out], c.stride, c.pad)
            .dataSync()
            .slice(),
        );
      const ref = await onBackend('cpu', run);
      const got = await onBackend('wasm', run);
      expect(relErr(got, ref), JSON.stringify(c)).toBeLessThan(TOL);
    }
  });

  it('runs the native kernel when switched to it, and the composition again after', async () => {
    const c: Case = { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: [2, 2], pad: 'same' };
    const inp = kernelInputs(c, 77)!;
    const ref = await onBackend('cpu', () => runKernel(inp));
    await tf.setBackend('wasm');
    const native = nativeKernel('Conv2DBackpropInput', 'wasm')!;
    let nativeCalls = 0;
    const original = native.kernelFunc;
    native.kernelFunc = (args) => {
      nativeCalls++;
      return original(args);
    };
    try {
      expect(setConv2DBackpropInputImpl('native')).toBe('composed');
      expect(relErr(runKernel(inp), ref)).toBeLessThan(TOL);
      expect(nativeCalls).toBe(1);
      expect(setConv2DBackpropInputImpl('composed')).toBe('native');
      expect(relErr(runKernel(inp), ref)).toBeLessThan(TOL);
      expect(nativeCalls).toBe(1);
    } finally {
      native.kernelFunc = original;
      setConv2DBackpropInputImpl('composed');
    }
  });

  it('declines attributes it does not handle (a dy that does not fit the input shape)', () => {
    expect(planConv2dBackpropInput([1, 4, 4, 3], [3, 3, 2, 3], { strides: 1, pad: 'same', inputShape: [1, 5, 5, 2] })).toBeNull();
    expect(planConv2dBackpropInput([1, 5, 5, 3], [3, 3, 2, 3], { strides: 1, pad: 'same', inputShape: [1, 5, 5, 2] })?.method).toBe('window');
    // 3×3 stride 2: a common window would compute 16 taps for 9, so the exact phases are chosen.
    expect(planConv2dBackpropInput([1, 3, 3, 3], [3, 3, 2, 3], { strides: 2, pad: 'same', inputShape: [1, 5, 5, 2] })?.method).toBe('phases');
    expect(planConv2dBackpropInput([1, 4, 4, 3], [2, 2, 2, 3], { strides: 2, pad: 'valid', inputShape: [1, 8, 8, 2] })?.method).toBe('window');
  });

  it('leaks no tensors (window, matmul, phases with zero phases, NCHW, gradients)', async () => {
    await tf.setBackend('wasm');
    const cases: Case[] = [
      { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: [1, 1], pad: 'same' },
      { x: [1, 8, 8, 4], k: [2, 2], co: 6, strides: [2, 2], pad: 'valid' },
      { x: [1, 8, 8, 4], k: [1, 1], co: 6, strides: [1, 1], pad: 'valid' },
      { x: [1, 9, 7, 4], k: [1, 1], co: 6, strides: [3, 2], pad: 'valid' },
      { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: [2, 2], pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
      { x: [1, 13, 5, 4], k: [5, 1], co: 5, strides: [3, 3], pad: 1 },
      { x: [2, 7, 9, 3], k: [3, 3], co: 5, strides: [2, 2], pad: 'same', dataFormat: 'NCHW' },
    ];
    const inputs = cases.map((c, i) => kernelInputs(c, 600 + i)!);
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const step = () => tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 2, 'same')))(x).dataSync());
    inputs.forEach(runKernel);
    step();
    const before = tf.memory().numTensors;
    for (let r = 0; r < 2; r++) {
      inputs.forEach(runKernel);
      step();
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });

  it('a training step on threaded wasm repeats bit for bit', async () => {
    await tf.setBackend('wasm');
    const train = (): Float32Array => {
      const widths = [3, 16, 16, 3];
      const ws = widths.slice(0, -1).map((cin, i) => tf.variable(tf.mul(tf.tensor4d(randomArray(9 * cin * (widths[i + 1] as number), 900 + i), [3, 3, cin, widths[i + 1] as number]), 0.2)));
      const x = tf.tensor4d(randomArray(4 * 24 * 24 * 3, 999), [4, 24, 24, 3]);
      try {
        for (let s = 0; s < 2; s++) {
          tf.tidy(() => {
            const { grads } = tf.variableGrads(() => {
              let h: tf.Tensor4D = x;
              ws.forEach((v, i) => {
                const y = tf.conv2d(h, v as tf.Tensor4D, i === 1 ? 2 : 1, 'same');
                h = i === 1 ? (tf.image.resizeNearestNeighbor(tf.relu(y), [24, 24]) as tf.Tensor4D) : i < ws.length - 1 ? tf.relu(y) : y;
              });
              return tf.mean(tf.squaredDifference(h, x));
            }, ws);
            ws.forEach((v) => v.assign(tf.sub(v, tf.mul(grads[v.name] as tf.Tensor, 0.05))));
          });
        }
        return Float32Array.from(ws.flatMap((v) => Array.from(v.dataSync())));
      } finally {
        tf.dispose([...ws, x]);
      }
    };
    const a = train();
    const b = train();
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
  });
});
