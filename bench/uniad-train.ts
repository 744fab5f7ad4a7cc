/**
 * Training speed of UniAD's reconstruction (issue 17): images/s of the lab's training step on wasm
 * on cached features (feature_align as the feature cache gives it; then jitter, the transformer with
 * dropout and the neighbour mask, the feature MSE, tf.variableGrads, clipping by global norm and
 * AdamW: the training loop's step) beside PyTorch on the same machine and threads
 * (scripts/reference/uniad.py bench: the same model with torch's own modules, jitter, loss, clip and
 * AdamW, dropout 0 there and 0.1 here — see `dropout` below), as a ratio (ours / torch). Then the
 * attention alone at the paper's batch 64 (64 × 196 = 12,544 tokens × 256): one masked
 * MultiheadAttention forward, and forward + backward, on wasm.
 *
 * Shapes: `fast` (the preset: 8 × 8 tokens, hidden 128, 2 + 2 layers, batch 16) and `paper`
 * (14 × 14 tokens, hidden 256, 4 + 4 layers) at batch 8 (one batch of 64 is ~0.8 TFLOP of training
 * per step; its speed per image is about that of batch 8 on a CPU).
 *
 *   npx tsx bench/uniad-train.ts [--threads 2] [--shapes fast,paper] [--iters 3] [--no-torch] [--no-attention] [--ab]
 *
 * The wasm thread count is chosen at the process's first wasm initialisation (one per run).
 *
 * Measured here (2 cores shared with other jobs, load average 1.4–3.8; orders of magnitude): fast
 * 20.5 img/s on wasm vs 63.8 in PyTorch 1.13 (0.32×), paper shape 0.86 vs 3.60 img/s (0.24×); the
 * masked attention at batch 64: forward 1.49 s (6.1 GFLOP/s), forward + backward 4.2 s. Before the
 * BatchMatMul override (kernels/batch-mat-mul.ts, `--ab`) the fast step was ~4.5× slower (0.09×).
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
import { AdamW, clipGradNorm } from '../src/main/core/engine/optim/index';
import { setBatchMatMulImpl } from '../src/main/core/engine/kernels/register';
import { mulberry32 } from '../src/main/core/engine/random';
import { MultiheadAttention } from '../src/main/core/engine/nn/index';
import { resolveUniadConfig, uniadCost, type UniadConfig } from '../src/main/core/methods/uniad/config';
import { uniadTrainLoss } from '../src/main/core/methods/uniad/fit';
import { buildUniad, neighbourMask } from '../src/main/core/methods/uniad/model';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/uniad.py', import.meta.url));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    shapes: { type: 'string', default: 'fast,paper' },
    iters: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    'no-attention': { type: 'boolean', default: false },
    /** Also time each shape with wasm's own BatchMatMul (no override of transposed operands): before/after. */
    ab: { type: 'boolean', default: false },
  },
});

const SHAPES: Record<string, { name: string; config: UniadConfig }> = {
  fast: { name: 'fast (8×8 tokens, d 128, 2+2, batch 16)', config: resolveUniadConfig('fast').config },
  paper: { name: 'paper (14×14 tokens, d 256, 4+4, batch 8)', config: resolveUniadConfig('paper', { batchSize: 8 }).config },
};
const iters = Number(values.iters);
const threads = Number(values.threads);

function ms(t0: number): number {
  return performance.now() - t0;
}

/** Seconds per training step on random cached features (the first step, which builds kernels, is not counted). */
async function oursStep(config: UniadConfig): Promise<number> {
  const model = buildUniad(config);
  const opt = new AdamW(model.namedParameters(), { lr: config.learningRate, eps: 1e-8, weightDecay: config.weightDecay });
  const side = config.inputSize / 16;
  const rand = mulberry32(1);
  const x = tf.tensor4d(Float32Array.from({ length: config.batchSize * side * side * 272 }, () => rand()), [config.batchSize, side, side, 272]);
  const times: number[] = [];
  try {
    model.train();
    for (let i = 0; i <= iters; i++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => uniadTrainLoss(model, x, { seed: i }, config), opt.variables());
      await value.data();
      clipGradNorm(grads, config.clipMaxNorm);
      opt.step(grads);
      tf.dispose([value, ...Object.values(grads)]);
      await tf.ready();
      if (i > 0) times.push(ms(t0) / 1000);
    }
  } finally {
    x.dispose();
    opt.dispose();
    model.dispose();
  }
  return times.reduce((a, b) => a + b, 0) / times.length;
}

async function torchStep(config: UniadConfig): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'uniad-bench-'));
  try {
    await writeFile(join(dir, 'cfg.json'), JSON.stringify(config));
    const { stdout } = await runPython([SCRIPT, 'bench', '--config', join(dir, 'cfg.json'), '--batch-size', String(config.batchSize), '--steps', String(iters), '--threads', String(threads)], 1_800_000);
    return (JSON.parse(stdout.trim().split('\n').pop()!) as { secondsPerStep: number }).secondsPerStep;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The masked attention at the paper's batch 64 on wasm: forward, and forward + backward (ms). */
async function attention(): Promise<{ forward: number; backward: number }> {
  const b = 64;
  const L = 196;
  const d = 256;
  const attn = new MultiheadAttention(d, 8).initialize(0);
  attn.eval();
  const rand = mulberry32(2);
  const x = tf.tensor3d(Float32Array.from({ length: b * L * d }, () => rand() - 0.5), [b, L, d]);
  const mask = tf.tensor2d(neighbourMask(14, 14, 7), [L, L]);
  try {
    const run = async (backward: boolean): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i <= iters; i++) {
        const t0 = performance.now();
        if (backward) {
          const { value, grads } = tf.variableGrads(() => tf.sum(attn.forward(x, x, x, { attnMask: mask })), attn.parameters());
          await value.data();
          tf.dispose([value, ...Object.values(grads)]);
        } else {
          const y = tf.tidy(() => attn.forward(x, x, x, { attnMask: mask }));
          await y.data();
          y.dispose();
        }
        if (i > 0) times.push(ms(t0));
      }
      return times.reduce((a, c) => a + c, 0) / times.length;
    };
    return { forward: await run(false), backward: await run(true) };
  } finally {
    tf.dispose([x, mask]);
    attn.dispose();
  }
}

async function main(): Promise<void> {
  const chosen = await initBackend('wasm', { wasmThreads: threads });
  const torch = values['no-torch'] ? null : await assertTorch().catch((e: unknown) => (console.warn(String(e)), null));
  console.log(`UniAD training step, wasm ${chosen.threads ?? 1} thread(s) vs PyTorch ${torch ?? '(not run)'} on ${threads} thread(s), cached features, ${iters} timed steps`);
  console.log(`${'shape'.padEnd(44)} ${'GFLOP/img'.padStart(9)} ${'wasm img/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'torch img/s'.padStart(11)} ${'ours/torch'.padStart(10)}`);
  for (const key of (values.shapes ?? '').split(',').filter((s) => s in SHAPES)) {
    const { name, config } = SHAPES[key]!;
    // The backbone runs once per image (cached): what a training step costs is the reconstruction.
    const gflop = uniadCost(config).gflopPerImage - 1.84 * (config.inputSize / 224) ** 2;
    const ours = config.batchSize / (await oursStep(config));
    const theirs = torch ? config.batchSize / (await torchStep(config)) : Number.NaN;
    console.log(`${name.padEnd(44)} ${gflop.toFixed(2).padStart(9)} ${ours.toFixed(2).padStart(10)} ${(ours * gflop).toFixed(1).padStart(8)} ${theirs.toFixed(2).padStart(11)} ${(ours / theirs).toFixed(3).padStart(10)}`);
    if (values.ab) {
      setBatchMatMulImpl('native');
      const native = config.batchSize / (await oursStep(config));
      setBatchMatMulImpl('transposed');
      console.log(`${`  (wasm's own BatchMatMul)`.padEnd(44)} ${''.padStart(9)} ${native.toFixed(2).padStart(10)} ${(native * gflop).toFixed(1).padStart(8)} ${''.padStart(11)} ${(native / theirs).toFixed(3).padStart(10)}`);
    }
  }
  if (!values['no-attention']) {
    const a = await attention();
    const flop = 2 * 64 * (4 * 196 * 256 * 256 + 2 * 196 * 196 * 256);
    console.log(`attention, batch 64 (12,544 tokens × 256, 8 heads, 7×7 mask) on wasm: forward ${a.forward.toFixed(0)} ms (${(flop / a.forward / 1e6).toFixed(1)} GFLOP/s), forward + backward ${a.backward.toFixed(0)} ms`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
