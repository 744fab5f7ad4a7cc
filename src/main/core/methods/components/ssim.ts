/**
 * SSIM as DRAEM's reconstruction loss computes it (official code VitjanZ/DRAEM loss.py `ssim` /
 * `SSIM`, after Wang et al. 2004): an 11×11 Gaussian window (σ 1.5, normalised to sum 1) per
 * channel with zero padding 5, C1 = (0.01 L)², C2 = (0.03 L)², the mean of the SSIM map over
 * batch, channels and pixels. L comes from the data as loss.py picks it from its FIRST argument
 * (the reconstruction in train_DRAEM.py): 255 if its maximum exceeds 128 else 1, minus −1 if its
 * minimum is below −0.5 else 0. The choice is made on the device (no read-back inside a training
 * step) and, as in torch, no gradient flows through it.
 *
 * The 11×11 window is the outer product of a 1-D Gaussian, so it runs as two 1-channel passes
 * (11×1 then 1×11) over every channel of the five statistics stacked along the batch: the same sum
 * as loss.py's depthwise 11×11 convolution up to float rounding, and differentiable with the plain
 * conv2d gradients (METHODS.md 3.6).
 */
import * as tf from '@tensorflow/tfjs-core';

/** loss.py `gaussian(11, 1.5)`: exp(−(x − 5)²/(2σ²)) in double, stored as float32, normalised in float32. */
export function ssimWindow(size = 11, sigma = 1.5): Float32Array {
  const g = Float32Array.from({ length: size }, (_, x) => Math.exp(-((x - Math.floor(size / 2)) ** 2) / (2 * sigma ** 2)));
  let sum = 0;
  for (const v of g) sum = Math.fround(sum + v);
  return g.map((v) => Math.fround(v / sum));
}

/**
 * loss.py's L from the data, on the device, with no gradient to `a` (torch decides it in Python).
 * tfjs has no stopGradient and no gradient for Greater / Less, so the choice is wrapped in a
 * customGrad whose gradient is zero.
 * @returns scalar: 1, 2, 255 or 256
 */
function dynamicRange(a: tf.Tensor4D): tf.Scalar {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const maxVal = tf.where(tf.greater(tf.max(x), 128), tf.scalar(255), tf.scalar(1));
    const minVal = tf.where(tf.less(tf.min(x), -0.5), tf.scalar(-1), tf.scalar(0));
    return { value: tf.sub(maxVal, minVal) as tf.Scalar, gradFunc: () => tf.zerosLike(x) };
  });
  return f(a) as tf.Scalar;
}

/**
 * Mean SSIM of two batches.
 * @param a, b [batch, h, w, c]; L is chosen from `a` (the reconstruction)
 * @returns scalar in (−1, 1]; call inside a tidy scope or tf.variableGrads
 */
export function ssim(a: tf.Tensor4D, b: tf.Tensor4D, windowSize = 11, sigma = 1.5): tf.Scalar {
  const [n, h, w, c] = a.shape;
  const k = ssimWindow(windowSize, sigma);
  const pad = Math.floor(windowSize / 2);
  // [n, h, w, c] → [n·c, h, w, 1]: each channel filtered on its own (groups = channels).
  const planes = (t: tf.Tensor4D): tf.Tensor4D => tf.reshape<tf.Rank.R4>(tf.transpose(t, [0, 3, 1, 2]), [n * c, h, w, 1]);
  const x = planes(a);
  const y = planes(b);
  const stacked = tf.concat([x, y, tf.mul(x, x), tf.mul(y, y), tf.mul(x, y)] as tf.Tensor4D[], 0);
  const padded = tf.pad(stacked, [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  const rows = tf.conv2d(padded, tf.tensor4d(k, [windowSize, 1, 1, 1]), 1, 'valid');
  const blurred = tf.conv2d(rows, tf.tensor4d(k, [1, windowSize, 1, 1]), 1, 'valid');
  const [mu1, mu2, e11, e22, e12] = tf.split(blurred, 5, 0) as tf.Tensor4D[];
  const mu1Sq = tf.square(mu1!);
  const mu2Sq = tf.square(mu2!);
  const mu12 = tf.mul(mu1!, mu2!);
  const sigma1Sq = tf.sub(e11!, mu1Sq);
  const sigma2Sq = tf.sub(e22!, mu2Sq);
  const sigma12 = tf.sub(e12!, mu12);
  const L = dynamicRange(a);
  const c1 = tf.square(tf.mul(0.01, L));
  const c2 = tf.square(tf.mul(0.03, L));
  const v1 = tf.add(tf.mul(2, sigma12), c2);
  const v2 = tf.add(tf.add(sigma1Sq, sigma2Sq), c2);
  const map = tf.div(tf.mul(tf.add(tf.mul(2, mu12), c1), v1), tf.mul(tf.add(tf.add(mu1Sq, mu2Sq), c1), v2));
  return tf.mean(map) as tf.Scalar;
}

/** loss.py `SSIM()(a, b)`: 1 − mean SSIM, the reconstruction loss DRAEM adds to the L2 term. */
export function ssimLoss(a: tf.Tensor4D, b: tf.Tensor4D): tf.Scalar {
  return tf.sub(1, ssim(a, b)) as tf.Scalar;
}
