/** Shared set-up of the PatchCore tests: a small MIAD-mini, the wasm backend, npy I/O, the Python reference. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { decodeNpy, encodeNpy } from '../../src/main/core/engine/npy';
import type { Scenario } from '../../src/shared/taxonomy';

export const PATCHCORE_SCRIPT = fileURLToPath(new URL('../../scripts/reference/patchcore.py', import.meta.url));

export async function makeMini(outDir: string, scenarios: Scenario[], train: number, test: number, size = 64, seed = 7): Promise<string> {
  await generateMiadMini({ outDir, scenarios, train, test, size, seed });
  return outDir;
}

export async function saveNpy(dir: string, name: string, data: Float32Array, shape: number[]): Promise<void> {
  await writeFile(join(dir, name), encodeNpy(data, shape));
}

export async function loadNpy(dir: string, name: string): Promise<{ data: Float32Array; shape: number[] }> {
  const a = decodeNpy(new Uint8Array(await readFile(join(dir, name))), name);
  return { data: a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), shape: a.shape };
}

/** Largest |a − b| / max(1, |b|). */
export function maxRelError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return worst;
}
