/**
 * FastFlow's loss: the negative log-likelihood of the features under the flows' standard normal,
 * as the reference sums it (gathierry fastflow.py `forward`; anomalib v0.3.7 loss.py): per scale
 * the batch mean of 0.5·Σ_{C,H,W} z² − log|J|, summed over the scales. The constant
 * ½·log(2π) per dimension is left out, as there. Values are large and negative once the flows
 * fit (nats over every feature value): normal (METHODS.md 2.2).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ScaleOutput } from './model';

/** The names of the scales' loss parts (stored as series loss/<name>): the backbone layers they come from. */
export const SCALE_NAMES = ['layer1', 'layer2', 'layer3'] as const;

/**
 * @param outputs per scale z [batch, h, w, c] and log|J| [batch]
 * @returns the scalar loss and its part per scale
 */
export function fastflowLoss(outputs: readonly ScaleOutput[]): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const parts: Record<string, tf.Scalar> = {};
  let loss: tf.Scalar = tf.scalar(0);
  outputs.forEach(({ z, logJac }, i) => {
    // Σ over C, H, W in two float32 levels (channels, then pixels).
    const sq = tf.sum(tf.sum(tf.square(z), 3), [1, 2]);
    const part = tf.mean(tf.sub(tf.mul(0.5, sq), logJac)) as tf.Scalar;
    parts[SCALE_NAMES[i] ?? `scale${i + 1}`] = part;
    loss = tf.add(loss, part);
  });
  return { loss, parts };
}
