/**
 * TensorFlow.js backend selection (DESIGN section 6). Five candidates, best first:
 * `tensorflow-gpu` (@tensorflow/tfjs-node-gpu), `webgpu` (@tensorflow/tfjs-backend-webgpu on the
 * `webgpu` npm package), `tensorflow` (@tensorflow/tfjs-node on the CPU), `wasm`, `cpu`.
 *
 * The native packages are optional dependencies that may be absent (their install script downloads
 * libtensorflow and is allowed to fail), so every candidate is probed through a dynamic import or a
 * module resolution: a missing package, a missing CUDA runtime or a machine without a WebGPU adapter
 * becomes a `reason`, never a crash. Probing is cheap (no native library is loaded except Dawn's
 * adapter query); `initBackend` does the real initialisation and, when a candidate still fails there,
 * records why and moves on to the next one.
 *
 * The two tfjs-node flavours both register the tfjs backend name `tensorflow`; we keep them apart
 * as `tensorflow-gpu` / `tensorflow` in our names and report tfjs' own name beside ours.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { LabError } from '../../../shared/errors';
import { BACKEND_NAMES, isBackendName, type BackendName } from '../../../shared/backends';
import { registerKernelOverrides, registerMissingKernels } from './kernels/register';
import './gradients';
import { defaultWasmThreads, prepareWasmThreads } from './wasm-threads';

export { BACKEND_NAMES, isBackendName, type BackendName };

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** Why it is unavailable, or a short note on what it runs on when it is available. */
  reason: string;
}

export interface ChosenBackend {
  name: BackendName;
  /** The name tfjs knows it by (`tf.getBackend()`): `tensorflow`, `webgpu`, `wasm` or `cpu`. */
  tfName: string;
  /** Candidates tried before it and why each one was passed over (best first). */
  skipped: BackendStatus[];
  /** wasm only: the number of threads its thread pool runs (1 when threads are off). */
  threads?: number;
}

/** The side-effecting collaborators of probing, so tests can pretend a package is installed. */
export interface BackendEnv {
  /** Resolves a package name to a file path, or throws when it is not installed. */
  resolve(pkg: string): string;
  /** Imports a module by name (a dynamic `import()` in production). */
  importModule(pkg: string): Promise<unknown>;
  /** Whether a shared library can be found by the dynamic loader (e.g. `libcudart.so.11.0`). */
  hasSharedLibrary(name: string): boolean;
  platform: NodeJS.Platform;
}

const require = createRequire(import.meta.url);

/** Library folders the dynamic loader searches on Linux, beside LD_LIBRARY_PATH. */
const LINUX_LIB_DIRS = [
  '/usr/local/cuda/lib64',
  '/usr/local/cuda/targets/x86_64-linux/lib',
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/usr/local/lib',
];

function findSharedLibrary(name: string): boolean {
  const fromEnv = (process.env.LD_LIBRARY_PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...fromEnv, ...LINUX_LIB_DIRS]) {
    if (existsSync(join(dir, name))) return true;
  }
  // Files installed by NVIDIA's pip wheels or conda live in versioned sub-folders; a shallow
  // scan of /usr/local/cuda-* covers the usual side-by-side toolkits.
  try {
    for (const entry of readdirSync('/usr/local')) {
      if (entry.startsWith('cuda-') && existsSync(join('/usr/local', entry, 'lib64', name))) return true;
    }
  } catch {
    // no /usr/local: nothing more to search
  }
  return false;
}

export const nodeBackendEnv: BackendEnv = {
  resolve: (pkg) => require.resolve(pkg),
  importModule: (pkg) => import(/* @vite-ignore */ pkg),
  hasSharedLibrary: findSharedLibrary,
  platform: process.platform,
};

function isInstalled(env: BackendEnv, pkg: string): boolean {
  try {
    env.resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

function missing(pkg: string): string {
  return `package ${pkg} is not installed (an optional dependency; its install script downloads libtensorflow and may have failed or been skipped)`;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** tfjs-node-gpu 4.x links against CUDA 11.2 and cuDNN 8.1 (DESIGN section 6). */
const CUDA_LIBS = ['libcudart.so.11.0', 'libcudnn.so.8'];

async function probeWebGpu(env: BackendEnv): Promise<string | null> {
  if (!isInstalled(env, '@tensorflow/tfjs-backend-webgpu')) return 'package @tensorflow/tfjs-backend-webgpu is not installed (optional dependency)';
  const gpu = await webGpuNavigator(env);
  if (typeof gpu === 'string') return gpu;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return 'no WebGPU adapter: the GPU driver offers none to Dawn (no Vulkan/Metal/D3D12 device)';
  } catch (error) {
    return `WebGPU adapter request failed: ${errorText(error)}`;
  }
  return null;
}

interface GpuLike {
  requestAdapter(options?: unknown): Promise<unknown>;
}

/** `navigator.gpu` when the runtime has one (Electron's renderer), else one made by the `webgpu` package. */
async function webGpuNavigator(env: BackendEnv): Promise<GpuLike | string> {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isInstalled(env, 'webgpu')) return 'package webgpu (Dawn for Node) is not installed (optional dependency)';
  try {
    const mod = (await env.importModule('webgpu')) as { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    // tfjs-backend-webgpu looks for navigator.gpu; Node 21+ has a read-only navigator, so define it.
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    return gpu;
  } catch (error) {
    return `package webgpu failed to load: ${errorText(error)}`;
  }
}

/** Why a candidate cannot run here, or null when it looks usable. Cheap: loads no libtensorflow. */
async function probe(name: BackendName, env: BackendEnv): Promise<string | null> {
  switch (name) {
    case 'tensorflow-gpu': {
      if (!isInstalled(env, '@tensorflow/tfjs-node-gpu')) return missing('@tensorflow/tfjs-node-gpu');
      if (env.platform !== 'linux' && env.platform !== 'win32') return `CUDA builds of libtensorflow exist for Linux and Windows only, not ${env.platform}`;
      if (env.platform === 'linux') {
        const absent = CUDA_LIBS.filter((lib) => !env.hasSharedLibrary(lib));
        if (absent.length) return `CUDA runtime missing: ${absent.join(', ')} not found (tfjs-node-gpu needs CUDA 11.2 and cuDNN 8.1 on LD_LIBRARY_PATH)`;
      }
      return null;
    }
    case 'webgpu':
      return probeWebGpu(env);
    case 'tensorflow':
      return isInstalled(env, '@tensorflow/tfjs-node') ? null : missing('@tensorflow/tfjs-node');
    case 'wasm':
      return isInstalled(env, '@tensorflow/tfjs-backend-wasm') ? null : 'package @tensorflow/tfjs-backend-wasm is not installed';
    case 'cpu':
      return isInstalled(env, '@tensorflow/tfjs-backend-cpu') ? null : 'package @tensorflow/tfjs-backend-cpu is not installed';
  }
}

const AVAILABLE_NOTE: Record<BackendName, string> = {
  'tensorflow-gpu': 'libtensorflow with CUDA',
  webgpu: 'WebGPU through Dawn',
  tensorflow: 'libtensorflow on the CPU',
  wasm: 'WebAssembly with SIMD (XNNPACK)',
  cpu: 'plain JavaScript, the slowest',
};

/** Every candidate, best first, with whether it can run here and why not. */
export async function listBackends(env: BackendEnv = nodeBackendEnv): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const name of BACKEND_NAMES) {
    const reason = await probe(name, env);
    out.push({ name, available: reason === null, reason: reason ?? AVAILABLE_NOTE[name] });
  }
  return out;
}


/**
 * Whether tfjs has begun initialising a backend. (tf.findBackend would start the initialisation
 * itself, too early to choose wasm threads.)
 */
function initialisationStarted(tfName: string): boolean {
  return tfName in (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
}

/** How long the threaded wasm binary may take to start its workers before the start is declared hung (wasm-threads.ts). */
const WASM_THREADED_INIT_MS = 60_000;

/** Imports the candidate's package (which registers it with tfjs) and returns tfjs' name for it. */
async function load(name: BackendName, env: BackendEnv, wasmThreads: number | undefined): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
      await env.importModule('@tensorflow/tfjs-node-gpu');
      return 'tensorflow';
    case 'tensorflow':
      await env.importModule('@tensorflow/tfjs-node');
      return 'tensorflow';
    case 'webgpu':
      await env.importModule('@tensorflow/tfjs-backend-webgpu');
      return 'webgpu';
    case 'wasm': {
      const wasm = (await env.importModule('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
      // Threads can only be chosen before the backend's first initialisation in this process.
      if (wasmThreads !== undefined && wasmThreads > 1 && !initialisationStarted('wasm')) {
        const threaded = prepareWasmThreads(wasmThreads, wasm.setThreadsCount);
        let ok = false;
        let timer: NodeJS.Timeout | undefined;
        const hung = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new LabError(`the wasm backend with ${wasmThreads} threads did not start within ${WASM_THREADED_INIT_MS / 1000} s (its workers never answered); run with MIAD_WASM_THREADS=1 (no threads)`, 'LabError')),
            WASM_THREADED_INIT_MS,
          );
          timer.unref();
        });
        try {
          ok = await Promise.race([tf.setBackend('wasm'), hung]);
        } catch (e) {
          // A hang cannot be undone in this process (the backend's initialisation stays pending): fail loudly.
          if (e instanceof LabError) throw e;
          ok = false;
        } finally {
          clearTimeout(timer);
          threaded.restore();
        }
        // Threads are on by default, so a runtime where the threaded binary cannot start (no
        // worker_threads, no SharedArrayBuffer) must still get wasm: the single-threaded binary.
        if (!ok) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      }
      return 'wasm';
    }
    case 'cpu':
      await env.importModule('@tensorflow/tfjs-backend-cpu');
      return 'cpu';
  }
}

export interface InitOptions {
  env?: BackendEnv;
  /**
   * wasm: size of its thread pool (XNNPACK, via Web Workers on worker_threads; see wasm-threads.ts).
   * Default `defaultWasmThreads()` (env MIAD_WASM_THREADS, else 1 = no workers).
   * Only honoured by the first wasm initialisation in a process.
   */
  wasmThreads?: number;
}

/**
 * Picks and initialises a backend. With `preferred`, that one or a LabError saying why it cannot
 * run; without, the best available one. Also registers the kernels the chosen backend lacks for
 * training and replaces the ones it runs too slowly (kernels/register.ts).
 */
export async function initBackend(preferred?: string, options: InitOptions = {}): Promise<ChosenBackend> {
  const env = options.env ?? nodeBackendEnv;
  if (preferred !== undefined && !isBackendName(preferred)) {
    throw new LabError(`unknown backend ${JSON.stringify(preferred)}; choose one of ${BACKEND_NAMES.join(', ')}`, 'ValidationError');
  }
  const candidates: BackendName[] = preferred ? [preferred] : [...BACKEND_NAMES];
  const skipped: BackendStatus[] = [];
  for (const name of candidates) {
    const reason = await probe(name, env);
    if (reason !== null) {
      skipped.push({ name, available: false, reason });
      continue;
    }
    try {
      const tfName = await load(name, env, name === 'wasm' ? (options.wasmThreads ?? defaultWasmThreads()) : undefined);
      const ok = await tf.setBackend(tfName);
      if (!ok) throw new Error(`tfjs could not initialise backend ${tfName}`);
      await tf.ready();
      registerMissingKernels(tfName);
      registerKernelOverrides(tfName);
      const chosen: ChosenBackend = { name, tfName, skipped };
      if (tfName === 'wasm') {
        const wasm = (await env.importModule('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
        chosen.threads = wasm.getThreadsCount();
      }
      return chosen;
    } catch (error) {
      skipped.push({ name, available: false, reason: `failed to initialise: ${errorText(error)}` });
    }
  }
  if (preferred) {
    throw new LabError(`backend ${preferred} is unavailable: ${skipped[0]?.reason ?? 'unknown reason'}`);
  }
  throw new LabError(`no tfjs backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}
