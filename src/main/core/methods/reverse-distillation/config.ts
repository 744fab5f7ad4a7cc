/**
 * Reverse Distillation (Deng & Li, "Anomaly Detection via Reverse Distillation from One-Class
 * Embedding", CVPR 2022): its presets, every value with its source, the architecture's layer plan
 * (for the cost estimate and the parameter count) and its cost. METHODS.md section 1 is the
 * research behind every value here.
 *
 * The two implementations that matter differ, and both are presets of this one method:
 *   - `official`: RD4AD as its authors' code defines it (hq-deng/RD4AD@6554076): bottleneck width
 *     128 with the conv4/bn4 pair it builds but never runs, the loss 1 − cosine of each level's
 *     flattened feature vector, the map the SUM of the per-level 1 − cosine maps, smoothed by
 *     scipy's gaussian_filter (σ 4, edge-repeating border);
 *   - `paper`: what MIAD ran (A.2.1: "We use the publicly available code in Anomalib"), anomalib
 *     v0.3.7: bottleneck width 64 and no conv4, the per-pixel cosine loss, the PRODUCT of the
 *     per-level maps, kornia's blur (σ 4, torch reflect border); A.2.1's own values on top (256 px,
 *     Adam 0.005 with betas 0.5/0.999, batch 32). anomalib stopped early on the test set's pixel
 *     AUROC (METHODS 0.1 item 10); the lab never picks an epoch on test data, so `paper` trains a
 *     fixed 200 epochs (anomalib's max_epochs);
 *   - `fast`: the ResNet18 pairing the official code ships (resnet.py resnet18 + de_resnet18) with
 *     the official variant's loss and map, at 128 px on 64 images: minutes on a CPU.
 * Sources: 'paper A.2.1' (the MIAD appendix), 'RD4AD <file>' (the official code), 'anomalib v0.3.7
 * <file>' (what MIAD ran), 'ours'.
 */
import { z } from 'zod';
import { LabError } from '../../../../shared/errors';
import { backboneGflop, convFlops } from '../components/flops';
import type { ResolvedConfig, TrainingCost } from '../method';
import { resolvePreset, trainedSettingOverrides, weightsFileOverride, type SourcedPreset } from '../presets';

export const RD_PRESETS = ['paper', 'official', 'fast'] as const;
export type RdPreset = (typeof RD_PRESETS)[number];

/** The teacher architectures, each with its own student (RD4AD resnet.py / de_resnet.py). */
export const RD_BACKBONES = ['wide_resnet50_2', 'resnet18'] as const;
export type RdBackbone = (typeof RD_BACKBONES)[number];

export interface ReverseDistillationConfig {
  preset: RdPreset;
  /** The frozen teacher (layers 1–3); the student is its reversed twin. */
  backbone: RdBackbone;
  /** Images are resized to inputSize × inputSize; a multiple of 32 (the bottleneck sits at 1/32). */
  inputSize: number;
  batchSize: number;
  /** Fixed: no early stopping, no epoch chosen afterwards. 0 (only with studentWeights): evaluate the given weights as they are. */
  epochs: number;
  trainImages: number | 'all';
  learningRate: number;
  beta1: number;
  beta2: number;
  /** The one-class bottleneck's `width_per_group` (64: anomalib; 128: RD4AD's wide_resnet50_2). ResNet18's basic blocks take only 64. */
  bottleneckWidth: number;
  /** Build the bottleneck's conv4/bn4 as RD4AD does (in the state dict and the optimiser; never run, never updated). */
  bottleneckConv4: boolean;
  /** 'flattened': 1 − cos of each sample's whole C·H·W vector (RD4AD); 'per-pixel': 1 − cos along channels, averaged (anomalib v0.3.7). */
  loss: 'flattened' | 'per-pixel';
  /** How the three upsampled 1 − cos maps are combined: 'add' (RD4AD) or 'multiply' (anomalib v0.3.7). */
  mapCombine: 'add' | 'multiply';
  /** Gaussian σ of the map, in pixels of the input size. */
  sigma: number;
  /** The blur's border: 'symmetric' repeats the edge pixel (scipy, RD4AD), 'reflect' does not (kornia, anomalib). */
  blurBorder: 'symmetric' | 'reflect';
  seed: number;
  /**
   * An absolute path to a `.safetensors` of `bn.*` and `decoder.*` (e.g. an RD4AD checkpoint converted
   * by scripts/reference/reverse_distillation.py convert, or a lab run's model.safetensors) to start
   * from instead of the seeded initialisation; '' for none.
   */
  studentWeights: string;
  evalResolution: number;
  checkpointMinutes: number;
  checkpointSteps: number;
}

type Sourced = SourcedPreset<ReverseDistillationConfig>;

const PAPER: Sourced = {
  backbone: ['wide_resnet50_2', 'paper A.2.1'],
  inputSize: [256, 'paper A.2.1'],
  batchSize: [32, 'paper A.2.1'],
  epochs: [200, 'anomalib v0.3.7 config.yaml max_epochs (fixed: its early stopping on the test set is not used)'],
  trainImages: ['all', 'anomalib v0.3.7 (no sampling)'],
  learningRate: [0.005, 'paper A.2.1'],
  beta1: [0.5, 'paper A.2.1'],
  beta2: [0.999, 'paper A.2.1 (anomalib v0.3.7 default 0.99)'],
  bottleneckWidth: [64, 'anomalib v0.3.7 bottleneck.py (OCBE default width)'],
  bottleneckConv4: [false, 'anomalib v0.3.7 bottleneck.py'],
  loss: ['per-pixel', 'anomalib v0.3.7 loss.py'],
  mapCombine: ['multiply', 'anomalib v0.3.7 config.yaml anomaly_map_mode'],
  sigma: [4, 'anomalib v0.3.7 anomaly_map.py'],
  blurBorder: ['reflect', 'anomalib v0.3.7 anomaly_map.py (kornia gaussian_blur2d)'],
  seed: [42, 'anomalib v0.3.7 config.yaml seed'],
  studentWeights: ['', 'ours (none: the seeded initialisation)'],
  evalResolution: [0, 'ours'],
  checkpointMinutes: [5, 'ours'],
  checkpointSteps: [0, 'ours'],
};

const OFFICIAL: Sourced = {
  ...PAPER,
  backbone: ['wide_resnet50_2', 'RD4AD main.py'],
  inputSize: [256, 'RD4AD main.py'],
  batchSize: [16, 'RD4AD main.py'],
  epochs: [200, 'RD4AD main.py'],
  trainImages: ['all', 'RD4AD dataset.py (no sampling)'],
  learningRate: [0.005, 'RD4AD main.py'],
  beta1: [0.5, 'RD4AD main.py'],
  beta2: [0.999, 'RD4AD main.py'],
  bottleneckWidth: [128, 'RD4AD resnet.py wide_resnet50_2 (width_per_group 128)'],
  bottleneckConv4: [true, 'RD4AD resnet.py BN_layer (built, unused)'],
  loss: ['flattened', 'RD4AD main.py loss_fucntion'],
  mapCombine: ['add', "RD4AD test.py evaluation (amap_mode 'a')"],
  sigma: [4, 'RD4AD test.py gaussian_filter'],
  blurBorder: ['symmetric', 'RD4AD test.py (scipy gaussian_filter)'],
  seed: [111, 'RD4AD main.py setup_seed'],
};

const PRESETS: Record<RdPreset, Sourced> = {
  paper: PAPER,
  official: OFFICIAL,
  fast: {
    ...OFFICIAL,
    backbone: ['resnet18', 'RD4AD resnet.py resnet18 / de_resnet.py de_resnet18'],
    bottleneckWidth: [64, 'RD4AD resnet.py resnet18 (basic blocks: 64)'],
    inputSize: [128, 'ours'],
    batchSize: [8, 'ours'],
    epochs: [10, 'ours'],
    trainImages: [64, 'ours'],
    seed: [0, 'ours'],
  },
};

export const RD_PRESET_NOTES: Record<RdPreset, string> = {
  paper:
    'As MIAD ran it (A.2.1: anomalib v0.3.7): bottleneck width 64, per-pixel cosine loss, multiplied maps, at 256 px, batch 32, Adam 0.005 (0.5, 0.999). ' +
    'anomalib stopped early on the test set’s pixel AUROC; the lab never does that: 200 epochs, fixed. ' +
    'About 122 GFLOP per image step: a GPU job (hours per MIAD scenario on a GPU, months on a CPU).',
  official:
    'RD4AD as its authors’ code defines it: bottleneck width 128 (with its unused conv4), flattened cosine loss, summed maps, batch 16, 200 epochs. ' +
    'About 135 GFLOP per image step: a GPU job. Expect it to beat MIAD’s RD column, which ran the anomalib variant with early stopping.',
  fast: 'The ResNet18 pairing of the official code at 128 px on 64 images, 10 epochs: minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper’s.',
};

/** Validation of user overrides: unknown keys are refused. */
export const rdOverridesSchema = z
  .object({
    ...trainedSettingOverrides,
    backbone: z.enum(RD_BACKBONES),
    inputSize: z
      .number()
      .int()
      .min(32)
      .max(1024)
      .refine((v) => v % 32 === 0, { message: 'must be a multiple of 32 (the bottleneck works at 1/32 of the input)' }),
    epochs: z.number().int().min(0).max(10_000),
    learningRate: z.number().gt(0).max(1),
    beta1: z.number().min(0).lt(1),
    beta2: z.number().min(0).lt(1),
    bottleneckWidth: z
      .number()
      .int()
      .min(16)
      .max(512)
      .refine((v) => v % 16 === 0, { message: 'must be a multiple of 16' }),
    bottleneckConv4: z.boolean(),
    loss: z.enum(['flattened', 'per-pixel']),
    mapCombine: z.enum(['add', 'multiply']),
    sigma: z.number().min(0).max(64),
    blurBorder: z.enum(['symmetric', 'reflect']),
    studentWeights: weightsFileOverride,
  })
  .partial()
  .strict();

export function resolveRdConfig(preset: string = 'paper', overrides: unknown = {}): ResolvedConfig<ReverseDistillationConfig> {
  const resolved = resolvePreset<ReverseDistillationConfig>('Reverse Distillation', PRESETS, preset, overrides, rdOverridesSchema);
  const c = resolved.config;
  // torchvision's (and RD4AD's) BasicBlock raises for another width: the ResNet18 bottleneck has none to choose.
  if (c.backbone === 'resnet18' && c.bottleneckWidth !== 64) {
    throw new LabError(`Reverse Distillation overrides: bottleneckWidth: the resnet18 bottleneck is built of basic blocks, which only take width 64 (got ${c.bottleneckWidth})`, 'ValidationError');
  }
  if (c.epochs === 0 && c.studentWeights === '') {
    throw new LabError('Reverse Distillation overrides: epochs: 0 epochs only evaluates given weights: set studentWeights too, or train at least 1 epoch', 'ValidationError');
  }
  return resolved;
}

// --- the architecture's layer plan ---------------------------------------------------------------------

/** One convolution of the trainable part: channels, kernel, the side of its OUTPUT, and whether it is transposed. */
export interface ConvSpec {
  name: string;
  cin: number;
  cout: number;
  k: number;
  /** Output side in pixels for the plan's input size. */
  out: number;
  transposed: boolean;
  /** conv4 of RD4AD's bottleneck: a parameter, never run. */
  unused?: boolean;
}

/** The teacher's channels at layer1..3 and the blocks of each backbone's bottleneck and student (RD4AD resnet.py, de_resnet.py). */
export const RD_ARCH: Record<RdBackbone, { channels: [number, number, number]; expansion: 1 | 4; bottleneckBlocks: number; decoderBlocks: [number, number, number]; decoderWidth: number }> = {
  resnet18: { channels: [64, 128, 256], expansion: 1, bottleneckBlocks: 2, decoderBlocks: [2, 2, 2], decoderWidth: 64 },
  // de_wide_resnet50_2 passes width_per_group 128 in RD4AD and anomalib alike.
  wide_resnet50_2: { channels: [256, 512, 1024], expansion: 4, bottleneckBlocks: 3, decoderBlocks: [3, 4, 6], decoderWidth: 128 },
};

/**
 * Every convolution of the bottleneck (`bn.*`) and the student (`decoder.*`), with torch's
 * state-dict names, at input size `size`: what the model builds (model.ts) and what the cost counts.
 * Each conv is followed by a BatchNorm2d of `cout` channels.
 */
export function rdConvPlan(config: Pick<ReverseDistillationConfig, 'backbone' | 'bottleneckWidth' | 'bottleneckConv4' | 'inputSize'>): ConvSpec[] {
  const a = RD_ARCH[config.backbone];
  const [c1, c2, c3] = a.channels;
  const e = a.expansion;
  const s = config.inputSize;
  const out: ConvSpec[] = [];
  const conv = (name: string, cin: number, cout: number, k: number, side: number, transposed = false) => out.push({ name, cin, cout, k, out: side, transposed });
  // One-class bottleneck: bn_layer first (RD4AD registers it before the fusion convs).
  const planes = 512;
  let inplanes = 3 * c3;
  const bw = Math.floor((planes * config.bottleneckWidth) / 64);
  for (let i = 0; i < a.bottleneckBlocks; i++) {
    const p = `bn.bn_layer.${i}`;
    if (e === 1) {
      conv(`${p}.conv1`, inplanes, planes, 3, s / 32);
      conv(`${p}.conv2`, planes, planes, 3, s / 32);
    } else {
      conv(`${p}.conv1`, inplanes, bw, 1, s / 16);
      conv(`${p}.conv2`, bw, bw, 3, s / 32);
      conv(`${p}.conv3`, bw, planes * e, 1, s / 32);
    }
    if (i === 0) conv(`${p}.downsample.0`, inplanes, planes * e, 1, s / 32);
    inplanes = planes * e;
  }
  // Multi-scale feature fusion: layer1 down twice, layer2 down once, to layer3's grid.
  conv('bn.conv1', c1, c2, 3, s / 8);
  conv('bn.conv2', c2, c3, 3, s / 16);
  conv('bn.conv3', c2, c3, 3, s / 16);
  if (config.bottleneckConv4) out.push({ name: 'bn.conv4', cin: 1024 * e, cout: 512 * e, k: 1, out: s / 32, transposed: false, unused: true });
  // The student: three layers that each double the side, back to layer3, layer2, layer1 of the teacher.
  inplanes = 512 * e;
  const layerPlanes = [256, 128, 64];
  for (let l = 0; l < 3; l++) {
    const pl = layerPlanes[l]!;
    const side = s / (16 >> l);
    const w = Math.floor((pl * a.decoderWidth) / 64);
    for (let i = 0; i < a.decoderBlocks[l]!; i++) {
      const p = `decoder.layer${l + 1}.${i}`;
      const first = i === 0;
      if (e === 1) {
        conv(`${p}.conv1`, inplanes, pl, first ? 2 : 3, side, first);
        conv(`${p}.conv2`, pl, pl, 3, side);
      } else {
        conv(`${p}.conv1`, inplanes, w, 1, first ? side / 2 : side);
        conv(`${p}.conv2`, w, w, first ? 2 : 3, side, first);
        conv(`${p}.conv3`, w, pl * e, 1, side);
      }
      if (first) conv(`${p}.upsample.0`, inplanes, pl * e, 2, side, true);
      inplanes = pl * e;
    }
  }
  return out;
}

/** Parameters of the bottleneck and student: conv weights (bias-free) and the BatchNorms' weight and bias. */
export function rdParameterCount(config: Parameters<typeof rdConvPlan>[0]): number {
  return rdConvPlan(config).reduce((acc, c) => acc + c.cin * c.cout * c.k * c.k + 2 * c.cout, 0);
}

/** Forward FLOP of one conv of the plan (a transposed conv spreads each INPUT pixel over k×k outputs). */
function specFlops(c: ConvSpec): number {
  return c.transposed ? convFlops(c.cin, c.cout, c.k, c.out / c.k, c.out / c.k) : convFlops(c.cin, c.cout, c.k, c.out, c.out);
}

/**
 * Training cost per image, counted as METHODS.md section 0 does: the frozen teacher's forward
 * (layers 1–3) plus 3 × the trainable part's forward (forward, input and weight gradients). With
 * the feature cache the teacher runs only in the first epoch, so this is an upper bound.
 */
export function rdCost(config: ReverseDistillationConfig): TrainingCost {
  const trainable = rdConvPlan(config).reduce((acc, c) => acc + (c.unused ? 0 : specFlops(c)), 0);
  const teacher = backboneGflop(config.backbone, ['layer3'], config.inputSize);
  return { gflopPerImage: teacher + (3 * trainable) / 1e9, epochs: config.epochs };
}
