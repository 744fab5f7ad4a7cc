/**
 * What the desktop shows of running jobs outside the window (issue #8): the running job's progress
 * on the taskbar / dock icon, a system notification when a run ends, and no system sleep while a job
 * runs (a suspended laptop would stall a training run for hours). Driven only by the host's events
 * (`runs:progress`, `runs:changed`), so the same events the renderer gets; the Electron objects are
 * parameters so tests drive it with fakes.
 */
import type { LabHost } from '../core/host';
import type { RunProgress } from '../../shared/calls/runs';
import type { RunInfo } from '../../shared/types';

export interface ProgressWindowLike {
  isDestroyed(): boolean;
  /** Electron: 0..1 shows a bar, a negative value removes it. */
  setProgressBar(progress: number, options?: { mode: 'none' | 'normal' | 'indeterminate' | 'error' | 'paused' }): void;
}

export interface PowerSaveBlockerLike {
  start(type: 'prevent-app-suspension' | 'prevent-display-sleep'): number;
  stop(id: number): void;
  isStarted(id: number): boolean;
}

export interface NotifierLike {
  isSupported(): boolean;
  show(options: { title: string; body: string }): void;
}

export interface JobStatusDeps {
  host: Pick<LabHost, 'onEvent'>;
  window: () => ProgressWindowLike | null;
  powerSaveBlocker: PowerSaveBlockerLike;
  notifier: NotifierLike;
  logError?: (message: string, error: unknown) => void;
}

const ENDED = new Set(['done', 'failed', 'cancelled']);

/** The notification text of a run that ended; exported for tests. */
export function runEndedMessage(run: RunInfo): { title: string; body: string } {
  const what = `${run.name} (${run.method}${run.scenarios.length > 0 ? `, ${run.scenarios.join(', ')}` : ''})`;
  if (run.status === 'done') return { title: 'Run finished', body: `${what} is done.` };
  if (run.status === 'cancelled') return { title: 'Run cancelled', body: `${what} was cancelled.` };
  return { title: 'Run failed', body: `${what} failed${run.error ? `: ${run.error}` : '.'}` };
}

/** Starts tracking; returns the function that stops it (and releases the sleep blocker). */
export function trackJobStatus(deps: JobStatusDeps): () => void {
  const logError = deps.logError ?? ((message, error) => console.error(message, error));
  const running = new Set<number>();
  let blocker: number | null = null;

  const window = (): ProgressWindowLike | null => {
    const w = deps.window();
    return w !== null && !w.isDestroyed() ? w : null;
  };

  const sync = (): void => {
    if (running.size > 0 && blocker === null) {
      blocker = deps.powerSaveBlocker.start('prevent-app-suspension');
    } else if (running.size === 0 && blocker !== null) {
      if (deps.powerSaveBlocker.isStarted(blocker)) deps.powerSaveBlocker.stop(blocker);
      blocker = null;
      window()?.setProgressBar(-1, { mode: 'none' });
    }
  };

  const onProgress = (p: RunProgress): void => {
    if (!running.has(p.runId)) return;
    const w = window();
    if (w === null) return;
    if (p.total > 0) w.setProgressBar(Math.min(1, Math.max(0, p.step / p.total)), { mode: 'normal' });
    else w.setProgressBar(2, { mode: 'indeterminate' });
  };

  const onChanged = (run: RunInfo): void => {
    const was = running.has(run.id);
    if (run.status === 'running') running.add(run.id);
    else running.delete(run.id);
    if (was && ENDED.has(run.status) && deps.notifier.isSupported()) {
      deps.notifier.show(runEndedMessage(run));
    }
    sync();
  };

  const unsubscribe = deps.host.onEvent((event, payload) => {
    try {
      if (event === 'runs:progress') onProgress(payload as RunProgress);
      else if (event === 'runs:changed') onChanged((payload as { run: RunInfo }).run);
    } catch (error) {
      logError('[jobs] desktop status failed', error);
    }
  });

  return () => {
    unsubscribe();
    running.clear();
    sync();
  };
}
