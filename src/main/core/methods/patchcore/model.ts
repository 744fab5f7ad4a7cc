/**
 * PatchCore's graph (Roth et al., "Towards Total Recall in Industrial Anomaly Detection", CVPR 2022),
 * as anomalib's `PatchcoreModel` computes it (the MIAD paper ran anomalib, A.2.2):
 *   1. frozen backbone features of the chosen layers (WideResNet50-2 layer2 + layer3);
 *   2. each layer 3×3 locally averaged (AvgPool2d(3, 1, 1): paper eq. 2's neighbourhood aggregation);
 *   3. the deeper layers resized to the first layer's grid, bilinear with align_corners=False
 *      (anomalib's F.interpolate(mode="bilinear")), and concatenated along channels.
 * The result is one embedding per patch: [batch, h, w, C] (C = 512 + 1024 = 1,536 for WRN50-2).
 * anomalib keeps full channels (no adaptive average pooling to a target dim as the official code
 * does), so we do too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import type { ResNetLayer } from '../../engine/backbones/index';
import { FeatureExtractor, type WeightsSource } from '../components/feature-extractor';
import { localAverage3x3 } from '../components/local-average';
import type { PatchCoreConfig } from './config';

/**
 * Steps 2–3 on given layer features.
 * @param features the layers' features in `layers` order, each [batch, h_l, w_l, c_l]; not disposed
 * @returns [batch, h_0, w_0, Σ c_l]
 */
export function patchEmbedding(features: readonly tf.Tensor4D[]): tf.Tensor4D {
  if (features.length === 0) throw new LabError('patch embedding needs at least one layer');
  return tf.tidy(() => {
    const pooled = features.map((f) => localAverage3x3(f));
    const [h, w] = [pooled[0]!.shape[1], pooled[0]!.shape[2]];
    const parts = pooled.map((p, i) => (i === 0 || (p.shape[1] === h && p.shape[2] === w) ? p : tf.image.resizeBilinear(p, [h, w], false, true)));
    return parts.length === 1 ? parts[0]! : (tf.concat(parts, 3) as tf.Tensor4D);
  });
}

export class PatchCoreModel {
  private constructor(readonly extractor: FeatureExtractor) {}

  static async create(config: Pick<PatchCoreConfig, 'arch' | 'layers' | 'seed'>, weights: WeightsSource): Promise<PatchCoreModel> {
    return new PatchCoreModel(await FeatureExtractor.create(config.arch, config.layers as ResNetLayer[], weights, config.seed));
  }

  static fromExtractor(extractor: FeatureExtractor): PatchCoreModel {
    return new PatchCoreModel(extractor);
  }

  /** Embedding channels: the sum of the layers' channels. */
  get width(): number {
    return this.extractor.channels().reduce((a, b) => a + b, 0);
  }

  /**
   * @param images [batch, size, size, 3] in [0, 1]
   * @returns patch embeddings [batch, size/8, size/8, width] (stride of the first layer)
   */
  embed(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const feats = this.extractor.extract(images);
      return patchEmbedding(this.extractor.layers.map((l) => feats[l]!));
    });
  }

  dispose(): void {
    this.extractor.dispose();
  }
}
