/**
 * One run of any method, from images to metrics: resolve the config, pick the training images (the
 * curated manifest a job gives, or the scenario folder) and sample them as the preset says, fit or
 * train the method (its own code, through the seam of method.ts), then the shared test loop
 * (test-loop.ts). Returns plain JSON; every tensor is disposed whatever happens, and a cancel
 * (`signal`) stops between batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir } from 'node:fs/promises';
import { LabError } from '../../../../shared/errors';
import type { FeatureCache } from '../../engine/feature-cache';
import { abortError } from '../components/coreset';
import type { JobContext } from '../../jobs/kinds';
import type { MethodConfigBase, MethodDefinition, ProgressFn, ResolvedConfig } from '../method';
import { listTest, listTrain, sample, scenarioDir, type ScenarioManifest, type TestItem } from './scenario-images';
import { runTestSet, type Evaluation, type SampleEntry, type TestImageResult } from './test-loop';

export interface RunMethodOptions {
  datasetRoot: string;
  scenario: string;
  /** The method's default preset when absent. */
  preset?: string;
  /** Partial config, validated by the method's overrides schema. */
  overrides?: unknown;
  /** 'random' (seeded init; not meaningful as pretrained results) or a `.safetensors` path of the backbone. */
  weights: 'random' | string;
  /** Created if missing; receives maps.amap, scores.json and the method's own files. */
  outDir: string;
  /** The workspace's frozen-feature cache (engine/feature-cache.ts); absent: no caching. */
  featureCache?: FeatureCache | null;
  /**
   * The images to use, as the workspace curates them (manifest.ts): when given, nothing is listed
   * from the dataset folders. Absent: `<root>/<scenario>/train/good` and `test/*`.
   */
  manifest?: ScenarioManifest;
}

export interface RunMethodContext {
  progress: ProgressFn;
  signal?: AbortSignal;
  /** Checkpoints, resume state and series when the run is a job. */
  job?: JobContext;
}

export interface RunMethodResult<C extends MethodConfigBase = MethodConfigBase> {
  method: string;
  scenario: string;
  datasetRoot: string;
  preset: string;
  config: C;
  sources: ResolvedConfig<C>['sources'];
  weights: { source: 'random' | 'file' | 'none'; path: string | null; randomInit: boolean };
  backend: string;
  train: Record<string, unknown>;
  /** Seconds per phase, `total` included. */
  timings: Record<string, number>;
  testImages: number;
  images: TestImageResult[];
  mapSize: number;
  evaluation: Evaluation | null;
  paths: { maps: string; scores: string };
  samples: SampleEntry[];
  /** Frozen-feature cache hits and misses (images) of training and scoring; null when no cache was used. */
  featureCache: { train: { hits: number; misses: number }; test: { hits: number; misses: number } } | null;
  warnings: string[];
}

export async function runMethod<C extends MethodConfigBase>(definition: MethodDefinition<C>, options: RunMethodOptions, ctx: RunMethodContext): Promise<RunMethodResult<C>> {
  const started = performance.now();
  const { config, sources } = definition.resolveConfig(options.preset ?? definition.defaultPreset, options.overrides ?? {});
  const warnings: string[] = [];
  const manifest = options.manifest;
  const dir = manifest ? null : scenarioDir(options.datasetRoot, options.scenario);
  const trainAll = manifest ? manifest.train : await listTrain(dir!);
  if (trainAll.length === 0) {
    throw new LabError(dir ? `no training images under ${dir}/train/good` : `no training images left in ${options.scenario} as the workspace curates it`, 'ValidationError');
  }
  const trainPaths = config.trainImages === 'all' ? trainAll : sample(trainAll, config.trainImages, config.seed);
  if (config.trainImages !== 'all' && config.trainImages > trainAll.length) warnings.push(`asked for ${config.trainImages} training images, the scenario has ${trainAll.length}: all used`);
  const tests: TestItem[] = manifest ? manifest.test : await listTest(dir!, warnings);
  if (manifest && tests.length === 0) warnings.push(`no test images left in ${options.scenario} as the workspace curates it`);
  const hasBackbone = definition.backboneArch(config) !== null;
  if (!hasBackbone && options.weights !== 'random') {
    throw new LabError(`${definition.title} trains from scratch and reads no pretrained backbone: leave the weights out`, 'ValidationError');
  }
  await mkdir(options.outDir, { recursive: true });
  if (ctx.signal?.aborted) throw abortError(ctx.signal);

  const implementation = await definition.load();
  const fitted = await implementation.fit({
    config,
    scenario: options.scenario,
    trainPaths,
    weights: options.weights,
    outDir: options.outDir,
    featureCache: options.featureCache ?? null,
    progress: ctx.progress,
    signal: ctx.signal,
    job: ctx.job,
  });
  try {
    const tested = await runTestSet({
      predictor: fitted.predictor,
      tests,
      outDir: options.outDir,
      scenario: options.scenario,
      method: definition.name,
      evalResolution: config.evalResolution,
      trainPaths,
      curated: manifest !== undefined,
      progress: ctx.progress,
      signal: ctx.signal,
      warnings,
    });
    const trainCache = fitted.featureCache ?? null;
    const testCache = fitted.testFeatureCache ?? null;
    return {
      method: definition.name,
      scenario: options.scenario,
      datasetRoot: options.datasetRoot,
      preset: config.preset,
      config,
      sources,
      weights: !hasBackbone
        ? { source: 'none', path: null, randomInit: false }
        : { source: options.weights === 'random' ? 'random' : 'file', path: options.weights === 'random' ? null : options.weights, randomInit: options.weights === 'random' },
      backend: tf.getBackend(),
      train: { images: trainPaths.length, available: trainAll.length, ...fitted.train },
      timings: { ...fitted.timings, score: tested.seconds.score, metrics: tested.seconds.metrics, total: (performance.now() - started) / 1000 },
      testImages: tests.length,
      images: tested.images,
      mapSize: tested.mapSize,
      evaluation: tested.evaluation,
      paths: tested.paths,
      samples: tested.samples,
      featureCache: trainCache && testCache ? { train: trainCache, test: testCache } : null,
      warnings: [...fitted.warnings, ...warnings],
    };
  } finally {
    fitted.predictor.dispose();
    fitted.dispose();
  }
}
