/**
 * DRAEM's anomaly map and image score (official code VitjanZ/DRAEM test_DRAEM.py): the map is the
 * discriminative network's softmax probability of the anomalous class, pixel by pixel, with no
 * smoothing; the image score is the maximum of that map averaged over a 21×21 window with stride 1
 * and zero padding 10 (torch's avg_pool2d counts the padded zeros: count_include_pad=True, so the
 * map is padded first and pooled 'valid'; tfjs' 'same' pooling would leave the zeros out and
 * differ at the borders). METHODS.md 0.1 item 11: the score rule is this method's own.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * @param logits [b, s, s, 2] the discriminative network's output
 * @param window odd side of the averaging window (21)
 * @returns maps [b, s, s] in [0, 1], scores [b]
 */
export function anomalyMaps(logits: tf.Tensor4D, window = 21): { maps: tf.Tensor3D; scores: tf.Tensor1D } {
  return tf.tidy(() => {
    const [b, s] = logits.shape;
    const anomalous = tf.slice(tf.softmax(logits, 3), [0, 0, 0, 1], [b, s, s, 1]) as tf.Tensor4D;
    const pad = (window - 1) / 2;
    const averaged = tf.avgPool(tf.pad(anomalous, [[0, 0], [pad, pad], [pad, pad], [0, 0]]), window, 1, 'valid');
    return { maps: tf.reshape(anomalous, [b, s, s]) as tf.Tensor3D, scores: tf.max(averaged, [1, 2, 3]) as tf.Tensor1D };
  });
}
