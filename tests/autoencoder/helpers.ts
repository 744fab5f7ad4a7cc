// Shared helpers of the Auto-Encoder tests: seeded images, the PyTorch reference runner, NHWC ↔ NCHW,
// relative errors.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeNpy, encodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { runPython } from '../../scripts/parity/reference';

export { maxAbs, relError, toTorch } from '../helpers/parity';

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



