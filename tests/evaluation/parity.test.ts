/**
 * Exactness against the field's references: sklearn's roc_auc_score (1e-9) and precision_recall_curve
 * F1-max, and the MVTec AD AUPRO definition on scipy.ndimage.label (1e-6), on random maps, ties,
 * constant maps, one-pixel and touching regions, images without defects, and degenerate sets.
 */
import { describe, expect, it } from 'vitest';
import { pixelMetrics, type PixelMetrics, type PixelMetricsOptions, type PixelSubset } from '../../src/main/core/evaluation/pixel-metrics';
import { scoreMetrics } from '../../src/main/core/evaluation/score-metrics';
import { blobMask, defined, isUndefined, rng, runReference, type ReferenceInput, type ReferenceSubset } from './reference';

interface Case extends ReferenceInput {
  subsets: boolean[][];
}

function imageMax(c: ReferenceInput): Float64Array {
  const plane = c.height * c.width;
  const out = new Float64Array(c.n);
  for (let i = 0; i < c.n; i++) {
    let m = -Infinity;
    for (let j = 0; j < plane; j++) m = Math.max(m, c.maps[i * plane + j]!);
    out[i] = m;
  }
  return out;
}

function imageLabels(c: ReferenceInput): Uint8Array {
  const plane = c.height * c.width;
  const out = new Uint8Array(c.n);
  for (let i = 0; i < c.n; i++) out[i] = c.masks.subarray(i * plane, (i + 1) * plane).some((v) => v > 0) ? 1 : 0;
  return out;
}

/** Ranking paths of pixelMetrics: one gather; slabs and tallies from the maps; tallied buckets; dense buckets; dense in small slabs. */
const PATHS: PixelMetricsOptions[] = [
  {},
  { memoryBytes: 4096 },
  { sortPixels: 8 },
  { denseFrom: 1 },
  { denseFrom: 1, memoryBytes: 6000 },
];

/** Compares every metric of every subset with the reference, through every ranking path. */
function expectParity(c: Case): void {
  const ref = runReference(c);
  const subs: PixelSubset[] = c.subsets.map((images, s) => ({ name: `s${s}`, images }));
  for (const path of PATHS) {
    const ours = pixelMetrics(
      { width: c.width, height: c.height, count: c.n, maps: c.maps, masks: c.masks },
      subs,
      { proLimit: c.proLimit ?? 0.3, ...path },
    );
    compare(c, ref, ours);
  }
}

function compare(c: Case, ref: ReferenceSubset[], ours: PixelMetrics[]): void {
  const scores = c.imageScores ?? imageMax(c);
  const labels = imageLabels(c);
  c.subsets.forEach((flags, s) => {
    const r = ref[s]!;
    const p = ours[s]!;
    const img = scoreMetrics(scores, labels, flags);
    if (isUndefined(r.image_auroc)) expect(img.auroc).toBeNull();
    else expect(img.auroc).toBeCloseTo(r.image_auroc as number, 9);
    if (isUndefined(r.image_f1)) expect(img.f1Max).toBeNull();
    else expect(img.f1Max).toBeCloseTo((r.image_f1 as [number, number])[0], 9);
    if (isUndefined(r.pixel_auroc)) expect(p.auroc).toBeNull();
    else expect(Math.abs(p.auroc! - defined(r.pixel_auroc, 'pixel AUROC'))).toBeLessThan(1e-9);
    if (isUndefined(r.pixel_f1)) expect(p.f1Max).toBeNull();
    else {
      const [f1, th] = defined(r.pixel_f1, 'pixel F1');
      expect(Math.abs(p.f1Max! - f1)).toBeLessThan(1e-9);
      expect(p.f1Threshold).toBe(th);
    }
    if (isUndefined(r.pro)) expect(p.aupro).toBeNull();
    else {
      const pro = defined(r.pro, 'AUPRO');
      expect(p.regions).toBe(pro.regions);
      expect(Math.abs(p.aupro! - pro.aupro)).toBeLessThan(1e-6);
    }
  });
}

/** n images of h×w: the first `normal` have empty masks; groups split the anomalous ones. */
function randomCase(seed: number, n: number, h: number, w: number, normal: number, quantise?: number): Case {
  const rand = rng(seed);
  const plane = h * w;
  const maps = new Float32Array(n * plane);
  const masks = new Uint8Array(n * plane);
  for (let i = 0; i < n; i++) {
    if (i >= normal) masks.set(blobMask(rand, h, w, 1 + Math.floor(rand() * 3)), i * plane);
    for (let j = 0; j < plane; j++) {
      // Scores correlate with the mask so the metrics are away from 0.5.
      let v = rand() + (masks[i * plane + j]! > 0 ? 0.6 * rand() : 0) - 0.3;
      if (quantise) v = Math.round(v * quantise) / quantise;
      maps[i * plane + j] = v;
    }
  }
  const all = Array.from({ length: n }, () => true);
  const groupA = Array.from({ length: n }, (_, i) => i < normal || (i >= normal && i % 2 === 0));
  const groupB = Array.from({ length: n }, (_, i) => i < normal || (i >= normal && i % 2 === 1));
  return { n, height: h, width: w, maps, masks, subsets: [all, groupA, groupB] };
}

describe('parity with sklearn and the MVTec AD AUPRO definition', () => {
  it('random maps with blob regions, per subset', () => {
    expectParity(randomCase(1, 14, 24, 30, 6));
  });

  it('values squeezed into few high buckets (bigger than a slab: tallied from the maps)', () => {
    const c = randomCase(2, 10, 20, 20, 4);
    expectParity({ ...c, maps: c.maps.map((v) => 1 + v * 1e-3) });
  });

  it('heavy ties (quantised maps), negative values and -0', () => {
    const c = randomCase(3, 12, 16, 18, 5, 8);
    for (let i = 0; i < c.maps.length; i += 7) if (c.maps[i] === 0) c.maps[i] = -0;
    expectParity(c);
  });

  it('constant maps', () => {
    const c = randomCase(4, 6, 12, 12, 3);
    c.maps.fill(0.25);
    expectParity(c);
  });

  it('one-pixel regions and regions touching diagonally or by an edge', () => {
    const h = 10;
    const w = 10;
    const n = 4;
    const masks = new Uint8Array(n * h * w);
    const set = (i: number, y: number, x: number) => (masks[i * h * w + y * w + x] = 1);
    set(1, 0, 0); // one pixel in a corner
    set(1, 5, 5); // isolated pixel
    set(2, 2, 2); // diagonal neighbours: one 8-connected region
    set(2, 3, 3);
    set(2, 4, 4);
    set(3, 6, 1); // an L touching another block by an edge
    set(3, 7, 1);
    set(3, 7, 2);
    set(3, 8, 3);
    set(3, 0, 9);
    const rand = rng(5);
    const maps = Float32Array.from({ length: n * h * w }, (_, k) => rand() + (masks[k] ? 0.5 : 0));
    const all = [true, true, true, true];
    expectParity({ n, height: h, width: w, maps, masks, subsets: [all, [true, true, false, false], [true, false, true, true]] });
    const ours = pixelMetrics({ width: w, height: h, count: n, maps, masks });
    expect(ours[0]!.regions).toBe(5);
  });

  it('image scores from elsewhere (float64) and another PRO limit', () => {
    const c = randomCase(6, 12, 16, 16, 5);
    const rand = rng(60);
    c.imageScores = Float64Array.from({ length: c.n }, (_, i) => (i < 5 ? rand() : rand() + 0.3) + 1e-12 * i);
    c.proLimit = 0.05;
    expectParity(c);
  });

  it('all-normal and all-anomalous sets: undefined metrics are null, as sklearn raises', () => {
    const normal = randomCase(7, 4, 8, 8, 4);
    expectParity(normal);
    const ours = pixelMetrics({ width: 8, height: 8, count: 4, maps: normal.maps, masks: normal.masks });
    expect(ours[0]!.auroc).toBeNull();
    expect(ours[0]!.aupro).toBeNull();
    const anomalous = randomCase(8, 4, 8, 8, 0);
    expectParity(anomalous);
  });
});
