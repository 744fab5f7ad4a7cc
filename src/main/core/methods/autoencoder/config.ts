/**
 * The U-Net Auto-Encoder baseline of MIAD A.2.5: its presets, every value with its source, and its
 * cost. MIAD states only the training setup ("following the setting of MVTecAD", "a modified U-Net
 * is used for the backbone instead of a simple stack of convolution layers", inputs normalised with
 * mean and std 0.5, 256 × 256, 100 epochs, batch 16, Adam lr 1e-4 with weight decay 5e-4) and
 * publishes no code, so the architecture, loss and map are ours (METHODS.md section 4, section 7
 * item 4) and say so:
 *   - the network is DRAEM's reconstructive sub-network (a U-Net encoder/decoder WITHOUT the copy
 *     skips: a U-Net with skips can pass its input straight through and reconstruct anomalies too),
 *     base width 64, with an optional 1×1 bottleneck at 1/16 of the input to force compression, and
 *     a tanh output onto the [-1, 1] range the normalised inputs live in;
 *   - the loss is the mean squared error on normalised pixels (MVTec AD's "AE_L2");
 *   - the map is the per-pixel squared error averaged over the channels, optionally blurred; the
 *     image score is the map's maximum (METHODS.md 0.1 item 11).
 * Sources: 'paper A.2.5' (the MIAD appendix), 'PyTorch default' (torch.optim.Adam's betas and eps,
 * which MIAD did not change), 'ours'.
 *
 * Presets:
 *   - paper: A.2.5 as written, on all training images: about 240 GFLOP per image step, a GPU job;
 *   - fast: base width 16 at 64 px on 64 images, 50 epochs: minutes on a CPU, for demos and tests.
 */
import { z } from 'zod';
import { convFlops } from '../components/flops';
import { resolvePreset, trainedSettingOverrides, type SourcedPreset } from '../presets';
import type { ResolvedConfig, TrainingCost } from '../method';

export const AUTOENCODER_PRESETS = ['paper', 'fast'] as const;
export type AutoencoderPreset = (typeof AUTOENCODER_PRESETS)[number];

export interface AutoencoderConfig {
  preset: AutoencoderPreset;
  /** Images are resized to inputSize × inputSize; a multiple of 16 (four 2× poolings). */
  inputSize: number;
  batchSize: number;
  epochs: number;
  trainImages: number | 'all';
  learningRate: number;
  /** Adam's coupled L2 weight decay (torch `Adam(weight_decay=…)`, not AdamW). */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** Inputs are normalised (x − mean) / std, per channel the same. */
  normMean: number;
  normStd: number;
  /** Channels of the first U-Net block; blocks double it up to 8×. */
  baseWidth: number;
  /** Channels of the 1×1 bottleneck at 1/16 of the input; 0: none. */
  latentChannels: number;
  /** tanh onto [-1, 1] after the last convolution, or no activation. */
  outputActivation: 'tanh' | 'none';
  /** Gaussian σ (pixels) of the anomaly map before its maximum is taken; 0: the raw per-pixel error. */
  sigma: number;
  seed: number;
  evalResolution: number;
  checkpointMinutes: number;
  checkpointSteps: number;
}

const PAPER: SourcedPreset<AutoencoderConfig> = {
  inputSize: [256, 'paper A.2.5'],
  batchSize: [16, 'paper A.2.5'],
  epochs: [100, 'paper A.2.5'],
  trainImages: ['all', 'ours'],
  learningRate: [1e-4, 'paper A.2.5'],
  weightDecay: [5e-4, 'paper A.2.5'],
  beta1: [0.9, 'PyTorch default'],
  beta2: [0.999, 'PyTorch default'],
  normMean: [0.5, 'paper A.2.5'],
  normStd: [0.5, 'paper A.2.5'],
  baseWidth: [64, 'ours'],
  latentChannels: [16, 'ours'],
  outputActivation: ['tanh', 'ours'],
  sigma: [0, 'ours'],
  seed: [0, 'ours'],
  evalResolution: [0, 'ours'],
  checkpointMinutes: [5, 'ours'],
  checkpointSteps: [0, 'ours'],
};

const PRESETS: Record<AutoencoderPreset, SourcedPreset<AutoencoderConfig>> = {
  paper: PAPER,
  fast: {
    ...PAPER,
    inputSize: [64, 'ours'],
    epochs: [50, 'ours'],
    trainImages: [64, 'ours'],
    baseWidth: [16, 'ours'],
  },
};

export const AUTOENCODER_PRESET_NOTES: Record<AutoencoderPreset, string> = {
  paper:
    'MIAD A.2.5 as written: 256 px, batch 16, 100 epochs, Adam 1e-4 with weight decay 5e-4, on every training image. ' +
    'About 240 GFLOP per image step: on a MIAD scenario (10,000 images) a job of hours on a GPU and weeks on a CPU. ' +
    'The network is ours (MIAD publishes none): a U-Net without copy skips. Expect weak numbers: this baseline is the sanity floor.',
  fast: 'Base width 16 at 64 px on 64 images, 50 epochs: minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper’s.',
};

/** Validation of user overrides: unknown keys are refused. */
export const autoencoderOverridesSchema = z
  .object({
    ...trainedSettingOverrides,
    inputSize: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16 (the U-Net pools four times)' }),
    epochs: z.number().int().min(1).max(10_000),
    learningRate: z.number().gt(0).max(1),
    weightDecay: z.number().min(0).max(1),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    normMean: z.number().min(-10).max(10),
    normStd: z.number().gt(0).max(10),
    baseWidth: z.number().int().min(1).max(256),
    latentChannels: z.number().int().min(0).max(4096),
    outputActivation: z.enum(['tanh', 'none']),
    sigma: z.number().min(0).max(64),
  })
  .partial()
  .strict();

export function resolveAutoencoderConfig(preset: string = 'paper', overrides: unknown = {}): ResolvedConfig<AutoencoderConfig> {
  return resolvePreset<AutoencoderConfig>('Auto-Encoder', PRESETS, preset, overrides, autoencoderOverridesSchema);
}

/**
 * The U-Net's convolutions, in order (DRAEM's ReconstructiveSubNetwork, model_unet.py, plus our
 * optional bottleneck): [cin, cout, kernel, resolution divisor].
 */
export function autoencoderConvs(config: Pick<AutoencoderConfig, 'baseWidth' | 'latentChannels'>): [number, number, number, number][] {
  const w = config.baseWidth;
  const L = config.latentChannels;
  return [
    [3, w, 3, 1], [w, w, 3, 1],
    [w, 2 * w, 3, 2], [2 * w, 2 * w, 3, 2],
    [2 * w, 4 * w, 3, 4], [4 * w, 4 * w, 3, 4],
    [4 * w, 8 * w, 3, 8], [8 * w, 8 * w, 3, 8],
    [8 * w, 8 * w, 3, 16], [8 * w, 8 * w, 3, 16],
    ...(L > 0 ? ([[8 * w, L, 1, 16], [L, 8 * w, 1, 16]] as [number, number, number, number][]) : []),
    [8 * w, 8 * w, 3, 8], [8 * w, 8 * w, 3, 8], [8 * w, 4 * w, 3, 8],
    [4 * w, 4 * w, 3, 4], [4 * w, 4 * w, 3, 4], [4 * w, 2 * w, 3, 4],
    [2 * w, 2 * w, 3, 2], [2 * w, 2 * w, 3, 2], [2 * w, w, 3, 2],
    [w, w, 3, 1], [w, w, 3, 1], [w, w, 3, 1],
    [w, 3, 3, 1],
  ];
}

/** Training cost: 3× the forward convolutions (forward, input and weight gradients). */
export function autoencoderCost(config: AutoencoderConfig): TrainingCost {
  const s = config.inputSize;
  const forward = autoencoderConvs(config).reduce((acc, [cin, cout, k, div]) => acc + convFlops(cin, cout, k, s / div, s / div), 0);
  return { gflopPerImage: (3 * forward) / 1e9, epochs: config.epochs };
}
