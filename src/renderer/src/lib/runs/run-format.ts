/**
 * Pure helpers of the Runs area: the metrics table rows (Table A.1 labels), progress text, and
 * the SVG geometry of the histogram and curve charts. Kept out of the components so they are
 * tested without a DOM.
 */
import type { GalleryItem, ReportCurve, RunProgress, ScoreHistogram } from '../../../../shared/calls/runs';
import { DEFECT_TYPES, isScenario } from '../../../../shared/taxonomy';
import type { RunMetricInfo } from '../../../../shared/types';

export const METRIC_COLUMNS = [
  { id: 'image_auroc', label: 'Image AUROC' },
  { id: 'image_f1_max', label: 'Image F1-max' },
  { id: 'pixel_auroc', label: 'Pixel AUROC' },
  { id: 'pixel_f1_max', label: 'Pixel F1-max' },
  { id: 'aupro', label: 'AUPRO' },
] as const;

/** Table A.1's label of a defect type of `scenario`; the folder name with spaces otherwise. */
export function defectLabel(scenario: string | null, defectType: string): string {
  if (defectType === '') return 'Overall';
  if (scenario && isScenario(scenario)) {
    const known = DEFECT_TYPES.find((d) => d.scenario === scenario && d.name === defectType);
    if (known) return known.label;
  }
  return defectType.replace(/_/g, ' ');
}

export interface MetricRow {
  defectType: string;
  label: string;
  /** By metric id; null when undefined for the scope (e.g. no positive). */
  values: Record<string, number | null>;
}

/** One row for the overall scope first, then one per defect type (alphabetical, as stored). */
export function metricRows(metrics: readonly RunMetricInfo[], scenario: string | null): MetricRow[] {
  const rows = new Map<string, MetricRow>();
  for (const m of metrics) {
    if (scenario && m.scenario !== scenario) continue;
    const row = rows.get(m.defectType) ?? { defectType: m.defectType, label: defectLabel(scenario, m.defectType), values: {} };
    row.values[m.metric] = m.value;
    rows.set(m.defectType, row);
  }
  return [...rows.values()].sort((a, b) => (a.defectType === '' ? -1 : b.defectType === '' ? 1 : a.defectType.localeCompare(b.defectType)));
}

export function formatMetric(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(3);
}

export function formatSeconds(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s)) return '—';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return m < 60 ? `${m} min ${r} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Fraction done in [0, 1] of a progress report; 0 when the total is unknown. */
export function progressFraction(p: RunProgress | undefined): number {
  if (!p || !(p.total > 0)) return 0;
  return Math.min(1, Math.max(0, p.step / p.total));
}

/** `embedding 12/64 · 8.5 img/s · ETA 6 s` */
export function progressText(p: RunProgress | undefined): string {
  if (!p) return 'waiting for the job to report…';
  const parts = [`${p.phase} ${p.step}/${p.total}`];
  if (p.imagesPerSec !== undefined && Number.isFinite(p.imagesPerSec)) parts.push(`${p.imagesPerSec.toFixed(1)} img/s`);
  if (p.etaSeconds !== undefined && Number.isFinite(p.etaSeconds)) parts.push(`ETA ${formatSeconds(p.etaSeconds)}`);
  return parts.join(' · ');
}

export interface HistogramBar {
  x: number;
  width: number;
  y: number;
  height: number;
}

/**
 * Bars of two score distributions on a shared axis, each normalised to its own count (a share per
 * bin) so a class of 3 images is as readable as one of 300.
 * @param counts per bin, length = edges.length − 1
 */
export function histogramBars(counts: readonly number[], width: number, height: number, maxShare: number): HistogramBar[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const w = width / Math.max(1, counts.length);
  return counts.map((c, i) => {
    const share = total > 0 ? c / total : 0;
    const h = maxShare > 0 ? (share / maxShare) * height : 0;
    return { x: i * w, width: w, y: height - h, height: h };
  });
}

/** The highest per-bin share among the given count vectors (the common y scale). */
export function maxShare(series: readonly (readonly number[])[]): number {
  let best = 0;
  for (const counts of series) {
    const total = counts.reduce((a, b) => a + b, 0);
    for (const c of counts) if (total > 0) best = Math.max(best, c / total);
  }
  return best;
}

export function histogramDefects(h: ScoreHistogram | null): string[] {
  return h ? h.defects.map((d) => d.defectType) : [];
}

/**
 * SVG path of a curve in a width × height box; x in [0, xMax], y in [0, 1], y up. A curve that
 * runs past xMax (PRO beyond the AUPRO limit) is cut there, its last point interpolated.
 */
export function curvePath(curve: Pick<ReportCurve, 'x' | 'y'>, width: number, height: number, xMax = 1): string {
  const n = Math.min(curve.x.length, curve.y.length);
  const pts: string[] = [];
  const put = (x: number, y: number) => {
    const px = (x / xMax) * width;
    const py = height - Math.min(1, Math.max(0, y)) * height;
    pts.push(`${pts.length === 0 ? 'M' : 'L'}${px.toFixed(1)},${py.toFixed(1)}`);
  };
  for (let i = 0; i < n; i++) {
    const x = curve.x[i]!;
    const y = curve.y[i]!;
    if (x <= xMax) {
      put(x, y);
      continue;
    }
    if (i > 0) {
      const x0 = curve.x[i - 1]!;
      const y0 = curve.y[i - 1]!;
      put(xMax, x > x0 ? y0 + ((xMax - x0) / (x - x0)) * (y - y0) : y);
    }
    break;
  }
  return pts.join(' ');
}

export type GalleryFilter = 'all' | 'fp' | 'fn' | 'errors';

export function filterGallery(items: readonly GalleryItem[], filter: GalleryFilter): GalleryItem[] {
  if (filter === 'all') return [...items];
  if (filter === 'errors') return items.filter((i) => i.outcome === 'fp' || i.outcome === 'fn');
  return items.filter((i) => i.outcome === filter);
}
