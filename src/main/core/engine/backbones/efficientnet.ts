/**
 * EfficientNet-B4 (Tan & Le, "EfficientNet: Rethinking Model Scaling for CNNs", ICML 2019) as timm
 * builds `efficientnet_b4` (its PyTorch-style variant: symmetric padding k//2, BN ε 1e-5), with
 * timm's parameter names so `timm/efficientnet_b4.ra2_in1k` safetensors load as they are. It is
 * UniAD's encoder (DESIGN section 7): stages 1–4 resized and concatenated, 272 channels.
 *
 * The network is B0's seven stages scaled by width 1.4 and depth 1.8 (timm's rounding: channels to a
 * multiple of 8 never below 90 % of the exact value, repeats rounded up):
 *
 *   stage (timm `blocks.i`)   block             k  stride  expand  out ch  repeats  returned as
 *   stem  `conv_stem`+`bn1`   conv 3×3          3  2       –       48      1
 *   0                         DepthwiseSeparable 3  1       1       24      2        layer1 (stride 2)
 *   1                         InvertedResidual  3  2       6       32      4        layer2 (stride 4)
 *   2                         InvertedResidual  5  2       6       56      4        layer3 (stride 8)
 *   3                         InvertedResidual  3  2       6       112     6
 *   4                         InvertedResidual  5  1       6       160     6        layer4 (stride 16)
 *   5                         InvertedResidual  5  2       6       272     8
 *   6                         InvertedResidual  3  1       6       448     2        layer5 (stride 32)
 *   head  `conv_head`+`bn2`   conv 1×1 → 1792, then `classifier` (not used for features)
 *
 * Why these five: UniAD (zhiyuanyou/UniAD, models/backbones) numbers EfficientNet's feature levels
 * by the last block before each reduction of resolution — for B4 the flat block indices
 * [1, 5, 9, 21, 31] — and its MVTec config takes `outlayers: [1, 2, 3, 4]`, i.e. the outputs of
 * timm stages 0, 1, 2 and 4: 24 + 32 + 56 + 160 = 272 channels at strides 2, 4, 8, 16, which its
 * MFCN neck resizes to stride 16 and concatenates. Those are also timm's `features_only` levels.
 * The layer names follow UniAD's numbering (layer1..layer5) so they sit beside ResNet's layer1..4.
 *
 * Blocks (SiLU everywhere an activation is): DepthwiseSeparable = dw conv → BN → SiLU → SE →
 * 1×1 conv → BN (+ input when shapes allow); InvertedResidual = 1×1 expand → BN → SiLU → dw conv →
 * BN → SiLU → SE → 1×1 project → BN (+ input when stride 1 and channels equal). SE (squeeze-excite):
 * global mean → 1×1 conv (reduce to ¼ of the block's input channels, with bias) → SiLU → 1×1 conv
 * (with bias) → sigmoid, which gates the channels.
 *
 * Inference only: every BN is folded into the preceding convolution when the model is built (as
 * in resnet.ts), drop-path is the identity. Tensors are NHWC; torch's OIHW filters become HWIO, its
 * depthwise [C, 1, k, k] filters tfjs' [k, k, C, 1].
 *
 * The same code builds `tf_efficientnet_b4`, the TF-ported B4 UniAD's official code runs
 * (lukemelas' names, BN ε 1e-3, static TF 'same' padding computed for 380 px): tf-efficientnet.ts
 * says what differs and why. The two take different parameter names on purpose, and each refuses
 * the other's files saying which network they belong to.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { mulberry32, normalArray, seedFor } from '../random';
import type { DecodedTensor, TensorToWrite } from '../safetensors';
import { floatData, foldConvBn } from './fold';
import { checkParameterShapes, type ParamSpec, type RandomInitOptions } from './resnet';
import { LUKEMELAS_NAMING, TF_B4_BUILT_FOR, TF_BN_EPS, sameStaticPadding } from './tf-efficientnet';

export const EFFICIENTNET_ARCHS = ['efficientnet_b4', 'tf_efficientnet_b4'] as const;
export type EfficientNetArch = (typeof EFFICIENTNET_ARCHS)[number];
export const EFFICIENTNET_LAYERS = ['layer1', 'layer2', 'layer3', 'layer4', 'layer5'] as const;
export type EfficientNetLayer = (typeof EFFICIENTNET_LAYERS)[number];
/** The levels UniAD concatenates (outlayers [1, 2, 3, 4]: 272 channels). */
export const UNIAD_LAYERS: readonly EfficientNetLayer[] = ['layer1', 'layer2', 'layer3', 'layer4'];

/** Output stride of each returned layer relative to the input. */
export const EFFICIENTNET_STRIDES: Record<EfficientNetLayer, number> = { layer1: 2, layer2: 4, layer3: 8, layer4: 16, layer5: 32 };

/** timm stage index whose last block's output each layer is. */
const LAYER_STAGE: Record<EfficientNetLayer, number> = { layer1: 0, layer2: 1, layer3: 2, layer4: 4, layer5: 6 };


/** B0's stages: kernel, stride of the first block, expansion ratio, output channels, repeats. */
const B0_STAGES: readonly { k: number; stride: number; expand: number; out: number; repeats: number }[] = [
  { k: 3, stride: 1, expand: 1, out: 16, repeats: 1 },
  { k: 3, stride: 2, expand: 6, out: 24, repeats: 2 },
  { k: 5, stride: 2, expand: 6, out: 40, repeats: 2 },
  { k: 3, stride: 2, expand: 6, out: 80, repeats: 3 },
  { k: 5, stride: 1, expand: 6, out: 112, repeats: 3 },
  { k: 5, stride: 2, expand: 6, out: 192, repeats: 4 },
  { k: 3, stride: 1, expand: 6, out: 320, repeats: 1 },
];

/** The torch names of one conv and of the batch norm after it (tensors `${conv}.weight`, `${bn}.running_var`, ...). */
export interface ConvUnitNames {
  conv: string;
  bn: string;
}

/** How a framework names the tensors of an EfficientNet (timm here; lukemelas' in tf-efficientnet.ts). */
export interface EfficientNetNaming {
  style: 'timm' | 'lukemelas';
  stem: ConvUnitNames;
  head: ConvUnitNames;
  /** The classifier Linear (`${classifier}.weight`, `.bias`). */
  classifier: string;
  /**
   * Block `index` of stage `stage`, `flat` counting blocks over all stages from 0; `expanded`:
   * an InvertedResidual (a 1×1 expansion first), else a DepthwiseSeparable block.
   */
  block(
    stage: number,
    index: number,
    flat: number,
    expanded: boolean,
  ): { expand: ConvUnitNames | null; dw: ConvUnitNames; seReduce: string; seExpand: string; project: ConvUnitNames };
}

const TIMM_NAMING: EfficientNetNaming = {
  style: 'timm',
  stem: { conv: 'conv_stem', bn: 'bn1' },
  head: { conv: 'conv_head', bn: 'bn2' },
  classifier: 'classifier',
  block(stage, index, _flat, expanded) {
    const p = `blocks.${stage}.${index}`;
    const se = { seReduce: `${p}.se.conv_reduce`, seExpand: `${p}.se.conv_expand` };
    return expanded
      ? { expand: { conv: `${p}.conv_pw`, bn: `${p}.bn1` }, dw: { conv: `${p}.conv_dw`, bn: `${p}.bn2` }, ...se, project: { conv: `${p}.conv_pwl`, bn: `${p}.bn3` } }
      : { expand: null, dw: { conv: `${p}.conv_dw`, bn: `${p}.bn1` }, ...se, project: { conv: `${p}.conv_pw`, bn: `${p}.bn2` } };
  },
};

interface Variant {
  width: number;
  depth: number;
  naming: EfficientNetNaming;
  bnEps: number;
  /** null: PyTorch-style k//2 on both sides; a size: TF 'same' padding computed statically for that square image size. */
  staticSameFor: number | null;
}

const VARIANTS: Record<EfficientNetArch, Variant> = {
  efficientnet_b4: { width: 1.4, depth: 1.8, naming: TIMM_NAMING, bnEps: 1e-5, staticSameFor: null },
  tf_efficientnet_b4: { width: 1.4, depth: 1.8, naming: LUKEMELAS_NAMING, bnEps: TF_BN_EPS, staticSameFor: TF_B4_BUILT_FOR },
};

/** timm's round_channels / make_divisible(v · multiplier, 8): nearest multiple of 8, never below 90 %. */
function roundChannels(c: number, multiplier: number): number {
  const v = c * multiplier;
  let r = Math.max(8, Math.floor((v + 4) / 8) * 8);
  if (r < 0.9 * v) r += 8;
  return r;
}

/** One convolution followed by its batch norm, as named in the torch state dict. */
interface ConvBn {
  conv: string; // e.g. 'blocks.1.0.conv_pw' (the tensor is `${conv}.weight`)
  bn: string; // e.g. 'blocks.1.0.bn1'
  cin: number;
  cout: number;
  k: number;
  stride: number;
  /** A depthwise conv (groups = cin = cout): torch weight [cout, 1, k, k]. */
  depthwise: boolean;
  /** Zero padding [before, after], the same on both spatial axes. */
  pad: [number, number];
  eps: number;
}

interface SePlan {
  reduce: string; // the 1×1 convs with bias: `${reduce}.weight`, `${reduce}.bias`
  expand: string;
  channels: number; // gated channels (the block's mid channels)
  reduced: number;
}

interface BlockPlan {
  /** 1×1 expansion (InvertedResidual only). */
  expand: ConvBn | null;
  dw: ConvBn;
  se: SePlan;
  project: ConvBn;
  skip: boolean;
}

interface Plan {
  stem: ConvBn;
  stages: BlockPlan[][];
  head: ConvBn;
  channels: Record<EfficientNetLayer, number>;
  numFeatures: number;
}

function plan(arch: EfficientNetArch): Plan {
  const { width, depth, naming, bnEps: eps, staticSameFor } = VARIANTS[arch];
  // The image size the static padding is computed for, tracked conv by conv as lukemelas does.
  let builtFor = staticSameFor;
  const padFor = (k: number, stride: number): [number, number] => {
    if (k === 1) return [0, 0];
    if (builtFor === null) return [Math.floor(k / 2), Math.floor(k / 2)];
    const pad = sameStaticPadding(builtFor, k, stride);
    builtFor = Math.ceil(builtFor / stride);
    return pad;
  };
  const pointwise = (names: ConvUnitNames, cin: number, cout: number): ConvBn => ({ ...names, cin, cout, k: 1, stride: 1, depthwise: false, pad: [0, 0], eps });
  const stemOut = roundChannels(32, width);
  const stem: ConvBn = { ...naming.stem, cin: 3, cout: stemOut, k: 3, stride: 2, depthwise: false, pad: padFor(3, 2), eps };
  let cin = stemOut;
  let flat = 0;
  const stages: BlockPlan[][] = B0_STAGES.map((s, si) => {
    const out = roundChannels(s.out, width);
    const repeats = Math.ceil(s.repeats * depth);
    const blocks: BlockPlan[] = [];
    for (let bi = 0; bi < repeats; bi++) {
      const names = naming.block(si, bi, flat++, s.expand !== 1);
      const stride = bi === 0 ? s.stride : 1;
      const mid = cin * s.expand;
      // timm divides the SE ratio by the expansion (lukemelas takes it of input_filters), so the
      // bottleneck is ¼ of the block's *input* channels.
      const se: SePlan = { reduce: names.seReduce, expand: names.seExpand, channels: mid, reduced: Math.round(cin * 0.25) };
      blocks.push({
        expand: names.expand ? pointwise(names.expand, cin, mid) : null,
        dw: { ...names.dw, cin: mid, cout: mid, k: s.k, stride, depthwise: true, pad: padFor(s.k, stride), eps },
        se,
        project: pointwise(names.project, mid, out),
        skip: stride === 1 && cin === out,
      });
      cin = out;
    }
    return blocks;
  });
  const channels = {} as Record<EfficientNetLayer, number>;
  for (const l of EFFICIENTNET_LAYERS) channels[l] = roundChannels(B0_STAGES[LAYER_STAGE[l]]!.out, width);
  const numFeatures = roundChannels(1280, width);
  const head = pointwise(naming.head, cin, numFeatures);
  return { stem, stages, head, channels, numFeatures };
}

/** The zero padding [before, after] (both axes) of every conv with a kernel above 1, in network order. */
export function efficientNetPadding(arch: EfficientNetArch): { conv: string; k: number; stride: number; pad: [number, number] }[] {
  const p = plan(arch);
  return [p.stem, ...p.stages.flat().map((b) => b.dw)].map((u) => ({ conv: u.conv, k: u.k, stride: u.stride, pad: [...u.pad] as [number, number] }));
}

function convShape(u: ConvBn): number[] {
  return [u.cout, u.depthwise ? 1 : u.cin, u.k, u.k];
}

/** Every tensor of the state dict, name → shape, in the framework's order (timm's, or lukemelas' for tf_efficientnet_b4). The head is optional (features never use it). */
export function efficientNetParameters(arch: EfficientNetArch): Map<string, ParamSpec> {
  const p = plan(arch);
  const out = new Map<string, ParamSpec>();
  const addConvBn = (u: ConvBn, optional: boolean) => {
    const f = (shape: number[]): ParamSpec => ({ shape, optional, dtype: 'float' });
    out.set(`${u.conv}.weight`, f(convShape(u)));
    for (const field of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${u.bn}.${field}`, f([u.cout]));
    out.set(`${u.bn}.num_batches_tracked`, { shape: [], optional: true, dtype: 'int64' });
  };
  addConvBn(p.stem, false);
  for (const stage of p.stages) {
    for (const b of stage) {
      if (b.expand) addConvBn(b.expand, false);
      addConvBn(b.dw, false);
      const req = (shape: number[]): ParamSpec => ({ shape, optional: false, dtype: 'float' });
      out.set(`${b.se.reduce}.weight`, req([b.se.reduced, b.se.channels, 1, 1]));
      out.set(`${b.se.reduce}.bias`, req([b.se.reduced]));
      out.set(`${b.se.expand}.weight`, req([b.se.channels, b.se.reduced, 1, 1]));
      out.set(`${b.se.expand}.bias`, req([b.se.channels]));
      addConvBn(b.project, false);
    }
  }
  addConvBn(p.head, true);
  const fc = VARIANTS[arch].naming.classifier;
  out.set(`${fc}.weight`, { shape: [1000, p.numFeatures], optional: true, dtype: 'float' });
  out.set(`${fc}.bias`, { shape: [1000], optional: true, dtype: 'float' });
  return out;
}

/** Channels of each returned layer: 24, 32, 56, 160, 448 for B4. */
export function efficientNetChannels(arch: EfficientNetArch): Record<EfficientNetLayer, number> {
  return { ...plan(arch).channels };
}

/** The other naming's stem weight, which tells a file of the other variant (see namingProblem). */
const STEM_WEIGHT = { timm: `${TIMM_NAMING.stem.conv}.weight`, lukemelas: `${LUKEMELAS_NAMING.stem.conv}.weight` };

/** Why a set named for the other EfficientNet variant does not fit `arch`, or null when it is not one. */
function namingProblem(arch: EfficientNetArch, shapes: Map<string, { shape: number[] }>): string | null {
  const style = VARIANTS[arch].naming.style;
  if (style === 'lukemelas' && shapes.has(STEM_WEIGHT.timm) && !shapes.has(STEM_WEIGHT.lukemelas)) {
    return (
      `these are timm's tensor names ('${STEM_WEIGHT.timm}', 'blocks.S.B.conv_dw.weight', ...), as in timm's efficientnet_b4 or tf_efficientnet_b4 files; ` +
      `${arch} (UniAD's TF-ported B4: BN eps 1e-3, static 'same' padding for 380 px) takes lukemelas EfficientNet-PyTorch names ` +
      `('${STEM_WEIGHT.lukemelas}', '_blocks.N._depthwise_conv.weight', ...), as in UniAD's efficientnet-b4-6ed6700e.pth converted to .safetensors`
    );
  }
  if (style === 'timm' && shapes.has(STEM_WEIGHT.lukemelas) && !shapes.has(STEM_WEIGHT.timm)) {
    return (
      `these are lukemelas EfficientNet-PyTorch tensor names ('${STEM_WEIGHT.lukemelas}', '_blocks.N...'): the TF-ported B4 UniAD uses, ` +
      `which is tf_efficientnet_b4 (BN eps 1e-3, static 'same' padding), not ${arch} (timm's PyTorch-style variant)`
    );
  }
  return null;
}

/**
 * Names every tensor that is missing or of the wrong shape; empty when the set fits `arch`. A set
 * named for the other variant (timm's names given to tf_efficientnet_b4, or lukemelas' to
 * efficientnet_b4) gets that said first.
 */
export function checkEfficientNetTensors(arch: EfficientNetArch, shapes: Map<string, { shape: number[] }>): string[] {
  const problems = checkParameterShapes(efficientNetParameters(arch), shapes);
  const naming = problems.length > 0 ? namingProblem(arch, shapes) : null;
  return naming ? [naming, ...problems] : problems;
}

/**
 * timm's EfficientNet initialisation (`_init_weight_goog`, the TF original's scheme, used for both
 * variants), seeded: convs normal with std √(2/fan_out), fan_out = k·k·out/groups (SE convs too,
 * biases 0); BN γ 1 β 0, running stats 0/1; classifier U(±1/√out) with bias 0. With
 * `randomBatchNorm`, BN statistics and affine parameters and the SE biases are drawn at random
 * instead, so parity tests exercise the folding and the biases. Returns the torch state dict
 * (OIHW) under the variant's names, ready for `writeSafetensors`.
 */
export function randomEfficientNetWeights(arch: EfficientNetArch, seed: number, options: RandomInitOptions = {}): Map<string, TensorToWrite> {
  const p = plan(arch);
  const fc = VARIANTS[arch].naming.classifier;
  const depthwise = new Set(p.stages.flat().map((b) => `${b.dw.conv}.weight`));
  const seBiases = new Set(p.stages.flat().flatMap((b) => [`${b.se.reduce}.bias`, `${b.se.expand}.bias`]));
  const out = new Map<string, TensorToWrite>();
  for (const [name, spec] of efficientNetParameters(arch)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const s = seedFor(seed, name);
    if (spec.dtype === 'int64') {
      out.set(name, { dtype: 'I64', shape: spec.shape, data: new BigInt64Array(n) });
      continue;
    }
    let data: Float32Array;
    if (name === `${fc}.weight`) {
      const rand = mulberry32(s);
      const bound = 1 / Math.sqrt(spec.shape[0] as number);
      data = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * bound);
    } else if (spec.shape.length === 4) {
      const [cout, cinPerGroup, kh, kw] = spec.shape as [number, number, number, number];
      // Depthwise: groups = cout, so fan_out = k·k·cout/cout = k·k.
      const fanOut = (cinPerGroup === 1 && depthwise.has(name) ? 1 : cout) * kh * kw;
      data = normalArray(n, s, Math.sqrt(2 / fanOut));
    } else {
      const rand = mulberry32(s);
      const field = name.slice(name.lastIndexOf('.') + 1);
      const seBias = seBiases.has(name);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        if (seBias || name === `${fc}.bias`) data[i] = options.randomBatchNorm && seBias ? (rand() - 0.5) * 0.2 : 0;
        else if (!options.randomBatchNorm) data[i] = field === 'weight' || field === 'running_var' ? 1 : 0;
        else if (field === 'weight') data[i] = 0.5 + rand();
        else if (field === 'running_var') data[i] = 0.5 + 1.5 * rand();
        else data[i] = (rand() - 0.5) * 0.2;
      }
    }
    out.set(name, { shape: spec.shape, data });
  }
  return out;
}

type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

interface FoldedConv {
  /** Dense [k, k, cin, cout], or depthwise [k, k, c, 1]. */
  filter: tf.Tensor4D;
  bias: tf.Tensor1D; // [cout]
  stride: number;
  /** The same padding on every side, given to the conv itself. */
  pad: number;
  /** Unequal padding (TF 'same'): applied with tf.pad before a 'valid' conv; null when `pad` says it all. */
  explicit: ExplicitPad | null;
  depthwise: boolean;
}

/** Folds BN into the conv and reorders torch's layout for tfjs (fold.ts). */
function fold(u: ConvBn, tensors: Map<string, DecodedTensor>): FoldedConv {
  const [before, after] = u.pad;
  const explicit: ExplicitPad | null = before === after ? null : [[0, 0], [before, after], [before, after], [0, 0]];
  return { ...foldConvBn(u, tensors), stride: u.stride, pad: before, explicit, depthwise: u.depthwise };
}

interface FoldedSe {
  reduceW: tf.Tensor2D; // [mid, reduced]
  reduceB: tf.Tensor1D; // [reduced]
  expandW: tf.Tensor2D; // [reduced, mid]
  expandB: tf.Tensor1D; // [mid]
}

/** torch's 1×1 conv weight [out, in, 1, 1] → a matmul weight [in, out]. */
function pointwiseMatrix(tensors: Map<string, DecodedTensor>, name: string, cout: number, cin: number): tf.Tensor2D {
  const w = floatData(tensors, name);
  const m = new Float32Array(cin * cout);
  for (let o = 0; o < cout; o++) for (let i = 0; i < cin; i++) m[i * cout + o] = w[o * cin + i] as number;
  return tf.tensor2d(m, [cin, cout]);
}

function loadSe(se: SePlan, tensors: Map<string, DecodedTensor>): FoldedSe {
  return {
    reduceW: pointwiseMatrix(tensors, `${se.reduce}.weight`, se.reduced, se.channels),
    reduceB: tf.tensor1d(floatData(tensors, `${se.reduce}.bias`)),
    expandW: pointwiseMatrix(tensors, `${se.expand}.weight`, se.channels, se.reduced),
    expandB: tf.tensor1d(floatData(tensors, `${se.expand}.bias`)),
  };
}

interface FoldedBlock {
  expand: FoldedConv | null;
  dw: FoldedConv;
  se: FoldedSe;
  project: FoldedConv;
  skip: boolean;
}

/** x · sigmoid(x): tfjs' fused kernels have no SiLU, so it follows the fused conv + bias. */
function silu(x: tf.Tensor4D): tf.Tensor4D {
  return tf.mul(x, tf.sigmoid(x));
}

/** An inference-only EfficientNet feature extractor. Owns its weight tensors: call dispose(). */
export class EfficientNetBackbone {
  readonly channels: Record<EfficientNetLayer, number>;
  private readonly stem: FoldedConv;
  private readonly stages: FoldedBlock[][];
  private disposed = false;

  private constructor(
    readonly arch: EfficientNetArch,
    tensors: Map<string, DecodedTensor>,
  ) {
    const p = plan(arch);
    this.channels = { ...p.channels };
    const problems = checkEfficientNetTensors(arch, tensors);
    if (problems.length) throw new LabError(`weights do not fit ${arch}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`, 'ValidationError');
    const made: tf.Tensor[] = [];
    const keepConv = (u: ConvBn): FoldedConv => {
      const f = fold(u, tensors);
      made.push(f.filter, f.bias);
      return f;
    };
    const keepSe = (se: SePlan): FoldedSe => {
      const f = loadSe(se, tensors);
      made.push(f.reduceW, f.reduceB, f.expandW, f.expandB);
      return f;
    };
    try {
      this.stem = keepConv(p.stem);
      this.stages = p.stages.map((stage) =>
        stage.map((b) => ({ expand: b.expand ? keepConv(b.expand) : null, dw: keepConv(b.dw), se: keepSe(b.se), project: keepConv(b.project), skip: b.skip })),
      );
    } catch (error) {
      tf.dispose(made);
      throw error;
    }
  }

  /** Builds from the variant's state dict (e.g. `loadSafetensors(path).tensors`); refuses a set that does not fit. */
  static fromTensors(arch: EfficientNetArch, tensors: Map<string, DecodedTensor>): EfficientNetBackbone {
    return new EfficientNetBackbone(arch, tensors);
  }

  private conv(x: tf.Tensor4D, c: FoldedConv): tf.Tensor4D {
    // tfjs' fused depthwise conv takes no per-side padding, so unequal pads are made with tf.pad (both kinds, alike).
    const input = c.explicit ? tf.pad(x, c.explicit) : x;
    const pad = c.explicit ? 0 : c.pad;
    return c.depthwise
      ? tf.fused.depthwiseConv2d({ x: input, filter: c.filter, strides: c.stride, pad, bias: c.bias })
      : tf.fused.conv2d({ x: input, filter: c.filter, strides: c.stride, pad, bias: c.bias });
  }

  /** Squeeze-excitation: x [b, h, w, mid] gated per channel by sigmoid(W2 · silu(W1 · mean_hw(x) + b1) + b2). */
  private squeezeExcite(x: tf.Tensor4D, se: FoldedSe): tf.Tensor4D {
    const [b, , , c] = x.shape;
    const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D; // [b, mid]
    const r = tf.fused.matMul({ a: pooled, b: se.reduceW, bias: se.reduceB });
    const reduced = tf.mul(r, tf.sigmoid(r)) as tf.Tensor2D;
    const gate = tf.fused.matMul({ a: reduced, b: se.expandW, bias: se.expandB, activation: 'sigmoid' });
    return tf.mul(x, tf.reshape(gate, [b, 1, 1, c]));
  }

  private block(x: tf.Tensor4D, b: FoldedBlock): tf.Tensor4D {
    let h = x;
    if (b.expand) h = silu(this.conv(h, b.expand));
    h = silu(this.conv(h, b.dw));
    h = this.squeezeExcite(h, b.se);
    h = this.conv(h, b.project);
    return b.skip ? tf.add(h, x) : h;
  }

  /**
   * x: [batch, h, w, 3], already ImageNet-normalised (see normalizeImageNet) → the requested layers'
   * outputs, each [batch, ⌈h/stride⌉, ⌈w/stride⌉, channels] (strides 2, 4, 8, 16, 32; channels
   * 24, 32, 56, 160, 448). Runs only as deep as needed: UniAD's layer1..4 skip stages 5 and 6.
   * tf_efficientnet_b4's static padding gives those sizes at 224 (and any multiple of 32), but can
   * give one less at other sizes (tf-efficientnet.ts).
   */
  forward(x: tf.Tensor4D, layers: readonly EfficientNetLayer[] = UNIAD_LAYERS): Record<string, tf.Tensor4D> {
    if (this.disposed) throw new LabError(`${this.arch} backbone was disposed`);
    if (x.rank !== 4 || x.shape[3] !== 3) throw new LabError(`${this.arch}: input must be [batch, h, w, 3], got [${x.shape.join(', ')}]`, 'ValidationError');
    for (const l of layers) if (!EFFICIENTNET_LAYERS.includes(l)) throw new LabError(`${this.arch}: unknown layer ${JSON.stringify(l)}; layers are ${EFFICIENTNET_LAYERS.join(', ')}`, 'ValidationError');
    if (layers.length === 0) return {};
    const deepestStage = Math.max(...layers.map((l) => LAYER_STAGE[l]));
    return tf.tidy(() => {
      const byStage = new Map<number, tf.Tensor4D>();
      let h = silu(this.conv(x, this.stem));
      for (let si = 0; si <= deepestStage; si++) {
        for (const b of this.stages[si] ?? []) h = this.block(h, b);
        byStage.set(si, h);
      }
      const out: Record<string, tf.Tensor4D> = {};
      for (const l of layers) out[l] = byStage.get(LAYER_STAGE[l]) as tf.Tensor4D;
      return out;
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all: tf.Tensor[] = [this.stem.filter, this.stem.bias];
    for (const b of this.stages.flat()) {
      for (const c of [b.expand, b.dw, b.project]) if (c) all.push(c.filter, c.bias);
      all.push(b.se.reduceW, b.se.reduceB, b.se.expandW, b.se.expandB);
    }
    tf.dispose(all);
  }
}
