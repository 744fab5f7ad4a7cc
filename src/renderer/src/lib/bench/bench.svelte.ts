/**
 * State of the Benchmarks area: the workspace's benchmarks (`bench:list`), the open one with its
 * cells (kept current by `bench:changed`), its estimate before launch, its table as its cells
 * finish (`bench:table`), and the latest progress of the runs filling its cells (`runs:progress`).
 * Events are subscribed while the area is shown.
 */
import type { BenchEstimate, BenchmarkDetail, BenchmarkInfo, BenchTable } from '../../../../shared/calls/bench';
import type { JobKindInfo, RunProgress } from '../../../../shared/calls/runs';
import type { DatasetInfo } from '../../../../shared/types';
import { lab, onEvent } from '../api';
import { describeError } from '../app/errors';

export const benchState = $state({
  list: [] as BenchmarkInfo[],
  kinds: [] as JobKindInfo[],
  datasets: [] as DatasetInfo[],
  /** The open benchmark; null shows the list and the forms. */
  openId: null as number | null,
  detail: null as BenchmarkDetail | null,
  estimate: null as BenchEstimate | null,
  estimateError: null as string | null,
  table: null as BenchTable | null,
  progress: {} as Record<number, RunProgress>,
  /** Showing the compare view on the open benchmark's runs. */
  comparing: false,
  error: null as string | null,
});

export async function loadBenchmarks(): Promise<void> {
  try {
    const [list, kinds, datasets] = await Promise.all([lab['bench:list']({}), lab['runs:kinds']({}), lab['datasets:list']({})]);
    benchState.list = list;
    benchState.kinds = kinds.filter((k) => k.method !== null);
    benchState.datasets = datasets;
    benchState.error = null;
  } catch (error) {
    benchState.error = describeError(error);
  }
}

async function loadTable(id: number): Promise<void> {
  try {
    const table = await lab['bench:table']({ benchmarkId: id });
    if (benchState.openId === id) benchState.table = table;
  } catch (error) {
    benchState.error = describeError(error);
  }
}

async function loadEstimate(id: number, refresh = false): Promise<void> {
  if (!refresh) benchState.estimate = null;
  benchState.estimateError = null;
  try {
    const estimate = await lab['bench:estimate']({ benchmarkId: id });
    if (benchState.openId === id) benchState.estimate = estimate;
  } catch (error) {
    if (benchState.openId === id) benchState.estimateError = describeError(error);
  }
}

export async function openBenchmark(id: number): Promise<void> {
  benchState.openId = id;
  benchState.comparing = false;
  benchState.detail = null;
  benchState.table = null;
  try {
    benchState.detail = await lab['bench:get']({ benchmarkId: id });
  } catch (error) {
    benchState.error = describeError(error);
    return;
  }
  await Promise.all([loadEstimate(id), loadTable(id)]);
}

export function closeBenchmark(): void {
  benchState.openId = null;
  benchState.detail = null;
  benchState.estimate = null;
  benchState.table = null;
  benchState.comparing = false;
  void loadBenchmarks();
}

function applyChange(b: BenchmarkDetail): void {
  const at = benchState.list.findIndex((x) => x.id === b.id);
  if (at >= 0) benchState.list[at] = b;
  else benchState.list = [b, ...benchState.list];
  if (benchState.openId !== b.id) return;
  const before = benchState.detail;
  benchState.detail = b;
  // The table grows as cells finish.
  if (!before || before.counts.done !== b.counts.done) {
    void loadTable(b.id);
    // What is left costs less now (and a finished run may have measured a speed).
    if (b.state === 'running') void loadEstimate(b.id, true);
  }
}

export function watchBenchmarks(): () => void {
  const offChanged = onEvent('bench:changed', ({ benchmark }) => applyChange(benchmark));
  const offProgress = onEvent('runs:progress', (p) => {
    if (benchState.detail?.cells.some((c) => c.runId === p.runId)) benchState.progress[p.runId] = p;
  });
  return () => {
    offChanged();
    offProgress();
  };
}
