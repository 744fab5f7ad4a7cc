/**
 * PatchCore's definition on the method seam (method.ts): presets with sources (config.ts), the
 * backbone it reads, its cost (one pass of the frozen backbone over the training images; the
 * coreset is not counted: it is memory-bound, see bench/coreset.ts), and the lazily loaded tensor
 * half (fit.ts).
 */
import { backboneGflop } from '../components/flops';
import { defineMethod } from '../method';
import { PATCHCORE_PRESET_NOTES, PATCHCORE_PRESETS, resolvePatchCoreConfig, type PatchCoreConfig } from './config';

export const patchcoreMethod = defineMethod<PatchCoreConfig>({
  name: 'patchcore',
  title: 'PatchCore',
  summary: 'train PatchCore on a scenario and evaluate it on its test set',
  training: 'one-pass',
  presets: PATCHCORE_PRESETS,
  defaultPreset: 'full',
  presetNotes: PATCHCORE_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolvePatchCoreConfig(preset ?? 'full', overrides ?? {}),
  backboneArch: (config) => config.arch,
  cost: (config) => ({ gflopPerImage: backboneGflop(config.arch, config.layers, config.inputSize), epochs: 1 }),
  load: async () => (await import('./fit')).patchcoreImplementation,
});
