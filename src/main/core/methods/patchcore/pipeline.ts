/**
 * The PatchCore pipeline a job runs: train on `<root>/<scenario>/train/good` (or the workspace's
 * curated manifest, when the job gives one), score every test image, write the maps (`maps.amap`,
 * docs/anomaly-maps.md), image scores (`scores.json`, the format `miad-lab evaluate` reads), with a
 * manifest also their labels (`labels.json`) and the training images used (`train-images.json`),
 * and compute every metric of DESIGN §8 in memory with the evaluation module (overall, per defect
 * type, mean over defect types), curves included. Returns plain JSON.
 *
 * Conventions: an image is anomalous when its mask has a pixel > 0 (as evaluatePredictions); masks
 * are resized nearest and maps bilinear to the evaluation resolution, which by default is the input
 * size (anomalib evaluates PatchCore at its input size). `signal` is checked between batches and
 * during the coreset; every tensor is disposed whatever happens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { LabError } from '../../../../shared/errors';
import { writeFileAtomic } from '../../fs-util';
import { mulberry32 } from '../../engine/random';
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
import { loadImageRgb, loadMask } from '../components/images';
import { MemoryBank } from '../components/nearest-neighbour';
import type { ExtractionCounts, WeightsSource } from '../components/feature-extractor';
import type { FeatureCache } from '../../engine/feature-cache';
import { anomalyMap } from './anomaly-map';
import { resolvePatchCoreConfig, type PatchCoreConfig, type ResolvedPatchCoreConfig } from './config';
import { PatchCoreModel } from './model';
import { scoreEmbedding } from './score';
import { embedFiles, trainMemoryBank, type MemoryBankResult } from './train';
import { assertWasmHeadroom } from '../../engine/wasm-heap';

export interface RunPatchCoreOptions {
  datasetRoot: string;
  scenario: string;
  /** 'full' (default), 'paper' or 'fast'. */
  preset?: string;
  /** Partial config, validated (config.ts `patchCoreOverridesSchema`). */
  overrides?: unknown;
  /** 'random' (seeded torchvision init; results are not meaningful as pretrained ones) or a `.safetensors` path. */
  weights: WeightsSource;
  /** Created if missing; receives maps.amap and scores.json. */
  outDir: string;
  /** The workspace's frozen-feature cache (engine/feature-cache.ts); absent: no caching. */
  featureCache?: FeatureCache | null;
  /**
   * The images to use, as the workspace curates them (jobs/kinds/patchcore-manifest.ts): when given,
   * nothing is listed from the dataset folders. Absent: `<root>/<scenario>/train/good` and `test/*`.
   */
  manifest?: PatchCoreManifest;
}

/** A scenario's images as a workspace curates them (issue 4): labels and masks as edited there. */
export interface PatchCoreManifest {
  /** Training images, absolute paths (already without those flagged out of training). */
  train: string[];
  /**
   * Test images: `rel` is the key in maps.amap and scores.json (relative to the scenario folder),
   * `label` is 'good' or the defect type, `mask` the absolute path of the mask to use (null: good).
   */
  test: { rel: string; path: string; label: string; mask: string | null }[];
}

export interface RunPatchCoreContext {
  progress(phase: string, step: number, total: number): void;
  signal?: AbortSignal;
}

/** One scope of the evaluation (overall, or a defect type against all normal images), curves included. */
export type PatchCoreScope = EvaluationScope;

export interface PatchCoreImage {
  /** Relative to the scenario folder, e.g. `test/crack/000.png`. */
  relPath: string;
  label: string;
  anomalous: boolean;
  score: number;
}

export interface RunPatchCoreResult {
  method: 'patchcore';
  scenario: string;
  datasetRoot: string;
  preset: string;
  config: PatchCoreConfig;
  sources: ResolvedPatchCoreConfig['sources'];
  weights: { source: 'random' | 'file'; path: string | null; randomInit: boolean };
  backend: string;
  train: {
    images: number;
    available: number;
    patches: number;
    grid: { h: number; w: number };
    memoryBankRows: number;
    projectionDims: number;
    /** Where the memory bank lived while scoring (MemoryBank.residence). */
    bankResidence: 'device' | 'host';
    featureStore: { where: 'memory' | 'file'; bytes: number };
    peakRssBytes: number;
  };
  /** Seconds. */
  timings: { model: number; embed: number; coreset: number; gather: number; score: number; metrics: number; total: number };
  testImages: number;
  images: PatchCoreImage[];
  mapSize: number;
  evaluation: { resolution: number; overall: PatchCoreScope; perDefect: PatchCoreScope[]; meanOverDefects: MetricSet } | null;
  paths: { maps: string; scores: string };
  /** Frozen-feature cache hits and misses (images) of training and scoring; null when no cache was used. */
  featureCache: { train: ExtractionCounts; test: ExtractionCounts } | null;
  warnings: string[];
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff']);

async function listImages(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => null);
  if (!names) return [];
  return names.filter((n) => IMAGE_EXTENSIONS.has(extname(n).toLowerCase())).sort();
}

/** `<root>/<scenario>`, or the nested `<root>/<scenario>/<scenario>` some copies of MIAD have. */
function scenarioDir(root: string, scenario: string): string {
  const direct = join(root, scenario);
  if (existsSync(join(direct, 'train')) || existsSync(join(direct, 'test'))) return direct;
  const nested = join(direct, scenario);
  if (existsSync(join(nested, 'train')) || existsSync(join(nested, 'test'))) return nested;
  throw new LabError(`no scenario folder ${scenario} (with train/ or test/) under ${root}`, 'ValidationError');
}

/** A seeded sample of `n` of `items`, kept in their original order. */
function sample<T>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  const idx = Array.from({ length: items.length }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx
    .slice(0, n)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

interface TestItem {
  rel: string;
  path: string;
  label: string;
  mask: string | null;
}

async function listTest(dir: string, warnings: string[]): Promise<TestItem[]> {
  const labels = ((await readdir(join(dir, 'test'), { withFileTypes: true }).catch(() => [])) as { name: string; isDirectory(): boolean }[])
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const out: TestItem[] = [];
  const missing: string[] = [];
  for (const label of labels) {
    for (const name of await listImages(join(dir, 'test', label))) {
      const stem = name.slice(0, name.length - extname(name).length);
      let mask: string | null = null;
      if (label !== 'good') {
        const candidates = [`${stem}_mask.png`, `${stem}_mask${extname(name)}`, `${stem}.png`].map((m) => join(dir, 'ground_truth', label, m));
        mask = candidates.find((c) => existsSync(c)) ?? null;
        if (!mask) missing.push(`test/${label}/${name}`);
      }
      out.push({ rel: `test/${label}/${name}`, path: join(dir, 'test', label, name), label, mask });
    }
  }
  if (missing.length) throw new LabError(`no ground-truth mask for ${missing.length} test image(s): ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''}`, 'ValidationError');
  if (out.length === 0) warnings.push(`no test images under ${join(dir, 'test')}`);
  return out;
}

export async function runPatchCore(options: RunPatchCoreOptions, ctx: RunPatchCoreContext): Promise<RunPatchCoreResult> {
  const started = performance.now();
  const seconds = (from: number) => (performance.now() - from) / 1000;
  const { config, sources } = resolvePatchCoreConfig(options.preset ?? 'full', options.overrides ?? {});
  const warnings: string[] = [];
  const manifest = options.manifest;
  const dir = manifest ? null : scenarioDir(options.datasetRoot, options.scenario);
  const trainAll = manifest ? manifest.train : (await listImages(join(dir!, 'train', 'good'))).map((n) => join(dir!, 'train', 'good', n));
  if (trainAll.length === 0) {
    throw new LabError(dir ? `no training images under ${join(dir, 'train', 'good')}` : `no training images left in ${options.scenario} as the workspace curates it`, 'ValidationError');
  }
  const trainPaths = config.trainImages === 'all' ? trainAll : sample(trainAll, config.trainImages, config.seed);
  if (config.trainImages !== 'all' && config.trainImages > trainAll.length) warnings.push(`asked for ${config.trainImages} training images, the scenario has ${trainAll.length}: all used`);
  const tests: TestItem[] = manifest ? manifest.test : await listTest(dir!, warnings);
  if (manifest && tests.length === 0) warnings.push(`no test images left in ${options.scenario} as the workspace curates it`);
  await mkdir(options.outDir, { recursive: true });
  if (ctx.signal?.aborted) throw abortError(ctx.signal);

  let t = performance.now();
  ctx.progress('loading weights', 0, 1);
  const model = await PatchCoreModel.create(config, options.weights);
  const modelSeconds = seconds(t);
  let bank: MemoryBank | null = null;
  let writer: MapPackWriter | null = null;
  try {
    const trained: MemoryBankResult = await trainMemoryBank(model, trainPaths, config, ctx, { loadImage: loadImageRgb, tmpDir: options.outDir || tmpdir(), featureCache: options.featureCache ?? null });
    bank = new MemoryBank(trained.bank, trained.width);
    trained.bank = new Float32Array(0); // the bank holds it now (as tensors, or as the host array itself)

    t = performance.now();
    const size = config.inputSize;
    const res = config.evalResolution > 0 ? config.evalResolution : size;
    const plane = res * res;
    const n = tests.length;
    const maps = new Float32Array(n * plane);
    const masks = new Uint8Array(n * plane);
    const labels = new Uint8Array(n);
    const scores = new Float64Array(n);
    const mapsPath = join(options.outDir, 'maps.amap');
    const testCache: ExtractionCounts = { hits: 0, misses: 0 };
    writer = await MapPackWriter.create(mapsPath, size, size, { method: 'patchcore', scenario: options.scenario, preset: config.preset, inputSize: size, sigma: config.sigma });
    ctx.progress('scoring', 0, n);
    for (let start = 0; start < n; start += config.batchSize) {
      if (ctx.signal?.aborted) throw abortError(ctx.signal);
      const batch = tests.slice(start, start + config.batchSize);
      const emb: tf.Tensor4D = await embedFiles(model, batch.map((b) => b.path), size, { loadImage: loadImageRgb, featureCache: options.featureCache ?? null }, testCache);
      assertWasmHeadroom('PatchCore scoring');
      let scored: Awaited<ReturnType<typeof scoreEmbedding>>;
      try {
        scored = await scoreEmbedding(emb, bank, config.numNeighbors);
      } finally {
        emb.dispose();
      }
      const cells = scored.h * scored.w;
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!;
        const k = start + i;
        const map = anomalyMap(scored.patchScores.subarray(i * cells, (i + 1) * cells), scored.h, scored.w, size, config.sigma);
        const score = scored.imageScores[i]!;
        await writer.add(item.rel, map, score);
        scores[k] = score;
        maps.set(res === size ? map : resizeBilinear(map, size, size, res, res), k * plane);
        if (item.mask) {
          const m = await loadMask(item.mask);
          let any = 0;
          for (let j = 0; j < m.data.length; j++) any |= m.data[j]!;
          if (!any) warnings.push(`${item.rel} is in a defect folder but its mask is empty: counted as normal`);
          labels[k] = any;
          masks.set(resizeNearest(m.data, m.width, m.height, res, res), k * plane);
        }
      }
      ctx.progress('scoring', Math.min(n, start + batch.length), n);
    }
    await writer.close();
    writer = null;
    const scoresPath = join(options.outDir, 'scores.json');
    if (manifest) {
      // Labels beside the scores (with curated labels a key's folder no longer says its label), and
      // the training images used, as the curation left them.
      await writeFileAtomic(join(options.outDir, 'labels.json'), JSON.stringify(Object.fromEntries(tests.map((item) => [item.rel, item.label])), null, 1));
      await writeFileAtomic(join(options.outDir, 'train-images.json'), JSON.stringify(trainPaths, null, 1));
    }
    await writeFileAtomic(scoresPath, JSON.stringify(Object.fromEntries(tests.map((item, k) => [item.rel, scores[k]!])), null, 1));
    const scoreSeconds = seconds(t);

    t = performance.now();
    ctx.progress('metrics', 0, 1);
    const evaluation = evaluate(tests, labels, scores, maps, masks, res, warnings);
    ctx.progress('metrics', 1, 1);
    const metricsSeconds = seconds(t);

    return {
      method: 'patchcore',
      scenario: options.scenario,
      datasetRoot: options.datasetRoot,
      preset: config.preset,
      config,
      sources,
      weights: { source: options.weights === 'random' ? 'random' : 'file', path: options.weights === 'random' ? null : options.weights, randomInit: options.weights === 'random' },
      backend: tf.getBackend(),
      train: {
        images: trainPaths.length,
        available: trainAll.length,
        patches: trained.patches,
        grid: trained.grid,
        memoryBankRows: trained.rows,
        projectionDims: trained.projectionDims,
        bankResidence: bank.residence,
        featureStore: trained.store,
        peakRssBytes: trained.peakRssBytes,
      },
      timings: {
        model: modelSeconds,
        embed: trained.seconds.embed,
        coreset: trained.seconds.coreset,
        gather: trained.seconds.gather,
        score: scoreSeconds,
        metrics: metricsSeconds,
        total: seconds(started),
      },
      testImages: n,
      images: tests.map((item, k) => ({ relPath: item.rel, label: item.label, anomalous: labels[k] === 1, score: scores[k]! })),
      mapSize: size,
      evaluation,
      paths: { maps: mapsPath, scores: scoresPath },
      featureCache: trained.featureCache ? { train: trained.featureCache, test: testCache } : null,
      warnings,
    };
  } finally {
    if (writer) await writer.abort();
    bank?.dispose();
    model.dispose();
  }
}

function evaluate(
  tests: TestItem[],
  labels: Uint8Array,
  scores: Float64Array,
  maps: Float32Array,
  masks: Uint8Array,
  res: number,
  warnings: string[],
): RunPatchCoreResult['evaluation'] {
  const n = tests.length;
  const normal = labels.reduce((a, b) => a + (b ? 0 : 1), 0);
  if (normal === 0 || normal === n) {
    warnings.push(`metrics undefined: the ${n} test images are all ${normal === 0 ? 'anomalous' : 'normal'}`);
    return null;
  }
  let scopes: PatchCoreScope[];
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
