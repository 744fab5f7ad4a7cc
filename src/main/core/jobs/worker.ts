/**
 * The job process's side of the protocol: says it is ready, receives one job, picks the tfjs
 * backend for kinds that compute with tensors (engine/backends.ts, best first or the one forced),
 * runs the kind's implementation with a JobContext, and reports progress, series points,
 * checkpoints and the outcome. One job per process: when it ends, the process exits, which is
 * also what frees a GPU's memory for certain.
 *
 * The transport is a `WorkerPort` so the same code runs under Node's `child_process.fork`
 * (process.send) and Electron's `utilityProcess` (process.parentPort); worker-main.ts picks it.
 */
import { cpus } from 'node:os';
import { LabError } from '../../../shared/errors';
import { readCheckpoint, writeCheckpoint } from './checkpoints';
import type { JobContext, JobKindRegistry } from './kinds';
import { parseToWorker, type FromWorker, type JobSpec } from './protocol';

export interface WorkerPort {
  send(message: FromWorker): Promise<void>;
  onMessage(listener: (raw: unknown) => void): void;
  /** Ends the process once the last message is on its way. */
  exit(code: number): never;
}

/** A Node child of `child_process.fork`: messages over the IPC channel. */
export function nodeWorkerPort(proc: NodeJS.Process = process): WorkerPort {
  return {
    send: (message) =>
      new Promise((resolve) => {
        if (!proc.send || !proc.connected) return resolve();
        proc.send(message, undefined, {}, () => resolve());
      }),
    onMessage: (listener) => {
      proc.on('message', listener);
      // The parent went away (app killed): nobody will read our results, so stop.
      proc.on('disconnect', () => proc.exit(1));
    },
    exit: (code) => proc.exit(code),
  };
}

interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

/** An Electron utility process: messages over process.parentPort (MessagePortMain). */
export function electronWorkerPort(parentPort: ParentPortLike, proc: NodeJS.Process = process): WorkerPort {
  return {
    send: async (message) => parentPort.postMessage(message),
    onMessage: (listener) => parentPort.on('message', (event) => listener(event.data)),
    exit: (code) => proc.exit(code),
  };
}

export interface RunWorkerOptions {
  kinds: JobKindRegistry;
  /** Interval between progress messages; the last one of a phase always goes. */
  progressIntervalMs?: number;
}

function errorOf(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name || 'Error', message: error.message || String(error) };
  return { name: 'Error', message: String(error) };
}

function abortError(): Error {
  const error = new Error('the job was cancelled');
  error.name = 'AbortError';
  return error;
}

/** Serves one job on `port`, then exits the process. */
export function runWorker(port: WorkerPort, options: RunWorkerOptions): void {
  const controller = new AbortController();
  let started = false;
  let finishing = false;

  const finish = async (message: FromWorker, code: number): Promise<never> => {
    finishing = true;
    await port.send(message);
    return port.exit(code);
  };

  const crash = (error: unknown): void => {
    if (finishing) return;
    void finish({ type: 'failed', error: errorOf(error) }, 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  port.onMessage((raw) => {
    const parsed = parseToWorker(raw);
    if (!parsed.ok) {
      crash(new LabError(`the job process received a malformed message: ${parsed.reason}`));
      return;
    }
    const message = parsed.message;
    if (message.type === 'cancel') {
      controller.abort();
      return;
    }
    if (started) return;
    started = true;
    runOne(message.job, port, options, controller.signal).then(
      (result) => finish({ type: 'done', result }, 0),
      (error: unknown) => (controller.signal.aborted ? finish({ type: 'cancelled' }, 0) : finish({ type: 'failed', error: errorOf(error) }, 1)),
    );
  });
  void port.send({ type: 'ready', pid: process.pid });
}

function describeDevice(name: string, threads: number | undefined): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  if (name === 'wasm') return `${cpu}, ${threads ?? 1} wasm thread${(threads ?? 1) === 1 ? '' : 's'}`;
  if (name === 'cpu' || name === 'tensorflow') return cpu;
  return name === 'webgpu' ? 'GPU through WebGPU' : 'GPU through CUDA';
}

async function runOne(job: JobSpec, port: WorkerPort, options: RunWorkerOptions, signal: AbortSignal) {
  const kind = Object.prototype.hasOwnProperty.call(options.kinds, job.kind) ? options.kinds[job.kind] : undefined;
  if (!kind) throw new LabError(`unknown job kind ${JSON.stringify(job.kind)} in this job process`, 'ValidationError');
  const config = kind.schema.parse(job.config) as unknown;

  let backend: JobContext['backend'] = null;
  if (kind.tensors) {
    const { initBackend } = await import('../engine/backends');
    const chosen = await initBackend(job.backend);
    backend = { name: chosen.name, tfName: chosen.tfName };
    await port.send({ type: 'backend', name: chosen.name, tfName: chosen.tfName, device: describeDevice(chosen.name, chosen.threads) });
  }

  const interval = options.progressIntervalMs ?? 100;
  let lastSent = 0;
  let lastPhase = '';
  let rateStart: { at: number; step: number; images: number } | null = null;
  let seriesBuffer: { name: string; step: number; value: number }[] = [];
  const flushSeries = async (): Promise<void> => {
    if (seriesBuffer.length === 0) return;
    const points = seriesBuffer;
    seriesBuffer = [];
    await port.send({ type: 'series', points });
  };

  const ctx: JobContext = {
    runId: job.runId,
    workspaceDir: job.workspaceDir,
    runDir: job.runDir,
    signal,
    backend,
    throwIfCancelled: () => {
      if (signal.aborted) throw abortError();
    },
    progress: ({ images, ...p }) => {
      const now = performance.now();
      if (rateStart === null || p.phase !== lastPhase) rateStart = { at: now, step: p.step, images: images ?? 0 };
      const last = p.step >= p.total || p.phase !== lastPhase;
      lastPhase = p.phase;
      if (!last && now - lastSent < interval) return;
      lastSent = now;
      const seconds = (now - rateStart.at) / 1000;
      const steps = p.step - rateStart.step;
      const extra: { imagesPerSec?: number; etaSeconds?: number } = {};
      if (seconds > 0 && steps > 0) extra.etaSeconds = ((p.total - p.step) * seconds) / steps;
      if (seconds > 0 && images !== undefined && images > rateStart.images) extra.imagesPerSec = (images - rateStart.images) / seconds;
      void flushSeries().then(() => port.send({ type: 'progress', progress: { ...p, ...extra } }));
    },
    series: (name, step, value) => {
      seriesBuffer.push({ name, step, value });
      if (seriesBuffer.length >= 500) void flushSeries();
    },
    checkpoint: async (data) => {
      await writeCheckpoint(job.runDir, data);
      await flushSeries();
      await port.send({ type: 'checkpoint', step: data.step });
    },
    resumeState: () => readCheckpoint(job.runDir),
  };

  const implementation = await kind.load();
  ctx.throwIfCancelled();
  const result = await implementation(config, job.input, ctx);
  await flushSeries();
  return result;
}
