/**
 * Feature extraction speed on a GPU, as one self-contained Node entry point: the backbones
 * (resnet18, wide_resnet50_2, efficientnet_b4) on tfjs' `webgpu` backend beside PyTorch on the same
 * GPU with the same weights, printed as a ratio (ours / torch). Made for a GPU machine with no
 * project install: `../shared/device/pack-webgpu.sh bench/features-gpu.ts` bundles it with Node and
 * Dawn; the PyTorch side runs `scripts/parity/backbone.py --bench` from the project tree with
 * `python3` (PyTorch with CUDA). It also runs here through tsx on another backend, for a dry run:
 *
 *   npx tsx bench/features-gpu.ts --backend cpu --size 32 --batch 2 --iters 1 --archs resnet18 --torch-device cpu
 *   on the GPU machine:  bash .device/run.sh [--size 224] [--batch 32] [--iters 20]
 *
 * Why a separate entry from bench/features.ts: that one loads sharp, the feature cache and the wasm
 * binaries from node_modules, none of which exist beside a bundle. Here every tfjs package is
 * imported statically so esbuild carries it, and the backend probe gets an environment that knows
 * only those (`bundledEnv`). Timing: a warm-up batch, then `iters` batches; each batch ends by
 * reading back one number per returned layer, so queued GPU work is finished and counted but the
 * download of whole feature maps is not (PyTorch's side calls torch.cuda.synchronize likewise).
 * Results also go to $OUT/features-gpu.json when $OUT is set.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';
import * as webgpuBackend from '@tensorflow/tfjs-backend-webgpu';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, nodeBackendEnv, type BackendEnv } from '../src/main/core/engine/backends';
import { BUILT_ARCHS, buildBackbone, normalizeImageNet, randomWeights, RESNET_LAYERS, UNIAD_LAYERS, type Backbone, type BuiltArch } from '../src/main/core/engine/backbones/index';
import { decodeSafetensors, writeSafetensors } from '../src/main/core/engine/safetensors';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgpu' },
    archs: { type: 'string', default: 'resnet18,wide_resnet50_2,efficientnet_b4' },
    size: { type: 'string', default: '224' },
    batch: { type: 'string', default: '32' },
    iters: { type: 'string', default: '20' },
    python: { type: 'string', default: 'python3' },
    'torch-device': { type: 'string', default: 'cuda' },
    'no-torch': { type: 'boolean', default: false },
  },
});

const size = Number.parseInt(values.size, 10);
const batch = Number.parseInt(values.batch, 10);
const iters = Number.parseInt(values.iters, 10);
for (const [flag, v] of [['--size', size], ['--batch', batch], ['--iters', iters]] as const) {
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${flag} must be a whole number ≥ 1`);
}
const archs = values.archs.split(',').map((a) => a.trim()).filter(Boolean) as BuiltArch[];
for (const a of archs) if (!(BUILT_ARCHS as readonly string[]).includes(a)) throw new Error(`--archs: unknown ${a}; built: ${BUILT_ARCHS.join(', ')}`);

/** Probing inside a bundle: the packages esbuild carried are "installed", `webgpu` is the external one beside it. */
const BUNDLED: Record<string, unknown> = { '@tensorflow/tfjs-backend-webgpu': webgpuBackend, '@tensorflow/tfjs-backend-cpu': cpuBackend };
const bundledEnv: BackendEnv = {
  ...nodeBackendEnv,
  resolve: (pkg) => {
    if (pkg in BUNDLED) return pkg;
    return nodeBackendEnv.resolve(pkg);
  },
  importModule: async (pkg) => (pkg in BUNDLED ? BUNDLED[pkg] : nodeBackendEnv.importModule(pkg)),
};

function layersOf(arch: BuiltArch): readonly string[] {
  return arch.startsWith('efficientnet') ? UNIAD_LAYERS : RESNET_LAYERS;
}

/** images/s of `model`: a warm-up batch, then `iters` timed batches. */
async function timeForward(model: Backbone): Promise<number> {
  const x = tf.randomUniform([batch, size, size, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const pass = async (): Promise<void> => {
    const probe = tf.tidy(() => {
      const out = model.forward(normalizeImageNet(x), layersOf(model.arch) as never);
      // One number per layer: reading it waits for every kernel that made the layer.
      return tf.stack(Object.values(out).map((t) => tf.max(t as tf.Tensor)));
    });
    await probe.data();
    probe.dispose();
  };
  await pass();
  const start = performance.now();
  for (let i = 0; i < iters; i++) await pass();
  const seconds = (performance.now() - start) / 1000;
  x.dispose();
  return (iters * batch) / seconds;
}

function torchImagesPerSec(arch: BuiltArch, weightsFile: string): Promise<{ images_per_s: number; device: string; torch: string }> {
  const script = resolve('scripts/parity/backbone.py');
  if (!existsSync(script)) return Promise.reject(new Error(`${script} not found: run from the project root`));
  const args = [script, '--arch', arch, '--weights', weightsFile, '--layers', layersOf(arch).join(','), '--bench', String(iters), '--batch', String(batch), '--size', String(size), '--device', values['torch-device']];
  return new Promise((ok, fail) => {
    execFile(values.python, args, { maxBuffer: 16 << 20, timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`PyTorch reference failed: ${(stderr || error.message).slice(-600)}`));
      else ok(JSON.parse(stdout.trim().split('\n').at(-1) as string) as { images_per_s: number; device: string; torch: string });
    });
  });
}

const chosen = await initBackend(values.backend, { env: bundledEnv });
const work = await mkdtemp(join(tmpdir(), 'features-gpu-'));
console.log(`backend ${chosen.name} · ${archs.join(', ')} · ${size}² · batch ${batch} · ${iters} timed batches`);

const rows: { arch: BuiltArch; ours: number; torch: number | null; torchDevice: string | null; ratio: number | null; error?: string }[] = [];
for (const arch of archs) {
  const file = join(work, `${arch}.safetensors`);
  // Random weights with random batch-norm statistics, written once and read by both sides.
  await writeSafetensors(file, randomWeights(arch, 0, { randomBatchNorm: true }));
  const model = buildBackbone(arch, decodeSafetensors(new Uint8Array(await readFile(file)), file).tensors);
  let ours: number;
  try {
    ours = await timeForward(model);
  } finally {
    model.dispose();
  }
  let torch: number | null = null;
  let torchDevice: string | null = null;
  let error: string | undefined;
  if (!values['no-torch']) {
    try {
      const r = await torchImagesPerSec(arch, file);
      torch = r.images_per_s;
      torchDevice = `${r.device} (torch ${r.torch})`;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
  }
  const row = { arch, ours, torch, torchDevice, ratio: torch ? ours / torch : null, ...(error ? { error } : {}) };
  rows.push(row);
  console.log(
    `${arch.padEnd(18)} tfjs ${chosen.name}: ${ours.toFixed(1).padStart(8)} img/s` +
      (torch !== null ? `   PyTorch ${torchDevice}: ${torch.toFixed(1).padStart(8)} img/s   ours ÷ torch ${(ours / torch).toFixed(3)}` : error ? `   PyTorch: ${error}` : ''),
  );
}

const outDir = process.env.OUT;
if (outDir) {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'features-gpu.json'), JSON.stringify({ backend: chosen.name, size, batch, iters, rows }, null, 2));
}
