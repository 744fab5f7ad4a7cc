/**
 * generateMiadMini: writes the MIAD-mini dataset in the MVTec AD / MIAD layout.
 *
 *   <scenario>/train/good/NNN.png
 *   <scenario>/test/good/NNN.png
 *   <scenario>/test/<defect>/NNN.png
 *   <scenario>/ground_truth/<defect>/NNN_mask.png      (8-bit gray, 0 / 255)
 *
 * plus `miad-mini.json` at the root, a manifest that marks the folder as generated output (so it
 * may be regenerated in place) and lists every file. Each image depends only on (seed, scenario,
 * folder, index), so a subset of scenarios gives the same images for those scenarios, and one seed
 * always gives byte-identical files. Rendering is synchronous typed-array work on this thread;
 * file writes go through a small async pool so the disk overlaps the drawing.
 */
import { mkdir, readdir, readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { makeDirs } from '../../fs-util';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { DEMO_LIMITS } from '../../../../shared/limits';
import { LabError } from '../../../../shared/errors';
import { SCENARIOS, SCENARIO_INFO, isScenario, type Scenario } from '../../../../shared/taxonomy';
import type { DemoProgress } from '../../../../shared/types';
import type { MiniDatasetSummary } from '../../../../shared/calls/datasets';
import { encodePng, type PngEncodeOptions } from '../../image/png';
import type { Knobs } from './common';
import { renderSample } from './render';

export const MIAD_MINI_MANIFEST = 'miad-mini.json';
/** Bumped whenever the drawings change, so outputs of different versions are not mistaken as equal. */
export const MIAD_MINI_VERSION = 1;

/**
 * PNG options for generated images: zlib level 6 and the Sub filter on every row. Measured on
 * MIAD-mini images, Sub gives smaller files than the adaptive heuristic at half the encoding time.
 */
export const MIAD_MINI_PNG = { level: 6, filter: 1 } as const;

export interface MiadMiniOptions {
  /** Output folder; created if missing. Must be empty or an earlier MIAD-mini output. */
  outDir: string;
  seed?: number;
  /** Training images (all normal) per scenario. */
  train?: number;
  /** Test images per scenario, about half normal and half anomalous. */
  test?: number;
  /** Image side in pixels (images are square). */
  size?: number;
  scenarios?: readonly Scenario[];
  /** Uncontrolled-factor knobs in [0, 1]. */
  viewpoint?: number;
  background?: number;
  surface?: number;
  /** Concurrent file writes (default 8). */
  writeConcurrency?: number;
  /** PNG encoder options (default MIAD_MINI_PNG); benchmarks pass others to compare. */
  png?: PngEncodeOptions;
}

export interface ResolvedMiadMiniOptions {
  seed: number;
  train: number;
  test: number;
  size: number;
  scenarios: Scenario[];
  viewpoint: number;
  background: number;
  surface: number;
}

/** One generated image, as an importer needs it to register a sample without re-scanning. */
export interface MiadMiniFile {
  scenario: Scenario;
  split: 'train' | 'test';
  label: 'good' | 'anomalous';
  /** Defect type name (Table A.1 folder name) for anomalous images, else null. */
  defect: string | null;
  /** Index within its folder (the NNN of the file name). */
  index: number;
  /** Path relative to outDir, with forward slashes. */
  relPath: string;
  /** Mask path relative to outDir for anomalous images, else null. */
  maskRelPath: string | null;
  width: number;
  height: number;
  /** Size of the image file in bytes (0 in a plan, before writing). */
  bytes: number;
  /** Fraction of mask pixels set (0 for normal images, and in a plan). */
  maskFraction: number;
}

export interface MiadMiniScenarioReport {
  scenario: Scenario;
  files: MiadMiniFile[];
  counts: { train: number; testGood: number; testAnomalous: number; byDefect: Record<string, number> };
}

export interface MiadMiniReport {
  generator: 'miad-mini';
  version: number;
  outDir: string;
  options: ResolvedMiadMiniOptions;
  scenarios: MiadMiniScenarioReport[];
  totals: { images: number; masks: number; bytes: number };
}

/** The report without its per-file lists: what `datasets:generateMini` answers. */
export function miniSummary(report: MiadMiniReport): MiniDatasetSummary {
  return {
    outDir: report.outDir,
    version: report.version,
    options: report.options,
    totals: report.totals,
    scenarios: report.scenarios.map((s) => ({ scenario: s.scenario, ...s.counts })),
  };
}

interface Manifest {
  generator: 'miad-mini';
  version: number;
  complete: boolean;
  options: ResolvedMiadMiniOptions;
  files: string[];
}

function fail(message: string): never {
  throw new LabError(message, 'ValidationError');
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer between ${min} and ${max}, got ${value}`);
  return value;
}

function checkKnob(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail(`${name} must be a number between 0 and 1, got ${value}`);
  return value;
}

/** Fills in defaults and validates; throws LabError('ValidationError') naming the bad option. */
export function resolveMiadMiniOptions(options: Omit<MiadMiniOptions, 'outDir'>): ResolvedMiadMiniOptions {
  const scenarios = [...(options.scenarios ?? SCENARIOS)];
  if (scenarios.length === 0) fail('scenarios must name at least one scenario');
  for (const s of scenarios) if (!isScenario(s)) fail(`unknown scenario ${JSON.stringify(s)}; valid: ${SCENARIOS.join(', ')}`);
  return {
    seed: checkInt('seed', options.seed ?? 0, 0, 2 ** 31 - 1),
    train: checkInt('train', options.train ?? 200, 1, DEMO_LIMITS.maxTrain),
    test: checkInt('test', options.test ?? 60, 1, DEMO_LIMITS.maxTest),
    size: checkInt('size', options.size ?? 256, DEMO_LIMITS.minSize, DEMO_LIMITS.maxSize),
    // Keep SCENARIOS order and drop duplicates so the output does not depend on how they were listed.
    scenarios: SCENARIOS.filter((s) => scenarios.includes(s)),
    viewpoint: checkKnob('viewpoint', options.viewpoint ?? 0.5),
    background: checkKnob('background', options.background ?? 0.5),
    surface: checkKnob('surface', options.surface ?? 0.5),
  };
}

function pad(index: number, count: number): string {
  return String(index).padStart(Math.max(3, String(Math.max(0, count - 1)).length), '0');
}

/**
 * The files a run will write, without rendering anything: per scenario, `train` normal training
 * images, floor(test/2) normal test images and the rest anomalous, spread as evenly as possible over
 * the scenario's defect types in Table A.1 order.
 */
export function planMiadMini(resolved: ResolvedMiadMiniOptions): MiadMiniScenarioReport[] {
  return resolved.scenarios.map((scenario) => {
    const files: MiadMiniFile[] = [];
    const base = { scenario, width: resolved.size, height: resolved.size, bytes: 0, maskFraction: 0 };
    for (let i = 0; i < resolved.train; i++) {
      files.push({ ...base, split: 'train', label: 'good', defect: null, index: i, relPath: `${scenario}/train/good/${pad(i, resolved.train)}.png`, maskRelPath: null });
    }
    const testGood = Math.floor(resolved.test / 2);
    for (let i = 0; i < testGood; i++) {
      files.push({ ...base, split: 'test', label: 'good', defect: null, index: i, relPath: `${scenario}/test/good/${pad(i, testGood)}.png`, maskRelPath: null });
    }
    const anomalous = resolved.test - testGood;
    const defects = SCENARIO_INFO[scenario].defects;
    const byDefect: Record<string, number> = {};
    defects.forEach((defect, k) => {
      const n = Math.floor(anomalous / defects.length) + (k < anomalous % defects.length ? 1 : 0);
      byDefect[defect] = n;
      for (let i = 0; i < n; i++) {
        const name = pad(i, n);
        files.push({
          ...base,
          split: 'test',
          label: 'anomalous',
          defect,
          index: i,
          relPath: `${scenario}/test/${defect}/${name}.png`,
          maskRelPath: `${scenario}/ground_truth/${defect}/${name}_mask.png`,
        });
      }
    });
    return { scenario, files, counts: { train: resolved.train, testGood, testAnomalous: anomalous, byDefect } };
  });
}

/**
 * What is at `outDir`: 'missing', 'empty', or 'miad-mini' (an earlier output, with its manifest).
 * Throws LabError('ConflictError') when it is a file, or a non-empty folder that is not MIAD-mini
 * output, so a mistyped path never gets files sprayed into it.
 */
export async function inspectOutDir(outDir: string): Promise<'missing' | 'empty' | 'miad-mini'> {
  let info;
  try {
    info = await stat(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (!info.isDirectory()) throw new LabError(`${outDir} is an existing file, not a folder; choose a new or empty folder`, 'ConflictError');
  const entries = await readdir(outDir);
  if (entries.length === 0) return 'empty';
  if (entries.includes(MIAD_MINI_MANIFEST)) {
    const manifest = await readManifest(outDir);
    if (manifest) return 'miad-mini';
  }
  throw new LabError(
    `${outDir} is not empty and is not an earlier MIAD-mini output (no valid ${MIAD_MINI_MANIFEST}); choose a new or empty folder`,
    'ConflictError',
  );
}

async function readManifest(outDir: string): Promise<Manifest | null> {
  try {
    const parsed = JSON.parse(await readFile(join(outDir, MIAD_MINI_MANIFEST), 'utf8')) as Partial<Manifest>;
    if (parsed.generator !== 'miad-mini' || !Array.isArray(parsed.files)) return null;
    return parsed as Manifest;
  } catch {
    return null;
  }
}

/** Removes the files an earlier run listed (only relative paths inside outDir), then their empty folders. */
async function removePrevious(outDir: string, manifest: Manifest): Promise<void> {
  const root = normalize(outDir + sep);
  const dirs = new Set<string>();
  for (const rel of manifest.files) {
    if (typeof rel !== 'string' || isAbsolute(rel)) continue;
    const abs = normalize(join(outDir, rel));
    if (!abs.startsWith(root)) continue;
    await unlink(abs).catch(() => undefined);
    for (let d = dirname(abs); d.length > root.length && d.startsWith(root); d = dirname(d)) dirs.add(d);
  }
  // Deepest first; a folder the user added files to stays.
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await rmdir(d).catch(() => undefined);
}

/** Generates the dataset; see the module comment for the layout. */
export async function generateMiadMini(options: MiadMiniOptions, onProgress?: (progress: DemoProgress) => void): Promise<MiadMiniReport> {
  const resolved = resolveMiadMiniOptions(options);
  const outDir = options.outDir;
  const state = await inspectOutDir(outDir);
  if (state === 'miad-mini') {
    const previous = await readManifest(outDir);
    if (previous) await removePrevious(outDir, previous);
  }
  const plan = planMiadMini(resolved);
  const allFiles = plan.flatMap((s) => s.files.flatMap((f) => (f.maskRelPath ? [f.relPath, f.maskRelPath] : [f.relPath])));
  await makeDirs(outDir).catch((error: Error) => {
    throw new LabError(`cannot create the output folder ${outDir}: ${error.message}`);
  });
  const manifest: Manifest = { generator: 'miad-mini', version: MIAD_MINI_VERSION, complete: false, options: resolved, files: allFiles };
  // Written first (incomplete) so an interrupted run can still be recognised and cleaned up.
  await writeFile(join(outDir, MIAD_MINI_MANIFEST), JSON.stringify(manifest));

  const dirs = new Set(allFiles.map((f) => dirname(join(outDir, f))));
  for (const d of dirs) await mkdir(d, { recursive: true });

  const knobs: Knobs = { viewpoint: resolved.viewpoint, background: resolved.background, surface: resolved.surface };
  const limit = Math.max(1, options.writeConcurrency ?? 8);
  const pngOptions = options.png ?? MIAD_MINI_PNG;
  const pending = new Set<Promise<void>>();
  let firstError: unknown = null;
  const write = (path: string, data: Uint8Array) => {
    const p: Promise<void> = writeFile(path, data)
      .catch((error: unknown) => {
        firstError ??= error;
      })
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const total = plan.reduce((n, s) => n + s.files.length, 0);
  let done = 0;
  const totals = { images: 0, masks: 0, bytes: 0 };
  for (const scenarioPlan of plan) {
    onProgress?.({ phase: 'generating', scenario: scenarioPlan.scenario, done, total });
    for (const file of scenarioPlan.files) {
      const folder = file.split === 'train' ? 'train/good' : `test/${file.defect ?? 'good'}`;
      const sample = renderSample({ seed: resolved.seed, scenario: file.scenario, folder, index: file.index }, resolved.size, knobs);
      const png = encodePng(sample.rgb, resolved.size, resolved.size, 3, pngOptions);
      file.bytes = png.length;
      write(join(outDir, file.relPath), png);
      totals.images++;
      totals.bytes += png.length;
      if (sample.mask && file.maskRelPath) {
        let set = 0;
        for (let i = 0; i < sample.mask.length; i++) if (sample.mask[i]) set++;
        file.maskFraction = set / sample.mask.length;
        const maskPng = encodePng(sample.mask, resolved.size, resolved.size, 1, pngOptions);
        write(join(outDir, file.maskRelPath), maskPng);
        totals.masks++;
        totals.bytes += maskPng.length;
      }
      done++;
      while (pending.size >= limit) await Promise.race(pending);
      if (firstError) throw firstError;
      // Let I/O callbacks and progress listeners run even when the disk keeps up.
      if (done % 16 === 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        onProgress?.({ phase: 'generating', scenario: scenarioPlan.scenario, done, total });
      }
    }
  }
  await Promise.all(pending);
  if (firstError) throw firstError;
  manifest.complete = true;
  await writeFile(join(outDir, MIAD_MINI_MANIFEST), JSON.stringify(manifest));
  onProgress?.({ phase: 'done', scenario: null, done, total });
  return { generator: 'miad-mini', version: MIAD_MINI_VERSION, outDir, options: resolved, scenarios: plan, totals };
}
