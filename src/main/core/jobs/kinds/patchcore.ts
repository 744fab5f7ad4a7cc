/**
 * The `patchcore` job kind: train PatchCore on a scenario's normal training images and evaluate it
 * on the scenario's test set, as one run (src/main/core/methods/patchcore). This file is the
 * main-process half (schema, prepare: it resolves the scenario as the workspace curates it, see
 * patchcore-manifest.ts); the tensor code runs in the job process (patchcore-job.ts).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { PATCHCORE_PRESETS, resolvePatchCoreConfig } from '../../methods/patchcore/config';
import { AnnotationRepo } from '../../store/annotation-repo';
import type { PatchCoreManifest } from '../../methods/patchcore/pipeline';
import { scenarioFolder } from '../../runs/report';
import { defineKind } from '../kinds';
import { curatedManifest, type LeftOutSample } from './patchcore-manifest';

export const patchcoreConfigSchema = z
  .object({
    datasetId: z.number().int().positive(),
    scenario: z.string().min(1).max(200),
    preset: z.enum(PATCHCORE_PRESETS).default('full'),
    /** Values that replace the preset's (patchCoreOverridesSchema in methods/patchcore/config.ts). */
    overrides: z.record(z.string(), z.unknown()).optional(),
    /** A `.safetensors` file with timm/torchvision names; seeded random weights when absent. */
    weightsFile: z.string().min(1).max(4096).optional(),
    /** Use the workspace's frozen-feature cache (default true); false computes every feature afresh. */
    featureCache: z.boolean().default(true),
  })
  .strict();

export type PatchcoreJobConfig = z.output<typeof patchcoreConfigSchema>;

export interface PatchcoreJobInput {
  datasetRoot: string;
  /** The scenario as the workspace curates it (patchcore-manifest.ts); the pipeline lists no folders. */
  manifest: PatchCoreManifest;
  /** Samples the manifest leaves out, with why (the run's summary lists them). */
  leftOut: LeftOutSample[];
  editedMasks: number;
}

export const patchcoreKind = defineKind<PatchcoreJobConfig>({
  name: 'patchcore',
  summary: 'train PatchCore on a scenario and evaluate it on its test set',
  schema: patchcoreConfigSchema as unknown as z.ZodType<PatchcoreJobConfig>,
  tensors: true,
  prepare(config, { store, workspaceDir }) {
    const dataset = store.getDataset(config.datasetId);
    // Refuse bad overrides now, in the caller's face, rather than minutes later in the job process.
    resolvePatchCoreConfig(config.preset, config.overrides ?? {});
    const train = store.listSamples({ datasetId: dataset.id, scenario: config.scenario, split: 'train', offset: 0, limit: 1 });
    const test = store.listSamples({ datasetId: dataset.id, scenario: config.scenario, split: 'test', offset: 0, limit: 1 });
    if (train.total === 0 || test.total === 0) {
      throw new LabError(
        `dataset ${dataset.name} has ${train.total} training and ${test.total} test images for scenario ${JSON.stringify(config.scenario)}: PatchCore needs both (scenarios: ${dataset.scenarios.join(', ')})`,
        'ValidationError',
      );
    }
    // Runs read the dataset as the workspace curates it (issue 4): labels, masks, training flags.
    const scenarioDir = scenarioFolder(dataset.root, config.scenario) ?? join(dataset.root, config.scenario);
    const curated = curatedManifest(new AnnotationRepo(store).exportRows(config.scenario), { datasetId: dataset.id, scenarioDir, workspaceDir });
    if (curated.manifest.train.length === 0) {
      throw new LabError(
        `scenario ${config.scenario} of dataset ${dataset.name} has no training image left: all ${train.total} are flagged out of training, rejected or labelled anomalous`,
        'ValidationError',
      );
    }
    const input: PatchcoreJobInput = { datasetRoot: dataset.root, ...curated };
    return {
      method: 'patchcore',
      scenarios: [config.scenario],
      datasetId: dataset.id,
      datasetRoot: dataset.root,
      weights: config.weightsFile ?? 'random',
      randomInit: config.weightsFile === undefined,
      input,
    };
  },
  load: async () => (await import('./patchcore-job')).runPatchcoreJob,
});
