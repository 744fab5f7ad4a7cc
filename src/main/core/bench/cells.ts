/**
 * The one place a benchmark cell changes state (pending → queued → running → done | failed |
 * cancelled, with a reason) and a benchmark moves created → running → done | cancelled. Whatever
 * executes cells calls these: the local executor (local-executor.ts) as its job runner's runs move,
 * and a queue executor as it merges a remote result. Each function is one transaction and is
 * idempotent: applying the same run's status twice changes nothing the second time.
 */
import type { BenchCell, BenchCellState } from '../../../shared/calls/bench';
import { LabError } from '../../../shared/errors';
import type { RunInfo } from '../../../shared/types';
import { benchSpec, getCell, listCells, setBenchmarkState, updateCell } from '../store/bench-repo';
import type { Store } from '../store/store';

export const ACTIVE_CELL: readonly BenchCellState[] = ['queued', 'running'];
export const ENDED_CELL: readonly BenchCellState[] = ['done', 'failed', 'cancelled'];

/** The cells still to start, in run order. */
export function cellsToRun(store: Store, benchmarkId: number): BenchCell[] {
  return listCells(store, benchmarkId).filter((c) => c.state === 'pending');
}

/** The cells whose run is queued or running. */
export function activeCells(store: Store, benchmarkId: number): BenchCell[] {
  return listCells(store, benchmarkId).filter((c) => ACTIVE_CELL.includes(c.state));
}

/** A run's status as its cell's state (a run that failed or was cancelled says why). */
function stateOfRun(run: Pick<RunInfo, 'status' | 'error'>): { state: BenchCellState; reason: string | null } {
  switch (run.status) {
    case 'queued':
    case 'running':
    case 'done':
      return { state: run.status, reason: null };
    case 'failed':
      return { state: 'failed', reason: run.error ?? 'the run failed' };
    case 'cancelled':
      return { state: 'cancelled', reason: run.error ?? 'its run was cancelled' };
  }
}

/** Attaches the run that fills a pending cell, taking the run's state. */
export function attachRun(store: Store, cellId: number, run: Pick<RunInfo, 'id' | 'status' | 'error'>): void {
  store.transaction(() => {
    const cell = getCell(store, cellId);
    if (cell.runId !== null && cell.runId !== run.id) throw new LabError(`cell ${cellId} already holds run ${cell.runId}`, 'ConflictError');
    const { state, reason } = stateOfRun(run);
    updateCell(store, cellId, state, reason, run.id);
  });
}

/** The cell's state follows its run's; returns whether it moved. */
export function followRun(store: Store, cellId: number, run: Pick<RunInfo, 'id' | 'status' | 'error'>): boolean {
  return store.transaction(() => {
    const cell = getCell(store, cellId);
    if (cell.runId !== run.id) return false;
    const next = stateOfRun(run);
    if (cell.state === next.state && cell.reason === next.reason) return false;
    updateCell(store, cellId, next.state, next.reason);
    return true;
  });
}

/** A cell that cannot run, or whose run could not be made, fails with the reason. */
export function failCell(store: Store, cellId: number, reason: string): void {
  updateCell(store, cellId, 'failed', reason);
}

/** Marks a benchmark running (from created, done or cancelled: a restart runs what is left). */
export function markRunning(store: Store, benchmarkId: number): void {
  store.transaction(() => {
    const { state } = benchSpec(store, benchmarkId);
    if (state === 'cancelled') {
      // Starting a cancelled benchmark again runs its cancelled cells that never got a run.
      for (const c of listCells(store, benchmarkId)) if (c.state === 'cancelled' && c.runId === null) updateCell(store, c.id, 'pending', null);
    }
    setBenchmarkState(store, benchmarkId, 'running');
  });
}

/** Cancels every pending cell and the benchmark; returns the runs of its active cells, for the executor to cancel. */
export function cancelBenchmark(store: Store, benchmarkId: number, reason = 'the benchmark was cancelled'): number[] {
  return store.transaction(() => {
    benchSpec(store, benchmarkId);
    const runs: number[] = [];
    for (const c of listCells(store, benchmarkId)) {
      if (c.state === 'pending') updateCell(store, c.id, 'cancelled', reason);
      else if (ACTIVE_CELL.includes(c.state) && c.runId !== null) runs.push(c.runId);
    }
    setBenchmarkState(store, benchmarkId, 'cancelled');
    return runs;
  });
}

/** A running benchmark with nothing pending or active is done; returns whether it just finished. */
export function settleIfFinished(store: Store, benchmarkId: number): boolean {
  return store.transaction(() => {
    const { state } = benchSpec(store, benchmarkId);
    if (state !== 'running') return false;
    if (listCells(store, benchmarkId).some((c) => c.state === 'pending' || ACTIVE_CELL.includes(c.state))) return false;
    setBenchmarkState(store, benchmarkId, 'done');
    return true;
  });
}
