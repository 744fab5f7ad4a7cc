/**
 * How the runner starts a job process: an injected `SpawnWorker`, so Node's `child_process.fork`
 * (server, CLI, tests; this file) and Electron's `utilityProcess.fork` (electron/jobs.ts) are two
 * small adapters over one interface, and tests can wrap either one.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ToWorker } from './protocol';

export interface WorkerExit {
  /** The exit code, or null when a signal ended the process. */
  code: number | null;
  signal: string | null;
  /** The process could not be started (or its channel broke): why. */
  error?: string;
}

export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(listener: (raw: unknown) => void): void;
  /** Called once, when the process has ended (or failed to start). */
  onExit(listener: (exit: WorkerExit) => void): void;
  /** The process's stdout and stderr, as text chunks. */
  onOutput(listener: (chunk: string, stream: 'stdout' | 'stderr') => void): void;
  /** Ends the process at once (SIGKILL where there are signals). */
  kill(): void;
}

export interface SpawnRequest {
  runId: number;
  kind: string;
}

export type SpawnWorker = (request: SpawnRequest) => WorkerHandle;

export interface NodeSpawnOptions {
  /** The module to fork; the product's worker entry (TypeScript, through tsx) when absent. */
  entry?: string;
  /** V8 heap limit of the job process in MiB (`--max-old-space-size`). */
  maxOldSpaceSizeMb?: number;
  env?: NodeJS.ProcessEnv;
}

export const DEFAULT_WORKER_ENTRY = fileURLToPath(new URL('./worker-main.ts', import.meta.url));

/** tsx's ESM loader, by absolute URL, so the child finds it whatever its working directory. */
export function tsxImport(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** `child_process.fork` of a worker entry that runs TypeScript sources through tsx. */
export function nodeSpawner(options: NodeSpawnOptions = {}): SpawnWorker {
  const entry = options.entry ?? DEFAULT_WORKER_ENTRY;
  return () => {
    const execArgv = ['--import', tsxImport()];
    if (options.maxOldSpaceSizeMb !== undefined) execArgv.push(`--max-old-space-size=${options.maxOldSpaceSizeMb}`);
    const child = fork(entry, [], {
      execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: options.env ?? process.env,
      serialization: 'json',
    });
    let exited = false;
    const exitListeners: ((exit: WorkerExit) => void)[] = [];
    const report = (exit: WorkerExit): void => {
      if (exited) return;
      exited = true;
      for (const l of exitListeners) l(exit);
    };
    // 'close' (not 'exit') so that stderr has been read to the end when the exit is reported:
    // the V8 out-of-memory message is often the last thing a dying worker prints.
    child.on('close', (code, signal) => report({ code, signal }));
    child.on('error', (error) => {
      if (child.pid === undefined) report({ code: null, signal: null, error: error.message });
    });
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    return {
      get pid() {
        return child.pid;
      },
      send(message) {
        if (child.connected) child.send(message, (error) => void error);
      },
      onMessage(listener) {
        child.on('message', listener);
      },
      onExit(listener) {
        exitListeners.push(listener);
      },
      onOutput(listener) {
        child.stdout?.on('data', (chunk: string) => listener(chunk, 'stdout'));
        child.stderr?.on('data', (chunk: string) => listener(chunk, 'stderr'));
      },
      kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  };
}
