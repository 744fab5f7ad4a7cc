/**
 * Speed of `Conv2DBackpropInput` on wasm: the backend's own kernel (a scalar C++ loop) against our
 * composition on XNNPACK kernels (engine/kernels/conv2d-backprop-input.ts, installed by
 * registerKernelOverrides), with Conv2D forward of the same convolution as the reference the
 * composition should approach, in GFLOP/s (2·MACs; dX costs the same MACs as the forward). Shapes:
 * the conv-net layers our methods train (U-Net AE, Reverse Distillation's deconvs and OCBE) and
 * a full training step of a small conv net (4 conv3×3 + ReLU, 64², batch 8, 32 channels), before
 * (native) and after (composed), in one process: setConv2DBackpropInputImpl switches.
 *
 * Then wasm threads: the same measurements with 1 and with N threads, each count in a child
 * process of this script (the thread count is fixed by a process's first wasm initialisation),
 * plus a bit-level checksum of the weights after a few seeded SGD steps, run twice per child, so a
 * thread count that changed results (or a run that is not repeatable) shows.
 *
 *   npx tsx bench/conv-backprop-input.ts [--seconds 1] [--threads 1,2] [--no-kernels] [--no-threads]
 *   npx tsx bench/conv-backprop-input.ts --child --threads 2     (one thread count, one JSON line)
 *
 * Times are the best of repeated calls within --seconds per cell (after a warm-up call), since other
 * work on a shared machine only ever adds time; the training step also reports the median.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/main/core/engine/backends';
import { mulberry32 } from '../src/main/core/engine/random';
import { overriddenKernels, setConv2DBackpropInputImpl, type Conv2DBackpropInputImpl } from '../src/main/core/engine/kernels/register';
import { planConv2dBackpropInput, type BackpropInputAttrs } from '../src/main/core/engine/kernels/conv2d-backprop-input';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1,2' },
    'no-kernels': { type: 'boolean', default: false },
    'no-threads': { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
  },
});
const budgetMs = Number(values.seconds) * 1000;

type Pad = BackpropInputAttrs['pad'];

interface Shape {
  name: string;
  /** x of the forward convolution: [b, h, w, Ci]. */
  x: [number, number, number, number];
  k: number;
  co: number;
  stride: number;
  pad: Pad;
}

const SHAPES: Shape[] = [
  { name: '3×3 128→128 s1, 1×32²', x: [1, 32, 32, 128], k: 3, co: 128, stride: 1, pad: 'same' },
  { name: 'AE 3×3 16→16 s1, 8×64²', x: [8, 64, 64, 16], k: 3, co: 16, stride: 1, pad: 'same' },
  { name: 'AE 3×3 32→32 s1, 8×64²', x: [8, 64, 64, 32], k: 3, co: 32, stride: 1, pad: 'same' },
  { name: 'AE 3×3 64→64 s1, 1×256²', x: [1, 256, 256, 64], k: 3, co: 64, stride: 1, pad: 'same' },
  // RD's decoder ConvTranspose2d(256, 128, 2, 2) at 16² in: the forward of that transposed conv is
  // this dX (dy = its input [1,16,16,256], filter [2,2,128,256]).
  { name: 'RD deconv 2×2 s2 256→128, 16²', x: [1, 32, 32, 128], k: 2, co: 256, stride: 2, pad: 'valid' },
  { name: '1×1 512→256, 1×32²', x: [1, 32, 32, 512], k: 1, co: 256, stride: 1, pad: 'valid' },
  // PyTorch's 3×3 stride-2 padding 1 (RD's OCBE), from 64².
  { name: '3×3 s2 p1 64→128, 1×64²', x: [1, 64, 64, 64], k: 3, co: 128, stride: 2, pad: 1 },
];

/** The shapes the thread comparison uses (a subset: each runs at 1 and N threads). */
const THREAD_SHAPES = [SHAPES[0] as Shape, SHAPES[2] as Shape];

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const r = mulberry32(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => r() * 2 - 1), shape);
}

/** Seconds of one call of `f`: best and median of repeated calls within the budget, after a warm-up. */
function time(f: () => void, minRuns = 3): { best: number; median: number } {
  f();
  const runs: number[] = [];
  const start = performance.now();
  while (runs.length < minRuns || performance.now() - start < budgetMs) {
    const t = performance.now();
    f();
    runs.push((performance.now() - t) / 1000);
  }
  runs.sort((a, b) => a - b);
  return { best: runs[0] as number, median: runs[Math.floor(runs.length / 2)] as number };
}

interface KernelRow {
  name: string;
  method: string;
  forward: number;
  native: number;
  composed: number;
}

/** GFLOP/s of Conv2D forward, native dX and composed dX for one shape. */
function measureShape(s: Shape, impls: Conv2DBackpropInputImpl[] = ['native', 'composed']): KernelRow {
  const ci = s.x[3];
  const info = tf.backend_util.computeConv2DInfo(s.x, [s.k, s.k, ci, s.co], s.stride, 1, s.pad);
  const x = randomTensor(s.x, 1) as tf.Tensor4D;
  const filter = randomTensor([s.k, s.k, ci, s.co], 2) as tf.Tensor4D;
  const dy = randomTensor([s.x[0], info.outHeight, info.outWidth, s.co], 3) as tf.Tensor4D;
  const attrs: BackpropInputAttrs = { strides: s.stride, pad: s.pad, dataFormat: 'NHWC', inputShape: s.x };
  const gflop = (2 * s.x[0] * info.outHeight * info.outWidth * s.k * s.k * ci * s.co) / 1e9;
  const rate = (f: () => void) => gflop / time(f).best;
  try {
    const forward = rate(() => tf.tidy(() => void tf.conv2d(x, filter, s.stride, s.pad).dataSync()));
    const dx = () => tf.tidy(() => void (tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
    const out: KernelRow = { name: s.name, method: planConv2dBackpropInput(dy.shape, filter.shape, attrs)?.method ?? 'native', forward, native: NaN, composed: NaN };
    for (const impl of impls) {
      const previous = setConv2DBackpropInputImpl(impl);
      try {
        out[impl] = rate(dx);
      } finally {
        setConv2DBackpropInputImpl(previous);
      }
    }
    return out;
  } finally {
    tf.dispose([x, filter, dy]);
  }
}

/**
 * A small conv net: 4 conv 3×3 'same' layers with bias and ReLU (no batch norm), 3 → 32 → 32 → 32
 * → 3 channels, trained to reconstruct a batch of 8 64² images with a mean squared error. The
 * gradient flows into the input of layers 2–4, so a step runs three Conv2DBackpropInput calls.
 */
class SmallConvNet {
  readonly weights: tf.Variable[];
  readonly x: tf.Tensor4D;

  constructor(seed: number) {
    const widths = [3, 32, 32, 32, 3];
    this.weights = [];
    for (let i = 0; i < 4; i++) {
      const [cin, cout] = [widths[i] as number, widths[i + 1] as number];
      const scale = Math.sqrt(2 / (9 * cin));
      this.weights.push(tf.variable(tf.mul(randomTensor([3, 3, cin, cout], seed + i), scale)));
      this.weights.push(tf.variable(tf.zeros([cout])));
    }
    this.x = randomTensor([8, 64, 64, 3], seed + 100) as tf.Tensor4D;
  }

  private loss(ws: tf.Tensor[]): tf.Scalar {
    let h: tf.Tensor4D = this.x;
    for (let i = 0; i < 4; i++) {
      const y = tf.add(tf.conv2d(h, ws[2 * i] as tf.Tensor4D, 1, 'same'), ws[2 * i + 1] as tf.Tensor) as tf.Tensor4D;
      h = i < 3 ? tf.relu(y) : y;
    }
    return tf.mean(tf.squaredDifference(h, this.x));
  }

  /** One SGD step (forward, backward, update); returns the loss. */
  step(lr = 0.01): number {
    return tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((...ws: tf.Tensor[]) => this.loss(ws))(this.weights);
      this.weights.forEach((w, i) => w.assign(tf.sub(w, tf.mul(grads[i] as tf.Tensor, lr))));
      return value.dataSync()[0] as number;
    });
  }

  /** sha256 of every weight's bytes: equal only when the runs are bit-identical. */
  checksum(): string {
    const hash = createHash('sha256');
    for (const w of this.weights) hash.update(new Uint8Array((w.dataSync() as Float32Array).slice().buffer));
    return hash.digest('hex').slice(0, 16);
  }

  dispose(): void {
    tf.dispose([...this.weights, this.x]);
  }
}

/** Seconds per training step of the small conv net with the given dX implementation. */
function measureStep(impl: Conv2DBackpropInputImpl): { best: number; median: number } {
  const previous = setConv2DBackpropInputImpl(impl);
  const net = new SmallConvNet(7);
  try {
    return time(() => void net.step(), 3);
  } finally {
    net.dispose();
    setConv2DBackpropInputImpl(previous);
  }
}

/** Weights checksum after 3 seeded SGD steps from the same start. */
function trainedChecksum(): string {
  const net = new SmallConvNet(11);
  try {
    for (let i = 0; i < 3; i++) net.step();
    return net.checksum();
  } finally {
    net.dispose();
  }
}

interface ThreadResult {
  threads: number;
  rows: KernelRow[];
  step: { best: number; median: number };
  checksums: [string, string];
}

async function child(threads: number): Promise<ThreadResult> {
  const chosen = await initBackend('wasm', { wasmThreads: threads });
  const rows = THREAD_SHAPES.map((s) => measureShape(s, ['composed']));
  const step = measureStep('composed');
  return { threads: chosen.threads ?? 1, rows, step, checksums: [trainedChecksum(), trainedChecksum()] };
}

const CHILD_TIMEOUT_MS = 600_000;

function runChild(threads: number): Promise<ThreadResult> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--threads', String(threads), '--seconds', String(values.seconds)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 << 20, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error((error as { killed?: boolean }).killed ? `no result within ${CHILD_TIMEOUT_MS / 1000} s` : (stderr || error.message).slice(-400)));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as ThreadResult);
    });
  });
}

const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '—');

async function main(): Promise<void> {
  if (values.child) {
    const r = await child(Number(values.threads));
    // A threaded wasm's workers keep the process alive, so the child exits once its line is out.
    process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(0));
    return;
  }
  if (!values['no-kernels']) {
    const chosen = await initBackend('wasm', { wasmThreads: 1 });
    if (!overriddenKernels('wasm').includes('Conv2DBackpropInput')) throw new Error('the Conv2DBackpropInput override is not installed');
    console.log(`Conv2DBackpropInput on wasm (${chosen.threads ?? 1} thread), GFLOP/s (2·MACs), best of calls within ${values.seconds} s`);
    console.log(['shape'.padEnd(32), 'method'.padEnd(8), 'Conv2D fwd'.padStart(11), 'native dX'.padStart(10), 'composed dX'.padStart(12), 'speed-up'.padStart(9), '÷ fwd'.padStart(7)].join(' '));
    for (const s of SHAPES) {
      const r = measureShape(s);
      console.log(
        [r.name.padEnd(32), r.method.padEnd(8), f1(r.forward).padStart(11), f1(r.native).padStart(10), f1(r.composed).padStart(12), `${f1(r.composed / r.native)}×`.padStart(9), f2(r.composed / r.forward).padStart(7)].join(' '),
      );
    }
    const before = measureStep('native');
    const after = measureStep('composed');
    console.log(
      `\ntraining step, 4 conv3×3 + ReLU, 8×64², 3→32→32→32→3 (tf.valueAndGrads + SGD): native dX ${f1(before.best * 1000)} ms (median ${f1(before.median * 1000)}), composed ${f1(after.best * 1000)} ms (median ${f1(after.median * 1000)}), speed-up ${f2(before.best / after.best)}× (median ${f2(before.median / after.median)}×)`,
    );
  }
  if (!values['no-threads']) {
    const counts = String(values.threads).split(',').map(Number).filter((n) => n >= 1);
    console.log(`\nwasm threads (each count in its own process; composed dX; GFLOP/s, best of calls within ${values.seconds} s)`);
    const head = ['threads'.padEnd(8), ...THREAD_SHAPES.flatMap((s) => [`fwd ${s.name}`.padStart(30), `dX ${s.name}`.padStart(30)]), 'step ms'.padStart(9), 'median'.padStart(8), 'step speed-up'.padStart(14), 'checksum ×2'.padStart(36)];
    console.log(head.join(' '));
    let base: ThreadResult | null = null;
    for (const n of counts) {
      let r: ThreadResult;
      try {
        r = await runChild(n);
      } catch (error) {
        console.log(`${String(n).padEnd(8)} failed: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      base ??= r;
      console.log(
        [
          String(r.threads).padEnd(8),
          ...r.rows.flatMap((row) => [f1(row.forward).padStart(30), f1(row.composed).padStart(30)]),
          f1(r.step.best * 1000).padStart(9),
          f1(r.step.median * 1000).padStart(8),
          `${f2(base.step.best / r.step.best)}×`.padStart(14),
          `${r.checksums[0]} ${r.checksums[1] === r.checksums[0] ? '=' : '≠'}`.padStart(36),
        ].join(' '),
      );
      if (r !== base) console.log(`${''.padEnd(8)} weights after 3 SGD steps ${r.checksums[0] === base.checksums[0] ? 'bit-identical to' : 'DIFFER from'} the ${base.threads}-thread run`);
    }
  }
}

await main();
