/**
 * Calls about runs: our own (jobs that run in their own process: `runs:start`, `runs:cancel`,
 * `runs:resume`) and external ones (`miad-lab evaluate --workspace`). Events stream a running
 * job's progress and every change of a run's status.
 */
import { z } from 'zod';
import type { RunDetail, RunInfo } from '../types';
import { emptyInput, idInput, returns } from './define';
import { synthesisPreviewInput, type SynthesisPreview } from './synthesis';

/** The tfjs backends a job may be forced onto (engine/backends.ts; best first). */
export const JOB_BACKENDS = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

export const runStartInput = z
  .object({
    /** A job kind of the registry (see `runs:kinds`). */
    kind: z.string().min(1).max(100),
    name: z.string().trim().min(1).max(200).optional(),
    /** Validated against the kind's own schema in the main process. */
    config: z.record(z.string(), z.unknown()).default({}),
    /** Force a backend; the best available one when absent. The run records the one that ran. */
    backend: z.enum(JOB_BACKENDS).optional(),
  })
  .strict();

export interface JobKindInfo {
  name: string;
  summary: string;
  /** Holds the tensor backend (the GPU when there is one): one such job at a time by default. */
  tensors: boolean;
  /**
   * The method this kind runs (the launch form offers these): its title, how it learns, whether it
   * reads a pretrained backbone, whether one run may train one model over several scenarios (UniAD).
   */
  method: { title: string; training: 'one-pass' | 'trained'; backbone: boolean; unified?: boolean } | null;
}

/** A running job's latest progress. */
export interface RunProgress {
  runId: number;
  phase: string;
  step: number;
  total: number;
  loss?: number;
  imagesPerSec?: number;
  etaSeconds?: number;
  message?: string;
}

/** One value of a method's preset with where it came from (paper, anomalib, ours, …). */
export interface PresetValue {
  key: string;
  value: unknown;
  source: string;
}

export interface MethodPreset {
  name: string;
  /** What the preset is for and what it costs, in a sentence or three. */
  note: string;
  values: PresetValue[];
}

/** A trainable method as the registry defines it (core/methods/registry.ts): what `runs:methods` lists. */
export interface MethodInfo {
  name: string;
  title: string;
  presets: string[];
  defaultPreset: string;
  /** One run may train one model over several scenarios (UniAD). */
  unified: boolean;
}

/** A method's config for a preset and overrides, checked by the method's own schema (`runs:resolveConfig`). */
export interface ResolvedMethodConfig {
  method: string;
  preset: string;
  config: Record<string, unknown>;
  /** The backbone architecture the config reads pretrained weights for; null for a method trained from scratch. */
  backbone: string | null;
}

export const resolveConfigInput = z
  .object({
    method: z.string().min(1).max(100),
    preset: z.string().min(1).max(100).optional(),
    overrides: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** What a run will cost before it starts (core/runs/estimate.ts). */
export interface TrainingEstimate {
  method: string;
  preset: string;
  /** The backend the estimate is for: the one asked for, else the forced setting, else the best available. */
  backend: string;
  /** Training images after the preset's sampling. */
  images: number;
  epochs: number;
  gflopPerImage: number;
  totalGflop: number;
  /** Effective training speed divided by. */
  gflops: number;
  /** 'measured': by a finished run of this workspace on this backend; 'assumed': an order of magnitude. */
  speedSource: 'measured' | 'assumed';
  measuredBy: { runId: number; name: string; method: string } | null;
  seconds: number;
}

export const runEstimateInput = z
  .object({
    method: z.string().min(1).max(100),
    preset: z.string().min(1).max(100).optional(),
    overrides: z.record(z.string(), z.unknown()).optional(),
    datasetId: idInput,
    scenario: z.string().min(1).max(200),
    /** A unified run (methods that offer one): every scenario it trains on, `scenario` among them. */
    scenarios: z.array(z.string().min(1).max(200)).min(1).max(64).optional(),
    backend: z.enum(JOB_BACKENDS).optional(),
  })
  .strict();

/** Image scores binned once for the whole test set: normal images against each defect type. */
export interface ScoreHistogram {
  /** Bin edges, length bins + 1, ascending. */
  edges: number[];
  normal: number[];
  defects: { defectType: string; counts: number[] }[];
}

/** A chart curve of a run: `image_roc`, `pixel_roc` (x FPR, y TPR) or `pro` (x FPR, y PRO). */
export interface ReportCurve {
  /** '' for the whole test set, else the defect type (its images against all normal ones). */
  defectType: string;
  curve: string;
  x: number[];
  y: number[];
}

/** Where a test image falls at the image F1-max threshold. */
export type GalleryOutcome = 'tp' | 'fp' | 'fn' | 'tn';

export interface GalleryItem {
  /** Relative to the scenario folder, e.g. `test/crack/000.png`. */
  relPath: string;
  label: string;
  score: number;
  anomalous: boolean;
  outcome: GalleryOutcome | null;
  /** The test image on disk; null when the dataset folder is gone. */
  imagePath: string | null;
}

/** A test image whose model outputs beside its map were kept for the page (the auto-encoder's reconstruction). */
export interface RunSample {
  relPath: string;
  label: string;
  score: number;
  /** The test image on disk; null when the dataset folder is gone. */
  imagePath: string | null;
  /** Output name (e.g. 'reconstruction') → PNG path in the run folder. */
  images: Record<string, string>;
}

/** What a run's page shows beyond `runs:get`: computed in the main process (core/runs/report.ts). */
export interface RunReport {
  runId: number;
  scenario: string | null;
  /** result.json's `summary` of a job run (timings, train facts, resolved config); null otherwise. */
  summary: Record<string, unknown> | null;
  /** The image F1-max threshold (overall) the gallery outcomes use. */
  threshold: number | null;
  /** The run folder has maps.amap: the gallery can overlay heatmaps (`runs:heatmap`). */
  hasMaps: boolean;
  histogram: ScoreHistogram | null;
  curves: ReportCurve[];
  /** Test images, highest score first. */
  gallery: GalleryItem[];
  /** A few test images with the model's own outputs (input, reconstruction, map side by side); empty for most methods. */
  samples: RunSample[];
  warnings: string[];
}

/** A row of the runs table: the run and the headline metrics it can be sorted and filtered by. */
export interface RunTableRow extends RunInfo {
  startedAt: string | null;
  /** Seconds from start to finish; null until finished. */
  durationSec: number | null;
  /** The preset the run was launched with (config.preset), if any. */
  preset: string | null;
  /** A failed or cancelled job run with a checkpoint: `runs:resume` continues it. */
  resumable: boolean;
  /**
   * Overall metrics (defect type ''), the mean over the run's scenarios: image_auroc, pixel_auroc,
   * aupro, image_f1_max, pixel_f1_max; a metric the run lacks is absent.
   */
  metrics: Record<string, number>;
}

/** One leaf where two runs' configs differ (method, backend, weights and the resolved config). */
export interface ConfigDiffEntry {
  /** Dotted path, e.g. `config.coresetRatio`. */
  path: string;
  /** undefined where the key is missing on that side. */
  a: unknown;
  b: unknown;
}

export const runUpdateInput = z
  .object({
    runId: idInput,
    name: z.string().trim().min(1).max(200).optional(),
    tags: z.array(z.string().trim().min(1).max(40)).max(20).optional(),
    notes: z.string().max(10_000).optional(),
  })
  .strict();

export const runCalls = {
  'runs:list': { input: emptyInput, result: returns<RunInfo[]>() },
  'runs:get': { input: z.object({ runId: idInput }).strict(), result: returns<RunDetail>() },
  'runs:kinds': { input: emptyInput, result: returns<JobKindInfo[]>() },
  /** Queues a job; it starts as soon as a slot is free. */
  'runs:start': { input: runStartInput, result: returns<RunInfo>() },
  /** A queued run is cancelled at once; a running one is asked to stop, then killed after a grace period. */
  'runs:cancel': { input: z.object({ runId: idInput }).strict(), result: returns<RunInfo>() },
  /**
   * Answers once the run has ended (done, failed or cancelled) and its job process has exited: the
   * stored run as it then is. `miad-lab train` follows its run with it; closing the workspace ends
   * the wait with an error.
   */
  'runs:wait': { input: z.object({ runId: idInput }).strict(), result: returns<RunDetail>() },
  /** Queues a failed or cancelled run again, to continue from its latest checkpoint. */
  'runs:resume': { input: z.object({ runId: idInput }).strict(), result: returns<RunInfo>() },
  /** A run's curves (loss per step, …), by series name. */
  'runs:series': { input: z.object({ runId: idInput }).strict(), result: returns<Record<string, { step: number; value: number }[]>>() },
  /** What a run would cost on the backend it would use: training FLOPs ÷ measured speed. */
  'runs:estimate': { input: runEstimateInput, result: returns<TrainingEstimate & { text: string }>() },
  /** Synthetic training samples of a method that makes its own (DRAEM) for a scenario, preset and overrides, as PNGs. */
  'runs:synthesisPreview': { input: synthesisPreviewInput, result: returns<SynthesisPreview>() },
  /** Every trainable method (the registry), with its presets; needs no open workspace. */
  'runs:methods': { input: emptyInput, result: returns<MethodInfo[]>() },
  /**
   * A method's resolved config for a preset and overrides, or a ValidationError naming the bad
   * value (unknown method or preset, an override the method's schema refuses); needs no workspace.
   */
  'runs:resolveConfig': { input: resolveConfigInput, result: returns<ResolvedMethodConfig>() },
  /** The presets of a trainable method, every value with its source. */
  'runs:presets': { input: z.object({ method: z.string().min(1).max(100) }).strict(), result: returns<MethodPreset[]>() },
  /** A run's report: histograms, ROC / PRO curves (computed once, then cached in run_curves), gallery. */
  'runs:report': { input: z.object({ runId: idInput }).strict(), result: returns<RunReport>() },
  /** Renders one test image's anomaly map to a PNG heatmap under the run folder (once); returns its path. */
  /** Every run with its headline metrics, for the runs table (sorting and filtering happen in the view). */
  'runs:table': { input: emptyInput, result: returns<RunTableRow[]>() },
  /** Renames a run, sets its tags or notes. */
  'runs:update': { input: runUpdateInput, result: returns<RunInfo>() },
  /** Deletes a finished, failed or cancelled run with its rows and its folder; a queued or running one must be cancelled first. */
  'runs:delete': { input: z.object({ runId: idInput }).strict(), result: returns<{ runId: number }>() },
  /** Only what differs between two runs' settings. */
  'runs:diff': { input: z.object({ a: idInput, b: idInput }).strict(), result: returns<ConfigDiffEntry[]>() },
  'runs:heatmap': { input: z.object({ runId: idInput, relPath: z.string().min(1).max(1000) }).strict(), result: returns<{ path: string }>() },
} as const;

export const runEvents = {
  'runs:progress': returns<RunProgress>(),
  'runs:changed': returns<{ run: RunInfo }>(),
  /** A job wrote a checkpoint: a kill from now on loses at most the work since this step. */
  'runs:checkpoint': returns<{ runId: number; step: number }>(),
} as const;
