/**
 * Backbone feature extraction speed: images/s of resnet18 and wide_resnet50_2 (layer1..4) on each
 * tfjs backend we can run here (wasm, wasm with threads, cpu), beside PyTorch on the same CPU with
 * the same threads and the same weights, printed as a ratio (ours / torch). Also the filter
 * gradient of a 3×3 convolution (the kernel we register on wasm) against tfjs' cpu kernel.
 *
 *   npx tsx bench/features.ts [--size 128] [--batch 1] [--iters 3] [--threads 2] [--wasm-threads 2]
 *                             [--archs resnet18,wide_resnet50_2] [--no-torch] [--no-grad]
 *
 * Threaded wasm can only be chosen at a process's first wasm initialisation, so that row runs in a
 * child process of this script (`--child wasm-threads`).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/main/core/engine/backends';
import { ResNetBackbone, normalizeImageNet, randomResNetWeights, RESNET_LAYERS, type ResNetArch } from '../src/main/core/engine/backbones/resnet';
import { loadSafetensors, writeSafetensors } from '../src/main/core/engine/safetensors';
import { runPython, BACKBONE_SCRIPT, assertTorch } from '../scripts/parity/reference';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '1' },
    iters: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'wasm-threads': { type: 'string', default: '2' },
    archs: { type: 'string', default: 'resnet18,wide_resnet50_2' },
    'no-torch': { type: 'boolean', default: false },
    'no-grad': { type: 'boolean', default: false },
    'grad-only': { type: 'boolean', default: false },
    child: { type: 'string' },
    weights: { type: 'string', multiple: true },
  },
});

const size = Number(values.size);
const batch = Number(values.batch);
const iters = Number(values.iters);
const threads = Number(values.threads);
const wasmThreads = Number(values['wasm-threads']);
const archs = (values.archs ?? '').split(',').filter(Boolean) as ResNetArch[];

/** images/s of `model` on the current backend: one warm-up pass, then `n` timed passes. */
function timeForward(model: ResNetBackbone, n: number): number {
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const pass = () => {
    const out = tf.tidy(() => model.forward(normalizeImageNet(x), RESNET_LAYERS));
    (out.layer4 as tf.Tensor).dataSync(); // forces completion on any backend
    tf.dispose(Object.values(out));
  };
  pass();
  const start = performance.now();
  for (let i = 0; i < n; i++) pass();
  const seconds = (performance.now() - start) / 1000;
  x.dispose();
  return (n * batch) / seconds;
}

async function oursOn(backend: string, weights: Map<ResNetArch, string>, n: number, opts: { wasmThreads?: number } = {}): Promise<Record<string, number>> {
  const chosen = await initBackend(backend, opts);
  const out: Record<string, number> = {};
  for (const arch of archs) {
    const model = ResNetBackbone.fromTensors(arch, (await loadSafetensors(weights.get(arch) as string)).tensors);
    try {
      out[arch] = timeForward(model, n);
    } finally {
      model.dispose();
    }
  }
  out.threads = chosen.threads ?? 1;
  return out;
}

const CHILD_TIMEOUT_MS = 240_000;

function runChild(weights: Map<ResNetArch, string>): Promise<Record<string, number>> {
  const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', 'wasm-threads', ...process.argv.slice(2).filter((a) => a !== '--child')];
  for (const arch of archs) args.push('--weights', `${arch}=${weights.get(arch)}`);
  return new Promise((resolve, reject) => {
    // A time limit, because threaded wasm has been seen to deadlock on wide_resnet50_2.
    execFile(process.execPath, args, { maxBuffer: 16 << 20, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) {
        const killed = (error as { killed?: boolean }).killed;
        reject(new Error(killed ? `no result within ${CHILD_TIMEOUT_MS / 1000} s (hung)` : `failed: ${(stderr || error.message).slice(-400)}`));
      }
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, number>);
    });
  });
}

/** GFLOP/s of the 3×3 conv filter gradient, x [2, 28, 28, 64] → dW [3, 3, 64, 64]. */
async function gradBench(backend: string, n: number): Promise<number> {
  await initBackend(backend);
  const x = tf.randomNormal([2, 28, 28, 64]) as tf.Tensor4D;
  const dy = tf.randomNormal([2, 28, 28, 64]) as tf.Tensor4D;
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 64, 64] };
  const run = () => tf.tidy(() => (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor).dataSync());
  run();
  const start = performance.now();
  for (let i = 0; i < n; i++) run();
  const seconds = (performance.now() - start) / 1000 / n;
  tf.dispose([x, dy]);
  return (2 * 2 * 28 * 28 * 64 * 64 * 9) / seconds / 1e9;
}

function fmt(v: number | undefined): string {
  return v === undefined ? '—' : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

async function main(): Promise<void> {
  if (values.child === 'wasm-threads') {
    const weights = new Map((values.weights ?? []).map((w) => w.split('=') as [ResNetArch, string]));
    const r = await oursOn('wasm', weights, iters, { wasmThreads });
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-features-'));
  try {
    const weights = new Map<ResNetArch, string>();
    for (const arch of archs) {
      const path = join(dir, `${arch}.safetensors`);
      await writeSafetensors(path, randomResNetWeights(arch, 0, { randomBatchNorm: true }));
      weights.set(arch, path);
    }
    if (values['grad-only']) archs.length = 0;
    console.log(`features layer1..4, input ${batch}×${size}×${size}, same random weights everywhere; ${iters} timed passes after a warm-up`);
    const rows: { name: string; r: Record<string, number> }[] = [];
    let torch: Record<string, number> | null = null;
    if (!values['no-torch']) {
      const version = await assertTorch();
      torch = {};
      for (const arch of archs) {
        const { stdout } = await runPython([BACKBONE_SCRIPT, '--arch', arch, '--weights', weights.get(arch) as string, '--bench', String(iters), '--batch', String(batch), '--size', String(size), '--threads', String(threads)]);
        torch[arch] = (JSON.parse(stdout.trim()) as { images_per_s: number }).images_per_s;
      }
      rows.push({ name: `PyTorch ${version} (${threads} threads)`, r: torch });
    }
    rows.push({ name: 'tfjs wasm (1 thread)', r: await oursOn('wasm', weights, iters) });
    if (wasmThreads > 1) {
      try {
        const r = await runChild(weights);
        rows.push({ name: `tfjs wasm (${r.threads} threads)`, r });
      } catch (error) {
        console.log(`tfjs wasm with ${wasmThreads} threads: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    rows.push({ name: 'tfjs cpu', r: await oursOn('cpu', weights, Math.max(1, Math.floor(iters / 3))) });

    const head = ['backend'.padEnd(34), ...archs.map((a) => `${a} img/s`.padStart(22)), ...(torch ? archs.map((a) => `÷ torch (${a})`.padStart(26)) : [])];
    console.log(head.join(''));
    for (const { name, r } of rows) {
      const cells = [name.padEnd(34), ...archs.map((a) => fmt(r[a]).padStart(22))];
      if (torch) cells.push(...archs.map((a) => fmt(r[a] !== undefined && torch[a] ? (r[a] as number) / (torch[a] as number) : undefined).padStart(26)));
      console.log(cells.join(''));
    }

    if (!values['no-grad']) {
      const wasmG = await gradBench('wasm', 3);
      const cpuG = await gradBench('cpu', 1);
      console.log(`\nConv2DBackpropFilter 3×3, x [2,28,28,64]: wasm (ours, composed on XNNPACK matmul) ${fmt(wasmG)} GFLOP/s, cpu (tfjs) ${fmt(cpuG)} GFLOP/s, ratio ${fmt(wasmG / cpuG)}×`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
