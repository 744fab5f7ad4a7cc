/**
 * FastFlow's definition on the method seam (method.ts): presets with sources (config.ts), the
 * backbone whose pretrained weights a run reads, its training cost, and the lazily loaded tensor
 * half (fit.ts).
 */
import { defineMethod } from '../method';
import { FASTFLOW_PRESET_NOTES, FASTFLOW_PRESETS, fastflowCost, resolveFastflowConfig, type FastflowConfig } from './config';

export const fastflowMethod = defineMethod<FastflowConfig>({
  name: 'fastflow',
  title: 'FastFlow',
  summary: 'train FastFlow (2-D normalizing flows on frozen backbone features) on a scenario and evaluate it on its test set',
  training: 'trained',
  presets: FASTFLOW_PRESETS,
  defaultPreset: 'paper',
  presetNotes: FASTFLOW_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolveFastflowConfig(preset ?? 'paper', overrides ?? {}),
  backboneArch: (config) => config.backbone,
  cost: fastflowCost,
  load: async () => (await import('./fit')).fastflowImplementation,
});
