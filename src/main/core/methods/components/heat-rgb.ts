/**
 * Maps as heat-coloured RGB tensors, for the pictures a predictor hands the run page as `extras`
 * (RD's per-level distance maps; FastFlow's per-scale maps could use it too). The ramp is the one the
 * run page and the comparison grid draw anomaly maps with (shared/compare/heat.ts), so a level map
 * and the final map read alike.
 */
import * as tf from '@tensorflow/tfjs-core';
import { HEAT_STOPS } from '../../../../shared/compare/heat';

/**
 * Each map scaled to [0, its own maximum] (floored at `floor`, so a flat map stays dark instead of
 * amplifying rounding noise) and coloured on the heat ramp. Per image and per map: the pictures show
 * where a map is high, not how high against other images (the anomaly map on the run's shared scale
 * does that).
 * @param maps [batch, h, w], values ≥ 0
 * @returns [batch, h, w, 3] in [0, 1]; inside the caller's tidy scope
 */
export function heatRgb(maps: tf.Tensor3D, floor = 1e-6): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w] = maps.shape;
    const top = tf.maximum(tf.max(maps, [1, 2], true), floor);
    const v = tf.reshape(tf.clipByValue(tf.div(maps, top), 0, 1), [b, h, w, 1]);
    // The ramp is piecewise linear: its start colour plus, per segment, the segment's colour step
    // times how far v has gone through that segment (0 before it, 1 past it).
    let rgb: tf.Tensor = tf.mul(tf.onesLike(v), tf.tensor1d(HEAT_STOPS[0]!.slice(1).map((c) => c / 255)));
    for (let i = 1; i < HEAT_STOPS.length; i++) {
      const [t0, r0, g0, b0] = HEAT_STOPS[i - 1]!;
      const [t1, r1, g1, b1] = HEAT_STOPS[i]!;
      const through = tf.clipByValue(tf.div(tf.sub(v, t0), t1 - t0), 0, 1);
      rgb = tf.add(rgb, tf.mul(through, tf.tensor1d([(r1 - r0) / 255, (g1 - g0) / 255, (b1 - b0) / 255])));
    }
    return rgb as tf.Tensor4D;
  });
}
