/**
 * `miad-lab worker`: takes benchmark cells from the queue, one at a time (one process per GPU), and
 * runs each as the lab's normal job process in a worker-local workspace (`<cache>/workspace`):
 * the same job runner, spawner and job kinds as the app, so the heavy work never blocks this
 * process's event loop, which keeps renewing BullMQ's lock on the cell.
 *
 * For each cell:
 *  1. the payload is validated (payload.ts) before anything runs; an invalid one fails at once,
 *     not retried (UnrecoverableError);
 *  2. the dataset bundle is fetched from the queue's blob store and checked by sha256 into the
 *     worker's cache (transfer/dataset-bundle.ts); a digest mismatch is not retried either;
 *  3. if an earlier attempt (here or on another host) uploaded a checkpoint, it is restored into
 *     the new run's folder before its job process starts, so the run resumes from it;
 *  4. every checkpoint the job writes is uploaded (transfer/checkpoint-bundle.ts) and named under
 *     `miad:ckpt:<fingerprint>`, so a worker killed mid-run loses at most the work since it;
 *  5. a finished run is exported as a run bundle (transfer/run-bundle.ts) and its digest is the
 *     cell's result, which the coordinator merges.
 * A run that fails deterministically (its config refused, a non-finite loss) is not retried; any
 * other failure (the job process died, out of memory) is, up to the cell's attempts.
 *
 * Stopping (SIGTERM, Ctrl+C): the running cell's job is cancelled — trained methods checkpoint as
 * they stop — the checkpoint is uploaded, and the cell goes back to the queue to resume elsewhere.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RunInfo } from '../../../shared/types';
import { LabError } from '../../../shared/errors';
import { createLab, type Lab } from '../lab';
import { appVersion } from '../lab-host';
import { getRun } from '../store/runs-repo';
import { checkpointsDir } from '../jobs/checkpoints';
import { nodeSpawner, type SpawnWorker } from '../jobs/spawn';
import { bundleCheckpoint, restoreCheckpoint } from '../transfer/checkpoint-bundle';
import { unpackDataset } from '../transfer/dataset-bundle';
import { exportRun } from '../transfer/run-bundle';
import { KEY_PREFIX, QUEUE_NAME, connectRedis, redact, redisOptions } from './connection';
import { cellMethodConfig, parseCellPayload, type CellPayload } from './payload';
import { RedisBlobStore } from './redis-blob-store';
import { checkpointKey, type CellResult } from './cell-result';

export interface QueueWorkerOptions {
  /** `redis://user:password@host:port`. */
  url: string;
  /** The worker's own folder: its workspace, dataset cache and staging. */
  cacheDir: string;
  /** The tensor backend the runs use (default: the best available). */
  backend?: string | undefined;
  /** BullMQ's lock on a running cell, renewed at half this (default 5 min). */
  lockDurationMs?: number;
  /** How often stalled cells (their worker died) are looked for (default 60 s). */
  stalledIntervalMs?: number;
  /** How many times a cell may stall before it fails (default 2). */
  maxStalledCount?: number;
  /** How job processes start (default: the product's Node spawner). */
  spawnWorker?: SpawnWorker;
  /** One line per event worth a person's attention. */
  log?: (line: string) => void;
  /** The name this worker reports as (default: the host name and pid). */
  name?: string;
}

export interface QueueWorker {
  readonly name: string;
  /** Cancels the running cell's job (which checkpoints), uploads the checkpoint, and disconnects. */
  stop(): Promise<void>;
  /** Resolves when the worker has stopped. */
  readonly stopped: Promise<void>;
}

const TERMINAL = new Set(['done', 'failed', 'cancelled']);

/**
 * A run error that retrying cannot fix: the loss diverged (train-loop.ts: "training diverged: the
 * loss is NaN …"), the config or its inputs were refused. A dead job process, out of memory, a lost
 * device are retried.
 */
export function deterministicRunError(message: string): boolean {
  return /training diverged|loss is (NaN|-?Infinity)|invalid config|could not be prepared|unknown job kind/i.test(message);
}

function isDeterministic(error: unknown): boolean {
  return (error as { deterministic?: unknown } | null)?.deterministic === true || (error as { name?: unknown } | null)?.name === 'ValidationError';
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const log = options.log ?? (() => undefined);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const { client: redis, target } = await connectRedis(options.url);
  const blobs = new RedisBlobStore(redis);
  const workspaceDir = join(options.cacheDir, 'workspace');
  const stagingDir = join(options.cacheDir, 'staging');
  await mkdir(options.cacheDir, { recursive: true });

  /**
   * The checkpoint to put in place when the next job process starts (a staged run folder). The
   * runner may spawn within `jobs.start` itself, before it returns the run's id, so it is keyed by
   * the job kind; one cell runs at a time here.
   */
  let staged: { kind: string; from: string } | null = null;
  const inner = options.spawnWorker ?? nodeSpawner();
  const spawnWorker: SpawnWorker = (request) => {
    if (staged !== null && staged.kind === request.kind) {
      const { from } = staged;
      staged = null;
      // Synchronous, before the job process exists: it finds the checkpoint when it asks to resume.
      const runDir = join(workspaceDir, 'runs', String(request.runId));
      rmSync(checkpointsDir(runDir), { recursive: true, force: true });
      renameSync(checkpointsDir(from), checkpointsDir(runDir));
    }
    return inner(request);
  };

  const runWaiters = new Map<number, (run: RunInfo) => void>();
  const checkpointListeners = new Map<number, (step: number) => void>();
  const lab: Lab = await createLab(workspaceDir, {
    create: true,
    jobs: {
      spawnWorker,
      emit: (event, payload) => {
        if (event === 'runs:changed') {
          const run = (payload as { run: RunInfo }).run;
          if (TERMINAL.has(run.status)) runWaiters.get(run.id)?.(run);
        } else if (event === 'runs:checkpoint') {
          const { runId, step } = payload as { runId: number; step: number };
          checkpointListeners.get(runId)?.(step);
        }
      },
    },
  });

  let current: { runId: number; job: Job } | null = null;
  let stopping = false;

  const processCell = async (job: Job): Promise<CellResult> => {
    let payload: CellPayload;
    let config: ReturnType<typeof cellMethodConfig>;
    try {
      payload = parseCellPayload(job.data);
      config = cellMethodConfig(payload);
    } catch (error) {
      log(`cell ${job.id}: refused: ${(error as Error).message}`);
      throw new UnrecoverableError((error as Error).message);
    }
    const cell = `cell ${payload.fingerprint.slice(0, 12)} (${payload.method} · ${payload.scenarios.join(', ')})`;

    let datasetId: number;
    try {
      ({ datasetId } = await unpackDataset(lab.store, lab.dir, blobs, payload.dataset.sha256));
    } catch (error) {
      const message = `${cell}: its dataset bundle: ${(error as Error).message}`;
      log(message);
      if (isDeterministic(error)) throw new UnrecoverableError(message);
      throw new Error(message);
    }

    // The backbone's weights, when the cell names them: fetched once per sha256, checked, kept under their name.
    let weightsFile: string | undefined;
    if (payload.weights) {
      weightsFile = join(lab.dir, 'cache', 'queue-weights', payload.weights.sha256, payload.weights.name);
      try {
        if (!(await blobs.has(payload.weights.sha256))) throw new LabError(`the weights blob ${payload.weights.sha256.slice(0, 12)} is not in the queue's store`, 'NotFoundError');
        if (!existsSync(weightsFile)) {
          await mkdir(dirname(weightsFile), { recursive: true });
          await blobs.getFile(payload.weights.sha256, weightsFile);
        }
      } catch (error) {
        const message = `${cell}: its weights file ${payload.weights.name}: ${(error as Error).message}`;
        log(message);
        if (isDeterministic(error)) throw new UnrecoverableError(message);
        throw new Error(message);
      }
    }

    // A checkpoint an earlier attempt uploaded: restored into a staging run folder now, moved into
    // the new run's folder the instant its job process is spawned.
    const key = checkpointKey(payload.fingerprint);
    const saved = await redis.hgetall(key);
    let stagedRun: string | null = null;
    let resumedFromStep: number | null = null;
    if (saved['digest']) {
      stagedRun = join(stagingDir, payload.fingerprint);
      await rm(stagedRun, { recursive: true, force: true });
      try {
        resumedFromStep = (await restoreCheckpoint(blobs, saved['digest'], stagedRun)).step;
        log(`${cell}: resuming from the checkpoint at step ${resumedFromStep}`);
      } catch (error) {
        log(`${cell}: the uploaded checkpoint cannot be restored (${(error as Error).message}); starting afresh`);
        stagedRun = null;
      }
    }

    if (stagedRun !== null) staged = { kind: payload.method, from: stagedRun };
    let run: RunInfo;
    try {
      run = await lab.jobs.start({
        kind: payload.method,
        name: `cell ${payload.fingerprint.slice(0, 12)}`,
        config: {
          datasetId,
          ...(config.scenarios.length === 1 ? { scenario: config.scenarios[0] } : { scenarios: config.scenarios }),
          preset: config.preset,
          overrides: config.overrides,
          ...(weightsFile ? { weightsFile } : {}),
        },
        backend: options.backend,
      });
    } catch (error) {
      staged = null;
      const message = `${cell}: ${(error as Error).message}`;
      log(message);
      if (isDeterministic(error)) throw new UnrecoverableError(message);
      throw new Error(message);
    }
    current = { runId: run.id, job };
    const ended = new Promise<RunInfo>((resolve) => runWaiters.set(run.id, resolve));
    log(`${cell}: run ${run.id} started (attempt ${job.attemptsMade + 1})`);

    // Uploads run one after another; a checkpoint that arrives while one uploads replaces the queued one.
    let uploading: Promise<void> = Promise.resolve();
    let lastUploaded = resumedFromStep ?? -1;
    const runDir = lab.jobs.runDir(run.id);
    checkpointListeners.set(run.id, (step) => {
      uploading = uploading.then(async () => {
        if (step <= lastUploaded) return;
        try {
          const bundle = await bundleCheckpoint(runDir, blobs);
          if (bundle === null || bundle.step <= lastUploaded) return;
          await redis.hset(key, { digest: bundle.digest, step: String(bundle.step), host: name });
          lastUploaded = bundle.step;
          await job.updateProgress({ checkpointStep: bundle.step, host: name });
        } catch (error) {
          // A checkpoint replaced while it was read: the next one uploads.
          log(`${cell}: checkpoint ${step} not uploaded: ${(error as Error).message}`);
        }
      });
    });

    let finished: RunInfo;
    try {
      // The run may have ended before the waiter was set (a job that fails at once).
      const now = getRun(lab.store, run.id);
      finished = TERMINAL.has(now.status) ? now : await ended;
      await lab.jobs.waitForSettled(run.id);
      finished = getRun(lab.store, run.id);
      await uploading;
    } finally {
      checkpointListeners.delete(run.id);
      runWaiters.delete(run.id);
      staged = null;
      current = null;
    }

    if (finished.status !== 'done') {
      const why = finished.status === 'cancelled' ? `the worker ${name} stopped; it resumes from step ${lastUploaded} elsewhere` : (finished.error ?? 'failed');
      const message = `${cell}: run ${run.id} ${finished.status}: ${why}`;
      log(message);
      if (finished.status === 'failed' && deterministicRunError(why)) throw new UnrecoverableError(message);
      throw new Error(message);
    }
    const { digest } = await exportRun(lab.store, runDir, blobs, run.id, { uid: payload.cellUid, host: name });
    await redis.del(key);
    log(`${cell}: done (run ${run.id}, bundle ${digest.slice(0, 12)})`);
    return { v: 1, cellUid: payload.cellUid, fingerprint: payload.fingerprint, runBundle: digest, host: name, resumedFromStep, codeVersion: appVersion() };
  };

  const worker = new Worker<unknown, CellResult>(QUEUE_NAME, processCell, {
    connection: redisOptions(target),
    prefix: KEY_PREFIX,
    concurrency: 1,
    lockDuration: options.lockDurationMs ?? 5 * 60_000,
    stalledInterval: options.stalledIntervalMs ?? 60_000,
    maxStalledCount: options.maxStalledCount ?? 2,
    autorun: false,
    name,
  });
  worker.on('error', (error) => log(`queue: ${error.message}`));
  void worker.run();
  await worker.waitUntilReady();
  log(`worker ${name} takes cells from ${redact(options.url)} (workspace ${workspaceDir})`);

  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const stop = async (): Promise<void> => {
    if (stopping) return stopped;
    stopping = true;
    const active = current;
    if (active) {
      log(`stopping: cancelling run ${active.runId} (a trained method checkpoints first)`);
      await lab.jobs.cancel(active.runId).catch(() => undefined);
    }
    await worker.close();
    lab.close();
    redis.disconnect();
    resolveStopped();
    return stopped;
  };
  return { name, stop, stopped };
}

