import { describe, expect, it } from 'vitest';
import type { CompareCurves } from '../../src/shared/calls/compare';
import type { RunInfo } from '../../src/shared/types';
import {
  cellCodes,
  codeToLutIndex,
  fitBox,
  gridLayout,
  heatLut,
  OUTLINE,
  paintCell,
  sliderPosition,
  sliderThreshold,
  thresholdCode,
} from '../../src/renderer/src/lib/compare/grid-render';
import { heatColor } from '../../src/shared/compare/heat';
import { binCount, binScores, curveScopes, scoreSeries, curveSeries, lineChartSvg, scoreRange, runLabel } from '../../src/renderer/src/lib/compare/compare-format';

function b64(bytes: number[]): string {
  return Buffer.from(Uint8Array.from(bytes)).toString('base64');
}

describe('grid pixels', () => {
  it('tabulates the shared heat ramp: entry i is heatColor(i / 255)', () => {
    const lut = heatLut();
    expect(lut.length).toBe(1024);
    for (const i of [0, 1, 64, 128, 200, 255]) expect([...lut.slice(i * 4, i * 4 + 4)]).toEqual([...heatColor(i / 255), 255]);
  });

  it('decodes a cell and refuses one of the wrong size', () => {
    expect([...cellCodes({ width: 2, height: 2, data: b64([0, 1, 254, 255]), lo: 0, hi: 1 })]).toEqual([0, 1, 254, 255]);
    expect(() => cellCodes({ width: 3, height: 2, data: b64([0, 1]), lo: 0, hi: 1 })).toThrow(/3×2/);
  });

  it('maps codes through the display scale: a shared scale wider than the cell compresses its colours', () => {
    const own = codeToLutIndex({ lo: 2, hi: 4 }, { lo: 2, hi: 4 });
    expect(own[0]).toBe(0);
    expect(own[255]).toBe(255);
    const shared = codeToLutIndex({ lo: 2, hi: 4 }, { lo: 0, hi: 8 });
    expect(shared[0]).toBe(64);
    expect(shared[255]).toBe(128);
    // Values outside the scale clamp to its ends.
    const narrow = codeToLutIndex({ lo: 0, hi: 10 }, { lo: 4, hi: 6 });
    expect(narrow[0]).toBe(0);
    expect(narrow[255]).toBe(255);
  });

  it('finds the first code at or above a threshold', () => {
    const cell = { lo: 0, hi: 255 };
    expect(thresholdCode(cell, 100)).toBe(100);
    expect(thresholdCode(cell, 99.5)).toBe(100);
    expect(thresholdCode(cell, -1)).toBe(0);
    expect(thresholdCode(cell, 300)).toBe(256);
  });

  it('paints the colormap and a closed outline around the region at or above the threshold', () => {
    // 5×5, a 3×3 block of 200 in the middle on 10.
    const w = 5;
    const codes = new Uint8Array(25).fill(10);
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) codes[y * w + x] = 200;
    const lut = heatLut();
    const remap = codeToLutIndex({ lo: 0, hi: 1 }, { lo: 0, hi: 1 });
    const target = { data: new Uint8ClampedArray(7 * 6 * 4), width: 7, x: 1, y: 1 };
    paintCell(codes, 5, 5, remap, lut, target, 150);
    const px = (x: number, y: number) => [...target.data.slice((y * 7 + x) * 4, (y * 7 + x) * 4 + 4)];
    // Offset by (1, 1) in the target.
    expect(px(0, 0)).toEqual([0, 0, 0, 0]);
    expect(px(1, 1)).toEqual([...lut.slice(10 * 4, 10 * 4 + 4)]);
    expect(px(2, 2)).toEqual([...OUTLINE, 255]);
    expect(px(3, 2)).toEqual([...OUTLINE, 255]);
    // The block's centre is inside the region: colour, not outline.
    expect(px(3, 3)).toEqual([...lut.slice(200 * 4, 200 * 4 + 4)]);
    // Without a threshold there is no outline.
    const plain = { data: new Uint8ClampedArray(5 * 5 * 4), width: 5, x: 0, y: 0 };
    paintCell(codes, 5, 5, remap, lut, plain);
    expect([...plain.data.slice((1 * 5 + 1) * 4, (1 * 5 + 1) * 4 + 4)]).toEqual([...lut.slice(200 * 4, 200 * 4 + 4)]);
  });

  it('closes regions that touch the cell edge', () => {
    const codes = new Uint8Array(9).fill(255);
    const data = new Uint8ClampedArray(36);
    paintCell(codes, 3, 3, codeToLutIndex({ lo: 0, hi: 1 }, { lo: 0, hi: 1 }), heatLut(), { data, width: 3, x: 0, y: 0 }, 100);
    const white = (i: number) => data[i * 4] === OUTLINE[0] && data[i * 4 + 1] === OUTLINE[1] && data[i * 4 + 2] === OUTLINE[2];
    expect([0, 1, 2, 3, 5, 6, 7, 8].every(white)).toBe(true);
    expect(white(4)).toBe(false);
  });

  it('fits pictures in the box and lays out the figure', () => {
    expect(fitBox(256, 128, 128)).toEqual({ dx: 0, dy: 32, dw: 128, dh: 64 });
    expect(fitBox(96, 96, 128)).toEqual({ dx: 0, dy: 0, dw: 128, dh: 128 });
    const l = gridLayout(8, 28, 128);
    expect(l.cols).toBe(10);
    expect(l.width).toBe(96 + 10 * 132 + 4);
    expect(l.height).toBe(48 + 28 * 132 + 44);
  });

  it('maps slider positions to each run’s scale and back', () => {
    expect(sliderThreshold({ lo: 2, hi: 6 }, 0.25)).toBe(3);
    expect(sliderPosition({ lo: 2, hi: 6 }, 3)).toBe(0.25);
    expect(sliderPosition({ lo: 2, hi: 6 }, 10)).toBe(1);
    expect(sliderPosition({ lo: 2, hi: 2 }, 2)).toBe(0);
  });
});

const run = (id: number, over: Partial<RunInfo> = {}): RunInfo => ({
  id,
  name: `r${id}`,
  kind: 'internal',
  method: 'patchcore',
  scenarios: ['nut_and_bolt'],
  status: 'done',
  error: null,
  backend: 'wasm',
  weights: null,
  randomInit: false,
  createdAt: '',
  finishedAt: null,
  tags: [],
  notes: '',
  ...over,
});

describe('compare charts', () => {
  const curves: CompareCurves = {
    curves: [
      { runId: 5, scenario: 'nut_and_bolt', defectType: '', curve: 'image_roc', x: [0, 0, 1], y: [0, 1, 1] },
      { runId: 3, scenario: 'nut_and_bolt', defectType: '', curve: 'image_roc', x: [0, 1], y: [0, 1] },
      { runId: 3, scenario: 'nut_and_bolt', defectType: 'looseness', curve: 'image_roc', x: [0, 1], y: [0, 1] },
      { runId: 3, scenario: 'nut_and_bolt', defectType: '', curve: 'pro', x: [0, 0.3], y: [0, 0.5] },
    ],
    scores: [],
  };

  it('makes one series per run in the compared order, coloured by position', () => {
    const runs = [run(3, { randomInit: true }), run(5)];
    const s = curveSeries(curves, runs, 'image_roc', '');
    expect(s.map((x) => x.label)).toEqual(['#3 patchcore r3 (RANDOM INIT)', '#5 patchcore r5']);
    expect(s[0]!.color).not.toBe(s[1]!.color);
    expect(curveSeries(curves, runs, 'image_roc', 'looseness')).toHaveLength(1);
    expect(curveScopes(curves)).toEqual(['', 'looseness']);
    expect(runLabel(run(1, { name: 'patchcore' }))).toBe('#1 patchcore');
  });

  it('bins scores as shares and finds their range', () => {
    const b = binScores([0, 0.1, 0.5, 1, 1, 7], 0, 1, 4);
    expect(b.x).toEqual([0.125, 0.375, 0.625, 0.875]);
    expect(b.y).toEqual([0.4, 0, 0.2, 0.4]);
    expect(binScores([], 0, 1, 2).y).toEqual([0, 0]);
    expect(scoreRange([[3, 1], [2, Number.NaN]])).toEqual([1, 3]);
    expect(scoreRange([[]])).toEqual([0, 1]);
    expect(scoreRange([[2, 2]])).toEqual([1.5, 2.5]);
    expect([binCount(16), binCount(400), binCount(100_000)]).toEqual([6, 20, 40]);
    const s = scoreSeries({ runId: 1, scenario: 'x', normal: [0, 1, 2], defects: [{ defectType: 'a', scores: [8, 10] }] });
    expect(s.range).toEqual([0, 10]);
    expect(s.normal.x).toHaveLength(6);
    expect(s.anomalous.y.reduce((a, b) => a + b, 0)).toBeCloseTo(1);
    expect(s.defects[0]!.binned.y.at(-1)).toBeCloseTo(0.5);
  });

  it('writes a standalone SVG of a chart with every series and an escaped legend', () => {
    const svg = lineChartSvg({ title: 'ROC <a&b>', series: curveSeries(curves, [run(3), run(5)], 'image_roc', ''), xMax: 1, xLabel: 'FPR', yLabel: 'TPR', diagonal: true });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('ROC &lt;a&amp;b&gt;');
    expect(svg).toContain('stroke-dasharray');
  });
});

describe('compare downloads', () => {
  it('reads the declared size of SVG text in either quote style and makes safe file names', async () => {
    const { safeName, svgSize } = await import('../../src/renderer/src/lib/compare/download');
    expect(svgSize(`<svg xmlns='http://www.w3.org/2000/svg' width='360' height='300'>`)).toEqual({ width: 360, height: 300 });
    expect(svgSize('<svg xmlns="http://www.w3.org/2000/svg" width="12.5" height="8">')).toEqual({ width: 12.5, height: 8 });
    expect(safeName('grid nut/and\\bolt: #3')).toBe('grid-nut-and-bolt-3');
    expect(safeName('///')).toBe('export');
  });
});
