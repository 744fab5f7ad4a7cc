/**
 * Reverse Distillation's loss: how far the student's features are from the teacher's, as 1 − cosine
 * similarity, summed over the three levels. The two implementations differ in what a "vector" is
 * (METHODS.md section 1.2, RD4AD issue #22):
 *   - 'flattened' (RD4AD main.py `loss_fucntion`): the whole C·H·W feature map of a sample is one
 *     vector; mean over the batch of 1 − cos;
 *   - 'per-pixel' (anomalib v0.3.7 loss.py, the paper's equation): each pixel's C channels are a
 *     vector; mean over batch and pixels of 1 − cos.
 * The cosine is torch 1.13's `F.cosine_similarity` (eps 1e-8): x·y / √(max(|x|², eps²)·max(|y|², eps²)).
 */
import * as tf from '@tensorflow/tfjs-core';

const EPS = 1e-8;

/**
 * torch's cosine similarity over `axes` of two tensors of one shape. The sums over a flattened
 * level (up to 1.8 M values) are taken channels first, then over the pixels: two float32 levels
 * instead of one long accumulation (nn/layers.ts batchMoments says why that matters on wasm).
 * @param a, b [batch, h, w, c]
 * @returns [batch, h, w] for 'channels', [batch] for 'all'
 */
export function cosineSimilarity(a: tf.Tensor4D, b: tf.Tensor4D, over: 'channels' | 'all'): tf.Tensor {
  return tf.tidy(() => {
    const sum = (x: tf.Tensor): tf.Tensor => (over === 'channels' ? tf.sum(x, 3) : tf.sum(tf.sum(x, 3), [1, 2]));
    const dot = sum(tf.mul(a, b));
    const na = tf.maximum(sum(tf.square(a)), EPS * EPS);
    const nb = tf.maximum(sum(tf.square(b)), EPS * EPS);
    return tf.div(dot, tf.sqrt(tf.mul(na, nb)));
  });
}

/**
 * @param teacher, student the three levels, [batch, h_l, w_l, c_l] each, teacher's order
 * @returns the scalar loss and its part per level (`layer1`..`layer3`, stored as series)
 */
export function rdLoss(teacher: readonly tf.Tensor4D[], student: readonly tf.Tensor4D[], kind: 'flattened' | 'per-pixel'): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const parts: Record<string, tf.Scalar> = {};
  let loss: tf.Scalar = tf.scalar(0);
  teacher.forEach((t, i) => {
    const cos = cosineSimilarity(t, student[i]!, kind === 'flattened' ? 'all' : 'channels');
    const part = tf.mean(tf.sub(1, cos)) as tf.Scalar;
    parts[`layer${i + 1}`] = part;
    loss = tf.add(loss, part);
  });
  return { loss, parts };
}
