/**
 * View-model of the Runs area's training curves, kept free of Svelte and the DOM so it is tested
 * as plain TypeScript: a running job's `runs:progress` events that carry a `loss` accumulated
 * into a bounded series (the live chart), the stored curves of `runs:series` grouped into charts
 * (the run's page), the launch form's per-scenario run names, and the axis ranges LineChart needs
 * (it does not autoscale).
 *
 * The live series is bounded because the chart is rebuilt on every event and a long training run
 * reports for hours: past `cap` points it halves itself and from then on keeps only points at
 * least one average spacing apart, so the kept points stay evenly spread over the whole run (a
 * plain ring buffer would forget the start, repeated halving alone would thin the start
 * exponentially). The newest point is always drawn, as the `tail`.
 */

export interface SeriesPoint {
  step: number;
  value: number;
}

export interface LiveSeries {
  /** Kept points, ascending step; steps.length === values.length ≤ cap. */
  readonly steps: readonly number[];
  readonly values: readonly number[];
  /** The least step distance between kept points (0 until the first halving). */
  readonly stride: number;
  /** The newest point when it was not kept (closer than `stride` to the last kept one). */
  readonly tail: SeriesPoint | null;
}

/** Points a live series keeps at most: plenty for a 700 px chart, cheap to rebuild at 10 Hz. */
export const LIVE_CAP = 1000;

/** Points a stored series is thinned to before charting. */
export const STORED_CAP = 5000;

export const EMPTY_LIVE: LiveSeries = { steps: [], values: [], stride: 0, tail: null };

/**
 * The series after one more point. A step at or before the newest one means the job went back
 * (resumed from a checkpoint): the points from that step on are dropped, as the job redoes them.
 * Non-finite values (a diverged loss) are skipped: they cannot be drawn.
 */
export function appendLive(series: LiveSeries, step: number, value: number, cap = LIVE_CAP): LiveSeries {
  if (!Number.isFinite(step) || !Number.isFinite(value)) return series;
  let steps = series.steps;
  let values = series.values;
  let tail = series.tail;
  const newest = tail?.step ?? steps[steps.length - 1];
  if (newest !== undefined && step <= newest) {
    if (tail && step <= tail.step) tail = null;
    let keep = steps.length;
    while (keep > 0 && steps[keep - 1]! >= step) keep--;
    steps = steps.slice(0, keep);
    values = values.slice(0, keep);
  }
  const lastKept = steps[steps.length - 1];
  if (lastKept !== undefined && step - lastKept < series.stride) return { steps, values, stride: series.stride, tail: { step, value } };
  const nextSteps = [...steps, step];
  const nextValues = [...values, value];
  if (nextSteps.length <= Math.max(2, cap)) return { steps: nextSteps, values: nextValues, stride: series.stride, tail: null };
  // Halve: every other point, always the first and the newest.
  const halfSteps: number[] = [];
  const halfValues: number[] = [];
  for (let i = 0; i < nextSteps.length; i += 2) {
    halfSteps.push(nextSteps[i]!);
    halfValues.push(nextValues[i]!);
  }
  if (halfSteps[halfSteps.length - 1] !== step) {
    halfSteps.push(step);
    halfValues.push(value);
  }
  const span = halfSteps[halfSteps.length - 1]! - halfSteps[0]!;
  return { steps: halfSteps, values: halfValues, stride: span / Math.max(1, halfSteps.length - 1), tail: null };
}

/** The live series' points for a chart, the tail included; both arrays share one length. */
export function livePoints(series: LiveSeries): { x: number[]; y: number[] } {
  const x = [...series.steps];
  const y = [...series.values];
  if (series.tail) {
    x.push(series.tail.step);
    y.push(series.tail.value);
  }
  return { x, y };
}

/**
 * At most `cap` points of a stored curve, evenly spaced by index, the first and last always kept.
 * @param points ascending step
 */
export function thinPoints(points: readonly SeriesPoint[], cap = STORED_CAP): SeriesPoint[] {
  if (points.length <= cap || cap < 2) return [...points];
  const out: SeriesPoint[] = [];
  const every = (points.length - 1) / (cap - 1);
  for (let i = 0; i < cap; i++) out.push(points[Math.round(i * every)]!);
  return out;
}

export interface SeriesChart {
  title: string;
  /** Series names as stored, each with its (thinned) points. */
  lines: { name: string; points: SeriesPoint[] }[];
}

/**
 * The charts of a run's stored curves: every series whose name mentions "loss" in one chart (they
 * share a scale: a total and its parts), each other series (a learning rate, …) in its own.
 * Empty series are left out, so a run without curves (PatchCore) gets no chart.
 */
export function seriesCharts(series: Record<string, readonly SeriesPoint[]>, cap = STORED_CAP): SeriesChart[] {
  const names = Object.keys(series)
    .filter((n) => (series[n]?.length ?? 0) > 0)
    .sort((a, b) => (a === 'loss' ? -1 : b === 'loss' ? 1 : a.localeCompare(b)));
  const losses = names.filter((n) => /loss/i.test(n));
  const charts: SeriesChart[] = [];
  if (losses.length > 0) charts.push({ title: 'Loss', lines: losses.map((n) => ({ name: n, points: thinPoints(series[n]!, cap) })) });
  for (const n of names.filter((n) => !/loss/i.test(n))) charts.push({ title: n, lines: [{ name: n, points: thinPoints(series[n]!, cap) }] });
  return charts;
}

/**
 * An axis range around `values`, padded by 5 % each side so the line does not run on the frame;
 * a flat series gets a range around its value. Non-finite values are ignored; [0, 1] when none.
 */
export function paddedRange(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (lo === hi) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return [lo - d, hi + d];
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/**
 * The x range of a step axis: from the first step to the job's total when known (the live chart
 * then fills as the job advances), else to the last step.
 */
export function stepRange(steps: readonly number[], total = 0): [number, number] {
  const first = steps.length > 0 ? Math.min(0, steps[0]!) : 0;
  const last = steps.length > 0 ? steps[steps.length - 1]! : 0;
  const end = Math.max(last, total > 0 ? total : 0);
  return [first, end > first ? end : first + 1];
}

/**
 * The names of the runs one launch queues, one per scenario: the user's name followed by the
 * scenario when several are launched (so they are told apart), the name alone for one; no name
 * (undefined) leaves the automatic one, which already names the scenario.
 */
export function launchNames(name: string, scenarios: readonly string[]): (string | undefined)[] {
  const base = name.trim();
  if (!base) return scenarios.map(() => undefined);
  if (scenarios.length <= 1) return scenarios.map(() => base);
  // runs:start takes names up to 200 characters: the scenario is what tells them apart, so the
  // user's part is what gets cut.
  return scenarios.map((s) => {
    const suffix = ` · ${s}`;
    return `${base.slice(0, Math.max(1, NAME_MAX - suffix.length)).trimEnd()}${suffix}`;
  });
}

const NAME_MAX = 200;
