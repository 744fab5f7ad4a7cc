/**
 * `Tile` for tfjs-backend-wasm by block copies inside the wasm heap. wasm's own Tile is a scalar
 * loop that computes every output element's source index (tfjs 4.22: ~40 ms to tile a [1,1,1,16]
 * vector to [16,64,64,16]); tfjs-core's FusedBatchNorm gradient tiles the per-channel 1/√(var+ε)
 * to the full activation shape once per batch norm, which made Tile the largest kernel of a U-Net
 * training step (27 % of it, bench/autoencoder-train.ts --profile).
 *
 * Output index j along axis d reads input index j mod size[d], so the output is built from the
 * innermost axis out: each input row is copied once, and every axis' block is then repeated by
 * doubling copies within the output (copyWithin, a memmove). The values are copied, never
 * computed, so the result is bit-identical to the native kernel's.
 *
 * Backends without direct access to their memory (anything but wasm), strings and complex numbers
 * run the backend's own kernel. `Identity` (below) is replaced the same way.
 */
import { util } from '@tensorflow/tfjs-core';
import type { DataType, KernelConfig, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's BackendWasm this file uses. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** `backend` when it keeps tensors in one heap it exposes (BackendWasm), else null. */
export function heapBackend(backend: unknown): HeapBackend | null {
  const b = backend as Partial<HeapBackend> | null;
  return b && typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function' ? (b as HeapBackend) : null;
}

type Values = Float32Array | Int32Array | Uint8Array;

/** Writes `src` (shape `shape`) tiled `reps` times per axis into `out`. */
export function tileInto(src: Values, shape: readonly number[], reps: readonly number[], out: Values): void {
  const rank = shape.length;
  if (out.length === 0) return;
  if (rank === 0) {
    out.set(src.subarray(0, 1));
    return;
  }
  // inStride[d]: input elements per index of axis d; outBlock[d]: output elements per index of axis d.
  const inStride = new Array<number>(rank);
  const outBlock = new Array<number>(rank);
  let si = 1;
  let so = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStride[d] = si;
    outBlock[d] = so;
    si *= shape[d] as number;
    so *= (shape[d] as number) * (reps[d] as number);
  }
  const fill = (d: number, inOff: number, outOff: number): void => {
    const size = shape[d] as number;
    const block = outBlock[d] as number;
    if (d === rank - 1) out.set(src.subarray(inOff, inOff + size), outOff);
    else for (let i = 0; i < size; i++) fill(d + 1, inOff + i * (inStride[d] as number), outOff + i * block);
    // Repeat the first `size · block` elements reps[d] times, doubling what is already there.
    const once = size * block;
    const total = once * (reps[d] as number);
    for (let filled = once; filled < total; ) {
      const n = Math.min(filled, total - filled);
      out.copyWithin(outOff + filled, outOff, outOff + n);
      filled += n;
    }
  };
  fill(0, 0, 0);
}

/** The Tile config for wasm, falling back to `native` where the heap path does not apply. */
export function tileConfig(native: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { reps } = args.attrs as unknown as { reps: number[] };
    const heap = heapBackend(args.backend);
    if (!heap || !(x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool') || reps.length !== x.shape.length) {
      return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    }
    const outShape = x.shape.map((s, i) => s * (reps[i] as number));
    const out = heap.makeOutput(outShape, x.dtype);
    if (util.sizeFromShape(outShape) > 0) {
      // Views after the allocation: growing the heap detaches views taken before it.
      tileInto(heap.typedArrayFromHeap(x), x.shape, reps, heap.typedArrayFromHeap(out));
    }
    return out;
  };
  const config: KernelConfig = { kernelName: 'Tile', backendName: native.backendName, kernelFunc };
  if (native.setupFunc) config.setupFunc = native.setupFunc;
  if (native.disposeFunc) config.disposeFunc = native.disposeFunc;
  return config;
}

/**
 * `Identity` for wasm without a copy: the output shares the input's memory, as the cpu backend's
 * Identity does (tfjs kernels never write into an input). wasm's own copies every element; tfjs-core
 * runs it for every tensor a gradient saves (engine.clone), ~20 full-size copies per U-Net
 * forward. Strings run the native kernel.
 */
export function identityConfig(native: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args: { inputs: NamedTensorInfoMap; backend: unknown; attrs?: NamedAttrMap }) => {
    const { x } = args.inputs as { x: TensorInfo };
    const b = args.backend as { incRef?: (dataId: unknown) => void } | null;
    if (!heapBackend(args.backend) || typeof b?.incRef !== 'function' || x.dtype === 'string' || x.dtype === 'complex64') {
      return native.kernelFunc(args as Parameters<KernelFunc>[0]);
    }
    b.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
  const config: KernelConfig = { kernelName: 'Identity', backendName: native.backendName, kernelFunc };
  if (native.setupFunc) config.setupFunc = native.setupFunc;
  if (native.disposeFunc) config.disposeFunc = native.disposeFunc;
  return config;
}
