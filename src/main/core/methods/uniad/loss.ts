/**
 * UniAD's loss (zhiyuanyou/UniAD utils/criterion_helper.py FeatureMSELoss, weight 1): the mean
 * squared error between the reconstructed features and the clean (un-jittered) features, over
 * every element.
 */
import * as tf from '@tensorflow/tfjs-core';

/** rec, align [b, h, w, C] → scalar mean((rec − align)²). */
export function featureMseLoss(rec: tf.Tensor4D, align: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.squaredDifference(rec, align));
}
