/**
 * The test half of every run, written once for all methods: every test image through the method's
 * predictor in batches, its map into `maps.amap` (docs/anomaly-maps.md) and its score into
 * `scores.json` (the format `miad-lab evaluate` reads); with a curated manifest also the labels
 * (`labels.json`: a relabelled image's folder no longer says its label) and the training images
 * used (`train-images.json`); then every metric of DESIGN §8 in memory (overall, per defect type,
 * mean over defect types, curves included).
 *
 * Conventions: an image is anomalous when its mask has a pixel > 0 (as evaluatePredictions); masks
 * are resized nearest and maps bilinear to the evaluation resolution, which by default is the map
 * size. A predictor that returns extra images (the auto-encoder's reconstruction) gets them saved
 * as PNGs for a few test images of each label, listed in `samples.json`, for the run page.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../fs-util';
import { encodePng } from '../../image/png';
import {
  MapPackWriter,
  MetricUndefinedError,
  evaluateScopes,
  meanMetrics,
  resizeBilinear,
  resizeNearest,
  type EvaluationScope,
  type MetricSet,
} from '../../evaluation/index';
import { abortError } from '../components/coreset';
import { readBinaryMask } from '../../image/mask';
import type { Predictor, ProgressFn } from '../method';
import type { TestItem } from './scenario-images';

/** One scope of the evaluation (overall, or a defect type against all normal images), curves included. */
export type MethodScope = EvaluationScope;

export interface TestImageResult {
  /** Relative to the scenario folder, e.g. `test/crack/000.png`. */
  relPath: string;
  label: string;
  anomalous: boolean;
  score: number;
}

export interface Evaluation {
  resolution: number;
  overall: MethodScope;
  perDefect: MethodScope[];
  meanOverDefects: MetricSet;
}

/** A test image whose extra outputs were saved for the run page (`samples.json`). */
export interface SampleEntry {
  relPath: string;
  label: string;
  score: number;
  /** Extra name (e.g. 'reconstruction') → PNG path relative to the run folder. */
  images: Record<string, string>;
}

export interface TestSetResult {
  images: TestImageResult[];
  evaluation: Evaluation | null;
  mapSize: number;
  paths: { maps: string; scores: string };
  samples: SampleEntry[];
  seconds: { score: number; metrics: number };
}

export interface TestSetRequest {
  predictor: Predictor;
  tests: readonly TestItem[];
  outDir: string;
  scenario: string;
  method: string;
  /** 0: evaluate at the map size. */
  evalResolution: number;
  /** The training images used; written to train-images.json together with labels.json when `curated`. */
  trainPaths: readonly string[];
  /** The run read a curated manifest: write labels.json and train-images.json. */
  curated: boolean;
  /** Extra images saved per label (the first ones in test order). */
  samplesPerLabel?: number;
  progress: ProgressFn;
  signal?: AbortSignal | undefined;
  warnings: string[];
}

/** The images whose extras are kept: the first `perLabel` of each label, in test order. */
export function sampleIndices(tests: readonly TestItem[], perLabel: number): Set<number> {
  const seen = new Map<string, number>();
  const out = new Set<number>();
  tests.forEach((t, i) => {
    const n = seen.get(t.label) ?? 0;
    if (n < perLabel) out.add(i);
    seen.set(t.label, n + 1);
  });
  return out;
}

function flatName(rel: string): string {
  return rel.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** RGB in [0, 1], [size, size, 3] → 8-bit PNG bytes. */
function rgbPng(rgb: Float32Array, size: number): Uint8Array {
  const px = new Uint8Array(rgb.length);
  for (let i = 0; i < rgb.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, rgb[i]!)) * 255);
  return encodePng(px, size, size, 3);
}

export async function runTestSet(req: TestSetRequest): Promise<TestSetResult> {
  const { predictor, tests, outDir, warnings } = req;
  let t = performance.now();
  const size = predictor.mapSize;
  const res = req.evalResolution > 0 ? req.evalResolution : size;
  const plane = res * res;
  const n = tests.length;
  const maps = new Float32Array(n * plane);
  const masks = new Uint8Array(n * plane);
  const labels = new Uint8Array(n);
  const scores = new Float64Array(n);
  const keep = sampleIndices(tests, req.samplesPerLabel ?? 2);
  const samples: SampleEntry[] = [];
  const mapsPath = join(outDir, 'maps.amap');
  const writer = await MapPackWriter.create(mapsPath, size, size, { method: req.method, scenario: req.scenario, ...predictor.mapMeta });
  try {
    req.progress('scoring', 0, n);
    for (let start = 0; start < n; start += predictor.batchSize) {
      if (req.signal?.aborted) throw abortError(req.signal);
      const batch = tests.slice(start, start + predictor.batchSize);
      const pred = await predictor.predict(batch.map((b) => b.path));
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        const k = start + i;
        const map = pred.maps.subarray(i * size * size, (i + 1) * size * size);
        const score = pred.scores[i]!;
        await writer.add(item.rel, map, score);
        scores[k] = score;
        maps.set(res === size ? map : resizeBilinear(map, size, size, res, res), k * plane);
        if (item.mask) {
          const m = await readBinaryMask(item.mask);
          let any = 0;
          for (let j = 0; j < m.data.length; j++) any |= m.data[j]!;
          if (!any) warnings.push(`${item.rel} is in a defect folder but its mask is empty: counted as normal`);
          labels[k] = any;
          masks.set(resizeNearest(m.data, m.width, m.height, res, res), k * plane);
        }
        if (pred.extras && keep.has(k)) {
          const images: Record<string, string> = {};
          await mkdir(join(outDir, 'samples'), { recursive: true });
          for (const [name, all] of Object.entries(pred.extras)) {
            const rel = `samples/${flatName(item.rel)}.${name}.png`;
            await writeFileAtomic(join(outDir, rel), rgbPng(all.subarray(i * size * size * 3, (i + 1) * size * size * 3), size));
            images[name] = rel;
          }
          samples.push({ relPath: item.rel, label: item.label, score, images });
        }
      }
      req.progress('scoring', Math.min(n, start + batch.length), n);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  const scoresPath = join(outDir, 'scores.json');
  if (req.curated) {
    await writeFileAtomic(join(outDir, 'labels.json'), JSON.stringify(Object.fromEntries(tests.map((item) => [item.rel, item.label])), null, 1));
    await writeFileAtomic(join(outDir, 'train-images.json'), JSON.stringify(req.trainPaths, null, 1));
  }
  if (samples.length > 0) await writeFileAtomic(join(outDir, 'samples.json'), JSON.stringify(samples, null, 1));
  await writeFileAtomic(scoresPath, JSON.stringify(Object.fromEntries(tests.map((item, k) => [item.rel, scores[k]!])), null, 1));
  const scoreSeconds = (performance.now() - t) / 1000;

  t = performance.now();
  req.progress('metrics', 0, 1);
  const evaluation = evaluate(tests, labels, scores, maps, masks, res, warnings);
  req.progress('metrics', 1, 1);
  return {
    images: tests.map((item, k) => ({ relPath: item.rel, label: item.label, anomalous: labels[k] === 1, score: scores[k]! })),
    evaluation,
    mapSize: size,
    paths: { maps: mapsPath, scores: scoresPath },
    samples,
    seconds: { score: scoreSeconds, metrics: (performance.now() - t) / 1000 },
  };
}

function evaluate(
  tests: readonly TestItem[],
  labels: Uint8Array,
  scores: Float64Array,
  maps: Float32Array,
  masks: Uint8Array,
  res: number,
  warnings: string[],
): Evaluation | null {
  const n = tests.length;
  const normal = labels.reduce((a, b) => a + (b ? 0 : 1), 0);
  if (normal === 0 || normal === n) {
    warnings.push(`metrics undefined: the ${n} test images are all ${normal === 0 ? 'anomalous' : 'normal'}`);
    return null;
  }
  let scopes: MethodScope[];
  try {
    scopes = evaluateScopes({ width: res, height: res, maps, masks, scores, labels, imageLabels: tests.map((t) => t.label) });
  } catch (error) {
    if (error instanceof MetricUndefinedError) {
      warnings.push(error.message);
      return null;
    }
    throw error;
  }
  const perDefect = scopes.slice(1);
  return { resolution: res, overall: scopes[0]!, perDefect, meanOverDefects: meanMetrics(perDefect.map((p) => p.metrics)) };
}
