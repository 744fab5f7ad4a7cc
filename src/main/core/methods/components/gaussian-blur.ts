/**
 * The Gaussian smoothing of anomaly maps as tensors (σ in pixels, 33 taps at σ 4: the kernel of
 * evaluation/post-process.ts `gaussianKernel`, truncate 4), separable, with torch's 'reflect'
 * padding (the edge pixel is not repeated), as kornia's gaussian_blur2d and anomalib's maps
 * compute it, or with scipy's `gaussian_filter` border (mode 'reflect' there: the edge pixel IS
 * repeated; tf.mirrorPad calls that 'symmetric'), as RD4AD's test.py smooths its maps. For methods
 * whose maps stay on the device until their score is taken.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianKernel } from '../../evaluation/index';

/**
 * How the border is padded: 'reflect' as torch / kornia (d c b | a b c d | c b a), 'symmetric' as
 * scipy.ndimage's mode 'reflect' (c b a | a b c d | d c b).
 */
export type BlurBorder = 'reflect' | 'symmetric';

/**
 * @param maps [batch, h, w] (h, w > radius = round(4σ) for 'reflect', ≥ radius for 'symmetric')
 * @returns [batch, h, w] smoothed; inside the caller's tidy scope
 */
export function gaussianBlurMaps(maps: tf.Tensor3D, sigma: number, border: BlurBorder = 'reflect'): tf.Tensor3D {
  const k = Float32Array.from(gaussianKernel(sigma));
  const r = (k.length - 1) / 2;
  const [b, h, w] = maps.shape;
  const x = tf.reshape(maps, [b, h, w, 1]) as tf.Tensor4D;
  const padded = tf.mirrorPad(x, [[0, 0], [r, r], [r, r], [0, 0]], border);
  const rows = tf.conv2d(padded, tf.tensor4d(k, [k.length, 1, 1, 1]), 1, 'valid');
  const both = tf.conv2d(rows, tf.tensor4d(k, [1, k.length, 1, 1]), 1, 'valid');
  return tf.reshape(both, [b, h, w]);
}
