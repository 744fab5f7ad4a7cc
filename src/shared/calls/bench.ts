/**
 * Calls about benchmarks (issue 18): a matrix of methods × scenarios × seeds × presets kept in the
 * workspace, each cell filled by one run. A method that trains one model over several scenarios
 * (UniAD, `unified`) has ONE cell per seed and preset spanning every scenario of the matrix.
 * `bench:create` stores the matrix (nothing runs), `bench:estimate` says what it will cost and which
 * cells cannot run here, `bench:start` runs it (in this process: `execution` 'local', resumable
 * across restarts; or on a Redis queue's worker hosts: `execution` 'queue', given the queue's URL); `bench:table` is the paper's table of its finished cells.
 */
import { z } from 'zod';
import type { PaperTable } from '../calls/compare';
import { idInput, returns } from './define';
import { JOB_BACKENDS } from './runs';

export const BENCH_CELL_STATES = ['pending', 'queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type BenchCellState = (typeof BENCH_CELL_STATES)[number];

/** created: stored, not started · running: cells are being run · done: no cell left to run · cancelled. */
export const BENCH_STATES = ['created', 'running', 'done', 'cancelled'] as const;
export type BenchState = (typeof BENCH_STATES)[number];

/** Who runs the cells: 'local' is this process's job runner; 'queue' the worker hosts of a Redis queue (`miad-lab worker`). */
export const BENCH_EXECUTIONS = ['local', 'queue'] as const;
export type BenchExecution = (typeof BENCH_EXECUTIONS)[number];

const name = z.string().trim().min(1).max(100);

export const benchCreateInput = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    /** The dataset whose scenarios the cells run on; the only one holding them all when absent. */
    datasetId: idInput.optional(),
    methods: z.array(name).min(1, 'choose at least one method').max(16),
    scenarios: z.array(name).min(1, 'choose at least one scenario').max(64),
    /** Presets every method runs with (each must exist for each method). */
    presets: z.array(name).min(1, 'choose at least one preset').max(8),
    /** Seeds; absent: one cell per preset with the preset's own seed. */
    seeds: z.array(z.number().int().min(0).max(2 ** 31 - 1)).min(1, 'give at least one seed').max(16).optional(),
    /** Per method: values replacing the preset's, checked by the method's own schema. */
    overrides: z.record(name, z.record(z.string(), z.unknown())).optional(),
    /**
     * 'pretrained': a method with a backbone needs that backbone's pretrained weights in the
     * workspace's cache (a cell without them cannot run); 'random': seeded random backbones (demos, tests).
     */
    weights: z.enum(['pretrained', 'random']).default('pretrained'),
    backend: z.enum(JOB_BACKENDS).optional(),
    execution: z.enum(BENCH_EXECUTIONS).default('local'),
  })
  .strict();

export const benchIdInput = z.object({ benchmarkId: idInput }).strict();

/** `redis://user:password@host:port` (or rediss://) of the coordinator's queue user; held in memory, never stored. */
export const queueUrlInput = z
  .string()
  .trim()
  .max(2000)
  .regex(/^rediss?:\/\/\S+$/, 'a queue URL looks like redis://user:password@host:port');

export const benchStartInput = z.object({ benchmarkId: idInput, queue: queueUrlInput.optional() }).strict();

export interface BenchCell {
  id: number;
  method: string;
  /** One scenario; several for a unified cell. */
  scenarios: string[];
  seed: number;
  preset: string;
  state: BenchCellState;
  /** Why it failed or was cancelled. */
  reason: string | null;
  runId: number | null;
}

export interface BenchmarkInfo {
  id: number;
  name: string;
  datasetId: number;
  state: BenchState;
  execution: BenchExecution;
  methods: string[];
  scenarios: string[];
  presets: string[];
  seeds: number[] | null;
  overrides: Record<string, Record<string, unknown>>;
  weights: 'pretrained' | 'random';
  backend: string | null;
  createdAt: string;
  /** Cells per state. */
  counts: Record<BenchCellState, number>;
  total: number;
}

export interface BenchmarkDetail extends BenchmarkInfo {
  cells: BenchCell[];
}

/** A cell's cost before launch, or why it cannot run here. */
export interface BenchCellEstimate {
  cellId: number;
  method: string;
  scenarios: string[];
  seed: number;
  preset: string;
  /** Training seconds on the backend (runs:estimate's rule); null when it cannot run. */
  seconds: number | null;
  speedSource: 'measured' | 'assumed' | null;
  /** Bytes of the run's anomaly maps (fp16, one per test image). */
  mapBytes: number;
  /** Why the cell cannot run here; null when it can. */
  blocked: string | null;
}

export interface BenchEstimate {
  benchmarkId: number;
  backend: string;
  cells: BenchCellEstimate[];
  /** Of the cells that can run and are not finished. */
  totalSeconds: number;
  mapBytes: number;
  /** The frozen-feature cache the backbone methods fill (shared by cells with one backbone, size and scenario). */
  cacheBytes: number;
  blocked: number;
  /** The estimate in a few lines (the CLI prints them). */
  text: string[];
}

export interface BenchTable {
  benchmarkId: number;
  /** One paper table per preset: cells are the mean over seeds (± std when several). */
  presets: { preset: string; paper: PaperTable }[];
  /** The runs of finished cells (compare view). */
  runIds: number[];
}

export const benchCalls = {
  'bench:list': { input: z.object({}).strict(), result: returns<BenchmarkInfo[]>() },
  'bench:get': { input: benchIdInput, result: returns<BenchmarkDetail>() },
  /** Stores a matrix (nothing runs yet); every method, scenario, preset and override is checked first. */
  'bench:create': { input: benchCreateInput, result: returns<BenchmarkDetail>() },
  /** Per-cell time on the backend, disk for maps and caches, and the cells that cannot run here, with why. */
  'bench:estimate': { input: z.object({ benchmarkId: idInput, backend: z.enum(JOB_BACKENDS).optional() }).strict(), result: returns<BenchEstimate>() },
  /**
   * Runs the pending cells: one after another in this process ('local'; resumes after a restart),
   * or enqueued on the queue at `queue` ('queue'; starting it again reconnects and merges what finished).
   */
  'bench:start': { input: benchStartInput, result: returns<BenchmarkDetail>() },
  /** Cancels the running cell's run and every pending cell. */
  'bench:cancel': { input: benchIdInput, result: returns<BenchmarkDetail>() },
  'bench:table': { input: benchIdInput, result: returns<BenchTable>() },
} as const;

export const benchEvents = {
  /** A benchmark or one of its cells changed state. */
  'bench:changed': returns<{ benchmark: BenchmarkDetail }>(),
} as const;
