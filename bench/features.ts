/**
 * Backbone feature extraction speed: images/s of resnet18, wide_resnet50_2 (layer1..4),
 * efficientnet_b4 and tf_efficientnet_b4 (UniAD's layer1..4: timm stages 0, 1, 2, 4) on each
 * tfjs backend we can run here (wasm, wasm with threads, cpu), beside PyTorch on the same CPU with
 * the same threads and the same weights, printed as a ratio (ours / torch). Also the filter
 * gradient of a 3×3 convolution (the kernel we register on wasm) against tfjs' cpu kernel.
 *
 *   npx tsx bench/features.ts [--size 128] [--batch 1] [--iters 3] [--threads 2] [--wasm-threads 2]
 *                             [--archs resnet18,wide_resnet50_2,efficientnet_b4,tf_efficientnet_b4] [--no-torch] [--no-grad]
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
import { BUILT_ARCHS, buildBackbone, EFFICIENTNET_ARCHS, normalizeImageNet, randomWeights, RESNET_LAYERS, UNIAD_LAYERS, type Backbone, type BuiltArch } from '../src/main/core/engine/backbones/index';
import { loadSafetensors, writeSafetensors } from '../src/main/core/engine/safetensors';
import { runPython, BACKBONE_SCRIPT, assertTorch } from '../scripts/parity/reference';
import sharp from 'sharp';
import { FeatureCache } from '../src/main/core/engine/feature-cache';
import { FeatureExtractor } from '../src/main/core/methods/components/feature-extractor';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '1' },
    iters: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'wasm-threads': { type: 'string', default: '2' },
    archs: { type: 'string', default: 'resnet18,wide_resnet50_2,efficientnet_b4,tf_efficientnet_b4' },
    'no-torch': { type: 'boolean', default: false },
    'no-grad': { type: 'boolean', default: false },
    'grad-only': { type: 'boolean', default: false },
    'cache-images': { type: 'string', default: '16' },
    'no-cache': { type: 'boolean', default: false },
    'cache-only': { type: 'boolean', default: false },
    child: { type: 'string' },
    weights: { type: 'string', multiple: true },
  },
});

const size = Number(values.size);
const batch = Number(values.batch);
const iters = Number(values.iters);
const threads = Number(values.threads);
const wasmThreads = Number(values['wasm-threads']);
const archs = (values.archs ?? '').split(',').filter(Boolean) as BuiltArch[];
for (const a of archs) if (!(BUILT_ARCHS as readonly string[]).includes(a)) throw new Error(`--archs: unknown ${a}; built: ${BUILT_ARCHS.join(', ')}`);

/** The layers timed: layer1..4 for all (for the EfficientNets those are UniAD's four, as backbone.py's default). */
function benchLayers(arch: BuiltArch): readonly string[] {
  return (EFFICIENTNET_ARCHS as readonly string[]).includes(arch) ? UNIAD_LAYERS : RESNET_LAYERS;
}

/** images/s of `model` on the current backend: one warm-up pass, then `n` timed passes. */
function timeForward(model: Backbone, n: number): number {
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const pass = () => {
    const out = tf.tidy(() => model.forward(normalizeImageNet(x), benchLayers(model.arch)));
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

async function oursOn(backend: string, weights: Map<BuiltArch, string>, n: number, opts: { wasmThreads?: number } = {}): Promise<Record<string, number>> {
  const chosen = await initBackend(backend, opts);
  const out: Record<string, number> = {};
  for (const arch of archs) {
    const model = buildBackbone(arch, (await loadSafetensors(weights.get(arch) as string)).tensors);
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

function runChild(weights: Map<BuiltArch, string>): Promise<Record<string, number>> {
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

/**
 * images/s of layer2+layer3 features of `n` PNG files (size², noise) with `arch` on wasm: uncached,
 * through an empty cache (all misses), then through the filled cache (all hits).
 */
async function cacheBench(dir: string, arch: 'resnet18' | 'wide_resnet50_2', weightsFile: string, n: number): Promise<{ uncached: number; miss: number; hit: number; entryBytes: number }> {
  await initBackend('wasm');
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const raw = Buffer.from(Float32Array.from({ length: size * size * 3 }, (_, k) => ((k * 2654435761 + i * 40503) >>> 0) % 256));
    const path = join(dir, `img-${i}.png`);
    await sharp(Uint8Array.from(raw.subarray(0, size * size * 3)), { raw: { width: size, height: size, channels: 3 } }).png().toFile(path);
    paths.push(path);
  }
  const extractor = await FeatureExtractor.create(arch, ['layer2', 'layer3'], weightsFile);
  const cache = await FeatureCache.open(join(dir, `feature-cache-${arch}`));
  const pass = async (withCache: boolean): Promise<number> => {
    const start = performance.now();
    for (let i = 0; i < n; i += batch) {
      const { features } = await extractor.extractFiles(paths.slice(i, i + batch), size, { cache: withCache ? cache : null });
      await features.layer3!.data();
      tf.dispose(Object.values(features));
    }
    return n / ((performance.now() - start) / 1000);
  };
  try {
    await pass(false); // warm-up: kernels compiled
    await extractor.weightsId(); // the weights file is hashed once per run, outside the timing
    const uncached = await pass(false);
    const miss = await pass(true);
    const hit = await pass(true);
    const stats = await cache.stats();
    if (stats.hits !== n || stats.misses !== n) throw new Error(`cache bench: expected ${n} hits and ${n} misses, got ${stats.hits} / ${stats.misses}`);
    return { uncached, miss, hit, entryBytes: stats.bytes / Math.max(1, stats.entries) };
  } finally {
    extractor.dispose();
  }
}

function fmt(v: number | undefined): string {
  return v === undefined ? '—' : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

async function main(): Promise<void> {
  if (values.child === 'wasm-threads') {
    const weights = new Map((values.weights ?? []).map((w) => w.split('=') as [BuiltArch, string]));
    const r = await oursOn('wasm', weights, iters, { wasmThreads });
    // Threaded wasm's worker threads keep the process alive after the work is done (the parent used
    // to report that as a hang), so the child exits once its line is flushed.
    process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(0));
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-features-'));
  try {
    const weights = new Map<BuiltArch, string>();
    for (const arch of archs) {
      const path = join(dir, `${arch}.safetensors`);
      await writeSafetensors(path, randomWeights(arch, 0, { randomBatchNorm: true }));
      weights.set(arch, path);
    }
    if (!values['no-cache'] && !values['grad-only']) {
      const n = Number(values['cache-images']);
      console.log(`frozen-feature cache: ${n} PNG files ${size}², layer2+layer3, batch ${batch}, wasm (1 thread)`);
      // The feature extractor (and so the cache path) is built for the ResNets.
      for (const arch of archs.filter((a): a is 'resnet18' | 'wide_resnet50_2' => a === 'resnet18' || a === 'wide_resnet50_2')) {
        const r = await cacheBench(dir, arch, weights.get(arch) as string, n);
        console.log(
          `  ${arch.padEnd(18)} uncached ${fmt(r.uncached)} img/s · miss ${fmt(r.miss)} img/s (÷ uncached ${fmt(r.miss / r.uncached)}) · hit ${fmt(r.hit)} img/s · hit ÷ miss ${fmt(r.hit / r.miss)}× · ${fmt(r.entryBytes / 1e3)} kB per image`,
        );
      }
      if (values['cache-only']) return;
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

    const head = ['backend'.padEnd(34), ...archs.map((a) => `${a} img/s`.padStart(26)), ...(torch ? archs.map((a) => `÷ torch (${a})`.padStart(30)) : [])];
    console.log(head.join(''));
    for (const { name, r } of rows) {
      const cells = [name.padEnd(34), ...archs.map((a) => fmt(r[a]).padStart(26))];
      if (torch) cells.push(...archs.map((a) => fmt(r[a] !== undefined && torch[a] ? (r[a] as number) / (torch[a] as number) : undefined).padStart(30)));
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
