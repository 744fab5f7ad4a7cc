/**
 * Fills the gaps a backend has in the kernels that training needs (issue 5): tfjs-backend-wasm 4.x
 * ships no `Conv2DBackpropFilter`, no depthwise-convolution gradients and no `UnsortedSegmentSum`,
 * so `tf.grad` through a conv net throws there. Registration only adds what is missing, so a
 * backend's own kernel always wins.
 *
 * The one exception is `registerKernelOverrides`: wasm's own `Conv2DBackpropInput` is a scalar
 * loop ~10× slower than its Conv2D (issue 13 item 6), so it is replaced by a composition on
 * XNNPACK kernels (conv2d-backprop-input.ts), which keeps the native kernel as its fallback.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input';
import { jsKernelConfigs } from './js-kernels';

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

/** Kernels a backend has but that we replace, per tfjs backend name. */
const OVERRIDES: Record<string, readonly string[]> = { wasm: ['Conv2DBackpropInput'] };

/** The backend's own configs we replaced and the configs we registered instead, by kernel/backend. */
const natives = new Map<string, KernelConfig>();
const ours = new Map<string, KernelConfig>();
const key = (kernelName: string, backendName: string): string => `${backendName}/${kernelName}`;

export type Conv2DBackpropInputImpl = 'composed' | 'native';
let backpropInputImpl: Conv2DBackpropInputImpl = 'composed';

/**
 * Replaces the kernels `backendName` has but runs too slowly for training (today: wasm's
 * `Conv2DBackpropInput`) with ours. Idempotent; returns the names replaced by this call.
 */
export function registerKernelOverrides(backendName: string): string[] {
  const replaced: string[] = [];
  for (const kernelName of OVERRIDES[backendName] ?? []) {
    const k = key(kernelName, backendName);
    const current = getKernel(kernelName, backendName);
    if (current === undefined || current === ours.get(k)) continue;
    const config = conv2dBackpropInputConfig(current, () => backpropInputImpl === 'native');
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

/** The kernels of `backendName` whose registered config is ours right now. */
export function overriddenKernels(backendName: string): string[] {
  return (OVERRIDES[backendName] ?? []).filter((name) => {
    const config = ours.get(key(name, backendName));
    return config !== undefined && getKernel(name, backendName) === config;
  });
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
