/**
 * The CLI's door onto the lab: one host per command (door 'cli'), the same one the desktop app and
 * the server open, so every verb makes contract calls with the inputs the app sends and meets the
 * same validation and rules (eslint.config.js keeps CLI code out of core internals).
 *
 * A one-off command must leave other processes' work alone: its host does not recover jobs when
 * it opens a workspace (a run another process owns is neither adopted nor killed), and it does not
 * add the workspace to the app's recent list. It generates MIAD-mini (`demo`) in its own process:
 * a command has no UI to keep responsive, and a job process would only add its start.
 */
import { createLabHost } from '../core/lab-host';
import { defaultConfigDir, defaultWorkspacesDir } from '../core/paths';
import type { CallInput, CallName, CallResult, EventName, EventPayload } from '../../shared/contract';
import type { WorkspaceInfo } from '../../shared/types';

export interface CliHost {
  /** One contract call, validated by the host as every door's calls are. */
  call<N extends CallName>(name: N, input: CallInput<N>): Promise<CallResult<N>>;
  /** Listens to one event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  close(): Promise<void>;
}

export interface CliHostOptions {
  /**
   * Adopt what a stopped process left when the workspace opens, as the app does (its runs left
   * queued or interrupted resume here). Only a command that runs the workspace's work until it is
   * done may ask for it (`bench start`); every other command leaves other processes' runs alone.
   */
  recoverJobs?: boolean;
}

export function openCliHost(options: CliHostOptions = {}): CliHost {
  const host = createLabHost({
    door: 'cli',
    configDir: defaultConfigDir(),
    defaultWorkspacesDir: defaultWorkspacesDir(),
    jobs: { recoverOnOpen: options.recoverJobs === true },
    rememberRecent: false,
    // Nothing to keep responsive here: `demo` generates in this process, without a job process's start.
    demoInProcess: true,
  });
  return {
    call: (name, input) => host.invoke(name, input) as never,
    on(event, listener) {
      return host.onEvent((name, payload) => {
        if (name === event) listener(payload as EventPayload<typeof event>);
      });
    },
    close: () => host.close(),
  };
}

/** Runs `work` with a host and no workspace open, then closes the host. */
export async function withHost<T>(work: (host: CliHost) => Promise<T>): Promise<T> {
  const host = openCliHost();
  try {
    return await work(host);
  } finally {
    await host.close();
  }
}

/**
 * Runs `work` with the workspace at `dir` open (`workspaces:open`; created when `create` and the
 * folder is missing or empty), then closes it: jobs the command started end with it.
 */
export async function withWorkspace<T>(dir: string, work: (host: CliHost, workspace: WorkspaceInfo) => Promise<T>, create = false): Promise<T> {
  return withHost(async (host) => work(host, await host.call('workspaces:open', { dir, ...(create ? { create: true } : {}) })));
}
