/**
 * A guard against the wasm heap's silent failure. tfjs-backend-wasm keeps every tensor in one 32-bit
 * wasm heap that stops growing at 3,936 MiB (measured). Past that it does not throw: an allocation
 * gets offset 0 and overwrites live tensors, and only a later access may fail. So the long loops
 * (training batches, memory-bank searches) check the bytes held by tensors after each step and stop
 * with a clear error well before the limit, rather than finish with corrupted numbers.
 *
 * tf.memory().numBytes counts tensor data only (not kernel scratch space), hence the margin.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../shared/errors';

/** Default ceiling for tensor bytes on wasm: 3.25 GiB of the 3.84 GiB heap. */
export const WASM_TENSOR_BYTES_LIMIT = 3.25 * 2 ** 30;

/**
 * Throws when the wasm backend holds more tensor bytes than `limitBytes`; does nothing on other backends.
 * @param where what was running, for the message
 */
export function assertWasmHeadroom(where: string, limitBytes = WASM_TENSOR_BYTES_LIMIT): void {
  if (tf.getBackend() !== 'wasm') return;
  const held = tf.memory().numBytes;
  if (held > limitBytes) {
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    throw new LabError(
      `${where}: the wasm backend holds ${gib(held)} GiB of tensors, above the ${gib(limitBytes)} GiB safe limit of its 3.84 GiB heap ` +
        '(past the heap limit tfjs-wasm silently corrupts memory). Use a smaller batch size or another backend.',
    );
  }
}
