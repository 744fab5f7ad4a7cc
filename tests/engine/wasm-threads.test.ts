// Multi-threaded wasm under Node (off in tfjs for Node; enabled by wasm-threads.ts): the pool
// really has the threads asked for, and a convolution gives the single-threaded cpu result.
// In its own file, since the thread count is fixed by a process's first wasm initialisation.
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../../src/main/core/engine/backends';

describe('wasm with threads', () => {
  it('starts a 2-thread pool and computes what cpu computes', async () => {
    const chosen = await initBackend('wasm', { wasmThreads: 2 });
    expect(chosen.threads).toBe(2);
    const pool = (tf.backend() as unknown as { wasm: { PThread: { runningWorkers: unknown[] } } }).wasm.PThread;
    expect(pool.runningWorkers.length).toBe(1); // the main thread plus one worker
    // Globals patched for the initialisation are restored.
    expect(URL.createObjectURL(new Blob(['x']))).toMatch(/^blob:/);
    const x = tf.randomUniform([2, 32, 32, 16], -1, 1, 'float32', 1);
    const w = tf.randomUniform([3, 3, 16, 32], -1, 1, 'float32', 2);
    const ours = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync().slice();
    const xv = x.dataSync().slice();
    const wv = w.dataSync().slice();
    await tf.setBackend('cpu');
    const ref = tf.conv2d(tf.tensor4d(xv, [2, 32, 32, 16]), tf.tensor4d(wv, [3, 3, 16, 32]), 1, 'same').dataSync();
    let diff = 0;
    let scale = 0;
    ref.forEach((v, i) => {
      diff = Math.max(diff, Math.abs(v - (ours[i] as number)));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(diff / scale).toBeLessThan(1e-5);
  });
});
