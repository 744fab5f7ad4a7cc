/**
 * The U-Net Auto-Encoder's definition on the method seam (method.ts): presets with sources
 * (config.ts), no pretrained backbone (it trains from scratch), its training cost, and the lazily
 * loaded tensor half (fit.ts).
 */
import { defineMethod } from '../method';
import { AUTOENCODER_PRESET_NOTES, AUTOENCODER_PRESETS, autoencoderCost, resolveAutoencoderConfig, type AutoencoderConfig } from './config';

export const autoencoderMethod = defineMethod<AutoencoderConfig>({
  name: 'autoencoder',
  title: 'U-Net Auto-Encoder',
  summary: 'train the U-Net Auto-Encoder baseline on a scenario and evaluate it on its test set',
  training: 'trained',
  presets: AUTOENCODER_PRESETS,
  defaultPreset: 'paper',
  presetNotes: AUTOENCODER_PRESET_NOTES,
  resolveConfig: (preset, overrides) => resolveAutoencoderConfig(preset ?? 'paper', overrides ?? {}),
  backboneArch: () => null,
  cost: autoencoderCost,
  load: async () => (await import('./fit')).autoencoderImplementation,
});
