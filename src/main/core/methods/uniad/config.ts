/**
 * UniAD (You et al., "A Unified Model for Multi-class Anomaly Detection", NeurIPS 2022): its
 * presets, every value with its source, the transformer's size, and its cost. METHODS.md section 5
 * is the research behind every value here.
 *
 *   - `paper`: what MIAD A.2.6 ran: EfficientNet-b4 stages 1–4 resized to stride 16 and
 *     concatenated (272 channels), 224 px, batch 64, 500 epochs with the learning rate ×0.1 after
 *     400, AdamW lr 1e-4 with weight decay 1e-4; "other settings are consistent with the original
 *     code", i.e. the official experiments/MVTec-AD/config.yaml (zhiyuanyou/UniAD@a5b9d9d) for the
 *     transformer (hidden 256, 8 heads, 4 + 4 layers, FFN 1024, dropout 0.1, post-norm, learned
 *     positions, 7×7 neighbour mask on the encoder and both decoder attentions, jitter scale 20
 *     prob 1), clipping by global norm 0.1, betas (0.9, 0.999), seed 133, and the unified setting:
 *     one model over every scenario of the run (start it with all seven ticked).
 *   - `official`: the official config itself (1000 epochs, StepLR 800, batch 8 per GPU).
 *   - `fast`: a smaller transformer on cached features at 128 px (8 × 8 tokens: the smallest grid
 *     on which the 7×7 neighbour mask leaves every token keys to attend to), 64 images per
 *     scenario, minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper's.
 *
 * What the lab does differently, on purpose: the official train_val.py keeps the checkpoint with
 * the best mean pixel AUROC ON THE TEST SET (evaluated every 10 epochs), and its evaluation flips an
 * AUROC below 0.5 to 1 − AUROC (METHODS 0.1 item 10). The lab does neither: the weights after the
 * last epoch are the model, and AUROCs are reported as computed.
 *
 * The backbone: the official code reads the TF-ported EfficientNet-b4 (lukemelas, BN ε 1e-3, static
 * TF 'same' padding computed for 380 px). The lab builds that as `tf_efficientnet_b4` when the engine
 * has it (engine/backbones); `efficientnet_b4` is timm's PyTorch-style variant (symmetric padding,
 * BN ε 1e-5), whose features differ — the source text of `backbone` says which one a preset uses.
 * Sources: 'MIAD A.2.6' (the appendix), 'UniAD <file>' (the official code), 'ours'.
 */
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { isBuiltArch } from '../../engine/backbones/index';
import type { ResolvedConfig, TrainingCost } from '../method';
import { resolvePreset, trainedSettingOverrides, weightsFileOverride, type SourcedPreset } from '../presets';

export const UNIAD_PRESETS = ['paper', 'official', 'fast'] as const;
export type UniadPreset = (typeof UNIAD_PRESETS)[number];

/** The EfficientNet-b4 variants the features may come from (only built ones are accepted). */
export const UNIAD_BACKBONES = ['tf_efficientnet_b4', 'efficientnet_b4'] as const;
export type UniadBackbone = (typeof UNIAD_BACKBONES)[number];

/** Channels of EfficientNet-b4's stages 1–4 (UniAD outlayers [1,2,3,4]) and their sum, the token width. */
export const UNIAD_LEVEL_CHANNELS = [24, 32, 56, 160] as const;
export const UNIAD_FEATURE_CHANNELS = 272;
/** The stride the MFCN neck resizes every level to (UniAD config.yaml neck outstrides [16]). */
export const UNIAD_STRIDE = 16;

export interface UniadConfig {
  preset: UniadPreset;
  /** The frozen encoder (its stages 1–4 feed the MFCN neck). */
  backbone: UniadBackbone;
  /** A multiple of 16; the token grid is inputSize/16 on a side, and the maps come out at inputSize. */
  inputSize: number;
  batchSize: number;
  /** Fixed: no checkpoint is chosen on test data. 0 (only with modelWeights): evaluate the given weights. */
  epochs: number;
  /** Training images PER SCENARIO of the run: 'all' or that many sampled (seeded). */
  trainImages: number | 'all';
  hiddenDim: number;
  heads: number;
  encoderLayers: number;
  decoderLayers: number;
  feedforward: number;
  dropout: number;
  /** Side of the square neighbourhood a token may NOT attend to. */
  neighborSize: number;
  /** Whether the neighbour mask applies to [encoder self-attention, decoder attention 1, decoder attention 2]. */
  neighborMask: [boolean, boolean, boolean];
  /** Feature jitter in training: tokens += N(0,1)·(‖token‖₂/C)·scale, with probability prob per step. */
  jitterScale: number;
  jitterProb: number;
  learningRate: number;
  /** AdamW's decoupled weight decay on the reconstruction parameters. */
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** clip_grad_norm_ max norm (global L2 over every gradient); 0: no clipping. */
  clipMaxNorm: number;
  /** StepLR: the learning rate is multiplied by lrGamma every lrStepEpochs epochs. */
  lrStepEpochs: number;
  lrGamma: number;
  /** The image score is the maximum of the map averaged over scorePool × scorePool windows (no padding). */
  scorePool: number;
  seed: number;
  /** An absolute path to a `.safetensors` of the reconstruction (a lab run's model.safetensors or a converted official checkpoint); '' for none. */
  modelWeights: string;
  evalResolution: number;
  checkpointMinutes: number;
  checkpointSteps: number;
}

type Sourced = SourcedPreset<UniadConfig>;

const OFFICIAL_CONFIG = 'UniAD experiments/MVTec-AD/config.yaml';

/** The backbone of the paper and official presets: the TF port once the engine builds it. */
function officialBackbone(): [UniadBackbone, string] {
  if (isBuiltArch('tf_efficientnet_b4')) {
    return ['tf_efficientnet_b4', 'MIAD A.2.6 (EfficientNet-b4); UniAD models/backbones/efficientnet (the TF-ported b4: BN eps 1e-3, static same padding for 380 px)'];
  }
  return [
    'efficientnet_b4',
    "MIAD A.2.6 (EfficientNet-b4); ours: timm's efficientnet_b4 (symmetric padding, BN eps 1e-5) because the engine does not build the official TF-ported b4 (tf_efficientnet_b4) yet: features differ from the official code's",
  ];
}

function paperPreset(): Sourced {
  return {
    backbone: officialBackbone(),
    inputSize: [224, 'MIAD A.2.6'],
    batchSize: [64, 'MIAD A.2.6 (on 8 GPUs)'],
    epochs: [500, 'MIAD A.2.6 (fixed: the official code keeps the best checkpoint on the TEST set; the lab does not)'],
    trainImages: ['all', 'UniAD datasets/custom_dataset.py (no sampling)'],
    hiddenDim: [256, `${OFFICIAL_CONFIG} hidden_dim`],
    heads: [8, `${OFFICIAL_CONFIG} nhead`],
    encoderLayers: [4, `${OFFICIAL_CONFIG} num_encoder_layers`],
    decoderLayers: [4, `${OFFICIAL_CONFIG} num_decoder_layers`],
    feedforward: [1024, `${OFFICIAL_CONFIG} dim_feedforward`],
    dropout: [0.1, `${OFFICIAL_CONFIG} dropout`],
    neighborSize: [7, `${OFFICIAL_CONFIG} neighbor_mask.neighbor_size`],
    neighborMask: [[true, true, true], `${OFFICIAL_CONFIG} neighbor_mask.mask`],
    jitterScale: [20, `${OFFICIAL_CONFIG} feature_jitter.scale`],
    jitterProb: [1, `${OFFICIAL_CONFIG} feature_jitter.prob`],
    learningRate: [1e-4, 'MIAD A.2.6'],
    weightDecay: [1e-4, 'MIAD A.2.6'],
    beta1: [0.9, `${OFFICIAL_CONFIG} optimizer betas`],
    beta2: [0.999, `${OFFICIAL_CONFIG} optimizer betas`],
    clipMaxNorm: [0.1, `${OFFICIAL_CONFIG} trainer.clip_max_norm`],
    lrStepEpochs: [400, 'MIAD A.2.6 ("dropped by 0.1 after 400 epochs")'],
    lrGamma: [0.1, 'MIAD A.2.6'],
    scorePool: [16, `${OFFICIAL_CONFIG} evaluator max avgpool_size (README: max for MVTec-AD)`],
    seed: [133, `${OFFICIAL_CONFIG} random_seed`],
    modelWeights: ['', 'ours (none: the seeded initialisation)'],
    evalResolution: [0, 'ours'],
    checkpointMinutes: [5, 'ours'],
    checkpointSteps: [0, 'ours'],
  };
}

function presets(): Record<UniadPreset, Sourced> {
  const paper = paperPreset();
  return {
    paper,
    official: {
      ...paper,
      inputSize: [224, `${OFFICIAL_CONFIG} input_size`],
      batchSize: [8, `${OFFICIAL_CONFIG} batch_size (per GPU; the README trains on 8 GPUs)`],
      epochs: [1000, `${OFFICIAL_CONFIG} max_epoch (fixed: no checkpoint chosen on the test set)`],
      learningRate: [1e-4, `${OFFICIAL_CONFIG} optimizer lr`],
      weightDecay: [1e-4, `${OFFICIAL_CONFIG} optimizer weight_decay`],
      lrStepEpochs: [800, `${OFFICIAL_CONFIG} lr_scheduler StepLR step_size`],
      lrGamma: [0.1, `${OFFICIAL_CONFIG} lr_scheduler gamma`],
    },
    fast: {
      ...paper,
      backbone: ['efficientnet_b4', "ours (timm's b4: the cheaper-to-check variant; features are cached)"],
      inputSize: [128, 'ours (8 × 8 tokens: the smallest grid where the 7×7 neighbour mask leaves every token keys)'],
      batchSize: [16, 'ours (METHODS 5.6)'],
      epochs: [30, 'ours'],
      trainImages: [64, 'ours (per scenario)'],
      hiddenDim: [128, 'ours (METHODS 5.6)'],
      heads: [4, 'ours (METHODS 5.6)'],
      encoderLayers: [2, 'ours (METHODS 5.6)'],
      decoderLayers: [2, 'ours (METHODS 5.6)'],
      feedforward: [512, 'ours (METHODS 5.6)'],
      learningRate: [1e-3, 'ours (a short run needs a larger step than the paper’s 1e-4)'],
      lrStepEpochs: [24, 'ours (×0.1 after 80 % of the epochs, as the paper’s 400 of 500)'],
      seed: [0, 'ours'],
    },
  };
}

export const UNIAD_PRESET_NOTES: Record<UniadPreset, string> = {
  paper:
    'As MIAD ran it (A.2.6 on the official code): EfficientNet-b4 features at 224 px, a 4 + 4 layer transformer (hidden 256), batch 64, 500 epochs (lr ×0.1 after 400), AdamW 1e-4, wd 1e-4. ' +
    'Unified: tick every scenario to train one model over all of them, as the paper and the official code do. About 12 GFLOP per image step: a GPU job. ' +
    'The official code keeps the checkpoint with the best test pixel AUROC; the lab trains a fixed 500 epochs.',
  official: 'The official config.yaml: as paper but 1000 epochs with the lr drop at 800 and batch 8 (per GPU). A GPU job.',
  fast: 'A 2 + 2 layer transformer (hidden 128) on cached features at 128 px, 64 images per scenario, 30 epochs: minutes on a CPU, for demos and tests. Not comparable with the paper’s numbers.',
};

export const uniadOverridesSchema = z
  .object({
    ...trainedSettingOverrides,
    backbone: z.enum(UNIAD_BACKBONES),
    inputSize: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % UNIAD_STRIDE === 0, { message: 'must be a multiple of 16 (the tokens sit at stride 16)' }),
    epochs: z.number().int().min(0).max(10_000),
    hiddenDim: z.number().int().min(8).max(2048),
    heads: z.number().int().min(1).max(64),
    encoderLayers: z.number().int().min(0).max(24),
    decoderLayers: z.number().int().min(1).max(24),
    feedforward: z.number().int().min(1).max(16_384),
    dropout: z.number().min(0).lt(1),
    neighborSize: z.number().int().min(0).max(63),
    neighborMask: z.tuple([z.boolean(), z.boolean(), z.boolean()]),
    jitterScale: z.number().min(0).max(1000),
    jitterProb: z.number().min(0).max(1),
    learningRate: z.number().gt(0).max(1),
    weightDecay: z.number().min(0).max(1),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    clipMaxNorm: z.number().min(0),
    lrStepEpochs: z.number().int().min(1),
    lrGamma: z.number().gt(0).max(1),
    scorePool: z.number().int().min(1).max(1024),
    modelWeights: weightsFileOverride,
  })
  .partial()
  .strict();

/** The token grid's side for an input size. */
export function tokenSide(inputSize: number): number {
  return inputSize / UNIAD_STRIDE;
}

export function resolveUniadConfig(preset: string = 'paper', overrides: unknown = {}): ResolvedConfig<UniadConfig> {
  const resolved = resolvePreset<UniadConfig>('UniAD', presets(), preset, overrides, uniadOverridesSchema);
  const c = resolved.config;
  const fail = (message: string): never => {
    throw new LabError(`UniAD overrides: ${message}`, 'ValidationError');
  };
  if (!isBuiltArch(c.backbone)) fail(`backbone: ${c.backbone} is not built by this version of the engine; use efficientnet_b4`);
  if (c.hiddenDim % c.heads !== 0) fail(`hiddenDim ${c.hiddenDim} must be divisible by heads ${c.heads}`);
  if (c.hiddenDim % 2 !== 0) fail(`hiddenDim ${c.hiddenDim} must be even (the learned position embedding is half rows, half columns)`);
  const side = tokenSide(c.inputSize);
  // A token whose whole grid lies inside its neighbourhood would have no key left (softmax of nothing: NaN).
  if (c.neighborMask.some(Boolean) && c.neighborSize > 0 && side <= c.neighborSize) {
    fail(
      `inputSize ${c.inputSize} gives a ${side}×${side} token grid, on which the ${c.neighborSize}×${c.neighborSize} neighbour mask blocks every key of some token: ` +
        `use inputSize ≥ ${(c.neighborSize + 1) * UNIAD_STRIDE}, a smaller neighborSize, or neighborMask [false, false, false]`,
    );
  }
  if (c.scorePool > c.inputSize) fail(`scorePool ${c.scorePool} is larger than the map (${c.inputSize})`);
  if (c.epochs === 0 && c.modelWeights === '') fail('epochs: 0 epochs only evaluates given weights: set modelWeights too, or train at least 1 epoch');
  return resolved;
}

// --- size and cost ------------------------------------------------------------------------------

/** Parameters of the reconstruction (METHODS 5.1: 7,717,392 for the paper's). */
export function uniadParameterCount(c: Pick<UniadConfig, 'inputSize' | 'hiddenDim' | 'encoderLayers' | 'decoderLayers' | 'feedforward'>): number {
  const d = c.hiddenDim;
  const C = UNIAD_FEATURE_CHANNELS;
  const side = tokenSide(c.inputSize);
  const tokens = side * side;
  const mha = 3 * d * d + 3 * d + d * d + d;
  const ffn = d * c.feedforward + c.feedforward + c.feedforward * d + d;
  const ln = 2 * d;
  const enc = mha + ffn + 2 * ln;
  const dec = tokens * d + 2 * mha + ffn + 3 * ln;
  return 2 * side * (d / 2) + c.encoderLayers * enc + c.decoderLayers * dec + ln + (C * d + d) + (d * C + C);
}

/** Forward FLOP of the reconstruction for one image (dense attention: the mask saves nothing). */
export function uniadForwardFlops(c: Pick<UniadConfig, 'inputSize' | 'hiddenDim' | 'encoderLayers' | 'decoderLayers' | 'feedforward'>): number {
  const d = c.hiddenDim;
  const L = tokenSide(c.inputSize) ** 2;
  const C = UNIAD_FEATURE_CHANNELS;
  const attention = 2 * L * d * d * 4 + 2 * 2 * L * L * d;
  const ffn = 2 * 2 * L * d * c.feedforward;
  return 2 * 2 * L * C * d + c.encoderLayers * (attention + ffn) + c.decoderLayers * (2 * attention + ffn);
}

/** EfficientNet-b4 up to stage 4 at 224 px: 1.84 GFLOP (METHODS 5.1, counted on torchvision's b4); scales with the pixels. */
const BACKBONE_GFLOP_224 = 1.84;

/** Training cost per image: the frozen backbone once (the features are cached) plus 3 × the reconstruction's forward. */
export function uniadCost(c: UniadConfig): TrainingCost {
  return { gflopPerImage: BACKBONE_GFLOP_224 * (c.inputSize / 224) ** 2 + (3 * uniadForwardFlops(c)) / 1e9, epochs: c.epochs };
}
