/**
 * Trainable layers with torch.nn's parameter names, buffer names, defaults and arithmetic
 * (torch 1.13): Conv2d, ConvTranspose2d, BatchNorm2d, LayerNorm, Linear, MultiheadAttention,
 * Dropout, Embedding, plus the parameterless ReLU / Identity / Lambda that occupy an index in a
 * Sequential as they do in torch. Images are NHWC `[batch, h, w, c]` (torch: NCHW); sequences are
 * `[batch, length, features]` (torch's MultiheadAttention defaults to `[length, batch, features]`,
 * i.e. `batch_first=False`; ours is `batch_first=True`). Every forward is a pure synchronous tensor
 * function except BatchNorm2d's running-statistics update in training mode, which assigns its
 * (non-trainable) buffers as torch does.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { batchNormForwardChannelsLast, batchNormGradCentered, batchNormGradChannelsLast, channelSums } from '../kernels/batch-norm-grad';
import { Module } from './module';
import { normal, ones, torchDefaultBias, torchDefaultWeight, xavierUniform, zeros } from './init';
import type { Rng } from './rng';

type Pair = [number, number];
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

function pair(v: number | Pair, what: string): Pair {
  const p: Pair = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= 0)) throw new LabError(`${what} must be a non-negative integer or a pair of them, got ${JSON.stringify(v)}`, 'ValidationError');
  return p;
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new LabError(`${what} must be a positive integer, got ${n}`, 'ValidationError');
  return n;
}

/** torch's symmetric zero padding (`padding=p` pads p on both sides) as tfjs explicit padding. */
function symmetricPadding([ph, pw]: Pair): 'valid' | ExplicitPadding {
  return ph === 0 && pw === 0 ? 'valid' : [[0, 0], [ph, ph], [pw, pw], [0, 0]];
}

export interface Conv2dOptions {
  stride?: number | Pair;
  /** Symmetric zero padding as torch's `padding=p` (not TF 'same': METHODS 0.1 item 7). Default 0. */
  padding?: number | Pair;
  /** Default 1. tfjs-core has no conv2d gradient for dilation > 1, so dilated convs are forward-only. */
  dilation?: number | Pair;
  bias?: boolean;
}

/**
 * torch.nn.Conv2d(in, out, kernel, stride, padding, dilation, bias) with zero padding and groups 1.
 * weight: tfjs [kh, kw, in, out] ↔ torch [out, in, kh, kw]; bias [out].
 * Init as torch: weight kaiming_uniform(a=√5) = U(±1/√fan_in), bias U(±1/√fan_in), fan_in = in·kh·kw.
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly dilation: Pair;
  readonly #pad: 'valid' | ExplicitPadding;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    positive(inChannels, 'Conv2d in_channels');
    positive(outChannels, 'Conv2d out_channels');
    this.kernelSize = pair(kernelSize, 'Conv2d kernel_size');
    this.stride = pair(options.stride ?? 1, 'Conv2d stride');
    this.padding = pair(options.padding ?? 0, 'Conv2d padding');
    this.dilation = pair(options.dilation ?? 1, 'Conv2d dilation');
    const [kh, kw] = this.kernelSize;
    this.#pad = symmetricPadding(this.padding);
    this.weight = this.registerParameter('weight', { shape: [outChannels, inChannels, kh, kw], layout: 'conv', init: torchDefaultWeight });
    this.bias = options.bias ?? true ? this.registerParameter('bias', { shape: [outChannels], init: torchDefaultBias(inChannels * kh * kw) }) : null;
  }

  /** x [batch, h, w, in] → [batch, ⌊(h + 2p − d(k−1) − 1)/s⌋ + 1, …, out]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, this.#pad, 'NHWC', this.dilation);
    return this.bias ? addChannelBias(y, this.bias as tf.Tensor1D) : y;
  }
}

export type ConvBiasImpl = 'channel-bias' | 'add';
let convBiasImpl: ConvBiasImpl = 'channel-bias';

/** Chooses how Conv2d adds its bias: addChannelBias (the default) or a plain tf.add with tfjs-core's gradient (before/after measurements); returns the previous choice. */
export function setConvBiasImpl(impl: ConvBiasImpl): ConvBiasImpl {
  const previous = convBiasImpl;
  convBiasImpl = impl;
  return previous;
}

/**
 * y + bias over the channels of NHWC y, as `tf.add(y, bias)` computes it (the same single rounding:
 * a 1×1 depthwise convolution with filter 1 and that bias, bit for bit the broadcast add on wasm
 * and cpu, tests/engine/wasm-training-speed.test.ts), with its gradient given directly: dy for y,
 * the per-channel sums of dy for the bias (kernels/batch-norm-grad.ts channelSums, two levels).
 * On wasm a broadcast add is a scalar loop and the bias gradient's sum over non-last axes
 * transposes dy first; this is ~2 % of a U-Net training step.
 */
function addChannelBias(y: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  if (convBiasImpl === 'add') return tf.add(y, bias);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [yi, b] = args as [tf.Tensor4D, tf.Tensor1D];
    const filter = tf.ones([1, 1, yi.shape[3], 1]) as tf.Tensor4D;
    return {
      value: tf.fused.depthwiseConv2d({ x: yi, filter, strides: 1, pad: 'valid', bias: b }),
      // A reshape, as tfjs-core's Add gradient returns: a new tensor over the same data.
      gradFunc: (dy: tf.Tensor) => [tf.reshape(dy, yi.shape), channelSums(dy as tf.Tensor4D)],
    };
  });
  return f(y, bias) as tf.Tensor4D;
}

export interface ConvTranspose2dOptions {
  stride?: number | Pair;
  /** torch's `padding`: removes p rows/columns from each side of the full output. Default 0. */
  padding?: number | Pair;
  /** torch's `output_padding`: extra rows/columns at the bottom/right; must be < stride. Default 0. */
  outputPadding?: number | Pair;
  bias?: boolean;
}

/**
 * torch.nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding, bias), groups 1,
 * dilation 1. Output size (h − 1)·s − 2p + k + output_padding, as torch.
 * weight: tfjs [kh, kw, out, in] (conv2dTranspose's filter) ↔ torch [in, out, kh, kw]; bias [out].
 * Init as torch: kaiming_uniform(a=√5) with torch's fan_in = weight.size(1)·kh·kw = out·kh·kw
 * (torch computes it from the transposed weight), bias U(±1/√that fan_in).
 */
export class ConvTranspose2d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly kernelSize: Pair;
  readonly stride: Pair;
  readonly padding: Pair;
  readonly outputPadding: Pair;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | Pair,
    options: ConvTranspose2dOptions = {},
  ) {
    super();
    positive(inChannels, 'ConvTranspose2d in_channels');
    positive(outChannels, 'ConvTranspose2d out_channels');
    this.kernelSize = pair(kernelSize, 'ConvTranspose2d kernel_size');
    this.stride = pair(options.stride ?? 1, 'ConvTranspose2d stride');
    this.padding = pair(options.padding ?? 0, 'ConvTranspose2d padding');
    this.outputPadding = pair(options.outputPadding ?? 0, 'ConvTranspose2d output_padding');
    this.stride.forEach((s, i) => {
      positive(s, 'ConvTranspose2d stride');
      if ((this.outputPadding[i] as number) >= s) throw new LabError(`ConvTranspose2d output_padding must be smaller than stride (torch's rule), got ${this.outputPadding[i]} ≥ ${s}`, 'ValidationError');
    });
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', { shape: [inChannels, outChannels, kh, kw], layout: 'conv', init: torchDefaultWeight });
    this.bias = options.bias ?? true ? this.registerParameter('bias', { shape: [outChannels], init: torchDefaultBias(outChannels * kh * kw) }) : null;
  }

  /** Output [batch, (h−1)·s − 2p + k + op, …] for an input of spatial size h (per axis). */
  outputSize(h: number, w: number): Pair {
    const size = (n: number, i: 0 | 1): number => (n - 1) * this.stride[i] - 2 * this.padding[i] + this.kernelSize[i] + this.outputPadding[i];
    return [size(h, 0), size(w, 1)];
  }

  /** x [batch, h, w, in] → [batch, outputSize(h, w), out]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w] = x.shape;
    const [oh, ow] = this.outputSize(h, w);
    if (oh < 1 || ow < 1) throw new LabError(`ConvTranspose2d: input ${h}×${w} gives an empty output (${oh}×${ow})`, 'ValidationError');
    const [ph, pw] = this.padding;
    // The transposed conv is the input-gradient of a conv whose input is the output: padding p at
    // the top/left and p − output_padding at the bottom/right makes that conv map oh back to h.
    // When output_padding exceeds p, the rows past the full (h−1)s+k output hold no contribution
    // (torch gives them only the bias): compute the full output and append zeros.
    const bottom = ph - this.outputPadding[0];
    const right = pw - this.outputPadding[1];
    const extraH = Math.max(0, -bottom);
    const extraW = Math.max(0, -right);
    const pad: 'valid' | ExplicitPadding =
      ph === 0 && pw === 0 && bottom <= 0 && right <= 0 ? 'valid' : [[0, 0], [ph, Math.max(0, bottom)], [pw, Math.max(0, right)], [0, 0]];
    let y: tf.Tensor4D = tf.conv2dTranspose(x, this.weight as tf.Tensor4D, [b, oh - extraH, ow - extraW, this.outChannels], this.stride, pad);
    if (extraH || extraW) y = tf.pad(y, [[0, 0], [0, extraH], [0, extraW], [0, 0]]);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/**
 * Per-channel mean and biased variance over [batch, h, w], summed in two levels (each row of w
 * values, then the batch·h row sums) instead of tf.moments' one pass: tfjs-backend-wasm adds up a
 * reduction in one float32 accumulator, which over a 4×64×64 batch leaves 3e-6 relative error in
 * the statistics (torch: 4e-8) and 4e-4 at the output of a net with 24 train-mode batch norms
 * (tests/autoencoder/parity.test.ts). Two levels bring it to torch's order. Differentiable as
 * tf.moments is (sums, a subtraction, a square).
 * @param x [batch, h, w, c]
 * @returns mean and variance, each [c]
 */
export function batchMoments(x: tf.Tensor4D): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const [b, h, w, c] = x.shape;
  const n = b * h * w;
  const rows = tf.reshape(x, [b * h, w, c]);
  const mean = tf.div(tf.sum(tf.sum(rows, 1), 0), n) as tf.Tensor1D;
  const centered = tf.sub(rows, mean);
  const variance = tf.div(tf.sum(tf.sum(tf.square(centered), 1), 0), n) as tf.Tensor1D;
  return { mean, variance };
}

/**
 * How BatchNorm2d runs in training mode:
 * - 'vectorised' (the default): forward and gradient as 1×1 depthwise convolutions and average-pool
 *   sums (kernels/batch-norm-grad.ts: batchNormForwardChannelsLast, batchNormGradCentered), the
 *   gradient in torch's closed form; the same formulas, float rounding apart;
 * - 'closed-form-grad': the forward exactly as 'composite' (batchMoments + tf.batchNorm4d, bit for
 *   bit) with the closed-form gradient;
 * - 'composite': batchMoments + tf.batchNorm4d, differentiated by tfjs-core (~25 passes over the
 *   activation in the backward on wasm).
 */
export type BatchNormImpl = 'vectorised' | 'closed-form-grad' | 'composite';
let batchNormImpl: BatchNormImpl = 'vectorised';

/** Chooses BatchNorm2d's training-mode implementation (before/after measurements: bench/autoencoder-train.ts --ab); returns the previous one. */
export function setBatchNormImpl(impl: BatchNormImpl): BatchNormImpl {
  const previous = batchNormImpl;
  batchNormImpl = impl;
  return previous;
}

/**
 * Batch norm with the batch's statistics in training mode, as a custom gradient (unless
 * 'composite'): the gradient through the normalisation and through the statistics is torch's
 * closed form (kernels/batch-norm-grad.ts) instead of tfjs-core's composite of the FusedBatchNorm
 * and moments gradients. `onStats` sees the batch mean and variance (the running-statistics update).
 */
function batchNormTraining(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  eps: number,
  onStats: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  if (batchNormImpl === 'composite') {
    const { mean, variance } = batchMoments(x);
    onStats(mean, variance);
    return tf.batchNorm4d(x, mean, variance, offset, scale, eps);
  }
  const vectorised = batchNormImpl === 'vectorised';
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, sc, of, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    if (vectorised) {
      const { y, xc, mean, variance } = batchNormForwardChannelsLast(xi, sc, of, eps);
      onStats(mean, variance);
      save([xc, variance, sc]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [sxc, sv, ss] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
          return batchNormGradCentered(sxc, dy as tf.Tensor4D, sv, ss, eps);
        },
      };
    }
    const { mean, variance } = batchMoments(xi);
    onStats(mean, variance);
    save([xi, mean, variance, sc]);
    return {
      value: tf.batchNorm4d(xi, mean, variance, of, sc, eps),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sm, sv, ss] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return batchNormGradChannelsLast(sx, dy as tf.Tensor4D, sm, sv, ss, eps);
      },
    };
  });
  return f(x, scale, offset) as tf.Tensor4D;
}

export interface BatchNorm2dOptions {
  eps?: number;
  /** The running-average factor (torch's default 0.1). torch's `momentum=None` (cumulative average) is not supported. */
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * torch.nn.BatchNorm2d on NHWC input: weight/bias [c] (affine), buffers running_mean [c] (0),
 * running_var [c] (1), num_batches_tracked (I64 scalar, 0).
 * Training mode (or trackRunningStats false): normalises with the batch mean and BIASED variance
 * over [batch, h, w] (two-level sums; gradients flow through both statistics, as torch's, in its
 * closed form: batchNormTraining / setBatchNormImpl) and, when
 * tracking, updates running_mean = (1−m)·rm + m·mean, running_var = (1−m)·rv + m·var·n/(n−1)
 * (UNBIASED, n = batch·h·w) and num_batches_tracked += 1, exactly as torch. Eval mode: running stats.
 */
export class BatchNorm2d extends Module {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly runningMean: tf.Variable | null;
  readonly runningVar: tf.Variable | null;
  readonly numBatchesTracked: tf.Variable | null;
  readonly eps: number;
  readonly momentum: number;

  constructor(
    readonly numFeatures: number,
    options: BatchNorm2dOptions = {},
  ) {
    super();
    positive(numFeatures, 'BatchNorm2d num_features');
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    const track = options.trackRunningStats ?? true;
    this.weight = affine ? this.registerParameter('weight', { shape: [numFeatures], init: ones }) : null;
    this.bias = affine ? this.registerParameter('bias', { shape: [numFeatures], init: zeros }) : null;
    this.runningMean = track ? this.registerBuffer('running_mean', { shape: [numFeatures], init: zeros }) : null;
    this.runningVar = track ? this.registerBuffer('running_var', { shape: [numFeatures], init: ones }) : null;
    this.numBatchesTracked = track ? this.registerBuffer('num_batches_tracked', { shape: [], init: zeros, dtype: 'int64' }) : null;
  }

  /** x [batch, h, w, c] → same shape. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    // Without affine parameters, pass 1 and 0 explicitly: tfjs-core's FusedBatchNorm gradient saves
    // `scale` and fails on an absent one when the forward runs under a gradient tape.
    const c = this.numFeatures;
    const scale = (this.weight ?? tf.ones([c])) as tf.Tensor1D;
    const offset = (this.bias ?? tf.zeros([c])) as tf.Tensor1D;
    if (!this.training && this.runningMean && this.runningVar) {
      return tf.batchNorm4d(x, this.runningMean as tf.Tensor1D, this.runningVar as tf.Tensor1D, offset, scale, this.eps);
    }
    const [b, h, w] = x.shape;
    const n = b * h * w;
    if (n < 2) throw new LabError(`BatchNorm2d: expected more than 1 value per channel when training, got input of size [${x.shape.join(', ')}]`, 'ValidationError');
    const track = this.training && this.runningMean !== null && this.runningVar !== null && this.numBatchesTracked !== null;
    return batchNormTraining(x, scale, offset, this.eps, (mean, variance) => {
      if (track) this.#updateRunningStats(mean, variance, n);
    });
  }

  #updateRunningStats(mean: tf.Tensor, variance: tf.Tensor, n: number): void {
    const m = this.momentum;
    const rm = this.runningMean as tf.Variable;
    const rv = this.runningVar as tf.Variable;
    const nbt = this.numBatchesTracked as tf.Variable;
    // Assigning non-trainable variables records nothing the gradient can reach: under
    // tf.variableGrads these ops sit on the tape but on no path to the loss.
    tf.tidy(() => {
      rm.assign(tf.add(tf.mul(rm, 1 - m), tf.mul(mean, m)));
      rv.assign(tf.add(tf.mul(rv, 1 - m), tf.mul(tf.mul(variance, n / (n - 1)), m)));
      nbt.assign(tf.add(nbt, tf.scalar(1, 'int32')));
    });
  }
}

export interface LayerNormOptions {
  eps?: number;
  elementwiseAffine?: boolean;
}

/**
 * torch.nn.LayerNorm over the LAST dimension (`normalized_shape` = one size): (x − mean)/√(var + eps)
 * with the biased variance, times weight [c] (1) plus bias [c] (0).
 */
export class LayerNorm extends Module {
  readonly weight: tf.Variable | null;
  readonly bias: tf.Variable | null;
  readonly normalizedShape: number;
  readonly eps: number;

  constructor(normalizedShape: number | [number], options: LayerNormOptions = {}) {
    super();
    const c = typeof normalizedShape === 'number' ? normalizedShape : normalizedShape[0];
    if (Array.isArray(normalizedShape) && normalizedShape.length !== 1) {
      throw new LabError(`LayerNorm: only the last dimension can be normalised here, got normalized_shape ${JSON.stringify(normalizedShape)}`, 'ValidationError');
    }
    this.normalizedShape = positive(c, 'LayerNorm normalized_shape');
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? this.registerParameter('weight', { shape: [c], init: ones }) : null;
    this.bias = affine ? this.registerParameter('bias', { shape: [c], init: zeros }) : null;
  }

  /** x [..., c] → same shape. */
  forward<T extends tf.Tensor>(x: T): T {
    const { mean, variance } = tf.moments(x, -1, true);
    let y: tf.Tensor = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.eps)));
    if (this.weight) y = tf.mul(y, this.weight);
    if (this.bias) y = tf.add(y, this.bias);
    return y as T;
  }
}

export interface LinearOptions {
  bias?: boolean;
}

/**
 * torch.nn.Linear(in, out, bias): y = x·Wᵀ + b. weight: tfjs [in, out] (so the forward is
 * `tf.matMul(x, W)`: on wasm `matMul(x, W, false, true)` is ~10× slower) ↔ torch [out, in]; bias [out].
 * Init as torch: U(±1/√in) for both.
 */
export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    positive(inFeatures, 'Linear in_features');
    positive(outFeatures, 'Linear out_features');
    this.weight = this.registerParameter('weight', { shape: [outFeatures, inFeatures], layout: 'linear', init: torchDefaultWeight });
    this.bias = options.bias ?? true ? this.registerParameter('bias', { shape: [outFeatures], init: torchDefaultBias(inFeatures) }) : null;
  }

  /** x [..., in] → [..., out]. */
  forward<T extends tf.Tensor>(x: T): T {
    return linear(x, this.weight, this.bias) as T;
  }
}

/** x [..., in] · w [in, out] (+ b [out]) → [..., out]; flattens leading dims so one 2-D matMul runs. */
function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const inF = w.shape[0] as number;
  const outF = w.shape[1] as number;
  const lead = x.shape.slice(0, -1);
  const x2 = x.rank === 2 ? (x as tf.Tensor2D) : tf.reshape(x, [-1, inF]);
  let y: tf.Tensor = tf.matMul(x2, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return x.rank === 2 ? y : tf.reshape(y, [...lead, outF]);
}

export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (torch's `dropout`, default 0). Needs `rng` when > 0. */
  dropout?: number;
  bias?: boolean;
  /** The generator of the attention-dropout masks (see rng.ts). */
  rng?: Rng;
}

export interface AttentionOptions {
  /**
   * Additive float mask [lq, lk] (torch's float `attn_mask` semantics: added to q·kᵀ before the
   * softmax, −Infinity or −1e9 blocks a key). A row must keep at least one finite entry (torch
   * gives NaN for a fully blocked row). Boolean masks and key_padding_mask are not supported.
   */
  attnMask?: tf.Tensor2D;
}

/**
 * torch.nn.MultiheadAttention(embed_dim, num_heads, dropout, bias) with equal q/k/v dimensions and
 * batch_first=True (torch's default is [length, batch, embed]; ours is [batch, length, embed]).
 * Parameters (torch's names): in_proj_weight [3E, E] (tfjs [E, 3E]), in_proj_bias [3E],
 * out_proj.weight [E, E], out_proj.bias [E]. Init as torch's `_reset_parameters`: xavier_uniform
 * in_proj_weight, zero in_proj_bias and out_proj.bias, out_proj.weight Linear's default.
 * Arithmetic as torch's `multi_head_attention_forward`: q scaled by 1/√head_dim after its
 * projection, softmax(q·kᵀ + mask), dropout on the weights (training), ·v, out_proj.
 */
export class MultiheadAttention extends Module {
  readonly inProjWeight: tf.Variable;
  readonly inProjBias: tf.Variable | null;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly #rng: Rng | undefined;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    options: MultiheadAttentionOptions = {},
  ) {
    super();
    positive(embedDim, 'MultiheadAttention embed_dim');
    positive(numHeads, 'MultiheadAttention num_heads');
    if (embedDim % numHeads !== 0) throw new LabError(`MultiheadAttention: embed_dim ${embedDim} must be divisible by num_heads ${numHeads}`, 'ValidationError');
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new LabError(`MultiheadAttention dropout must be in [0, 1], got ${this.dropout}`, 'ValidationError');
    this.#rng = options.rng;
    const bias = options.bias ?? true;
    this.inProjWeight = this.registerParameter('in_proj_weight', { shape: [3 * embedDim, embedDim], layout: 'linear', init: xavierUniform() });
    this.inProjBias = bias ? this.registerParameter('in_proj_bias', { shape: [3 * embedDim], init: zeros }) : null;
    this.outProj = this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias }));
    if (bias) this.outProj.setInit('bias', zeros);
  }

  /** query [b, lq, E], key/value [b, lk, E] → [b, lq, E]. Pass the same tensor thrice for self-attention. */
  forward(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D, options: AttentionOptions = {}): tf.Tensor3D {
    return this.forwardWithWeights(query, key, value, options).output;
  }

  /**
   * As forward, also returning the attention weights per head [b, heads, lq, lk] (after dropout,
   * as torch returns them; torch's `average_attn_weights=True` result is their mean over axis 1).
   */
  forwardWithWeights(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D, options: AttentionOptions = {}): { output: tf.Tensor3D; weights: tf.Tensor4D } {
    const E = this.embedDim;
    const H = this.numHeads;
    const d = this.headDim;
    const [b, lq, eq] = query.shape;
    const lk = key.shape[1];
    if (eq !== E || key.shape[2] !== E || value.shape[2] !== E) {
      throw new LabError(`MultiheadAttention: expected embedding size ${E}, got query ${eq}, key ${key.shape[2]}, value ${value.shape[2]}`, 'ValidationError');
    }
    if (key.shape[0] !== b || value.shape[0] !== b || value.shape[1] !== lk) {
      throw new LabError(`MultiheadAttention: key [${key.shape.join(', ')}] and value [${value.shape.join(', ')}] do not match query [${query.shape.join(', ')}]`, 'ValidationError');
    }
    const mask = options.attnMask;
    if (mask && (mask.shape[0] !== lq || mask.shape[1] !== lk)) {
      throw new LabError(`MultiheadAttention: the 2D attn_mask has shape [${mask.shape.join(', ')}] but should be [${lq}, ${lk}]`, 'ValidationError');
    }
    const w = this.inProjWeight;
    const bias = this.inProjBias;
    const part = (i: number, x: tf.Tensor3D): tf.Tensor3D =>
      linear(x, tf.slice(w, [0, i * E], [E, E]), bias ? tf.slice(bias, [i * E], [E]) : null) as tf.Tensor3D;
    let q: tf.Tensor3D;
    let k: tf.Tensor3D;
    let v: tf.Tensor3D;
    if (query === key && key === value) {
      // torch's packed self-attention path: one projection, then chunk(3).
      [q, k, v] = tf.split(linear(query, w, bias), 3, -1) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    } else {
      q = part(0, query);
      k = part(1, key);
      v = part(2, value);
    }
    const heads = (x: tf.Tensor3D, l: number): tf.Tensor4D => tf.transpose(tf.reshape(x, [b, l, H, d]), [0, 2, 1, 3]);
    const qh = tf.div(heads(q, lq), Math.sqrt(d));
    const khT = tf.transpose(tf.reshape(k, [b, lk, H, d]), [0, 2, 3, 1]);
    let scores: tf.Tensor4D = tf.matMul(qh, khT);
    if (mask) scores = tf.add(scores, mask);
    let weights: tf.Tensor4D = tf.softmax(scores, -1);
    if (this.training && this.dropout > 0) {
      if (!this.#rng) throw new LabError('MultiheadAttention: attention dropout in training needs an Rng (options.rng)', 'ValidationError');
      weights = tf.mul(weights, this.#rng.dropoutMask(weights.shape, this.dropout));
    }
    const out = tf.reshape(tf.transpose(tf.matMul(weights, heads(v, lk)), [0, 2, 1, 3]), [b, lq, E]);
    return { output: this.outProj.forward(out as tf.Tensor3D), weights };
  }
}

/**
 * torch.nn.Dropout(p): identity in eval mode; in training, zeroes each element with probability p
 * and scales the rest by 1/(1−p), with masks from `rng` (required when p > 0 and training), so a
 * resumed run draws the same masks as an uninterrupted one (rng.ts).
 */
export class Dropout extends Module {
  constructor(
    readonly p = 0.5,
    readonly rng?: Rng,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new LabError(`dropout probability has to be between 0 and 1, but got ${p}`, 'ValidationError');
  }

  /** Any shape → same shape. */
  forward<T extends tf.Tensor>(x: T): T {
    if (!this.training || this.p === 0) return x;
    if (!this.rng) throw new LabError('Dropout in training needs an Rng (new Dropout(p, rng))', 'ValidationError');
    return tf.mul(x, this.rng.dropoutMask(x.shape, this.p));
  }
}

/**
 * torch.nn.Embedding(num, dim): weight [num, dim], init N(0, 1). forward gathers rows (its gradient
 * is UnsortedSegmentSum, provided on wasm by engine/kernels); models that use the whole table (UniAD's
 * positional and query embeddings) read `weight` directly.
 */
export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
  ) {
    super();
    positive(numEmbeddings, 'Embedding num_embeddings');
    positive(embeddingDim, 'Embedding embedding_dim');
    this.weight = this.registerParameter('weight', { shape: [numEmbeddings, embeddingDim], init: normal(0, 1) });
  }

  /** indices (int32, any shape S) → [...S, dim]. */
  forward(indices: tf.Tensor): tf.Tensor {
    return tf.gather(this.weight, indices);
  }
}

/** A parameterless step of a Sequential (torch's nn.ReLU, nn.MaxPool2d, … take an index too). */
export class Lambda extends Module {
  constructor(
    readonly fn: (x: tf.Tensor) => tf.Tensor,
    readonly label = 'Lambda',
  ) {
    super();
  }

  forward(x: tf.Tensor): tf.Tensor {
    return this.fn(x);
  }
}

/** torch.nn.ReLU. */
export class ReLU extends Lambda {
  constructor() {
    super((x) => tf.relu(x), 'ReLU');
  }
}

/** torch.nn.Identity. */
export class Identity extends Lambda {
  constructor() {
    super((x) => x, 'Identity');
  }
}
