/**
 * A run's report for its page: score histograms (normal against each defect type), image ROC,
 * pixel ROC and PRO curves per scope, and a gallery sorted by score with each image's outcome at
 * the image F1-max threshold; plus heatmap PNGs of single maps, rendered on demand.
 *
 * Curves: a method job computes them from the maps it holds and they are stored in run_curves
 * when the run turns done (methods/harness/method-job-run.ts). Runs made before that have none: for them
 * they are computed here when a page first asks (with the evaluation module, from maps.amap and the
 * dataset's masks) and cached. External runs already carry their curves and predictions.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runScenarioDir } from './scenario-dir';
import type { GalleryItem, GalleryOutcome, ReportCurve, RunReport, RunSample, ScoreHistogram } from '../../../shared/calls/runs';
import { LabError } from '../../../shared/errors';
import type { RunDetail } from '../../../shared/types';
import { MapPackReader, MapStats, pixelMetrics, resizeNearest, runDisplayScale, scoreMetrics, type Curve, type DisplayScale, type PixelSubset } from '../evaluation/index';
import { encodePng } from '../image/png';
import { readBinaryMask } from '../image/mask';
import { findScenarioDir, listTestImages } from '../datasets/layout';
import { getCurves, getPredictions, getRun, putCurves, type NewCurve } from '../store/runs-repo';
import type { Store } from '../store/store';

/** The curves the page draws; others stored in run_curves (PR) are left out of the report. */
export const REPORT_CURVES = ['image_roc', 'pixel_roc', 'pro'] as const;

interface Prediction {
  relPath: string;
  label: string;
  score: number;
}

/** The test folder's label of a relPath (`test/<label>/<name>`). */
export function labelOf(relPath: string): string {
  return relPath.split('/')[1] ?? '';
}

/**
 * Scores binned on one shared axis so the classes compare bar for bar.
 * @param items one per test image
 * @param bins number of bins (≥ 1)
 */
export function scoreHistogram(items: readonly Prediction[], bins = 24): ScoreHistogram | null {
  if (items.length === 0) return null;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const it of items) {
    lo = Math.min(lo, it.score);
    hi = Math.max(hi, it.score);
  }
  if (!(hi > lo)) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
  const normal = new Array<number>(bins).fill(0);
  const defects = new Map<string, number[]>();
  for (const it of items) {
    // The top edge belongs to the last bin (numpy.histogram's convention).
    const b = Math.min(bins - 1, Math.floor((it.score - lo) / width));
    const counts = it.label === 'good' ? normal : defects.get(it.label) ?? defects.set(it.label, new Array<number>(bins).fill(0)).get(it.label)!;
    counts[b]! += 1;
  }
  return { edges, normal, defects: [...defects.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([defectType, counts]) => ({ defectType, counts })) };
}

/** Gallery entries, highest score first, with their outcome at `threshold` (score ≥ t is anomalous). */
export function galleryItems(items: readonly Prediction[], threshold: number | null, scenarioDir: string | null): GalleryItem[] {
  return [...items]
    .sort((a, b) => b.score - a.score || a.relPath.localeCompare(b.relPath))
    .map((it) => {
      const anomalous = it.label !== 'good';
      let outcome: GalleryOutcome | null = null;
      if (threshold !== null) {
        const called = it.score >= threshold;
        outcome = called ? (anomalous ? 'tp' : 'fp') : anomalous ? 'fn' : 'tn';
      }
      return { relPath: it.relPath, label: it.label, score: it.score, anomalous, outcome, imagePath: scenarioDir ? join(scenarioDir, it.relPath) : null };
    });
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

async function internalPredictions(runDir: string): Promise<Prediction[]> {
  const scores = await readJson(join(runDir, 'scores.json'));
  if (!scores || typeof scores !== 'object') return [];
  // labels.json (runs on the curated dataset): a relabelled image's folder no longer says its label.
  const labels = ((await readJson(join(runDir, 'labels.json'))) ?? {}) as Record<string, unknown>;
  return Object.entries(scores as Record<string, unknown>)
    .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
    .map(([relPath, score]) => ({ relPath, label: typeof labels[relPath] === 'string' ? labels[relPath] : labelOf(relPath), score }));
}

function toCurves(scenario: string, defectType: string, named: [string, Curve | null][]): NewCurve[] {
  return named.filter((e): e is [string, Curve] => e[1] !== null).map(([curve, c]) => ({ scenario, defectType, curve, points: { x: c.x, y: c.y } }));
}

/**
 * Image ROC, pixel ROC and PRO of a job run from its maps.amap and the dataset's masks: the whole
 * test set, and each defect type against all normal images. Masks are resized nearest to the map
 * size, the resolution the job evaluated at by default.
 */
export async function computeRunCurves(mapsPath: string, scenarioDir: string, scenario: string, predictions: readonly Prediction[]): Promise<NewCurve[]> {
  const reader = await MapPackReader.open(mapsPath);
  try {
    const { width, height } = reader;
    const plane = width * height;
    const byRel = new Map(predictions.map((p) => [p.relPath, p]));
    const keys = reader.keys().filter((k) => byRel.has(k));
    const count = keys.length;
    const maps = new Float32Array(count * plane);
    const masks = new Uint8Array(count * plane);
    const labels = new Uint8Array(count);
    const scores = new Float64Array(count);
    const kinds: string[] = [];
    // Masks paired with test images by the dataset layout's rule, read by the one mask reader.
    const maskOf = new Map(listTestImages(scenarioDir).map((im) => [im.rel, im.mask]));
    for (let i = 0; i < count; i++) {
      const key = keys[i]!;
      maps.set((await reader.readKey(key))!, i * plane);
      const p = byRel.get(key)!;
      scores[i] = p.score;
      kinds.push(p.label);
      const maskPath = maskOf.get(key) ?? null;
      if (maskPath) {
        const m = await readBinaryMask(maskPath);
        masks.set(resizeNearest(m.data, m.width, m.height, width, height), i * plane);
        let any = 0;
        for (let j = 0; j < m.data.length; j++) any |= m.data[j]!;
        labels[i] = any;
      }
    }
    const defectTypes = [...new Set(kinds.filter((k) => k !== 'good'))].sort();
    const subsets: PixelSubset[] = [
      { name: '', images: new Uint8Array(count).fill(1) },
      ...defectTypes.map((d) => ({ name: d, images: kinds.map((k) => k === 'good' || k === d) })),
    ];
    const pixel = pixelMetrics({ width, height, count, maps, masks }, subsets);
    const out: NewCurve[] = [];
    for (const [s, subset] of subsets.entries()) {
      const image = scoreMetrics(scores, labels, subset.images);
      const px = pixel[s]!;
      out.push(...toCurves(scenario, subset.name, [['image_roc', image.roc], ['pixel_roc', px.roc], ['pro', px.pro]]));
    }
    return out;
  } finally {
    await reader.close();
  }
}

export interface ReportContext {
  store: Store;
  /** The run's folder (`<workspace>/runs/<id>`). */
  runDir: (runId: number) => string;
}

function overallThreshold(run: RunDetail): number | null {
  return run.metrics.find((m) => m.defectType === '' && m.metric === 'image_f1_max')?.threshold ?? null;
}

/** The report of a run; computes and caches a done job run's curves the first time. */
export async function buildRunReport(ctx: ReportContext, runId: number): Promise<RunReport> {
  const run = getRun(ctx.store, runId);
  const scenario = run.scenarios[0] ?? null;
  const root = ctx.runDir(runId);
  // A unified run keeps each scenario's files in its own folder: the page shows its first scenario's.
  const dir = scenario ? runScenarioDir(root, run.scenarios, scenario) : root;
  const warnings: string[] = [];
  if (run.scenarios.length > 1) warnings.push(`a unified run over ${run.scenarios.join(', ')}: this page shows ${scenario}; the compare view shows every scenario`);
  const scenarioDir = run.datasetRoot && scenario ? findScenarioDir(run.datasetRoot, scenario) : null;
  if (run.datasetRoot && scenario && !scenarioDir) warnings.push(`the dataset folder ${run.datasetRoot} no longer holds scenario ${scenario}: images and masks are unavailable`);

  let summary: Record<string, unknown> | null = null;
  let predictions: Prediction[];
  const mapsPath = join(dir, 'maps.amap');
  const hasMaps = run.kind === 'internal' && run.status === 'done' && existsSync(mapsPath);
  if (run.kind === 'external') {
    predictions = getPredictions(ctx.store, runId).map((p) => ({ relPath: p.relPath, label: p.label, score: p.score }));
  } else {
    const result = (await readJson(join(root, 'result.json'))) as { summary?: unknown } | null;
    if (result && typeof result.summary === 'object' && result.summary !== null) summary = result.summary as Record<string, unknown>;
    predictions = run.status === 'done' ? await internalPredictions(dir) : [];
  }

  let stored = getCurves(ctx.store, runId).filter((c) => (REPORT_CURVES as readonly string[]).includes(c.curve));
  if (stored.length === 0 && hasMaps && scenarioDir && scenario && predictions.length > 0) {
    try {
      putCurves(ctx.store, runId, await computeRunCurves(mapsPath, scenarioDir, scenario, predictions));
      stored = getCurves(ctx.store, runId).filter((c) => (REPORT_CURVES as readonly string[]).includes(c.curve));
    } catch (error) {
      warnings.push(`curves could not be computed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const curves: ReportCurve[] = stored.map((c) => ({ defectType: c.defectType, curve: c.curve, x: c.x, y: c.y }));
  const threshold = overallThreshold(run);
  const samples = run.status === 'done' ? runSamples(summary, dir, scenarioDir) : [];
  return { runId, scenario, summary, threshold, hasMaps, histogram: scoreHistogram(predictions), curves, gallery: galleryItems(predictions, threshold, scenarioDir), samples, warnings };
}

/**
 * The test images whose model outputs the job kept (summary.samples, written by the test loop as
 * samples/*.png), with absolute paths; entries whose files are gone are left out.
 */
function runSamples(summary: Record<string, unknown> | null, runDir: string, scenarioDir: string | null): RunSample[] {
  const raw = summary?.['samples'];
  if (!Array.isArray(raw)) return [];
  const out: RunSample[] = [];
  for (const s of raw as { relPath?: unknown; label?: unknown; score?: unknown; images?: unknown }[]) {
    if (typeof s.relPath !== 'string' || typeof s.label !== 'string' || typeof s.score !== 'number' || !s.images || typeof s.images !== 'object') continue;
    const images: Record<string, string> = {};
    for (const [name, rel] of Object.entries(s.images as Record<string, unknown>)) {
      // Only flat names under samples/: the summary is data, never a path to follow blindly.
      if (typeof rel === 'string' && /^samples\/[A-Za-z0-9._-]+\.png$/.test(rel) && existsSync(join(runDir, rel))) images[name] = join(runDir, rel);
    }
    if (Object.keys(images).length === 0) continue;
    out.push({ relPath: s.relPath, label: s.label, score: s.score, imagePath: scenarioDir ? join(scenarioDir, s.relPath) : null, images });
  }
  return out;
}

/**
 * A perceptual dark-blue → red → yellow ramp (inferno-like), intensities [n] in [0, 1] → RGB [n, 3].
 * Stops picked so low values stay dark, so the overlay hides normal texture and shows hot spots.
 */
const STOPS: [number, number, number, number][] = [
  [0, 0, 0, 4],
  [0.25, 87, 16, 110],
  [0.5, 188, 55, 84],
  [0.75, 249, 142, 9],
  [1, 252, 255, 164],
];

export function colormap(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(1, Math.max(0, values[i]!));
    let s = 1;
    while (s < STOPS.length - 1 && STOPS[s]![0] < v) s++;
    const [t0, r0, g0, b0] = STOPS[s - 1]!;
    const [t1, r1, g1, b1] = STOPS[s]!;
    const f = (v - t0) / (t1 - t0);
    out[i * 3] = Math.round(r0 + f * (r1 - r0));
    out[i * 3 + 1] = Math.round(g0 + f * (g1 - g0));
    out[i * 3 + 2] = Math.round(b0 + f * (b1 - b0));
  }
  return out;
}

/**
 * The run's display scale over all its maps (min → max), computed once and kept in
 * heatmaps/scale.json: one scale for every image, so heat compares across the gallery, and the
 * coldest values map to black, which the gallery's screen blend leaves invisible.
 */
async function displayScale(reader: MapPackReader, dir: string): Promise<DisplayScale> {
  const path = join(dir, 'scale.json');
  const cached = (await readJson(path)) as DisplayScale | null;
  if (cached && Number.isFinite(cached.lo) && Number.isFinite(cached.hi)) return cached;
  const stats = new MapStats();
  for (let i = 0; i < reader.count; i++) stats.add(await reader.read(i));
  const scale = runDisplayScale(stats);
  await writeFile(path, JSON.stringify(scale));
  return scale;
}

/** Renders (once) the heatmap PNG of one test image's map; returns its absolute path. */
export async function renderHeatmap(ctx: ReportContext, runId: number, relPath: string): Promise<string> {
  const run = getRun(ctx.store, runId);
  const dir = run.scenarios[0] ? runScenarioDir(ctx.runDir(runId), run.scenarios, run.scenarios[0]) : ctx.runDir(runId);
  const mapsPath = join(dir, 'maps.amap');
  if (run.kind !== 'internal' || !existsSync(mapsPath)) throw new LabError(`run #${runId} has no anomaly maps`, 'NotFoundError');
  const outDir = join(dir, 'heatmaps');
  // relPath is a key of the pack, never a path we join blindly: the file name is derived and flat.
  const out = join(outDir, `${relPath.replace(/[^A-Za-z0-9._-]+/g, '_')}.png`);
  if (existsSync(out)) return out;
  const reader = await MapPackReader.open(mapsPath);
  try {
    const map = await reader.readKey(relPath);
    if (!map) throw new LabError(`run #${runId} has no map for ${relPath}`, 'NotFoundError');
    await mkdir(outDir, { recursive: true });
    const scale = await displayScale(reader, outDir);
    const span = scale.hi - scale.lo || 1;
    const unit = new Float32Array(map.length);
    for (let i = 0; i < map.length; i++) unit[i] = (map[i]! - scale.lo) / span;
    await writeFile(out, encodePng(colormap(unit), reader.width, reader.height, 3));
    return out;
  } finally {
    await reader.close();
  }
}
