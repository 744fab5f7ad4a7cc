/**
 * The `patchcore` job kind: train PatchCore on a scenario's normal training images and evaluate it
 * on the scenario's test set, as one run (src/main/core/methods/patchcore). This file is the
 * main-process half (schema, prepare); the tensor code runs in the job process (patchcore-job.ts).
 */
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { PATCHCORE_PRESETS, resolvePatchCoreConfig } from '../../methods/patchcore/config';
import { defineKind } from '../kinds';

export const patchcoreConfigSchema = z
  .object({
    datasetId: z.number().int().positive(),
    scenario: z.string().min(1).max(200),
    preset: z.enum(PATCHCORE_PRESETS).default('full'),
    /** Values that replace the preset's (patchCoreOverridesSchema in methods/patchcore/config.ts). */
    overrides: z.record(z.string(), z.unknown()).optional(),
    /** A `.safetensors` file with timm/torchvision names; seeded random weights when absent. */
    weightsFile: z.string().min(1).max(4096).optional(),
  })
  .strict();

export type PatchcoreJobConfig = z.output<typeof patchcoreConfigSchema>;

export interface PatchcoreJobInput {
  datasetRoot: string;
}

export const patchcoreKind = defineKind<PatchcoreJobConfig>({
  name: 'patchcore',
  summary: 'train PatchCore on a scenario and evaluate it on its test set',
  schema: patchcoreConfigSchema as unknown as z.ZodType<PatchcoreJobConfig>,
  tensors: true,
  prepare(config, { store }) {
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
    const input: PatchcoreJobInput = { datasetRoot: dataset.root };
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
