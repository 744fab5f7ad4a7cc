/**
 * Job kinds: what a run of each kind needs (its config schema, what it records, whether it holds
 * the tensor backend) and, loaded only inside the job process, the code that does the work.
 *
 * A kind is split in two halves on purpose. `prepare` runs in the main process, which owns the
 * database: it resolves the config into the run row's fields and the job's input (e.g. the list
 * of images), so the worker never reads or writes SQLite. `load` is a dynamic import that only
 * the worker calls, so the main process never loads tfjs.
 */
import type { z } from 'zod';
import type { Store } from '../store/store';
import type { JobProgress, JobResult } from './protocol';

/** What a prepared job records in its run row and hands its worker. */
export interface PreparedJob {
  /** The run's method column: the kind's name, or the method it trains. */
  method: string;
  scenarios: string[];
  datasetId: number | null;
  datasetRoot: string | null;
  weights: string | null;
  randomInit: boolean;
  /** Sent to the worker with the start message; not stored (it can be large, and is recomputed on resume). */
  input: unknown;
}

export interface PrepareEnv {
  store: Store;
  workspaceDir: string;
}

/** A checkpoint: JSON state plus named binary blobs (weights, optimiser moments, partial outputs). */
export interface CheckpointData {
  step: number;
  state: unknown;
  blobs?: Record<string, Uint8Array>;
}

/** What the worker gives a running job. */
export interface JobContext {
  runId: number;
  workspaceDir: string;
  /** `<workspace>/runs/<id>`: the job's own folder for outputs. */
  runDir: string;
  /** Aborted when the main process asks to cancel. */
  signal: AbortSignal;
  /** Throws an Error named AbortError when cancelled; call it between steps. */
  throwIfCancelled(): void;
  /**
   * Reports progress. `images` (images processed since this process started the job) lets the
   * context compute images/s; the ETA comes from the step rate since the job (re)started.
   */
  progress(p: Omit<JobProgress, 'imagesPerSec' | 'etaSeconds'> & { images?: number }): void;
  /** One point of a curve (loss per epoch, …): the main process stores it in run_series. */
  series(name: string, step: number, value: number): void;
  /** Writes a checkpoint atomically under `runs/<id>/checkpoints/` and tells the main process. */
  checkpoint(data: CheckpointData): Promise<void>;
  /** The latest checkpoint of this run, when it is resuming; null for a fresh start. */
  resumeState(): Promise<CheckpointData | null>;
  /** The tfjs backend chosen for this job; null for kinds that use none. */
  backend: { name: string; tfName: string } | null;
}

export type JobImplementation<C> = (config: C, input: unknown, ctx: JobContext) => Promise<JobResult>;

export interface JobKind<C = unknown> {
  name: string;
  /** One line for the UI and --help. */
  summary: string;
  /** Set for the kinds that run a method of the method registry (methods/registry.ts): what the launch form offers. */
  method?: { title: string; training: 'one-pass' | 'trained'; backbone: boolean; unified?: boolean };
  schema: z.ZodType<C>;
  /** Holds the tensor backend (and the GPU when there is one): at most `gpuConcurrency` run at once. */
  tensors: boolean;
  prepare(config: C, env: PrepareEnv): PreparedJob | Promise<PreparedJob>;
  /**
   * Main process, when the job reports done: stores what the kind computed beyond metrics and
   * curves (a training-set check's scores), inside the transaction that marks the run done, so a
   * run is done with all of it or not at all. Throwing fails the run with the message.
   */
  finish?(runId: number, result: JobResult, env: PrepareEnv): void;
  load(): Promise<JobImplementation<C>>;
}

// The registry stores kinds of different config types side by side; the runner parses each
// config with its own kind's schema before handing it back to that kind, so erasing C is safe.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobKind = JobKind<any>;
export type JobKindRegistry = Readonly<Record<string, AnyJobKind>>;

export function defineKind<C>(kind: JobKind<C>): JobKind<C> {
  return kind;
}
