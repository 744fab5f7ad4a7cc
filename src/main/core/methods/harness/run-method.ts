/**
 * One run of any method, from images to metrics: resolve the config, pick the training images (the
 * curated manifest a job gives, or the scenario folder) and sample them as the preset says, fit or
 * train the method (its own code, through the seam of method.ts), then the shared test loop
 * (test-loop.ts). Returns plain JSON; every tensor is disposed whatever happens, and a cancel
 * (`signal`) stops between batches.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mkdir } from 'node:fs/promises';
import sharp from 'sharp';
import { LabError } from '../../../../shared/errors';
import type { FeatureCache } from '../../engine/feature-cache';
import { abortError } from '../components/coreset';
import { runScenarioDir } from '../../runs/scenario-dir';
import type { JobContext } from '../../jobs/kinds';
import type { MethodConfigBase, MethodDefinition, ProgressFn, ResolvedConfig } from '../method';
import { listTest, listTrain, sample, scenarioDir, type ScenarioManifest, type TestItem } from './scenario-images';
import { runTestSet, type Evaluation, type SampleEntry, type TestImageResult } from './test-loop';

export interface RunMethodOptions {
  datasetRoot: string;
  /** The run's scenario (for a unified run: ignored, `unified` names them). */
  scenario: string;
  /**
   * A unified run (only for a method whose definition says `unified`): one model trained on the
   * training images of every scenario listed (each sampled as the preset says), then tested per
   * scenario into `<outDir>/scenarios/<scenario>/` (runs/scenario-dir.ts). Each entry's manifest as
   * `manifest` below. Absent: the one `scenario`.
   */
  unified?: { scenario: string; manifest?: ScenarioManifest }[];
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

/** One scenario's test results (a run of one scenario has one, a unified run one per scenario). */
export interface ScenarioTestResult {
  scenario: string;
  /** Where its maps.amap, scores.json, … are. */
  outDir: string;
  trainImages: number;
  testImages: number;
  images: TestImageResult[];
  mapSize: number;
  evaluation: Evaluation | null;
  paths: { maps: string; scores: string };
  samples: SampleEntry[];
}

export interface RunMethodResult<C extends MethodConfigBase = MethodConfigBase> {
  method: string;
  /** The scenario; for a unified run its scenarios joined by '+'. The fields from testImages to samples are then empty: see `scenarios`. */
  scenario: string;
  /** Each scenario's test results, in the run's order. */
  scenarios: ScenarioTestResult[];
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

interface ScenarioPlan {
  scenario: string;
  trainAll: string[];
  trainPaths: string[];
  tests: TestItem[];
  curated: boolean;
}

async function planScenario(options: RunMethodOptions, scenario: string, manifest: ScenarioManifest | undefined, config: MethodConfigBase, warnings: string[]): Promise<ScenarioPlan> {
  const dir = manifest ? null : scenarioDir(options.datasetRoot, scenario);
  const trainAll = manifest ? manifest.train : await listTrain(dir!);
  if (trainAll.length === 0) {
    throw new LabError(dir ? `no training images under ${dir}/train/good` : `no training images left in ${scenario} as the workspace curates it`, 'ValidationError');
  }
  const trainPaths = config.trainImages === 'all' ? trainAll : sample(trainAll, config.trainImages, config.seed);
  if (config.trainImages !== 'all' && config.trainImages > trainAll.length) warnings.push(`asked for ${config.trainImages} training images, ${scenario} has ${trainAll.length}: all used`);
  const tests: TestItem[] = manifest ? manifest.test : await listTest(dir!, warnings);
  if (manifest && tests.length === 0) warnings.push(`no test images left in ${scenario} as the workspace curates it`);
  return { scenario, trainAll, trainPaths, tests, curated: manifest !== undefined };
}

/** A unified run's scenarios whose training images differ in size: all are resized to the input size, and the run says so. */
async function sizeWarning(plans: readonly ScenarioPlan[], inputSize: number): Promise<string | null> {
  const sizes = await Promise.all(
    plans.map(async (p) => {
      const m = await sharp(p.trainPaths[0]!)
        .metadata()
        .catch(() => null);
      return m?.width && m.height ? `${p.scenario} ${m.width}×${m.height}` : null;
    }),
  );
  const known = sizes.filter((s): s is string => s !== null);
  const distinct = new Set(known.map((s) => s.slice(s.lastIndexOf(' ') + 1)));
  if (distinct.size <= 1) return null;
  return `the scenarios' images differ in size (${known.join(', ')}): all are resized to ${inputSize}×${inputSize}, the input size, for training and testing`;
}

export async function runMethod<C extends MethodConfigBase>(definition: MethodDefinition<C>, options: RunMethodOptions, ctx: RunMethodContext): Promise<RunMethodResult<C>> {
  const started = performance.now();
  const { config, sources } = definition.resolveConfig(options.preset ?? definition.defaultPreset, options.overrides ?? {});
  const warnings: string[] = [];
  const parts = options.unified ?? [{ scenario: options.scenario, ...(options.manifest ? { manifest: options.manifest } : {}) }];
  if (parts.length === 0) throw new LabError(`${definition.title}: a unified run needs at least one scenario`, 'ValidationError');
  if (parts.length > 1 && !definition.unified) {
    throw new LabError(`${definition.title} trains one scenario per run; only methods made for it (UniAD) train one model over several scenarios`, 'ValidationError');
  }
  const names = parts.map((p) => p.scenario);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) throw new LabError(`scenario ${twice[0]} is listed twice in the run`, 'ValidationError');
  const unified = parts.length > 1;
  const plans: ScenarioPlan[] = [];
  for (const part of parts) plans.push(await planScenario(options, part.scenario, part.manifest, config, warnings));
  if (unified) {
    const note = await sizeWarning(plans, config.inputSize);
    if (note) warnings.push(note);
  }
  const trainPaths = plans.flatMap((p) => p.trainPaths);
  const scenarioLabel = names.join('+');
  const hasBackbone = definition.backboneArch(config) !== null;
  if (!hasBackbone && options.weights !== 'random') {
    throw new LabError(`${definition.title} trains from scratch and reads no pretrained backbone: leave the weights out`, 'ValidationError');
  }
  await mkdir(options.outDir, { recursive: true });
  if (ctx.signal?.aborted) throw abortError(ctx.signal);

  const implementation = await definition.load();
  const fitted = await implementation.fit({
    config,
    scenario: scenarioLabel,
    trainPaths,
    weights: options.weights,
    outDir: options.outDir,
    featureCache: options.featureCache ?? null,
    progress: ctx.progress,
    signal: ctx.signal,
    job: ctx.job,
  });
  try {
    const results: ScenarioTestResult[] = [];
    const seconds = { score: 0, metrics: 0 };
    for (const plan of plans) {
      const outDir = runScenarioDir(options.outDir, names, plan.scenario);
      await mkdir(outDir, { recursive: true });
      const scenarioWarnings: string[] = [];
      const tested = await runTestSet({
        predictor: fitted.predictor,
        tests: plan.tests,
        outDir,
        scenario: plan.scenario,
        method: definition.name,
        evalResolution: config.evalResolution,
        trainPaths: plan.trainPaths,
        curated: plan.curated,
        progress: ctx.progress,
        signal: ctx.signal,
        warnings: scenarioWarnings,
      });
      warnings.push(...(unified ? scenarioWarnings.map((w) => `${plan.scenario}: ${w}`) : scenarioWarnings));
      seconds.score += tested.seconds.score;
      seconds.metrics += tested.seconds.metrics;
      results.push({
        scenario: plan.scenario,
        outDir,
        trainImages: plan.trainPaths.length,
        testImages: plan.tests.length,
        images: tested.images,
        mapSize: tested.mapSize,
        evaluation: tested.evaluation,
        paths: tested.paths,
        samples: tested.samples,
      });
    }
    const trainCache = fitted.featureCache ?? null;
    const testCache = fitted.testFeatureCache ?? null;
    const one = unified ? null : results[0]!;
    return {
      method: definition.name,
      scenario: scenarioLabel,
      scenarios: results,
      datasetRoot: options.datasetRoot,
      preset: config.preset,
      config,
      sources,
      weights: !hasBackbone
        ? { source: 'none', path: null, randomInit: false }
        : { source: options.weights === 'random' ? 'random' : 'file', path: options.weights === 'random' ? null : options.weights, randomInit: options.weights === 'random' },
      backend: tf.getBackend(),
      train: {
        images: trainPaths.length,
        available: plans.reduce((a, p) => a + p.trainAll.length, 0),
        ...(unified ? { perScenario: Object.fromEntries(plans.map((p) => [p.scenario, { images: p.trainPaths.length, available: p.trainAll.length }])) } : {}),
        ...fitted.train,
      },
      timings: { ...fitted.timings, score: seconds.score, metrics: seconds.metrics, total: (performance.now() - started) / 1000 },
      testImages: results.reduce((a, r) => a + r.testImages, 0),
      images: one ? one.images : [],
      mapSize: results[0]!.mapSize,
      evaluation: one ? one.evaluation : null,
      paths: one ? one.paths : { maps: '', scores: '' },
      samples: one ? one.samples : [],
      featureCache: trainCache && testCache ? { train: trainCache, test: testCache } : null,
      warnings: [...fitted.warnings, ...warnings],
    };
  } finally {
    fitted.predictor.dispose();
    fitted.dispose();
  }
}
