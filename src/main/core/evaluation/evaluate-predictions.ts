/**
 * Evaluates predictions made by any tool against a dataset in MVTec layout: one anomaly map per test
 * image as .npy at the image's relative path (`test/crack/000.npy` for `test/crack/000.png`), and
 * optionally a scores.json of image scores (else each map's maximum). Every metric, overall and per
 * defect type (each type against all normal test images), plus the mean over defect types.
 *
 * Maps are taken as given (no smoothing: the tool's own post-processing is part of what is
 * evaluated), resized bilinearly to the evaluation resolution; masks are resized nearest. An image is
 * anomalous when its full-size mask has a pixel > 0 (DESIGN §8), so a defect-folder image with an
 * empty mask counts as normal and is reported in the warnings.
 *
 * Every problem with the inputs (missing or unreadable predictions, shape mismatches, NaN/Inf,
 * missing masks, scores.json gaps) is collected and reported in one error listing the files, rather
 * than stopping at the first. The result is plain JSON so a run store can keep it as is.
 */
import { readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { LabError } from '../../../shared/errors';
import { listTestImages, scenarioDir, type LayoutTestImage } from '../datasets/layout';
import { readBinaryMask, type BinaryMask } from '../image/mask';
import { MetricUndefinedError } from './curve';
import { npyToMap, parseNpy } from './npy';
import { pixelMetrics, type PixelSubset } from './pixel-metrics';
import { resizeBilinear, resizeNearest } from './post-process';
import { scoreMetrics } from './score-metrics';

export interface EvaluatePredictionsOptions {
  /** Dataset root: `<root>/<scenario>/test/<label>/*.png`, `<root>/<scenario>/ground_truth/<defect>/<name>_mask.png`. */
  datasetRoot: string;
  scenario: string;
  /** Folder of predictions: `<dir>/test/<label>/<name>.npy` and optionally `<dir>/scores.json`. */
  predictionsDir: string;
  /** Square evaluation resolution (pixels a side); default 256. */
  resolution?: number;
  /** AUPRO FPR limit; default 0.3. */
  proLimit?: number;
}

// The result's types are the contract's (`evaluation:predictions`): plain JSON a run store keeps as is.
export type { EvaluatedImage, EvaluationResult, EvaluationScope, MetricSet } from '../../../shared/calls/evaluation';
import type { EvaluationResult, EvaluationScope, MetricSet } from '../../../shared/calls/evaluation';

/** The inputs (predictions, masks, scores.json) are missing or malformed; the message lists every file. */
export class EvaluationInputError extends Error {
  override name = 'EvaluationInputError';
}

const MAX_LISTED = 25;

/** A test image as the dataset layout lists it (datasets/layout.ts), with its mask path. */
type TestImage = LayoutTestImage;

/**
 * Evaluates one scenario's predictions. Throws LabError 'ValidationError' for bad options (no such
 * scenario folder), EvaluationInputError listing every bad input file, MetricUndefinedError when the
 * test set has one class only.
 */
export async function evaluatePredictions(options: EvaluatePredictionsOptions): Promise<EvaluationResult> {
  const started = performance.now();
  const resolution = options.resolution ?? 256;
  const proLimit = options.proLimit ?? 0.3;
  if (!Number.isInteger(resolution) || resolution < 1) throw new LabError(`resolution must be a positive integer, got ${resolution}`, 'ValidationError');
  const dir = scenarioDir(options.datasetRoot, options.scenario);
  const images = listTestImages(dir);
  if (images.length === 0) throw new LabError(`no test images under ${join(dir, 'test')}`, 'ValidationError');

  const problems: string[] = [];
  const warnings: string[] = [];
  const scoresFile = await readScores(options.predictionsDir, images, problems, warnings);

  const plane = resolution * resolution;
  const n = images.length;
  const maps = new Float32Array(n * plane);
  const masks = new Uint8Array(n * plane);
  const labels = new Uint8Array(n);
  const scores = new Float64Array(n);
  const shapes = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const img = images[i]!;
    const npyRel = `test/${img.label}/${img.stem}.npy`;
    const npyPath = join(options.predictionsDir, ...npyRel.split('/'));
    let map: { height: number; width: number; data: Float32Array } | null = null;
    try {
      map = npyToMap(parseNpy(await readFile(npyPath)));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.push(code === 'ENOENT' ? `missing prediction ${npyRel}` : `unreadable prediction ${npyRel}: ${(error as Error).message}`);
    }
    if (map) {
      const bad = firstNonFinite(map.data);
      if (bad >= 0) problems.push(`prediction ${npyRel} holds ${map.data[bad]} at pixel ${bad} (row ${Math.floor(bad / map.width)}, column ${bad % map.width})`);
      const shape = `${map.height}×${map.width}`;
      shapes.set(shape, [...(shapes.get(shape) ?? []), npyRel]);
      if (bad < 0) {
        maps.set(resizeBilinear(map.data, map.width, map.height, resolution, resolution), i * plane);
        if (!scoresFile) scores[i] = maxOf(map.data);
      }
    }
    if (scoresFile) scores[i] = scoresFile.get(img.rel) ?? Number.NaN;
    if (img.label === 'good') continue;
    const mask = await readMask(dir, img, problems);
    if (!mask) continue;
    if (map && Math.abs(mask.height / mask.width - map.height / map.width) > 0.01) {
      problems.push(`shape mismatch: prediction ${npyRel} is ${map.height}×${map.width} but mask of ${img.rel} is ${mask.height}×${mask.width}`);
    }
    let any = false;
    for (let k = 0; k < mask.data.length; k++) {
      if (mask.data[k] !== 0) {
        any = true;
        break;
      }
    }
    if (!any) warnings.push(`${img.rel} is in a defect folder but its mask is empty: counted as normal`);
    labels[i] = any ? 1 : 0;
    masks.set(resizeNearest(mask.data, mask.width, mask.height, resolution, resolution), i * plane);
  }
  if (shapes.size > 1) {
    const [common] = [...shapes.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
    for (const [shape, files] of shapes) {
      if (shape === common) continue;
      problems.push(`shape mismatch: ${list(files)} ${files.length === 1 ? 'is' : 'are'} ${shape} while ${shapes.get(common)!.length} other maps are ${common}`);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, MAX_LISTED);
    const more = problems.length > MAX_LISTED ? `\n  … and ${problems.length - MAX_LISTED} more` : '';
    throw new EvaluationInputError(
      `cannot evaluate ${options.scenario}: ${problems.length} problem${problems.length === 1 ? '' : 's'} with the inputs\n  ${shown.join('\n  ')}${more}`,
    );
  }

  const normalCount = labels.reduce((a, b) => a + (b ? 0 : 1), 0);
  if (normalCount === 0 || normalCount === n) {
    throw new MetricUndefinedError(
      `metrics are undefined for ${options.scenario}: its ${n} test images are all ${normalCount === 0 ? 'anomalous' : 'normal'}; AUROC needs both`,
    );
  }

  const scopes = evaluateScopes({ width: resolution, height: resolution, maps, masks, scores, labels, imageLabels: images.map((im) => im.label), proLimit });
  const perDefect = scopes.slice(1);
  return {
    scenario: options.scenario,
    datasetRoot: options.datasetRoot,
    predictionsDir: options.predictionsDir,
    resolution,
    proLimit,
    imageScores: scoresFile ? 'scores.json' : 'map maximum',
    testImages: n,
    images: images.map((img, i) => ({ relPath: img.rel, label: img.label, anomalous: labels[i] === 1, score: scores[i]! })),
    overall: scopes[0]!,
    perDefect,
    meanOverDefects: meanMetrics(perDefect.map((p) => p.metrics)),
    warnings,
    conventions: {
      mapResize: 'bilinear, as torch F.interpolate(align_corners=False), no smoothing',
      maskResize: 'nearest, as torch F.interpolate(mode="nearest"); a mask pixel > 0 is anomalous',
      regions: '8-connected components of each mask (scipy.ndimage.label with a 3×3 structure)',
      aupro: `MVTec AD: PRO over FPR up to ${proLimit}, interpolated at the limit, divided by ${proLimit}`,
    },
    seconds: (performance.now() - started) / 1000,
  };
}

/** Mean of each metric over the sets where it is defined (null when it is defined in none). */
/** A test set's maps, ground truth and image scores, as every evaluation of a scenario has them. */
export interface ScopedTestSet {
  width: number;
  height: number;
  /** Anomaly maps, shape [n, height, width]. */
  maps: Float32Array;
  /** Ground truth, shape [n, height, width]; > 0 is anomalous. */
  masks: Uint8Array;
  /** Image scores, shape [n]. */
  scores: Float64Array;
  /** Image labels (1 = anomalous), shape [n]. */
  labels: Uint8Array;
  /** The test folder of each image: `good` or its defect type, shape [n]. */
  imageLabels: readonly string[];
  proLimit?: number;
}

/**
 * Every metric of a scenario's test set, overall and per defect type (each type against all normal
 * images), in one walk over the pixels. The first scope is overall; the others follow in defect-name order.
 */
export function evaluateScopes(set: ScopedTestSet): EvaluationScope[] {
  const n = set.labels.length;
  const defects = [...new Set(set.imageLabels.filter((l) => l !== 'good'))].sort();
  const subsets: PixelSubset[] = [{ name: 'overall', images: new Uint8Array(n).fill(1) }];
  for (const d of defects) subsets.push({ name: d, images: set.imageLabels.map((l) => l === 'good' || l === d) });
  const pixel = pixelMetrics({ width: set.width, height: set.height, count: n, maps: set.maps, masks: set.masks }, subsets, { proLimit: set.proLimit ?? 0.3 });
  return subsets.map((sub, s) => {
    const img = scoreMetrics(set.scores, set.labels, sub.images);
    const px = pixel[s]!;
    return {
      defect: s === 0 ? null : sub.name,
      images: { normal: img.negatives, anomalous: img.positives },
      pixels: { normal: px.negatives, anomalous: px.positives },
      regions: px.regions,
      metrics: {
        imageAuroc: img.auroc,
        imageF1Max: img.f1Max,
        imageF1Threshold: img.f1Threshold,
        pixelAuroc: px.auroc,
        pixelF1Max: px.f1Max,
        pixelF1Threshold: px.f1Threshold,
        aupro: px.aupro,
      },
      curves: { imageRoc: img.roc, imagePr: img.pr, pixelRoc: px.roc, pixelPr: px.pr, pro: px.pro },
    };
  });
}

export function meanMetrics(sets: MetricSet[]): MetricSet {
  const keys: (keyof MetricSet)[] = ['imageAuroc', 'imageF1Max', 'imageF1Threshold', 'pixelAuroc', 'pixelF1Max', 'pixelF1Threshold', 'aupro'];
  const out = {} as MetricSet;
  for (const k of keys) {
    const vals = sets.map((s) => s[k]).filter((v): v is number => v !== null);
    out[k] = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
  }
  return out;
}

async function readScores(
  dir: string,
  images: TestImage[],
  problems: string[],
  warnings: string[],
): Promise<Map<string, number> | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'scores.json'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    problems.push(`unreadable scores.json: ${(error as Error).message}`);
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    problems.push(`scores.json is not valid JSON: ${(error as Error).message}`);
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push('scores.json must be an object from image path (e.g. "test/crack/000.png") to score');
    return null;
  }
  // Accept the image path, the same without extension, or the prediction's .npy path as keys.
  const byAlias = new Map<string, string>();
  for (const im of images) {
    byAlias.set(im.rel, im.rel);
    byAlias.set(`test/${im.label}/${im.stem}`, im.rel);
    byAlias.set(`test/${im.label}/${im.stem}.npy`, im.rel);
  }
  const scores = new Map<string, number>();
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const rel = byAlias.get(key.replace(/\\/g, '/').replace(/^\.\//, ''));
    if (!rel) {
      unknown.push(key);
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      problems.push(`scores.json: score of ${key} is ${JSON.stringify(value)}, not a finite number`);
      continue;
    }
    scores.set(rel, value);
  }
  const missing = images.filter((im) => !scores.has(im.rel)).map((im) => im.rel);
  if (missing.length > 0) problems.push(`scores.json has no score for ${missing.length} test image${missing.length === 1 ? '' : 's'}: ${list(missing)}`);
  if (unknown.length > 0) warnings.push(`scores.json names ${unknown.length} file${unknown.length === 1 ? '' : 's'} that are not test images (ignored): ${list(unknown)}`);
  return scores;
}

/** The mask of an anomalous image (paired by the layout's rule, read by the one mask reader: > 0 is anomalous), or null after noting the problem. */
async function readMask(dir: string, img: TestImage, problems: string[]): Promise<BinaryMask | null> {
  if (img.mask === null) {
    problems.push(`missing mask for anomalous image ${img.rel} (expected ground_truth/${img.label}/${img.stem}_mask.png)`);
    return null;
  }
  const rel = relative(dir, img.mask).split(sep).join('/');
  try {
    return await readBinaryMask(await readFile(img.mask), rel);
  } catch (error) {
    // "cannot read mask <rel>: <reason>" (readBinaryMask names it).
    problems.push((error as Error).message);
    return null;
  }
}

function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

function maxOf(data: Float32Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) if (data[i]! > m) m = data[i]!;
  return m;
}

function list(items: string[]): string {
  const shown = items.slice(0, 10).join(', ');
  return items.length > 10 ? `${shown} … (${items.length} in all)` : shown;
}
