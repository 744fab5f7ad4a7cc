/**
 * The tensor half of the method job (method-job.ts), run inside the job process only: runs the
 * method through the harness (run-method.ts) into the run folder and reports its metrics per
 * scope, which the main process stores as the run's metrics. Backbone features go through the
 * workspace's frozen-feature cache (engine/feature-cache.ts) unless the config turns it off; the
 * result summary records its hits and misses. Images come from the curated manifest prepare built
 * (what it left out goes into the summary), and the page's curves go back with the result.
 */
import { z } from 'zod';
import { FeatureCache } from '../../engine/feature-cache';
import { pageCurves, scopeMetrics } from '../../evaluation/store-result';
import type { JobContext } from '../../jobs/kinds';
import type { JobResult } from '../../jobs/protocol';
import type { AnyMethodDefinition } from '../method';
import type { MethodJobConfig } from './method-job';
import { runMethod } from './run-method';

const leftOutSchema = z.object({
  sampleId: z.number().int(),
  split: z.enum(['train', 'test']),
  relPath: z.string(),
  reason: z.enum(['excluded-from-training', 'anomalous-in-train', 'rejected', 'no-mask']),
});
const manifestSchema = z.object({
  train: z.array(z.string().min(1)),
  test: z.array(z.object({ rel: z.string().min(1), path: z.string().min(1), label: z.string().min(1), mask: z.string().min(1).nullable() })),
});
const inputSchema = z.object({
  datasetRoot: z.string().min(1),
  // Absent in inputs prepared before runs read the curated dataset: the harness lists the folders.
  manifest: manifestSchema.optional(),
  leftOut: z.array(leftOutSchema).default([]),
  editedMasks: z.number().int().nonnegative().default(0),
  // A unified run (method-job.ts): each scenario's curated manifest.
  unified: z
    .array(z.object({ scenario: z.string().min(1), manifest: manifestSchema, leftOut: z.array(leftOutSchema).default([]), editedMasks: z.number().int().nonnegative().default(0) }))
    .min(2)
    .optional(),
});

/** Phases whose `step` counts images, for images/s. */
const IMAGE_PHASES = new Set(['embedding', 'scoring']);

export async function runMethodJob(definition: AnyMethodDefinition, config: MethodJobConfig, rawInput: unknown, ctx: JobContext): Promise<JobResult> {
  const { datasetRoot, manifest, leftOut, editedMasks, unified } = inputSchema.parse(rawInput);
  const scenario = config.scenario ?? config.scenarios?.[0] ?? '';
  const imagesDone: Record<string, number> = {};
  // The cache saves time only: a workspace where it cannot be opened runs without it, and says so.
  let featureCacheError: string | null = null;
  const featureCache =
    config.featureCache === false
      ? null
      : await FeatureCache.open(FeatureCache.workspaceDir(ctx.workspaceDir)).catch((error: unknown) => {
          featureCacheError = `the feature cache could not be opened, features were computed without it: ${error instanceof Error ? error.message : String(error)}`;
          return null;
        });
  const result = await runMethod(
    definition,
    {
      datasetRoot,
      scenario,
      ...(unified ? { unified: unified.map((u) => ({ scenario: u.scenario, manifest: u.manifest })) } : {}),
      preset: config.preset,
      overrides: config.overrides ?? {},
      weights: config.weightsFile ?? 'random',
      outDir: ctx.runDir,
      featureCache,
      ...(manifest ? { manifest } : {}),
    },
    {
      progress: (phase, step, total, extra) => {
        if (IMAGE_PHASES.has(phase)) imagesDone[phase] = step;
        // Training reports the images it has seen itself (extra.images); other phases count steps.
        const images = extra?.images ?? Object.values(imagesDone).reduce((a, b) => a + b, 0);
        ctx.progress({ phase, step, total, images, ...(extra?.loss !== undefined ? { loss: extra.loss } : {}), ...(extra?.message ? { message: extra.message } : {}) });
      },
      signal: ctx.signal,
      job: ctx,
    },
  ).finally(() => featureCache?.close());
  // Each scenario's scopes: a run of one scenario has one entry, a unified run one per scenario.
  const perScenario = result.scenarios.map((r) => {
    const evaluation = r.evaluation;
    const scopes = evaluation ? [evaluation.overall, ...evaluation.perDefect] : [];
    const u = unified?.find((x) => x.scenario === r.scenario);
    const curatedBy = unified ? (u ? { leftOut: u.leftOut, editedMasks: u.editedMasks } : null) : manifest ? { leftOut, editedMasks } : null;
    return { r, evaluation, scopes, curatedBy };
  });
  const metrics = perScenario.flatMap(({ r, scopes }) => scopes.flatMap((scope) => scopeMetrics(r.scenario, scope)));
  const curatedOutputs = manifest || unified ? ['labels.json', 'train-images.json'] : [];
  const outputs = perScenario.flatMap(({ r }) => {
    const prefix = unified ? `scenarios/${r.scenario}/` : '';
    return ['maps.amap', 'scores.json', ...curatedOutputs, ...(r.samples.length > 0 ? ['samples.json'] : [])].map((f) => prefix + f);
  });
  if (typeof result.train['modelFile'] === 'string') outputs.push(result.train['modelFile']);
  const curation = (c: { leftOut: typeof leftOut; editedMasks: number } | null) =>
    c
      ? {
          trainExcluded: c.leftOut.filter((l) => l.split === 'train'),
          testLeftOut: c.leftOut.filter((l) => l.split === 'test'),
          editedMasks: c.editedMasks,
        }
      : null;
  const scopeFacts = (scopes: (typeof perScenario)[number]['scopes']) => scopes.map((s) => ({ defect: s.defect, images: s.images, pixels: s.pixels, regions: s.regions }));
  const first = perScenario[0]!;
  return {
    metrics,
    outputs,
    // The curves the run page draws, from the float32 maps in memory: stored when the run is done.
    curves: perScenario.flatMap(({ r, scopes }) => pageCurves(r.scenario, scopes)),
    summary: {
      preset: result.preset,
      config: result.config,
      sources: result.sources,
      weights: result.weights,
      backend: result.backend,
      train: result.train,
      timings: result.timings,
      testImages: result.testImages,
      evaluationResolution: first.evaluation?.resolution ?? null,
      meanOverDefects: unified ? null : (first.evaluation?.meanOverDefects ?? null),
      featureCache: result.featureCache && featureCache ? { ...result.featureCache, writeFailures: featureCache.session.writeFailures, lastWriteError: featureCache.session.lastWriteError } : null,
      // What the curated dataset left out (issue 4): flagged or anomalous training images, rejected
      // samples, anomalous test images without a mask; and how many test masks were edited ones.
      curation: unified ? null : curation(first.curatedBy),
      scopes: unified ? [] : scopeFacts(first.scopes),
      samples: result.samples,
      // A unified run (one model over several scenarios): each scenario's facts, files under scenarios/<name>/.
      ...(unified
        ? {
            unified: perScenario.map(({ r, evaluation, scopes, curatedBy }) => ({
              scenario: r.scenario,
              trainImages: r.trainImages,
              testImages: r.testImages,
              meanOverDefects: evaluation?.meanOverDefects ?? null,
              curation: curation(curatedBy),
              scopes: scopeFacts(scopes),
              samples: r.samples,
            })),
          }
        : {}),
      warnings: featureCacheError ? [...result.warnings, featureCacheError] : result.warnings,
    },
  };
}
