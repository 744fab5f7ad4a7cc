/**
 * The methods the lab can run, by name: each entry resolves its config (preset + overrides) and
 * runs its pipeline. The job runner and the CLI look methods up here instead of importing each one,
 * so adding a method is one entry. Pipelines are loaded lazily: importing the registry loads no tfjs model code.
 */
import { LabError } from '../../../shared/errors';
import type { RunPatchCoreContext, RunPatchCoreOptions, RunPatchCoreResult } from './patchcore/pipeline';

export interface MethodRunOptions {
  datasetRoot: string;
  scenario: string;
  preset?: string;
  overrides?: unknown;
  weights: 'random' | string;
  outDir: string;
}

export type MethodRunContext = RunPatchCoreContext;

export interface MethodEntry {
  name: string;
  title: string;
  presets: readonly string[];
  defaultPreset: string;
  /** Resolves (and validates) the config a run would use, with each value's source. */
  resolveConfig(preset: string | undefined, overrides: unknown): Promise<{ config: unknown; sources: Record<string, string> }>;
  run(options: MethodRunOptions, ctx: MethodRunContext): Promise<RunPatchCoreResult>;
}

const METHODS: Record<string, MethodEntry> = {
  patchcore: {
    name: 'patchcore',
    title: 'PatchCore',
    presets: ['full', 'paper', 'fast'],
    defaultPreset: 'full',
    async resolveConfig(preset, overrides) {
      const { resolvePatchCoreConfig } = await import('./patchcore/config');
      return resolvePatchCoreConfig(preset ?? 'full', overrides ?? {});
    },
    async run(options: RunPatchCoreOptions, ctx) {
      const { runPatchCore } = await import('./patchcore/pipeline');
      return runPatchCore(options, ctx);
    },
  },
};

export function methodNames(): string[] {
  return Object.keys(METHODS);
}

/** The method called `name`; throws LabError('ValidationError') naming the known ones. */
export function getMethod(name: string): MethodEntry {
  const entry = METHODS[name];
  if (!entry) throw new LabError(`unknown method ${JSON.stringify(name)}; available: ${methodNames().join(', ')}`, 'ValidationError');
  return entry;
}
