/**
 * Reverse Distillation's definition on the method seam (method.ts): presets with sources
 * (config.ts), the teacher backbone whose pretrained weights a run reads, its training cost, and
 * the lazily loaded tensor half (fit.ts).
 */
import { defineMethod } from '../method';
import { RD_PRESET_NOTES, RD_PRESETS, rdCost, resolveRdConfig, type ReverseDistillationConfig } from './config';

export const reverseDistillationMethod = defineMethod<ReverseDistillationConfig>({
  name: 'reverse_distillation',
  title: 'Reverse Distillation',
  summary: 'train Reverse Distillation (a student that reverses a frozen teacher) on a scenario and evaluate it on its test set',
  training: 'trained',
  presets: RD_PRESETS,
  defaultPreset: 'paper',
  presetNotes: RD_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolveRdConfig(preset ?? 'paper', overrides ?? {}),
  backboneArch: (config) => config.backbone,
  cost: rdCost,
  load: async () => (await import('./fit')).reverseDistillationImplementation,
});
