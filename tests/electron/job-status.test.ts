import { resolve } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunInfo } from '../../src/shared/types';
import { FakeHost } from './fake-host';
import { resetFakeElectron } from './fake-electron';

vi.mock('electron', () => import('./fake-electron'));

const fake = await import('./fake-electron');
const { startDesktopApp } = await import('../../src/main/electron/app');
const { runEndedMessage } = await import('../../src/main/electron/job-status');

function run(id: number, status: RunInfo['status'], error: string | null = null): RunInfo {
  return {
    id,
    name: `run ${id}`,
    kind: 'internal',
    method: 'patchcore',
    scenarios: ['wind_turbine'],
    status,
    error,
    backend: 'wasm',
    weights: 'random',
    randomInit: true,
    createdAt: '2026-11-28T00:00:00Z',
    finishedAt: null,
    tags: [],
    notes: '',
  };
}

async function startApp() {
  const host = new FakeHost();
  const desktop = startDesktopApp({ createHost: () => host, mainDir: resolve('/opt/miad-lab/out/main'), env: {}, platform: 'linux', logError: () => {} });
  await desktop.ready;
  const window = fake.BrowserWindow.instances[0]!;
  return { host, window };
}

beforeEach(() => resetFakeElectron());

describe('desktop job status', () => {
  it('shows progress on the taskbar, blocks sleep while a job runs and notifies when it ends', async () => {
    const { host, window } = await startApp();
    expect(fake.calls.blockers.size).toBe(0);

    host.emit('runs:changed', { run: run(1, 'queued') });
    expect(fake.calls.blockers.size).toBe(0);
    host.emit('runs:changed', { run: run(1, 'running') });
    expect([...fake.calls.blockers.values()]).toEqual(['prevent-app-suspension']);

    host.emit('runs:progress', { runId: 1, phase: 'features', step: 5, total: 20 });
    host.emit('runs:progress', { runId: 1, phase: 'coreset', step: 0, total: 0 });
    // Progress of a run this process never saw start (another window's stale event) is ignored.
    host.emit('runs:progress', { runId: 9, phase: 'features', step: 1, total: 2 });
    expect(window.progress).toEqual([
      { value: 0.25, mode: 'normal' },
      { value: 2, mode: 'indeterminate' },
    ]);

    host.emit('runs:changed', { run: run(1, 'done') });
    expect(fake.calls.blockers.size).toBe(0);
    expect(window.progress.at(-1)).toEqual({ value: -1, mode: 'none' });
    expect(fake.calls.notifications).toEqual([{ title: 'Run finished', body: 'run 1 (patchcore, wind_turbine) is done.' }]);
  });

  it('keeps one blocker for two running jobs and releases it only when both ended', async () => {
    const { host } = await startApp();
    host.emit('runs:changed', { run: run(1, 'running') });
    host.emit('runs:changed', { run: run(2, 'running') });
    expect(fake.calls.blockers.size).toBe(1);
    host.emit('runs:changed', { run: run(1, 'failed', 'out of memory') });
    expect(fake.calls.blockers.size).toBe(1);
    host.emit('runs:changed', { run: run(2, 'cancelled') });
    expect(fake.calls.blockers.size).toBe(0);
    expect(fake.calls.notifications.map((n) => n.title)).toEqual(['Run failed', 'Run cancelled']);
    expect(fake.calls.notifications[0]!.body).toContain('out of memory');
  });

  it('does not notify for runs that ended without running here, or where notifications are unsupported', async () => {
    fake.calls.notificationsSupported = false;
    const { host } = await startApp();
    host.emit('runs:changed', { run: run(3, 'cancelled') });
    host.emit('runs:changed', { run: run(4, 'running') });
    host.emit('runs:changed', { run: run(4, 'done') });
    expect(fake.calls.notifications).toEqual([]);
  });

  it('releases the blocker when the app quits with a job running', async () => {
    const { host } = await startApp();
    host.emit('runs:changed', { run: run(5, 'running') });
    expect(fake.calls.blockers.size).toBe(1);
    fake.app.emitPreventable('will-quit');
    expect(fake.calls.blockers.size).toBe(0);
  });

  it('words the three endings', () => {
    expect(runEndedMessage(run(1, 'failed')).body).toBe('run 1 (patchcore, wind_turbine) failed.');
  });
});
