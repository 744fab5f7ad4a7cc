/**
 * Reverse Distillation's anomaly map and image score (METHODS.md section 1.3): per level, 1 − cosine
 * similarity of teacher and student along the channels, bilinear to the input size with
 * align_corners=True (RD4AD test.py `cal_anomaly_map`, anomalib v0.3.7 anomaly_map.py); the levels
 * added (RD4AD's evaluation) or multiplied (anomalib v0.3.7); a Gaussian blur, σ 4 (scipy's
 * edge-repeating border in RD4AD, kornia's reflect in anomalib); the image score is the blurred
 * map's maximum.
 */
import * as tf from '@tensorflow/tfjs-core';
import { gaussianBlurMaps } from '../components/gaussian-blur';
import type { ReverseDistillationConfig } from './config';
import { cosineSimilarity } from './loss';

type MapOptions = Pick<ReverseDistillationConfig, 'mapCombine' | 'sigma' | 'blurBorder'>;

/**
 * @param teacher, student the three levels, [batch, h_l, w_l, c_l] each
 * @param size the input side
 * @returns each level's 1 − cos map upsampled, [batch, size, size] (teacher order)
 */
export function levelMaps(teacher: readonly tf.Tensor4D[], student: readonly tf.Tensor4D[], size: number): tf.Tensor3D[] {
  return tf.tidy(() =>
    teacher.map((t, i) => {
      const d = tf.sub(1, cosineSimilarity(t, student[i]!, 'channels')) as tf.Tensor3D;
      const [b, h, w] = d.shape;
      const up = tf.image.resizeBilinear(tf.reshape(d, [b, h, w, 1]) as tf.Tensor4D, [size, size], true);
      return tf.reshape(up, [b, size, size]) as tf.Tensor3D;
    }),
  );
}

/**
 * @param levels [batch, size, size] each
 * @returns the combined map before the blur [batch, size, size]
 */
export function combineLevels(levels: readonly tf.Tensor3D[], mode: MapOptions['mapCombine']): tf.Tensor3D {
  return tf.tidy(() => levels.slice(1).reduce((acc, l) => (mode === 'add' ? tf.add(acc, l) : tf.mul(acc, l)), levels[0]!));
}

/**
 * @param teacher, student the three levels, [batch, h_l, w_l, c_l] each
 * @returns maps [batch, size, size] (blurred when σ > 0), scores [batch] (their maxima), and the per-level maps [batch, size, size]
 */
export function anomalyMaps(teacher: readonly tf.Tensor4D[], student: readonly tf.Tensor4D[], size: number, options: MapOptions): { maps: tf.Tensor3D; scores: tf.Tensor1D; levels: tf.Tensor3D[] } {
  return tf.tidy(() => {
    const levels = levelMaps(teacher, student, size);
    const raw = combineLevels(levels, options.mapCombine);
    const maps = options.sigma > 0 ? gaussianBlurMaps(raw, options.sigma, options.blurBorder) : raw;
    return { maps, scores: tf.max(maps, [1, 2]) as tf.Tensor1D, levels };
  });
}
