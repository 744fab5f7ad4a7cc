/**
 * PatchCore's presets and their resolution with user overrides. Every value carries its source:
 *   - 'paper A.2.2': the MIAD appendix (input 224, WideResNet50, batch 32, 2,000 sampled images);
 *   - 'anomalib': anomalib's PatchCore defaults, which A.2.2 says the paper kept for everything it
 *     does not mention (layers 2+3, coreset ratio 0.1, 9 neighbours, σ 4, JL eps 0.9 projection);
 *   - 'PatchCore code': the official implementation (amazon-science/patchcore-inspection), whose
 *     approximate greedy coreset projects to 128 dims;
 *   - 'ours': choices of this lab (all training images, the fast preset, storage).
 *
 * Presets:
 *   - full (default): the paper's method on the WHOLE training set (~10,000 images a scenario).
 *     The coreset is chosen on a 128-dim projection (PatchCore code) rather than anomalib's JL dims
 *     (~392 at 7.8 M patches): the projected rows are what greedy selection must hold and sweep
 *     once per pick, so 128 dims keep them at 4 GB and the selection 3× faster.
 *   - paper: A.2.2 as run: 2,000 training images sampled at random (seeded), anomalib's projection.
 *   - fast: a small configuration for demos and tests (resnet18, input 96, 64 images).
 */
import { z } from 'zod';
import { resolvePreset, type SourcedPreset } from '../presets';

export const PATCHCORE_PRESETS = ['full', 'paper', 'fast'] as const;
export type PatchCorePreset = (typeof PATCHCORE_PRESETS)[number];

export type ValueSource = 'paper A.2.2' | 'anomalib' | 'PatchCore code' | 'ours' | 'override';

export interface PatchCoreConfig {
  preset: PatchCorePreset;
  arch: 'wide_resnet50_2' | 'resnet18';
  layers: ('layer1' | 'layer2' | 'layer3' | 'layer4')[];
  /** Images are resized to inputSize × inputSize; the anomaly map has this size too. */
  inputSize: number;
  batchSize: number;
  /** Training images used: 'all', or that many sampled at random (seeded). */
  trainImages: number | 'all';
  coresetRatio: number;
  /** Projection dims for the coreset: 'jl' (anomalib: Johnson–Lindenstrauss bound at projectionEps) or a number. */
  projectionDims: 'jl' | number;
  projectionEps: number;
  /** Memory-bank neighbours of the image-score re-weighting (paper eq. 7); 1 turns it off. */
  numNeighbors: number;
  /** Gaussian σ of the anomaly map, in pixels of the input size. */
  sigma: number;
  seed: number;
  /** Where the float16 training embeddings are streamed: 'auto' picks memory below `memoryStoreMiB`. */
  featureStore: 'auto' | 'memory' | 'file';
  memoryStoreMiB: number;
  /** Square resolution the pixel metrics are computed at; 0 means the input size (anomalib's practice). */
  evalResolution: number;
}

export type PatchCoreOverrides = Partial<Omit<PatchCoreConfig, 'preset'>>;

type Sourced = SourcedPreset<PatchCoreConfig> & { [K in keyof Omit<PatchCoreConfig, 'preset'>]: [PatchCoreConfig[K], ValueSource] };

const FULL: Sourced = {
  arch: ['wide_resnet50_2', 'paper A.2.2'],
  layers: [['layer2', 'layer3'], 'anomalib'],
  inputSize: [224, 'paper A.2.2'],
  batchSize: [32, 'paper A.2.2'],
  trainImages: ['all', 'ours'],
  coresetRatio: [0.1, 'anomalib'],
  projectionDims: [128, 'PatchCore code'],
  projectionEps: [0.9, 'anomalib'],
  numNeighbors: [9, 'anomalib'],
  sigma: [4, 'anomalib'],
  seed: [0, 'ours'],
  featureStore: ['auto', 'ours'],
  memoryStoreMiB: [4096, 'ours'],
  evalResolution: [0, 'anomalib'],
};

const PRESETS: Record<PatchCorePreset, Sourced> = {
  full: FULL,
  paper: { ...FULL, trainImages: [2000, 'paper A.2.2'], projectionDims: ['jl', 'anomalib'] },
  fast: {
    ...FULL,
    arch: ['resnet18', 'ours'],
    inputSize: [96, 'ours'],
    batchSize: [16, 'ours'],
    trainImages: [64, 'ours'],
    projectionDims: ['jl', 'anomalib'],
  },
};

/**
 * What each preset is for, shown beside its values in the launch form. The figures for `full` are
 * this project's measurements on a 2-core CPU (bench/coreset.ts, bench/patchcore-scale.ts).
 */
export const PATCHCORE_PRESET_NOTES: Record<PatchCorePreset, string> = {
  full:
    'All of the scenario’s training images (about 10,000 in MIAD): the paper’s method without its 2,000-image limit. ' +
    'Meant for a GPU backend. On wasm or cpu a MIAD scenario takes many hours: on a 2-core CPU about 1 s per image to embed, ' +
    'about 4 h for the coreset, and about 3 min per test image against the 784k-row memory bank.',
  paper: '2,000 training images sampled at random (seeded), as the paper ran PatchCore (A.2.2), with anomalib’s projection.',
  fast: 'ResNet18 at 96 px on 64 images: minutes on a CPU, for demos and tests. Its metrics are not comparable with the paper’s.',
};

const LAYER = z.enum(['layer1', 'layer2', 'layer3', 'layer4']);

/** Validation of user overrides (from the CLI, the job runner): unknown keys are refused. */
export const patchCoreOverridesSchema = z
  .object({
    arch: z.enum(['wide_resnet50_2', 'resnet18']),
    layers: z.array(LAYER).min(1).max(4),
    inputSize: z.number().int().min(32).max(1024),
    batchSize: z.number().int().min(1).max(512),
    trainImages: z.union([z.literal('all'), z.number().int().min(1)]),
    coresetRatio: z.number().gt(0).max(1),
    projectionDims: z.union([z.literal('jl'), z.number().int().min(1).max(4096)]),
    projectionEps: z.number().gt(0).lt(1),
    numNeighbors: z.number().int().min(1).max(64),
    sigma: z.number().gt(0).max(64),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    featureStore: z.enum(['auto', 'memory', 'file']),
    memoryStoreMiB: z.number().int().min(1),
    evalResolution: z.number().int().min(0).max(4096),
  })
  .partial()
  .strict();

export interface ResolvedPatchCoreConfig {
  config: PatchCoreConfig;
  /** Where each value came from. */
  sources: Record<keyof Omit<PatchCoreConfig, 'preset'>, ValueSource>;
}

/** The preset's values with `overrides` applied (validated); throws LabError('ValidationError'). */
export function resolvePatchCoreConfig(preset: string = 'full', overrides: unknown = {}): ResolvedPatchCoreConfig {
  return resolvePreset<PatchCoreConfig>('PatchCore', PRESETS, preset, overrides, patchCoreOverridesSchema) as ResolvedPatchCoreConfig;
}
