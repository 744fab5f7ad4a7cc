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
 *   npx tsx bench/autoencoder-train.ts [--threads 1,2] [--shapes fast,paper] [--iters 3] [--no-torch] [--estimate]
 *
 * wasm threads are chosen at a process's first wasm initialisation, so each thread count runs in a
 * child process of this script (`--child N`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
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
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(threads), '--shapes', shapes.join(','), '--iters', String(iters)];
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024, timeout: 3_600_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`child (${threads} threads) failed: ${stderr || error.message}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, number>);
    });
  });
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
    for (const s of shapes) out[s] = timeStep(SHAPES[s]!.config);
    console.log(JSON.stringify(out));
    // The threaded wasm backend's workers keep the process alive after the work is done.
    process.exit(0);
  }
  const threadCounts = (values.threads ?? '').split(',').map(Number).filter((n) => n >= 1);
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
