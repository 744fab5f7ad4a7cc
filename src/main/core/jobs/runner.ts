/**
 * The job runner of one open workspace, in the main process: a queue of job runs, at most
 * `gpuConcurrency` tensor jobs (default 1: one GPU job at a time) plus `concurrency` others
 * running at once, each in its own process started through the injected `spawnWorker`.
 *
 * The main process stays the single writer of the database: a job process only sends messages
 * (validated on arrival, protocol.ts), and the runner turns them into rows (status, backend,
 * series, metrics) and events (`runs:progress`, `runs:changed`, `runs:checkpoint`). A run moves
 * queued → running → done | failed | cancelled. Whatever ends a job process — an exception, an
 * exit, V8 running out of heap, SIGKILL, a malformed message — fails that run with a reason a
 * person can act on, and the app carries on.
 *
 * Resuming: a kind may checkpoint (checkpoints.ts). A failed or cancelled run with a checkpoint
 * can be queued again (`resume`). When a workspace opens, runs left `running` by a process that
 * died (the app was killed) are queued again to resume when they have a checkpoint, and failed
 * with "interrupted: …" when they do not; runs left `queued` start. Each run row names the main
 * process holding it (owner_pid), so a second process on the same workspace (the app beside a
 * server) leaves a live owner's runs alone. Closing the workspace kills its jobs and leaves the
 * checkpointed ones queued, so they continue the next time it opens.
 */
import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { EventName, EventPayload } from '../../../shared/contract';
import { LabError } from '../../../shared/errors';
import type { RunInfo } from '../../../shared/types';
import type { JobKindInfo } from '../../../shared/calls/runs';
import { writeFileAtomic } from '../fs-util';
import type { Store } from '../store/store';
import { finishRun, getJobRun, getRun, insertJobRun, jobRunOwners, setRunBackend, setRunStatus, upsertSeries } from '../store/runs-repo';
import { checkpointsDir, hasCheckpoint } from './checkpoints';
import type { AnyJobKind, JobKindRegistry, PreparedJob } from './kinds';
import { parseFromWorker, type FromWorker, type JobResult, type JobSpec } from './protocol';
import { PRODUCT_KINDS } from './registry';
import { nodeSpawner, type SpawnWorker, type WorkerExit, type WorkerHandle } from './spawn';

export type JobEventSink = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/** What a door may change about jobs (the Electron door passes its utilityProcess spawner). */
export interface JobsOptions {
  spawnWorker?: SpawnWorker;
  /** The kinds offered; the product's (registry.ts) when absent. Tests add their own here. */
  kinds?: JobKindRegistry;
  /** Tensor jobs at once (default 1). */
  gpuConcurrency?: number;
  /** Other jobs at once (default 2). */
  concurrency?: number;
  /** How long a cancelled job gets to stop by itself before it is killed (default 5 s). */
  cancelGraceMs?: number;
  /**
   * Settle and restart what a dead process left when the workspace opens (the host sets it; a
   * one-off CLI command that opens a workspace must not adopt jobs it would kill when it exits).
   */
  recoverOnOpen?: boolean;
  /** This main process's pid and a liveness test for others' (tests pass fakes). */
  pid?: number;
  isAlive?: (pid: number) => boolean;
}

export interface JobRunnerDeps extends JobsOptions {
  store: Store;
  workspaceDir: string;
  emit: JobEventSink;
}

export const INTERRUPTED_APP = 'interrupted: the app stopped while the job ran';
export const INTERRUPTED_CLOSE = 'interrupted: the workspace was closed while the job ran';

/** How much of a job's stderr is kept to explain its death. */
const STDERR_TAIL = 8192;

interface Active {
  runId: number;
  kind: AnyJobKind;
  handle: WorkerHandle | null;
  prepared: PreparedJob | null;
  cancelRequested: boolean;
  /** The run's end state is written: later messages and the exit change nothing. */
  ended: boolean;
  killTimer: ReturnType<typeof setTimeout> | null;
  stderrTail: string;
  log: WriteStream | null;
}

/** A one-line reason for a job process that ended without reporting an outcome. */
export function exitReason(exit: WorkerExit, stderrTail: string): string {
  if (exit.error !== undefined) return `the job process could not start: ${exit.error}`;
  const how = exit.signal !== null ? `signal ${exit.signal}${exit.signal === 'SIGABRT' ? ', exit code 134' : ''}` : `exit code ${exit.code ?? 'unknown'}`;
  if (/heap out of memory|Reached heap limit|Allocation failed|out of memory/i.test(stderrTail) || (exit.code === 134 && /FATAL ERROR/.test(stderrTail))) {
    return `the job process ran out of memory (${how} / V8 heap limit)`;
  }
  if (exit.signal === 'SIGKILL') return `the job process was killed (SIGKILL) before it finished: by hand, or by the system's out-of-memory killer`;
  const lastLine = stderrTail.trim().split('\n').filter(Boolean).pop();
  const tail = lastLine ? `; its last output: ${lastLine.slice(0, 300)}` : '';
  if (exit.signal !== null) return `the job process was ended by ${how} before it finished${tail}`;
  if (exit.code === 0) return `the job process exited (exit code 0) without reporting a result${tail}`;
  return `the job process exited with ${how} before it finished${tail}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function checkpointExistsSync(runDir: string): boolean {
  try {
    const latest = JSON.parse(readFileSync(join(checkpointsDir(runDir), 'latest.json'), 'utf8')) as { name: unknown };
    return typeof latest.name === 'string' && /^step-\d+$/.test(latest.name) && readFileSync(join(checkpointsDir(runDir), latest.name, 'state.json')).length > 0;
  } catch {
    return false;
  }
}

export class JobRunner {
  private readonly kinds: JobKindRegistry;
  private readonly spawnWorker: SpawnWorker;
  private readonly gpuConcurrency: number;
  private readonly concurrency: number;
  private readonly graceMs: number;
  private readonly queue: number[] = [];
  private readonly active = new Map<number, Active>();
  /** Prepared inputs of runs started in this session, so `start` and the launch do not resolve twice. */
  private readonly preparedCache = new Map<number, PreparedJob>();
  private readonly exitWaiters = new Map<number, (() => void)[]>();
  /** Runs whose job reported `done` while their result.json is being written. */
  private readonly pendingDone = new Map<number, JobResult>();
  /** A finished job's result being written: its run turns done (or failed) when this settles. */
  private readonly settling = new Map<number, Promise<void>>();
  private closed = false;
  private readonly pid: number;
  private readonly isAlive: (pid: number) => boolean;

  constructor(private readonly deps: JobRunnerDeps) {
    this.pid = deps.pid ?? process.pid;
    this.isAlive = deps.isAlive ?? processAlive;
    this.kinds = deps.kinds ?? PRODUCT_KINDS;
    this.spawnWorker = deps.spawnWorker ?? nodeSpawner();
    this.gpuConcurrency = deps.gpuConcurrency ?? 1;
    this.concurrency = deps.concurrency ?? 2;
    this.graceMs = deps.cancelGraceMs ?? 5000;
  }

  runDir(runId: number): string {
    return join(this.deps.workspaceDir, 'runs', String(runId));
  }

  listKinds(): JobKindInfo[] {
    return Object.values(this.kinds).map((k) => ({ name: k.name, summary: k.summary, tensors: k.tensors, method: k.method ?? null }));
  }

  /** Ids of the runs whose job process is alive (or starting). */
  runningIds(): number[] {
    return [...this.active.keys()];
  }

  private kind(name: string | null): AnyJobKind | undefined {
    return name !== null && Object.prototype.hasOwnProperty.call(this.kinds, name) ? this.kinds[name] : undefined;
  }

  private changed(info: RunInfo): RunInfo {
    this.deps.emit('runs:changed', { run: info });
    return info;
  }

  /**
   * Validates the config against the kind's schema, records the run as queued and schedules it.
   * `onCreated` runs inside the transaction that records the run, so whoever keeps its id elsewhere
   * (a benchmark's cell) has it exactly when the run exists: a kill never leaves one without the other.
   */
  async start(input: { kind: string; name?: string | undefined; config: unknown; backend?: string | undefined; onCreated?: (runId: number) => void }): Promise<RunInfo> {
    if (this.closed) throw new LabError('the workspace is closing', 'ConflictError');
    const kind = this.kind(input.kind);
    if (!kind) throw new LabError(`unknown job kind ${JSON.stringify(input.kind)}; kinds are ${Object.keys(this.kinds).join(', ')}`, 'ValidationError');
    const parsed = (kind.schema as z.ZodType).safeParse(input.config ?? {});
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.length ? `config.${i.path.join('.')}` : 'config'}: ${i.message}`).join('; ');
      throw new LabError(`invalid config for a ${kind.name} job: ${detail}`, 'ValidationError');
    }
    const prepared = await kind.prepare(parsed.data, { store: this.deps.store, workspaceDir: this.deps.workspaceDir });
    const id = this.deps.store.transaction(() => {
      const runId = insertJobRun(this.deps.store, {
        name: input.name ?? `${kind.name} · ${prepared.scenarios.join(', ') || 'job'}`,
        jobKind: kind.name,
        method: prepared.method,
        scenarios: prepared.scenarios,
        datasetId: prepared.datasetId,
        datasetRoot: prepared.datasetRoot,
        config: parsed.data,
        weights: prepared.weights,
        randomInit: prepared.randomInit,
        requestedBackend: input.backend ?? null,
        ownerPid: this.pid,
      });
      input.onCreated?.(runId);
      return runId;
    });
    this.preparedCache.set(id, prepared);
    const info = this.changed(getRun(this.deps.store, id));
    this.queue.push(id);
    this.pump();
    return info;
  }

  async cancel(runId: number): Promise<RunInfo> {
    const row = getJobRun(this.deps.store, runId);
    if (row.status === 'queued') {
      const at = this.queue.indexOf(runId);
      if (at >= 0) this.queue.splice(at, 1);
      this.preparedCache.delete(runId);
      return this.changed(setRunStatus(this.deps.store, runId, 'cancelled'));
    }
    const job = this.active.get(runId);
    if (row.status !== 'running' || !job) throw new LabError(`run ${runId} is ${row.status}: only a queued or running job can be cancelled`, 'ConflictError');
    if (!job.cancelRequested) {
      job.cancelRequested = true;
      job.handle?.send({ type: 'cancel' });
      job.killTimer = setTimeout(() => job.handle?.kill(), this.graceMs);
      if (!job.handle) this.end(job, 'cancelled');
    }
    return getRun(this.deps.store, runId);
  }

  async resume(runId: number): Promise<RunInfo> {
    if (this.closed) throw new LabError('the workspace is closing', 'ConflictError');
    const row = getJobRun(this.deps.store, runId);
    if (row.jobKind === null) throw new LabError(`run ${runId} was not made by a job here: there is nothing to resume`, 'ConflictError');
    if (row.status === 'queued' || row.status === 'running') return getRun(this.deps.store, runId);
    if (row.status === 'done') throw new LabError(`run ${runId} is done: there is nothing to resume`, 'ConflictError');
    if (!(await hasCheckpoint(this.runDir(runId)))) {
      throw new LabError(`run ${runId} has no checkpoint to resume from: start a new run instead`, 'ConflictError');
    }
    const info = this.changed(setRunStatus(this.deps.store, runId, 'queued', null, this.pid));
    this.queue.push(runId);
    this.pump();
    return info;
  }

  /**
   * Called once when the workspace opens: settles runs a dead process left `running`, and
   * schedules the queued ones (oldest first).
   */
  recover(): void {
    // Runs held by another live process (the desktop app and a server on one workspace) are theirs.
    const orphaned = (ownerPid: number | null) => ownerPid === null || ownerPid === this.pid || !this.isAlive(ownerPid);
    for (const { id, ownerPid } of jobRunOwners(this.deps.store, 'running')) {
      if (this.active.has(id) || !orphaned(ownerPid)) continue;
      if (checkpointExistsSync(this.runDir(id))) this.changed(setRunStatus(this.deps.store, id, 'queued', null, this.pid));
      else this.changed(setRunStatus(this.deps.store, id, 'failed', INTERRUPTED_APP, this.pid));
    }
    for (const { id, ownerPid } of jobRunOwners(this.deps.store, 'queued')) {
      if (this.queue.includes(id) || this.active.has(id) || !orphaned(ownerPid)) continue;
      if (ownerPid !== this.pid) setRunStatus(this.deps.store, id, 'queued', null, this.pid);
      this.queue.push(id);
    }
    this.pump();
  }

  /**
   * Resolves when the run's outcome is in the store: its job process has ended and, for a job that
   * finished, its result is written and the run is `done` (or `failed` when it could not be saved).
   * For tests and the CLI: what to wait for instead of sleeping after waitForExit.
   */
  async waitForSettled(runId: number): Promise<void> {
    await this.waitForExit(runId);
    await this.settling.get(runId);
  }

  /** Resolves when the run's job process has ended (at once when none is running). */
  waitForExit(runId: number): Promise<void> {
    if (!this.active.has(runId)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.exitWaiters.get(runId) ?? [];
      list.push(resolve);
      this.exitWaiters.set(runId, list);
    });
  }

  /**
   * Kills every job process and settles their runs: checkpointed ones go back to `queued` (they
   * resume when the workspace opens again), the others fail. Synchronous, so it can run right
   * before the store closes.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    // A job that has finished is done, even when its result file is still being written.
    for (const [runId, result] of this.pendingDone) {
      try {
        this.finish(runId, result);
      } catch (error) {
        setRunStatus(this.deps.store, runId, 'failed', this.unsaved(error));
      }
    }
    this.pendingDone.clear();
    for (const job of this.active.values()) {
      if (!job.ended) {
        job.ended = true;
        if (job.cancelRequested) setRunStatus(this.deps.store, job.runId, 'cancelled');
        else if (checkpointExistsSync(this.runDir(job.runId))) setRunStatus(this.deps.store, job.runId, 'queued', null, this.pid);
        else setRunStatus(this.deps.store, job.runId, 'failed', INTERRUPTED_CLOSE);
      }
      if (job.killTimer) clearTimeout(job.killTimer);
      job.handle?.kill();
      job.log?.end();
    }
  }

  private slotsFree(kind: AnyJobKind | undefined): boolean {
    let tensorJobs = 0;
    let others = 0;
    for (const job of this.active.values()) {
      if (job.kind.tensors) tensorJobs += 1;
      else others += 1;
    }
    return kind?.tensors ? tensorJobs < this.gpuConcurrency : others < this.concurrency;
  }

  private pump(): void {
    if (this.closed) return;
    for (const id of [...this.queue]) {
      const row = getJobRun(this.deps.store, id);
      const kind = this.kind(row.jobKind);
      if (!this.slotsFree(kind)) continue;
      this.queue.splice(this.queue.indexOf(id), 1);
      if (!kind) {
        this.changed(setRunStatus(this.deps.store, id, 'failed', `unknown job kind ${JSON.stringify(row.jobKind)}: this version of the app cannot run it`));
        continue;
      }
      const job: Active = { runId: id, kind, handle: null, prepared: null, cancelRequested: false, ended: false, killTimer: null, stderrTail: '', log: null };
      this.active.set(id, job);
      this.changed(setRunStatus(this.deps.store, id, 'running', null, this.pid));
      void this.launch(job, row.config, row.requestedBackend);
    }
  }

  private async launch(job: Active, rawConfig: unknown, backend: string | null): Promise<void> {
    let config: unknown;
    try {
      config = (job.kind.schema as z.ZodType).parse(rawConfig);
      job.prepared = this.preparedCache.get(job.runId) ?? (await job.kind.prepare(config, { store: this.deps.store, workspaceDir: this.deps.workspaceDir }));
      this.preparedCache.delete(job.runId);
      mkdirSync(this.runDir(job.runId), { recursive: true });
    } catch (error) {
      this.end(job, 'failed', `the job could not be prepared: ${error instanceof Error ? error.message : String(error)}`);
      this.released(job);
      return;
    }
    if (this.closed || job.ended) {
      this.released(job);
      return;
    }
    const spec: JobSpec = {
      runId: job.runId,
      kind: job.kind.name,
      config,
      input: job.prepared.input,
      workspaceDir: this.deps.workspaceDir,
      runDir: this.runDir(job.runId),
      ...(backend !== null ? { backend } : {}),
    };
    let handle: WorkerHandle;
    try {
      handle = this.spawnWorker({ runId: job.runId, kind: job.kind.name });
    } catch (error) {
      this.end(job, 'failed', `the job process could not start: ${error instanceof Error ? error.message : String(error)}`);
      this.released(job);
      return;
    }
    job.handle = handle;
    job.log = createWriteStream(join(this.runDir(job.runId), 'log.txt'), { flags: 'a' });
    job.log.on('error', () => undefined);
    handle.onOutput((chunk, stream) => {
      if (stream === 'stderr') job.stderrTail = (job.stderrTail + chunk).slice(-STDERR_TAIL);
      job.log?.write(chunk);
    });
    handle.onMessage((raw) => this.onMessage(job, spec, raw));
    handle.onExit((exit) => this.onExit(job, exit));
  }

  private onMessage(job: Active, spec: JobSpec, raw: unknown): void {
    if (this.closed || job.ended) return;
    const parsed = parseFromWorker(raw);
    if (!parsed.ok) {
      this.end(job, 'failed', `the job process sent a malformed message (${parsed.reason})`);
      job.handle?.kill();
      return;
    }
    const message: FromWorker = parsed.message;
    const store = this.deps.store;
    switch (message.type) {
      case 'ready':
        job.handle?.send({ type: 'start', job: spec });
        if (job.cancelRequested) job.handle?.send({ type: 'cancel' });
        return;
      case 'backend':
        setRunBackend(store, job.runId, message.name, message.device);
        this.changed(getRun(store, job.runId));
        return;
      case 'progress':
        this.deps.emit('runs:progress', { runId: job.runId, ...message.progress });
        return;
      case 'series':
        upsertSeries(store, job.runId, message.points);
        return;
      case 'checkpoint':
        this.deps.emit('runs:checkpoint', { runId: job.runId, step: message.step });
        return;
      case 'done': {
        // Ended from here on, so an exit that overtakes the write below changes nothing; the run
        // turns `done` once result.json is on disk, so whoever sees `done` can read it.
        job.ended = true;
        const result = message.result;
        this.pendingDone.set(job.runId, result);
        // A result that cannot be written fails the run: `done` promises a readable result.json.
        const settled = writeFileAtomic(join(this.runDir(job.runId), 'result.json'), JSON.stringify(result, null, 2)).then(
          () => {
            if (this.closed || !this.pendingDone.delete(job.runId)) return;
            try {
              this.changed(this.finish(job.runId, result));
            } catch (error) {
              this.changed(setRunStatus(store, job.runId, 'failed', this.unsaved(error)));
            }
          },
          (error: unknown) => {
            if (this.closed || !this.pendingDone.delete(job.runId)) return;
            const reason = error instanceof Error ? error.message : String(error);
            this.changed(setRunStatus(store, job.runId, 'failed', `the job finished but its results could not be saved (result.json: ${reason})`));
          },
        );
        this.settling.set(job.runId, settled);
        void settled.finally(() => this.settling.delete(job.runId));
        return;
      }
      case 'failed':
        this.end(job, 'failed', message.error.message || message.error.name);
        return;
      case 'cancelled':
        this.end(job, 'cancelled');
        return;
    }
  }

  private onExit(job: Active, exit: WorkerExit): void {
    if (job.killTimer) clearTimeout(job.killTimer);
    job.log?.end();
    if (!this.closed && !job.ended) {
      if (job.cancelRequested) this.end(job, 'cancelled');
      else this.end(job, 'failed', exitReason(exit, job.stderrTail));
    }
    this.released(job);
  }

  /** Marks a finished job's run done with its metrics, curves and whatever its kind stores (`finish`), all in one transaction. */
  private finish(runId: number, result: JobResult): RunInfo {
    const kind = this.kind(getJobRun(this.deps.store, runId).jobKind);
    return this.deps.store.transaction(() => {
      kind?.finish?.(runId, result, { store: this.deps.store, workspaceDir: this.deps.workspaceDir });
      return finishRun(this.deps.store, runId, result.metrics ?? [], result.curves ?? []);
    });
  }

  private unsaved(error: unknown): string {
    return `the job finished but its results could not be stored: ${error instanceof Error ? error.message : String(error)}`;
  }

  private end(job: Active, status: 'failed' | 'cancelled', error: string | null = null): void {
    if (job.ended || this.closed) return;
    job.ended = true;
    this.changed(setRunStatus(this.deps.store, job.runId, status, error));
  }

  private released(job: Active): void {
    if (job.killTimer) clearTimeout(job.killTimer);
    this.active.delete(job.runId);
    for (const resolve of this.exitWaiters.get(job.runId) ?? []) resolve();
    this.exitWaiters.delete(job.runId);
    this.pump();
  }
}
