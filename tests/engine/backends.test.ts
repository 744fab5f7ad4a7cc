// Backend probing and selection: on this machine wasm and cpu run and the native/WebGPU ones
// report why not; with a faked environment, every kind of reason and the fall-through.
import { describe, it, expect, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { listBackends, initBackend, nodeBackendEnv, type BackendEnv } from '../../src/main/core/engine/backends';
import { missingTrainingKernels, overriddenKernels } from '../../src/main/core/engine/kernels/register';
import { defaultWasmThreads } from '../../src/main/core/engine/wasm-threads';
import { hasGradient } from '../../src/main/core/engine/gradients';

function fakeEnv(over: Partial<BackendEnv> & { installed?: string[]; modules?: Record<string, unknown> }): BackendEnv {
  const installed = new Set(over.installed ?? []);
  return {
    resolve: (pkg) => {
      if (installed.has(pkg)) return `/fake/${pkg}`;
      return nodeBackendEnv.resolve(pkg);
    },
    importModule: async (pkg) => {
      if (over.modules && pkg in over.modules) {
        const m = over.modules[pkg];
        if (m instanceof Error) throw m;
        return m;
      }
      return nodeBackendEnv.importModule(pkg);
    },
    hasSharedLibrary: over.hasSharedLibrary ?? (() => false),
    platform: over.platform ?? 'linux',
  };
}

afterEach(() => {
  delete (globalThis as { navigator?: unknown }).navigator;
});

describe('backends on this machine', () => {
  it('lists all five, best first: wasm and cpu available, the others with a reason (this machine: no GPU, no libtensorflow)', async () => {
    const list = await listBackends();
    expect(list.map((b) => b.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']);
    const by = Object.fromEntries(list.map((b) => [b.name, b]));
    expect(by.wasm?.available).toBe(true);
    expect(by.cpu?.available).toBe(true);
    expect(by['tensorflow-gpu']).toMatchObject({ available: false, reason: expect.stringMatching(/@tensorflow\/tfjs-node-gpu is not installed/) });
    expect(by.tensorflow).toMatchObject({ available: false, reason: expect.stringMatching(/@tensorflow\/tfjs-node is not installed/) });
    expect(by.webgpu).toMatchObject({ available: false, reason: expect.stringMatching(/no WebGPU adapter/) });
  });

  it('picks the best available (wasm) with the default thread pool, registers its missing training kernels, the overrides and the gradients', async () => {
    const chosen = await initBackend();
    expect(chosen.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(chosen.threads).toBe(defaultWasmThreads());
    expect(overriddenKernels('wasm')).toEqual(['Conv2DBackpropInput', 'BatchMatMul']);
    expect(chosen.skipped.map((s) => s.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow']);
    expect(missingTrainingKernels('wasm')).toEqual([]);
    expect(hasGradient('Conv2D')).toBe(true);
  });

  it('honours a forced backend, and refuses an unavailable or unknown one clearly', async () => {
    expect((await initBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await expect(initBackend('tensorflow-gpu')).rejects.toThrow(/backend tensorflow-gpu is unavailable: package @tensorflow\/tfjs-node-gpu is not installed/);
    await expect(initBackend('cuda')).rejects.toThrow(/unknown backend "cuda"; choose one of tensorflow-gpu, webgpu, tensorflow, wasm, cpu/);
    expect(tf.getBackend()).toBe('cpu');
    await initBackend('wasm');
  });
});

describe('the default wasm thread count', () => {
  it('is 1 (threads are opt-in), or MIAD_WASM_THREADS; a bad value is refused clearly', () => {
    expect(defaultWasmThreads({})).toBe(1);
    expect(defaultWasmThreads({ MIAD_WASM_THREADS: '1' })).toBe(1);
    expect(defaultWasmThreads({ MIAD_WASM_THREADS: ' 6 ' })).toBe(6);
    expect(defaultWasmThreads({ MIAD_WASM_THREADS: '' })).toBe(1);
    expect(() => defaultWasmThreads({ MIAD_WASM_THREADS: '0' })).toThrow(/MIAD_WASM_THREADS must be a positive integer .*"0"/);
    expect(() => defaultWasmThreads({ MIAD_WASM_THREADS: 'two' })).toThrow(/MIAD_WASM_THREADS must be a positive integer/);
  });
});

describe('backend probing with a faked environment', () => {
  it('tfjs-node-gpu installed but no CUDA runtime', async () => {
    const list = await listBackends(fakeEnv({ installed: ['@tensorflow/tfjs-node-gpu'] }));
    expect(list[0]).toMatchObject({ name: 'tensorflow-gpu', available: false, reason: expect.stringMatching(/CUDA runtime missing: libcudart\.so\.11\.0, libcudnn\.so\.8 not found/) });
    const withCuda = await listBackends(fakeEnv({ installed: ['@tensorflow/tfjs-node-gpu'], hasSharedLibrary: () => true }));
    expect(withCuda[0]?.available).toBe(true);
    const mac = await listBackends(fakeEnv({ installed: ['@tensorflow/tfjs-node-gpu'], platform: 'darwin' }));
    expect(mac[0]?.reason).toMatch(/Linux and Windows only, not darwin/);
  });

  it('WebGPU packages installed but no adapter', async () => {
    const env = fakeEnv({
      installed: ['@tensorflow/tfjs-backend-webgpu', 'webgpu'],
      modules: { webgpu: { globals: {}, create: () => ({ requestAdapter: async () => null }) } },
    });
    const list = await listBackends(env);
    expect(list[1]).toMatchObject({ name: 'webgpu', available: false, reason: expect.stringMatching(/no WebGPU adapter/) });
  });

  it('a candidate that fails to initialise is skipped with its error, and the next one runs', async () => {
    const env = fakeEnv({ installed: ['@tensorflow/tfjs-node'], modules: { '@tensorflow/tfjs-node': new Error('libtensorflow.so.2: cannot open shared object file') } });
    const chosen = await initBackend(undefined, { env });
    expect(chosen.name).toBe('wasm');
    expect(chosen.skipped.find((s) => s.name === 'tensorflow')?.reason).toMatch(/failed to initialise: libtensorflow\.so\.2: cannot open shared object file/);
    await expect(initBackend('tensorflow', { env })).rejects.toThrow(/backend tensorflow is unavailable: failed to initialise: libtensorflow/);
  });
});
