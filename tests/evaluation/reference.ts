/**
 * Runs scripts/reference/metrics.py (sklearn + scipy under Debian's /usr/bin/python3) on inputs the
 * tests write as .npy files. A missing package is a test failure that says how to install it: the
 * parity tests are the proof of exactness and must not skip silently.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeNpy } from '../../src/main/core/evaluation/npy';
import { mulberry32 } from '../../src/main/core/engine/random';

import { PYTHON } from '../../scripts/parity/reference';

export { PYTHON };
const SCRIPT = join(import.meta.dirname, '../../scripts/reference/metrics.py');

export type Undefined = { undefined: string };
export interface ReferenceSubset {
  image_auroc: number | Undefined;
  image_f1: [number, number] | Undefined;
  pixel_auroc?: number | Undefined;
  pixel_f1?: [number, number] | Undefined;
  pro?: { aupro: number; regions: number } | Undefined;
}

export interface ReferenceInput {
  n: number;
  height: number;
  width: number;
  maps: Float32Array;
  masks: Uint8Array;
  imageScores?: Float64Array;
  /** Per subset, per image membership. */
  subsets?: boolean[][];
  proLimit?: number;
  noPixel?: boolean;
}

export function runReference(input: ReferenceInput): ReferenceSubset[] {
  const dir = mkdtempSync(join(tmpdir(), 'miad-ref-'));
  try {
    const { n, height, width } = input;
    writeFileSync(join(dir, 'maps.npy'), encodeNpy(input.maps, [n, height, width], 'float32'));
    writeFileSync(join(dir, 'masks.npy'), encodeNpy(input.masks, [n, height, width], 'uint8'));
    if (input.imageScores) writeFileSync(join(dir, 'image_scores.npy'), encodeNpy(input.imageScores, [n], 'float64'));
    if (input.subsets) {
      writeFileSync(join(dir, 'subsets.npy'), encodeNpy(input.subsets.flat().map(Number), [input.subsets.length, n], 'bool'));
    }
    const args = [SCRIPT, dir, '--pro-limit', String(input.proLimit ?? 0.3)];
    if (input.noPixel) args.push('--no-pixel');
    let stdout: string;
    try {
      stdout = execFileSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
    } catch (error) {
      const e = error as { status?: number; stdout?: string; stderr?: string; message: string };
      if (e.status === 3 || /No module named/.test(String(e.stderr) + String(e.stdout))) {
        throw new Error(
          `the reference needs sklearn, scipy and numpy for ${PYTHON}: run scripts/install-test-deps.sh (as root). ${e.stdout ?? ''}`,
        );
      }
      throw new Error(`reference failed: ${e.stderr || e.message}`);
    }
    return (JSON.parse(stdout) as { subsets: ReferenceSubset[] }).subsets;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function defined<T>(value: T | Undefined | undefined, what: string): T {
  if (value === undefined) throw new Error(`reference gave no ${what}`);
  if (typeof value === 'object' && value !== null && 'undefined' in value) throw new Error(`reference: ${what} undefined: ${value.undefined}`);
  return value as T;
}

export function isUndefined(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'undefined' in value;
}

/** Deterministic PRNG (the engine's mulberry32) so failures reproduce. */
export const rng = mulberry32;

/** Paints `blobs` random filled ellipses into an h×w mask (values 255). */
export function blobMask(rand: () => number, h: number, w: number, blobs: number): Uint8Array {
  const m = new Uint8Array(h * w);
  for (let b = 0; b < blobs; b++) {
    const cy = rand() * h;
    const cx = rand() * w;
    const ry = 1 + rand() * h * 0.15;
    const rx = 1 + rand() * w * 0.15;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1) m[y * w + x] = 255;
      }
    }
  }
  return m;
}

/** Runs a Python snippet under Debian's python3 (numpy/scipy), failing with the install hint when they are missing. */
export function runPython(code: string, args: string[] = []): string {
  try {
    return execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  } catch (error) {
    const e = error as { status?: number; stderr?: string; message: string };
    if (/No module named|missing-packages/.test(String(e.stderr))) {
      throw new Error(`the reference needs numpy and scipy for ${PYTHON}: run scripts/install-test-deps.sh (as root). ${e.stderr}`);
    }
    throw new Error(`python failed: ${e.stderr || e.message}`);
  }
}

export const POST_PROCESS_SCRIPT = join(import.meta.dirname, '../../scripts/reference/post_process.py');
