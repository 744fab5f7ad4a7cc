// The wasm heap guard: it stops with a clear error once tensors hold more than the limit on wasm
// (where tfjs would otherwise corrupt memory silently past the heap's end), and never on other backends.
import { describe, it, expect, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { assertWasmHeadroom, WASM_TENSOR_BYTES_LIMIT } from '../../src/main/core/engine/wasm-heap';

describe('wasm heap guard', () => {
  const held: tf.Tensor[] = [];
  afterAll(() => tf.dispose(held));

  it('throws on wasm above the limit, naming the step, and passes below it', async () => {
    await initBackend('wasm');
    const before = tf.memory().numBytes;
    held.push(tf.zeros([256, 1024])); // 1 MiB
    expect(() => assertWasmHeadroom('test step', before + 2 ** 20 + 1)).not.toThrow();
    expect(() => assertWasmHeadroom('test step', before + 2 ** 19)).toThrow(/test step: the wasm backend holds .* GiB of tensors.*smaller batch size or another backend/);
    expect(() => assertWasmHeadroom('test step')).not.toThrow();
    expect(WASM_TENSOR_BYTES_LIMIT).toBeLessThan(3936 * 2 ** 20);
  });

  it('does nothing on the cpu backend', async () => {
    await initBackend('cpu');
    held.push(tf.zeros([256, 1024]));
    expect(() => assertWasmHeadroom('test step', 1)).not.toThrow();
  });
});
