/**
 * Calls about runs: our own (jobs that run in their own process: `runs:start`, `runs:cancel`,
 * `runs:resume`) and external ones (`miad-lab evaluate --workspace`). Events stream a running
 * job's progress and every change of a run's status.
 */
import { z } from 'zod';
import type { RunDetail, RunInfo } from '../types';
import { emptyInput, idInput, returns } from './define';

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

export const runCalls = {
  'runs:list': { input: emptyInput, result: returns<RunInfo[]>() },
  'runs:get': { input: z.object({ runId: idInput }).strict(), result: returns<RunDetail>() },
  'runs:kinds': { input: emptyInput, result: returns<JobKindInfo[]>() },
  /** Queues a job; it starts as soon as a slot is free. */
  'runs:start': { input: runStartInput, result: returns<RunInfo>() },
  /** A queued run is cancelled at once; a running one is asked to stop, then killed after a grace period. */
  'runs:cancel': { input: z.object({ runId: idInput }).strict(), result: returns<RunInfo>() },
  /** Queues a failed or cancelled run again, to continue from its latest checkpoint. */
  'runs:resume': { input: z.object({ runId: idInput }).strict(), result: returns<RunInfo>() },
  /** A run's curves (loss per step, …), by series name. */
  'runs:series': { input: z.object({ runId: idInput }).strict(), result: returns<Record<string, { step: number; value: number }[]>>() },
} as const;

export const runEvents = {
  'runs:progress': returns<RunProgress>(),
  'runs:changed': returns<{ run: RunInfo }>(),
  /** A job wrote a checkpoint: a kill from now on loses at most the work since this step. */
  'runs:checkpoint': returns<{ runId: number; step: number }>(),
} as const;
