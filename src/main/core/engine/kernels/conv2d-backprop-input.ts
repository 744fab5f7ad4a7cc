/**
 * `Conv2DBackpropInput` composed of fast kernels, to replace tfjs-backend-wasm 4.22's own, which is
 * a scalar C++ loop 7–13× slower than its XNNPACK `Conv2D` (METHODS 0.1 item 1, issue 13 item 6;
 * bench/conv-backprop-input.ts: 1.4–2.5 GFLOP/s against 28–31). Every convolution's input gradient
 * goes through it in backward, and so does `tf.conv2dTranspose` forward (Reverse Distillation's
 * decoder). The composition runs at 0.7–1.0× the speed of the same convolution's forward.
 *
 * dx is a sum over (dy position o, tap t) with o·s − pad + t = i. Grouping the dx rows i by their
 * phase ρ = i mod s makes every group a stride-1 correlation of dy with the taps t ≡ (ρ + pad) mod s,
 * flipped; all s_h·s_w phases share one window of dy when each phase's sub-filter is placed at its
 * own offset inside a common [Mh, Mw] window (zero taps elsewhere). So
 *   dx = depthToSpace(conv2d(dy, Wbig [Mh, Mw, Co, s_h·s_w·Ci], stride 1, explicit pad))
 * with the depth-to-space done by reshape/transpose (tfjs-core has no gradient for DepthToSpace,
 * and a reshape/transpose is what wasm runs fast anyway). Special cases of the same formula:
 * - stride 1: Wbig is the filter flipped in h and w with in/out swapped, pad k − 1 − p;
 * - kernel == stride, no padding (2×2 stride-2 transposed convs): Mh = Mw = 1, a plain MatMul
 *   [B·H·W, Co] × [Co, s_h·s_w·Ci] then depth-to-space;
 * - 1×1 kernels: a MatMul (at stride s, one phase of s²; the others are zeros added by a Pad).
 * Where the common window wastes work on zero taps (kernel not a multiple of the stride, e.g. 3×3
 * stride 2: 16 taps computed for 9), each phase runs its own exact convolution instead and the
 * phases are concatenated before the depth-to-space; `planConv2dBackpropInput` picks by counting
 * (3×3 stride 2, 64→128 from 64²: 24 GFLOP/s by phases, 13 by the common window).
 * Any call it does not handle runs the backend's own kernel, never an approximation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, Tensor, Tensor4D, TensorInfo } from '@tensorflow/tfjs-core';
import { asTensor } from './conv2d-backprop-filter';

export interface BackpropInputAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** The shape of x (and so of dx), in `dataFormat`. */
  inputShape: [number, number, number, number];
}

/** One phase of one spatial axis: the dx rows ρ, ρ + s, ρ + 2s, … */
interface AxisPhase {
  /** The first tap this phase uses (taps phi, phi + s, …). */
  phi: number;
  /** How many taps it uses (0 when phi ≥ kernel size: those dx rows get nothing). */
  taps: number;
  /** dy row that dx row ρ + j·s reads with its first tap, minus j. */
  q0: number;
}

/** How one spatial axis (h or w) of dx is computed. */
export interface AxisPlan {
  kernel: number;
  stride: number;
  /** dx rows and dy rows. */
  inSize: number;
  outSize: number;
  /** Indexed by ρ = dx row mod stride. */
  phases: AxisPhase[];
  /** Rows per phase (dx rows computed = rows · stride, then sliced to inSize). */
  rows: number;
  /** The common window: dy rows lo … lo + window − 1 (relative to the output row j). */
  lo: number;
  window: number;
}

function planAxis(kernel: number, stride: number, padBefore: number, inSize: number, outSize: number): AxisPlan {
  const phases: AxisPhase[] = [];
  for (let rho = 0; rho < stride; rho++) {
    const phi = (rho + padBefore) % stride;
    const q0 = (rho + padBefore - phi) / stride;
    phases.push({ phi, q0, taps: phi < kernel ? Math.ceil((kernel - phi) / stride) : 0 });
  }
  const used = phases.filter((p) => p.taps > 0);
  const lo = Math.min(...used.map((p) => p.q0 - p.taps + 1));
  const hi = Math.max(...used.map((p) => p.q0));
  return { kernel, stride, inSize, outSize, phases, rows: Math.ceil(inSize / stride), lo, window: hi - lo + 1 };
}

export type BackpropInputMethod = 'window' | 'phases';

export interface BackpropInputPlan {
  h: AxisPlan;
  w: AxisPlan;
  batch: number;
  inChannels: number;
  outChannels: number;
  method: BackpropInputMethod;
}

/**
 * The composition for a Conv2DBackpropInput call, or null when the attributes are outside what it
 * handles (the caller then runs the backend's own kernel). dyShape: [b, outH, outW, Co] (NCHW:
 * [b, Co, outH, outW]), filterShape: [kh, kw, Ci, Co]; `force` picks the method (tests, benches).
 */
export function planConv2dBackpropInput(
  dyShape: readonly number[],
  filterShape: readonly number[],
  attrs: BackpropInputAttrs,
  force?: BackpropInputMethod,
): BackpropInputPlan | null {
  const nchw = attrs.dataFormat === 'NCHW';
  const s = attrs.inputShape;
  const xShape: [number, number, number, number] = nchw ? [s[0], s[2], s[3], s[1]] : [...s];
  const info = backend_util.computeConv2DInfo(
    xShape,
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const dy = nchw ? [dyShape[0], dyShape[2], dyShape[3], dyShape[1]] : dyShape;
  if (dy[0] !== info.batchSize || dy[1] !== info.outHeight || dy[2] !== info.outWidth || dy[3] !== info.outChannels) return null;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  if (info.batchSize * info.inHeight * info.inWidth * info.inChannels === 0 || info.outHeight * info.outWidth === 0) return null;
  const h = planAxis(info.filterHeight, info.strideHeight, info.padInfo.top, info.inHeight, info.outHeight);
  const w = planAxis(info.filterWidth, info.strideWidth, info.padInfo.left, info.inWidth, info.outWidth);
  const base = { h, w, batch: info.batchSize, inChannels: info.inChannels, outChannels: info.outChannels };
  if (force) return { ...base, method: force };
  // Taps multiplied per output pixel: the common window computes window² · stride² of them, the
  // exact per-phase convolutions kernel²; the window wins unless it wastes a third or more.
  const windowTaps = h.window * w.window * h.stride * w.stride;
  const exactTaps = h.kernel * w.kernel;
  return { ...base, method: windowTaps * 3 <= exactTaps * 4 ? 'window' : 'phases' };
}

/** The dy rows a window [lo, lo + window) reads for output rows 0 … rows − 1: [first, count]. */
function readRange(plan: AxisPlan, lo: number, window: number): [number, number] {
  return [lo, plan.rows + window - 1];
}

type Padding4D = [[0, 0], [number, number], [number, number], [0, 0]];

/**
 * The part of dy [b, outH, outW, Co] inside the rows/cols a window reads, and the zero padding
 * around it that the conv adds (so no padded copy of dy is made).
 */
function readWindow(dy: Tensor4D, rh: [number, number], rw: [number, number]): { x: Tensor4D; pad: Padding4D } {
  const [b, oh, ow, c] = dy.shape;
  const t0 = Math.max(0, rh[0]);
  const t1 = Math.min(oh, rh[0] + rh[1]);
  const l0 = Math.max(0, rw[0]);
  const l1 = Math.min(ow, rw[0] + rw[1]);
  // Nothing of dy is read (a window entirely in the padding): XNNPACK refuses empty inputs.
  if (t1 <= t0 || l1 <= l0) return { x: tf.zeros([b, rh[1], rw[1], c]), pad: [[0, 0], [0, 0], [0, 0], [0, 0]] };
  const x = t0 === 0 && l0 === 0 && t1 === oh && l1 === ow ? dy : tf.slice(dy, [0, t0, l0, 0], [b, t1 - t0, l1 - l0, c]);
  return {
    x,
    pad: [
      [0, 0],
      [t0 - rh[0], rh[0] + rh[1] - t1],
      [l0 - rw[0], rw[0] + rw[1] - l1],
      [0, 0],
    ],
  };
}

/**
 * Row r of a window [lo, lo + window) for phase p: the tap it multiplies, or −1 (a zero tap).
 * Output row j of phase p is Σ_m dy[q0 + j − m] · w[phi + m·s]; window row r reads dy[lo + j + r].
 */
function tapAt(plan: AxisPlan, p: AxisPhase, lo: number, r: number): number {
  const m = p.q0 - lo - r;
  return m >= 0 && m < p.taps ? p.phi + m * plan.stride : -1;
}

/**
 * The filter of the window convolution for phases `hs` × `ws` (lists of ρ): from the values of the
 * filter [kh, kw, Ci, Co], a [windowH, windowW, Co, |hs|·|ws|·Ci] tensor (output channels ordered
 * ρh, ρw, Ci). The taps are picked in JavaScript, as whole [Ci, Co] blocks: wasm's Gather and
 * Reverse run ~15× slower than the copy (7 ms vs 0.5 ms for a 3×3 128→128 filter).
 */
function windowFilter(fv: Float32Array, shape: readonly number[], plan: BackpropInputPlan, hs: number[], ws: number[], loH: number, winH: number, loW: number, winW: number): Tensor4D {
  const [, kw, ci, co] = shape as [number, number, number, number];
  const block = ci * co;
  const phases = hs.length * ws.length;
  const table = new Float32Array(winH * winW * phases * block);
  let at = 0;
  for (let r = 0; r < winH; r++) {
    for (let c = 0; c < winW; c++) {
      for (const rh of hs) {
        for (const rw of ws) {
          const th = tapAt(plan.h, plan.h.phases[rh] as AxisPhase, loH, r);
          const tw = tapAt(plan.w, plan.w.phases[rw] as AxisPhase, loW, c);
          if (th >= 0 && tw >= 0) table.set(fv.subarray((th * kw + tw) * block, (th * kw + tw + 1) * block), at);
          at += block;
        }
      }
    }
  }
  const byPosition = tf.tensor3d(table, [winH * winW, phases * ci, co]);
  return tf.reshape(tf.transpose(byPosition, [0, 2, 1]), [winH, winW, co, phases * ci]);
}

/** [b, rowsH, rowsW, sh·sw·Ci] (channels ρh, ρw, Ci) → [b, inH, inW, Ci]. */
function depthToSpace(y: Tensor4D, plan: BackpropInputPlan): Tensor4D {
  const { h, w, batch, inChannels: ci } = plan;
  let out = y;
  if (h.stride > 1 || w.stride > 1) {
    // [b·rowsH, rowsW, sh, sw·Ci] → [b·rowsH, sh, rowsW, sw·Ci] is the interleave, as one 4-D transpose.
    const t = tf.transpose(tf.reshape(y, [batch * h.rows, w.rows, h.stride, w.stride * ci]), [0, 2, 1, 3]);
    out = tf.reshape(t, [batch, h.rows * h.stride, w.rows * w.stride, ci]);
  }
  if (out.shape[1] !== h.inSize || out.shape[2] !== w.inSize) out = tf.slice(out, [0, 0, 0, 0], [batch, h.inSize, w.inSize, ci]);
  return out;
}

function byWindow(dy: Tensor4D, filter: Tensor4D, plan: BackpropInputPlan): Tensor4D {
  const { h, w } = plan;
  const all = (a: AxisPlan) => a.phases.map((_, i) => i);
  const wf = windowFilter(filter.dataSync() as Float32Array, filter.shape, plan, all(h), all(w), h.lo, h.window, w.lo, w.window);
  const { x, pad } = readWindow(dy, readRange(h, h.lo, h.window), readRange(w, w.lo, w.window));
  return depthToSpace(correlate(x, wf, pad), plan);
}

/** Stride-1 correlation of x [b, H, W, Co] with f [fh, fw, Co, C'] → [b, H', W', C']. */
function correlate(x: Tensor4D, f: Tensor4D, pad: Padding4D): Tensor4D {
  const [b, rh, rw, co] = x.shape;
  if (f.shape[0] === 1 && f.shape[1] === 1 && pad[1][0] + pad[1][1] + pad[2][0] + pad[2][1] === 0) {
    // wasm runs only the plain (untransposed, batch-1) product on XNNPACK.
    const m = tf.matMul(tf.reshape(x, [b * rh * rw, co]), tf.reshape(f, [co, f.shape[3]]));
    return tf.reshape(m, [b, rh, rw, f.shape[3]]);
  }
  return tf.conv2d(x, f, 1, pad);
}

function byPhases(dy: Tensor4D, filter: Tensor4D, plan: BackpropInputPlan): Tensor4D {
  const { h, w, batch, inChannels: ci } = plan;
  const fv = filter.dataSync() as Float32Array;
  // Phases in channel order (ρh, ρw); a number stands for that many channels of zeros (phases no
  // tap reaches, where the kernel is smaller than the stride).
  const parts: (Tensor4D | number)[] = [];
  for (let rh = 0; rh < h.stride; rh++) {
    for (let rw = 0; rw < w.stride; rw++) {
      const ph = h.phases[rh] as AxisPhase;
      const pw = w.phases[rw] as AxisPhase;
      if (ph.taps === 0 || pw.taps === 0) {
        const last = parts.at(-1);
        if (typeof last === 'number') parts[parts.length - 1] = last + ci;
        else parts.push(ci);
        continue;
      }
      const loH = ph.q0 - ph.taps + 1;
      const loW = pw.q0 - pw.taps + 1;
      const wf = windowFilter(fv, filter.shape, plan, [rh], [rw], loH, ph.taps, loW, pw.taps);
      const { x, pad } = readWindow(dy, readRange(h, loH, ph.taps), readRange(w, loW, pw.taps));
      parts.push(correlate(x, wf, pad));
    }
  }
  const computed = parts.filter((p): p is Tensor4D => typeof p !== 'number');
  let y: Tensor4D;
  if (computed.length === 1) {
    // One computed phase between zeros: a Pad (C++) instead of a Concat (a JavaScript loop on wasm).
    const before = typeof parts[0] === 'number' ? parts[0] : 0;
    const after = typeof parts.at(-1) === 'number' && parts.length > 1 ? (parts.at(-1) as number) : 0;
    y = before || after ? tf.pad(computed[0] as Tensor4D, [[0, 0], [0, 0], [0, 0], [before, after]]) : (computed[0] as Tensor4D);
  } else {
    y = tf.concat(parts.map((p) => (typeof p === 'number' ? tf.zeros([batch, h.rows, w.rows, p]) : p)), 3);
  }
  return depthToSpace(y, plan);
}

/**
 * dy: [b, outH, outW, Co], filter: [kh, kw, Ci, Co] → dx: [b, inH, inW, Ci] (NHWC; for NCHW the
 * first two and the result are channels-first, as the op's). `plan` from planConv2dBackpropInput
 * (null there means: not handled here).
 */
export function conv2dBackpropInputComposed(dy: Tensor4D, filter: Tensor4D, attrs: BackpropInputAttrs, plan: BackpropInputPlan): Tensor4D {
  return tf.tidy(() => {
    const nchw = attrs.dataFormat === 'NCHW';
    const dyt = nchw ? tf.transpose(dy, [0, 2, 3, 1]) : dy;
    const dx = plan.method === 'phases' ? byPhases(dyt, filter, plan) : byWindow(dyt, filter, plan);
    return nchw ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  });
}

/**
 * The override's KernelConfig for `native` (the backend's own Conv2DBackpropInput, kept for the
 * calls the composition does not handle and for `useNative()`). Its setup/dispose hooks are the
 * native kernel's, so a re-initialised backend still prepares the fallback.
 */
export function conv2dBackpropInputConfig(native: KernelConfig, useNative: () => boolean): KernelConfig {
  const kernelFunc: KernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as BackpropInputAttrs;
    const plan = useNative() || dy.dtype !== 'float32' || filter.dtype !== 'float32' ? null : planConv2dBackpropInput(dy.shape, filter.shape, attrs);
    if (plan === null) return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    return tf.tidy(() => conv2dBackpropInputComposed(asTensor<Tensor4D>(dy), asTensor<Tensor4D>(filter), attrs, plan)) as Tensor as TensorInfo;
  };
  const config: KernelConfig = { kernelName: 'Conv2DBackpropInput', backendName: native.backendName, kernelFunc };
  if (native.setupFunc) config.setupFunc = native.setupFunc;
  if (native.disposeFunc) config.disposeFunc = native.disposeFunc;
  return config;
}
