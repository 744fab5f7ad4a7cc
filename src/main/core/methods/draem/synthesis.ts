/**
 * DRAEM's anomaly synthesis (official code VitjanZ/DRAEM data_loader.py `MVTecDRAEMTrainDataset`),
 * step by step as the code does it, in plain JS (no tensors: it runs ahead of training, and the
 * main process renders previews with it):
 *
 *   1. with probability 0.3 the normal image is rotated (`rotateNormalDegrees`; `self.rot`);
 *   2. a texture is drawn from the anomaly source (DTD or procedural) and 3 distinct augmenters of
 *      the official ten are applied to it in random order (components/image-augment.ts);
 *   3. Perlin noise on a 2^k × 2^l lattice, k, l uniform in [0, 6) (components/perlin.ts), rotated
 *      by U(−90, 90) degrees, thresholded at 0.5: the mask M;
 *   4. β = U(0, 1)·0.8 and augmented = image·(1 − M) + (1 − β)·texture·M + β·image·M;
 *   5. with probability 0.5 the sample is the plain image with an empty mask instead.
 *
 * The random draws (`drawSynthesis`) are separated from the arithmetic (`synthesize`), so the run's
 * seed fixes every sample and a test can hand the same draws (lattice angles, β, …) to the official
 * formulas in numpy (scripts/reference/draem.py) and get the same mask and image.
 */
import { applyAugmentSteps, drawAugmentSteps, rotateBilinear, rotateUint8, type AugmentStep } from '../components/image-augment';
import { perlinAngles, perlinNoise } from '../components/perlin';
import { seedFor } from '../../engine/random';
import type { DraemConfig } from './config';

export type SynthesisSettings = Pick<
  DraemConfig,
  | 'anomalyProbability'
  | 'betaMax'
  | 'perlinScaleMin'
  | 'perlinScaleMax'
  | 'perlinThreshold'
  | 'noiseRotationDegrees'
  | 'rotateNormalProbability'
  | 'rotateNormalDegrees'
  | 'textureAugmenters'
  | 'textureRotationDegrees'
>;

/** Everything random about one training sample. */
export interface SynthesisDraws {
  /** Degrees the normal image is rotated by, or null (not rotated). */
  rotateImage: number | null;
  /** Which texture of the anomaly source. */
  textureIndex: number;
  augment: AugmentStep[];
  /** The Perlin lattice: res0 (rows) × res1 (columns). */
  res0: number;
  res1: number;
  /** [(res0 + 1) × (res1 + 1)] gradient angles. */
  angles: Float64Array;
  /** Degrees the noise is rotated by before thresholding. */
  noiseRotation: number;
  /** The texture's opacity is 1 − beta. */
  beta: number;
  /** false: the sample is the plain image with an empty mask. */
  anomalous: boolean;
}

/** The seed of sample `slot` of global step `step` (training batches and previews alike). */
export function sampleSeed(seed: number, step: number, slot: number): number {
  return seedFor(seed, `draem-synthesis-${step}-${slot}`);
}

function uniform(rand: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** The draws of one sample, in the order data_loader.py makes them. */
export function drawSynthesis(rand: () => number, settings: SynthesisSettings, textureCount: number): SynthesisDraws {
  const textureIndex = Math.floor(rand() * textureCount);
  const rotateImage = rand() < settings.rotateNormalProbability ? uniform(rand, -settings.rotateNormalDegrees, settings.rotateNormalDegrees) : null;
  const augment = drawAugmentSteps(settings.textureAugmenters, rand, undefined, settings.textureRotationDegrees);
  const span = settings.perlinScaleMax - settings.perlinScaleMin;
  const res0 = 2 ** (settings.perlinScaleMin + Math.floor(rand() * span));
  const res1 = 2 ** (settings.perlinScaleMin + Math.floor(rand() * span));
  const angles = perlinAngles(res0, res1, rand);
  const noiseRotation = uniform(rand, -settings.noiseRotationDegrees, settings.noiseRotationDegrees);
  const beta = rand() * settings.betaMax;
  const anomalous = rand() < settings.anomalyProbability;
  return { rotateImage, textureIndex, augment, res0, res1, angles, noiseRotation, beta, anomalous };
}

/**
 * The anomaly mask of the draws: the rotated Perlin noise above the threshold.
 * @returns [size × size], 1 inside, 0 outside (float64, as `perlin_thr`)
 */
export function perlinMask(size: number, draws: Pick<SynthesisDraws, 'res0' | 'res1' | 'angles' | 'noiseRotation'>, threshold: number): Float64Array {
  const noise = rotateBilinear(perlinNoise(size, size, draws.res0, draws.res1, draws.angles), size, size, 1, draws.noiseRotation);
  return noise.map((v) => (v > threshold ? 1 : 0));
}

/**
 * The blend of data_loader.py `augment_image` in its own order of operations (float64, as numpy
 * promotes it), cast to float32 at the end as the code does.
 * @param image [size × size × 3] float32 in [0, 1] (the normal image / 255)
 * @param texture [size × size × 3] the augmented 8-bit texture
 * @param mask [size × size] 0/1
 * @returns augmented [size × size × 3] float32
 */
export function blendAnomaly(image: Float32Array, texture: Uint8Array, mask: Float64Array, beta: number): Float32Array {
  const out = new Float32Array(image.length);
  for (let p = 0; p < mask.length; p++) {
    const m = mask[p]!;
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      const img = image[i]!;
      // image·(1 − M) + (1 − β)·(texture·M / 255) + β·image·M, then msk·aug + (1 − msk)·image in float32.
      const aug = img * (1 - m) + (1 - beta) * ((texture[i]! * m) / 255) + beta * img * m;
      out[i] = m === 1 ? aug : img;
    }
  }
  return out;
}

export interface SynthesizedSample {
  /** The (possibly rotated) normal image: the reconstruction target. [size × size × 3] float32 in [0, 1]. */
  image: Float32Array;
  /** The network's input. [size × size × 3] float32 in [0, 1]. */
  augmented: Float32Array;
  /** [size × size] float32, 1 where an anomaly was pasted. */
  mask: Float32Array;
  /** The augmented texture (before masking), for previews. [size × size × 3] 8-bit. */
  texture: Uint8Array;
}

/**
 * One training sample from a normal image and a texture, both 8-bit RGB [size × size × 3].
 */
export function synthesize(normal: Uint8Array, texture: Uint8Array, size: number, draws: SynthesisDraws, settings: Pick<SynthesisSettings, 'perlinThreshold'>): SynthesizedSample {
  const rotated = draws.rotateImage === null ? normal : rotateUint8(normal, size, size, 3, draws.rotateImage);
  // np.float32 array / 255.0: the division in float32.
  const image = Float32Array.from(rotated, (v) => v / 255);
  const augmentedTexture = applyAugmentSteps(texture, size, size, draws.augment);
  if (!draws.anomalous) return { image, augmented: new Float32Array(image), mask: new Float32Array(size * size), texture: augmentedTexture };
  const mask = perlinMask(size, draws, settings.perlinThreshold);
  return { image, augmented: blendAnomaly(image, augmentedTexture, mask, draws.beta), mask: Float32Array.from(mask), texture: augmentedTexture };
}
