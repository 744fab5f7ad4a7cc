/**
 * The desktop app's job processes: Electron's `utilityProcess` (a Node child managed by Electron,
 * no renderer, no window) running the bundled worker entry `out/main/job-worker.js`, adapted to
 * the runner's `SpawnWorker` (core/jobs/spawn.ts). The core never imports electron: this adapter
 * is handed to the host by the Electron entry.
 *
 * Differences from Node's fork it smooths over: messages are `postMessage`/'message'; the exit
 * event carries a code only; a V8 fatal error (out of heap) arrives as an 'error' event with its
 * location ("Reached heap limit"), which we pass on as stderr text so the runner names it.
 */
import type { SpawnWorker, WorkerExit, WorkerHandle } from '../core/jobs/spawn';

/** What the adapter uses of a utility process (Electron's UtilityProcess has all of it). */
export interface UtilityChildLike {
  readonly pid: number | undefined;
  readonly stdout: NodeJS.ReadableStream | null;
  readonly stderr: NodeJS.ReadableStream | null;
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'exit', listener: (code: number) => void): this;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'spawn', listener: () => void): this;
  on(event: 'error', listener: (type: string, location: string, report: string) => void): this;
}

export interface UtilityProcessLike {
  fork(
    modulePath: string,
    args?: string[],
    options?: { serviceName?: string; stdio?: 'pipe' | 'ignore' | 'inherit'; execArgv?: string[]; env?: NodeJS.ProcessEnv },
  ): UtilityChildLike;
}

export interface ElectronSpawnOptions {
  /** V8 heap limit of a job process in MiB. */
  maxOldSpaceSizeMb?: number;
  env?: NodeJS.ProcessEnv;
}

export function electronJobSpawner(utility: UtilityProcessLike, workerPath: string, options: ElectronSpawnOptions = {}): SpawnWorker {
  return (request) => {
    const execArgv = options.maxOldSpaceSizeMb !== undefined ? [`--max-old-space-size=${options.maxOldSpaceSizeMb}`] : [];
    const child = utility.fork(workerPath, [], {
      serviceName: `MIAD Lab job ${request.runId} (${request.kind})`,
      stdio: 'pipe',
      execArgv,
      ...(options.env ? { env: options.env } : {}),
    });
    const outputListeners: ((chunk: string, stream: 'stdout' | 'stderr') => void)[] = [];
    const exitListeners: ((exit: WorkerExit) => void)[] = [];
    let exited = false;
    const output = (chunk: string, stream: 'stdout' | 'stderr'): void => {
      for (const l of outputListeners) l(chunk, stream);
    };
    child.stdout?.on('data', (chunk: Buffer | string) => output(String(chunk), 'stdout'));
    child.stderr?.on('data', (chunk: Buffer | string) => output(String(chunk), 'stderr'));
    child.on('error', (type, location) => output(`V8 fatal error (${type}): ${location}\n`, 'stderr'));
    child.on('exit', (code) => {
      if (exited) return;
      exited = true;
      for (const l of exitListeners) l({ code, signal: null });
    });
    const handle: WorkerHandle = {
      get pid() {
        return child.pid;
      },
      send: (message) => {
        if (!exited) child.postMessage(message);
      },
      onMessage: (listener) => void child.on('message', listener),
      onExit: (listener) => void exitListeners.push(listener),
      onOutput: (listener) => void outputListeners.push(listener),
      kill: () => {
        if (!exited) child.kill();
      },
    };
    return handle;
  };
}
