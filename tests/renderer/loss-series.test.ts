import { describe, expect, it } from 'vitest';
import {
  appendLive,
  EMPTY_LIVE,
  launchNames,
  livePoints,
  paddedRange,
  seriesCharts,
  stepRange,
  thinPoints,
  type LiveSeries,
} from '../../src/renderer/src/lib/runs/loss-series';

function feed(points: [number, number][], cap?: number): LiveSeries {
  let s = EMPTY_LIVE;
  for (const [step, value] of points) s = appendLive(s, step, value, cap);
  return s;
}

describe('live loss series', () => {
  it('keeps every point of a short run, in order', () => {
    const s = feed([
      [1, 2.5],
      [2, 2.0],
      [3, 1.75],
    ]);
    expect(livePoints(s)).toEqual({ x: [1, 2, 3], y: [2.5, 2.0, 1.75] });
  });

  it('skips non-finite losses and leaves the series as it was', () => {
    const before = feed([[1, 1]]);
    expect(appendLive(before, 2, Number.NaN)).toBe(before);
    expect(appendLive(before, 2, Number.POSITIVE_INFINITY)).toBe(before);
  });

  it('stays within the cap over a long run, spread evenly from the first step to the newest', () => {
    const cap = 100;
    let s = EMPTY_LIVE;
    let longest = 0;
    for (let step = 1; step <= 10_000; step++) {
      s = appendLive(s, step, 1 / step, cap);
      longest = Math.max(longest, livePoints(s).x.length);
    }
    const { x, y } = livePoints(s);
    expect(longest).toBeLessThanOrEqual(cap + 1);
    expect(x.length).toBeGreaterThan(cap / 2 - 1);
    expect(x[0]).toBe(1);
    expect(x[x.length - 1]).toBe(10_000);
    expect(y[y.length - 1]).toBeCloseTo(1 / 10_000);
    for (let i = 1; i < x.length; i++) expect(x[i]!).toBeGreaterThan(x[i - 1]!);
    // Even spread: the first half of the run holds about half of the points, not almost none
    // (repeated halving) nor all of them.
    const firstHalf = x.filter((v) => v <= 5_000).length / x.length;
    expect(firstHalf).toBeGreaterThan(0.35);
    expect(firstHalf).toBeLessThan(0.65);
    for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(1 / x[i]!);
  });

  it('drops the redone steps when a job resumes from an earlier checkpoint', () => {
    const s = feed([
      [1, 5],
      [2, 4],
      [3, 3],
      [4, 2],
      [2, 4.5],
      [3, 3.5],
    ]);
    expect(livePoints(s)).toEqual({ x: [1, 2, 3], y: [5, 4.5, 3.5] });
  });

  it('drops a tail that a resume rewinds past, after thinning', () => {
    let s = EMPTY_LIVE;
    for (let step = 1; step <= 50; step++) s = appendLive(s, step, step, 10);
    expect(s.stride).toBeGreaterThan(1);
    const resumed = appendLive(s, 20, -1, 10);
    const { x, y } = livePoints(resumed);
    expect(x[x.length - 1]).toBe(20);
    expect(y[y.length - 1]).toBe(-1);
    expect(x.filter((v) => v >= 20)).toEqual([20]);
  });
});

describe('stored series charts', () => {
  it('groups the loss curves in one chart, loss first, and gives other series their own', () => {
    const charts = seriesCharts({
      loss_st: [{ step: 1, value: 2 }],
      lr: [{ step: 1, value: 1e-4 }],
      loss: [{ step: 1, value: 3 }],
      empty: [],
    });
    expect(charts.map((c) => c.title)).toEqual(['Loss', 'lr']);
    expect(charts[0]!.lines.map((l) => l.name)).toEqual(['loss', 'loss_st']);
  });

  it('gives no chart for a run without curves (PatchCore)', () => {
    expect(seriesCharts({})).toEqual([]);
    expect(seriesCharts({ loss: [] })).toEqual([]);
  });

  it('thins a long stored curve to the cap, keeping its ends', () => {
    const points = Array.from({ length: 20_001 }, (_, i) => ({ step: i, value: i * 2 }));
    const thin = thinPoints(points, 1000);
    expect(thin).toHaveLength(1000);
    expect(thin[0]).toEqual({ step: 0, value: 0 });
    expect(thin[999]).toEqual({ step: 20_000, value: 40_000 });
    expect(thinPoints(points.slice(0, 10), 1000)).toHaveLength(10);
  });
});

describe('chart ranges', () => {
  it('pads a loss range, widens a flat one, and ignores non-finite values', () => {
    expect(paddedRange([1, 3])).toEqual([0.9, 3.1]);
    expect(paddedRange([2, 2])).toEqual([1.8, 2.2]);
    expect(paddedRange([0])).toEqual([-1, 1]);
    expect(paddedRange([Number.NaN])).toEqual([0, 1]);
    expect(paddedRange([])).toEqual([0, 1]);
  });

  it('spans the steps up to the total when known', () => {
    expect(stepRange([1, 5, 9], 100)).toEqual([0, 100]);
    expect(stepRange([1, 5, 9])).toEqual([0, 9]);
    expect(stepRange([])).toEqual([0, 1]);
  });
});

describe('launch names', () => {
  it('names one run per scenario after its scenario when several are launched', () => {
    expect(launchNames(' sweep ', ['nut_and_bolt', 'wind_turbine'])).toEqual(['sweep · nut_and_bolt', 'sweep · wind_turbine']);
    expect(launchNames('one', ['nut_and_bolt'])).toEqual(['one']);
    expect(launchNames('  ', ['a', 'b'])).toEqual([undefined, undefined]);
  });

  it('cuts a long name so the scenario still fits in 200 characters', () => {
    const [n] = launchNames('x'.repeat(200), ['photovoltaic_module', 'nut_and_bolt']);
    expect(n!.length).toBeLessThanOrEqual(200);
    expect(n!.endsWith(' · photovoltaic_module')).toBe(true);
  });
});
