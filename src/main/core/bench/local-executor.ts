/**
 * Runs benchmarks whose execution is 'local' through this workspace's job runner: one cell at a
 * time per benchmark (the runner itself holds one tensor job at a time), each as an ordinary run
 * with the cell's seed. The runner's `runs:changed` events move the cells (cells.ts); when a cell's
 * run ends, the next pending cell starts.
 *
 * Resuming is the runner's recovery plus `resumeAll`: when the workspace opens, a benchmark left
 * `running` picks up where it stopped. Finished cells keep their runs; the cell whose run was
 * running continues from that run's checkpoint (the runner queues it again), or fails as
 * interrupted when it had none; pending cells follow.
 */
import type { BenchmarkDetail } from '../../../shared/calls/bench';
import type { RunInfo } from '../../../shared/types';
import type { JobEventSink, JobRunner } from '../jobs/runner';
import { benchmarkIdsIn, benchSpec, cellOfRun, getBenchmark } from '../store/bench-repo';
import { getRun } from '../store/runs-repo';
import type { Store } from '../store/store';
import { activeCells, attachRun, cancelBenchmark, cellsToRun, failCell, followRun, markRunning, settleIfFinished } from './cells';
import { cellOverrides, cellRunName, cellWeights, kindBlocked } from './plan';

export interface LocalExecutorDeps {
  store: Store;
  jobs: JobRunner;
  workspaceDir: string;
  emit: JobEventSink;
  /** The app's "force backend" setting, for a matrix that names no backend. */
  forcedBackend?: () => Promise<string | undefined>;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class LocalBenchExecutor {
  /** Advancing is serialised: two run events never start two cells of one benchmark. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: LocalExecutorDeps) {}

  private changed(benchmarkId: number): BenchmarkDetail {
    const benchmark = getBenchmark(this.deps.store, benchmarkId);
    this.deps.emit('bench:changed', { benchmark });
    return benchmark;
  }

  /** Called with every `runs:changed`: the cell the run fills follows it, and the benchmark moves on. */
  onRunChanged(run: RunInfo): void {
    if (this.closed) return;
    const cell = cellOfRun(this.deps.store, run.id);
    if (!cell) return;
    if (followRun(this.deps.store, cell.id, run)) this.changed(cell.benchmarkId);
    this.schedule(cell.benchmarkId);
  }

  async start(benchmarkId: number): Promise<BenchmarkDetail> {
    markRunning(this.deps.store, benchmarkId);
    const detail = this.changed(benchmarkId);
    this.schedule(benchmarkId);
    return detail;
  }

  async cancel(benchmarkId: number): Promise<BenchmarkDetail> {
    const runs = cancelBenchmark(this.deps.store, benchmarkId);
    for (const runId of runs) {
      // A run held by another process (the app beside a CLI) is left to it: nothing new starts after it.
      await this.deps.jobs.cancel(runId).catch(() => undefined);
    }
    return this.changed(benchmarkId);
  }

  /** When the workspace opens: every running benchmark's cells catch up with their runs, then it carries on. */
  resumeAll(): void {
    for (const id of benchmarkIdsIn(this.deps.store, 'running')) {
      let moved = false;
      for (const cell of activeCells(this.deps.store, id)) moved = followRun(this.deps.store, cell.id, getRun(this.deps.store, cell.runId!)) || moved;
      if (moved) this.changed(id);
      this.schedule(id);
    }
  }

  /** Resolves when every advance scheduled so far has run (tests, the CLI). */
  idle(): Promise<void> {
    return this.chain;
  }

  close(): void {
    this.closed = true;
  }

  private schedule(benchmarkId: number): void {
    this.chain = this.chain.then(() => this.advance(benchmarkId)).catch(() => undefined);
  }

  private async advance(benchmarkId: number): Promise<void> {
    const { store } = this.deps;
    for (;;) {
      if (this.closed) return;
      const { state, execution, spec, datasetId } = benchSpec(store, benchmarkId);
      if (state !== 'running' || execution !== 'local') return;
      if (activeCells(store, benchmarkId).length > 0) return;
      const next = cellsToRun(store, benchmarkId)[0];
      if (!next) {
        if (settleIfFinished(store, benchmarkId)) this.changed(benchmarkId);
        return;
      }
      const weights = await cellWeights(this.deps.workspaceDir, spec, next);
      const blocked = kindBlocked(next.method, this.deps.jobs.listKinds().map((k) => k.name)) ?? weights.blocked;
      if (this.closed) return;
      if (blocked) {
        failCell(store, next.id, `cannot run here: ${blocked}`);
        this.changed(benchmarkId);
        continue;
      }
      const overrides = cellOverrides(spec, next);
      let runId: number;
      try {
        const backend = spec.backend ?? (await this.deps.forcedBackend?.());
        const run = await this.deps.jobs.start({
          kind: next.method,
          name: cellRunName(benchmarkId, next),
          config: {
            datasetId,
            ...(next.scenarios.length > 1 ? { scenarios: next.scenarios } : { scenario: next.scenarios[0] }),
            preset: next.preset,
            ...(Object.keys(overrides).length ? { overrides } : {}),
            ...(weights.file ? { weightsFile: weights.file } : {}),
          },
          backend,
          // Attached in the run's own insert transaction: a kill cannot leave a run without its cell.
          onCreated: (id) => attachRun(store, next.id, { id, status: 'queued', error: null }),
        });
        runId = run.id;
      } catch (error) {
        if (this.closed) return;
        failCell(store, next.id, `its run could not start: ${message(error)}`);
        this.changed(benchmarkId);
        continue;
      }
      if (this.closed) return;
      // The run moved (queued → running) as it was scheduled: the cell takes its state now.
      followRun(store, next.id, getRun(store, runId));
      this.changed(benchmarkId);
      // Cancelled while its run was being made: that run goes too.
      if (benchSpec(store, benchmarkId).state === 'cancelled') await this.deps.jobs.cancel(runId).catch(() => undefined);
      return;
    }
  }
}
