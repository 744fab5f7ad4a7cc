/**
 * The focal loss of DRAEM's segmentation (Lin et al., ICCV 2017; official code VitjanZ/DRAEM loss.py
 * `FocalLoss`, copied there from Hsuxu/Loss_ToolBox-PyTorch) with the defaults train_DRAEM.py uses:
 * applied to softmax PROBABILITIES (the caller's softmax, as train_DRAEM.py passes `out_mask_sm`),
 * γ 2, α all ones, and its label smoothing: the one-hot target clamped to [1e-5, 1 − 1e-5], then
 * pt = Σ_c target_c · p_c + 1e-5, loss = −(1 − pt)² · log pt, the mean over every pixel.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * @param probs [batch, h, w, classes] softmax probabilities
 * @param target [batch, h, w, 1] class indices (DRAEM: the anomaly mask, 0 or 1)
 * @returns scalar; call inside a tidy scope or tf.variableGrads
 */
export function focalLoss(probs: tf.Tensor4D, target: tf.Tensor4D, gamma = 2, smooth = 1e-5): tf.Scalar {
  const classes = probs.shape[3];
  const labels = tf.cast(tf.reshape(target, target.shape.slice(0, 3)), 'int32');
  const oneHot = tf.clipByValue(tf.cast(tf.oneHot(labels, classes), 'float32'), smooth / (classes - 1), 1 - smooth);
  const pt = tf.add(tf.sum(tf.mul(oneHot, probs), 3), smooth);
  // (1 − pt)^γ: pt ≤ 1 here, but a square (γ 2) needs no log of the base, whose gradient tf.pow takes.
  const weight = gamma === 2 ? tf.square(tf.sub(1, pt)) : tf.pow(tf.sub(1, pt), gamma);
  return tf.mean(tf.neg(tf.mul(weight, tf.log(pt)))) as tf.Scalar;
}
