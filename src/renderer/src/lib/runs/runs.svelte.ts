/**
 * State of the Runs area: the workspace's runs as table rows (`runs:table`, kept current by
 * `runs:changed` and reloaded when a run ends so its metrics appear), the latest progress of each
 * running one (`runs:progress`), what the launch form offers (trainable job kinds, their presets,
 * datasets), the table's checkbox selection, and which view shows (list, a run's page, the
 * comparison of the selected runs). Events are subscribed while the area is shown. Progress events
 * that carry a `loss` also grow each running run's live loss series (loss-series.ts), bounded so a
 * long training run stays cheap to chart.
 */
import type { JobKindInfo, MethodPreset, RunProgress, RunTableRow } from '../../../../shared/calls/runs';
import type { DatasetInfo, RunInfo } from '../../../../shared/types';
import { lab, onEvent } from '../api';
import { describeError } from '../app/errors';
import { appendLive, EMPTY_LIVE, type LiveSeries } from './loss-series';
import { keepExisting, mergeRun, withIds } from './runs-table';

export const runsState = $state({
  loading: false,
  error: null as string | null,
  progress: {} as Record<number, RunProgress>,
  kinds: [] as JobKindInfo[],
  presets: {} as Record<string, MethodPreset[]>,
  datasets: [] as DatasetInfo[],
  /** The run whose page is open; null shows the launch form and the table (or the comparison). */
  openRunId: null as number | null,
  /** The runs being compared; null shows the table. */
  compareIds: null as number[] | null,
});

/**
 * The rows themselves are raw state (replaced, never mutated): 1,000 runs of 20 fields each
 * would otherwise become 20,000 proxies the first time the table sorts them.
 */
class RunRows {
  rows = $state.raw<RunTableRow[]>([]);
  /** Checked rows of the table: run ids, ascending. */
  selected = $state.raw<readonly number[]>([]);
}

export const runRows = new RunRows();

/**
 * Live loss of the runs running now, by run id: raw state, replaced on each event (≤ LIVE_CAP
 * points, ≤ 10 events a second), dropped when the run ends (its page then reads `runs:series`).
 */
class LiveLoss {
  byRun = $state.raw<Readonly<Record<number, LiveSeries>>>({});
}

export const liveLoss = new LiveLoss();

/** Adds a progress report's loss to its run's live series; a report without loss changes nothing. */
export function recordProgress(p: RunProgress): void {
  runsState.progress[p.runId] = p;
  if (p.loss === undefined) return;
  const before = liveLoss.byRun[p.runId] ?? EMPTY_LIVE;
  const after = appendLive(before, p.step, p.loss);
  if (after !== before) liveLoss.byRun = { ...liveLoss.byRun, [p.runId]: after };
}

function dropLive(runId: number): void {
  if (!(runId in liveLoss.byRun)) return;
  const { [runId]: _gone, ...rest } = liveLoss.byRun;
  liveLoss.byRun = rest;
}

let reloadTimer: ReturnType<typeof setTimeout> | null = null;

/** Reloads the rows soon (coalescing a burst of events): a finished run brings its metrics. */
function reloadSoon(): void {
  if (reloadTimer) clearTimeout(reloadTimer);
  reloadTimer = setTimeout(() => {
    reloadTimer = null;
    void loadTable();
  }, 150);
}

function upsert(run: RunInfo): void {
  const before = runRows.rows.find((r) => r.id === run.id);
  runRows.rows = mergeRun(runRows.rows, run);
  if (run.status !== 'running') {
    delete runsState.progress[run.id];
    dropLive(run.id);
  }
  if (before && before.status !== run.status && run.status !== 'queued' && run.status !== 'running') reloadSoon();
}

/** Subscribes to run events; returns the unsubscribe function (call it when the area goes). */
export function watchRuns(): () => void {
  const offProgress = onEvent('runs:progress', recordProgress);
  const offChanged = onEvent('runs:changed', ({ run }) => upsert(run));
  return () => {
    offProgress();
    offChanged();
    if (reloadTimer) clearTimeout(reloadTimer);
    reloadTimer = null;
  };
}

/** The table's rows alone (after an edit elsewhere, or a run ended). */
export async function loadTable(): Promise<void> {
  try {
    const rows = await lab['runs:table']({});
    runRows.rows = rows.sort((a, b) => b.id - a.id);
    const kept = keepExisting(runRows.selected, rows);
    if (kept.length !== runRows.selected.length) runRows.selected = kept;
    runsState.error = null;
  } catch (error) {
    runsState.error = describeError(error);
  }
}

export async function loadRuns(): Promise<void> {
  runsState.loading = true;
  try {
    const [rows, kinds, datasets] = await Promise.all([lab['runs:table']({}), lab['runs:kinds']({}), lab['datasets:list']({})]);
    runRows.rows = rows.sort((a, b) => b.id - a.id);
    // The launch form offers the kinds that run a method of the registry (runs:presets knows them).
    runsState.kinds = kinds.filter((k) => k.method !== null);
    runsState.datasets = datasets;
    for (const k of runsState.kinds) {
      if (!runsState.presets[k.name]) runsState.presets[k.name] = await lab['runs:presets']({ method: k.name });
    }
    runsState.error = null;
  } catch (error) {
    runsState.error = describeError(error);
  } finally {
    runsState.loading = false;
  }
}

/**
 * Shows a run a call just returned (runs:start, runs:cancel, runs:resume) when its `runs:changed`
 * has not arrived yet. A row the events already hold is left alone: the call's answer can be older
 * than an event that overtook it (a job already `running` when runs:start answers `queued`, or
 * already `cancelled` when runs:cancel answers `running`), and the events carry every change.
 */
export function addRun(run: RunInfo): void {
  if (runRows.rows.some((r) => r.id === run.id)) return;
  upsert(run);
}

/** Replaces one run's fields after an edit (`runs:update`). */
export function updateRun(run: RunInfo): void {
  runRows.rows = mergeRun(runRows.rows, run);
}

export function removeRun(runId: number): void {
  runRows.rows = runRows.rows.filter((r) => r.id !== runId);
  if (runRows.selected.includes(runId)) setSelected(runId, false);
}

export function setSelected(runId: number, on: boolean): void {
  runRows.selected = withIds(runRows.selected, [runId], on);
}

/** Checks or unchecks many runs at once (the header checkbox). */
export function setMany(ids: Iterable<number>, on: boolean): void {
  runRows.selected = withIds(runRows.selected, ids, on);
}

export function clearSelection(): void {
  runRows.selected = [];
}

export function runById(runId: number): RunTableRow | undefined {
  return runRows.rows.find((r) => r.id === runId);
}
