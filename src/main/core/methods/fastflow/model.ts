/**
 * FastFlow's trainable graph (Yu et al. 2021; METHODS.md section 2.1), as the reference builds it
 * (gathierry/FastFlow@2cf1f2f fastflow.py; anomalib v0.3.7 torch_model.py is the same):
 *
 *   backbone features [layer1, layer2, layer3] (frozen; computed outside, see fit.ts)
 *     → per scale `norms.<i>`: nn.LayerNorm([C, H, W]) — each sample normalised over all of its
 *       C·H·W values, then an elementwise affine of shape [C, H, W];
 *     → per scale `nf_flows.<i>`: FrEIA's SequenceINN of `flowSteps` AllInOneBlocks
 *       (`module_list.<k>`), each (FrEIA@1779d1f FrEIA/modules/all_in_one_block.py, permute_soft
 *       False, global affine 'SOFTPLUS' with init 1, no householder, no pre-permutation):
 *         x1, x2 = split(x, [C − ⌊C/2⌋, ⌊C/2⌋])         along channels
 *         a = 0.1 · subnet(x1)                          subnet: conv k → ReLU → conv k ("same" padding)
 *         s = clamp · tanh(a[:⌊C/2⌋]),  t = a[⌊C/2⌋:]   the 1779d1f / anomalib v0.3.7 soft clamp (FrEIA
 *                                                       ≥ ae74fd4 uses clamp·tanh(a/clamp): not this)
 *         y = cat(x1, x2·exp(s) + t)
 *         y = y·γ + β,   γ = 0.1·softplus_{β=0.5}(global_scale), β = global_offset   ([1, C, 1, 1] each)
 *         y = y[:, perm]                                the fixed permutation (w_perm, a one-hot 1×1 conv in FrEIA)
 *         log|J| = Σ_{C,H,W} s + H·W·Σ_C log γ
 *     → z per scale and the sum of its blocks' log|J| per sample.
 *
 * Parameter names are the reference state dict's (`norms.0.weight`, `nf_flows.0.module_list.0.global_scale`,
 * `…global_offset`, `…w_perm`, `…w_perm_inv`, `…subnet.0.weight`, `…subnet.2.bias`), so its checkpoint,
 * without the frozen `feature_extractor.*`, loads as it is. The permutation is stored as FrEIA stores
 * it (w_perm [C, C, 1, 1] and its transpose w_perm_inv, non-trainable: torch's Adam skips them) and
 * applied as a one-hot product whose gradient applies the inverse permutation the same way (GatherV2's
 * own gradient needs UnsortedSegmentSum, and wasm's GatherV2 along channels is a slow scalar loop). The
 * LayerNorm affine keeps torch's [C, H, W] and is transposed to NHWC in the forward.
 *
 * Initialisation as the reference: subnets torch's Conv2d default, LayerNorm 1 and 0, global_scale
 * 2·ln(e⁵ − 1) (γ = 1), global_offset 0; the permutation drawn from the seed by its tensor name
 * (FrEIA draws it from numpy's global generator: the same distribution, not the same numbers).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import type { DecodedTensor } from '../../engine/safetensors';
import { mulberry32 } from '../../engine/random';
import { Conv2d, Module, ModuleList, ReLU, Sequential, init, type LoadStateDictOptions, type LoadStateDictResult } from '../../engine/nn/index';
import { FASTFLOW_SCALES, flowStepSpec, type FastflowConfig } from './config';

/** FrEIA's global affine: global_scale such that 0.1·softplus_{0.5}(global_scale) = global_affine_init (1). */
export const GLOBAL_SCALE_INIT = 2 * Math.log(Math.exp(0.5 * 10 * 1) - 1);

/** A seeded permutation of 0..n−1 (Fisher–Yates). */
export function seededPermutation(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** FrEIA's w_perm for `perm`: w[i, perm[i]] = 1, shape [C, C, 1, 1] (row-major), so conv2d(x, w)[:, i] = x[:, perm[i]]. */
export function permutationMatrix(perm: readonly number[]): Float32Array {
  const c = perm.length;
  const w = new Float32Array(c * c);
  perm.forEach((j, i) => (w[i * c + j] = 1));
  return w;
}

/** The inverse permutation: inv[perm[i]] = i. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((j, i) => (inv[j] = i));
  return inv;
}

/**
 * Reads a permutation back from a FrEIA w_perm [C, C, 1, 1]; null when it is not a one-hot
 * permutation matrix (every row one 1, every column one 1, zeros elsewhere).
 */
export function permutationFromMatrix(w: ArrayLike<number>, c: number): number[] | null {
  const perm: number[] = [];
  const seen = new Uint8Array(c);
  for (let i = 0; i < c; i++) {
    let col = -1;
    for (let j = 0; j < c; j++) {
      const v = w[i * c + j]!;
      if (v === 1 && col < 0) col = j;
      else if (v !== 0) return null;
    }
    if (col < 0 || seen[col]) return null;
    seen[col] = 1;
    perm.push(col);
  }
  return perm;
}

/**
 * The one-hot [C, C] matrix M with M[order[i], i] = 1: x·M is x[..., order] along the channels,
 * exactly (each output is one input times 1 plus zeros).
 */
function selectionMatrix(order: readonly number[]): tf.Tensor2D {
  const c = order.length;
  const m = new Float32Array(c * c);
  order.forEach((k, i) => (m[k * c + i] = 1));
  return tf.tensor2d(m, [c, c]);
}

/**
 * x[..., perm] along the channels (NHWC), with the gradient dy[..., inverse(perm)], each computed as
 * a product with a one-hot matrix (as FrEIA 1779d1f applies w_perm, a 1×1 conv): bit-identical to
 * a gather, and on wasm ~50× faster than GatherV2 along the innermost axis, a scalar loop that took
 * a quarter of a FastFlow step. Never GatherV2's scatter-add gradient.
 * @param x [batch, h, w, c]
 */
export function permuteChannels(x: tf.Tensor4D, perm: readonly number[], inverse: readonly number[]): tf.Tensor4D {
  const c = perm.length;
  const apply = (t: tf.Tensor, order: readonly number[]): tf.Tensor4D => tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(t, [-1, c]), selectionMatrix(order)), t.shape as [number, number, number, number]));
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    // The matrices are made inside each function: tensors captured from outside would be freed by
    // the forward's tidy before the backward runs.
    const value = apply(args[0] as tf.Tensor4D, perm);
    return { value, gradFunc: (dy: tf.Tensor) => apply(dy, inverse) };
  });
  return f(x) as tf.Tensor4D;
}

/**
 * torch's nn.Softplus(beta): log(1 + exp(β·x))/β. torch returns x itself where β·x > 20 (its
 * threshold); the two differ there by log(1 + e^−20)/β < 1e-8, so the smooth form is used throughout
 * (a tf.where on a comparison would put Greater, which has no gradient, on the tape).
 */
export function softplus(x: tf.Tensor, beta: number): tf.Tensor {
  return tf.div(tf.softplus(tf.mul(x, beta)), beta);
}

/** FrEIA's AllInOneBlock coupling step's soft clamp: clamp·tanh(a) (1779d1f / anomalib v0.3.7). */
export function softClamp(a: tf.Tensor, clamp: number): tf.Tensor {
  return tf.mul(clamp, tf.tanh(a));
}

/**
 * nn.LayerNorm([C, H, W], elementwise_affine=True, eps 1e-5) on NHWC features: each sample is
 * normalised over all of its values with the biased variance; weight and bias keep torch's [C, H, W].
 * The sums go in two levels (channels, then pixels), as nn/layers.ts batchMoments says why.
 */
export class LayerNormCHW extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly eps = 1e-5;

  constructor(
    readonly channels: number,
    readonly height: number,
    readonly width: number,
  ) {
    super();
    this.weight = this.registerParameter('weight', { shape: [channels, height, width], init: init.ones });
    this.bias = this.registerParameter('bias', { shape: [channels, height, width], init: init.zeros });
  }

  /** x [batch, h, w, c] → the same shape. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    if (h !== this.height || w !== this.width || c !== this.channels) {
      throw new LabError(`FastFlow LayerNorm expects [batch, ${this.height}, ${this.width}, ${this.channels}] features, got [${x.shape.join(', ')}] (the LayerNorm fixes the input size)`, 'ValidationError');
    }
    const n = h * w * c;
    const mean = tf.reshape(tf.div(tf.sum(tf.sum(x, 3), [1, 2]), n), [b, 1, 1, 1]);
    const centered = tf.sub(x, mean);
    const variance = tf.reshape(tf.div(tf.sum(tf.sum(tf.square(centered), 3), [1, 2]), n), [b, 1, 1, 1]);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
    const weight = tf.transpose(this.weight, [1, 2, 0]);
    const bias = tf.transpose(this.bias, [1, 2, 0]);
    return tf.add(tf.mul(normed, weight), bias) as tf.Tensor4D;
  }
}

/** One AllInOneBlock (FrEIA@1779d1f) with the reference's subnet; see the file comment for its arithmetic. */
export class AllInOneBlock extends Module {
  readonly globalScale: tf.Variable;
  readonly globalOffset: tf.Variable;
  readonly wPerm: tf.Variable;
  readonly wPermInv: tf.Variable;
  readonly subnet: Sequential;
  readonly split1: number;
  readonly split2: number;
  #perm: number[] = [];
  #inverse: number[] = [];

  constructor(
    readonly channels: number,
    kernel: 1 | 3,
    hidden: number,
    readonly clamp: number,
  ) {
    super();
    this.split2 = Math.floor(channels / 2);
    this.split1 = channels - this.split2;
    this.globalScale = this.registerParameter('global_scale', { shape: [1, channels, 1, 1], init: init.constant(GLOBAL_SCALE_INIT) });
    this.globalOffset = this.registerParameter('global_offset', { shape: [1, channels, 1, 1], init: init.zeros });
    // requires_grad=False in FrEIA: in the state dict, never in the optimiser.
    this.wPerm = this.registerParameter('w_perm', { shape: [channels, channels, 1, 1], init: (_shape, seed) => permutationMatrix(seededPermutation(channels, seed)) });
    this.wPermInv = this.registerParameter('w_perm_inv', { shape: [channels, channels, 1, 1], init: init.zeros });
    this.wPerm.trainable = false;
    this.wPermInv.trainable = false;
    const pad = kernel === 3 ? 1 : 0;
    this.subnet = this.registerModule('subnet', new Sequential(new Conv2d(this.split1, hidden, kernel, { padding: pad }), new ReLU(), new Conv2d(hidden, 2 * this.split2, kernel, { padding: pad })));
  }

  /** The permutation the block applies (y = x[..., perm]). */
  get permutation(): readonly number[] {
    return this.#perm;
  }

  /** Sets the permutation from w_perm; `fillInverse` writes w_perm_inv as its transpose (after initialisation). */
  syncPermutation(fillInverse: boolean, name: string): void {
    const c = this.channels;
    const perm = permutationFromMatrix(this.wPerm.dataSync(), c);
    if (!perm) throw new LabError(`FastFlow: ${name}.w_perm is not a permutation matrix`, 'ValidationError');
    this.#perm = perm;
    this.#inverse = inversePermutation(perm);
    if (fillInverse) tf.tidy(() => this.wPermInv.assign(tf.tensor(permutationMatrix(this.#inverse), [c, c, 1, 1])));
  }

  /** γ = 0.1·softplus_{0.5}(global_scale), as [c]. */
  scale(): tf.Tensor1D {
    return tf.mul(0.1, softplus(tf.reshape(this.globalScale, [this.channels]), 0.5)) as tf.Tensor1D;
  }

  /** The subnet's log-scale s (soft-clamped) and shift t for the passive half. */
  #coupling(x1: tf.Tensor4D): { s: tf.Tensor4D; t: tf.Tensor4D } {
    const a = tf.mul(this.subnet.forward(x1), 0.1) as tf.Tensor4D;
    const [s, t] = tf.split(a, [this.split2, this.split2], 3) as [tf.Tensor4D, tf.Tensor4D];
    return { s: softClamp(s, this.clamp) as tf.Tensor4D, t };
  }

  /**
   * @param x [batch, h, w, c]
   * @returns y [batch, h, w, c] and log|J| per sample [batch]
   */
  forward(x: tf.Tensor4D): { y: tf.Tensor4D; logJac: tf.Tensor1D } {
    const [, h, w] = x.shape;
    const [x1, x2] = tf.split(x, [this.split1, this.split2], 3) as [tf.Tensor4D, tf.Tensor4D];
    const { s, t } = this.#coupling(x1);
    const y2 = tf.add(tf.mul(x2, tf.exp(s)), t);
    const gamma = this.scale();
    const affine = tf.add(tf.mul(tf.concat([x1, y2], 3), gamma), tf.reshape(this.globalOffset, [this.channels])) as tf.Tensor4D;
    const y = permuteChannels(affine, this.#perm, this.#inverse);
    // Σ over C, H, W of s (channels first: two float32 levels), + H·W·Σ log γ.
    const logJac = tf.add(tf.sum(tf.sum(s, 3), [1, 2]), tf.mul(h * w, tf.sum(tf.log(gamma)))) as tf.Tensor1D;
    return { y, logJac };
  }

  /** The inverse: x from y = forward(x).y. @param y [batch, h, w, c] */
  inverse(y: tf.Tensor4D): tf.Tensor4D {
    const unpermuted = permuteChannels(y, this.#inverse, this.#perm);
    const u = tf.div(tf.sub(unpermuted, tf.reshape(this.globalOffset, [this.channels])), this.scale()) as tf.Tensor4D;
    const [x1, y2] = tf.split(u, [this.split1, this.split2], 3) as [tf.Tensor4D, tf.Tensor4D];
    const { s, t } = this.#coupling(x1);
    return tf.concat([x1, tf.mul(tf.sub(y2, t), tf.exp(tf.neg(s)))], 3) as tf.Tensor4D;
  }
}

/** FrEIA's SequenceINN over AllInOneBlocks (children `module_list.<k>`). */
export class FlowSequence extends Module {
  readonly moduleList: ModuleList<AllInOneBlock>;

  constructor(channels: number, config: Pick<FastflowConfig, 'flowSteps' | 'conv3x3Only' | 'hiddenRatio' | 'clamp'>) {
    super();
    this.moduleList = this.registerModule('module_list', new ModuleList<AllInOneBlock>());
    for (let k = 0; k < config.flowSteps; k++) {
      const f = flowStepSpec(channels, k, config);
      this.moduleList.append(new AllInOneBlock(channels, f.kernel, f.hidden, config.clamp));
    }
  }

  /**
   * @param x [batch, h, w, c]
   * @returns z, the summed log|J| [batch], and each block's output and log|J| (for parity)
   */
  forward(x: tf.Tensor4D): { z: tf.Tensor4D; logJac: tf.Tensor1D; steps: { y: tf.Tensor4D; logJac: tf.Tensor1D }[] } {
    let h = x;
    let logJac: tf.Tensor1D | null = null;
    const steps: { y: tf.Tensor4D; logJac: tf.Tensor1D }[] = [];
    for (const block of this.moduleList) {
      const out = block.forward(h);
      steps.push(out);
      h = out.y;
      // SequenceINN: log_det_jac = j + log_det_jac
      logJac = logJac ? (tf.add(out.logJac, logJac) as tf.Tensor1D) : out.logJac;
    }
    return { z: h, logJac: logJac!, steps };
  }

  inverse(z: tf.Tensor4D): tf.Tensor4D {
    let h = z;
    for (let k = this.moduleList.length - 1; k >= 0; k--) h = this.moduleList.at(k).inverse(h);
    return h;
  }
}

/** One scale's result: z [batch, h, w, c] and log|J| [batch]. */
export interface ScaleOutput {
  z: tf.Tensor4D;
  logJac: tf.Tensor1D;
}

type ModelOptions = Pick<FastflowConfig, 'backbone' | 'inputSize' | 'flowSteps' | 'conv3x3Only' | 'hiddenRatio' | 'clamp'>;

/** The trainable half of FastFlow: `norms` and `nf_flows`. */
export class FastFlow extends Module {
  readonly norms: ModuleList<LayerNormCHW>;
  readonly nfFlows: ModuleList<FlowSequence>;

  constructor(readonly options: ModelOptions) {
    super();
    const { channels, strides } = FASTFLOW_SCALES[options.backbone];
    if (options.inputSize % 16 !== 0) throw new LabError(`FastFlow: the input size must be a multiple of 16, got ${options.inputSize}`, 'ValidationError');
    this.norms = this.registerModule('norms', new ModuleList(channels.map((c, i) => new LayerNormCHW(c, options.inputSize / strides[i]!, options.inputSize / strides[i]!))));
    this.nfFlows = this.registerModule('nf_flows', new ModuleList(channels.map((c) => new FlowSequence(c, options))));
  }

  #blocks(): [string, AllInOneBlock][] {
    const out: [string, AllInOneBlock][] = [];
    [...this.nfFlows].forEach((flow, i) => [...flow.moduleList].forEach((b, k) => out.push([`nf_flows.${i}.module_list.${k}`, b])));
    return out;
  }

  override initialize(seed: number): this {
    super.initialize(seed);
    for (const [name, block] of this.#blocks()) block.syncPermutation(true, name);
    return this;
  }

  /** torch's load_state_dict, refusing a w_perm that is not a permutation matrix or a w_perm_inv that is not its transpose (nothing loaded then). */
  override loadStateDict(tensors: ReadonlyMap<string, DecodedTensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const source = options.source ?? 'state dict';
    for (const [name, block] of this.#blocks()) {
      const w = tensors.get(`${name}.w_perm`);
      const wInv = tensors.get(`${name}.w_perm_inv`);
      const c = block.channels;
      if (!w || w.shape.length !== 4 || w.shape[0] !== c || w.shape[1] !== c) continue; // missing or misshapen: the strict load says so
      const perm = permutationFromMatrix(w.data as ArrayLike<number>, c);
      if (!perm) throw new LabError(`${source}: ${name}.w_perm is not a permutation matrix (FrEIA's hard permutation: one 1 per row and column)`, 'ValidationError');
      if (wInv && wInv.shape.length === 4 && wInv.shape[0] === c) {
        const inv = permutationFromMatrix(wInv.data as ArrayLike<number>, c);
        const expected = inversePermutation(perm);
        if (!inv || inv.some((v, i) => v !== expected[i])) throw new LabError(`${source}: ${name}.w_perm_inv is not the transpose of its w_perm`, 'ValidationError');
      }
    }
    const result = super.loadStateDict(tensors, options);
    for (const [name, block] of this.#blocks()) block.syncPermutation(false, name);
    return result;
  }

  /**
   * @param features the backbone's [layer1, layer2, layer3], [batch, s/4, s/4, c1] …
   * @returns per scale z and log|J| (with every block's, for parity)
   */
  forward(features: readonly tf.Tensor4D[]): (ScaleOutput & { steps: { y: tf.Tensor4D; logJac: tf.Tensor1D }[]; normed: tf.Tensor4D })[] {
    if (features.length !== this.norms.length) throw new LabError(`FastFlow takes ${this.norms.length} feature levels, got ${features.length}`, 'ValidationError');
    return features.map((f, i) => {
      const normed = this.norms.at(i).forward(f);
      return { ...this.nfFlows.at(i).forward(normed), normed };
    });
  }

  /** The normalised features back from each scale's z (the flows' inverse; the LayerNorm is not inverted). */
  inverse(zs: readonly tf.Tensor4D[]): tf.Tensor4D[] {
    return zs.map((z, i) => this.nfFlows.at(i).inverse(z));
  }
}

/** The model of a config with its seeded initial weights. */
export function buildFastFlow(config: FastflowConfig): FastFlow {
  return new FastFlow(config).initialize(config.seed);
}
