/**
 * The Electron adapter (src/main/electron/jobs.ts) against a fake `utilityProcess`: what it asks
 * Electron for, how messages, output and exits cross, and a whole job through the real runner
 * and store with a fake child that speaks the protocol — including a V8 fatal error, which
 * Electron reports as an 'error' event rather than on stderr.
 */
import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { electronJobSpawner, type UtilityChildLike, type UtilityProcessLike } from '../../src/main/electron/jobs';
import { createLab } from '../../src/main/core/lab';
import { getRun, getSeries } from '../../src/main/core/store/runs-repo';
import type { WorkerExit } from '../../src/main/core/jobs/spawn';
import type { RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { KINDS } from './helpers';

const tmp = useTmpDirs();

class FakeChild extends EventEmitter {
  pid: number | undefined = 4242;
  stdout = new PassThrough();
  stderr = new PassThrough();
  posted: unknown[] = [];
  killed = 0;
  postMessage(message: unknown): void {
    this.posted.push(message);
    this.emit('posted', message);
  }
  kill(): boolean {
    this.killed += 1;
    return true;
  }
}

class FakeUtilityProcess implements UtilityProcessLike {
  forks: { modulePath: string; args: string[] | undefined; options: unknown; child: FakeChild }[] = [];
  constructor(private readonly behave: (child: FakeChild) => void = () => undefined) {}
  fork(modulePath: string, args?: string[], options?: unknown): UtilityChildLike {
    const child = new FakeChild();
    this.forks.push({ modulePath, args, options, child });
    this.behave(child);
    return child as unknown as UtilityChildLike;
  }
}

describe('electronJobSpawner', () => {
  it('forks the bundled worker with a named service, piped output and the heap limit; bridges messages, output and exit', async () => {
    const utility = new FakeUtilityProcess();
    const spawn = electronJobSpawner(utility, '/app/out/main/job-worker.js', { maxOldSpaceSizeMb: 4096 });
    const handle = spawn({ runId: 7, kind: 'features' });
    expect(utility.forks).toHaveLength(1);
    expect(utility.forks[0]).toMatchObject({
      modulePath: '/app/out/main/job-worker.js',
      options: { serviceName: 'MIAD Lab job 7 (features)', stdio: 'pipe', execArgv: ['--max-old-space-size=4096'] },
    });
    const child = utility.forks[0]!.child;
    expect(handle.pid).toBe(4242);

    const messages: unknown[] = [];
    const output: string[] = [];
    const exits: WorkerExit[] = [];
    handle.onMessage((m) => messages.push(m));
    handle.onOutput((chunk, stream) => output.push(`${stream}:${chunk}`));
    handle.onExit((e) => exits.push(e));

    child.emit('message', { type: 'ready', pid: 4242 });
    expect(messages).toEqual([{ type: 'ready', pid: 4242 }]);
    handle.send({ type: 'cancel' });
    expect(child.posted).toEqual([{ type: 'cancel' }]);
    child.stdout.write('hello\n');
    child.stderr.write('warn\n');
    await new Promise((r) => setImmediate(r));
    child.emit('error', 'FatalError', 'Reached heap limit', '/tmp/report.json');
    expect(output).toEqual(['stdout:hello\n', 'stderr:warn\n', 'stderr:V8 fatal error (FatalError): Reached heap limit\n']);

    handle.kill();
    expect(child.killed).toBe(1);
    child.emit('exit', 133);
    child.emit('exit', 133);
    expect(exits).toEqual([{ code: 133, signal: null }]);
    // After the exit, nothing more goes to the dead process.
    handle.kill();
    handle.send({ type: 'cancel' });
    expect(child.killed).toBe(1);
    expect(child.posted).toHaveLength(1);
  });

  it('runs a whole job through the runner and the store: ready → start → progress, series, done', async () => {
    const dir = await tmp();
    // A fake child that speaks the protocol like worker.ts does.
    const utility = new FakeUtilityProcess((child) => {
      child.on('posted', (m: { type: string; job?: { runId: number; config: { steps: number } } }) => {
        if (m.type !== 'start' || !m.job) return;
        const steps = m.job.config.steps;
        setImmediate(() => {
          child.emit('message', { type: 'backend', name: 'cpu', tfName: 'cpu', device: 'fake CPU' });
          for (let s = 1; s <= steps; s++) {
            child.emit('message', { type: 'series', points: [{ name: 'loss', step: s, value: 1 / s }] });
            child.emit('message', { type: 'progress', progress: { phase: 'fake', step: s, total: steps } });
          }
          child.emit('message', { type: 'done', result: { metrics: [{ scenario: 'x', defectType: '', metric: 'm', value: 0.5, threshold: null }] } });
          child.emit('exit', 0);
        });
      });
      setImmediate(() => child.emit('message', { type: 'ready', pid: 4242 }));
    });
    const events: { event: string; payload: unknown }[] = [];
    const lab = await createLab(join(dir, 'ws'), {
      create: true,
      jobs: { kinds: KINDS, spawnWorker: electronJobSpawner(utility, '/app/out/main/job-worker.js'), emit: (event, payload) => void events.push({ event, payload }) },
    });
    try {
      const run = await lab.jobs.start({ kind: 'count', config: { steps: 3 } });
      const startMessage = await new Promise<unknown>((resolve) => utility.forks[0]!.child.once('posted', resolve));
      expect(startMessage).toMatchObject({ type: 'start', job: { runId: run.id, kind: 'count', config: { steps: 3, stepMs: 20, checkpointEvery: 1 }, runDir: join(lab.dir, 'runs', String(run.id)) } });
      await lab.jobs.waitForSettled(run.id);
      const info = getRun(lab.store, run.id);
      expect(info).toMatchObject({ status: 'done', backend: 'cpu', device: 'fake CPU', metrics: [{ scenario: 'x', metric: 'm', value: 0.5 }] });
      expect(getSeries(lab.store, run.id)).toEqual({ loss: [{ step: 1, value: 1 }, { step: 2, value: 0.5 }, { step: 3, value: 1 / 3 }] });
      expect(events.filter((e) => e.event === 'runs:progress')).toHaveLength(3);
    } finally {
      lab.close();
    }
  });

  it('a utility process that dies of a V8 fatal error fails its run naming memory', async () => {
    const dir = await tmp();
    const utility = new FakeUtilityProcess((child) => {
      setImmediate(() => {
        child.emit('message', { type: 'ready', pid: 4242 });
        child.emit('error', 'FatalError', 'Reached heap limit', '');
        child.emit('exit', 133);
      });
    });
    const lab = await createLab(join(dir, 'ws'), { create: true, jobs: { kinds: KINDS, spawnWorker: electronJobSpawner(utility, '/w.js') } });
    try {
      const run = await lab.jobs.start({ kind: 'count', config: { steps: 3 } });
      await lab.jobs.waitForSettled(run.id);
      const info: RunInfo = getRun(lab.store, run.id);
      expect(info.status).toBe('failed');
      expect(info.error).toBe('the job process ran out of memory (exit code 133 / V8 heap limit)');
    } finally {
      lab.close();
    }
  });
});
