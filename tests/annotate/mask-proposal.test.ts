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
import { SNAP_MIN_CONTRAST, proposeMask, snapToEdges } from '../../src/main/core/annotate/mask-proposal';
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

/** An RGB image of `bg` with the rectangle [x0, x1) × [y0, y1) in `fg`. */
function rectImage(width: number, height: number, rect: [number, number, number, number], fg: [number, number, number], bg: [number, number, number]): Uint8Array {
  const img = new Uint8Array(width * height * 3);
  const [x0, y0, x1, y1] = rect;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) img.set(x >= x0 && x < x1 && y >= y0 && y < y1 ? fg : bg, (y * width + x) * 3);
  return img;
}

/** The 0/255 mask of a rectangle. */
function rectMask(width: number, height: number, [x0, y0, x1, y1]: [number, number, number, number]): Uint8Array {
  const m = new Uint8Array(width * height);
  for (let y = y0; y < y1; y++) m.fill(255, y * width + x0, y * width + x1);
  return m;
}

/** A smooth map peaking over a rectangle: 1 inside, falling off outside; threshold 0.5 gives the rectangle. */
function rectMap(width: number, height: number, [x0, y0, x1, y1]: [number, number, number, number]): Float32Array {
  const map = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const d = Math.max(x0 - x, x - (x1 - 1), y0 - y, y - (y1 - 1), 0);
      map[y * width + x] = d === 0 ? 0.9 - 0.01 * ((x * 7 + y * 3) % 10) : 0.45 / d;
    }
  }
  return map;
}

describe('snapping a proposal to image edges', () => {
  const W = 64;
  const H = 48;
  const SQUARE: [number, number, number, number] = [16, 12, 44, 36];
  const image = rectImage(W, H, SQUARE, [210, 120, 60], [30, 40, 50]);

  it('moves a boundary that sits 2–3 px off a sharp edge exactly onto the edge, at every offset direction', () => {
    for (const [dx, dy] of [[2, 3], [-3, 2], [3, -2], [-2, -3]] as const) {
      const off: [number, number, number, number] = [SQUARE[0] + dx, SQUARE[1] + dy, SQUARE[2] + dx, SQUARE[3] + dy];
      const map = rectMap(W, H, off);
      const plain = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true });
      expect(plain.mask).toEqual(rectMask(W, H, off));
      const snapped = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image } });
      expect(picture(snapped.mask, W)).toEqual(picture(rectMask(W, H, SQUARE), W));
      expect([snapped.area, snapped.components]).toEqual([28 * 24, 1]);
      // The pixels on the wrong side: in the map's square but not the image's, and the other way round.
      let wrong = 0;
      for (let i = 0; i < W * H; i++) if (plain.mask[i] !== snapped.mask[i]) wrong++;
      expect(snapped.snapMoved).toBe(wrong);
      expect(wrong).toBeGreaterThan(0);
    }
  });

  it('cannot reach an edge farther than its band: a band of 1 leaves a 3 px offset mostly where it was', () => {
    const off: [number, number, number, number] = [SQUARE[0] + 3, SQUARE[1], SQUARE[2] + 3, SQUARE[3]];
    const snapped = proposeMask(rectMap(W, H, off), W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 1, image } });
    expect(snapped.mask).not.toEqual(rectMask(W, H, SQUARE));
  });

  it('leaves a proposal alone where the image has no edge: flat, or two colours closer than the contrast floor', () => {
    const off: [number, number, number, number] = [SQUARE[0] + 2, SQUARE[1] + 3, SQUARE[2] + 2, SQUARE[3] + 3];
    const map = rectMap(W, H, off);
    const plain = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true });
    const flat = new Uint8Array(W * H * 3).fill(97);
    const onFlat = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image: flat } });
    expect(onFlat.mask).toEqual(plain.mask);
    expect([onFlat.snapMoved, onFlat.area]).toEqual([0, plain.area]);
    const faint = rectImage(W, H, SQUARE, [100, 100, 100 + SNAP_MIN_CONTRAST - 1], [100, 100, 100]);
    expect(proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image: faint } }).mask).toEqual(plain.mask);
    // Just at the floor the same edge is snapped to.
    const enough = rectImage(W, H, SQUARE, [100, 100, 100 + SNAP_MIN_CONTRAST], [100, 100, 100]);
    expect(proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image: enough } }).mask).toEqual(rectMask(W, H, SQUARE));
  });

  it('applies the minimum area and hole filling again after snapping', () => {
    // The image's square has a dark 2×2 dot 2 px inside its top edge, where the map's blob (3 px
    // low) has its boundary band: snapping sends the dot to the background, enclosed by the square's
    // top rows it brings in. Hole filling puts it back; without hole filling it stays out.
    const dot = rectImage(W, H, SQUARE, [210, 120, 60], [30, 40, 50]);
    const DOT = [16 * W + 30, 16 * W + 31, 17 * W + 30, 17 * W + 31];
    for (const i of DOT) dot.set([30, 40, 50], i * 3);
    const map = rectMap(W, H, [SQUARE[0] + 2, SQUARE[1] + 3, SQUARE[2] + 2, SQUARE[3] + 3]);
    const filled = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image: dot } });
    expect(filled.mask).toEqual(rectMask(W, H, SQUARE));
    const open = proposeMask(map, W, H, { threshold: 0.5, minArea: 0, fillHoles: false, snap: { band: 4, image: dot } });
    const holed = rectMask(W, H, SQUARE);
    for (const i of DOT) holed[i] = 0;
    expect(picture(open.mask, W)).toEqual(picture(holed, W));
    // A speck the snap leaves on its own is dropped by the minimum area: a 1 px bright dot in the
    // band outside the object joins nothing once the boundary moves back onto the square.
    const dotted = rectImage(W, H, SQUARE, [210, 120, 60], [30, 40, 50]);
    dotted.set([210, 120, 60], ((SQUARE[3] + 2) * W + SQUARE[0] + 10) * 3);
    const speckMap = rectMap(W, H, [SQUARE[0], SQUARE[1], SQUARE[2], SQUARE[3] + 3]);
    const kept = proposeMask(speckMap, W, H, { threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 4, image: dotted } });
    expect([kept.components, kept.area]).toEqual([2, 28 * 24 + 1]);
    const dropped = proposeMask(speckMap, W, H, { threshold: 0.5, minArea: 2, fillHoles: true, snap: { band: 4, image: dotted } });
    expect(dropped.mask).toEqual(rectMask(W, H, SQUARE));
    expect([dropped.components, dropped.dropped]).toEqual([1, 1]);
  });

  it('finds the same boundary four pixels at a time as pixel by pixel (a mask not on a 4-byte boundary)', () => {
    // A scatter of blocks and single pixels (every corner and diagonal at every position in a
    // word) over an image of many small two-colour patches.
    const scatter = new Uint8Array(W * H);
    const patches = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const blob = ((x >> 3) * 3 + Math.floor(y / 6) * 5) % 4 < 2 !== ((x * 7 + y * 11) % 23 === 0);
        scatter[y * W + x] = blob ? 255 : 0;
        patches.set(((x + 1) >> 3) % 2 === Math.floor((y + 2) / 7) % 2 ? [220, 200, 40] : [20, 30, 90], (y * W + x) * 3);
      }
    }
    const rect = rectMask(W, H, [SQUARE[0] + 3, SQUARE[1] - 2, SQUARE[2] + 3, SQUARE[3] - 2]);
    const movedAll: number[] = [];
    for (const [band, start, img] of [[1, scatter, patches], [2, scatter, patches], [3, rect, image], [4, rect, image]] as const) {
      const aligned = start.slice();
      const unaligned = new Uint8Array(new ArrayBuffer(W * H + 1), 1, W * H);
      unaligned.set(start);
      const moved = snapToEdges(aligned, img, W, H, band);
      movedAll.push(moved);
      expect(snapToEdges(unaligned, img, W, H, band)).toBe(moved);
      expect(picture(unaligned, W)).toEqual(picture(aligned, W));
    }
    expect(movedAll.every((m) => m > 0)).toBe(true);
  });

  it('refuses an image of the wrong size and a band out of range', () => {
    const mask = rectMask(W, H, SQUARE);
    expect(() => snapToEdges(mask, new Uint8Array(10), W, H, 4)).toThrow(/image holds 10 bytes/);
    expect(() => snapToEdges(mask, image, W, H, 0)).toThrow(/snap band 0/);
    expect(snapToEdges(new Uint8Array(W * H), image, W, H, 4)).toBe(0);
  });
});
