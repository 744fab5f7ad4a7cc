/**
 * `Conv2DBackpropFilter` for backends that lack it (tfjs-backend-wasm 4.x): the filter gradient of
 * a 2-D convolution, which every conv-net training step needs (DESIGN section 6, issue 5).
 *
 * It is composed from kernels the backend already has, so the heavy part runs in the backend's own
 * matmul (XNNPACK on wasm) instead of JavaScript loops: for each filter tap (kh, kw) the strided
 * window of the padded input that tap sees is a [Ci, N] matrix (N = batch · outH · outW; taken from
 * a channels-first copy of the input), and
 *   dW[kh, kw] = window(kh, kw) · dy      ([Ci, N] · [N, Co] → [Ci, Co]).
 * One window is alive at a time, so the extra memory is two copies of the input, not the
 * KH·KW-fold im2col matrix (600 MB for a WRN50 layer1 batch).
 *
 * Beyond what tfjs-core passes, the kernel honours a `dilations` attribute: core's Conv2D gradient
 * refuses dilation > 1 on every backend, but callers of the kernel itself may use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, Tensor, Tensor4D, TensorInfo } from '@tensorflow/tfjs-core';

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
  dilations?: [number, number] | number;
}

/** Wraps a kernel input (a bare TensorInfo) as a Tensor that owns its own reference. */
export function asTensor<T extends Tensor>(info: TensorInfo): T {
  // Reshape to the same shape shares the data and bumps its reference count, so disposing the
  // wrapper never frees the caller's input.
  return tf.engine().runKernel('Reshape', { x: info } as unknown as tf.NamedTensorMap, { shape: info.shape }) as T;
}

/**
 * x: [batch, inH, inW, Ci] (or NCHW with dataFormat 'NCHW'), dy: [batch, outH, outW, Co];
 * returns dW: filterShape = [KH, KW, Ci, Co].
 */
export function conv2dBackpropFilterByTaps(x: Tensor4D, dy: Tensor4D, attrs: BackpropFilterAttrs): Tensor4D {
  return tf.tidy(() => {
    let xt = x;
    let dyt = dy;
    if (attrs.dataFormat === 'NCHW') {
      xt = tf.transpose(x, [0, 2, 3, 1]);
      dyt = tf.transpose(dy, [0, 2, 3, 1]);
    }
    const info = backend_util.computeConv2DInfo(
      xt.shape,
      attrs.filterShape,
      attrs.strides,
      attrs.dilations ?? 1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const { batchSize, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth } = info;
    const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: kh, filterWidth: kw } = info;
    if (dyt.shape[1] !== outHeight || dyt.shape[2] !== outWidth || dyt.shape[3] !== outChannels || dyt.shape[0] !== batchSize) {
      throw new Error(`Conv2DBackpropFilter: dy has shape ${dyt.shape}, expected [${batchSize},${outHeight},${outWidth},${outChannels}]`);
    }
    const n = batchSize * outHeight * outWidth;
    const dy2 = tf.reshape(dyt, [n, outChannels]);
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // The rows/cols the last tap reads; padding beyond them is never read, so it is not added.
    const needH = (outHeight - 1) * sh + (kh - 1) * dh + 1;
    const needW = (outWidth - 1) * sw + (kw - 1) * dw + 1;
    const bottom = Math.max(0, needH - inHeight - top);
    const right = Math.max(0, needW - inWidth - left);
    const padded =
      top || left || bottom || right
        ? tf.pad(xt, [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ])
        : xt;
    // Channels first once, so every tap's window is already the [Ci, N] left operand: wasm's
    // BatchMatMul with transposeA runs ~6× slower than a plain product.
    const paddedT = tf.transpose(padded, [3, 0, 1, 2]); // [Ci, batch, Hp, Wp]
    const taps: Tensor[] = [];
    for (let r = 0; r < kh; r++) {
      for (let c = 0; c < kw; c++) {
        taps.push(
          tf.tidy(() => {
            const r0 = r * dh;
            const c0 = c * dw;
            const whole = r0 === 0 && c0 === 0 && sh === 1 && sw === 1 && paddedT.shape[2] === outHeight && paddedT.shape[3] === outWidth;
            const window = whole
              ? paddedT
              : tf.stridedSlice(
                  paddedT,
                  [0, 0, r0, c0],
                  [inChannels, batchSize, r0 + (outHeight - 1) * sh + 1, c0 + (outWidth - 1) * sw + 1],
                  [1, 1, sh, sw],
                );
            return tf.matMul(tf.reshape(window, [inChannels, n]), dy2);
          }),
        );
      }
    }
    const stacked = taps.length === 1 ? (taps[0] as Tensor) : tf.stack(taps);
    return tf.reshape(stacked, attrs.filterShape) as Tensor4D;
  });
}

const kernelFunc: KernelFunc = ({ inputs, attrs }: { inputs: NamedTensorInfoMap; attrs?: NamedAttrMap }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  return tf.tidy(() => conv2dBackpropFilterByTaps(asTensor<Tensor4D>(x), asTensor<Tensor4D>(dy), attrs as unknown as BackpropFilterAttrs));
};

export function conv2dBackpropFilterConfig(backendName: string): KernelConfig {
  return { kernelName: 'Conv2DBackpropFilter', backendName, kernelFunc };
}
