/**
 * DRAEM's training loss (official code VitjanZ/DRAEM train_DRAEM.py): the reconstruction of the
 * augmented image is pulled towards the CLEAN image by the mean squared error and 1 − SSIM
 * (components/ssim.ts), and the discriminative network's softmax towards the synthetic anomaly
 * mask by the focal loss (components/focal.ts); the three are summed with weight 1. The focal term
 * back-propagates into the reconstructive network through the reconstruction (no detach).
 */
import * as tf from '@tensorflow/tfjs-core';
import { focalLoss } from '../components/focal';
import { ssimLoss } from '../components/ssim';
import type { DraemModel } from './model';

export interface DraemLossOutput {
  loss: tf.Scalar;
  parts: { l2: tf.Scalar; ssim: tf.Scalar; focal: tf.Scalar };
  reconstruction: tf.Tensor4D;
  logits: tf.Tensor4D;
}

/**
 * One training step's loss (train mode), all in the network's channel order.
 * @param augmented [b, s, s, 3] in [0, 1]: the images with synthetic anomalies (the input)
 * @param target [b, s, s, 3] in [0, 1]: the same images without them (the reconstruction target)
 * @param mask [b, s, s, 1] in {0, 1}: where the anomalies are
 */
export function draemLoss(model: DraemModel, augmented: tf.Tensor4D, target: tf.Tensor4D, mask: tf.Tensor4D): DraemLossOutput {
  const { reconstruction, logits } = model.forward(augmented);
  const l2 = tf.mean(tf.squaredDifference(reconstruction, target)) as tf.Scalar;
  // loss.py's ssim(img1, img2) takes L from img1: train_DRAEM.py passes the reconstruction first.
  const ssim = ssimLoss(reconstruction, target);
  const focal = focalLoss(tf.softmax(logits, 3) as tf.Tensor4D, mask);
  const loss = tf.add(tf.add(l2, ssim), focal) as tf.Scalar;
  return { loss, parts: { l2, ssim, focal }, reconstruction, logits };
}
