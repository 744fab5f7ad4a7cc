/**
 * The tensor half of the `train-check` job (train-check-kind.ts), run inside the job process only.
 *
 * For each of the k folds (folds.ts), the method is fitted on the images of the other folds through
 * its own seam (method.ts: PatchCore's fit builds the memory bank) and its predictor scores the
 * held-out images; an image's score is the maximum of its anomaly map. Every image is held out by
 * exactly one fold, so it is scored exactly once, by a model whose training images exclude it.
 *
 * The speed-up over k independent trainings comes from the frozen-feature cache
 * (engine/feature-cache.ts): fold 1 extracts every image's backbone features once (its bank's
 * images while it builds, its held-out ones while it scores) and the later folds read them all
 * from the cache, so the backbone runs about N times instead of k·N (bench/train-check.ts).
 * A cancel stops between batches; the run then stores nothing (scores are stored only when the
 * whole check is done, by the kind's `finish`).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../shared/errors';
import { FeatureCache } from '../engine/feature-cache';
import type { JobContext } from '../jobs/kinds';
import type { JobResult } from '../jobs/protocol';
import type { ProgressFn } from '../methods/method';
import { abortError } from '../methods/components/coreset';
import { getMethod } from '../methods/registry';
import { assignFolds, foldSplit } from './folds';
import type { CheckResult, TrainCheckConfig } from './train-check-kind';

const inputSchema = z.object({ images: z.array(z.object({ sampleId: z.number().int().positive(), path: z.string().min(1) })).min(1) });

export interface KFoldOptions {
  /** Method name (a one-pass method of the registry). */
  method: string;
  preset?: string | undefined;
  overrides?: Record<string, unknown> | undefined;
  weights: 'random' | string;
  folds: number;
  seed: number;
  featureCache: FeatureCache | null;
  /** Fold folders (temporary stores) go under it. */
  outDir: string;
  signal?: AbortSignal | undefined;
  progress: ProgressFn;
}

export interface KFoldResult {
  /** Per image, in input order. */
  scores: Float64Array;
  fold: Int32Array;
  preset: string;
  backbone: string | null;
  /** Backbone passes the cache saved and those it had to run. */
  featureCache: { hits: number; misses: number } | null;
  seconds: { fit: number; score: number };
}

/** The maximum of one map. */
function maxOf(map: Float32Array, from: number, to: number): number {
  let m = -Infinity;
  for (let i = from; i < to; i++) if (map[i]! > m) m = map[i]!;
  return m;
}

/**
 * Scores each of `paths` with the method fitted on the other folds' images.
 * @param paths training images, in a stable order (the fold split depends on it and on the seed)
 */
export async function kFoldScores(paths: readonly string[], options: KFoldOptions): Promise<KFoldResult> {
  const definition = getMethod(options.method);
  if (definition.training !== 'one-pass') throw new LabError(`a training-set check fits one-pass methods only; ${definition.title} trains by gradient descent`, 'ValidationError');
  const { config } = definition.resolveConfig(options.preset ?? definition.defaultPreset, options.overrides ?? {});
  const k = options.folds;
  const fold = assignFolds(paths.length, k, options.seed);
  const scores = new Float64Array(paths.length).fill(Number.NaN);
  const implementation = await definition.load();
  const counts = { hits: 0, misses: 0 };
  const seconds = { fit: 0, score: 0 };
  let scored = 0;
  for (let f = 0; f < k; f++) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const { heldOut, bank } = foldSplit(fold, f);
    const label = `fold ${f + 1}/${k}`;
    const t0 = performance.now();
    const fitted = await implementation.fit({
      config,
      scenario: label,
      trainPaths: bank.map((i) => paths[i]!),
      weights: options.weights,
      outDir: join(options.outDir, `fold-${f + 1}`),
      featureCache: options.featureCache,
      progress: (phase, step, total, extra) => options.progress(`${label} · ${phase}`, step, total, extra),
      signal: options.signal,
    });
    const t1 = performance.now();
    try {
      const { predictor } = fitted;
      for (let start = 0; start < heldOut.length; start += predictor.batchSize) {
        if (options.signal?.aborted) throw abortError(options.signal);
        const batch = heldOut.slice(start, start + predictor.batchSize);
        const { maps } = await predictor.predict(batch.map((i) => paths[i]!));
        const cells = predictor.mapSize * predictor.mapSize;
        batch.forEach((i, b) => (scores[i] = maxOf(maps, b * cells, (b + 1) * cells)));
        scored += batch.length;
        options.progress('scoring', scored, paths.length, { images: scored });
      }
      counts.hits += (fitted.featureCache?.hits ?? 0) + (fitted.testFeatureCache?.hits ?? 0);
      counts.misses += (fitted.featureCache?.misses ?? 0) + (fitted.testFeatureCache?.misses ?? 0);
    } finally {
      fitted.predictor.dispose();
      fitted.dispose();
    }
    seconds.fit += (t1 - t0) / 1000;
    seconds.score += (performance.now() - t1) / 1000;
  }
  const missing = scores.findIndex((s) => !Number.isFinite(s));
  if (missing >= 0) throw new LabError(`image ${paths[missing]} got no finite score (${scores[missing]})`);
  return { scores, fold, preset: config.preset, backbone: definition.backboneArch(config), featureCache: options.featureCache ? counts : null, seconds };
}

export async function runTrainCheck(config: TrainCheckConfig, rawInput: unknown, ctx: JobContext): Promise<JobResult> {
  const { images } = inputSchema.parse(rawInput);
  let cacheError: string | null = null;
  const featureCache = config.featureCache
    ? await FeatureCache.open(FeatureCache.workspaceDir(ctx.workspaceDir)).catch((error: unknown) => {
        cacheError = `the feature cache could not be opened, features were computed for every fold: ${error instanceof Error ? error.message : String(error)}`;
        return null;
      })
    : null;
  const weights = config.weightsFile ?? 'random';
  const started = performance.now();
  let result: KFoldResult;
  try {
    result = await kFoldScores(
      images.map((i) => i.path),
      {
        method: config.method,
        preset: config.preset,
        overrides: config.overrides,
        weights,
        folds: config.folds,
        seed: config.seed,
        featureCache,
        outDir: ctx.runDir,
        signal: ctx.signal,
        progress: (phase, step, total, extra) => ctx.progress({ phase, step, total, ...(extra?.images !== undefined ? { images: extra.images } : {}), ...(extra?.message ? { message: extra.message } : {}) }),
      },
    );
  } finally {
    await featureCache?.close();
  }
  const check: CheckResult = {
    folds: config.folds,
    method: config.method,
    preset: result.preset,
    backbone: result.backbone,
    weights,
    scores: images.map((im, i) => ({ sampleId: im.sampleId, fold: result.fold[i]!, score: result.scores[i]! })),
  };
  return {
    summary: {
      check,
      featureCache: result.featureCache,
      timings: { ...result.seconds, total: (performance.now() - started) / 1000 },
      warnings: cacheError ? [cacheError] : [],
    },
  };
}
