/**
 * One job process without a run row: for work that must leave the main process before any
 * workspace exists (the demo's generation, kinds/demo.ts). The same spawner, worker entry and
 * protocol as the runner's jobs (spawn.ts, worker.ts, protocol.ts); the caller gets the progress
 * and the result, and an abort of `signal` ends the process at once (what it leaves on disk is the
 * caller's to remove). A process that dies, or a message that does not parse, rejects with why.
 */
import { LabError } from '../../../shared/errors';
import { parseFromWorker, type JobProgress, type JobResult } from './protocol';
import type { SpawnWorker } from './spawn';

/** The runId of a standalone job: 0, no run row. */
export const STANDALONE_RUN_ID = 0;

export interface StandaloneJob {
  kind: string;
  config: unknown;
  input?: unknown;
  /** The folder the job works in (its workspaceDir and runDir). */
  dir: string;
}

/** Runs `job` in its own process; rejects with an Error named AbortError when `signal` aborts. */
export function runStandaloneJob(
  spawn: SpawnWorker,
  job: StandaloneJob,
  options: { onProgress?: (progress: JobProgress) => void; signal?: AbortSignal } = {},
): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    let settled = false;
    let stderr = '';
    const cancelled = () => Object.assign(new Error(`the ${job.kind} job was cancelled`), { name: 'AbortError' });
    if (signal?.aborted) return reject(cancelled());
    const handle = spawn({ runId: STANDALONE_RUN_ID, kind: job.kind });
    const settle = (error: Error | null, result?: JobResult): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      handle.kill();
      if (error) reject(error);
      else resolve(result!);
    };
    const onAbort = (): void => settle(cancelled());
    signal?.addEventListener('abort', onAbort, { once: true });
    handle.onOutput((chunk, stream) => {
      if (stream === 'stderr') stderr = (stderr + chunk).slice(-4096);
    });
    handle.onMessage((raw) => {
      const parsed = parseFromWorker(raw);
      if (!parsed.ok) return settle(new LabError(`the ${job.kind} job sent a malformed message: ${parsed.reason}`));
      const message = parsed.message;
      switch (message.type) {
        case 'ready':
          handle.send({
            type: 'start',
            job: { runId: STANDALONE_RUN_ID, kind: job.kind, config: job.config, input: job.input ?? null, workspaceDir: job.dir, runDir: job.dir },
          });
          return;
        case 'progress':
          options.onProgress?.(message.progress);
          return;
        case 'done':
          return settle(null, message.result);
        case 'failed':
          return settle(new LabError(message.error.message));
        case 'cancelled':
          return settle(cancelled());
        default:
          return;
      }
    });
    handle.onExit((exit) => {
      const how = exit.error ?? (exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`);
      settle(new LabError(`the ${job.kind} job process ${how} before it finished${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`));
    });
  });
}
