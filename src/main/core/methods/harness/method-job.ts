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
import { findScenarioDir } from '../../datasets/layout';
import { defineKind, type JobKind } from '../../jobs/kinds';
import type { AnyMethodDefinition } from '../method';
import { curatedManifest, type LeftOutSample } from './manifest';
import type { ScenarioManifest } from './scenario-images';

export function methodConfigSchema(definition: AnyMethodDefinition) {
  return z
    .object({
      datasetId: z.number().int().positive(),
      /** The run's scenario; or, for a unified run (methods whose definition says `unified`), `scenarios`. */
      scenario: z.string().min(1).max(200).optional(),
      /** A unified run: one model over these scenarios' training images, evaluated per scenario. */
      scenarios: z.array(z.string().min(1).max(200)).min(1).max(64).optional(),
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
  /** One of scenario and scenarios is given (prepare refuses both or neither). */
  scenario?: string | undefined;
  scenarios?: string[] | undefined;
  preset: string;
  overrides?: Record<string, unknown> | undefined;
  weightsFile?: string | undefined;
  featureCache: boolean;
}

export interface CuratedScenario {
  /** The scenario as the workspace curates it (manifest.ts); the job lists no folders. */
  manifest: ScenarioManifest;
  /** Samples the manifest leaves out, with why (the run's summary lists them). */
  leftOut: LeftOutSample[];
  editedMasks: number;
}

/** A run of one scenario: its curated manifest; a unified run: each scenario's, in `unified`. */
export type MethodJobInput = { datasetRoot: string } & (CuratedScenario | { unified: ({ scenario: string } & CuratedScenario)[] });

/** The scenarios a method job config names (`scenario` or `scenarios`), checked against the method. */
export function jobScenarios(definition: AnyMethodDefinition, config: Pick<MethodJobConfig, 'scenario' | 'scenarios'>): string[] {
  if (config.scenario !== undefined && config.scenarios !== undefined) throw new LabError('give scenario or scenarios, not both', 'ValidationError');
  const scenarios = config.scenarios ?? (config.scenario !== undefined ? [config.scenario] : []);
  if (scenarios.length === 0) throw new LabError(`${definition.title}: no scenario given`, 'ValidationError');
  const twice = scenarios.filter((s, i) => scenarios.indexOf(s) !== i);
  if (twice.length > 0) throw new LabError(`scenario ${twice[0]} is listed twice`, 'ValidationError');
  if (scenarios.length > 1 && !definition.unified) {
    throw new LabError(`${definition.title} trains one scenario per run (${scenarios.length} given: ${scenarios.join(', ')}); start one run per scenario, or train UniAD, which trains one model over several`, 'ValidationError');
  }
  return scenarios;
}

export function methodJobKind(definition: AnyMethodDefinition): JobKind<MethodJobConfig> {
  return defineKind<MethodJobConfig>({
    name: definition.name,
    summary: definition.summary,
    method: {
      title: definition.title,
      training: definition.training,
      backbone: definition.backboneArch(definition.resolveConfig(definition.defaultPreset, {}).config) !== null,
      unified: definition.unified ?? false,
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
      const scenarios = jobScenarios(definition, config);
      const curate = (scenario: string): CuratedScenario => {
        const train = store.listSamples({ datasetId: dataset.id, scenario, split: 'train', offset: 0, limit: 1 });
        const test = store.listSamples({ datasetId: dataset.id, scenario, split: 'test', offset: 0, limit: 1 });
        if (train.total === 0 || test.total === 0) {
          throw new LabError(
            `dataset ${dataset.name} has ${train.total} training and ${test.total} test images for scenario ${JSON.stringify(scenario)}: ${definition.title} needs both (scenarios: ${dataset.scenarios.join(', ')})`,
            'ValidationError',
          );
        }
        // Runs read the dataset as the workspace curates it (issue 4): labels, masks, training flags.
        const scenarioDir = findScenarioDir(dataset.root, scenario) ?? join(dataset.root, scenario);
        const curated = curatedManifest(new AnnotationRepo(store).exportRows(scenario), { datasetId: dataset.id, scenarioDir, workspaceDir });
        if (curated.manifest.train.length === 0) {
          throw new LabError(
            `scenario ${scenario} of dataset ${dataset.name} has no training image left: all ${train.total} are flagged out of training, rejected or labelled anomalous`,
            'ValidationError',
          );
        }
        return curated;
      };
      const input: MethodJobInput =
        scenarios.length === 1 ? { datasetRoot: dataset.root, ...curate(scenarios[0]!) } : { datasetRoot: dataset.root, unified: scenarios.map((scenario) => ({ scenario, ...curate(scenario) })) };
      return {
        method: definition.name,
        scenarios,
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
