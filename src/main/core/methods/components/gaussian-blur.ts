/**
 * The Gaussian smoothing of anomaly maps as tensors (σ in pixels, 33 taps at σ 4: the kernel of
 * evaluation/post-process.ts `gaussianKernel`, truncate 4), separable, with torch's 'reflect'
 * padding (the edge pixel is not repeated), as kornia's gaussian_blur2d and anomalib's maps
 * compute it. For methods whose maps stay on the device until their score is taken.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianKernel } from '../../evaluation/index';

/**
 * @param maps [batch, h, w] (h, w > radius = round(4σ))
 * @returns [batch, h, w] smoothed; inside the caller's tidy scope
 */
export function gaussianBlurMaps(maps: tf.Tensor3D, sigma: number): tf.Tensor3D {
  const k = Float32Array.from(gaussianKernel(sigma));
  const r = (k.length - 1) / 2;
  const [b, h, w] = maps.shape;
  const x = tf.reshape(maps, [b, h, w, 1]) as tf.Tensor4D;
  const padded = tf.mirrorPad(x, [[0, 0], [r, r], [r, r], [0, 0]], 'reflect');
  const rows = tf.conv2d(padded, tf.tensor4d(k, [k.length, 1, 1, 1]), 1, 'valid');
  const both = tf.conv2d(rows, tf.tensor4d(k, [1, k.length, 1, 1]), 1, 'valid');
  return tf.reshape(both, [b, h, w]);
}
