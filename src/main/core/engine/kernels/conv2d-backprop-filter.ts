/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x): the filter gradient of
 * a 2-D convolution, which every conv-net training step needs (DESIGN section 6, issue 5).
 *
 * It is composed from kernels the backend already has, so the heavy part runs in the backend's own
 * matmul (XNNPACK on wasm) instead of JavaScript loops:
 *   dW[t] = Σ_p x(p + tap t) · dy(p)ᵀ      (t = (kh, kw), p = output positions)
 * computed as ONE product per chunk of positions for all taps at once,
 *   A [taps · Ci, n] · dy [n, Co] → [taps · Ci, Co] = [KH, KW, Ci, Co],
 * so XNNPACK gets a GEMM with taps·Ci rows (144 for a 3×3 conv from 16 channels) instead of one
 * GEMM with Ci rows per tap (wasm's matmul runs ~1.7× faster with the taller operand). Chunks of
 * positions bound the memory (A is an im2col matrix: 150 MB whole for the paper preset's first
 * layer) and are sized by chunkPositions.
 *
 * The rows of A are contiguous runs of one channel-first copy of the input ("flat shift"): with x
 * laid out as [Ci, batch, Hs, Ws] where every image row is followed by g ≥ max(pad left, pad right)
 * zero columns and every image by G ≥ max(pad top, pad bottom) zero rows, tap (r, c) of output
 * position p = (b·Hs + oh)·Ws + ow reads flat element p + (r·dh − top)·Ws + (c·dw − left): the
 * padding a tap reads, on every side, falls into those shared zero gaps (or before/after the
 * buffer, which the copy fills with zeros). dy is laid out on the same [batch, Hs, Ws] grid with
 * zeros in the gaps, so the positions there add exact zeros (the extra work: (Hs·Ws)/(H·W), 1.06
 * at 64², 1.27 at 8² for a 3×3 'same' conv). For stride s > 1 the padded input is split into its
 * s_h·s_w phases (rows ρ, ρ + s, …) by a reshape/transpose, and tap r reads phase r·d mod s at
 * shift ⌊r·d / s⌋, the same arithmetic on a stride-1 grid. Every value of dW is the same sum of
 * products as before, in another order (fp32 rounding only). The one difference: a ±Infinity or
 * NaN in x where only a zero of dy multiplies it would turn 0 into NaN here; such an x breaks the
 * step anyway.
 *
 * On wasm the rows of A and the chunks of dy are heap copies (one memmove per row, zero fill past
 * the buffer's ends and in the gaps): wasm's StridedSlice and Slice are scalar loops that cost more
 * than the product (Slice even reads the whole input for every window). Backends that expose no
 * heap use slice/pad/concat. `conv2dBackpropFilterByTaps` with method 'taps' is the previous
 * formulation (one product per tap from strided slices), kept for before/after measurements
 * (setConv2DBackpropFilterMethod, bench/conv-backprop-filter.ts, bench/autoencoder-train.ts --ab).
 * Measured (1 thread, medians): 1.2–3.7× the per-tap kernel on the U-Net's 3×3 layers, 0.5–0.9×
 * the speed of the same convolution's forward; slower than 'taps' only where taps·Ci
 * is tiny beside Co (the 3→64 first layer at 256 px: 0.6–0.75×, < 1 % of that step).
 *
 * Beyond what tfjs-core passes, the kernel honours a `dilations` attribute: core's Conv2D gradient
 * refuses dilation > 1 on every backend, but callers of the kernel itself may use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, Tensor, Tensor2D, Tensor4D, TensorInfo } from '@tensorflow/tfjs-core';
import { heapBackend } from './tile';

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: [number, number] | number;
}

export type BackpropFilterMethod = 'gemm' | 'views' | 'taps';

/** Wraps a kernel input (a bare TensorInfo) as a Tensor that owns its own reference. */
export function asTensor<T extends Tensor>(info: TensorInfo): T {
  // Reshape to the same shape shares the data and bumps its reference count, so disposing the
  // wrapper never frees the caller's input.
  return tf.engine().runKernel('Reshape', { x: info } as unknown as tf.NamedTensorMap, { shape: info.shape }) as T;
}

/**
 * Rows of a [R, len] matrix, shifted: out[(t, i), j] = src[rowBase[t] + i, start + shift[t] + j]
 * for t < taps, i < rows, j < n, and 0 where that column is outside [0, len). One memmove per row
 * (plus a zero fill at the ends) on a heap backend; slices, pads and a concat elsewhere.
 */
export function shiftedRows(src: Tensor2D, rowBase: readonly number[], shift: readonly number[], rows: number, start: number, n: number): Tensor2D {
  const len = src.shape[1];
  const heap = heapBackend(tf.backend());
  if (heap && src.dtype === 'float32') {
    const out = heap.makeOutput([rowBase.length * rows, n], 'float32');
    // Views after the allocation: growing the heap detaches views taken before it.
    const o = heap.typedArrayFromHeap(out) as Float32Array;
    const s = heap.typedArrayFromHeap(src as unknown as TensorInfo) as Float32Array;
    let at = 0;
    for (let t = 0; t < rowBase.length; t++) {
      const from = start + (shift[t] as number);
      const lo = Math.max(0, -from);
      const hi = Math.max(lo, Math.min(n, len - from));
      for (let i = 0; i < rows; i++) {
        const base = ((rowBase[t] as number) + i) * len + from;
        if (lo > 0) o.fill(0, at, at + lo);
        if (hi > lo) o.set(s.subarray(base + lo, base + hi), at + lo);
        if (hi < n) o.fill(0, at + hi, at + n);
        at += n;
      }
    }
    return tf.engine().makeTensorFromTensorInfo(out) as Tensor2D;
  }
  return tf.tidy(() => {
    const parts = rowBase.map((r0, t) => {
      const from = start + (shift[t] as number);
      const lo = Math.max(0, -from);
      const hi = Math.max(lo, Math.min(n, len - from));
      if (hi === lo) return tf.zeros([rows, n]) as Tensor2D;
      const part = tf.slice(src, [r0, from + lo], [rows, hi - lo]);
      return lo > 0 || hi < n ? tf.pad(part, [[0, 0], [lo, n - hi]]) : part;
    });
    return (parts.length === 1 ? parts[0] : tf.concat(parts, 0)) as Tensor2D;
  });
}

/**
 * Rows p0 … p0 + n − 1 of dy [b, oh, ow, Co] laid out on the [b, hs, ws] position grid (hs ≥ oh,
 * ws ≥ ow; the extra rows and columns zero) as an [n, Co] matrix: one memmove per image row on a
 * heap backend (instead of a padded copy of dy and a copy of each chunk of it).
 */
function dyGridRows(dy: Tensor4D, hs: number, ws: number, p0: number, n: number): Tensor2D {
  const [, oh, ow, co] = dy.shape;
  const heap = heapBackend(tf.backend()) as NonNullable<ReturnType<typeof heapBackend>>;
  const out = heap.makeOutput([n, co], 'float32');
  const o = heap.typedArrayFromHeap(out) as Float32Array;
  const s = heap.typedArrayFromHeap(dy as unknown as TensorInfo) as Float32Array;
  const end = p0 + n;
  // Grid row g = b·hs + r covers positions g·ws … g·ws + ws − 1; its first ow hold dy[b, r] when r < oh.
  for (let g = Math.floor(p0 / ws); g * ws < end; g++) {
    const r = g % hs;
    const rowStart = g * ws;
    const lo = Math.max(p0, rowStart);
    const dataEnd = r < oh ? Math.min(end, rowStart + ow) : lo;
    const rowEnd = Math.min(end, rowStart + ws);
    if (dataEnd > lo) {
      const from = ((Math.floor(g / hs) * oh + r) * ow + (lo - rowStart)) * co;
      o.set(s.subarray(from, from + (dataEnd - lo) * co), (lo - p0) * co);
    }
    if (rowEnd > Math.max(lo, dataEnd)) o.fill(0, (Math.max(lo, dataEnd) - p0) * co, (rowEnd - p0) * co);
  }
  return tf.engine().makeTensorFromTensorInfo(out) as Tensor2D;
}

/** How the flat-shift product of one call is laid out (see the header). */
export interface BackpropFilterPlan {
  /** Source rows per tap (Ci) and the rows' first index, per tap in (kh, kw) order. */
  inChannels: number;
  rowBase: number[];
  /** Flat shift of each tap in the [batch, Hs, Ws] position grid. */
  shift: number[];
  /** Position grid: images, rows and columns per image (gaps included). */
  batch: number;
  hs: number;
  ws: number;
  /** Positions the product runs over: up to the last valid one. */
  positions: number;
  /** Positions per product (the chunk), chosen by `chunkPositions`. */
  chunk: number;
}

/**
 * Positions per product: at most 256 Ki floats of the dy chunk (XNNPACK packs it per product: 1 MB)
 * and 2 Mi floats of A (8 MB), but ≥ 1024 positions so the per-product cost (an operator creation,
 * the packing) stays small; split into equal chunks. Measured on the U-Net's shapes with 1 and 2
 * threads (bench/conv-backprop-filter.ts --chunks): larger chunks help 2 threads on the 64² and
 * 32² layers (fewer, bigger parallel products), a bounded dy chunk helps layers with many output
 * channels from few input ones (3→64 at 256²: 1.5–2× against one product for all positions).
 */
export function chunkPositions(rowsA: number, co: number, positions: number): number {
  const chunk = Math.max(1024, Math.min(Math.floor((256 * 1024) / co), Math.floor((2048 * 1024) / rowsA)));
  // Equal chunks rather than a full run and a stub.
  const count = Math.max(1, Math.round(positions / chunk));
  return Math.ceil(positions / count);
}

/** The plan for x [b, h, w, Ci] (NHWC), or its parts that set the layout. */
function planFilter(info: backend_util.Conv2DInfo, chunk?: number): BackpropFilterPlan & { gapRows: number; gapCols: number; phased: boolean } {
  const { batchSize, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info;
  const { top, bottom, left, right } = info.padInfo;
  const rowBase: number[] = [];
  const shift: number[] = [];
  let hs: number;
  let ws: number;
  let gapRows = 0;
  let gapCols = 0;
  const phased = sh > 1 || sw > 1;
  if (!phased) {
    gapRows = Math.max(0, top, bottom, oh - h);
    gapCols = Math.max(0, left, right, ow - w);
    hs = h + gapRows;
    ws = w + gapCols;
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        rowBase.push(0);
        shift.push((r * dh - top) * ws + (c * dw - left));
      }
    }
  } else {
    hs = Math.max(oh + Math.floor(((kh - 1) * dh) / sh), Math.ceil((top + h) / sh));
    ws = Math.max(ow + Math.floor(((kw - 1) * dw) / sw), Math.ceil((left + w) / sw));
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        const rr = r * dh;
        const cc = c * dw;
        rowBase.push((((rr % sh) * sw) + (cc % sw)) * ci);
        shift.push(Math.floor(rr / sh) * ws + Math.floor(cc / sw));
      }
    }
  }
  const positions = ((batchSize - 1) * hs + oh - 1) * ws + ow;
  return {
    inChannels: ci,
    rowBase,
    shift,
    batch: batchSize,
    hs,
    ws,
    positions,
    chunk: chunk ?? chunkPositions(kh * kw * ci, co, positions),
    gapRows,
    gapCols,
    phased,
  };
}

function convInfo(xShape: readonly number[], attrs: BackpropFilterAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/** The parts of tfjs-backend-wasm's BackendWasm that views of its heap need. */
interface ViewBackend {
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): TensorInfo;
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined; delete(dataId: unknown): boolean };
  wasm: { tfjs: { disposeData(id: number): void } };
}

function viewBackend(backend: unknown): ViewBackend | null {
  const b = backend as Partial<ViewBackend> | null;
  return heapBackend(backend) && b?.dataIdMap && typeof b.dataIdMap.get === 'function' && typeof b.wasm?.tfjs?.disposeData === 'function' ? (b as ViewBackend) : null;
}

/**
 * Runs `f` with tensors that are windows of `base`'s memory (no copy): [shape, float offset] each.
 * They are registered with the backend as its own tensors are, and unregistered without freeing
 * anything afterwards; they must not outlive `f` (BatchMatMul only reads them).
 */
function withViews<T>(vb: ViewBackend, base: Tensor, views: [number[], number][], f: (v: TensorInfo[]) => T): T {
  const at = vb.dataIdMap.get(base.dataId);
  if (!at) throw new Error('Conv2DBackpropFilter: no heap address for a tensor');
  const infos = views.map(([shape, offset]) => vb.makeOutput(shape, 'float32', at.memoryOffset + 4 * offset));
  try {
    return f(infos);
  } finally {
    for (const info of infos) {
      const id = (info.dataId as { id: number }).id;
      vb.dataIdMap.delete(info.dataId);
      vb.wasm.tfjs.disposeData(id);
    }
  }
}

/** Positions per product of 'views' (images are grouped up to it). */
const VIEW_POSITIONS = 16384;

/** The largest divisor of n that is ≤ limit (≥ 1). */
function divisorAtMost(n: number, limit: number): number {
  for (let d = Math.max(1, Math.min(n, Math.floor(limit))); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/**
 * The flat-shift formulation without copies, for stride 1 on wasm (method 'views'): the channel-first
 * gapped input is laid out per group of images as [groups, 1 + Ci + 1, images·Hs·Ws] (a zero
 * channel before and after each group's), so tap t's rows are ONE window of that memory, shifted by
 * the tap's flat shift: a [Ci, positions] matrix that reads the neighbouring channel's gap rows (or
 * the zero channels) where the tap reads padding. Each tap is a product [Ci, P] · dy [P, Co] of
 * zero-copy views: no im2col copy at all, at the price of Ci-row products (less efficient than the
 * taps·Ci rows of 'gemm' for small Ci). JavaScript copies into a threaded wasm's heap (a
 * SharedArrayBuffer) run ~5× slower than into a plain one, which makes 'gemm''s copies the bottleneck
 * with 2 threads. Null where it does not apply (stride > 1, shifts longer than a group's channel).
 */
function byViews(x: Tensor4D, dy: Tensor4D, info: backend_util.Conv2DInfo, attrs: BackpropFilterAttrs, vb: ViewBackend): Tensor4D | null {
  if (info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const plan = planFilter(info);
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { hs, ws } = plan;
  // Images per group: about VIEW_POSITIONS positions per product, dividing the batch.
  const per = divisorAtMost(b, Math.max(1, VIEW_POSITIONS / (hs * ws)));
  const groups = b / per;
  const len = per * hs * ws;
  if (plan.shift.some((sft) => Math.abs(sft) > len)) return null;
  const grouped = groups === 1 ? tf.transpose(x, [3, 0, 1, 2]) : tf.transpose(tf.reshape(x, [groups, per, h, w, ci]), [0, 4, 1, 2, 3]);
  const src = tf.pad(grouped, groups === 1 ? [[1, 1], [0, 0], [0, plan.gapRows], [0, plan.gapCols]] : [[0, 0], [1, 1], [0, 0], [0, plan.gapRows], [0, plan.gapCols]]);
  const dyGrid = hs !== oh || ws !== ow ? tf.pad(dy, [[0, 0], [0, hs - oh], [0, ws - ow], [0, 0]]) : dy;
  const taps = plan.shift.length;
  const sums: (Tensor | null)[] = new Array<Tensor | null>(taps).fill(null);
  for (let g = 0; g < groups; g++) {
    const views: [number[], number][] = [[[len, co], g * len * co]];
    for (const sft of plan.shift) views.push([[ci, len], (g * (ci + 2) + 1) * len + sft]);
    const parts = tf.tidy(() => {
      // dy and the taps are views of different tensors: two calls.
      return withViews(vb, dyGrid, [views[0] as [number[], number]], ([d]) =>
        withViews(vb, src, views.slice(1), (as) => as.map((a) => tf.engine().runKernel('BatchMatMul', { a, b: d } as unknown as tf.NamedTensorMap, { transposeA: false, transposeB: false }) as Tensor)),
      );
    });
    parts.forEach((m, t) => {
      const prev = sums[t];
      if (prev) {
        sums[t] = tf.add(prev, m);
        tf.dispose([prev, m]);
      } else sums[t] = m;
    });
  }
  return tf.reshape(tf.stack(sums as Tensor[]), attrs.filterShape) as Tensor4D;
}

/** The flat-shift formulation (header); x, dy NHWC. */
function byGemm(x: Tensor4D, dy: Tensor4D, info: backend_util.Conv2DInfo, attrs: BackpropFilterAttrs, chunk?: number): Tensor4D {
  const plan = planFilter(info, chunk);
  const { batchSize: b, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { hs, ws } = plan;
  let src: Tensor2D;
  if (!plan.phased) {
    const xcf = tf.transpose(x, [3, 0, 1, 2]);
    const gapped = plan.gapRows || plan.gapCols ? tf.pad(xcf, [[0, 0], [0, 0], [0, plan.gapRows], [0, plan.gapCols]]) : xcf;
    src = tf.reshape(gapped, [ci, b * hs * ws]);
  } else {
    const { strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    const padded = tf.pad(x, [
      [0, 0],
      [top, hs * sh - top - h],
      [left, ws * sw - left - w],
      [0, 0],
    ]);
    // [b, Hs, sh, Ws, sw, Ci] → [sh, sw, Ci, b, Hs, Ws]: one channels-first grid per phase.
    const phases = tf.transpose(tf.reshape(padded, [b, hs, sh, ws, sw, ci]), [2, 4, 5, 0, 1, 3]);
    src = tf.reshape(phases, [sh * sw * ci, b * hs * ws]);
  }
  const heap = heapBackend(tf.backend());
  // Without a heap, dy is padded to the grid once and its chunks are sliced from that.
  const dyFlat = heap ? null : (tf.reshape(hs !== oh || ws !== ow ? tf.pad(dy, [[0, 0], [0, hs - oh], [0, ws - ow], [0, 0]]) : dy, [1, b * hs * ws * co]) as Tensor2D);
  const total = plan.positions;
  const whole = src.shape[0] === ci && plan.rowBase.length === 1 && plan.rowBase[0] === 0 && plan.shift[0] === 0 && plan.chunk >= total && total === b * hs * ws;
  let acc: Tensor | null = null;
  for (let p0 = 0; p0 < total; p0 += plan.chunk) {
    const n = Math.min(plan.chunk, total - p0);
    // A 1×1 stride-1 conv without padding reads the source as it is.
    const a = whole ? src : shiftedRows(src, plan.rowBase, plan.shift, ci, p0, n);
    // dy itself where the grid has no gaps and one product covers it.
    const d =
      hs === oh && ws === ow && n === b * hs * ws
        ? tf.reshape(dy, [n, co])
        : dyFlat === null
          ? dyGridRows(dy, hs, ws, p0, n)
          : tf.reshape(shiftedRows(dyFlat, [0], [0], 1, p0 * co, n * co), [n, co]);
    const m = tf.matMul(a, d as Tensor2D);
    // Free each chunk's operands at once: together they are the size of an im2col matrix.
    tf.dispose(a === src ? [d] : [a, d]);
    if (acc === null) acc = m;
    else {
      const sum: Tensor = tf.add(acc, m);
      tf.dispose([acc, m]);
      acc = sum;
    }
  }
  return tf.reshape(acc as Tensor, attrs.filterShape) as Tensor4D;
}

/** The previous formulation: one [Ci, N] · [N, Co] product per tap from strided slices (benchmarks). */
function byTaps(xt: Tensor4D, dyt: Tensor4D, info: backend_util.Conv2DInfo, attrs: BackpropFilterAttrs): Tensor4D {
  const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info;
  const n = batchSize * outHeight * outWidth;
  const dy2 = tf.reshape(dyt, [n, outChannels]);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const needH = (outHeight - 1) * sh + (kh - 1) * dh + 1;
  const needW = (outWidth - 1) * sw + (kw - 1) * dw + 1;
  const bottom = Math.max(0, needH - inHeight - top);
  const right = Math.max(0, needW - inWidth - left);
  const padded = top || left || bottom || right ? tf.pad(xt, [[0, 0], [top, bottom], [left, right], [0, 0]]) : xt;
  const paddedT = tf.transpose(padded, [3, 0, 1, 2]); // [Ci, batch, Hp, Wp]
  const taps: Tensor[] = [];
  for (let r = 0; r < kh; r++) {
    for (let c = 0; c < kw; c++) {
      const r0 = r * dh;
      const c0 = c * dw;
      const whole = r0 === 0 && c0 === 0 && sh === 1 && sw === 1 && paddedT.shape[2] === outHeight && paddedT.shape[3] === outWidth;
      const window = whole
        ? paddedT
        : tf.stridedSlice(paddedT, [0, 0, r0, c0], [inChannels, batchSize, r0 + (outHeight - 1) * sh + 1, c0 + (outWidth - 1) * sw + 1], [1, 1, sh, sw]);
      taps.push(tf.matMul(tf.reshape(window, [inChannels, n]), dy2));
    }
  }
  const stacked = taps.length === 1 ? (taps[0] as Tensor) : tf.stack(taps);
  return tf.reshape(stacked, attrs.filterShape) as Tensor4D;
}

export interface BackpropFilterOptions {
  /** 'gemm' (the default), 'views' (falls back to 'gemm' where it does not apply) or 'taps' (the previous formulation, for benchmarks). */
  method?: BackpropFilterMethod;
  /** Positions per product for 'gemm' (tests, benchmarks); default chunkPositions'. */
  chunk?: number;
}

/**
 * x: [batch, inH, inW, Ci] (or NCHW with dataFormat 'NCHW'), dy: [batch, outH, outW, Co];
 * returns dW: filterShape = [KH, KW, Ci, Co].
 */
export function conv2dBackpropFilterByTaps(x: Tensor4D, dy: Tensor4D, attrs: BackpropFilterAttrs, options: BackpropFilterOptions = {}): Tensor4D {
  return tf.tidy(() => {
    let xt = x;
    let dyt = dy;
    if (attrs.dataFormat === 'NCHW') {
      xt = tf.transpose(x, [0, 2, 3, 1]);
      dyt = tf.transpose(dy, [0, 2, 3, 1]);
    }
    const info = convInfo(xt.shape, attrs);
    const { batchSize, outChannels, outHeight, outWidth } = info;
    if (dyt.shape[1] !== outHeight || dyt.shape[2] !== outWidth || dyt.shape[3] !== outChannels || dyt.shape[0] !== batchSize) {
      throw new Error(`Conv2DBackpropFilter: dy has shape ${dyt.shape}, expected [${batchSize},${outHeight},${outWidth},${outChannels}]`);
    }
    if (batchSize * outHeight * outWidth === 0 || info.inChannels === 0 || outChannels === 0) return tf.zeros(attrs.filterShape) as Tensor4D;
    if (options.method === 'taps') return byTaps(xt, dyt, info, attrs);
    if (options.method === 'views') {
      const vb = viewBackend(tf.backend());
      const out = vb && xt.dtype === 'float32' && dyt.dtype === 'float32' ? byViews(xt, dyt, info, attrs, vb) : null;
      if (out) return out;
    }
    return byGemm(xt, dyt, info, attrs, options.chunk);
  });
}

let method: BackpropFilterMethod = 'gemm';

/** Which formulation the registered kernel runs (benchmarks: before/after in one process); returns the previous one. */
export function setConv2DBackpropFilterMethod(m: BackpropFilterMethod): BackpropFilterMethod {
  const previous = method;
  method = m;
  return previous;
}

const kernelFunc: KernelFunc = ({ inputs, attrs }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  return tf.tidy(() => conv2dBackpropFilterByTaps(asTensor<Tensor4D>(x), asTensor<Tensor4D>(dy), attrs as unknown as BackpropFilterAttrs, { method }));
};

export function conv2dBackpropFilterConfig(backendName: string): KernelConfig {
  return { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc };
}
