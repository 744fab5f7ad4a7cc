/**
 * compare:grid, the qualitative grid of the paper's Figure A.1: rows are test images (picked by
 * hand, or automatically: the highest-scoring images of each defect type by the first run, plus a
 * typical normal image), columns the image, its ground truth (the workspace's edited mask first)
 * and each run's anomaly map. Maps are read from the run's maps.amap, resized to the cell and sent
 * as 8-bit codes with their own lo/hi, so the view can colour them with any scale (per run or
 * shared) without another call, at a size a grid of 8 runs × 28 images carries easily.
 */
import { existsSync } from 'node:fs';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runScenarioDir } from '../runs/scenario-dir';
import type { GridCell, GridData, GridRow, GridRunHead } from '../../../shared/calls/compare';
import { LabError } from '../../../shared/errors';
import { SCENARIO_INFO, isScenario } from '../../../shared/taxonomy';
import type { RunDetail } from '../../../shared/types';
import { MapPackReader, MapStats, resizeBilinear, runDisplayScale, sharedDisplayScale, type DisplayScale } from '../evaluation/index';
import { labelOf } from '../runs/report';
import { findScenarioDir } from '../datasets/layout';
import { AnnotationRepo } from '../store/annotation-repo';
import type { Store } from '../store/store';
import { loadRuns } from './tables';
import { runScores, type ScoredImage } from './predictions';

export interface GridContext {
  store: Store;
  /** The workspace folder: edited masks are stored relative to it. */
  workspaceDir: string;
  runDir: (runId: number) => string;
}

export interface GridRequest {
  runIds: readonly number[];
  scenario: string;
  picks?: readonly string[] | undefined;
  perDefect: number;
  cellSize: number;
}

/** `test/<label>/<name>`, nothing that climbs out of the scenario folder. */
function checkPick(relPath: string): void {
  const parts = relPath.split('/');
  if (parts.length < 3 || parts[0] !== 'test' || parts.some((p) => p === '' || p === '.' || p === '..') || relPath.includes('\\')) {
    throw new LabError(`pick ${JSON.stringify(relPath)} is not a test image path of the form test/<type>/<name>`, 'ValidationError');
  }
}

/** Defect labels in Table A.1 order for the scenario, others after by name. */
function orderLabels(scenario: string, labels: Iterable<string>): string[] {
  const set = new Set(labels);
  const known = isScenario(scenario) ? SCENARIO_INFO[scenario].defects.filter((d) => set.has(d)) : [];
  return [...known, ...[...set].filter((l) => !known.includes(l)).sort()];
}

/**
 * Automatic rows from one run's scores: the `perDefect` highest-scoring images of each defect type
 * (where a method is most sure, the figure shows what it found), then the normal image of median
 * score (a typical one, neither its best nor its worst false alarm).
 */
export function autoPicks(images: readonly ScoredImage[], scenario: string, perDefect: number): string[] {
  const mine = images.filter((i) => i.scenario === scenario);
  const byScore = (a: ScoredImage, b: ScoredImage) => b.score - a.score || (a.relPath < b.relPath ? -1 : 1);
  const out: string[] = [];
  for (const label of orderLabels(scenario, mine.filter((i) => i.label !== 'good').map((i) => i.label))) {
    out.push(...mine.filter((i) => i.label === label).sort(byScore).slice(0, perDefect).map((i) => i.relPath));
  }
  const normal = mine.filter((i) => i.label === 'good').sort(byScore);
  if (normal.length > 0) out.push(normal[Math.floor(normal.length / 2)]!.relPath);
  return out;
}

interface SampleMask {
  width: number;
  height: number;
  maskPath: string | null;
  /** The mask is the workspace's edit, which holds even where the folder says `good`. */
  edited: boolean;
}

/**
 * The masks the app reads for the scenario's samples, by absolute image path: the workspace's
 * edited mask where there is one, else the dataset's (as the annotation view resolves them).
 */
function sampleMasks(store: Store, workspaceDir: string, scenario: string): Map<string, SampleMask> {
  const out = new Map<string, SampleMask>();
  for (const r of new AnnotationRepo(store).exportRows(scenario)) {
    const maskPath = r.a_mask_path ? join(workspaceDir, r.a_mask_path) : r.mask_rel_path ? join(r.root, r.mask_rel_path) : null;
    out.set(resolve(r.root, r.rel_path), { width: r.width, height: r.height, maskPath, edited: r.a_mask_path !== null });
  }
  return out;
}

/** The dataset's mask on disk (MVTec naming) for images of a dataset this workspace never imported. */
function maskOnDisk(scenarioDir: string, relPath: string): string | null {
  const [, label, name] = relPath.split('/');
  if (!label || !name || label === 'good') return null;
  const stem = name.replace(/\.[^.]+$/, '');
  for (const m of [`${stem}_mask.png`, `${stem}.png`]) {
    const p = join(scenarioDir, 'ground_truth', label, m);
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * The run's display scale over all its maps, shared with the run report through the same cache
 * file (`heatmaps/scale.json`), so the gallery and the grid colour a run alike.
 */
async function runScale(reader: MapPackReader, runDir: string): Promise<DisplayScale> {
  const path = join(runDir, 'heatmaps', 'scale.json');
  try {
    const cached = JSON.parse(await readFile(path, 'utf8')) as DisplayScale;
    if (Number.isFinite(cached.lo) && Number.isFinite(cached.hi)) return cached;
  } catch {
    // No cache yet: compute it below.
  }
  const stats = new MapStats();
  for (let i = 0; i < reader.count; i++) stats.add(await reader.read(i));
  const scale = runDisplayScale(stats);
  await mkdir(join(runDir, 'heatmaps'), { recursive: true });
  await writeFile(path, JSON.stringify(scale));
  return scale;
}

/** Cell size keeping the aspect `width : height` with the longest side `cellSize`. */
export function cellDims(width: number, height: number, cellSize: number): { width: number; height: number } {
  if (width >= height) return { width: cellSize, height: Math.max(1, Math.round((cellSize * height) / width)) };
  return { width: Math.max(1, Math.round((cellSize * width) / height)), height: cellSize };
}

/**
 * A map [inH, inW] resized bilinearly to [outH, outW] and quantised to 8 bits over its own range:
 * byte b stands for lo + b / 255 × (hi − lo). Non-finite values become lo.
 */
export function quantiseCell(map: Float32Array, inW: number, inH: number, outW: number, outH: number): GridCell {
  const small = resizeBilinear(map, inW, inH, outW, outH);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of small) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) lo = hi = 0;
  const span = hi - lo;
  const bytes = new Uint8Array(small.length);
  if (span > 0) {
    for (let i = 0; i < small.length; i++) {
      const v = small[i]!;
      bytes[i] = Number.isFinite(v) ? Math.round(((v - lo) / span) * 255) : 0;
    }
  }
  return { width: outW, height: outH, data: Buffer.from(bytes).toString('base64'), lo, hi };
}

function pixelThreshold(run: RunDetail, scenario: string): number | null {
  return run.metrics.find((m) => m.scenario === scenario && m.defectType === '' && m.metric === 'pixel_f1_max')?.threshold ?? null;
}

export async function compareGrid(ctx: GridContext, request: GridRequest): Promise<GridData> {
  const runs = loadRuns(ctx.store, request.runIds);
  const { scenario } = request;
  if (!runs.some((r) => r.scenarios.includes(scenario))) {
    throw new LabError(`none of the runs ${runs.map((r) => `#${r.id}`).join(', ')} covers scenario ${scenario}`, 'ValidationError');
  }

  let picks: string[];
  if (request.picks && request.picks.length > 0) {
    for (const p of request.picks) checkPick(p);
    picks = [...new Set(request.picks)];
  } else {
    picks = [];
    // The first run that has scores for the scenario picks (an external run may be listed first and have none).
    for (const run of runs) {
      picks = autoPicks(await runScores(ctx.store, ctx.runDir(run.id), run), scenario, request.perDefect);
      if (picks.length > 0) break;
    }
  }

  const scenarioDir = runs.map((r) => (r.datasetRoot ? findScenarioDir(r.datasetRoot, scenario) : null)).find((d) => d !== null) ?? null;
  const samples = sampleMasks(ctx.store, ctx.workspaceDir, scenario);
  const rows: GridRow[] = picks.map((relPath) => {
    const imagePath = scenarioDir ? join(scenarioDir, relPath) : null;
    const sample = imagePath ? samples.get(resolve(imagePath)) : undefined;
    const label = labelOf(relPath);
    let maskPath: string | null = null;
    if (sample) maskPath = sample.edited || label !== 'good' ? sample.maskPath : null;
    else if (scenarioDir) maskPath = maskOnDisk(scenarioDir, relPath);
    return { relPath, defectType: label, imagePath: imagePath && existsSync(imagePath) ? imagePath : null, maskPath, cells: [] };
  });

  const heads: GridRunHead[] = [];
  const scales: DisplayScale[] = [];
  const named = new Map<string, number>();
  for (const run of runs) named.set(run.name, (named.get(run.name) ?? 0) + 1);
  for (const run of runs) {
    const filesDir = runScenarioDir(ctx.runDir(run.id), run.scenarios, scenario);
    const mapsPath = join(filesDir, 'maps.amap');
    // Columns that read alike tell nothing: a repeated name carries its run id, as in the tables.
    const label = named.get(run.name)! > 1 ? `${run.name} (#${run.id})` : run.name;
    const head: GridRunHead = { runId: run.id, label, method: run.method, randomInit: run.randomInit, scale: { lo: 0, hi: 1 }, hasMaps: false, pixelThreshold: pixelThreshold(run, scenario) };
    heads.push(head);
    if (run.kind !== 'internal' || !run.scenarios.includes(scenario) || !existsSync(mapsPath)) {
      for (const row of rows) row.cells.push(null);
      continue;
    }
    const reader = await MapPackReader.open(mapsPath);
    try {
      head.scale = await runScale(reader, filesDir);
      head.hasMaps = true;
      scales.push(head.scale);
      for (const row of rows) {
        const map = await reader.readKey(row.relPath);
        if (!map) {
          row.cells.push(null);
          continue;
        }
        // The map covers the whole image (resized to the method's input): show it at the image's aspect so it lines up with the image and mask columns.
        const sample = row.imagePath ? samples.get(resolve(row.imagePath)) : undefined;
        const dims = cellDims(sample?.width ?? reader.width, sample?.height ?? reader.height, request.cellSize);
        row.cells.push(quantiseCell(map, reader.width, reader.height, dims.width, dims.height));
      }
    } finally {
      await reader.close();
    }
  }
  const shared = scales.length > 0 ? sharedDisplayScale(scales) : { lo: 0, hi: 1 };
  return { scenario, runs: heads, shared, rows };
}
