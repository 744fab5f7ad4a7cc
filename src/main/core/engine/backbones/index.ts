/**
 * The backbones the engine can build, by timm architecture name: their expected torch tensors
 * (to verify a weights file before it is used), their seeded random initialisation, and a loader.
 * efficientnet_b4 (UniAD's encoder) is catalogued for download but not yet built here.
 */
import type { DecodedTensor, TensorToWrite } from '../safetensors';
import {
  RESNET_ARCHS,
  ResNetBackbone,
  checkResNetTensors,
  randomResNetWeights,
  resnetParameters,
  type ParamSpec,
  type RandomInitOptions,
  type ResNetArch,
} from './resnet';

export const BUILT_ARCHS = RESNET_ARCHS;
export type BuiltArch = ResNetArch;

export function isBuiltArch(arch: string): arch is BuiltArch {
  return (BUILT_ARCHS as readonly string[]).includes(arch);
}

/** Expected tensors of a built architecture; null for one we cannot build (yet). */
export function architectureParameters(arch: string): Map<string, ParamSpec> | null {
  return isBuiltArch(arch) ? resnetParameters(arch) : null;
}

/** Problems (missing tensor, wrong shape), each naming the tensor; empty when the set fits. */
export function checkArchitecture(arch: BuiltArch, shapes: Map<string, { shape: number[] }>): string[] {
  return checkResNetTensors(arch, shapes);
}

/** Bytes of the float32 tensors of an architecture: the size of its safetensors file, bar the header. */
export function float32Bytes(arch: BuiltArch): number {
  let n = 0;
  for (const spec of resnetParameters(arch).values()) if (spec.dtype === 'float') n += spec.shape.reduce((a, b) => a * b, 1);
  return n * 4;
}

export function randomWeights(arch: BuiltArch, seed: number, options?: RandomInitOptions): Map<string, TensorToWrite> {
  return randomResNetWeights(arch, seed, options);
}

export function buildBackbone(arch: BuiltArch, tensors: Map<string, DecodedTensor>): ResNetBackbone {
  return ResNetBackbone.fromTensors(arch, tensors);
}

export { ResNetBackbone, normalizeImageNet, RESNET_LAYERS, RESNET_STRIDES, resnetChannels } from './resnet';
export type { ResNetArch, ResNetLayer, ParamSpec, RandomInitOptions } from './resnet';
