/**
 * State of the Runs area: the workspace's runs (kept current by `runs:changed`), the latest
 * progress of each running one (`runs:progress`), and what the launch form offers (trainable job
 * kinds, their presets, datasets). Events are subscribed while the area is shown.
 */
import type { JobKindInfo, MethodPreset, RunProgress } from '../../../../shared/calls/runs';
import type { DatasetInfo, RunInfo } from '../../../../shared/types';
import { lab, onEvent } from '../api';
import { describeError } from '../app/errors';

/** Job kinds the launch form offers: those that train a method (runs:presets knows them). */
export const TRAINABLE_KINDS = ['patchcore'];

export const runsState = $state({
  loading: false,
  error: null as string | null,
  runs: [] as RunInfo[],
  progress: {} as Record<number, RunProgress>,
  kinds: [] as JobKindInfo[],
  presets: {} as Record<string, MethodPreset[]>,
  datasets: [] as DatasetInfo[],
  /** The run whose page is open; null shows the launch form and the list. */
  openRunId: null as number | null,
});

function upsert(run: RunInfo): void {
  const i = runsState.runs.findIndex((r) => r.id === run.id);
  if (i >= 0) runsState.runs[i] = run;
  else runsState.runs = [run, ...runsState.runs].sort((a, b) => b.id - a.id);
  if (run.status !== 'running') delete runsState.progress[run.id];
}

/** Subscribes to run events; returns the unsubscribe function (call it when the area goes). */
export function watchRuns(): () => void {
  const offProgress = onEvent('runs:progress', (p) => {
    runsState.progress[p.runId] = p;
  });
  const offChanged = onEvent('runs:changed', ({ run }) => upsert(run));
  return () => {
    offProgress();
    offChanged();
  };
}

export async function loadRuns(): Promise<void> {
  runsState.loading = true;
  try {
    const [runs, kinds, datasets] = await Promise.all([lab['runs:list']({}), lab['runs:kinds']({}), lab['datasets:list']({})]);
    runsState.runs = runs;
    runsState.kinds = kinds.filter((k) => TRAINABLE_KINDS.includes(k.name));
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

/** Adds a run the caller just started, before its `runs:changed` arrives. */
export function addRun(run: RunInfo): void {
  upsert(run);
}
