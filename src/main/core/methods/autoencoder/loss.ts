/**
 * The Auto-Encoder's loss: the mean squared error between the reconstruction and the normalised
 * input over every pixel and channel (torch `F.mse_loss`, reduction 'mean'), MVTec AD's "AE_L2";
 * ours, since MIAD A.2.5 names no loss.
 */
import * as tf from '@tensorflow/tfjs-core';

/** recon, target [batch, s, s, 3] → scalar. */
export function reconstructionLoss(recon: tf.Tensor4D, target: tf.Tensor4D): tf.Scalar {
  return tf.mean(tf.squaredDifference(recon, target));
}
