/**
 * Local neighbourhood aggregation of PatchCore (Roth et al., "Towards Total Recall in Industrial
 * Anomaly Detection", CVPR 2022, eq. 2): each patch feature becomes the mean of its 3×3
 * neighbourhood. anomalib implements it as torch.nn.AvgPool2d(3, 1, 1), whose count_include_pad
 * defaults to True: border patches are divided by 9 with the zero padding counted. tfjs' avgPool
 * with 'same' padding excludes the padding from the count (TensorFlow semantics), so the input is
 * zero-padded explicitly and pooled 'valid' to get torch's numbers.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * 3×3 mean, stride 1, zero padding 1 counted in the divisor (torch AvgPool2d(3, 1, 1)).
 * @param x [batch, h, w, c]
 * @returns [batch, h, w, c]
 */
export function localAverage3x3(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const padded = tf.pad(x, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    return tf.avgPool(padded, 3, 1, 'valid');
  });
}
