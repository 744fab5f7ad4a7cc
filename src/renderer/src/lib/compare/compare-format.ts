/**
 * Pure helpers of the Compare view, tested without a DOM: one colour per compared run, the
 * curves of one kind and scope as chart series, score distributions binned per run, and SVG
 * text of the line charts for export (the bar chart and the grid have shared builders in
 * src/shared/compare).
 */
import type { CompareCurves, PaperMetric } from '../../../../shared/calls/compare';
import type { RunInfo } from '../../../../shared/types';
import { curvePath } from '../runs/run-format';

/** Colour-blind-safe-ish palette (Tableau 10): one colour per run, in selection order. */
export const RUN_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length]!;
}

export const METRIC_LABEL: Record<PaperMetric, string> = { image_auroc: 'Image AUROC', pixel_auroc: 'Pixel AUROC', aupro: 'AUPRO' };

export type CurveKind = CompareCurves['curves'][number]['curve'];

export const CURVE_KINDS: readonly { kind: CurveKind; title: string; xLabel: string; yLabel: string; xMax: number }[] = [
  { kind: 'image_roc', title: 'Image ROC', xLabel: 'FPR', yLabel: 'TPR', xMax: 1 },
  { kind: 'pixel_roc', title: 'Pixel ROC', xLabel: 'FPR', yLabel: 'TPR', xMax: 1 },
  // AUPRO integrates up to FPR 0.3 (DESIGN §8): the chart shows that range.
  { kind: 'pro', title: 'PRO (FPR ≤ 0.3)', xLabel: 'FPR', yLabel: 'PRO', xMax: 0.3 },
];

/** A short label of a run: `#3 patchcore (name)`; with RANDOM INIT when it had random weights. */
export function runLabel(run: Pick<RunInfo, 'id' | 'name' | 'method' | 'randomInit'>): string {
  const name = run.name && run.name !== run.method ? ` ${run.name}` : '';
  return `#${run.id} ${run.method}${name}${run.randomInit ? ' (RANDOM INIT)' : ''}`;
}

export interface ChartSeries {
  label: string;
  color: string;
  x: number[];
  y: number[];
}

/**
 * The curves of one kind and scope ('' overall, else a defect type), one series per run and
 * scenario, coloured by the run's position in `runIds`.
 */
export function curveSeries(data: CompareCurves, runs: readonly RunInfo[], kind: CurveKind, scope: string): ChartSeries[] {
  const order = runs.map((r) => r.id);
  const out: (ChartSeries & { order: number })[] = [];
  for (const c of data.curves) {
    if (c.curve !== kind || c.defectType !== scope) continue;
    const i = order.indexOf(c.runId);
    const run = runs[i];
    if (!run) continue;
    const multi = run.scenarios.length > 1;
    out.push({ label: `${runLabel(run)}${multi ? ` · ${c.scenario.replace(/_/g, ' ')}` : ''}`, color: runColor(i), x: c.x, y: c.y, order: i });
  }
  return out.sort((a, b) => a.order - b.order).map(({ order: _order, ...s }) => s);
}

/** The scopes the curves offer: '' (overall) first, then each defect type once. */
export function curveScopes(data: CompareCurves): string[] {
  const types = new Set<string>();
  for (const c of data.curves) if (c.defectType !== '') types.add(c.defectType);
  return ['', ...[...types].sort()];
}

export interface Binned {
  /** Bin centres, length bins. */
  x: number[];
  /** Share of the scores in each bin (sums to 1; all 0 for no scores). */
  y: number[];
}

/** The score range of a run: min and max over all its scores; [0, 1] when it has none. */
export function scoreRange(lists: readonly (readonly number[])[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lists) {
    for (const v of l) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return [0, 1];
  if (hi <= lo) return [lo - 0.5, lo + 0.5];
  return [lo, hi];
}

/**
 * Histogram of scores as shares per bin, on [lo, hi] with `bins` equal bins (the last one closed).
 * Shares, not counts: 3 anomalous images read as well as 300 normal ones.
 */
export function binScores(scores: readonly number[], lo: number, hi: number, bins: number): Binned {
  const counts = new Array<number>(bins).fill(0);
  const w = (hi - lo) / bins;
  let n = 0;
  for (const v of scores) {
    if (!Number.isFinite(v) || v < lo || v > hi) continue;
    const b = Math.min(bins - 1, Math.floor((v - lo) / w));
    counts[b]! += 1;
    n++;
  }
  return {
    x: counts.map((_, i) => lo + (i + 0.5) * w),
    y: counts.map((c) => (n > 0 ? c / n : 0)),
  };
}

/** Bins for n scores: about √n (a histogram of 16 scores in 30 bins is all spikes), 6 to 40. */
export function binCount(n: number): number {
  return Math.max(6, Math.min(40, Math.ceil(Math.sqrt(n))));
}

/** Score distributions of one run: normal images, then all anomalous ones, as binned shares. */
export function scoreSeries(entry: CompareCurves['scores'][number], bins = binCount(entry.normal.length + entry.defects.reduce((a, d) => a + d.scores.length, 0))): { range: [number, number]; normal: Binned; anomalous: Binned; defects: { defectType: string; binned: Binned }[] } {
  const anomalous = entry.defects.flatMap((d) => d.scores);
  const range = scoreRange([entry.normal, anomalous]);
  return {
    range,
    normal: binScores(entry.normal, range[0], range[1], bins),
    anomalous: binScores(anomalous, range[0], range[1], bins),
    defects: entry.defects.map((d) => ({ defectType: d.defectType, binned: binScores(d.scores, range[0], range[1], bins) })),
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/**
 * A line chart as standalone SVG text (for export): frame, ticks, one path per series, a legend.
 * Points beyond `xMax` are cut there (curvePath interpolates the last one).
 */
export function lineChartSvg(opts: { title: string; series: readonly ChartSeries[]; xMax: number; xLabel: string; yLabel: string; diagonal: boolean }): string {
  const W = 320;
  const H = 240;
  const L = 40;
  const T = 28;
  const legendH = Math.ceil(opts.series.length / 2) * 16 + 8;
  const totalW = L + W + 16;
  const totalH = T + H + 30 + legendH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="sans-serif">`);
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="6" y="16" font-size="12" font-weight="600" fill="#18202b">${escapeXml(opts.title)}</text>`);
  parts.push(`<g transform="translate(${L},${T})">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#f8f9fb" stroke="#c5ccd6"/>`);
  for (let i = 0; i <= 4; i++) {
    const x = (i / 4) * W;
    const y = H - (i / 4) * H;
    parts.push(`<text x="${x}" y="${H + 12}" font-size="9" fill="#5a6676" text-anchor="middle">${+((i / 4) * opts.xMax).toFixed(3)}</text>`);
    parts.push(`<text x="-4" y="${y + 3}" font-size="9" fill="#5a6676" text-anchor="end">${i / 4}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H + 24}" font-size="10" fill="#5a6676" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(-28,${H / 2}) rotate(-90)" font-size="10" fill="#5a6676" text-anchor="middle">${escapeXml(opts.yLabel)}</text>`);
  if (opts.diagonal) parts.push(`<line x1="0" y1="${H}" x2="${W}" y2="0" stroke="#b8c0cc" stroke-dasharray="4 4"/>`);
  for (const s of opts.series) parts.push(`<path d="${curvePath(s, W, H, opts.xMax)}" fill="none" stroke="${s.color}" stroke-width="1.6"/>`);
  parts.push(`</g>`);
  opts.series.forEach((s, i) => {
    const x = 6 + (i % 2) * (totalW / 2);
    const y = T + H + 30 + Math.floor(i / 2) * 16 + 8;
    parts.push(`<rect x="${x}" y="${y - 4}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${x + 16}" y="${y}" font-size="11" fill="#18202b">${escapeXml(s.label)}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join('\n');
}
