/**
 * FastFlow (Yu et al., "FastFlow: Unsupervised Anomaly Detection and Localization via 2D Normalizing
 * Flows", 2021): its presets, every value with its source, the flow's layer plan (for the parameter
 * count and the cost) and its cost. METHODS.md section 2 is the research behind every value here.
 *
 * The reference is gathierry/FastFlow@2cf1f2f (fastflow.py, constants.py, configs/*.yaml), which
 * builds its flows from FrEIA@1779d1f's AllInOneBlock; anomalib v0.3.7's torch_model.py is the same
 * model. MIAD A.2.3 says it followed "the setting of the original paper" with WideResNet50-2:
 *   - `paper`: A.2.3's values (WideResNet50-2 layers 1–3, 256 px, 8 flow steps, Adam 1e-3 with
 *     weight decay 1e-5, batch 32, 500 epochs), with the reference's WideResNet50-2 configuration
 *     for what A.2.3 does not say (subnets alternating 3×3 and 1×1, hidden ratio 1.0, clamp 2).
 *     anomalib early-stops FastFlow on the test set's pixel AUROC (METHODS 0.1 item 10); the lab
 *     never picks an epoch on test data: 500 epochs, fixed;
 *   - `fast`: the reference's ResNet18 configuration (3×3 subnets only, anomalib v0.3.7's default
 *     too) at 128 px on 64 images: minutes on a CPU.
 * The reference's loader drops the last partial batch (main.py drop_last=True); the lab's training loop
 * visits every image each epoch, the last batch smaller (the same for every trained method).
 * Sources: 'paper A.2.3' (the MIAD appendix), 'gathierry <file>' (the reference), 'FrEIA 1779d1f'
 * (its AllInOneBlock), 'anomalib v0.3.7', 'ours'.
 */
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { backboneGflop, convFlops } from '../components/flops';
import type { ResolvedConfig, TrainingCost } from '../method';
import { resolvePreset, trainedSettingOverrides, weightsFileOverride, type SourcedPreset } from '../presets';

export const FASTFLOW_PRESETS = ['paper', 'fast'] as const;
export type FastflowPreset = (typeof FASTFLOW_PRESETS)[number];

/** The CNN backbones of the reference (its CaiT and DeiT rows need transformer backbones the lab does not build). */
export const FASTFLOW_BACKBONES = ['wide_resnet50_2', 'resnet18'] as const;
export type FastflowBackbone = (typeof FASTFLOW_BACKBONES)[number];

export interface FastflowConfig {
  preset: FastflowPreset;
  /** The frozen backbone; its layer1..3 feed one flow each. */
  backbone: FastflowBackbone;
  /** Images are resized to inputSize × inputSize; a multiple of 16 (layer3 sits at 1/16). The LayerNorms fix it. */
  inputSize: number;
  batchSize: number;
  /** Fixed: no early stopping, no epoch chosen afterwards. 0 (only with flowWeights): evaluate the given weights. */
  epochs: number;
  trainImages: number | 'all';
  learningRate: number;
  /** Adam's coupled L2 weight decay (torch `Adam(weight_decay=…)`). */
  weightDecay: number;
  /** AllInOneBlocks per scale. */
  flowSteps: number;
  /** true: every subnet is 3×3; false: 3×3 on even steps, 1×1 on odd ones. */
  conv3x3Only: boolean;
  /** A subnet's hidden channels = floor(its input channels × this). */
  hiddenRatio: number;
  /** The soft clamp α of the coupling's log-scale: α·tanh(a). */
  clamp: number;
  seed: number;
  /**
   * An absolute path to a `.safetensors` of `norms.*` and `nf_flows.*` (a lab run's model.safetensors,
   * or the reference's state dict without its feature_extractor.*) to start from; '' for none.
   */
  flowWeights: string;
  evalResolution: number;
  checkpointMinutes: number;
  checkpointSteps: number;
}

type Sourced = SourcedPreset<FastflowConfig>;

const PAPER: Sourced = {
  backbone: ['wide_resnet50_2', 'paper A.2.3'],
  inputSize: [256, 'paper A.2.3'],
  batchSize: [32, 'paper A.2.3'],
  epochs: [500, 'paper A.2.3 (fixed: anomalib’s early stopping on the test set is not used)'],
  trainImages: ['all', 'gathierry dataset.py (no sampling)'],
  learningRate: [1e-3, 'paper A.2.3'],
  weightDecay: [1e-5, 'paper A.2.3'],
  flowSteps: [8, 'paper A.2.3'],
  conv3x3Only: [false, 'gathierry configs/wide_resnet50_2.yaml'],
  hiddenRatio: [1.0, 'gathierry configs/wide_resnet50_2.yaml'],
  clamp: [2.0, 'gathierry fastflow.py nf_fast_flow (FrEIA 1779d1f affine_clamping)'],
  seed: [0, 'ours (gathierry seeds nothing; anomalib’s project.seed is 0)'],
  flowWeights: ['', 'ours (none: the seeded initialisation)'],
  evalResolution: [0, 'ours'],
  checkpointMinutes: [5, 'ours'],
  checkpointSteps: [0, 'ours'],
};

const PRESETS: Record<FastflowPreset, Sourced> = {
  paper: PAPER,
  fast: {
    ...PAPER,
    backbone: ['resnet18', 'gathierry configs/resnet18.yaml (anomalib v0.3.7 default)'],
    conv3x3Only: [true, 'gathierry configs/resnet18.yaml (anomalib v0.3.7 default)'],
    flowSteps: [8, 'gathierry configs/resnet18.yaml'],
    hiddenRatio: [1.0, 'gathierry configs/resnet18.yaml'],
    learningRate: [1e-3, 'gathierry constants.py'],
    weightDecay: [1e-5, 'gathierry constants.py'],
    inputSize: [128, 'ours'],
    batchSize: [8, 'ours'],
    epochs: [10, 'ours'],
    trainImages: [64, 'ours'],
  },
};

export const FASTFLOW_PRESET_NOTES: Record<FastflowPreset, string> = {
  paper:
    'As MIAD A.2.3 describes it: WideResNet50-2 layers 1–3 at 256 px, 8 flow steps per scale with subnets alternating 3×3 and 1×1 (the reference’s WideResNet50-2 configuration), ' +
    'Adam 1e-3 with weight decay 1e-5, batch 32, 500 epochs, fixed (anomalib’s early stopping on the test set is not reproduced). About 169 GFLOP per image step and 45 M parameters: a GPU job.',
  fast: 'The reference’s ResNet18 configuration (3×3 subnets only) at 128 px on 64 images, 10 epochs: minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper’s.',
};

/** Validation of user overrides: unknown keys are refused. */
export const fastflowOverridesSchema = z
  .object({
    ...trainedSettingOverrides,
    backbone: z.enum(FASTFLOW_BACKBONES),
    inputSize: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16 (the third scale works at 1/16 of the input)' }),
    epochs: z.number().int().min(0).max(10_000),
    learningRate: z.number().gt(0).max(1),
    weightDecay: z.number().min(0).max(1),
    flowSteps: z.number().int().min(1).max(64),
    conv3x3Only: z.boolean(),
    hiddenRatio: z.number().gt(0).max(8),
    clamp: z.number().gt(0).max(20),
    flowWeights: weightsFileOverride,
  })
  .partial()
  .strict();

export function resolveFastflowConfig(preset: string = 'paper', overrides: unknown = {}): ResolvedConfig<FastflowConfig> {
  const resolved = resolvePreset<FastflowConfig>('FastFlow', PRESETS, preset, overrides, fastflowOverridesSchema);
  if (resolved.config.epochs === 0 && resolved.config.flowWeights === '') {
    throw new LabError('FastFlow overrides: epochs: 0 epochs only evaluates given weights: set flowWeights too, or train at least 1 epoch', 'ValidationError');
  }
  return resolved;
}

// --- the layer plan ---------------------------------------------------------------------------------

/** The backbone layers FastFlow reads (timm features_only out_indices [1, 2, 3]) and their channels and strides. */
export const FASTFLOW_SCALES: Record<FastflowBackbone, { channels: [number, number, number]; strides: [number, number, number] }> = {
  resnet18: { channels: [64, 128, 256], strides: [4, 8, 16] },
  wide_resnet50_2: { channels: [256, 512, 1024], strides: [4, 8, 16] },
};

/** One flow step's shapes: the coupling's halves, the subnet's kernel and hidden width (gathierry fastflow.py, FrEIA AllInOneBlock). */
export interface FlowStepSpec {
  channels: number;
  /** The passive half x1 (the subnet's input): C − ⌊C/2⌋. */
  split1: number;
  /** The transformed half x2: ⌊C/2⌋; the subnet outputs 2·split2. */
  split2: number;
  kernel: 1 | 3;
  hidden: number;
}

export function flowStepSpec(channels: number, step: number, config: Pick<FastflowConfig, 'conv3x3Only' | 'hiddenRatio'>): FlowStepSpec {
  const split2 = Math.floor(channels / 2);
  const split1 = channels - split2;
  // gathierry nf_fast_flow: kernel 1 on odd steps unless conv3x3_only.
  const kernel = step % 2 === 1 && !config.conv3x3Only ? 1 : 3;
  // subnet_conv: hidden_channels = int(in_channels * hidden_ratio)
  return { channels, split1, split2, kernel, hidden: Math.floor(split1 * config.hiddenRatio) };
}

type PlanConfig = Pick<FastflowConfig, 'backbone' | 'inputSize' | 'flowSteps' | 'conv3x3Only' | 'hiddenRatio'>;

/** Trainable parameters: the LayerNorms' C·H·W affine pairs, each step's subnet (weights + biases) and global scale and offset. */
export function fastflowParameterCount(config: PlanConfig): number {
  const { channels, strides } = FASTFLOW_SCALES[config.backbone];
  let n = 0;
  channels.forEach((c, i) => {
    const side = config.inputSize / strides[i]!;
    n += 2 * c * side * side;
    for (let s = 0; s < config.flowSteps; s++) {
      const f = flowStepSpec(c, s, config);
      n += f.kernel * f.kernel * f.split1 * f.hidden + f.hidden + f.kernel * f.kernel * f.hidden * 2 * f.split2 + 2 * f.split2 + 2 * c;
    }
  });
  return n;
}

/** Forward FLOP of the flows (the subnets' convolutions; the elementwise rest is small). */
export function flowForwardFlops(config: PlanConfig): number {
  const { channels, strides } = FASTFLOW_SCALES[config.backbone];
  let flops = 0;
  channels.forEach((c, i) => {
    const side = config.inputSize / strides[i]!;
    for (let s = 0; s < config.flowSteps; s++) {
      const f = flowStepSpec(c, s, config);
      flops += convFlops(f.split1, f.hidden, f.kernel, side, side) + convFlops(f.hidden, 2 * f.split2, f.kernel, side, side);
    }
  });
  return flops;
}

/**
 * Training cost per image as METHODS.md section 0 counts it: the frozen backbone's forward (layers
 * 1–3) plus 3 × the flows' forward. With the feature cache the backbone runs only in the first
 * epoch, so this is an upper bound.
 */
export function fastflowCost(config: FastflowConfig): TrainingCost {
  return { gflopPerImage: backboneGflop(config.backbone, ['layer3'], config.inputSize) + (3 * flowForwardFlops(config)) / 1e9, epochs: config.epochs };
}
