/**
 * Fills the gaps a backend has in the kernels that training needs (issue 5): tfjs-backend-wasm 4.x
 * ships no `Conv2DBackpropFilter`, no depthwise-convolution gradients and no `UnsortedSegmentSum`,
 * so `tf.grad` through a conv net throws there. Registration only adds what is missing, so a
 * backend's own kernel always wins.
 *
 * The exception is `registerKernelOverrides`: wasm's own `Conv2DBackpropInput` is a scalar
 * loop ~10× slower than its Conv2D (issue 13 item 6), so it is replaced by a composition on
 * XNNPACK kernels (conv2d-backprop-input.ts), which keeps the native kernel as its fallback;
 * its `BatchMatMul` with a transposed operand (every matMul gradient) runs ~5× slower than a
 * transpose plus the plain product, which batch-mat-mul.ts does instead (issue 17); and
 * wasm's scalar-loop data-movement kernels that a training step leans on (`Tile`, in tfjs-core's
 * batch-norm gradient; `MaxPoolGrad`; `Identity`, which copies every tensor a gradient saves) are
 * replaced by heap copies or shared memory, bit-identical to theirs (tile.ts, max-pool-grad.ts).
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './batch-mat-mul';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { jsKernelConfigs } from './js-kernels';
import { maxPoolGradConfig } from './max-pool-grad';
import { identityConfig, tileConfig } from './tile';

/**
 * Kernels that gradients of the ops our methods use end up calling: conv/depthwise/pool/resize
 * gradients, gather's gradient (UnsortedSegmentSum) and batch-norm (its gradient is composed of
 * element-wise ops in tfjs-core, so FusedBatchNorm itself is all it needs).
 */
export const TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'MaxPoolGrad',
  'AvgPoolGrad',
  'FusedBatchNorm',
  'ResizeBilinearGrad',
  'ResizeNearestNeighborGrad',
  'UnsortedSegmentSum',
  'BatchMatMul',
  'Transpose',
] as const;

/** The training kernels `backendName` has no kernel for (right now, after any registration). */
export function missingTrainingKernels(backendName: string): string[] {
  return TRAINING_KERNELS.filter((name) => getKernel(name, backendName) === undefined);
}

function configsFor(backendName: string): KernelConfig[] {
  return [conv2dBackpropFilterConfig(backendName), ...jsKernelConfigs(backendName)];
}

/** Registers our implementation of every kernel `backendName` lacks; returns their names. */
export function registerMissingKernels(backendName: string): string[] {
  const added: string[] = [];
  for (const config of configsFor(backendName)) {
    if (getKernel(config.kernelName, backendName) !== undefined) continue;
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}

/**
 * Kernels a backend has but that we replace, per tfjs backend name: compute kernels whose native
 * version stays selectable (setConv2DBackpropInputImpl) for before/after measurements.
 */
const OVERRIDES: Record<string, readonly string[]> = { wasm: ['Conv2DBackpropInput', 'BatchMatMul'] };

/**
 * Data-movement kernels we replace outright, per tfjs backend name: their results are copies of
 * the input's values, bit-identical to the native kernel's, which stays the fallback for what the
 * replacement does not handle (e.g. strings).
 */
const REPLACEMENTS: Record<string, readonly string[]> = { wasm: ['Tile', 'MaxPoolGrad', 'Identity'] };

/** The backend's own configs we replaced and the configs we registered instead, by kernel/backend. */
const natives = new Map<string, KernelConfig>();
const ours = new Map<string, KernelConfig>();
const key = (kernelName: string, backendName: string): string => `${backendName}/${kernelName}`;

export type Conv2DBackpropInputImpl = 'composed' | 'native';
let backpropInputImpl: Conv2DBackpropInputImpl = 'composed';
/** 'transposed': a transposed operand is transposed before the native product (batch-mat-mul.ts). */
export type BatchMatMulImpl = 'transposed' | 'native';
let batchMatMulImpl: BatchMatMulImpl = 'transposed';

/** Which implementation the installed `BatchMatMul` override runs, for before/after measurements; returns the previous choice. */
export function setBatchMatMulImpl(impl: BatchMatMulImpl): BatchMatMulImpl {
  const previous = batchMatMulImpl;
  batchMatMulImpl = impl;
  return previous;
}

function overrideConfig(kernelName: string, native: KernelConfig): KernelConfig {
  switch (kernelName) {
    case 'Conv2DBackpropInput':
      return conv2dBackpropInputConfig(native, () => backpropInputImpl === 'native');
    case 'BatchMatMul':
      return batchMatMulConfig(native, () => batchMatMulImpl === 'native');
    case 'Tile':
      return tileConfig(native);
    case 'MaxPoolGrad':
      return maxPoolGradConfig(native);
    case 'Identity':
      return identityConfig(native);
    default:
      throw new Error(`no override for kernel ${kernelName}`);
  }
}

/**
 * Replaces the kernels `backendName` has but runs too slowly for training (OVERRIDES and
 * REPLACEMENTS: on wasm `Conv2DBackpropInput`, `Tile`, `MaxPoolGrad`,
 * `Identity`) with ours. Idempotent; returns the names
 * replaced by this call.
 */
export function registerKernelOverrides(backendName: string): string[] {
  const replaced: string[] = [];
  for (const kernelName of [...(OVERRIDES[backendName] ?? []), ...(REPLACEMENTS[backendName] ?? [])]) {
    const k = key(kernelName, backendName);
    const current = getKernel(kernelName, backendName);
    if (current === undefined || current === ours.get(k)) continue;
    const config = overrideConfig(kernelName, current);
    unregisterKernel(kernelName, backendName);
    registerKernel(config);
    natives.set(k, current);
    ours.set(k, config);
    replaced.push(kernelName);
  }
  return replaced;
}

/** The backend's own config of a kernel we replaced (so a benchmark can run both), else undefined. */
export function nativeKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  return natives.get(key(kernelName, backendName));
}

const installed = (names: readonly string[] | undefined, backendName: string): string[] =>
  (names ?? []).filter((name) => {
    const config = ours.get(key(name, backendName));
    return config !== undefined && getKernel(name, backendName) === config;
  });

/** The compute kernels of `backendName` (OVERRIDES) whose registered config is ours right now. */
export function overriddenKernels(backendName: string): string[] {
  return installed(OVERRIDES[backendName], backendName);
}

/** The data-movement kernels of `backendName` (REPLACEMENTS) whose registered config is ours right now. */
export function replacedKernels(backendName: string): string[] {
  return installed(REPLACEMENTS[backendName], backendName);
}

/**
 * Installs our config (`'ours'`, the default after registerKernelOverrides) or the backend's own
 * (`'native'`) for a kernel of REPLACEMENTS, for before/after measurements in one process
 * (bench/autoencoder-train.ts --ab). Returns the previous choice; a kernel we did not replace is
 * left alone ('native').
 */
export function selectReplacement(kernelName: string, backendName: string, which: 'ours' | 'native'): 'ours' | 'native' {
  const k = key(kernelName, backendName);
  const mine = ours.get(k);
  const native = natives.get(k);
  if (!mine || !native || !(REPLACEMENTS[backendName] ?? []).includes(kernelName)) return 'native';
  const previous = getKernel(kernelName, backendName) === mine ? 'ours' : 'native';
  if (previous !== which) {
    unregisterKernel(kernelName, backendName);
    registerKernel(which === 'ours' ? mine : native);
  }
  return previous;
}

/**
 * Which implementation the installed `Conv2DBackpropInput` override runs: our composition (the
 * default) or the backend's own kernel, for before/after measurements in one process. Returns the
 * previous choice.
 */
export function setConv2DBackpropInputImpl(impl: Conv2DBackpropInputImpl): Conv2DBackpropInputImpl {
  const previous = backpropInputImpl;
  backpropInputImpl = impl;
  return previous;
}
