/**
 * The backbones the engine can build, by timm architecture name: their expected torch tensors
 * (to verify a weights file before it is used), their seeded random initialisation, and a loader.
 * ResNets (resnet.ts: PatchCore, RD, FastFlow), efficientnet_b4 (efficientnet.ts: timm's
 * PyTorch-style B4) and tf_efficientnet_b4 (tf-efficientnet.ts: the TF-ported B4 UniAD's official
 * code runs, lukemelas' names) share one shape, `Backbone`, so the feature extractor and the
 * `features` job can take any of them by name.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { DecodedTensor, TensorToWrite } from '../safetensors';
import {
  RESNET_ARCHS,
  RESNET_LAYERS,
  RESNET_STRIDES,
  ResNetBackbone,
  checkResNetTensors,
  randomResNetWeights,
  resnetParameters,
  resnetChannels,
  type ParamSpec,
  type RandomInitOptions,
  type ResNetArch,
} from './resnet';
import {
  EFFICIENTNET_ARCHS,
  EFFICIENTNET_LAYERS,
  EFFICIENTNET_STRIDES,
  EfficientNetBackbone,
  checkEfficientNetTensors,
  efficientNetChannels,
  efficientNetParameters,
  randomEfficientNetWeights,
  type EfficientNetArch,
} from './efficientnet';

export const BUILT_ARCHS = [...RESNET_ARCHS, ...EFFICIENTNET_ARCHS] as const;
export type BuiltArch = ResNetArch | EfficientNetArch;

export function isBuiltArch(arch: string): arch is BuiltArch {
  return (BUILT_ARCHS as readonly string[]).includes(arch);
}

function isEfficientNet(arch: BuiltArch): arch is EfficientNetArch {
  return (EFFICIENTNET_ARCHS as readonly string[]).includes(arch);
}

/** What every built backbone offers: named feature layers of an ImageNet-normalised NHWC batch. */
export interface Backbone {
  readonly arch: BuiltArch;
  /** Channels of each layer the backbone can return. */
  readonly channels: Readonly<Record<string, number>>;
  /** x [batch, h, w, 3] normalised → each requested layer [batch, h/stride, w/stride, channels]; the caller disposes them. */
  forward(x: tf.Tensor4D, layers?: readonly string[]): Record<string, tf.Tensor4D>;
  dispose(): void;
}

/** The layer names an architecture returns, shallow to deep. */
export function backboneLayers(arch: BuiltArch): readonly string[] {
  return isEfficientNet(arch) ? EFFICIENTNET_LAYERS : RESNET_LAYERS;
}

/** Output stride of each layer relative to the input. */
export function backboneStrides(arch: BuiltArch): Readonly<Record<string, number>> {
  return isEfficientNet(arch) ? EFFICIENTNET_STRIDES : RESNET_STRIDES;
}

/** Channels of each layer. */
export function backboneChannels(arch: BuiltArch): Readonly<Record<string, number>> {
  return isEfficientNet(arch) ? efficientNetChannels(arch) : resnetChannels(arch);
}

/** Expected tensors of a built architecture; null for one we cannot build (yet). */
export function architectureParameters(arch: string): Map<string, ParamSpec> | null {
  if (!isBuiltArch(arch)) return null;
  return isEfficientNet(arch) ? efficientNetParameters(arch) : resnetParameters(arch);
}

/** Problems (missing tensor, wrong shape), each naming the tensor; empty when the set fits. */
export function checkArchitecture(arch: BuiltArch, shapes: Map<string, { shape: number[] }>): string[] {
  return isEfficientNet(arch) ? checkEfficientNetTensors(arch, shapes) : checkResNetTensors(arch, shapes);
}

/** Bytes of the float32 tensors of an architecture: the size of its safetensors file, bar the header. */
export function float32Bytes(arch: BuiltArch): number {
  let n = 0;
  for (const spec of (architectureParameters(arch) as Map<string, ParamSpec>).values()) if (spec.dtype === 'float') n += spec.shape.reduce((a, b) => a * b, 1);
  return n * 4;
}

/** Seeded random initialisation in the framework's own scheme (torchvision's for ResNets, timm's for both EfficientNets). */
export function randomWeights(arch: BuiltArch, seed: number, options?: RandomInitOptions): Map<string, TensorToWrite> {
  return isEfficientNet(arch) ? randomEfficientNetWeights(arch, seed, options) : randomResNetWeights(arch, seed, options);
}

export function buildBackbone(arch: ResNetArch, tensors: Map<string, DecodedTensor>): ResNetBackbone;
export function buildBackbone(arch: EfficientNetArch, tensors: Map<string, DecodedTensor>): EfficientNetBackbone;
export function buildBackbone(arch: BuiltArch, tensors: Map<string, DecodedTensor>): Backbone;
export function buildBackbone(arch: BuiltArch, tensors: Map<string, DecodedTensor>): Backbone {
  if (isEfficientNet(arch)) return EfficientNetBackbone.fromTensors(arch, tensors);
  return ResNetBackbone.fromTensors(arch, tensors);
}

export { ResNetBackbone, normalizeImageNet, RESNET_LAYERS, RESNET_STRIDES, resnetChannels } from './resnet';
export type { ResNetArch, ResNetLayer, ParamSpec, RandomInitOptions } from './resnet';
export { EfficientNetBackbone, EFFICIENTNET_ARCHS, EFFICIENTNET_LAYERS, EFFICIENTNET_STRIDES, UNIAD_LAYERS, efficientNetChannels, efficientNetPadding } from './efficientnet';
export type { EfficientNetArch, EfficientNetLayer } from './efficientnet';
