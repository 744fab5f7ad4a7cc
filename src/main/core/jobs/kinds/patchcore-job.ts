/**
 * The tensor half of the `patchcore` job (see patchcore.ts), run inside the job process only:
 * runs the PatchCore pipeline into the run folder and reports its metrics per scope, which the
 * main process stores as the run's metrics.
 */
import { z } from 'zod';
import { runPatchCore } from '../../methods/patchcore/pipeline';
import { scopeMetrics } from '../../evaluation/store-result';
import type { JobContext } from '../kinds';
import type { JobResult } from '../protocol';
import type { PatchcoreJobConfig } from './patchcore';

const inputSchema = z.object({ datasetRoot: z.string().min(1) });

export async function runPatchcoreJob(config: PatchcoreJobConfig, rawInput: unknown, ctx: JobContext): Promise<JobResult> {
  const { datasetRoot } = inputSchema.parse(rawInput);
  // Embedding and scoring count images in their steps; images/s is over both.
  const imagesDone: Record<string, number> = { embedding: 0, scoring: 0 };
  const result = await runPatchCore(
    {
      datasetRoot,
      scenario: config.scenario,
      preset: config.preset,
      overrides: config.overrides ?? {},
      weights: config.weightsFile ?? 'random',
      outDir: ctx.runDir,
    },
    {
      progress: (phase, step, total) => {
        if (phase in imagesDone) imagesDone[phase] = step;
        ctx.progress({ phase, step, total, images: imagesDone.embedding! + imagesDone.scoring! });
      },
      signal: ctx.signal,
    },
  );
  const evaluation = result.evaluation;
  const metrics = evaluation ? [evaluation.overall, ...evaluation.perDefect].flatMap((scope) => scopeMetrics(config.scenario, scope)) : [];
  return {
    metrics,
    outputs: ['maps.amap', 'scores.json'],
    summary: {
      preset: result.preset,
      config: result.config,
      sources: result.sources,
      weights: result.weights,
      backend: result.backend,
      train: result.train,
      timings: result.timings,
      testImages: result.testImages,
      evaluationResolution: evaluation?.resolution ?? null,
      meanOverDefects: evaluation?.meanOverDefects ?? null,
      warnings: result.warnings,
    },
  };
}
