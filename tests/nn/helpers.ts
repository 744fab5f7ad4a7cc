// Shared helpers of the nn/optim tests: seeded inputs, NCHW ↔ NHWC, relative errors.
import { normalArray } from '../../src/main/core/engine/random';

export { fromTorch, relError, toTorch } from '../helpers/parity';

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Seeded N(0, std²) values. */
export function randn(shape: readonly number[], seed: number, std = 1): Float32Array {
  return normalArray(numel(shape), seed, std);
}



