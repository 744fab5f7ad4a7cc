// Shared helpers of the Auto-Encoder tests: seeded images, the PyTorch reference runner, NHWC ↔ NCHW,
// relative errors.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { decodeNpy, encodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { runPython } from '../../scripts/parity/reference';

export const AE_SCRIPT = fileURLToPath(new URL('../../scripts/reference/autoencoder.py', import.meta.url));

/** Runs scripts/reference/autoencoder.py; without torch it rejects with the install hint (exit status 3). */
export async function runAutoencoderReference(args: string[], timeoutMs = 300_000): Promise<void> {
  await runPython([AE_SCRIPT, ...args], timeoutMs);
}

/** `n` images [n, size, size, 3] in [0, 1) from mulberry32(seed), NHWC. */
export function randomImages(n: number, size: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n * size * size * 3 }, () => rand());
}

export async function writeImages(path: string, data: Float32Array, n: number, size: number): Promise<void> {
  await writeFile(path, encodeNpy(data, [n, size, size, 3]));
}

export interface Arr {
  data: Float32Array | Float64Array;
  shape: number[];
}

export async function readNpy(path: string): Promise<Arr> {
  const { data, shape } = decodeNpy(new Uint8Array(await readFile(path)), path);
  return { data: data as Float32Array | Float64Array, shape };
}

/** Ours → torch's layout (NHWC → NCHW for rank 4), values copied. */
export function toTorch(t: tf.Tensor): Arr {
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
