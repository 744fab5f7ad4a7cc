/**
 * Registers tfjs-core's gradient functions. @tensorflow/tfjs-core's Node entry registers none
 * (only the union package @tensorflow/tfjs does), so without this module tf.grad fails on every
 * backend with "gradient function not found". The registrations come from a bundle generated from
 * the installed tfjs-core (vendor/build-gradients.mjs explains why and how). Importing this module
 * is enough; every engine entry point (backends.ts) does.
 */
import { getGradient } from '@tensorflow/tfjs-core';
import { TFJS_CORE_VERSION } from './vendor/tfjs-core-gradients.mjs';

/** Version of tfjs-core the registered gradients were generated from. */
export const GRADIENTS_TFJS_VERSION: string = TFJS_CORE_VERSION;

/** True when a gradient is registered for `kernelName` (e.g. 'Conv2D'). */
export function hasGradient(kernelName: string): boolean {
  return getGradient(kernelName) !== undefined;
}
