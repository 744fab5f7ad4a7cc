/**
 * Training speed of Reverse Distillation (issue 14): images/s of the lab's training step on wasm
 * (the batch source: teacher features from the frozen-feature cache, or the teacher run on the
 * batch's images when the cache is off; then bottleneck, student, loss, tf.variableGrads, torch-exact
 * Adam: the training loop's step) beside PyTorch on the same machine, threads and shapes
 * (scripts/reference/reverse_distillation.py bench: teacher features computed once for "cache on",
 * the teacher run every step for "cache off"), as a ratio (ours / torch).
 *
 * Shapes: `fast` (the ResNet18 pairing at 128 px, batch 8, as the preset) and `paper` (WideResNet50-2
 * at 256 px with anomalib's width-64 bottleneck, the preset's network) at batch 2, since one paper
 * batch of 32 is ~3.9 TFLOP and its activations do not fit the wasm heap.
 *
 *   npx tsx bench/reverse-distillation-train.ts [--threads 2] [--shapes fast,paper] [--iters 3] [--no-torch]
 *
 * wasm threads are chosen at a process's first wasm initialisation, so each thread count runs in a
 * child process of this script (`--child N`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { runBenchChild, timeTrainingSteps } from './lib/child';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../src/main/core/engine/backends';
import { FeatureCache } from '../src/main/core/engine/feature-cache';
import { Adam } from '../src/main/core/engine/optim/index';
import { backboneGflop } from '../src/main/core/methods/components/flops';
import { listTrain, scenarioDir } from '../src/main/core/methods/harness/scenario-images';
import { rdCost, resolveRdConfig, type ReverseDistillationConfig } from '../src/main/core/methods/reverse-distillation/config';
import { teacherInputs } from '../src/main/core/methods/reverse-distillation/fit';
import { rdLoss } from '../src/main/core/methods/reverse-distillation/loss';
import { buildReverseDistillation } from '../src/main/core/methods/reverse-distillation/model';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/reverse_distillation.py', import.meta.url));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    shapes: { type: 'string', default: 'fast,paper' },
    iters: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

interface Shape {
  name: string;
  config: ReverseDistillationConfig;
}

const SHAPES: Record<string, Shape> = {
  fast: { name: 'fast (resnet18, 128 px, batch 8)', config: resolveRdConfig('fast').config },
  paper: { name: 'paper (WRN50-2 w64, 256 px, batch 2)', config: resolveRdConfig('paper', { batchSize: 2 }).config },
};

const iters = Number(values.iters);
const shapes = (values.shapes ?? '').split(',').filter((s) => s in SHAPES);

/** images/s of the training loop's step, batches drawn from the lab's teacher inputs. */
async function timeStep(config: ReverseDistillationConfig, paths: string[], cache: FeatureCache | null): Promise<number> {
  const noop = () => undefined;
  const inputs = await teacherInputs(config, { config, scenario: 'bench', trainPaths: paths, weights: 'random', outDir: tmpdir(), featureCache: cache, progress: noop });
  const model = buildReverseDistillation(config);
  const opt = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8 });
  const b = config.batchSize;
  // Consecutive batches over the images, as epochs visit them.
  const indices = (k: number) => Array.from({ length: b }, (_, j) => (k * b + j) % paths.length);
  try {
    if (cache) for (let k = 0; k * b < paths.length; k++) tf.dispose(await inputs.train.batch(indices(k))); // warm the cache: the first epoch's misses
    model.train();
    const step = async (k: number) => {
      const teacher = await inputs.train.batch(indices(k));
      try {
        const { value, grads } = tf.variableGrads(() => rdLoss(teacher, model.forward(teacher).student, config.loss).loss, opt.variables());
        value.dataSync();
        opt.step(grads);
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        tf.dispose(teacher);
      }
    };
    return await timeTrainingSteps(iters, b, step);
  } finally {
    opt.dispose();
    model.dispose();
    inputs.dispose();
  }
}

function runChild(threads: number): Promise<Record<string, number>> {
  return runBenchChild(fileURLToPath(import.meta.url), threads, ['--shapes', shapes.join(','), '--iters', String(iters)]);
}

async function torchSpeed(config: ReverseDistillationConfig, threads: number, cached: boolean): Promise<number> {
  const { stdout } = await runPython(
    [
      SCRIPT, 'bench',
      '--backbone', config.backbone,
      '--bottleneck-width', String(config.bottleneckWidth),
      ...(config.bottleneckConv4 ? ['--conv4'] : []),
      '--loss', config.loss,
      '--size', String(config.inputSize),
      '--batch-size', String(config.batchSize),
      '--threads', String(threads),
      '--iters', String(iters),
      ...(cached ? ['--cached'] : []),
    ],
    7_200_000,
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

async function child(threads: number): Promise<void> {
  const chosen = await initBackend('wasm', { wasmThreads: threads });
  const out: Record<string, number> = { threads: chosen.threads ?? 1 };
  const dir = await mkdtemp(join(tmpdir(), 'bench-rd-'));
  try {
    for (const s of shapes) {
      const { config } = SHAPES[s]!;
      const data = join(dir, `data-${s}`);
      // Enough images for the warm-up and timed steps to draw distinct ones.
      await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt'], train: config.batchSize * (iters + 1), test: 1, size: config.inputSize, seed: 1 });
      const paths = await listTrain(scenarioDir(data, 'nut_and_bolt'));
      out[`${s}:off`] = await timeStep(config, paths, null);
      const cache = await FeatureCache.open(join(dir, `cache-${s}`));
      out[`${s}:on`] = await timeStep(config, paths, cache);
      await cache.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
  // The threaded wasm backend's workers keep the process alive after the work is done.
  process.exit(0);
}

async function main(): Promise<void> {
  if (values.child) return child(Number(values.child));
  const threadCounts = (values.threads ?? '').split(',').map(Number).filter((n) => n >= 1);
  if (!values['no-torch']) await assertTorch();
  console.log(`Reverse Distillation training step, images/s (${iters} timed steps after one warm-up; random teacher)\n`);
  console.log(`${'shape'.padEnd(38)} ${'cache'.padEnd(5)} ${'GFLOP/img'.padStart(9)} ${'threads'.padStart(7)} ${'wasm img/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'torch img/s'.padStart(11)} ${'ours/torch'.padStart(10)}`);
  for (const threads of threadCounts) {
    const ours = await runChild(threads);
    for (const s of shapes) {
      const shape = SHAPES[s]!;
      for (const mode of ['off', 'on'] as const) {
        // The cost counts the teacher's forward; with the cache on the teacher does not run, so the
        // GFLOP/s column counts only the trainable part's 3 × forward there.
        const full = rdCost(shape.config).gflopPerImage;
        const gflop = mode === 'on' ? full - backboneGflop(shape.config.backbone, ['layer3'], shape.config.inputSize) : full;
        const torch = values['no-torch'] ? Number.NaN : await torchSpeed(shape.config, threads, mode === 'on');
        const mine = ours[`${s}:${mode}`]!;
        console.log(
          `${shape.name.padEnd(38)} ${mode.padEnd(5)} ${gflop.toFixed(2).padStart(9)} ${String(ours['threads']).padStart(7)} ${mine.toFixed(2).padStart(10)} ${(mine * gflop).toFixed(1).padStart(8)} ${torch.toFixed(2).padStart(11)} ${(mine / torch).toFixed(3).padStart(10)}`,
        );
      }
    }
  }
}

void main();
