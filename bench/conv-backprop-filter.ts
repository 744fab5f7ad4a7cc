/**
 * Speed of our `Conv2DBackpropFilter` on wasm (engine/kernels/conv2d-backprop-filter.ts; wasm has
 * none of its own): the flat-shift formulations ('gemm': one product for all taps per chunk of
 * positions, from a heap copy; 'views': one product per tap on zero-copy windows) against the
 * previous one ('taps': one product per tap from strided slices), with
 * Conv2D forward of the same convolution as the reference (the same MACs), in GFLOP/s (2·MACs).
 * Shapes: the U-Net Auto-Encoder's 3×3 convolutions at its `fast` (batch 16, 64 px, width 16) and
 * `paper` (batch 1, 256 px, width 64) sizes, a 1×1 bottleneck, and a stride-2 conv (RD's OCBE).
 *
 *   npx tsx bench/conv-backprop-filter.ts [--threads 1] [--rounds 5] [--chunks 1024,4096,0] [--shapes ae-fast,ae-paper,other]
 *
 * --chunks also times 'gemm' with fixed positions per product (0: one product over all positions),
 * to check the chunk rule (chunkPositions). Each cell is the median of --rounds rounds; within a
 * round every variant runs once, in turn, so load from other processes hits them alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
import { mulberry32 } from '../src/main/core/engine/random';
import { conv2dBackpropFilterByTaps, chunkPositions } from '../src/main/core/engine/kernels/conv2d-backprop-filter';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    chunks: { type: 'string', default: '' },
    shapes: { type: 'string', default: 'ae-fast,ae-paper,other' },
  },
});

interface Shape {
  name: string;
  group: string;
  x: [number, number, number, number];
  k: number;
  co: number;
  stride: number;
  pad: number;
}

const SHAPES: Shape[] = [];
// The U-Net's 3×3 convs: [batch, size, in, out] per level (encoder and decoder share the shapes).
for (const [b, w, group] of [
  [16, 16, 'ae-fast'],
  [1, 64, 'ae-paper'],
] as const) {
  const s = group === 'ae-fast' ? 64 : 256;
  const levels: [number, number, number][] = [
    [s, 3, w],
    [s, w, w],
    [s, w, 3],
    [s / 2, w, 2 * w],
    [s / 2, 2 * w, 2 * w],
    [s / 4, 4 * w, 4 * w],
    [s / 8, 8 * w, 8 * w],
    [s / 16, 8 * w, 8 * w],
  ];
  for (const [size, ci, co] of levels) SHAPES.push({ name: `3×3 ${ci}→${co}, ${b}×${size}²`, group, x: [b, size, size, ci], k: 3, co, stride: 1, pad: 1 });
}
SHAPES.push({ name: '1×1 128→16, 16×4²', group: 'other', x: [16, 4, 4, 128], k: 1, co: 16, stride: 1, pad: 0 });
SHAPES.push({ name: '3×3 s2 64→128, 1×64²', group: 'other', x: [1, 64, 64, 64], k: 3, co: 128, stride: 2, pad: 1 });

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const r = mulberry32(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), shape);
}

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;

async function main(): Promise<void> {
  const chosen = await initBackend('wasm', { wasmThreads: Number(values.threads) });
  const rounds = Number(values.rounds);
  const chunks = (values.chunks ?? '').split(',').filter((c) => c !== '').map(Number);
  const groups = new Set((values.shapes ?? '').split(','));
  console.log(`Conv2DBackpropFilter on wasm (${chosen.threads ?? 1} thread(s)), GFLOP/s (2·MACs), median of ${rounds} rounds`);
  const variants = ['fwd', 'taps', 'gemm', 'views', ...chunks.map((c) => `gemm/${c || 'all'}`)];
  console.log(['shape'.padEnd(26), 'chunk'.padStart(6), ...variants.map((v) => v.padStart(10)), 'best/taps'.padStart(10), 'best÷fwd'.padStart(9)].join(' '));
  for (const s of SHAPES.filter((sh) => groups.has(sh.group))) {
    const ci = s.x[3];
    const filterShape: [number, number, number, number] = [s.k, s.k, ci, s.co];
    const info = tf.backend_util.computeConv2DInfo(s.x, filterShape, s.stride, 1, s.pad);
    const x = randomTensor(s.x, 1) as tf.Tensor4D;
    const w = randomTensor(filterShape, 2) as tf.Tensor4D;
    const dy = randomTensor([s.x[0], info.outHeight, info.outWidth, s.co], 3) as tf.Tensor4D;
    const attrs = { strides: s.stride, pad: s.pad, filterShape };
    const gflop = (2 * s.x[0] * info.outHeight * info.outWidth * s.k * s.k * ci * s.co) / 1e9;
    const run: Record<string, () => void> = {
      fwd: () => tf.tidy(() => void tf.conv2d(x, w, s.stride, s.pad).dataSync()),
      taps: () => tf.tidy(() => void conv2dBackpropFilterByTaps(x, dy, attrs, { method: 'taps' }).dataSync()),
      gemm: () => tf.tidy(() => void conv2dBackpropFilterByTaps(x, dy, attrs, { method: 'gemm' }).dataSync()),
      views: () => tf.tidy(() => void conv2dBackpropFilterByTaps(x, dy, attrs, { method: 'views' }).dataSync()),
    };
    for (const c of chunks) run[`gemm/${c || 'all'}`] = () => tf.tidy(() => void conv2dBackpropFilterByTaps(x, dy, attrs, { chunk: c || Number.MAX_SAFE_INTEGER }).dataSync());
    const times: Record<string, number[]> = {};
    for (const v of variants) run[v]!(); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const t0 = performance.now();
        run[v]!();
        (times[v] ??= []).push((performance.now() - t0) / 1000);
      }
    }
    const rate = (v: string) => gflop / median(times[v]!);
    const positions = s.x[0] * (info.outHeight + 2) * (info.outWidth + 2);
    console.log(
      [
        s.name.padEnd(26),
        String(chunkPositions(s.k * s.k * ci, s.co, positions)).padStart(6),
        ...variants.map((v) => rate(v).toFixed(1).padStart(10)),
        `${(Math.max(rate('gemm'), rate('views')) / rate('taps')).toFixed(2)}×`.padStart(10),
        (Math.max(rate('gemm'), rate('views')) / rate('fwd')).toFixed(2).padStart(9),
      ].join(' '),
    );
    tf.dispose([x, w, dy]);
  }
  process.exit(0);
}

await main();
