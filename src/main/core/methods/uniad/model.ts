/**
 * UniAD's reconstruction (You et al., NeurIPS 2022; zhiyuanyou/UniAD models/reconstructions/uniad.py):
 * the MFCN features of an image as tokens → input projection → a post-norm transformer encoder
 * (self-attention with the neighbour mask) → a decoder with layer-wise learned queries (each
 * layer's own query table attends first to the encoder's output, then to the previous layer's
 * output, both neighbour-masked) → output projection back to the feature width. The learned
 * position embedding is added to queries and keys of every attention, never to values. In
 * training the input tokens are jittered (feature jittering) and dropout is active, including the
 * attention weights' dropout inside each MultiheadAttention.
 *
 * Module and parameter names are the official state dict's (the `reconstruction.` sub-module of
 * its ModelHelper): `pos_embed.row_embed.weight`, `transformer.encoder.layers.0.self_attn.in_proj_weight`,
 * `transformer.decoder.layers.3.learned_embed.weight`, `transformer.decoder.norm.weight`,
 * `input_proj.weight`, `output_proj.bias`, … Initialisation as the official `initialize_from_cfg`
 * with xavier_uniform: every Linear weight (the attentions' out_proj too) xavier-uniform with zero
 * bias; in_proj_weight xavier-uniform (torch's own reset); learned queries N(0, 1); the position
 * tables U(0, 1); LayerNorms ones/zeros.
 *
 * Tensors: features [batch, h, w, C] (NHWC); tokens [batch, h·w, C] in row-major (h, w) order, the
 * official `rearrange(b c h w -> (h w) b c)` with the batch first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList, MultiheadAttention, Rng, init } from '../../engine/nn/index';
import type { UniadConfig } from './config';
import { UNIAD_FEATURE_CHANNELS, tokenSide } from './config';

export type UniadArchitecture = Pick<
  UniadConfig,
  'inputSize' | 'hiddenDim' | 'heads' | 'encoderLayers' | 'decoderLayers' | 'feedforward' | 'dropout' | 'neighborSize' | 'neighborMask'
> & { channels?: number };

/**
 * The official `generate_mask`: [h·w, h·w] additive, −Infinity where the key lies in the query's
 * `size`×`size` neighbourhood (clipped at the borders), 0 elsewhere: a token may attend to every
 * token EXCEPT its neighbours (itself included).
 */
export function neighbourMask(h: number, w: number, size: number): Float32Array {
  const L = h * w;
  const mask = new Float32Array(L * L);
  const half = Math.floor(size / 2);
  for (let i1 = 0; i1 < h; i1++) {
    for (let j1 = 0; j1 < w; j1++) {
      const row = (i1 * w + j1) * L;
      for (let i2 = Math.max(i1 - half, 0); i2 < Math.min(i1 + half + 1, h); i2++) {
        for (let j2 = Math.max(j1 - half, 0); j2 < Math.min(j1 + half + 1, w); j2++) mask[row + i2 * w + j2] = -Infinity;
      }
    }
  }
  return mask;
}

/** PositionEmbeddingLearned: cat(col_embed[w], row_embed[h]) per (h, w) cell → [h·w, d]. */
class PositionEmbeddingLearned extends Module {
  readonly rowEmbed: Embedding;
  readonly colEmbed: Embedding;

  constructor(
    readonly h: number,
    readonly w: number,
    half: number,
  ) {
    super();
    this.rowEmbed = this.registerModule('row_embed', new Embedding(h, half));
    this.colEmbed = this.registerModule('col_embed', new Embedding(w, half));
    this.rowEmbed.setInit('weight', init.uniform(0, 1));
    this.colEmbed.setInit('weight', init.uniform(0, 1));
  }

  /** → [h·w, d]: cell (i, j) is [col_embed[j], row_embed[i]]. */
  forward(): tf.Tensor2D {
    const half = this.colEmbed.embeddingDim;
    const x = tf.broadcastTo(tf.reshape(this.colEmbed.weight, [1, this.w, half]), [this.h, this.w, half]);
    const y = tf.broadcastTo(tf.reshape(this.rowEmbed.weight, [this.h, 1, half]), [this.h, this.w, half]);
    return tf.reshape(tf.concat([x, y], -1), [this.h * this.w, 2 * half]);
  }
}

/** xavier-uniform weight and zero bias on a Linear (the official initializer). */
function xavierLinear(l: Linear): Linear {
  l.setInit('weight', init.xavierUniform());
  if (l.bias) l.setInit('bias', init.zeros);
  return l;
}

function attention(d: number, heads: number, dropout: number, rng: Rng): MultiheadAttention {
  const a = new MultiheadAttention(d, heads, { dropout, rng });
  a.outProj.setInit('weight', init.xavierUniform());
  return a;
}

/** The feed-forward block and norms every layer has (post-norm): x = LN(x + Drop(W2·Drop(relu(W1·x)))). */
class FeedForward {
  constructor(
    readonly linear1: Linear,
    readonly dropout: Dropout,
    readonly linear2: Linear,
  ) {}

  forward(x: tf.Tensor3D): tf.Tensor3D {
    return this.linear2.forward(this.dropout.forward(tf.relu(this.linear1.forward(x))));
  }
}

class EncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly ffn: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;

  constructor(d: number, heads: number, ff: number, dropout: number, rng: Rng) {
    super();
    this.selfAttn = this.registerModule('self_attn', attention(d, heads, dropout, rng));
    const linear1 = this.registerModule('linear1', xavierLinear(new Linear(d, ff)));
    const drop = this.registerModule('dropout', new Dropout(dropout, rng));
    const linear2 = this.registerModule('linear2', xavierLinear(new Linear(ff, d)));
    this.ffn = new FeedForward(linear1, drop, linear2);
    this.norm1 = this.registerModule('norm1', new LayerNorm(d));
    this.norm2 = this.registerModule('norm2', new LayerNorm(d));
    this.dropout1 = this.registerModule('dropout1', new Dropout(dropout, rng));
    this.dropout2 = this.registerModule('dropout2', new Dropout(dropout, rng));
  }

  /** src [b, L, d], pos [L, d] → [b, L, d]. */
  forward(src: tf.Tensor3D, pos: tf.Tensor2D, mask: tf.Tensor2D | undefined): tf.Tensor3D {
    const qk = tf.add(src, pos) as tf.Tensor3D;
    const attended = this.selfAttn.forward(qk, qk, src, mask ? { attnMask: mask } : {});
    let x = this.norm1.forward(tf.add(src, this.dropout1.forward(attended)) as tf.Tensor3D);
    x = this.norm2.forward(tf.add(x, this.dropout2.forward(this.ffn.forward(x))) as tf.Tensor3D);
    return x;
  }
}

class DecoderLayer extends Module {
  readonly learnedEmbed: Embedding;
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly ffn: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;

  constructor(tokens: number, d: number, heads: number, ff: number, dropout: number, rng: Rng) {
    super();
    this.learnedEmbed = this.registerModule('learned_embed', new Embedding(tokens, d));
    this.selfAttn = this.registerModule('self_attn', attention(d, heads, dropout, rng));
    this.multiheadAttn = this.registerModule('multihead_attn', attention(d, heads, dropout, rng));
    const linear1 = this.registerModule('linear1', xavierLinear(new Linear(d, ff)));
    const drop = this.registerModule('dropout', new Dropout(dropout, rng));
    const linear2 = this.registerModule('linear2', xavierLinear(new Linear(ff, d)));
    this.ffn = new FeedForward(linear1, drop, linear2);
    this.norm1 = this.registerModule('norm1', new LayerNorm(d));
    this.norm2 = this.registerModule('norm2', new LayerNorm(d));
    this.norm3 = this.registerModule('norm3', new LayerNorm(d));
    this.dropout1 = this.registerModule('dropout1', new Dropout(dropout, rng));
    this.dropout2 = this.registerModule('dropout2', new Dropout(dropout, rng));
    this.dropout3 = this.registerModule('dropout3', new Dropout(dropout, rng));
  }

  /**
   * out: the previous layer's output (the first layer: memory), memory: the encoder's output, both
   * [b, L, d]; pos [L, d] → [b, L, d]. Its queries are its own table, the same for every image.
   */
  forward(out: tf.Tensor3D, memory: tf.Tensor3D, pos: tf.Tensor2D, mask1: tf.Tensor2D | undefined, mask2: tf.Tensor2D | undefined): tf.Tensor3D {
    const [b, L, d] = memory.shape;
    const tgt0 = tf.broadcastTo(tf.reshape(this.learnedEmbed.weight, [1, L, d]), [b, L, d]) as tf.Tensor3D;
    const a1 = this.selfAttn.forward(tf.add(tgt0, pos) as tf.Tensor3D, tf.add(memory, pos) as tf.Tensor3D, memory, mask1 ? { attnMask: mask1 } : {});
    let tgt = this.norm1.forward(tf.add(tgt0, this.dropout1.forward(a1)) as tf.Tensor3D);
    const a2 = this.multiheadAttn.forward(tf.add(tgt, pos) as tf.Tensor3D, tf.add(out, pos) as tf.Tensor3D, out, mask2 ? { attnMask: mask2 } : {});
    tgt = this.norm2.forward(tf.add(tgt, this.dropout2.forward(a2)) as tf.Tensor3D);
    tgt = this.norm3.forward(tf.add(tgt, this.dropout3.forward(this.ffn.forward(tgt))) as tf.Tensor3D);
    return tgt;
  }
}

class TransformerEncoder extends Module {
  readonly layers: ModuleList<EncoderLayer>;
  constructor(layers: EncoderLayer[]) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(layers));
  }
}

class TransformerDecoder extends Module {
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: LayerNorm;
  constructor(layers: DecoderLayer[], d: number) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(layers));
    this.norm = this.registerModule('norm', new LayerNorm(d));
  }
}

class Transformer extends Module {
  readonly encoder: TransformerEncoder;
  readonly decoder: TransformerDecoder;
  constructor(a: UniadArchitecture, tokens: number, rng: Rng) {
    super();
    const d = a.hiddenDim;
    this.encoder = this.registerModule('encoder', new TransformerEncoder(Array.from({ length: a.encoderLayers }, () => new EncoderLayer(d, a.heads, a.feedforward, a.dropout, rng))));
    this.decoder = this.registerModule(
      'decoder',
      new TransformerDecoder(
        Array.from({ length: a.decoderLayers }, () => new DecoderLayer(tokens, d, a.heads, a.feedforward, a.dropout, rng)),
        d,
      ),
    );
  }
}

export interface UniadForwardOptions {
  /**
   * Standard-normal noise [b, h, w, C] for the feature jitter (training only): tokens +=
   * noise·(‖token‖₂/C)·scale. Absent in training: no jitter this step (the caller decides with prob).
   */
  jitterNoise?: tf.Tensor4D;
  jitterScale?: number;
}

export class Uniad extends Module {
  readonly posEmbed: PositionEmbeddingLearned;
  readonly transformer: Transformer;
  readonly inputProj: Linear;
  readonly outputProj: Linear;
  /** Dropout masks (layers and attention weights) come from here; the loss reseeds it every step. */
  readonly rng: Rng;
  readonly side: number;
  readonly channels: number;
  readonly #mask: tf.Tensor2D | null;
  readonly #maskUse: [boolean, boolean, boolean];

  constructor(readonly architecture: UniadArchitecture) {
    super();
    const a = architecture;
    this.side = tokenSide(a.inputSize);
    if (!Number.isInteger(this.side) || this.side < 1) throw new LabError(`UniAD: inputSize ${a.inputSize} is not a multiple of 16`, 'ValidationError');
    this.channels = a.channels ?? UNIAD_FEATURE_CHANNELS;
    const tokens = this.side * this.side;
    this.rng = new Rng(0);
    this.posEmbed = this.registerModule('pos_embed', new PositionEmbeddingLearned(this.side, this.side, a.hiddenDim / 2));
    this.transformer = this.registerModule('transformer', new Transformer(a, tokens, this.rng));
    this.inputProj = this.registerModule('input_proj', xavierLinear(new Linear(this.channels, a.hiddenDim)));
    this.outputProj = this.registerModule('output_proj', xavierLinear(new Linear(a.hiddenDim, this.channels)));
    const useMask = a.neighborSize > 0 && a.neighborMask.some(Boolean);
    this.#mask = useMask ? tf.tensor2d(neighbourMask(this.side, this.side, a.neighborSize), [tokens, tokens]) : null;
    this.#maskUse = a.neighborMask;
  }

  /** The neighbour mask [L, L] (null when unused); owned by the model. */
  get mask(): tf.Tensor2D | null {
    return this.#mask;
  }

  /**
   * feature_align [b, h, w, C] → feature_rec [b, h, w, C] (train or eval mode as set).
   */
  forward(featureAlign: tf.Tensor4D, options: UniadForwardOptions = {}): tf.Tensor4D {
    const [b, h, w, C] = featureAlign.shape;
    if (h !== this.side || w !== this.side || C !== this.channels) {
      throw new LabError(`UniAD: features must be [batch, ${this.side}, ${this.side}, ${this.channels}], got [${featureAlign.shape.join(', ')}]`, 'ValidationError');
    }
    const L = h * w;
    let tokens = tf.reshape(featureAlign, [b, L, C]) as tf.Tensor3D;
    if (this.training && options.jitterNoise) {
      // add_jitter: feature_norms = ‖token‖₂ / C; tokens + randn · norms · scale.
      const norms = tf.div(tf.norm(tokens, 'euclidean', -1, true), C);
      tokens = tf.add(tokens, tf.mul(tf.mul(tf.reshape(options.jitterNoise, [b, L, C]), norms), options.jitterScale ?? 0)) as tf.Tensor3D;
    }
    const src = this.inputProj.forward(tokens);
    const pos = this.posEmbed.forward();
    const mask = this.#mask ?? undefined;
    const [mEnc, mDec1, mDec2] = this.#maskUse.map((u) => (u ? mask : undefined)) as [tf.Tensor2D | undefined, tf.Tensor2D | undefined, tf.Tensor2D | undefined];
    let memory = src;
    for (const layer of this.transformer.encoder.layers) memory = layer.forward(memory, pos, mEnc);
    let out = memory;
    for (const layer of this.transformer.decoder.layers) out = layer.forward(out, memory, pos, mDec1, mDec2);
    out = this.transformer.decoder.norm.forward(out);
    return tf.reshape(this.outputProj.forward(out), [b, h, w, C]);
  }

  override dispose(): void {
    super.dispose();
    this.#mask?.dispose();
  }
}

/** The model of a config with its seeded initial weights. */
export function buildUniad(config: UniadArchitecture & { seed: number }): Uniad {
  return new Uniad(config).initialize(config.seed);
}
