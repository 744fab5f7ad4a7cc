/**
 * `BatchMatMul` with a transposed operand for tfjs-backend-wasm: its own kernel hands only the
 * plain product to XNNPACK and runs `transposeA` / `transposeB` in a slow path (tfjs 4.22, 2 threads:
 * [1024, 272]ᵀ · [1024, 128] 30 ms flagged against 7 ms transposed first). Every matMul gradient
 * takes that path (dA = dY · Bᵀ, dB = Aᵀ · dY), so a transformer's backward pass spent ~95 % of a
 * training step in it (UniAD, bench/uniad-train.ts). Here the flagged operand is transposed first
 * (the Transpose kernel: a copy) and the plain product runs natively. The sums are the same
 * products added in XNNPACK's order rather than the slow path's, so results may differ from the
 * native kernel's in the last bits. The native kernel stays selectable (setBatchMatMulImpl) and
 * runs every call without a transposed operand, or with non-float32 operands.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { asTensor } from './conv2d-backprop-filter';

interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** `t` with its last two axes swapped. */
function swapLast(t: Tensor): Tensor {
  const r = t.rank;
  return tf.transpose(t, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

export function batchMatMulConfig(native: KernelConfig, useNative: () => boolean): KernelConfig {
  const kernelFunc: KernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as BatchMatMulAttrs;
    if (useNative() || (!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    }
    // The inner matMul has no transposed operand, so it reaches the native kernel.
    return tf.tidy(() => {
      const A = asTensor<Tensor>(a);
      const B = asTensor<Tensor>(b);
      return tf.matMul(transposeA ? swapLast(A) : A, transposeB ? swapLast(B) : B);
    }) as Tensor as TensorInfo;
  };
  const config: KernelConfig = { kernelName: 'BatchMatMul', backendName: native.backendName, kernelFunc };
  if (native.setupFunc) config.setupFunc = native.setupFunc;
  if (native.disposeFunc) config.disposeFunc = native.disposeFunc;
  return config;
}
