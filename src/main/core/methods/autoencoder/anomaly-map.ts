/**
 * The Auto-Encoder's anomaly map and image score (ours, METHODS.md section 4): the per-pixel
 * squared reconstruction error averaged over the three channels, in the normalised space the model
 * works in, optionally Gaussian-smoothed (σ > 0); the image score is the map's maximum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianBlurMaps } from '../components/gaussian-blur';

/**
 * @param recon, target [batch, s, s, 3]
 * @returns maps [batch, s, s], scores [batch]
 */
export function anomalyMaps(recon: tf.Tensor4D, target: tf.Tensor4D, sigma: number): { maps: tf.Tensor3D; scores: tf.Tensor1D } {
  return tf.tidy(() => {
    const raw = tf.mean(tf.squaredDifference(recon, target), 3) as tf.Tensor3D;
    const maps = sigma > 0 ? gaussianBlurMaps(raw, sigma) : raw;
    return { maps, scores: tf.max(maps, [1, 2]) as tf.Tensor1D };
  });
}
