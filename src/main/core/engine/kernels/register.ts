/**
 * Fills the gaps a backend has in the kernels that training needs (issue 5): tfjs-backend-wasm 4.x
 * ships no `Conv2DBackpropFilter`, no depthwise-convolution gradients and no `UnsortedSegmentSum`,
 * so `tf.grad` through a conv net throws there. Registration only adds what is missing, so a
 * backend's own kernel always wins.
 */
import { getKernel, registerKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter';
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
