// Shared helpers of the DRAEM tests: the PyTorch / numpy reference runner (scripts/reference/draem.py),
// .npy in and out.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeNpy, encodeNpy } from '../../src/main/core/engine/npy';
import { runPython } from '../../scripts/parity/reference';

export { maxAbs, relError, toTorch } from '../helpers/parity';

export const DRAEM_SCRIPT = fileURLToPath(new URL('../../scripts/reference/draem.py', import.meta.url));

/** Runs scripts/reference/draem.py; without torch it rejects with the install hint (exit status 3). */
export async function runDraemReference(args: string[], timeoutMs = 300_000): Promise<{ stdout: string }> {
  return runPython([DRAEM_SCRIPT, ...args], timeoutMs);
}

export interface Arr {
  data: Float32Array | Float64Array | Uint8Array;
  shape: number[];
}

export async function readNpy(path: string): Promise<Arr> {
  const { data, shape } = decodeNpy(new Uint8Array(await readFile(path)), path);
  return { data: data as Arr['data'], shape };
}

export async function writeNpy(path: string, data: Float32Array | Float64Array | Uint8Array, shape: number[]): Promise<void> {
  await writeFile(path, encodeNpy(data as Float32Array, shape));
}

/** max |a − b| over all elements. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
