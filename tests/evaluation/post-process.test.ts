/**
 * Post-processing against scipy: the Gaussian blur (σ 4, truncate 4σ) in both paddings, and the
 * bilinear resize with torch's align_corners=False coordinates (up and down, odd ratios).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npyToMap, parseNpy, encodeNpy } from '../../src/main/core/evaluation/npy';
import {
  MapStats,
  gaussianBlur,
  gaussianKernel,
  normalizeForDisplay,
  resizeBilinear,
  resizeNearest,
  runDisplayScale,
  sharedDisplayScale,
} from '../../src/main/core/evaluation/post-process';
import { POST_PROCESS_SCRIPT, PYTHON, rng } from './reference';
import { execFileSync } from 'node:child_process';

const dir = mkdtempSync(join(tmpdir(), 'miad-pp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function reference(op: 'blur' | 'resize', map: Float32Array, h: number, w: number, args: string[]): Float64Array {
  const src = join(dir, `in-${op}.npy`);
  const dst = join(dir, `out-${op}.npy`);
  writeFileSync(src, encodeNpy(map, [h, w], 'float32'));
  try {
    execFileSync(PYTHON, [POST_PROCESS_SCRIPT, op, src, dst, ...args], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(`reference failed (run scripts/install-test-deps.sh if packages are missing): ${(error as { stderr?: string }).stderr}`);
  }
  return parseNpy(readFileSync(dst)).data as Float64Array;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function randomMap(seed: number, h: number, w: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: h * w }, () => r());
}

describe('gaussian blur', () => {
  it('uses radius int(4σ + 0.5) and sums to 1', () => {
    expect(gaussianKernel(4).length).toBe(33);
    expect(gaussianKernel(0.6).length).toBe(5);
    expect(gaussianKernel(4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it("torch 'reflect' padding equals scipy mode='mirror' (anomalib's blur)", () => {
    const h = 40;
    const w = 37;
    const map = randomMap(1, h, w);
    const ours = gaussianBlur(map, w, h, 4, 'torch-reflect');
    expect(maxDiff(ours, reference('blur', map, h, w, ['--sigma', '4', '--mode', 'mirror']))).toBeLessThan(1e-6);
  });

  it("scipy-reflect padding equals scipy mode='reflect', and differs from torch's at the border", () => {
    const h = 24;
    const w = 30;
    const map = randomMap(2, h, w);
    const ours = gaussianBlur(map, w, h, 2.5, 'scipy-reflect');
    expect(maxDiff(ours, reference('blur', map, h, w, ['--sigma', '2.5', '--mode', 'reflect']))).toBeLessThan(1e-6);
    expect(maxDiff(ours, gaussianBlur(map, w, h, 2.5, 'torch-reflect'))).toBeGreaterThan(1e-4);
  });

  it('handles maps smaller than the kernel (repeated mirroring, like scipy)', () => {
    const map = randomMap(3, 5, 7);
    const ours = gaussianBlur(map, 7, 5, 4, 'torch-reflect');
    expect(maxDiff(ours, reference('blur', map, 5, 7, ['--sigma', '4', '--mode', 'mirror']))).toBeLessThan(1e-6);
  });
});

describe('resize', () => {
  it('bilinear up and down with align_corners=False coordinates', () => {
    const map = randomMap(4, 28, 28);
    for (const [oh, ow] of [
      [256, 256],
      [64, 50],
      [9, 13],
      [28, 28],
    ] as const) {
      const ours = resizeBilinear(map, 28, 28, ow, oh);
      expect(maxDiff(ours, reference('resize', map, 28, 28, ['--height', String(oh), '--width', String(ow)]))).toBeLessThan(1e-6);
    }
  });

  it('nearest picks floor(dst·in/out) as torch mode=nearest', () => {
    const src = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]); // 3×3
    expect(Array.from(resizeNearest(src, 3, 3, 6, 6).subarray(0, 6))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(resizeNearest(src, 3, 3, 2, 2))).toEqual([0, 1, 3, 4]);
  });
});

describe('display normalisation', () => {
  it('per run (min–max or centred on a threshold) and shared across runs', () => {
    const a = new MapStats().add([0, 2, 4]);
    const b = new MapStats().add([10, 30, Number.NaN]);
    const sa = runDisplayScale(a);
    expect(sa).toEqual({ lo: 0, hi: 4 });
    expect(Array.from(normalizeForDisplay([0, 2, 4, 5], sa))).toEqual([0, 0.5, 1, 1]);
    expect(runDisplayScale(a, 3)).toEqual({ lo: 1, hi: 5 });
    const shared = sharedDisplayScale([sa, runDisplayScale(b)]);
    expect(shared).toEqual({ lo: 0, hi: 30 });
    expect(normalizeForDisplay([15], shared)[0]).toBeCloseTo(0.5, 6);
    expect(() => runDisplayScale(new MapStats())).toThrow(/no finite/);
  });
});

describe('npy maps through the post-processing', () => {
  it('decodes a map written by our encoder', () => {
    const map = randomMap(5, 3, 4);
    const back = npyToMap(parseNpy(encodeNpy(map, [1, 3, 4], 'float32')));
    expect(back.height).toBe(3);
    expect(back.width).toBe(4);
    expect(Array.from(back.data)).toEqual(Array.from(map));
  });
});
