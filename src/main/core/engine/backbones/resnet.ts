/**
 * ResNet backbones as torchvision defines them (He et al., "Deep Residual Learning", 2016; the
 * v1.5 variant that strides in the 3×3 conv of a bottleneck), with torchvision/timm parameter names
 * so `timm/<arch>.tv_in1k` safetensors load as they are:
 *   - resnet18: BasicBlock, [2, 2, 2, 2];
 *   - wide_resnet50_2 (Zagoruyko & Komodakis, "Wide Residual Networks"): Bottleneck, [3, 4, 6, 3],
 *     inner width doubled (width_per_group 128), the feature extractor of PatchCore, RD and FastFlow.
 *
 * Inference only: batch norm is folded into the preceding convolution when the model is built
 * (w' = w · γ/√(var+ε), b' = β − μ·γ/√(var+ε), ε = 1e-5 as torch), so a forward pass is a chain of
 * fused conv + bias + ReLU kernels. Tensors are NHWC; torch's OIHW filters become HWIO.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { normalArray, mulberry32, seedFor } from '../random';
import type { DecodedTensor, TensorToWrite } from '../safetensors';
import { foldConvBn } from './fold';

export const RESNET_ARCHS = ['resnet18', 'wide_resnet50_2'] as const;
export type ResNetArch = (typeof RESNET_ARCHS)[number];
export const RESNET_LAYERS = ['layer1', 'layer2', 'layer3', 'layer4'] as const;
export type ResNetLayer = (typeof RESNET_LAYERS)[number];


interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  blocks: [number, number, number, number];
  widthPerGroup: number;
}

const CONFIGS: Record<ResNetArch, ResNetConfig> = {
  resnet18: { block: 'basic', blocks: [2, 2, 2, 2], widthPerGroup: 64 },
  wide_resnet50_2: { block: 'bottleneck', blocks: [3, 4, 6, 3], widthPerGroup: 128 },
};

/** One convolution followed by its batch norm, as named in the torch state dict. */
interface ConvBn {
  conv: string; // e.g. 'layer1.0.conv1' (the tensor is `${conv}.weight`)
  bn: string; // e.g. 'layer1.0.bn1'
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

interface Block {
  units: ConvBn[];
  downsample: ConvBn | null;
}

interface Plan {
  stem: ConvBn;
  layers: Block[][];
  /** Channels of each layer's output. */
  channels: Record<ResNetLayer, number>;
  fcIn: number;
}

function plan(arch: ResNetArch): Plan {
  const cfg = CONFIGS[arch];
  const expansion = cfg.block === 'basic' ? 1 : 4;
  const stem: ConvBn = { conv: 'conv1', bn: 'bn1', cin: 3, cout: 64, k: 7, stride: 2, pad: 3 };
  let cin = 64;
  const layers: Block[][] = [];
  const channels = {} as Record<ResNetLayer, number>;
  cfg.blocks.forEach((count, li) => {
    const planes = 64 * 2 ** li;
    const blocks: Block[] = [];
    for (let bi = 0; bi < count; bi++) {
      const p = `layer${li + 1}.${bi}`;
      const stride = bi === 0 && li > 0 ? 2 : 1;
      const out = planes * expansion;
      const units: ConvBn[] =
        cfg.block === 'basic'
          ? [
              { conv: `${p}.conv1`, bn: `${p}.bn1`, cin, cout: planes, k: 3, stride, pad: 1 },
              { conv: `${p}.conv2`, bn: `${p}.bn2`, cin: planes, cout: planes, k: 3, stride: 1, pad: 1 },
            ]
          : (() => {
              const width = (planes * cfg.widthPerGroup) / 64;
              return [
                { conv: `${p}.conv1`, bn: `${p}.bn1`, cin, cout: width, k: 1, stride: 1, pad: 0 },
                { conv: `${p}.conv2`, bn: `${p}.bn2`, cin: width, cout: width, k: 3, stride, pad: 1 },
                { conv: `${p}.conv3`, bn: `${p}.bn3`, cin: width, cout: out, k: 1, stride: 1, pad: 0 },
              ];
            })();
      const downsample = stride !== 1 || cin !== out ? { conv: `${p}.downsample.0`, bn: `${p}.downsample.1`, cin, cout: out, k: 1, stride, pad: 0 } : null;
      blocks.push({ units, downsample });
      cin = out;
    }
    layers.push(blocks);
    channels[RESNET_LAYERS[li] as ResNetLayer] = cin;
  });
  return { stem, layers, channels, fcIn: cin };
}

function allUnits(p: Plan): ConvBn[] {
  const out = [p.stem];
  for (const layer of p.layers) for (const b of layer) out.push(...b.units, ...(b.downsample ? [b.downsample] : []));
  return out;
}

export interface ParamSpec {
  shape: number[];
  /** Not needed for features (the classifier, BN's step counter): checked when present, never required. */
  optional: boolean;
  /** Integer buffers (num_batches_tracked) are I64 in torch files. */
  dtype: 'float' | 'int64';
}

/** Every tensor of the torch state dict, name → shape, in torchvision's order. */
export function resnetParameters(arch: ResNetArch): Map<string, ParamSpec> {
  const p = plan(arch);
  const out = new Map<string, ParamSpec>();
  const req = (shape: number[]): ParamSpec => ({ shape, optional: false, dtype: 'float' });
  for (const u of allUnits(p)) {
    out.set(`${u.conv}.weight`, req([u.cout, u.cin, u.k, u.k]));
    out.set(`${u.bn}.weight`, req([u.cout]));
    out.set(`${u.bn}.bias`, req([u.cout]));
    out.set(`${u.bn}.running_mean`, req([u.cout]));
    out.set(`${u.bn}.running_var`, req([u.cout]));
    out.set(`${u.bn}.num_batches_tracked`, { shape: [], optional: true, dtype: 'int64' });
  }
  out.set('fc.weight', { shape: [1000, p.fcIn], optional: true, dtype: 'float' });
  out.set('fc.bias', { shape: [1000], optional: true, dtype: 'float' });
  return out;
}

export function resnetChannels(arch: ResNetArch): Record<ResNetLayer, number> {
  return plan(arch).channels;
}

/** Output stride of each layer relative to the input (4, 8, 16, 32). */
export const RESNET_STRIDES: Record<ResNetLayer, number> = { layer1: 4, layer2: 8, layer3: 16, layer4: 32 };

export interface RandomInitOptions {
  /**
   * Draw batch-norm statistics and affine parameters at random instead of torchvision's
   * (γ 1, β 0, μ 0, σ² 1). Parity tests use it so the BN folding is exercised, not the identity.
   */
  randomBatchNorm?: boolean;
}

/**
 * torchvision's initialisation, seeded: convs Kaiming-normal (fan_out, ReLU gain: std √(2/fan_out)),
 * BN γ 1 β 0, running stats 0/1, fc weight and bias U(±1/√fan_in) (nn.Linear's default).
 * Returns the torch state dict (OIHW), ready for `writeSafetensors`.
 */
export function randomResNetWeights(arch: ResNetArch, seed: number, options: RandomInitOptions = {}): Map<string, TensorToWrite> {
  const out = new Map<string, TensorToWrite>();
  const fcIn = plan(arch).fcIn;
  for (const [name, spec] of resnetParameters(arch)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const s = seedFor(seed, name);
    if (spec.dtype === 'int64') {
      out.set(name, { dtype: 'I64', shape: spec.shape, data: new BigInt64Array(n) });
      continue;
    }
    let data: Float32Array;
    if (name.startsWith('fc.')) {
      const rand = mulberry32(s);
      const bound = 1 / Math.sqrt(fcIn);
      data = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);
    } else if (spec.shape.length === 4) {
      const [cout, , kh, kw] = spec.shape as [number, number, number, number];
      data = normalArray(n, s, Math.sqrt(2 / (cout * kh * kw)));
    } else {
      const rand = mulberry32(s);
      const field = name.slice(name.lastIndexOf('.') + 1);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (!options.randomBatchNorm) data[i] = field === 'weight' || field === 'running_var' ? 1 : 0;
        else if (field === 'weight') data[i] = 0.5 + rand();
        else if (field === 'running_var') data[i] = 0.5 + 1.5 * rand();
        else data[i] = (rand() - 0.5) * 0.2;
      }
    }
    out.set(name, { shape: spec.shape, data });
  }
  return out;
}

/** Names every tensor of `expected` that is missing from `shapes` or has another shape; empty when they fit. */
export function checkParameterShapes(expected: Map<string, ParamSpec>, shapes: Map<string, { shape: number[] }>): string[] {
  const problems: string[] = [];
  for (const [name, spec] of expected) {
    const got = shapes.get(name);
    if (!got) {
      if (!spec.optional) problems.push(`tensor '${name}' is missing (expected shape [${spec.shape.join(', ')}])`);
      continue;
    }
    if (got.shape.length !== spec.shape.length || got.shape.some((d, i) => d !== spec.shape[i])) {
      problems.push(`tensor '${name}' has shape [${got.shape.join(', ')}], expected [${spec.shape.join(', ')}]`);
    }
  }
  return problems;
}

/** Names every tensor that is missing or of the wrong shape; empty when the set fits `arch`. */
export function checkResNetTensors(arch: ResNetArch, shapes: Map<string, { shape: number[] }>): string[] {
  return checkParameterShapes(resnetParameters(arch), shapes);
}

interface FoldedConv {
  filter: tf.Tensor4D; // [k, k, cin, cout]
  bias: tf.Tensor1D; // [cout]
  stride: number;
  pad: number;
}

/** Folds BN into the conv (fold.ts), in plain JS so no tensor is left behind. */
function fold(u: ConvBn, tensors: Map<string, DecodedTensor>): FoldedConv {
  return { ...foldConvBn(u, tensors), stride: u.stride, pad: u.pad };
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** ImageNet normalisation: x [batch, h, w, 3] with values in [0, 1] → (x − mean) / std per channel. */
export function normalizeImageNet(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])));
}

/** An inference-only ResNet feature extractor. Owns its weight tensors: call dispose(). */
export class ResNetBackbone {
  readonly channels: Record<ResNetLayer, number>;
  private readonly stem: FoldedConv;
  private readonly layers: { units: FoldedConv[]; downsample: FoldedConv | null }[][];
  private disposed = false;

  private constructor(
    readonly arch: ResNetArch,
    tensors: Map<string, DecodedTensor>,
  ) {
    const p = plan(arch);
    this.channels = p.channels;
    const problems = checkResNetTensors(arch, tensors);
    if (problems.length) throw new LabError(`weights do not fit ${arch}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`, 'ValidationError');
    const made: FoldedConv[] = [];
    const foldKeep = (u: ConvBn): FoldedConv => {
      const f = fold(u, tensors);
      made.push(f);
      return f;
    };
    try {
      this.stem = foldKeep(p.stem);
      this.layers = p.layers.map((layer) => layer.map((b) => ({ units: b.units.map(foldKeep), downsample: b.downsample ? foldKeep(b.downsample) : null })));
    } catch (error) {
      for (const f of made) tf.dispose([f.filter, f.bias]);
      throw error;
    }
  }

  /** Builds from a torch state dict (e.g. `loadSafetensors(path).tensors`); refuses a set that does not fit. */
  static fromTensors(arch: ResNetArch, tensors: Map<string, DecodedTensor>): ResNetBackbone {
    return new ResNetBackbone(arch, tensors);
  }

  private conv(x: tf.Tensor4D, c: FoldedConv, relu: boolean): tf.Tensor4D {
    return tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: c.pad, bias: c.bias, activation: relu ? 'relu' : 'linear' });
  }

  /**
   * x: [batch, h, w, 3], already ImageNet-normalised (see normalizeImageNet) → the requested
   * layers' outputs, each [batch, h/stride, w/stride, channels]. Runs only as deep as needed.
   */
  forward(x: tf.Tensor4D, layers: readonly ResNetLayer[] = RESNET_LAYERS): Record<string, tf.Tensor4D> {
    if (this.disposed) throw new LabError(`${this.arch} backbone was disposed`);
    if (x.rank !== 4 || x.shape[3] !== 3) throw new LabError(`${this.arch}: input must be [batch, h, w, 3], got [${x.shape.join(', ')}]`, 'ValidationError');
    for (const l of layers) if (!RESNET_LAYERS.includes(l)) throw new LabError(`${this.arch}: unknown layer ${JSON.stringify(l)}; layers are ${RESNET_LAYERS.join(', ')}`, 'ValidationError');
    const deepest = Math.max(...layers.map((l) => RESNET_LAYERS.indexOf(l)));
    return tf.tidy(() => {
      const out: Record<string, tf.Tensor4D> = {};
      let h = this.conv(x, this.stem, true);
      h = tf.maxPool(h, 3, 2, 1);
      for (let li = 0; li <= deepest; li++) {
        for (const block of this.layers[li] ?? []) {
          const identity = block.downsample ? this.conv(h, block.downsample, false) : h;
          let y = h;
          block.units.forEach((u, i) => {
            y = this.conv(y, u, i < block.units.length - 1);
          });
          h = tf.relu(tf.add(y, identity)) as tf.Tensor4D;
        }
        const name = RESNET_LAYERS[li] as ResNetLayer;
        if (layers.includes(name)) out[name] = h;
      }
      return out;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all = [this.stem, ...this.layers.flat().flatMap((b) => [...b.units, ...(b.downsample ? [b.downsample] : [])])];
    for (const f of all) tf.dispose([f.filter, f.bias]);
  }
}
