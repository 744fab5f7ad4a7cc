/**
 * Checkpoints and resuming: a job killed mid-way resumes from its checkpoint (by `runs:resume`, or
 * by itself when the workspace opens after the app died) and ends with the same result as a run
 * that was never interrupted.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INTERRUPTED_APP } from '../../src/main/core/jobs/runner';
import { createLab, type Lab } from '../../src/main/core/lab';
import { nodeSpawner, type SpawnWorker } from '../../src/main/core/jobs/spawn';
import { getRun, insertJobRun, setRunStatus } from '../../src/main/core/store/runs-repo';
import type { RunProgress } from '../../src/shared/calls/runs';
import type { RunDetail, RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { jobHost, KINDS, TEST_WORKER } from './helpers';

const tmp = useTmpDirs();
const CONFIG = { steps: 24, stepMs: 15, checkpointEvery: 4 };

async function result(dir: string, runId: number) {
  return JSON.parse(await readFile(join(dir, 'runs', String(runId), 'count.json'), 'utf8')) as { acc: number; visited: number[] };
}

describe('checkpoint and resume', () => {
  it('a run killed after a checkpoint resumes with runs:resume and ends as an uninterrupted run does', async () => {
    const root = await tmp();
    const t = await jobHost(join(root, 'ws'), join(root, 'config'));
    const dir = t.lab().dir;
    const straight = await t.start('count', CONFIG);
    expect((await t.waitForStatus(straight.id, ['done', 'failed'])).status).toBe('done');
    const expected = await result(dir, straight.id);
    expect(expected.visited).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));

    const run = await t.start('count', CONFIG);
    await t.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number; step: number }).runId === run.id && (e.payload as { step: number }).step >= 8, 'checkpoint 8');
    process.kill(t.handles.get(run.id)!.pid!, 'SIGKILL');
    const failed = await t.waitForStatus(run.id, ['failed', 'done']);
    expect(failed.status).toBe('failed');

    const queued = (await t.host.invoke('runs:resume', { runId: run.id })) as RunInfo;
    expect(queued).toMatchObject({ status: 'queued', error: null });
    const resumed = await t.waitFor(
      (e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id && ['done', 'failed'].includes((e.payload as { run: RunInfo }).run.status) && e !== t.events.find((x) => (x.payload as { run?: RunInfo }).run === failed),
      'the resumed run to end',
    );
    expect((resumed.payload as { run: RunInfo }).run.status).toBe('done');
    const got = await result(dir, run.id);
    expect(got).toEqual(expected);
    const summary = JSON.parse(await readFile(join(dir, 'runs', String(run.id), 'result.json'), 'utf8')) as { summary: { resumedFrom: number } };
    expect(summary.summary.resumedFrom).toBeGreaterThanOrEqual(8);
    // The resumed process reported progress from its checkpoint on, not from zero.
    const afterResume = t.events.filter((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === run.id).map((e) => (e.payload as RunProgress).step);
    expect(afterResume.at(-1)).toBe(24);
    const detail = (await t.host.invoke('runs:get', { runId: run.id })) as RunDetail;
    expect(detail.metrics[0]?.value).toBe(expected.acc);
    await t.host.close();
  });

  it('when the app died mid-job, opening the workspace resumes checkpointed runs and fails the others as interrupted', async () => {
    const root = await tmp();
    const ws = join(root, 'ws');
    // App A: its "death" is simulated by cutting the runner off from the worker (no messages, no
    // exit) and killing the worker, so the run stays `running` in the database as after a crash.
    let frozen = false;
    const inner = nodeSpawner({ entry: TEST_WORKER });
    const freezing: SpawnWorker = (request) => {
      const handle = inner(request);
      return {
        ...handle,
        get pid() {
          return handle.pid;
        },
        send: (m) => handle.send(m),
        kill: () => handle.kill(),
        onMessage: (l) => handle.onMessage((raw) => frozen || l(raw)),
        onExit: (l) => handle.onExit((exit) => frozen || l(exit)),
        onOutput: (l) => handle.onOutput(l),
      };
    };
    const a = await jobHost(ws, join(root, 'config-a'), { spawn: freezing });
    const straight = await a.start('count', CONFIG);
    await a.waitForStatus(straight.id, ['done', 'failed']);
    const expected = await result(a.lab().dir, straight.id);
    const run = await a.start('count', CONFIG);
    await a.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number; step: number }).runId === run.id && (e.payload as { step: number }).step >= 8, 'checkpoint 8');
    frozen = true;
    process.kill(a.handles.get(run.id)!.pid!, 'SIGKILL');
    // A run that was running without a checkpoint when the app died.
    const store = a.lab().store;
    const orphan = insertJobRun(store, { name: 'orphan', jobKind: 'count', method: 'count', scenarios: [], datasetId: null, datasetRoot: null, config: CONFIG, weights: null, randomInit: false, requestedBackend: null });
    setRunStatus(store, orphan, 'running');
    expect((await a.host.invoke('runs:get', { runId: run.id }) as RunInfo).status).toBe('running');
    store.close(); // app A is gone; nothing of it runs any more

    const b = await jobHost(ws, join(root, 'config-b'));
    const orphanInfo = (await b.host.invoke('runs:get', { runId: orphan })) as RunInfo;
    expect(orphanInfo).toMatchObject({ status: 'failed', error: INTERRUPTED_APP });
    const done = await b.waitForStatus(run.id, ['done', 'failed']);
    expect(done.status).toBe('done');
    const statuses = b.events.filter((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id).map((e) => (e.payload as { run: RunInfo }).run.status);
    expect(statuses).toEqual(['queued', 'running', 'done']);
    expect(await result(b.lab().dir, run.id)).toEqual(expected);
    await b.host.close();
  });

  it('closing the workspace mid-job keeps a checkpointed run queued; it continues when the workspace opens again', async () => {
    const root = await tmp();
    const ws = join(root, 'ws');
    const a = await jobHost(ws, join(root, 'config'));
    const run = await a.start('count', { steps: 150, stepMs: 20, checkpointEvery: 4 });
    await a.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number }).runId === run.id, 'a checkpoint');
    const noCheckpoint = await a.start('count', { steps: 500, stepMs: 20, checkpointEvery: 1000 });
    await a.waitFor((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === noCheckpoint.id, 'progress');
    await a.host.invoke('workspaces:close', {});
    // B's recovery starts it again (the event sequence below shows it was not already done).
    const b = await jobHost(ws, join(root, 'config'));
    expect(((await b.host.invoke('runs:get', { runId: noCheckpoint.id })) as RunInfo).error).toBe('interrupted: the workspace was closed while the job ran');
    expect((await b.waitForStatus(run.id, ['done', 'failed'])).status).toBe('done');
    expect(b.events.filter((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id).map((e) => (e.payload as { run: RunInfo }).run.status)).toEqual(['running', 'done']);
    expect((await result(b.lab().dir, run.id)).visited).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    const summary = JSON.parse(await readFile(join(b.lab().dir, 'runs', String(run.id), 'result.json'), 'utf8')) as { summary: { resumedFrom: number } };
    expect(summary.summary.resumedFrom).toBeGreaterThan(0);
    await a.host.close();
    await b.host.close();
  });

  it('opening a workspace leaves the runs of another live process alone, and a one-off open (no recoverOnOpen) adopts nothing', async () => {
    const root = await tmp();
    const ws = join(root, 'ws');
    const seed = await createLab(ws, { create: true });
    const add = (status: 'running' | 'queued', ownerPid: number) => {
      const id = insertJobRun(seed.store, { name: `${status} by ${ownerPid}`, jobKind: 'count', method: 'count', scenarios: [], datasetId: null, datasetRoot: null, config: { steps: 2, stepMs: 1 }, weights: null, randomInit: false, requestedBackend: null, ownerPid });
      if (status === 'running') setRunStatus(seed.store, id, 'running', null, ownerPid);
      return id;
    };
    const LIVE = 2000;
    const DEAD = 3000;
    const runningLive = add('running', LIVE);
    const runningDead = add('running', DEAD);
    const queuedLive = add('queued', LIVE);
    const queuedDead = add('queued', DEAD);
    seed.close();

    const statusOf = (lab: Lab, id: number) => getRun(lab.store, id).status;
    const oneOff = await createLab(ws, { jobs: { kinds: KINDS, spawnWorker: nodeSpawner({ entry: TEST_WORKER }) } });
    expect([runningLive, runningDead, queuedLive, queuedDead].map((id) => statusOf(oneOff, id))).toEqual(['running', 'running', 'queued', 'queued']);
    oneOff.close();

    const lab = await createLab(ws, { jobs: { kinds: KINDS, spawnWorker: nodeSpawner({ entry: TEST_WORKER }), recoverOnOpen: true, pid: 1000, isAlive: (pid) => pid === LIVE } });
    try {
      expect(getRun(lab.store, runningDead)).toMatchObject({ status: 'failed', error: INTERRUPTED_APP });
      expect(statusOf(lab, runningLive)).toBe('running');
      expect(statusOf(lab, queuedLive)).toBe('queued');
      expect(lab.jobs.runningIds()).toEqual([queuedDead]);
      await lab.jobs.waitForSettled(queuedDead);
      expect(statusOf(lab, queuedDead)).toBe('done');
      expect(statusOf(lab, queuedLive)).toBe('queued');
    } finally {
      lab.close();
    }
  });
});

