/**
 * Training speed of DRAEM (issue 16): images/s of one training step as the loop runs it (both
 * sub-networks forward, L2 + SSIM + focal, tf.variableGrads, torch-exact Adam in two groups) on wasm
 * with 1 and 2 threads, beside PyTorch on the same machine with the same thread count and the same
 * shapes (scripts/reference/draem.py bench), as a ratio (ours / torch). Inputs are pre-made random
 * tensors: the synthesis' own cost is bench/draem-synthesis.ts's.
 *
 * Shapes: the `fast` preset (64 px, widths 16 / 8, batch 8) and the `paper` preset's networks (256 px,
 * widths 128 / 64) at batch 1: one paper batch of 8 is 9.5 TFLOP, and the paper step at batch 1
 * (1.19 TFLOP, ~3 GB of activations, parameters and Adam state) already fills most of wasm's heap.
 *
 *   npx tsx bench/draem-train.ts [--threads 1,2] [--shapes fast,paper] [--iters 3] [--no-torch]
 *
 * wasm threads are chosen at a process's first wasm initialisation, so each thread count runs in a
 * child process of this script (`--child N`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runBenchChild } from './lib/child';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
import { Adam } from '../src/main/core/engine/optim/index';
import { mulberry32 } from '../src/main/core/engine/random';
import { draemCost, resolveDraemConfig, type DraemConfig } from '../src/main/core/methods/draem/config';
import { draemLoss } from '../src/main/core/methods/draem/loss';
import { buildDraem } from '../src/main/core/methods/draem/model';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/draem.py', import.meta.url));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' },
    shapes: { type: 'string', default: 'fast,paper' },
    iters: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

const SHAPES: Record<string, { name: string; config: DraemConfig }> = {
  fast: { name: 'fast (64 px, widths 16/8, batch 8)', config: resolveDraemConfig('fast').config },
  paper: { name: 'paper (256 px, widths 128/64, batch 1)', config: resolveDraemConfig('paper', { batchSize: 1 }).config },
};

const iters = Number(values.iters);
const shapes = (values.shapes ?? '').split(',').filter((s) => s in SHAPES);

/** Median seconds of `iters` training steps after one warm-up step. */
async function timeStep(config: DraemConfig): Promise<number> {
  const model = buildDraem(config);
  const groups = model.parameterGroups();
  const opt = new Adam([{ params: groups.reconstructive }, { params: groups.discriminative }], { lr: config.learningRate, eps: 1e-8 });
  const rand = mulberry32(1);
  const b = config.batchSize;
  const s = config.inputSize;
  const x = tf.tensor4d(Float32Array.from({ length: b * s * s * 3 }, () => rand()), [b, s, s, 3]);
  const y = tf.tensor4d(Float32Array.from({ length: b * s * s * 3 }, () => rand()), [b, s, s, 3]);
  const m = tf.tensor4d(Float32Array.from({ length: b * s * s }, () => (rand() > 0.7 ? 1 : 0)), [b, s, s, 1]);
  model.train();
  const step = async () => {
    const { value, grads } = tf.variableGrads(() => draemLoss(model, x, y, m).loss, opt.variables());
    await value.data();
    opt.step(grads);
    tf.dispose([value, ...Object.values(grads)]);
  };
  try {
    await step();
    const times: number[] = [];
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      await step();
      times.push((performance.now() - t0) / 1000);
    }
    return times.sort((a, c) => a - c)[Math.floor(times.length / 2)]!;
  } finally {
    tf.dispose([x, y, m]);
    opt.dispose();
    model.dispose();
  }
}

function runChild(threads: number): Promise<Record<string, number | string>> {
  return runBenchChild<Record<string, number | string>>(fileURLToPath(import.meta.url), threads, ['--shapes', shapes.join(','), '--iters', String(iters)], { timeoutMs: 3_600_000 });
}

async function torchSpeed(config: DraemConfig, threads: number): Promise<number> {
  const { stdout } = await runPython(
    [SCRIPT, 'bench', '--size', String(config.inputSize), '--rec-width', String(config.reconstructiveWidth), '--seg-width', String(config.discriminativeWidth), '--batch-size', String(config.batchSize), '--threads', String(threads), '--iters', String(iters)],
    3_600_000,
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

async function main(): Promise<void> {
  if (values.child) {
    const threads = Number(values.child);
    const chosen = await initBackend('wasm', { wasmThreads: threads });
    const out: Record<string, number | string> = { threads: chosen.threads ?? 1 };
    for (const name of shapes) {
      const { config } = SHAPES[name]!;
      try {
        out[name] = config.batchSize / (await timeStep(config));
      } catch (error) {
        // The paper step does not fit wasm's 4 GB heap (XNNPACK reports out of memory, status 6, and
        // the module aborts): say so and stop, the module is unusable after an abort.
        out[name] = `failed: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 160)}`;
        break;
      }
    }
    console.log(JSON.stringify(out));
    // wasm's worker threads keep the process alive: end it, or the parent waits for ever.
    process.exit(0);
  }
  const torch = values['no-torch'] ? null : await assertTorch();
  console.log(`DRAEM training step, images/s (median of ${iters} steps after a warm-up), wasm beside PyTorch ${torch ?? '(skipped)'} on the same CPU`);
  console.log('| shape | GFLOP/img | threads | wasm img/s | wasm GFLOP/s | torch img/s | torch GFLOP/s | wasm / torch |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const threads of (values.threads ?? '1').split(',').map(Number)) {
    const ours = await runChild(threads);
    for (const name of shapes) {
      const { config, name: title } = SHAPES[name]!;
      const g = draemCost(config).gflopPerImage;
      const got = ours[name];
      const w = typeof got === 'number' ? got : null;
      const t = torch ? await torchSpeed(config, threads) : null;
      console.log(
        `| ${title} | ${g.toPrecision(4)} | ${ours['threads']} | ${w?.toPrecision(3) ?? (got ?? 'not run')} | ${w ? (w * g).toPrecision(3) : '–'} | ${t?.toPrecision(3) ?? '–'} | ${t ? (t * g).toPrecision(3) : '–'} | ${w && t ? (w / t).toFixed(3) : '–'} |`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
