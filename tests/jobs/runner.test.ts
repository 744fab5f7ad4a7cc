/**
 * The job runner against real forked job processes (tests/jobs/fixtures/test-worker.ts): the
 * outcomes a job can have, each one ending its run with the right status and reason while the
 * host keeps answering calls.
 */
import { describe, expect, it } from 'vitest';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getRun } from '../../src/main/core/store/runs-repo';
import type { RunProgress } from '../../src/shared/calls/runs';
import type { RunDetail, RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { jobHost } from './helpers';

const tmp = useTmpDirs();

async function setup(options: Parameters<typeof jobHost>[2] = {}) {
  const root = await tmp();
  return jobHost(join(root, 'ws'), join(root, 'config'), options);
}

describe('job runner', () => {
  it('runs a job in its own process: queued → running → done, progress events, series and metrics rows', async () => {
    const t = await setup();
    const run = await t.start('count', { steps: 5, stepMs: 10 }, { name: 'five steps' });
    expect(run.status).toBe('queued');
    expect(run.name).toBe('five steps');
    const done = await t.waitForStatus(run.id, ['done', 'failed']);
    expect(done.error).toBeNull();
    expect(done.status).toBe('done');

    const statuses = t.events.filter((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id).map((e) => (e.payload as { run: RunInfo }).run.status);
    expect(statuses).toEqual(['queued', 'running', 'done']);
    const progress = t.events.filter((e) => e.event === 'runs:progress').map((e) => e.payload as RunProgress);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ runId: run.id, phase: 'counting', step: 5, total: 5, loss: 0.2 });
    expect(progress.at(-1)?.etaSeconds).toBe(0);

    const detail = (await t.host.invoke('runs:get', { runId: run.id })) as RunDetail;
    expect(detail.jobKind).toBe('count');
    expect(detail.startedAt).not.toBeNull();
    expect(detail.finishedAt).not.toBeNull();
    expect(detail.metrics).toEqual([{ scenario: '', defectType: '', metric: 'acc', value: expect.any(Number), threshold: null }]);
    const series = (await t.host.invoke('runs:series', { runId: run.id })) as Record<string, { step: number; value: number }[]>;
    expect(series.acc?.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]);
    expect(series.acc?.at(-1)?.value).toBe(detail.metrics[0]?.value);
    const written = JSON.parse(await readFile(join(t.lab().dir, 'runs', String(run.id), 'count.json'), 'utf8')) as { acc: number };
    expect(written.acc).toBe(detail.metrics[0]?.value);
    await t.host.close();
  });

  it('validates runs:start against the kind: unknown kinds and bad configs are refused before a run exists', async () => {
    const t = await setup();
    await expect(t.host.invoke('runs:start', { kind: 'nope', config: {} })).rejects.toThrow(/unknown job kind "nope"; kinds are .*count/);
    await expect(t.host.invoke('runs:start', { kind: 'count', config: { steps: -1 } })).rejects.toThrow(/invalid config for a count job: config\.steps/);
    await expect(t.host.invoke('runs:start', { kind: 'features', config: { datasetId: 99, scenario: 'metal_welding' } })).rejects.toThrow(/no dataset/i);
    expect(await t.host.invoke('runs:list', {})).toEqual([]);
    const kinds = (await t.host.invoke('runs:kinds', {})) as { name: string; tensors: boolean }[];
    expect(kinds.find((k) => k.name === 'features')).toMatchObject({ tensors: true });
    await t.host.close();
  });

  it('a job that throws fails its run with the message; the host keeps answering', async () => {
    const t = await setup();
    const run = await t.start('throw');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('boom: the test job threw on purpose');
    expect(((await t.host.invoke('app:info', {})) as { name: string }).name).toBe('MIAD Lab');
    await t.host.close();
  });

  it('a job whose results cannot be saved fails its run saying so, never done without a result.json (issue 20)', async () => {
    const t = await setup();
    const run = await t.start('count', { steps: 5, stepMs: 40 });
    // result.json's place is taken by a folder that is not empty: the atomic rename onto it fails.
    await mkdir(join(t.lab().dir, 'runs', String(run.id), 'result.json', 'in-the-way'), { recursive: true });
    await t.lab().jobs.waitForSettled(run.id);
    const info = getRun(t.lab().store, run.id);
    expect(info.status).toBe('failed');
    expect(info.error).toMatch(/^the job finished but its results could not be saved \(result\.json: /);
    await t.host.close();
  });

  it('a job that exits with code 3 fails naming the exit code', async () => {
    const t = await setup();
    const run = await t.start('exit');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.error).toMatch(/^the job process exited with exit code 3 before it finished/);
    expect(((await t.host.invoke('runs:list', {})) as RunInfo[])[0]?.status).toBe('failed');
    await t.host.close();
  });

  it('a job that runs out of heap fails naming memory', async () => {
    const t = await setup({ maxOldSpaceSizeMb: 96 });
    const run = await t.start('oom');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.error).toMatch(/^the job process ran out of memory \(.*V8 heap limit\)/);
    // The worker's dying words are kept in the run's log.
    expect(await readFile(join(t.lab().dir, 'runs', String(run.id), 'log.txt'), 'utf8')).toMatch(/heap/i);
    expect(((await t.host.invoke('app:info', {})) as { name: string }).name).toBe('MIAD Lab');
    await t.host.close();
  });

  it('a malformed message from the worker fails that job, not the app', async () => {
    const t = await setup();
    const run = await t.start('garbage');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.error).toMatch(/^the job process sent a malformed message \(progress\.phase: /);
    await t.lab().jobs.waitForExit(run.id);
    expect(t.lab().jobs.runningIds()).toEqual([]);
    await t.host.close();
  });

  it('kill -9 of the worker fails the run', async () => {
    const t = await setup();
    const run = await t.start('count', { steps: 200, stepMs: 20 });
    await t.waitFor((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === run.id, 'progress');
    // The host answers while the job runs in its own process.
    expect(((await t.host.invoke('runs:list', {})) as RunInfo[]).map((r) => r.status)).toEqual(['running']);
    process.kill(t.handles.get(run.id)!.pid!, 'SIGKILL');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.error).toMatch(/killed \(SIGKILL\)/);
    await t.host.close();
  });

  it('cancel mid-run: the job stops by itself and the run is cancelled; cancelling twice or a finished run is refused', async () => {
    const t = await setup();
    const run = await t.start('count', { steps: 500, stepMs: 20, checkpointEvery: 1000 });
    await t.waitFor((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === run.id, 'progress');
    await t.host.invoke('runs:cancel', { runId: run.id });
    const cancelled = await t.waitForStatus(run.id, ['cancelled', 'failed', 'done']);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.error).toBeNull();
    await expect(t.host.invoke('runs:cancel', { runId: run.id })).rejects.toThrow(/is cancelled: only a queued or running job can be cancelled/);
    await expect(t.host.invoke('runs:resume', { runId: run.id })).rejects.toThrow(/no checkpoint/);
    await t.host.close();
  });

  it('a job that ignores cancel is killed after the grace period and still ends cancelled', async () => {
    const t = await setup();
    const run = await t.start('stubborn');
    await t.waitFor((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === run.id, 'progress');
    await t.host.invoke('runs:cancel', { runId: run.id });
    expect((await t.waitForStatus(run.id, ['cancelled', 'failed', 'done'])).status).toBe('cancelled');
    await t.host.close();
  });

  it('one tensor job at a time: a second one waits queued while other jobs run; a queued one cancels at once', async () => {
    const t = await setup();
    const lab = t.lab();
    const a = await t.start('gpu-count', { steps: 400, stepMs: 20 });
    const b = await t.start('gpu-count', { steps: 3, stepMs: 5 });
    const c = await t.start('count', { steps: 400, stepMs: 20 });
    expect(lab.jobs.runningIds().sort()).toEqual([a.id, c.id]);
    expect(getRun(lab.store, b.id).status).toBe('queued');
    // The tensor job initialises a tfjs backend in its process and the run records it.
    await t.waitFor((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === a.id && (e.payload as { run: RunInfo }).run.backend !== null, 'backend');
    const detail = (await t.host.invoke('runs:get', { runId: a.id })) as RunDetail;
    expect(['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu', 'webgpu']).toContain(detail.backend);
    expect(detail.device).toBeTruthy();
    // Cancelling the running tensor job frees the slot: the queued one starts and finishes.
    await t.host.invoke('runs:cancel', { runId: a.id });
    expect((await t.waitForStatus(a.id, ['cancelled', 'failed', 'done'])).status).toBe('cancelled');
    expect((await t.waitForStatus(b.id, ['done', 'failed', 'cancelled'])).status).toBe('done');
    const d = await t.start('gpu-count', { steps: 400, stepMs: 20 });
    const e = await t.start('gpu-count', { steps: 400, stepMs: 20 });
    expect(getRun(lab.store, e.id).status).toBe('queued');
    expect(((await t.host.invoke('runs:cancel', { runId: e.id })) as RunInfo).status).toBe('cancelled');
    for (const r of [c, d]) await t.host.invoke('runs:cancel', { runId: r.id });
    for (const r of [c, d]) expect((await t.waitForStatus(r.id, ['cancelled', 'failed', 'done'])).status).toBe('cancelled');
    await t.host.close();
  });
});
