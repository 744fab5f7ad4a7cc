/**
 * The one job kind every method runs as (DESIGN section 2a): `methodJobKind(definition)` gives the
 * kind named after the method (`patchcore`, `autoencoder`, …), so a run's kind, its `method` column,
 * `runs:start { kind }` and `miad-lab train --method` all say the same name, and runs stored before
 * the seam existed still resume. The schema and `prepare` are the same for every method; only the
 * definition differs.
 *
 * This file is the main-process half: it validates the config with the method's own resolver (bad
 * overrides are refused in the caller's face, not minutes later in the job process), and resolves
 * the scenario as the workspace curates it (manifest.ts) into the job's input. The tensor half is
 * method-job-run.ts, loaded only in the job process.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { AnnotationRepo } from '../../store/annotation-repo';
import { scenarioFolder } from '../../runs/report';
import { defineKind, type JobKind } from '../../jobs/kinds';
import type { AnyMethodDefinition } from '../method';
import { curatedManifest, type LeftOutSample } from './manifest';
import type { ScenarioManifest } from './scenario-images';

export function methodConfigSchema(definition: AnyMethodDefinition) {
  return z
    .object({
      datasetId: z.number().int().positive(),
      scenario: z.string().min(1).max(200),
      preset: z.enum(definition.presets as [string, ...string[]]).default(definition.defaultPreset),
      /** Values that replace the preset's (the method's overrides schema checks them in prepare). */
      overrides: z.record(z.string(), z.unknown()).optional(),
      /** A `.safetensors` file of the backbone with timm/torchvision names; seeded random weights when absent. */
      weightsFile: z.string().min(1).max(4096).optional(),
      /** Use the workspace's frozen-feature cache (default true); false computes every feature afresh. */
      featureCache: z.boolean().default(true),
    })
    .strict();
}

export interface MethodJobConfig {
  datasetId: number;
  scenario: string;
  preset: string;
  overrides?: Record<string, unknown> | undefined;
  weightsFile?: string | undefined;
  featureCache: boolean;
}

export interface MethodJobInput {
  datasetRoot: string;
  /** The scenario as the workspace curates it (manifest.ts); the job lists no folders. */
  manifest: ScenarioManifest;
  /** Samples the manifest leaves out, with why (the run's summary lists them). */
  leftOut: LeftOutSample[];
  editedMasks: number;
}

export function methodJobKind(definition: AnyMethodDefinition): JobKind<MethodJobConfig> {
  return defineKind<MethodJobConfig>({
    name: definition.name,
    summary: definition.summary,
    method: {
      title: definition.title,
      training: definition.training,
      backbone: definition.backboneArch(definition.resolveConfig(definition.defaultPreset, {}).config) !== null,
    },
    schema: methodConfigSchema(definition) as unknown as z.ZodType<MethodJobConfig>,
    tensors: true,
    prepare(config, { store, workspaceDir }) {
      const dataset = store.getDataset(config.datasetId);
      const { config: resolved } = definition.resolveConfig(config.preset, config.overrides ?? {});
      const arch = definition.backboneArch(resolved);
      if (arch === null && config.weightsFile !== undefined) {
        throw new LabError(`${definition.title} trains from scratch and reads no pretrained backbone: leave weightsFile out`, 'ValidationError');
      }
      const train = store.listSamples({ datasetId: dataset.id, scenario: config.scenario, split: 'train', offset: 0, limit: 1 });
      const test = store.listSamples({ datasetId: dataset.id, scenario: config.scenario, split: 'test', offset: 0, limit: 1 });
      if (train.total === 0 || test.total === 0) {
        throw new LabError(
          `dataset ${dataset.name} has ${train.total} training and ${test.total} test images for scenario ${JSON.stringify(config.scenario)}: ${definition.title} needs both (scenarios: ${dataset.scenarios.join(', ')})`,
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
      const input: MethodJobInput = { datasetRoot: dataset.root, ...curated };
      return {
        method: definition.name,
        scenarios: [config.scenario],
        datasetId: dataset.id,
        datasetRoot: dataset.root,
        weights: arch === null ? null : (config.weightsFile ?? 'random'),
        randomInit: arch !== null && config.weightsFile === undefined,
        input,
      };
    },
    load: async () => {
      const { runMethodJob } = await import('./method-job-run');
      return (config, input, ctx) => runMethodJob(definition, config, input, ctx);
    },
  });
}
