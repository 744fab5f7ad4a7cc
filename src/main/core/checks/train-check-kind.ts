/**
 * The `train-check` job kind (issue 19, item 2): "Check the training set" of one scenario. Each
 * training image is scored by a model that never saw it: the images are split into k folds
 * (folds.ts), and for each fold a one-pass method (PatchCore by default) is fitted on the other
 * folds' images and scores the held-out ones (image score: the maximum of its anomaly map). A
 * contaminated image, one that shows a defect, then stands out at the top of the ranking.
 *
 * This file is the main-process half: the config schema, `prepare` (the scenario's training images
 * as the workspace curates them, the same list runs train on: harness/manifest.ts), and `finish`,
 * which stores the scores (store/checks-repo.ts) in the transaction that marks the run done, so a
 * check that is cancelled, fails or is killed stores nothing. The tensor half is train-check-job.ts.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../shared/errors';
import { findScenarioDir } from '../datasets/layout';
import { defineKind } from '../jobs/kinds';
import { curatedManifest } from '../methods/harness/manifest';
import { METHODS, getMethod } from '../methods/registry';
import { AnnotationRepo } from '../store/annotation-repo';
import { insertTrainCheck } from '../store/checks-repo';

/** Methods a check can use: those fitted in one pass (k fits cost k passes of no gradient training). */
export const CHECK_METHODS = METHODS.filter((m) => m.training === 'one-pass').map((m) => m.name) as [string, ...string[]];
export const CHECK_FOLDS_MAX = 100;

export const trainCheckConfigSchema = z
  .object({
    datasetId: z.number().int().positive(),
    scenario: z.string().min(1).max(200),
    folds: z.number().int().min(2).max(CHECK_FOLDS_MAX).default(5),
    method: z.enum(CHECK_METHODS).default('patchcore'),
    /** The method's preset; its default when absent. A preset's `trainImages` is ignored: each fold's bank takes every other fold's image. */
    preset: z.string().min(1).max(100).optional(),
    overrides: z.record(z.string(), z.unknown()).optional(),
    /** A `.safetensors` file of the backbone; seeded random weights when absent. */
    weightsFile: z.string().min(1).max(4096).optional(),
    /** Use the workspace's frozen-feature cache (default true): features are then extracted once for all folds. */
    featureCache: z.boolean().default(true),
    /** Seed of the fold split. */
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  })
  .strict();

export type TrainCheckConfig = z.output<typeof trainCheckConfigSchema>;

export interface TrainCheckImage {
  sampleId: number;
  path: string;
}

export interface TrainCheckInput {
  images: TrainCheckImage[];
}

/** What the job reports in its result summary (`check`): one score per image, in input order. */
export const checkResultSchema = z.object({
  folds: z.number().int().min(2),
  method: z.string().min(1),
  preset: z.string().min(1),
  backbone: z.string().nullable(),
  weights: z.string().min(1),
  scores: z.array(z.object({ sampleId: z.number().int().positive(), fold: z.number().int().nonnegative(), score: z.number().finite() }).strict()).min(1),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

export const trainCheckKind = defineKind<TrainCheckConfig>({
  name: 'train-check',
  summary: 'check the training set: score each training image with a k-fold model that never saw it',
  schema: trainCheckConfigSchema as unknown as z.ZodType<TrainCheckConfig>,
  tensors: true,
  prepare(config, { store, workspaceDir }) {
    const dataset = store.getDataset(config.datasetId);
    if (!dataset.scenarios.includes(config.scenario)) {
      throw new LabError(`dataset ${dataset.name} has no scenario ${JSON.stringify(config.scenario)} (scenarios: ${dataset.scenarios.join(', ') || 'none'})`, 'ValidationError');
    }
    const definition = getMethod(config.method);
    const { config: resolved } = definition.resolveConfig(config.preset ?? definition.defaultPreset, config.overrides ?? {});
    if (definition.backboneArch(resolved) === null && config.weightsFile !== undefined) {
      throw new LabError(`${definition.title} reads no pretrained backbone: leave weightsFile out`, 'ValidationError');
    }
    // The training images as runs read them: flagged, rejected and anomalous-labelled ones are already out.
    const rows = new AnnotationRepo(store).exportRows(config.scenario).filter((r) => r.dataset_id === dataset.id);
    const scenarioDir = findScenarioDir(dataset.root, config.scenario) ?? join(dataset.root, config.scenario);
    const { manifest } = curatedManifest(rows, { datasetId: dataset.id, scenarioDir, workspaceDir });
    const idOf = new Map(rows.filter((r) => r.split === 'train').map((r) => [join(r.root, r.rel_path), r.id]));
    const images = manifest.train.map((path) => ({ sampleId: idOf.get(path)!, path }));
    if (images.length === 0) {
      const all = rows.filter((r) => r.split === 'train').length;
      throw new LabError(
        all === 0
          ? `scenario ${config.scenario} of dataset ${dataset.name} has no training images: there is nothing to check`
          : `scenario ${config.scenario} of dataset ${dataset.name} has no training image left to check: all ${all} are flagged out of training, rejected or labelled anomalous`,
        'ValidationError',
      );
    }
    if (config.folds > images.length) {
      throw new LabError(`${config.folds} folds need at least ${config.folds} training images; scenario ${config.scenario} has ${images.length}`, 'ValidationError');
    }
    const input: TrainCheckInput = { images };
    const arch = definition.backboneArch(resolved);
    return {
      // The run is a check, not a model of the method: the runs table says so (the method is in its config).
      method: 'train-check',
      scenarios: [config.scenario],
      datasetId: dataset.id,
      datasetRoot: dataset.root,
      weights: arch === null ? null : (config.weightsFile ?? 'random'),
      randomInit: arch !== null && config.weightsFile === undefined,
      input,
    };
  },
  finish(runId, result, { store }) {
    const parsed = checkResultSchema.safeParse(result.summary?.['check']);
    if (!parsed.success) throw new LabError(`the check's result has no valid scores: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
    const run = store.connection.prepare('SELECT dataset_id, scenarios FROM runs WHERE id = ?').get(runId) as { dataset_id: number; scenarios: string } | undefined;
    if (!run) throw new LabError(`run ${runId} is gone`);
    const scenario = (JSON.parse(run.scenarios) as string[])[0]!;
    insertTrainCheck(store, { runId, datasetId: run.dataset_id, scenario, ...parsed.data });
  },
  load: async () => (await import('./train-check-job')).runTrainCheck,
});
