/**
 * The mask proposed from an anomaly map (annotate/mask-proposal.ts): small hand-made maps whose
 * answer is written out (threshold ≥, 8-connected components, minimum area, holes with a diagonal
 * gap), then synthetic maps against scripts/reference/mask_proposal.py (scipy.ndimage), exact.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { proposeMask } from '../../src/main/core/annotate/mask-proposal';
import { encodeNpy, parseNpy } from '../../src/main/core/evaluation/npy';
import { PYTHON, rng } from '../evaluation/reference';

const SCRIPT = join(import.meta.dirname, '../../scripts/reference/mask_proposal.py');

/** A map from rows of digits (value = digit / 10). */
function grid(rows: string[]): { map: Float32Array; width: number; height: number } {
  const height = rows.length;
  const width = rows[0]!.length;
  const map = new Float32Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (map[y * width + x] = Number(c) / 10)));
  return { map, width, height };
}

function picture(mask: Uint8Array, width: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < mask.length; i += width) rows.push([...mask.subarray(i, i + width)].map((v) => (v ? '#' : '.')).join(''));
  return rows;
}

describe('proposeMask on hand-made maps', () => {
  it('thresholds with ≥ and keeps 8-connected components of at least minArea pixels', () => {
    const { map, width, height } = grid([
      '900000', //
      '090005', // the 0.5 pixel is exactly at the threshold: kept
      '009000',
      '000000',
      '000090',
    ]);
    const all = proposeMask(map, width, height, { threshold: 0.5, minArea: 0, fillHoles: false });
    expect(picture(all.mask, width)).toEqual(['#.....', '.#...#', '..#...', '......', '....#.']);
    // The diagonal line is one 8-connected component of 3 pixels; the two singles are dropped at minArea 2.
    expect(all.components).toBe(3);
    const big = proposeMask(map, width, height, { threshold: 0.5, minArea: 2, fillHoles: false });
    expect(picture(big.mask, width)).toEqual(['#.....', '.#....', '..#...', '......', '......']);
    expect([big.components, big.dropped, big.area]).toEqual([1, 2, 3]);
    expect(proposeMask(map, width, height, { threshold: 0.5, minArea: 4, fillHoles: false }).area).toBe(0);
  });

  it('fills holes not 4-connected to the border, and leaves open bays and a diagonal gap alone', () => {
    const { map, width, height } = grid([
      '0000000000',
      '0999009990',
      '0909009000', // right shape: a bay open to the border on the right
      '0999009990',
      '0000000000',
      '0990000000',
      '9009000000', // a ring touching the border, its inside closed: filled
      '0990000000',
    ]);
    const p = proposeMask(map, width, height, { threshold: 0.5, minArea: 0, fillHoles: true });
    expect(picture(p.mask, width)).toEqual([
      '..........',
      '.###..###.',
      '.###..#...',
      '.###..###.',
      '..........',
      '.##.......',
      '####......',
      '.##.......',
    ]);
  });

  it('drops small components before filling, so a speck inside a ring does not survive on its own', () => {
    const { map, width, height } = grid(['00000', '09990', '09090', '09990', '00000', '90000']);
    const p = proposeMask(map, width, height, { threshold: 0.5, minArea: 2, fillHoles: true });
    expect(picture(p.mask, width)).toEqual(['.....', '.###.', '.###.', '.###.', '.....', '.....']);
    expect(p.dropped).toBe(1);
  });

  it('ignores NaN and refuses a map of the wrong length', () => {
    const map = new Float32Array([Number.NaN, 1, 0, 1]);
    expect(proposeMask(map, 2, 2, { threshold: 0.5, minArea: 0, fillHoles: true }).mask).toEqual(new Uint8Array([0, 255, 0, 255]));
    expect(() => proposeMask(map, 3, 2, { threshold: 0.5, minArea: 0, fillHoles: true })).toThrow(/expected 2×3/);
  });
});

/** Smooth blobs (some rings) plus noise: many components of all sizes, holes, border contacts. */
function syntheticMaps(n: number, h: number, w: number, seed: number): Float32Array {
  const rand = rng(seed);
  const maps = new Float32Array(n * h * w);
  for (let k = 0; k < n; k++) {
    const plane = maps.subarray(k * h * w, (k + 1) * h * w);
    for (let i = 0; i < plane.length; i++) plane[i] = rand() * 0.45;
    for (let b = 0; b < 6; b++) {
      const cy = rand() * h;
      const cx = rand() * w;
      const r = 2 + rand() * h * 0.18;
      const ring = rand() < 0.5;
      const peak = 0.4 + rand() * 0.6;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const d = Math.hypot(y - cy, x - cx) / r;
          const v = ring ? peak * Math.exp(-((d - 1) ** 2) * 12) : peak * Math.exp(-d * d * 2);
          const i = y * w + x;
          plane[i] = Math.max(plane[i]!, v);
        }
      }
    }
  }
  return maps;
}

function reference(maps: Float32Array, n: number, h: number, w: number, threshold: number, minArea: number, fill: boolean): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'miad-proposal-'));
  try {
    writeFileSync(join(dir, 'maps.npy'), encodeNpy(maps, [n, h, w], 'float32'));
    const args = [SCRIPT, join(dir, 'maps.npy'), join(dir, 'out.npy'), '--threshold', String(threshold), '--min-area', String(minArea)];
    if (!fill) args.push('--no-fill');
    try {
      execFileSync(PYTHON, args, { encoding: 'utf8' });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      if (/missing-packages|No module named/.test(String(e.stderr))) {
        throw new Error(`the reference needs numpy and scipy for ${PYTHON}: run scripts/install-test-deps.sh (as root). ${e.stderr}`);
      }
      throw new Error(`reference failed: ${e.stderr || e.message}`);
    }
    const out = parseNpy(readFileSync(join(dir, 'out.npy')));
    expect(out.shape).toEqual([n, h, w]);
    return out.data as Uint8Array;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('proposeMask against scipy.ndimage (scripts/reference/mask_proposal.py)', () => {
  const n = 6;
  const h = 61;
  const w = 83;
  const maps = syntheticMaps(n, h, w, 19);
  it.each([
    [0.5, 0, true],
    [0.5, 12, true],
    [0.35, 5, true],
    [0.62, 30, false],
    [0.44, 1, false],
  ])('threshold %f, minArea %i, fill %s: identical to the reference', (threshold, minArea, fill) => {
    const ref = reference(maps, n, h, w, threshold, minArea, fill);
    let dropped = 0;
    let filled = 0;
    for (let k = 0; k < n; k++) {
      const map = maps.subarray(k * h * w, (k + 1) * h * w);
      const p = proposeMask(map, w, h, { threshold, minArea, fillHoles: fill });
      expect(p.mask).toEqual(ref.subarray(k * h * w, (k + 1) * h * w));
      dropped += p.dropped;
      filled += p.area - proposeMask(map, w, h, { threshold, minArea, fillHoles: false }).area;
    }
    // The cases exercise what they name: components dropped where a minimum area is set, holes filled where asked.
    if (minArea > 1) expect(dropped).toBeGreaterThan(0);
    if (fill) expect(filled).toBeGreaterThan(0);
  });
});
