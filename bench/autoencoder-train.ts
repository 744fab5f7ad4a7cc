/**
 * Training speed of the U-Net Auto-Encoder (issue 13): images/s of one training step (forward, MSE,
 * tf.variableGrads, torch-exact Adam with coupled weight decay: the training loop's step) on wasm
 * with 1 and 2 threads, beside PyTorch on the same machine with the same thread count and the same
 * shapes (scripts/reference/autoencoder.py bench), as a ratio (ours / torch). Shapes: the `fast`
 * preset (64 px, base width 16, batch 16) and the `paper` preset's network (256 px, base width 64)
 * at batch 1, since one paper batch of 16 is ~3.8 TFLOP.
 *
 * With --estimate it also checks the cost estimate (runs/estimate.ts) against reality: a short
 * calibration run measures the backend's GFLOP/s as a finished run records it, the estimate of a
 * full `fast` run is computed from it, then that run is timed (MIAD-mini, 64 images, 50 epochs).
 *
 *   npx tsx bench/autoencoder-train.ts [--threads 1,2] [--shapes fast,paper] [--iters 3] [--no-torch] [--estimate] [--profile [--top 25]] [--ab]
 *
 * With --profile it times every kernel of the timed steps instead (wrapping `engine().runKernel`;
 * wasm runs kernels synchronously, so wall time is kernel time) and prints, per thread count and
 * shape, the share of forward / backward / optimizer and the top kernels by exclusive time (a
 * composed kernel's own time, less the kernels it runs inside), by kernel and by kernel + shapes.
 *
 * With --ab it measures the speed-ups of issue 13's step work one by one, in one process per thread
 * count: the step as it was (wasm's own Tile, MaxPoolGrad and Identity, the per-tap Conv2DBackpropFilter,
 * tfjs-core's composite batch norm, tf.add for conv biases), then each change added in turn. Rounds alternate
 * the variants (one step each, --iters rounds), so load from other processes hits them alike;
 * the table gives each variant's median.
 *
 * wasm threads are chosen at a process's first wasm initialisation, so each thread count runs in a
 * child process of this script (`--child N`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runBenchChild } from './lib/child';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
import { setConv2DBackpropFilterMethod } from '../src/main/core/engine/kernels/conv2d-backprop-filter';
import { selectReplacement } from '../src/main/core/engine/kernels/register';
import { setBatchNormImpl, setConvBiasImpl, type BatchNormImpl } from '../src/main/core/engine/nn/layers';
import { Adam } from '../src/main/core/engine/optim/index';
import { mulberry32 } from '../src/main/core/engine/random';
import { autoencoderCost, resolveAutoencoderConfig, type AutoencoderConfig } from '../src/main/core/methods/autoencoder/config';
import { reconstructionLoss } from '../src/main/core/methods/autoencoder/loss';
import { buildAutoencoder, normalizeInput } from '../src/main/core/methods/autoencoder/model';
import { autoencoderMethod } from '../src/main/core/methods/autoencoder/method';
import { runMethod } from '../src/main/core/methods/harness/run-method';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { formatDuration } from '../src/main/core/runs/estimate';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/autoencoder.py', import.meta.url));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    shapes: { type: 'string', default: 'fast,paper' },
    iters: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    estimate: { type: 'boolean', default: false },
    child: { type: 'string' },
    profile: { type: 'boolean', default: false },
    ab: { type: 'boolean', default: false },
    top: { type: 'string', default: '25' },
  },
});

interface Shape {
  name: string;
  config: AutoencoderConfig;
}

const SHAPES: Record<string, Shape> = {
  fast: { name: 'fast (64 px, width 16, batch 16)', config: resolveAutoencoderConfig('fast').config },
  paper: { name: 'paper (256 px, width 64, batch 1)', config: resolveAutoencoderConfig('paper', { batchSize: 1 }).config },
};

const iters = Number(values.iters);
const shapes = (values.shapes ?? '').split(',').filter((s) => s in SHAPES);

type Phase = 'forward' | 'backward' | 'optimizer';

/** Per-kernel timings of what runs through `engine().runKernel` while `phase` is set. */
class KernelProfiler {
  phase: Phase | null = null;
  readonly byKernel = new Map<string, { ms: number; calls: number }>();
  readonly byShape = new Map<string, { ms: number; calls: number }>();
  readonly byPhase = new Map<Phase, number>();
  #stack: number[] = [];
  #original: ((...a: unknown[]) => unknown) | null = null;

  install(): void {
    const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
    const original = engine.runKernel;
    this.#original = original;
    engine.runKernel = (name: unknown, inputs: unknown, attrs: unknown) => {
      if (this.phase === null) return original.call(engine, name, inputs, attrs);
      const phase = this.phase;
      this.#stack.push(0);
      const t0 = performance.now();
      const out = original.call(engine, name, inputs, attrs);
      const total = performance.now() - t0;
      const inner = this.#stack.pop()!;
      if (this.#stack.length > 0) this.#stack[this.#stack.length - 1]! += total;
      else this.byPhase.set(phase, (this.byPhase.get(phase) ?? 0) + total);
      const self = total - inner;
      const shapes = Object.values(inputs as Record<string, { shape?: number[] }>)
        .map((t) => `[${t?.shape?.join(',') ?? ''}]`)
        .join(' ');
      for (const [map, k] of [
        [this.byKernel, `${phase.padEnd(9)} ${String(name)}`],
        [this.byShape, `${phase.padEnd(9)} ${String(name)} ${shapes}`],
      ] as const) {
        const e = map.get(k) ?? { ms: 0, calls: 0 };
        e.ms += self;
        e.calls += 1;
        map.set(k, e);
      }
      return out;
    };
  }

  uninstall(): void {
    if (this.#original) (tf.engine() as unknown as { runKernel: unknown }).runKernel = this.#original;
  }

  report(title: string, steps: number, wallMs: number, top: number): string {
    const lines: string[] = [];
    const kernelMs = [...this.byPhase.values()].reduce((a, b) => a + b, 0);
    lines.push(`\n${title}: ${(wallMs / steps).toFixed(1)} ms/step wall, ${(kernelMs / steps).toFixed(1)} ms/step in kernels`);
    for (const [p, ms] of this.byPhase) lines.push(`  ${p.padEnd(9)} ${(ms / steps).toFixed(1).padStart(8)} ms/step ${((100 * ms) / kernelMs).toFixed(1).padStart(5)} %`);
    const table = (map: Map<string, { ms: number; calls: number }>, head: string) => {
      lines.push(`  ${head}: ms/step, share of kernel time, calls/step`);
      const rows = [...map].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
      for (const [k, e] of rows) lines.push(`  ${(e.ms / steps).toFixed(2).padStart(9)} ${((100 * e.ms) / kernelMs).toFixed(1).padStart(5)} % ${String(e.calls / steps).padStart(5)}  ${k}`);
    };
    table(this.byKernel, 'top kernels (exclusive time)');
    table(this.byShape, 'top kernel calls by input shapes (exclusive time)');
    return lines.join('\n');
  }
}

/** The training step of timeStep with every kernel timed (--profile). */
function profileStep(config: AutoencoderConfig, title: string, top: number): string {
  const model = buildAutoencoder(config);
  const opt = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], weightDecay: config.weightDecay });
  const rand = mulberry32(1);
  const n = config.batchSize * config.inputSize * config.inputSize * 3;
  const images = tf.tensor4d(Float32Array.from({ length: n }, () => rand()), [config.batchSize, config.inputSize, config.inputSize, 3]);
  const prof = new KernelProfiler();
  const step = (on: boolean) => {
    const { value, grads } = tf.variableGrads(() => {
      if (on) prof.phase = 'forward';
      const x = normalizeInput(images, config);
      const loss = reconstructionLoss(model.forward(x), x);
      if (on) prof.phase = 'backward';
      return loss;
    }, opt.variables());
    value.dataSync();
    if (on) prof.phase = 'optimizer';
    opt.step(grads);
    prof.phase = null;
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(false);
  prof.install();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) step(true);
  const wall = performance.now() - t0;
  prof.uninstall();
  images.dispose();
  opt.dispose();
  model.dispose();
  return prof.report(title, iters, wall, top);
}

interface Variant {
  name: string;
  tile: 'ours' | 'native';
  filter: 'gemm' | 'taps';
  bn: BatchNormImpl;
  maxPoolGrad: 'ours' | 'native';
  identity: 'ours' | 'native';
  bias: 'channel-bias' | 'add';
}

/** The step as it was, then each change of issue 13's step work added in turn (--ab). */
const VARIANTS: Variant[] = [
  { name: 'before (native Tile/MaxPoolGrad/Identity, dW by taps, composite BN)', tile: 'native', filter: 'taps', bn: 'composite', maxPoolGrad: 'native', identity: 'native', bias: 'add' },
  { name: '+ Tile by block copies', tile: 'ours', filter: 'taps', bn: 'composite', maxPoolGrad: 'native', identity: 'native', bias: 'add' },
  { name: '+ Conv2DBackpropFilter flat-shift GEMM', tile: 'ours', filter: 'gemm', bn: 'composite', maxPoolGrad: 'native', identity: 'native', bias: 'add' },
  { name: '+ batch-norm closed-form gradient', tile: 'ours', filter: 'gemm', bn: 'closed-form-grad', maxPoolGrad: 'native', identity: 'native', bias: 'add' },
  { name: '+ MaxPoolGrad in one pass', tile: 'ours', filter: 'gemm', bn: 'closed-form-grad', maxPoolGrad: 'ours', identity: 'native', bias: 'add' },
  { name: '+ Identity without a copy', tile: 'ours', filter: 'gemm', bn: 'closed-form-grad', maxPoolGrad: 'ours', identity: 'ours', bias: 'add' },
  { name: '+ vectorised batch-norm forward', tile: 'ours', filter: 'gemm', bn: 'vectorised', maxPoolGrad: 'ours', identity: 'ours', bias: 'add' },
  { name: '+ conv bias as a channel bias (= after)', tile: 'ours', filter: 'gemm', bn: 'vectorised', maxPoolGrad: 'ours', identity: 'ours', bias: 'channel-bias' },
];

function applyVariant(v: Variant): void {
  selectReplacement('Tile', 'wasm', v.tile);
  selectReplacement('MaxPoolGrad', 'wasm', v.maxPoolGrad);
  selectReplacement('Identity', 'wasm', v.identity);
  setConv2DBackpropFilterMethod(v.filter);
  setBatchNormImpl(v.bn);
  setConvBiasImpl(v.bias);
}

/** Median ms per step of every variant, alternating variants within each round. */
function abSteps(config: AutoencoderConfig): number[] {
  const model = buildAutoencoder(config);
  const opt = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], weightDecay: config.weightDecay });
  const rand = mulberry32(1);
  const n = config.batchSize * config.inputSize * config.inputSize * 3;
  const images = tf.tensor4d(Float32Array.from({ length: n }, () => rand()), [config.batchSize, config.inputSize, config.inputSize, 3]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const x = normalizeInput(images, config);
      return reconstructionLoss(model.forward(x), x);
    }, opt.variables());
    value.dataSync();
    opt.step(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  const times: number[][] = VARIANTS.map(() => []);
  try {
    for (const v of VARIANTS) {
      applyVariant(v);
      step(); // warm-up of each variant
    }
    for (let r = 0; r < iters; r++) {
      VARIANTS.forEach((v, i) => {
        applyVariant(v);
        const t0 = performance.now();
        step();
        times[i]!.push(performance.now() - t0);
      });
    }
  } finally {
    applyVariant(VARIANTS[VARIANTS.length - 1]!);
    images.dispose();
    opt.dispose();
    model.dispose();
  }
  return times.map((t) => [...t].sort((a, b) => a - b)[Math.floor(t.length / 2)]!);
}

/** images/s of the training loop's step on the current backend. */
function timeStep(config: AutoencoderConfig): number {
  const model = buildAutoencoder(config);
  const opt = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], weightDecay: config.weightDecay });
  const rand = mulberry32(1);
  const n = config.batchSize * config.inputSize * config.inputSize * 3;
  const images = tf.tensor4d(Float32Array.from({ length: n }, () => rand()), [config.batchSize, config.inputSize, config.inputSize, 3]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const x = normalizeInput(images, config);
      return reconstructionLoss(model.forward(x), x);
    }, opt.variables());
    value.dataSync();
    opt.step(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) step();
  const seconds = (performance.now() - t0) / 1000;
  images.dispose();
  opt.dispose();
  model.dispose();
  return (iters * config.batchSize) / seconds;
}

function runChild(threads: number): Promise<Record<string, number>> {
  const args = ['--shapes', shapes.join(','), '--iters', String(iters)];
  if (values.profile) args.push('--profile', '--top', String(values.top));
  if (values.ab) args.push('--ab');
  return runBenchChild(fileURLToPath(import.meta.url), threads, args, { timeoutMs: 3_600_000, echo: Boolean(values.profile || values.ab) });
}

async function torchSpeed(config: AutoencoderConfig, threads: number): Promise<number> {
  const { stdout } = await runPython(
    [SCRIPT, 'bench', '--size', String(config.inputSize), '--base-width', String(config.baseWidth), '--latent', String(config.latentChannels), '--batch-size', String(config.batchSize), '--threads', String(threads), '--iters', String(iters), '--weight-decay', String(config.weightDecay)],
    3_600_000,
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

async function estimateCheck(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ae-estimate-'));
  try {
    await initBackend('wasm');
    await generateMiadMini({ outDir: join(dir, 'mini'), scenarios: ['nut_and_bolt'], train: 64, test: 16, size: 96, seed: 4 });
    const quiet = { progress: () => undefined };
    // Calibration as the lab does it: a finished run's measured GFLOP/s (summary.train.trainGflops).
    const calib = await runMethod(autoencoderMethod, { datasetRoot: join(dir, 'mini'), scenario: 'nut_and_bolt', preset: 'fast', overrides: { epochs: 3 }, weights: 'random', outDir: join(dir, 'calib') }, quiet);
    const gflops = calib.train['trainGflops'] as number;
    const { config } = resolveAutoencoderConfig('fast');
    const cost = autoencoderCost(config);
    const estimated = (cost.gflopPerImage * 64 * cost.epochs) / gflops;
    const real = await runMethod(autoencoderMethod, { datasetRoot: join(dir, 'mini'), scenario: 'nut_and_bolt', preset: 'fast', weights: 'random', outDir: join(dir, 'real') }, quiet);
    const trained = real.timings['train']!;
    console.log(`\nEstimate against reality (wasm, ${tf.getBackend()}, fast preset: 64 images × 50 epochs at 64 px):`);
    console.log(`  calibration run (3 epochs): ${gflops.toFixed(2)} GFLOP/s effective`);
    console.log(`  estimated training time: ${estimated.toFixed(0)} s (${formatDuration(estimated)})`);
    console.log(`  real training time:      ${trained.toFixed(0)} s; estimate / real = ${(estimated / trained).toFixed(2)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (values.child) {
    const threads = Number(values.child);
    const chosen = await initBackend('wasm', { wasmThreads: threads });
    const out: Record<string, number> = { threads: chosen.threads ?? 1 };
    if (values.profile) {
      for (const s of shapes) console.log(profileStep(SHAPES[s]!.config, `${SHAPES[s]!.name}, ${out['threads']} thread(s)`, Number(values.top)));
      console.log(JSON.stringify(out));
      process.exit(0);
    }
    if (values.ab) {
      for (const s of shapes) {
        const config = SHAPES[s]!.config;
        const ms = abSteps(config);
        console.log(`\n${SHAPES[s]!.name}, ${out['threads']} thread(s), median of ${iters} alternating rounds:`);
        ms.forEach((m, i) => {
          const prev = i > 0 ? `  ×${(ms[i - 1]! / m).toFixed(2)} on the line above` : '';
          console.log(`  ${VARIANTS[i]!.name.padEnd(76)} ${m.toFixed(0).padStart(7)} ms/step ${((1000 * config.batchSize) / m).toFixed(2).padStart(7)} img/s${prev}`);
        });
        console.log(`  total: ×${(ms[0]! / ms[ms.length - 1]!).toFixed(2)}`);
      }
      console.log(JSON.stringify(out));
      process.exit(0);
    }
    for (const s of shapes) out[s] = timeStep(SHAPES[s]!.config);
    console.log(JSON.stringify(out));
    // The threaded wasm backend's workers keep the process alive after the work is done.
    process.exit(0);
  }
  const threadCounts = (values.threads ?? '').split(',').map(Number).filter((n) => n >= 1);
  if (values.profile || values.ab) {
    for (const threads of threadCounts) await runChild(threads);
    return;
  }
  if (!values['no-torch']) await assertTorch();
  console.log(`U-Net Auto-Encoder training step, images/s (${iters} timed steps after one warm-up)\n`);
  console.log(`${'shape'.padEnd(36)} ${'GFLOP/img'.padStart(9)} ${'threads'.padStart(7)} ${'wasm img/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'torch img/s'.padStart(11)} ${'ours/torch'.padStart(10)}`);
  for (const threads of threadCounts) {
    const ours = await runChild(threads);
    for (const s of shapes) {
      const shape = SHAPES[s]!;
      const gflop = autoencoderCost(shape.config).gflopPerImage;
      const torch = values['no-torch'] ? Number.NaN : await torchSpeed(shape.config, threads);
      const mine = ours[s]!;
      console.log(
        `${shape.name.padEnd(36)} ${gflop.toFixed(2).padStart(9)} ${String(ours['threads']).padStart(7)} ${mine.toFixed(2).padStart(10)} ${(mine * gflop).toFixed(1).padStart(8)} ${torch.toFixed(2).padStart(11)} ${(mine / torch).toFixed(2).padStart(10)}`,
      );
    }
  }
  if (values.estimate) await estimateCheck();
}

await main();
process.exit(0);
