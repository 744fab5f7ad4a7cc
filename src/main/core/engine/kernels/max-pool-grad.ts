/**
 * `MaxPoolGrad` for tfjs-backend-wasm as one JavaScript pass over the wasm heap. wasm's own kernel
 * (tfjs 4.22) is a scalar C++ loop that, for every input element, re-derives the windows that
 * contain it (26 ms for the U-Net's first 2×2 pooling of a [16, 64, 64, 16] batch, 4 % of a
 * training step); this finds each window's maximum once and adds its dy there.
 *
 * The routing is the native kernel's, decision for decision (tfjs-backend-wasm MaxPoolGrad.cc with
 * pool3d_impl.h), so the result is the same: a window's position is the LAST element ≥ the running
 * best, starting from the best FLT_MIN (1.17549435e-38, not −∞) at flat offset 0 of the input, so a
 * window whose values are all ≤ FLT_MIN (zeros after a ReLU, negatives) routes its dy to input
 * element 0 when the window contains it and drops it otherwise (PyTorch sends it to the window's
 * first maximum; after a ReLU the ReLU's gradient zeroes it either way). Contributions to an input
 * element are added in the native order (dy positions ascending). One difference: where dy holds
 * ±Infinity or NaN, the native kernel also spreads NaN (dy·0) to the window's other elements.
 *
 * Non-heap backends, dilation and non-float32 inputs run the backend's own kernel.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapBackend } from './tile';

const FLT_MIN = 1.1754943508222875e-38;

interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** dx (zero-filled, input's size) += the routed dy; x: the pooling's input values, NHWC. */
export function maxPoolGradInto(x: Float32Array, dy: Float32Array, dx: Float32Array, info: backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < batchSize; b++) {
    const imageBase = b * inHeight;
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(inHeight, r0 + fh);
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(inWidth, c0 + fw);
        // Whether the window covers input element 0 (the fallback position).
        const coversZero = b === 0 && rMin === 0 && cMin === 0 && rMax > 0 && cMax > 0;
        for (let ch = 0; ch < c; ch++, o++) {
          let best = FLT_MIN;
          let pos = 0;
          for (let r = rMin; r < rMax; r++) {
            let at = ((imageBase + r) * inWidth + cMin) * c + ch;
            for (let col = cMin; col < cMax; col++, at += c) {
              const v = x[at] as number;
              if (v >= best) {
                best = v;
                pos = at;
              }
            }
          }
          if (pos !== 0 || (coversZero && ch === 0)) dx[pos] = (dx[pos] as number) + (dy[o] as number);
        }
      }
    }
  }
}

/** The MaxPoolGrad config for wasm, falling back to `native` where the heap path does not apply. */
export function maxPoolGradConfig(native: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const a = args.attrs as unknown as MaxPoolGradAttrs;
    const heap = heapBackend(args.backend);
    if (!heap || input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    const out = heap.makeOutput([...input.shape], 'float32');
    // Views after the allocation: growing the heap detaches views taken before it.
    maxPoolGradInto(heap.typedArrayFromHeap(input) as Float32Array, heap.typedArrayFromHeap(dy) as Float32Array, heap.typedArrayFromHeap(out) as Float32Array, info);
    return out;
  };
  const config: KernelConfig = { kernelName: 'MaxPoolGrad', backendName: native.backendName, kernelFunc };
  if (native.setupFunc) config.setupFunc = native.setupFunc;
  if (native.disposeFunc) config.disposeFunc = native.disposeFunc;
  return config;
}
