/**
 * Helpers the PyTorch parity tests share: torch's NCHW layout ↔ ours (NHWC), the relative
 * error every parity bar is stated in (max |ours − ref| / max |ref|), and the judging of a
 * train-mode quantity against a reference run in float32 and float64 (compareTrain).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { decodeNpy } from '../../src/main/core/engine/npy';

/** torch layout → ours: rank-4 tensors are NCHW in torch and NHWC here; others are the same. */
export function fromTorch(data: Float32Array, shape: readonly number[]): tf.Tensor {
  const t = tf.tensor(data, [...shape], 'float32');
  if (shape.length !== 4) return t;
  const r = tf.transpose(t, [0, 2, 3, 1]);
  t.dispose();
  return r;
}

/** Ours → torch layout values (NHWC → NCHW for rank 4), with the torch shape. */
export function toTorch(t: tf.Tensor): { data: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const r = t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
    return { data: new Float32Array(r.dataSync() as Float32Array), shape: [...r.shape] };
  });
}

/** max |ours − ref| / max |ref| (ref all zero: max |ours|). */
export function relError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs((ours[i] as number) - (ref[i] as number)));
    scale = Math.max(scale, Math.abs(ref[i] as number));
  }
  return scale > 0 ? diff / scale : diff;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

/** One tensor in torch's layout. */
export interface ParityArray {
  data: ArrayLike<number>;
  shape: number[];
}

export interface TrainComparisonOptions {
  /** The reference's output folder: it holds `step32/<file>` and `step64/<file>`. */
  dir: string;
  /** Always good enough: ours within this of float64. */
  tol: number;
  /** Otherwise ours may be this many times farther from float64 than torch float32 is. */
  factor: number;
  /** Gets one line of figures per comparison when given. */
  figures?: string[];
}

/**
 * A train-mode quantity (AE, DRAEM): ours against the reference's float32 run (reported) and its
 * float64 run (judged), ours within max(tol, factor × torch float32's own distance to float64) of
 * float64, softly. With batch-statistics BatchNorms the float32 answer is only determined to about
 * that distance (tests/autoencoder/parity.test.ts says why).
 */
export async function compareTrain(what: string, ours: ParityArray, file: string, o: TrainComparisonOptions): Promise<{ vs32: number; vs64: number; floor: number }> {
  const read = async (run: string) => decodeNpy(new Uint8Array(await readFile(join(o.dir, run, file))), join(o.dir, run, file));
  const [t32, t64] = await Promise.all([read('step32'), read('step64')]);
  expect(ours.shape, `${what} shape`).toEqual(t32.shape);
  expect(t64.shape, `${what} shape (float64)`).toEqual(t32.shape);
  const vs32 = relError(ours.data, t32.data as ArrayLike<number>);
  const vs64 = relError(ours.data, t64.data as ArrayLike<number>);
  const floor = relError(t32.data as ArrayLike<number>, t64.data as ArrayLike<number>);
  const fmt = (v: number): string => v.toExponential(2);
  o.figures?.push(`  ${what}: ours vs torch32 ${fmt(vs32)}, ours vs torch64 ${fmt(vs64)}, torch32 vs torch64 ${fmt(floor)}`);
  expect.soft(vs64, `${what}: ours vs torch float64 ${fmt(vs64)}, torch float32 vs float64 ${fmt(floor)}`).toBeLessThanOrEqual(Math.max(o.tol, o.factor * floor));
  return { vs32, vs64, floor };
}
