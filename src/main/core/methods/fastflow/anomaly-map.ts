/**
 * FastFlow's anomaly map and image score (METHODS.md section 2.3; gathierry fastflow.py `forward`
 * in eval mode, anomalib v0.3.7 anomaly_map.py): per scale the likelihood of each position,
 * exp(−½ · mean over channels of z²), negated and upsampled bilinearly to the input size with
 * align_corners=False (tfjs' halfPixelCenters: forward only, never differentiated, METHODS 0.1
 * item 4); the map is the mean over the scales, in [−1, 0]; no blur. The image score is the map's
 * maximum (anomalib's rule; the reference reports pixel AUROC only).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * @param zs per scale z [batch, h, w, c]
 * @param size the input side
 * @returns each scale's −exp(−½·mean_C z²) upsampled, [batch, size, size]
 */
export function scaleMaps(zs: readonly tf.Tensor4D[], size: number): tf.Tensor3D[] {
  return tf.tidy(() =>
    zs.map((z) => {
      const [b] = z.shape;
      const prob = tf.exp(tf.mul(tf.mean(tf.square(z), 3, true), -0.5)) as tf.Tensor4D;
      const up = tf.image.resizeBilinear(tf.neg(prob), [size, size], false, true);
      return tf.reshape(up, [b, size, size]) as tf.Tensor3D;
    }),
  );
}

/**
 * @param zs per scale z [batch, h, w, c]
 * @returns maps [batch, size, size] (the scales' mean), scores [batch] (their maxima), and the per-scale maps
 */
export function anomalyMaps(zs: readonly tf.Tensor4D[], size: number): { maps: tf.Tensor3D; scores: tf.Tensor1D; scales: tf.Tensor3D[] } {
  return tf.tidy(() => {
    const scales = scaleMaps(zs, size);
    // torch.stack(maps, -1).mean(-1): the sum in scale order over the count.
    const maps = tf.div(scales.slice(1).reduce((acc, m) => tf.add(acc, m), scales[0]!), scales.length) as tf.Tensor3D;
    return { maps, scores: tf.max(maps, [1, 2]) as tf.Tensor1D, scales };
  });
}
