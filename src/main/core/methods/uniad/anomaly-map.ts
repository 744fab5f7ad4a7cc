/**
 * UniAD's anomaly map and image score (zhiyuanyou/UniAD models/reconstructions/uniad.py forward,
 * utils/eval_helper.py EvalImageMax): the L2 norm of the feature reconstruction error per token,
 * upsampled ×16 with UpsamplingBilinear2d (align_corners=True) to the input size, no smoothing;
 * the image score is the maximum of the map averaged over `pool` × `pool` windows (avg_pool2d,
 * stride 1, no padding).
 */
import * as tf from '@tensorflow/tfjs-core';
import { UNIAD_STRIDE } from './config';

/** rec, align [b, h, w, C] → the token-level error map [b, h, w]: sqrt(Σ_c (rec − align)²). */
export function errorNorm(rec: tf.Tensor4D, align: tf.Tensor4D): tf.Tensor3D {
  return tf.sqrt(tf.sum(tf.squaredDifference(rec, align), -1)) as tf.Tensor3D;
}

/**
 * rec, align [b, h, w, C] → maps [b, 16h, 16w] and scores [b].
 */
export function anomalyMaps(rec: tf.Tensor4D, align: tf.Tensor4D, pool: number): { maps: tf.Tensor3D; scores: tf.Tensor1D } {
  return tf.tidy(() => {
    const [b, h, w] = rec.shape;
    const pred = tf.reshape(errorNorm(rec, align), [b, h, w, 1]) as tf.Tensor4D;
    const up = tf.image.resizeBilinear(pred, [h * UNIAD_STRIDE, w * UNIAD_STRIDE], true);
    const pooled = tf.avgPool(up, pool, 1, 'valid');
    const scores = tf.max(tf.reshape(pooled, [b, -1]), 1) as tf.Tensor1D;
    return { maps: tf.reshape(up, [b, h * UNIAD_STRIDE, w * UNIAD_STRIDE]) as tf.Tensor3D, scores };
  });
}
