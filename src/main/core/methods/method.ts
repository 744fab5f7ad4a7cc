/**
 * The method seam (DESIGN section 2a): what a method of the lab is, split as anomalib splits its
 * models, so one harness runs them all.
 *
 * A `MethodDefinition` is the light, main-process half: name, title, presets with the source of
 * every value, the overrides schema, what it costs to train, whether it reads a pretrained
 * backbone. It imports no tensor code: the job runner, `runs:presets`, `miad-lab train` and the
 * launch form all read it. `load()` is a dynamic import that only the job process calls, and gives
 * the `MethodImplementation`: how the method gets from training images to a `Predictor` (one pass
 * for PatchCore, gradient descent through the shared training loop for the others), and how the
 * predictor maps test images to anomaly maps and image scores (each method with its own score
 * rule, METHODS.md 0.1 item 11).
 *
 * Everything else a run does (which images, the test loop, the map pack, scores, evaluation,
 * curves, the job's result) lives once in harness/.
 */
import type { JobContext } from '../jobs/kinds';
import type { FeatureCache } from '../engine/feature-cache';

/** Where a preset's value comes from: the MIAD appendix, an official code base, anomalib, or us. */
export type ValueSource = string;

/** The settings every method's config has; the harness reads them. */
export interface MethodConfigBase {
  preset: string;
  /** Images are resized to inputSize × inputSize; maps come out at this size. */
  inputSize: number;
  /** Test (and, for trained methods, training) batch size. */
  batchSize: number;
  /** Training images used: 'all', or that many sampled at random (seeded). */
  trainImages: number | 'all';
  seed: number;
  /** Square resolution the pixel metrics are computed at; 0 means the input size. */
  evalResolution: number;
}

export interface ResolvedConfig<C extends MethodConfigBase = MethodConfigBase> {
  config: C;
  /** Where each value came from ('override' for the user's). */
  sources: Record<string, ValueSource>;
}

/** What training a configuration costs, for the estimate shown before a run starts. */
export interface TrainingCost {
  /** Floating-point operations to train on one image once (forward + backward), in GFLOP. */
  gflopPerImage: number;
  /** Passes over the training images (1 for one-pass methods). */
  epochs: number;
}

export interface MethodDefinition<C extends MethodConfigBase = MethodConfigBase> {
  /** The job kind, the run's `method` column, `train --method`. */
  name: string;
  /** As the paper names it. */
  title: string;
  /** One line for the launch form and `--help`. */
  summary: string;
  /** 'one-pass' methods fit in one pass (PatchCore); 'trained' ones by gradient descent. */
  training: 'one-pass' | 'trained';
  /**
   * Whether one run may cover several scenarios (UniAD's unified setting): one model trained on the
   * training images of all of them, evaluated per scenario. Absent: one scenario per run.
   */
  unified?: boolean;
  presets: readonly string[];
  defaultPreset: string;
  /** What each preset is for and what it costs, shown beside its values. */
  presetNotes: Readonly<Record<string, string>>;
  /** The preset's values with validated overrides; throws LabError('ValidationError'). */
  resolveConfig(preset?: string, overrides?: unknown): ResolvedConfig<C>;
  /**
   * The backbone architecture whose pretrained weights a run may take (`weightsFile`), or null
   * for a method trained from scratch (then a weights file is refused).
   */
  backboneArch(config: C): string | null;
  /** The cost of training, per image and epoch. */
  cost(config: C): TrainingCost;
  /** The tensor half; only the job process (and tests) load it. */
  load(): Promise<MethodImplementation<C>>;
}

// The registry lists definitions of different config types side by side; each is only ever called
// with configs its own resolveConfig produced, so erasing C there is safe.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethodDefinition = MethodDefinition<any>;

export function defineMethod<C extends MethodConfigBase>(definition: MethodDefinition<C>): MethodDefinition<C> {
  return definition;
}

/** Progress of one phase: `extra` carries a loss for trained methods. */
export type ProgressFn = (phase: string, step: number, total: number, extra?: { loss?: number; images?: number; message?: string }) => void;

/** What a method's fit or training gets from the harness. */
export interface FitRequest<C extends MethodConfigBase> {
  config: C;
  /** The run's scenario; for a unified run its scenarios joined by '+' (names only, for messages). */
  scenario: string;
  /** Absolute paths of the training images, already sampled and curated. */
  trainPaths: string[];
  /** 'random' (seeded) or a `.safetensors` path of the backbone; 'random' for methods without one. */
  weights: 'random' | string;
  /** The run's folder: outputs and temporary stores go here. */
  outDir: string;
  featureCache: FeatureCache | null;
  progress: ProgressFn;
  signal?: AbortSignal | undefined;
  /** The job's context when running as a job: checkpoints, resume state, series. Absent in direct calls. */
  job?: JobContext | undefined;
}

/** A batch of test images turned into anomaly maps and scores. */
export interface Prediction {
  /** [batch, mapSize, mapSize] row-major. */
  maps: Float32Array;
  /** [batch], the method's own image-score rule. */
  scores: Float64Array;
  /** Extra images for the run page (e.g. the auto-encoder's reconstruction): [batch, mapSize, mapSize, 3] in [0, 1]. */
  extras?: Record<string, Float32Array>;
}

export interface Predictor {
  /** Side of the square maps it returns. */
  readonly mapSize: number;
  /** Test images per predict() call. */
  readonly batchSize: number;
  /** Written into the map pack's header (docs/anomaly-maps.md), beside method and scenario. */
  readonly mapMeta: Record<string, unknown>;
  predict(paths: readonly string[]): Promise<Prediction>;
  dispose(): void;
}

/** What fitting or training gives the harness: the predictor and facts for the run's summary. */
export interface FittedMethod {
  predictor: Predictor;
  /** Facts of the training phase (images, patches, epochs, final loss…), kept in the summary. */
  train: Record<string, unknown>;
  /** Seconds per phase of training (the harness adds its own: score, metrics, total). */
  timings: Record<string, number>;
  /** Frozen-feature cache hits and misses of training, when a cache was used. */
  featureCache?: { hits: number; misses: number } | null;
  /** Counts of the predictor's cache use while scoring, filled in by the predictor. */
  testFeatureCache?: { hits: number; misses: number } | null;
  warnings: string[];
  /** Frees the model (the predictor's dispose is called by the harness too). */
  dispose(): void;
}

export interface MethodImplementation<C extends MethodConfigBase> {
  fit(request: FitRequest<C>): Promise<FittedMethod>;
}
