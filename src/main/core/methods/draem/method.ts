/**
 * DRAEM's definition on the method seam (method.ts): presets with sources (config.ts), no
 * pretrained backbone (both sub-networks train from scratch), its training cost, and the lazily
 * loaded tensor half (fit.ts).
 */
import { defineMethod } from '../method';
import { DRAEM_PRESET_NOTES, DRAEM_PRESETS, draemCost, resolveDraemConfig, type DraemConfig } from './config';

export const draemMethod = defineMethod<DraemConfig>({
  name: 'draem',
  title: 'DRAEM',
  summary: 'train DRAEM (reconstructive + discriminative networks on synthetic anomalies) on a scenario and evaluate it on its test set',
  training: 'trained',
  presets: DRAEM_PRESETS,
  defaultPreset: 'paper',
  presetNotes: DRAEM_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolveDraemConfig(preset ?? 'paper', overrides ?? {}),
  backboneArch: () => null,
  cost: draemCost,
  load: async () => (await import('./fit')).draemImplementation,
});
