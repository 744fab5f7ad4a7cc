/**
 * Training kernels that tfjs-backend-wasm 4.x lacks and that are cheap enough to run as plain
 * JavaScript loops over the backend's data: the two depthwise-convolution gradients
 * (`DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`; memory-bound, a
 * small share of an EfficientNet step) and `UnsortedSegmentSum` (the gradient of `gather`).
 *
 * They work on any backend: inputs are read with `backend.readSync`, the output is written with
 * `backend.write`, which every tfjs KernelBackend implements.
 *
 * The depthwise kernels are written as a scatter over dy, so dilation and stride are handled by the
 * same index arithmetic (the cpu backend's BackpropInput ignores dilations; core's gradient refuses
 * dilation > 1 anyway).
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { DataType, KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

interface DepthwiseAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: [number, number] | number;
}

function read(backend: KernelBackend, info: TensorInfo): Float32Array {
  const values = backend.readSync(info.dataId);
  return values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
}

function output(backend: KernelBackend, shape: number[], values: Float32Array, dtype: DataType = 'float32'): TensorInfo {
  return { dataId: backend.write(values, shape, dtype), shape, dtype };
}

/**
 * Visits every (output position, tap) pair of a depthwise convolution whose input position falls
 * inside the (unpadded) input: calls visit(xOffset, dyOffset, wOffset) with the flat offsets of
 * x[b, ih, iw, 0], dy[b, oh, ow, 0] and w[kh, kw, 0, 0].
 */
function forEachTap(info: backend_util.Conv2DInfo, visit: (xOff: number, dyOff: number, wOff: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const mult = outChannels / inChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        const dyOff = ((b * outHeight + oh) * outWidth + ow) * outChannels;
        for (let kh = 0; kh < filterHeight; kh++) {
          const ih = oh * strideHeight + kh * dilationHeight - top;
          if (ih < 0 || ih >= inHeight) continue;
          for (let kw = 0; kw < filterWidth; kw++) {
            const iw = ow * strideWidth + kw * dilationWidth - left;
            if (iw < 0 || iw >= inWidth) continue;
            visit(((b * inHeight + ih) * inWidth + iw) * inChannels, dyOff, (kh * filterWidth + kw) * inChannels * mult);
          }
        }
      }
    }
  }
}

/** x: [batch, inH, inW, Ci], dy: [batch, outH, outW, Ci·M] → dW: filterShape [KH, KW, Ci, M]. */
const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { filterShape: [number, number, number, number] };
  const kb = backend as KernelBackend;
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const xv = read(kb, x);
  const dyv = read(kb, dy);
  const dw = new Float32Array(util.sizeFromShape(a.filterShape));
  const ci = info.inChannels;
  const mult = info.outChannels / ci;
  forEachTap(info, (xOff, dyOff, wOff) => {
    for (let c = 0; c < ci; c++) {
      const xval = xv[xOff + c] as number;
      const base = c * mult;
      for (let m = 0; m < mult; m++) dw[wOff + base + m] = (dw[wOff + base + m] as number) + xval * (dyv[dyOff + base + m] as number);
    }
  });
  return output(kb, [...a.filterShape], dw);
};

/** dy: [batch, outH, outW, Ci·M], filter: [KH, KW, Ci, M] → dx: inputShape [batch, inH, inW, Ci]. */
const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as DepthwiseAttrs & { inputShape: [number, number, number, number] };
  const kb = backend as KernelBackend;
  const info = backend_util.computeConv2DInfo(a.inputShape, filter.shape as [number, number, number, number], a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode, true);
  const dyv = read(kb, dy);
  const wv = read(kb, filter);
  const dx = new Float32Array(util.sizeFromShape(a.inputShape));
  const ci = info.inChannels;
  const mult = info.outChannels / ci;
  forEachTap(info, (xOff, dyOff, wOff) => {
    for (let c = 0; c < ci; c++) {
      const base = c * mult;
      let acc = 0;
      for (let m = 0; m < mult; m++) acc += (dyv[dyOff + base + m] as number) * (wv[wOff + base + m] as number);
      dx[xOff + c] = (dx[xOff + c] as number) + acc;
    }
  });
  return output(kb, [...a.inputShape], dx);
};

/**
 * x: [...idsShape, ...inner], segmentIds: idsShape (int32) → [numSegments, ...inner], summing the
 * rows of x that share an id. Ids outside [0, numSegments) are dropped, as TensorFlow does.
 */
const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const kb = backend as KernelBackend;
  const ids = kb.readSync(segmentIds.dataId) as ArrayLike<number>;
  const values = kb.readSync(x.dataId) as ArrayLike<number>;
  const inner = util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= numSegments) continue;
    const src = i * inner;
    const dst = id * inner;
    for (let j = 0; j < inner; j++) out[dst + j] = (out[dst + j] as number) + (values[src + j] as number);
  }
  const shape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
  return { dataId: kb.write(out, shape, x.dtype), shape, dtype: x.dtype };
};

export function jsKernelConfigs(backendName: string): KernelConfig[] {
  return [
    { kernelName: 'DepthwiseConv2dNativeBackpropFilter', backendName, kernelFunc: depthwiseBackpropFilter },
    { kernelName: 'DepthwiseConv2dNativeBackpropInput', backendName, kernelFunc: depthwiseBackpropInput },
    { kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSum },
  ];
}
