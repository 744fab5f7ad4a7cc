/**
 * Small exact cases worked by hand: float keys order like numbers, connected components as scipy
 * numbers them, AUROC with ties, AUPRO's interpolation at the limit, and the errors for undefined metrics.
 */
import { describe, expect, it } from 'vitest';
import { labelComponents } from '../../src/main/core/evaluation/components';
import { MetricUndefinedError } from '../../src/main/core/evaluation/curve';
import { floatKey, keyToFloat } from '../../src/main/core/evaluation/float-order';
import { aupro, pixelAuroc, pixelMetrics } from '../../src/main/core/evaluation/pixel-metrics';
import { f1Max, rocAuc, scoreMetrics } from '../../src/main/core/evaluation/score-metrics';
import { rng } from './reference';

/** 8-connected labels numbered in raster order of each component's first pixel, by breadth-first fill. */
function floodFill(mask: Uint8Array, width: number, height: number): number[] {
  const labels = new Array<number>(width * height).fill(0);
  let next = 0;
  for (let start = 0; start < labels.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    labels[start] = ++next;
    const queue = [start];
    while (queue.length > 0) {
      const i = queue.pop()!;
      const y = Math.floor(i / width);
      const x = i % width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (mask[j] !== 0 && labels[j] === 0) {
            labels[j] = next;
            queue.push(j);
          }
        }
      }
    }
  }
  return labels;
}

describe('float keys', () => {
  it('order like the numbers, fold -0 onto +0, and invert', () => {
    const values = [-Infinity, -3e38, -1, -1e-40, -0, 0, 1e-45, 0.5, 1, 3e38, Infinity].map(Math.fround);
    const keys = values.map(floatKey);
    for (let i = 1; i < keys.length; i++) {
      if (Object.is(values[i - 1], -0)) expect(keys[i]).toBe(keys[i - 1]);
      else expect(keys[i]!).toBeGreaterThan(keys[i - 1]!);
    }
    for (const v of values) expect(keyToFloat(floatKey(v))).toBe(v === 0 ? 0 : v);
  });
});

describe('connected components', () => {
  it('joins diagonal neighbours (8-connectivity) and numbers regions in raster order', () => {
    // prettier-ignore
    const mask = Uint8Array.from([
      0, 0, 1, 0, 1,
      1, 0, 0, 1, 0,
      0, 1, 0, 0, 0,
      0, 0, 0, 1, 1,
    ]);
    const c = labelComponents(mask, 5, 4);
    expect(c.count).toBe(3);
    expect(Array.from(c.labels)).toEqual([0, 0, 1, 0, 1, 2, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 3, 3]);
    expect(Array.from(c.sizes)).toEqual([3, 2, 2]);
  });

  it('merges a U shape whose arms meet late', () => {
    const mask = Uint8Array.from([1, 0, 1, 1, 0, 1, 1, 1, 1]);
    expect(labelComponents(mask, 3, 3).count).toBe(1);
  });

  it('labels the same through the 4-byte word skip (aligned) and byte by byte (unaligned), as a flood fill does', () => {
    const rand = rng(7);
    const width = 24;
    const height = 16;
    const n = width * height;
    for (let trial = 0; trial < 40; trial++) {
      const density = [0.02, 0.1, 0.4][trial % 3]!;
      const backing = new Uint8Array(n + 8);
      const aligned = backing.subarray(4, 4 + n);
      for (let i = 0; i < n; i++) aligned[i] = rand() < density ? 1 + Math.floor(rand() * 255) : 0;
      const unaligned = new Uint8Array(n + 1).subarray(1);
      unaligned.set(aligned);
      const a = labelComponents(aligned, width, height);
      const b = labelComponents(unaligned, width, height);
      const ref = floodFill(aligned, width, height);
      expect(Array.from(a.labels)).toEqual(ref);
      expect(Array.from(b.labels)).toEqual(ref);
      expect(Array.from(a.sizes)).toEqual(Array.from(b.sizes));
      expect([a.first, a.last]).toEqual([ref.findIndex((l) => l > 0), ref.length - 1 - [...ref].reverse().findIndex((l) => l > 0)]);
    }
    // Scratch reused from a bigger earlier mask must not leak old labels into background.
    const scratch = new Int32Array(n).fill(9);
    expect(Array.from(labelComponents(new Uint8Array(n), width, height, scratch).labels).every((l) => l === 0)).toBe(true);
  });
});

describe('worked examples', () => {
  it('AUROC counts a tied positive/negative pair as one half', () => {
    // Pairs: (0.9 vs 0.5) win, (0.9 vs 0.9) tie, (0.5 vs 0.5) tie, (0.5 vs 0.9) loss → (1 + 0.5 + 0.5) / 4.
    expect(rocAuc([0.9, 0.5, 0.9, 0.5], [1, 1, 0, 0])).toBe(0.5);
    expect(rocAuc([0.9, 0.5, 0.1], [1, 0, 0])).toBe(1);
    const m = scoreMetrics([0.9, 0.8, 0.7, 0.1], [1, 0, 1, 0]);
    expect(m.f1Max).toBeCloseTo(0.8, 12); // at 0.7: tp 2, fp 1 → 2·2 / (2 + 1 + 2)
    expect(m.f1Threshold).toBe(0.7);
  });

  it('AUPRO interpolates at the limit and divides by it (not by the last FPR)', () => {
    // One image 1×4: a one-pixel region scored lowest, three normal pixels above it.
    // Curve: (0,0) → (1/3,0) → (2/3,0) → (1,0) → (1,1); so AUPRO(limit) = 0 for any limit < 1.
    const set = { width: 4, height: 1, count: 1, maps: Float32Array.from([0.1, 0.9, 0.8, 0.7]), masks: Uint8Array.from([1, 0, 0, 0]) };
    expect(aupro(set)).toBe(0);
    // Constant map: one threshold jumps from (0,0) to (1,1); at FPR 0.3 the PRO is 0.3, area 0.045.
    const flat = { ...set, maps: new Float32Array(4).fill(0.5) };
    expect(aupro(flat)).toBeCloseTo(0.15, 15);
    expect(pixelAuroc(flat)).toBe(0.5);
    // Region above everything: PRO 1 from FPR 0 → AUPRO 1.
    const perfect = { ...set, maps: Float32Array.from([0.95, 0.9, 0.8, 0.7]) };
    expect(aupro(perfect)).toBe(1);
    expect(aupro(perfect, 1)).toBe(1);
  });

  it('says why a metric is undefined', () => {
    expect(() => rocAuc([0.1, 0.2], [0, 0])).toThrow(MetricUndefinedError);
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/2 anomalous and 0 normal/);
    expect(() => f1Max([0.1], [0])).toThrow(/no anomalous/);
    const normal = { width: 2, height: 1, count: 1, maps: Float32Array.from([0.1, 0.2]), masks: new Uint8Array(2) };
    expect(() => aupro(normal)).toThrow(/0 ground-truth regions/);
    expect(() => pixelAuroc(normal)).toThrow(/0 anomalous and 2 normal/);
    expect(() => pixelMetrics({ ...normal, maps: Float32Array.from([0.1, Number.NaN]) })).toThrow(/map 0 holds a non-finite value \(NaN\) at pixel 1/);
    expect(() => scoreMetrics([Number.POSITIVE_INFINITY], [1])).toThrow(/not finite/);
  });

  it('rejects every non-finite bit pattern and accepts the extreme finite ones', () => {
    // The check reads the key histogram, so probe the patterns at its edges: ±Inf, NaNs with and
    // without the sign bit and with the smallest and largest payloads, and ±FLT_MAX, ±denormals, -0.
    const bad = [0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xffffffff, 0x7fffffff];
    for (const pattern of bad) {
      const maps = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
      new Uint32Array(maps.buffer)[4] = pattern;
      const set = { width: 3, height: 1, count: 2, maps, masks: Uint8Array.from([0, 1, 0, 0, 0, 1]) };
      expect(() => pixelMetrics(set)).toThrow(/map 1 holds a non-finite value \((NaN|Infinity|-Infinity)\) at pixel 1/);
    }
    const extremes = Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38, 1e-45, -1e-45, -0, 0]);
    const [m] = pixelMetrics({ width: 6, height: 1, count: 1, maps: extremes, masks: Uint8Array.from([1, 0, 0, 0, 0, 1]) });
    // FLT_MAX beats all 4 normal pixels; 0 beats -1e-45 and -FLT_MAX and ties with -0: (4 + 2.5) / 8.
    expect(m!.auroc).toBe(0.8125);
  });
});
