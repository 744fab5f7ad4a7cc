/**
 * DRAEM (Zavrtanik, Kristan & Skočaj, "DRAEM – A discriminatively trained reconstruction embedding
 * for surface anomaly detection", ICCV 2021): its presets, every value with its source, the
 * architecture's convolutions (for the cost estimate) and its cost. METHODS.md section 3 is the
 * research behind every value here.
 *
 * MIAD A.2.4 says it ran the official code (VitjanZ/DRAEM) with 256 px, batch 8, 700 epochs, Adam
 * 1e-4 ×0.2 after 560 and 630 epochs, the L2 + SSIM and focal losses, "3 random augmentation
 * functions sampled from {posterize, sharpness, solarize, equalize, brightness change, color change,
 * auto-contrast}" and a rotation of (−45, 45) degrees on normal images. Where the paper and the code
 * differ we follow the paper for what it states and the code for the rest, and say so:
 *   - texture augmenters: the code's ten (gamma, brightness, sharpness, hue/saturation, solarize,
 *     posterize, invert, auto-contrast, equalize, rotation ±45°), since MIAD ran that code; its list
 *     of seven is the DRAEM paper's prose;
 *   - normal-image rotation: MIAD's ±45° with the code's probability 0.3 (the code rotates by ±90°);
 *   - the anomaly source: the code reads DTD; without it the lab generates textures
 *     (components/textures.ts), and the run records which (METHODS.md 3.5);
 *   - the learning-rate milestones are the code's `[epochs·0.8, epochs·0.9]`, which torch's
 *     MultiStepLR only honours when the product is a whole number (it compares them with the
 *     integer epoch): 560 and 630 for 700 epochs;
 *   - inputs: the code reads images with cv2 (BGR order) in [0, 1] with no normalisation
 *     (METHODS.md 3.8: never ImageNet-normalise them); `channelOrder` 'bgr' feeds the networks BGR so
 *     a converted official checkpoint sees what it was trained on.
 * The lab never picks an epoch on test data: the weights after the last epoch are the model.
 * Sources: 'paper A.2.4' (the MIAD appendix), 'DRAEM code <file>' (VitjanZ/DRAEM@2dbf673),
 * 'PyTorch default' (torch.optim.Adam's betas and eps, which the code did not change), 'ours'.
 *
 * Presets:
 *   - paper: A.2.4 on every training image: about 1,190 GFLOP per image step, 8.3 EFLOP per 10,000-
 *     image scenario: two to three days per scenario at PyTorch speed on a V100-class GPU, weeks on
 *     the lab's GPU backends, out of reach on a CPU;
 *   - fast: narrow networks (reconstructive 16, discriminative 8) at 64 px on 64 images: minutes on
 *     a CPU, for demos and tests.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { convFlops } from '../components/flops';
import type { ResolvedConfig, TrainingCost } from '../method';
import { resolvePreset, trainedSettingOverrides, weightsFileOverride, type SourcedPreset } from '../presets';

export const DRAEM_PRESETS = ['paper', 'fast'] as const;
export type DraemPreset = (typeof DRAEM_PRESETS)[number];

export interface DraemConfig {
  preset: DraemPreset;
  /** Images are resized to inputSize × inputSize; a multiple of 32 (the discriminative network pools five times). */
  inputSize: number;
  batchSize: number;
  /** Fixed: no early stopping, no epoch chosen afterwards. 0 (only with modelWeights): evaluate the given weights as they are. */
  epochs: number;
  trainImages: number | 'all';
  learningRate: number;
  beta1: number;
  beta2: number;
  /** The learning rate is multiplied by lrGamma after these fractions of the epochs (MultiStepLR). */
  lrMilestone1: number;
  lrMilestone2: number;
  lrGamma: number;
  /** Base width of the reconstructive sub-network (official 128). */
  reconstructiveWidth: number;
  /** Base width of the discriminative sub-network (official 64). */
  discriminativeWidth: number;
  /** The channel order the networks see: 'bgr' as the official code (cv2), or 'rgb'. */
  channelOrder: 'bgr' | 'rgb';
  /** A texture folder (DTD's images/) for the anomalies; '' for the lab's procedural textures. */
  anomalySourceDir: string;
  /** Seed of the procedural textures (recorded with the run). */
  textureSeed: number;
  /** Procedural textures drawn from (DTD has 5,640 images). */
  proceduralTextures: number;
  /** Probability that a training sample gets an anomaly (else it is returned as is, empty mask). */
  anomalyProbability: number;
  /** The texture's opacity is 1 − β with β ~ U(0, betaMax). */
  betaMax: number;
  /** Perlin lattices 2^k × 2^l with k, l uniform in [perlinScaleMin, perlinScaleMax) (torch.randint). */
  perlinScaleMin: number;
  perlinScaleMax: number;
  /** The noise becomes the mask where it exceeds this. */
  perlinThreshold: number;
  /** The noise is rotated by U(−d, d) degrees before thresholding. */
  noiseRotationDegrees: number;
  /** Probability that a normal training image is rotated, and by U(−d, d) degrees. */
  rotateNormalProbability: number;
  rotateNormalDegrees: number;
  /** How many distinct augmenters (of the ten) are applied to each texture. */
  textureAugmenters: number;
  /** The texture augmenter 'rotate' turns by U(−d, d) degrees. */
  textureRotationDegrees: number;
  /** The image score is the maximum of the map averaged over this square window (zero padded). */
  scoreWindow: number;
  seed: number;
  /**
   * A DRAEM checkpoint (.safetensors: both sub-networks' state dicts with the official names, as a
   * run's model.safetensors or the official `*.pckl` and `*_seg.pckl` converted and merged) to start
   * from instead of the seeded initialisation; '' for none.
   */
  modelWeights: string;
  evalResolution: number;
  checkpointMinutes: number;
  checkpointSteps: number;
}

type Sourced = SourcedPreset<DraemConfig>;

const PAPER: Sourced = {
  inputSize: [256, 'paper A.2.4'],
  batchSize: [8, 'paper A.2.4'],
  epochs: [700, 'paper A.2.4'],
  trainImages: ['all', 'DRAEM code train_DRAEM.py (every train/good image)'],
  learningRate: [1e-4, 'paper A.2.4'],
  beta1: [0.9, 'PyTorch default'],
  beta2: [0.999, 'PyTorch default'],
  lrMilestone1: [0.8, 'paper A.2.4 (560 of 700 epochs); DRAEM code train_DRAEM.py epochs·0.8'],
  lrMilestone2: [0.9, 'paper A.2.4 (630 of 700 epochs); DRAEM code train_DRAEM.py epochs·0.9'],
  lrGamma: [0.2, 'paper A.2.4'],
  reconstructiveWidth: [128, 'DRAEM code model_unet.py (base_width 128)'],
  discriminativeWidth: [64, 'DRAEM code model_unet.py (base_channels 64)'],
  channelOrder: ['bgr', 'DRAEM code data_loader.py (cv2.imread)'],
  anomalySourceDir: ['', 'ours (procedural textures; the DRAEM code reads DTD: point this to its images/ folder)'],
  textureSeed: [0, 'ours'],
  proceduralTextures: [5640, 'ours (as many as DTD has images)'],
  anomalyProbability: [0.5, 'DRAEM code data_loader.py (no_anomaly > 0.5)'],
  betaMax: [0.8, 'DRAEM code data_loader.py'],
  perlinScaleMin: [0, 'DRAEM code data_loader.py'],
  perlinScaleMax: [6, 'DRAEM code data_loader.py (torch.randint(0, 6): lattices 1 to 32)'],
  perlinThreshold: [0.5, 'DRAEM code data_loader.py'],
  noiseRotationDegrees: [90, 'DRAEM code data_loader.py (iaa.Affine(rotate=(-90, 90)))'],
  rotateNormalProbability: [0.3, 'DRAEM code data_loader.py (torch.rand(1) > 0.7)'],
  rotateNormalDegrees: [45, 'paper A.2.4 (the DRAEM code rotates by ±90)'],
  textureAugmenters: [3, 'paper A.2.4'],
  textureRotationDegrees: [45, 'DRAEM code data_loader.py (iaa.Affine(rotate=(-45, 45)))'],
  scoreWindow: [21, 'DRAEM code test_DRAEM.py (avg_pool2d 21, padding 10)'],
  seed: [0, 'ours'],
  modelWeights: ['', 'ours (none: the seeded initialisation)'],
  evalResolution: [0, 'ours'],
  checkpointMinutes: [5, 'ours'],
  checkpointSteps: [0, 'ours'],
};

const PRESETS: Record<DraemPreset, Sourced> = {
  paper: PAPER,
  fast: {
    ...PAPER,
    inputSize: [64, 'ours (the Perlin lattices up to 32 still divide it)'],
    epochs: [100, 'ours'],
    trainImages: [64, 'ours'],
    reconstructiveWidth: [16, 'ours (METHODS.md 3.7)'],
    discriminativeWidth: [8, 'ours (METHODS.md 3.7)'],
    proceduralTextures: [256, 'ours'],
  },
};

export const DRAEM_PRESET_NOTES: Record<DraemPreset, string> = {
  paper:
    'MIAD A.2.4 as written: 256 px, batch 8, 700 epochs, Adam 1e-4 ×0.2 after 560 and 630 epochs, on every training image. ' +
    'About 1,190 GFLOP per image step, 8.3 EFLOP per 10,000-image scenario: a multi-day GPU job (two to three days per scenario at PyTorch speed on a ' +
    'V100-class GPU, weeks on the lab’s GPU backends, years on a CPU). Anomaly textures: the DTD folder you point anomalySourceDir to, else the ' +
    'lab’s procedural textures (weaker than DTD; the run records which).',
  fast: 'Narrow networks (reconstructive width 16, discriminative 8) at 64 px on 64 images, 100 epochs: minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper’s.',
};

/** Validation of user overrides: unknown keys are refused. */
export const draemOverridesSchema = z
  .object({
    ...trainedSettingOverrides,
    inputSize: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 32 === 0, { message: 'must be a multiple of 32 (the discriminative network pools five times)' }),
    epochs: z.number().int().min(0).max(10_000),
    learningRate: z.number().gt(0).max(1),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    lrMilestone1: z.number().min(0).max(1),
    lrMilestone2: z.number().min(0).max(1),
    lrGamma: z.number().gt(0).max(1),
    reconstructiveWidth: z.number().int().min(1).max(512),
    discriminativeWidth: z.number().int().min(1).max(512),
    channelOrder: z.enum(['bgr', 'rgb']),
    anomalySourceDir: z
      .string()
      .max(4096)
      .refine((p) => !p.includes('\0'), 'path contains a NUL byte')
      // A job runs in another process and folder: a relative path would name another place there.
      .refine((p) => p === '' || isAbsolute(p), { message: 'must be an absolute path to a folder of texture images (or empty for procedural textures)' }),
    textureSeed: z.number().int().min(0).max(2 ** 31 - 1),
    proceduralTextures: z.number().int().min(1).max(1_000_000),
    anomalyProbability: z.number().min(0).max(1),
    betaMax: z.number().min(0).max(1),
    perlinScaleMin: z.number().int().min(0).max(10),
    perlinScaleMax: z.number().int().min(1).max(11),
    perlinThreshold: z.number().min(-2).max(2),
    noiseRotationDegrees: z.number().min(0).max(180),
    rotateNormalProbability: z.number().min(0).max(1),
    rotateNormalDegrees: z.number().min(0).max(180),
    textureAugmenters: z.number().int().min(0).max(10),
    textureRotationDegrees: z.number().min(0).max(180),
    scoreWindow: z
      .number()
      .int()
      .min(1)
      .max(255)
      .refine((v) => v % 2 === 1, { message: 'must be odd (the window is centred on each pixel)' }),
    modelWeights: weightsFileOverride,
  })
  .partial()
  .strict();

export function resolveDraemConfig(preset: string = 'paper', overrides: unknown = {}): ResolvedConfig<DraemConfig> {
  const resolved = resolvePreset<DraemConfig>('DRAEM', PRESETS, preset, overrides, draemOverridesSchema);
  checkConsistency(resolved.config);
  return resolved;
}

/** Settings that are valid alone but not together; the message names them. */
function checkConsistency(c: DraemConfig): void {
  const problems: string[] = [];
  if (c.perlinScaleMax <= c.perlinScaleMin) problems.push(`perlinScaleMax (${c.perlinScaleMax}) must exceed perlinScaleMin (${c.perlinScaleMin}): torch.randint draws from [min, max)`);
  if (2 ** (c.perlinScaleMax - 1) > c.inputSize) problems.push(`the largest Perlin lattice 2^${c.perlinScaleMax - 1} exceeds inputSize ${c.inputSize}: lower perlinScaleMax`);
  if (c.epochs === 0 && c.modelWeights === '') problems.push('epochs: 0 epochs only evaluates given weights: set modelWeights too, or train at least 1 epoch');
  if (c.lrMilestone2 < c.lrMilestone1) problems.push(`lrMilestone2 (${c.lrMilestone2}) comes before lrMilestone1 (${c.lrMilestone1})`);
  if (problems.length) throw new LabError(`DRAEM overrides: ${problems.join('; ')}`, 'ValidationError');
}

/**
 * The epochs after which the learning rate drops: the code's [epochs·0.8, epochs·0.9], kept only
 * where the product is a whole number, as torch's MultiStepLR (whose milestone Counter holds the
 * floats and is looked up with the integer epoch) honours them.
 */
export function lrMilestones(config: Pick<DraemConfig, 'epochs' | 'lrMilestone1' | 'lrMilestone2'>): number[] {
  return [config.epochs * config.lrMilestone1, config.epochs * config.lrMilestone2].filter((m) => Number.isInteger(m));
}

/** [cin, cout, kernel, resolution divisor] of every convolution of the reconstructive sub-network (model_unet.py). */
export function reconstructiveConvs(w: number): [number, number, number, number][] {
  return [
    [3, w, 3, 1], [w, w, 3, 1],
    [w, 2 * w, 3, 2], [2 * w, 2 * w, 3, 2],
    [2 * w, 4 * w, 3, 4], [4 * w, 4 * w, 3, 4],
    [4 * w, 8 * w, 3, 8], [8 * w, 8 * w, 3, 8],
    [8 * w, 8 * w, 3, 16], [8 * w, 8 * w, 3, 16],
    [8 * w, 8 * w, 3, 8], [8 * w, 8 * w, 3, 8], [8 * w, 4 * w, 3, 8],
    [4 * w, 4 * w, 3, 4], [4 * w, 4 * w, 3, 4], [4 * w, 2 * w, 3, 4],
    [2 * w, 2 * w, 3, 2], [2 * w, 2 * w, 3, 2], [2 * w, w, 3, 2],
    [w, w, 3, 1], [w, w, 3, 1], [w, w, 3, 1],
    [w, 3, 3, 1],
  ];
}

/** The same for the discriminative sub-network (input 6 channels, 2 output logits). */
export function discriminativeConvs(w: number): [number, number, number, number][] {
  return [
    [6, w, 3, 1], [w, w, 3, 1],
    [w, 2 * w, 3, 2], [2 * w, 2 * w, 3, 2],
    [2 * w, 4 * w, 3, 4], [4 * w, 4 * w, 3, 4],
    [4 * w, 8 * w, 3, 8], [8 * w, 8 * w, 3, 8],
    [8 * w, 8 * w, 3, 16], [8 * w, 8 * w, 3, 16],
    [8 * w, 8 * w, 3, 32], [8 * w, 8 * w, 3, 32],
    [8 * w, 8 * w, 3, 16], [16 * w, 8 * w, 3, 16], [8 * w, 8 * w, 3, 16],
    [8 * w, 4 * w, 3, 8], [12 * w, 4 * w, 3, 8], [4 * w, 4 * w, 3, 8],
    [4 * w, 2 * w, 3, 4], [6 * w, 2 * w, 3, 4], [2 * w, 2 * w, 3, 4],
    [2 * w, w, 3, 2], [3 * w, w, 3, 2], [w, w, 3, 2],
    [w, w, 3, 1], [2 * w, w, 3, 1], [w, w, 3, 1],
    [w, 2, 3, 1],
  ];
}

/** Forward GFLOP of both sub-networks for one image. */
export function draemForwardGflop(config: Pick<DraemConfig, 'inputSize' | 'reconstructiveWidth' | 'discriminativeWidth'>): { reconstructive: number; discriminative: number } {
  const s = config.inputSize;
  const sum = (convs: [number, number, number, number][]) => convs.reduce((acc, [cin, cout, k, div]) => acc + convFlops(cin, cout, k, s / div, s / div), 0) / 1e9;
  return { reconstructive: sum(reconstructiveConvs(config.reconstructiveWidth)), discriminative: sum(discriminativeConvs(config.discriminativeWidth)) };
}

/** Training cost: 3× the forward convolutions of both sub-networks (forward, input and weight gradients). */
export function draemCost(config: DraemConfig): TrainingCost {
  const f = draemForwardGflop(config);
  return { gflopPerImage: 3 * (f.reconstructive + f.discriminative), epochs: config.epochs };
}
