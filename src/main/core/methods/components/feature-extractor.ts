/**
 * A frozen feature extractor over the engine's ResNet backbones, shared by the methods that use
 * one (PatchCore here; RD's teacher, FastFlow later): builds the backbone from a `.safetensors`
 * file or seeded random weights, and maps images in [0, 1] to the requested layers' features.
 * Images are ImageNet-normalised first, as timm's feature extractors expect (anomalib does the
 * same in its transforms).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { buildBackbone, normalizeImageNet, randomWeights, type ResNetArch, type ResNetBackbone, type ResNetLayer } from '../../engine/backbones/index';
import { loadSafetensors, type DecodedTensor } from '../../engine/safetensors';

/** Where backbone weights come from: seeded random initialisation, or a `.safetensors` path. */
export type WeightsSource = 'random' | string;

/** Loads the tensors of `arch` from a file, or draws torchvision's initialisation with `seed`. */
export async function loadBackboneTensors(arch: ResNetArch, weights: WeightsSource, seed: number): Promise<Map<string, DecodedTensor>> {
  if (weights !== 'random') return (await loadSafetensors(weights)).tensors;
  const out = new Map<string, DecodedTensor>();
  for (const [name, t] of randomWeights(arch, seed)) out.set(name, { dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data });
  return out;
}

export class FeatureExtractor {
  private constructor(
    readonly backbone: ResNetBackbone,
    readonly layers: readonly ResNetLayer[],
  ) {}

  static async create(arch: ResNetArch, layers: readonly ResNetLayer[], weights: WeightsSource, seed = 0): Promise<FeatureExtractor> {
    if (layers.length === 0) throw new LabError('feature extractor: at least one layer is needed', 'ValidationError');
    return new FeatureExtractor(buildBackbone(arch, await loadBackboneTensors(arch, weights, seed)), layers);
  }

  /** Wraps an existing backbone (tests); the extractor then owns it. */
  static fromBackbone(backbone: ResNetBackbone, layers: readonly ResNetLayer[]): FeatureExtractor {
    return new FeatureExtractor(backbone, layers);
  }

  /** Channels of each requested layer, in `layers` order. */
  channels(): number[] {
    return this.layers.map((l) => this.backbone.channels[l]);
  }

  /**
   * @param images [batch, h, w, 3], values in [0, 1]
   * @returns each requested layer's features, [batch, h/stride, w/stride, channels]; the caller disposes them
   */
  extract(images: tf.Tensor4D): Record<string, tf.Tensor4D> {
    return tf.tidy(() => this.backbone.forward(normalizeImageNet(images), this.layers));
  }

  dispose(): void {
    this.backbone.dispose();
  }
}
