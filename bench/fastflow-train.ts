/**
 * Training speed of FastFlow (issue 15): images/s of the lab's training step on wasm with cached
 * features (the batch source reads the backbone's layer1..3 from the frozen-feature cache; then the
 * LayerNorms, the flows, the loss, tf.variableGrads and torch-exact Adam with coupled weight decay: the
 * training loop's step) beside PyTorch on the same machine, threads and shapes
 * (scripts/reference/fastflow.py bench: features made once, then norms, flows, loss, backward, Adam),
 * as a ratio (ours / torch).
 *
 * Shapes: `fast` (ResNet18, 3×3 subnets, 128 px, batch 8, as the preset) and `paper` (WideResNet50-2,
 * subnets alternating 3×3 / 1×1, 256 px) at batch 2, since a paper batch of 32 is ~4.6 TFLOP per step
 * and its activations do not fit the wasm heap.
 *
 *   npx tsx bench/fastflow-train.ts [--threads 2] [--shapes fast,paper] [--iters 3] [--no-torch]
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
import { listTrain, scenarioDir } from '../src/main/core/methods/harness/scenario-images';
import { flowForwardFlops, resolveFastflowConfig, type FastflowConfig } from '../src/main/core/methods/fastflow/config';
import { fastflowInputs, fastflowOptimizer } from '../src/main/core/methods/fastflow/fit';
import { fastflowLoss } from '../src/main/core/methods/fastflow/loss';
import { buildFastFlow } from '../src/main/core/methods/fastflow/model';
import { assertTorch, runPython } from '../scripts/parity/reference';

const SCRIPT = fileURLToPath(new URL('../scripts/reference/fastflow.py', import.meta.url));

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    shapes: { type: 'string', default: 'fast,paper' },
    iters: { type: 'string', default: '3' },
    'no-torch': { type: 'boolean', default: false },
    child: { type: 'string' },
  },
});

const SHAPES: Record<string, { name: string; config: FastflowConfig }> = {
  fast: { name: 'fast (resnet18 3×3, 128 px, batch 8)', config: resolveFastflowConfig('fast').config },
  paper: { name: 'paper (WRN50-2 3×3/1×1, 256 px, batch 2)', config: resolveFastflowConfig('paper', { batchSize: 2 }).config },
};

const iters = Number(values.iters);
const shapes = (values.shapes ?? '').split(',').filter((s) => s in SHAPES);

/** images/s of the training loop's step, batches drawn from the lab's (cached) backbone inputs. */
async function timeStep(config: FastflowConfig, paths: string[], cache: FeatureCache): Promise<number> {
  const noop = () => undefined;
  const inputs = await fastflowInputs(config, { config, scenario: 'bench', trainPaths: paths, weights: 'random', outDir: tmpdir(), featureCache: cache, progress: noop });
  const model = buildFastFlow(config);
  const opt = fastflowOptimizer(config, model);
  const b = config.batchSize;
  const indices = (k: number) => Array.from({ length: b }, (_, j) => (k * b + j) % paths.length);
  try {
    for (let k = 0; k * b < paths.length; k++) tf.dispose(await inputs.train.batch(indices(k))); // warm the cache: the first epoch's misses
    model.train();
    const step = async (k: number) => {
      const features = await inputs.train.batch(indices(k));
      try {
        const { value, grads } = tf.variableGrads(() => fastflowLoss(model.forward(features)).loss, opt.variables());
        value.dataSync();
        opt.step(grads);
        tf.dispose([value, ...Object.values(grads)]);
      } finally {
        tf.dispose(features);
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

async function torchSpeed(config: FastflowConfig, threads: number): Promise<number> {
  const { stdout } = await runPython(
    [
      SCRIPT, 'bench',
      '--backbone', config.backbone,
      '--size', String(config.inputSize),
      '--flow-steps', String(config.flowSteps),
      ...(config.conv3x3Only ? ['--conv3x3-only'] : []),
      '--hidden-ratio', String(config.hiddenRatio),
      '--clamp', String(config.clamp),
      '--batch-size', String(config.batchSize),
      '--threads', String(threads),
      '--iters', String(iters),
    ],
    7_200_000,
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as { images_per_s: number }).images_per_s;
}

async function child(threads: number): Promise<void> {
  const chosen = await initBackend('wasm', { wasmThreads: threads });
  const out: Record<string, number> = { threads: chosen.threads ?? 1 };
  const dir = await mkdtemp(join(tmpdir(), 'bench-fastflow-'));
  try {
    for (const s of shapes) {
      const { config } = SHAPES[s]!;
      const data = join(dir, `data-${s}`);
      await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt'], train: config.batchSize * (iters + 1), test: 1, size: config.inputSize, seed: 1 });
      const paths = await listTrain(scenarioDir(data, 'nut_and_bolt'));
      const cache = await FeatureCache.open(join(dir, `cache-${s}`));
      out[s] = await timeStep(config, paths, cache);
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
  console.log(`FastFlow training step on cached features, images/s (${iters} timed steps after one warm-up; random backbone)\n`);
  console.log(`${'shape'.padEnd(42)} ${'GFLOP/img'.padStart(9)} ${'threads'.padStart(7)} ${'wasm img/s'.padStart(10)} ${'GFLOP/s'.padStart(8)} ${'torch img/s'.padStart(11)} ${'ours/torch'.padStart(10)}`);
  for (const threads of threadCounts) {
    const ours = await runChild(threads);
    for (const s of shapes) {
      const shape = SHAPES[s]!;
      // With cached features the backbone does not run: the flows' forward, input and weight gradients.
      const gflop = (3 * flowForwardFlops(shape.config)) / 1e9;
      const torch = values['no-torch'] ? Number.NaN : await torchSpeed(shape.config, threads);
      const mine = ours[s]!;
      console.log(
        `${shape.name.padEnd(42)} ${gflop.toFixed(2).padStart(9)} ${String(ours['threads']).padStart(7)} ${mine.toFixed(2).padStart(10)} ${(mine * gflop).toFixed(1).padStart(8)} ${torch.toFixed(2).padStart(11)} ${(mine / torch).toFixed(3).padStart(10)}`,
      );
    }
  }
}

void main();
