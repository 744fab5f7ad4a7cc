/** A lab host whose jobs run in real forked processes of the test worker, and ways to wait on its events. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/main/cli/main';
import { generateMiadMini, type MiadMiniOptions } from '../../src/main/core/datasets/miad-mini/generate';
import { createLab } from '../../src/main/core/lab';
import { createLabHost } from '../../src/main/core/lab-host';
import { getRun } from '../../src/main/core/store/runs-repo';
import { PRODUCT_KINDS } from '../../src/main/core/jobs/registry';
import { nodeSpawner, type SpawnWorker, type WorkerHandle } from '../../src/main/core/jobs/spawn';
import type { EventName } from '../../src/shared/contract';
import type { RunInfo, RunStatus } from '../../src/shared/types';
import { TEST_KINDS } from './fixtures/test-kinds';
import type { CheckpointData, JobContext } from '../../src/main/core/jobs/kinds';
import { TRAIN_CHECKPOINT_FORMAT } from '../../src/main/core/methods/harness/train-loop';

export const TEST_WORKER = fileURLToPath(new URL('./fixtures/test-worker.ts', import.meta.url));
export const KINDS = { ...PRODUCT_KINDS, ...TEST_KINDS };

export interface Recorded {
  event: EventName;
  payload: unknown;
}

/** Wraps a spawner and keeps every handle it made, so a test can reach a worker's pid. */
export function recordingSpawner(inner: SpawnWorker): { spawn: SpawnWorker; handles: Map<number, WorkerHandle> } {
  const handles = new Map<number, WorkerHandle>();
  return {
    handles,
    spawn: (request) => {
      const handle = inner(request);
      handles.set(request.runId, handle);
      return handle;
    },
  };
}

export async function jobHost(dir: string, configDir: string, options: { spawn?: SpawnWorker; maxOldSpaceSizeMb?: number } = {}) {
  const recorder = recordingSpawner(options.spawn ?? nodeSpawner({ entry: TEST_WORKER, ...(options.maxOldSpaceSizeMb ? { maxOldSpaceSizeMb: options.maxOldSpaceSizeMb } : {}) }));
  const host = createLabHost({
    door: 'server',
    configDir,
    defaultWorkspacesDir: configDir,
    version: '0.0.0-test',
    jobs: { kinds: KINDS, spawnWorker: recorder.spawn, cancelGraceMs: 1500, concurrency: 4 },
  });
  const events: Recorded[] = [];
  const waiters: { test: (r: Recorded) => boolean; resolve: (r: Recorded) => void }[] = [];
  host.onEvent((event, payload) => {
    const r = { event, payload };
    events.push(r);
    for (const w of [...waiters]) {
      if (w.test(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  });
  await host.openWorkspace(dir, true);

  /** Resolves with the first event (already seen or future) that passes `test`. */
  const waitFor = (test: (r: Recorded) => boolean, what = 'an event'): Promise<Recorded> => {
    const seen = events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 30_000);
      waiters.push({ test, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  };
  const waitForStatus = async (runId: number, statuses: RunStatus[]): Promise<RunInfo> => {
    const now = getRun(host.currentLab()!.store, runId);
    if (statuses.includes(now.status)) return now;
    const r = await waitFor((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === runId && statuses.includes((e.payload as { run: RunInfo }).run.status), `run ${runId} to be ${statuses.join('/')}`);
    return (r.payload as { run: RunInfo }).run;
  };
  const start = async (kind: string, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => (await host.invoke('runs:start', { kind, config, ...extra })) as RunInfo;
  return { host, events, waitFor, waitForStatus, start, handles: recorder.handles, lab: () => host.currentLab()! };
}

type JobHost = Awaited<ReturnType<typeof jobHost>>;
const ENDED: RunStatus[] = ['done', 'failed', 'cancelled'];

/** The run once it has ended; waits through waitFor's 30 s limit up to `tries` times (a training run takes longer). */
export async function waitForEnd(t: JobHost, runId: number, tries = 6): Promise<RunInfo> {
  for (let i = 1; ; i++) {
    try {
      return await t.waitForStatus(runId, ENDED);
    } catch (error) {
      if (i >= tries) throw error;
    }
  }
}

/** SIGKILLs the run's job process once it has written a checkpoint at `step` or later; resolves when the run has failed. */
export async function killAfterCheckpoint(t: JobHost, runId: number, step: number): Promise<RunInfo> {
  await t.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number }).runId === runId && (e.payload as { step: number }).step >= step, `run ${runId}'s checkpoint ${step}`);
  process.kill(t.handles.get(runId)!.pid!, 'SIGKILL');
  return waitForEnd(t, runId);
}

/** `runs:resume` on an ended run; resolves with the run when it has ended again. */
export async function resumeToEnd(t: JobHost, runId: number, tries = 6): Promise<RunInfo> {
  const from = t.events.length;
  await t.host.invoke('runs:resume', { runId });
  const ended = (e: Recorded) => t.events.indexOf(e) >= from && e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === runId && ENDED.includes((e.payload as { run: RunInfo }).run.status);
  for (let i = 1; ; i++) {
    try {
      return ((await t.waitFor(ended, `resumed run ${runId} to end`)).payload as { run: RunInfo }).run;
    } catch (error) {
      if (i >= tries) throw error;
    }
  }
}

/**
 * A job context, outside any job process, whose resume state is a training checkpoint written by
 * `method` (step 2 of the shared training loop's format): for the tests that a method refuses to
 * resume from another method's checkpoint.
 */
export function resumingFromCheckpointOf(method: string, workspaceDir: string, runDir: string): JobContext {
  const checkpoint: CheckpointData = {
    step: 2,
    state: { format: TRAIN_CHECKPOINT_FORMAT, method, configDigest: 'x', epoch: 0, batch: 2, globalStep: 2, epochLossSum: 0, epochLossCount: 0, lastLoss: 1, optimizer: {} },
    blobs: {},
  };
  return {
    runId: 1,
    workspaceDir,
    runDir,
    signal: new AbortController().signal,
    throwIfCancelled: () => undefined,
    progress: () => undefined,
    series: () => undefined,
    checkpoint: async () => undefined,
    resumeState: async () => checkpoint,
    backend: null,
  };
}

/**
 * What a method's job test starts from: a MIAD-mini dataset generated under `root`, imported (as
 * dataset 1) into a new workspace `<root>/ws` through the CLI, and a job host on it.
 */
export async function miniWorkspaceJobHost(root: string, mini: Omit<MiadMiniOptions, 'outDir'>): Promise<{ ws: string; t: JobHost }> {
  await generateMiadMini({ outDir: join(root, 'data'), ...mini });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  const code = await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], { out: () => undefined, err: () => undefined });
  if (code !== 0) throw new Error(`importing MIAD-mini into ${ws} exited with ${code}`);
  return { ws, t: await jobHost(ws, join(root, 'config')) };
}
