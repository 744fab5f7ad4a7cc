/**
 * UniAD's definition on the method seam (method.ts): presets with sources (config.ts), the
 * backbone whose pretrained weights a run reads, its training cost, unified runs (one model over
 * several scenarios, the paper's setting), and the lazily loaded tensor half (fit.ts).
 */
import { defineMethod } from '../method';
import { UNIAD_PRESET_NOTES, UNIAD_PRESETS, resolveUniadConfig, uniadCost, type UniadConfig } from './config';

export const uniadMethod = defineMethod<UniadConfig>({
  name: 'uniad',
  title: 'UniAD',
  summary: 'train UniAD (transformer feature reconstruction) on one scenario or, unified, on several, and evaluate it per scenario',
  training: 'trained',
  unified: true,
  presets: UNIAD_PRESETS,
  defaultPreset: 'paper',
  presetNotes: UNIAD_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolveUniadConfig(preset ?? 'paper', overrides ?? {}),
  backboneArch: (config) => config.backbone,
  cost: uniadCost,
  load: async () => (await import('./fit')).uniadImplementation,
});
