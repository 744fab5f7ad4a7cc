/**
 * The gradient of a training-mode batch norm over the channels of NHWC input (BatchNorm2d), as
 * torch computes it (aten batch_norm_cpu_backward):
 *   sum = Σ dy,  dot = Σ (x − mean)·dy               (per channel, over batch, h, w)
 *   dx  = (dy − sum/N − (x − mean)·dot·invstd²/N) · invstd · scale
 *   dscale = dot · invstd,  doffset = sum
 * with invstd = 1/√(variance + ε); the batch statistics' own gradients are folded in (mean and
 * variance are functions of x).
 *
 * tfjs-core's composite gradient of the same thing (FusedBatchNorm's gradient plus the gradients
 * of the moments: tiles, broadcast products and sums, ~25 passes over the activation) was ~20 % of
 * a U-Net training step on wasm, where a broadcast binary op ([n, h, w, c] with [c]) is a scalar
 * loop 4–5× slower than a plain one and a sum over axes other than the last transposes first. Here
 * every per-channel operation on the activation is a 1×1 depthwise convolution (XNNPACK, a
 * vectorised pass, with the per-channel bias fused) and every per-channel sum an average pool (in
 * two levels of ≤ 1024 elements, then ×count, so float32 sums stay at the precision of
 * batchMoments'): 5 passes over the activation, ~3–4× faster than the same formula in JavaScript.
 * `x − mean` is computed as x·1 + (−mean) by the depthwise convolution: the same single rounding
 * as a subtraction. Works on every backend (all have these kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor1D, Tensor4D } from '@tensorflow/tfjs-core';

/** Most elements one pooling window sums in float32 (the first level of the per-channel sums). */
const LEVEL1 = 1024;

/** Σ over batch, h, w of t [b, h, w, c] → [c], in two levels: pooled windows of whole rows, then the windows. */
export function channelSums(t: Tensor4D): Tensor1D {
  return tf.tidy(() => {
    const [b, h, w, c] = t.shape;
    // Windows of `rows` whole rows (rows divides h); a row longer than LEVEL1 is one window.
    let rows = Math.max(1, Math.min(h, Math.floor(LEVEL1 / w)));
    while (h % rows !== 0) rows--;
    const means = tf.avgPool(t, [rows, w], [rows, w], 'valid'); // [b, h / rows, 1, c]
    const partial = tf.reshape(means, [b * (h / rows), c]);
    return tf.mul(tf.sum(partial, 0), rows * w) as Tensor1D;
  });
}

/** Per-channel x·scale + bias (scale, bias [c]) as a 1×1 depthwise convolution. */
function channelAffine(x: Tensor4D, scale: Tensor1D, bias: Tensor1D | null): Tensor4D {
  const c = x.shape[3];
  const filter = tf.reshape(scale, [1, 1, c, 1]) as Tensor4D;
  return bias ? tf.fused.depthwiseConv2d({ x, filter, strides: 1, pad: 'valid', bias }) : tf.depthwiseConv2d(x, filter, 1, 'valid');
}

/**
 * dx, dscale, doffset of y = batchNorm(x, mean(x), variance(x), offset, scale, ε), the statistics
 * over batch, h, w of x [b, h, w, c] (biased variance, as the forward used); mean, variance,
 * scale [c].
 */
export function batchNormGradChannelsLast(x: Tensor4D, dy: Tensor4D, mean: Tensor1D, variance: Tensor1D, scale: Tensor1D, varianceEpsilon: number): [Tensor4D, Tensor1D, Tensor1D] {
  return tf.tidy(() => {
    const xc = channelAffine(x, tf.ones([x.shape[3]]) as Tensor1D, tf.neg(mean) as Tensor1D);
    return batchNormGradCentered(xc, dy, variance, scale, varianceEpsilon);
  }) as [Tensor4D, Tensor1D, Tensor1D];
}

/** batchNormGradChannelsLast from the centred input xc = x − mean (what batchNormForwardChannelsLast keeps). */
export function batchNormGradCentered(xc: Tensor4D, dy: Tensor4D, variance: Tensor1D, scale: Tensor1D, varianceEpsilon: number): [Tensor4D, Tensor1D, Tensor1D] {
  return tf.tidy(() => {
    const [b, h, w] = xc.shape;
    const n = b * h * w;
    const sum = channelSums(dy);
    const dot = channelSums(tf.mul(xc, dy) as Tensor4D);
    const invstd = tf.rsqrt(tf.add(variance, varianceEpsilon)) as Tensor1D;
    const a = tf.mul(invstd, scale) as Tensor1D;
    const k = tf.div(tf.mul(dot, tf.square(invstd)), n) as Tensor1D;
    const dyPart = channelAffine(dy, a, tf.neg(tf.div(tf.mul(a, sum), n)) as Tensor1D);
    const dx = tf.sub(dyPart, channelAffine(xc, tf.mul(a, k) as Tensor1D, null)) as Tensor4D;
    return [dx, tf.mul(dot, invstd) as Tensor1D, sum] as [Tensor4D, Tensor1D, Tensor1D];
  }) as [Tensor4D, Tensor1D, Tensor1D];
}

/**
 * The training-mode forward with the same vectorised passes: mean = Σx/N, xc = x − mean,
 * variance = Σxc²/N (biased; the sums in two levels as channelSums'), y = xc · scale/√(variance + ε)
 * + offset — 5 passes over x instead of batchMoments + tf.batchNorm4d's ~8 on wasm (its sums over
 * non-last axes transpose first, its subtraction broadcasts, FusedBatchNorm divides per element).
 * The same formula as those; the values differ from them by float rounding only (the sums'
 * grouping, and scale/√(variance + ε) applied as one product instead of a product and a quotient).
 * Returns xc for the gradient (batchNormGradCentered).
 */
export function batchNormForwardChannelsLast(
  x: Tensor4D,
  scale: Tensor1D,
  offset: Tensor1D,
  varianceEpsilon: number,
): { y: Tensor4D; xc: Tensor4D; mean: Tensor1D; variance: Tensor1D } {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const n = b * h * w;
    const mean = tf.div(channelSums(x), n) as Tensor1D;
    const xc = channelAffine(x, tf.ones([c]) as Tensor1D, tf.neg(mean) as Tensor1D);
    const variance = tf.div(channelSums(tf.mul(xc, xc) as Tensor4D), n) as Tensor1D;
    const y = channelAffine(xc, tf.mul(scale, tf.rsqrt(tf.add(variance, varianceEpsilon))) as Tensor1D, offset);
    return { y, xc, mean, variance };
  });
}
