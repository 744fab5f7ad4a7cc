/**
 * The lab host: implements the whole contract for one process (the Electron main process, the
 * headless server, a CLI invocation). It holds the open workspace, if any, validates every call's
 * input where it enters, and fans events out to the doors.
 */
import { rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import {
  isCallName,
  parseCallInput,
  type EventName,
  type EventPayload,
} from '../../shared/contract';
import { LabError } from '../../shared/errors';
import type { Door, WorkspaceInfo } from '../../shared/types';
import type { HostEventListener, LabHost } from './host';
import { createLab, type Lab } from './lab';
import { RecentWorkspaces } from './workspace/recent';
import { AppSettings } from './workspace/app-settings';
import { folderState, openWorkspace as openWorkspaceFolder } from './workspace/workspace';
import { generateDemoDataset, generateDemoInJob, type DemoGenerator } from './datasets/demo-dataset';
import { makeDirs } from './fs-util';
import { nodeSpawner } from './jobs/spawn';
import type { DomainHandlers, HandlerContext, Handlers } from './handlers/types';
import { datasetHandlers } from './handlers/datasets';
import { importHandlers } from './handlers/import';
import { libraryHandlers } from './handlers/library';
import { runHandlers } from './handlers/runs';
import { bestBackend, engineHandlers } from './handlers/engine';
import { annotateHandlers } from './handlers/annotate';
import { compareHandlers } from './handlers/compare';
import { evaluationHandlers } from './handlers/evaluation';
import { benchHandlers } from './handlers/bench';
import { checksHandlers } from './handlers/checks';
import type { JobsOptions } from './jobs/runner';

export interface LabHostOptions {
  door: Door;
  /** App-level settings and the recent-workspaces list live here (not in a workspace). */
  configDir: string;
  /** Parent folder of new demo workspaces (`<dir>/demo`, `<dir>/demo-2`, …). */
  defaultWorkspacesDir: string;
  /** Exact folder for a new demo workspace, when the door knows it (`serve --workspace DIR`). */
  defaultDemoDir?: string;
  /** Native folder picker, where the door has one (Electron). */
  pickFolder?: (title: string) => Promise<string | null>;
  /** The app's version; read from package.json when not given. */
  version?: string;
  /** Makes the demo dataset (default: MIAD-mini in a job process, started like the door's jobs); tests pass a small fake. */
  generateDemo?: DemoGenerator;
  now?: () => Date;
  /** How job processes start (Electron passes its utilityProcess spawner) and which kinds exist. */
  jobs?: JobsOptions;
  /**
   * Generate MIAD-mini in this process instead of a job process (when `generateDemo` is not given):
   * for a one-off command (the CLI), which has no event loop to keep free and would only pay the
   * job process's start.
   */
  demoInProcess?: boolean;
  /** Add each opened workspace to the recent list (default true; a one-off CLI command does not). */
  rememberRecent?: boolean;
}


export function appVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function createLabHost(options: LabHostOptions): LabHost & { openWorkspace(dir: string, create?: boolean): Promise<WorkspaceInfo>; currentLab(): Lab | null } {
  const listeners = new Set<HostEventListener>();
  const recent = new RecentWorkspaces(options.configDir, options.now);
  const settings = new AppSettings(options.configDir);
  const generateDemo = options.generateDemo ?? (options.demoInProcess ? generateDemoDataset : generateDemoInJob(options.jobs?.spawnWorker ?? nodeSpawner()));
  const version = options.version ?? appVersion();
  let lab: Lab | null = null;
  let busy: string | null = null;
  /** Work on the open workspace that closing it must cancel and wait for (HandlerContext.track). */
  const tracked = new Set<{ what: string; controller: AbortController; settled: Promise<boolean> }>();
  /** Why the workspace is closing, while it is: work started then is cancelled at once. */
  let closing: string | null = null;
  /** The demo creation under way: aborting ends its job; `settled` resolves once its folder is cleaned. */
  let demoRun: { controller: AbortController; settled: Promise<unknown> } | null = null;

  function emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of listeners) {
      try {
        listener(event, payload);
      } catch {
        // A failing listener (a closed window, a dropped socket) must not break the others.
      }
    }
  }

  function requireLab(): Lab {
    if (!lab) throw new LabError('no workspace is open: open or create one first', 'ConflictError');
    return lab;
  }

  function track<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (closing) controller.abort(new Error(closing));
    const promise = work(controller.signal);
    // settled: true when the work finished, false when it failed (or was cancelled).
    const entry = { what, controller, settled: promise.then(() => true, () => false) };
    tracked.add(entry);
    void entry.settled.then(() => tracked.delete(entry));
    return promise;
  }

  /**
   * Closes the open workspace, if any: tracked work (an import) is cancelled with `reason` and
   * waited for first, so nothing uses the database as it closes. Returns what was cancelled.
   */
  async function closeLab(reason: string): Promise<string[]> {
    const cancelled: string[] = [];
    closing = reason;
    try {
      while (tracked.size > 0) {
        const running = [...tracked];
        for (const entry of running) entry.controller.abort(new Error(reason));
        const finished = await Promise.all(running.map((entry) => entry.settled));
        running.forEach((entry, i) => {
          tracked.delete(entry);
          if (!finished[i]) cancelled.push(entry.what);
        });
      }
      lab?.close();
      lab = null;
    } finally {
      closing = null;
    }
    return cancelled;
  }

  async function switchTo(next: Lab): Promise<WorkspaceInfo> {
    await closeLab('another workspace was opened');
    lab = next;
    const info = next.info();
    if (options.rememberRecent !== false) await recent.add(info.dir, info.name).catch(() => undefined);
    emit('workspaces:changed', { workspace: info });
    return info;
  }

  async function exclusive<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (busy) throw new LabError(`cannot ${what} while ${busy} is under way`, 'ConflictError');
    busy = what;
    try {
      return await fn();
    } finally {
      busy = null;
    }
  }

  async function openWorkspace(dir: string, create = false): Promise<WorkspaceInfo> {
    return exclusive('open a workspace', async () => switchTo(await createLab(dir, { create, ...(options.now ? { now: options.now } : {}), jobs: { recoverOnOpen: true, ...options.jobs, emit }, forcedBackend: () => settings.forcedBackend() })));
  }

  async function pickDemoDir(): Promise<string> {
    if (options.defaultDemoDir) {
      const state = await folderState(options.defaultDemoDir).catch(() => 'other');
      // Once the door's folder holds a workspace, new demos go to the numbered defaults.
      if (state === 'missing' || state === 'empty') return options.defaultDemoDir;
    }
    for (let i = 1; i < 1000; i++) {
      const dir = join(options.defaultWorkspacesDir, i === 1 ? 'demo' : `demo-${i}`);
      const state = await folderState(dir);
      if (state === 'missing' || state === 'empty') return dir;
    }
    throw new LabError(`no free demo folder name under ${options.defaultWorkspacesDir}`);
  }

  async function defaultDemoDir(): Promise<string> {
    return pickDemoDir().catch(() => join(options.defaultWorkspacesDir, 'demo'));
  }

  const context: HandlerContext = {
    requireLab,
    currentLab: () => lab,
    emit,
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    track,
  };

  const appHandlers: DomainHandlers<'app' | 'workspaces'> = {
    'app:info': async () => ({
      name: 'MIAD Lab',
      version,
      door: options.door,
      platform: process.platform,
      node: process.versions.node,
      workspace: lab ? lab.info() : null,
      defaultDemoDir: await defaultDemoDir(),
      canPickFolder: options.pickFolder !== undefined,
    }),
    'app:pickFolder': async ({ title }) => {
      if (!options.pickFolder) throw new LabError('this door has no folder picker: type the folder path instead', 'ConflictError');
      return { path: await options.pickFolder(title ?? 'Choose a folder') };
    },
    'workspaces:recent': () => recent.list(),
    'workspaces:inspect': async ({ dir }) => {
      const full = resolve(dir);
      return { dir: full, state: await folderState(full) };
    },
    'workspaces:open': ({ dir, create }) => openWorkspace(dir, create ?? false),
    'workspaces:close': async () => {
      if (busy) throw new LabError(`cannot close the workspace while ${busy} is under way`, 'ConflictError');
      const closed = lab !== null;
      const cancelled = await closeLab('the workspace was closed');
      if (closed) emit('workspaces:changed', { workspace: null });
      return { closed, cancelled };
    },
    'workspaces:createDemo': ({ dir, options: demo }) =>
      exclusive('create a demo workspace', async () => {
        const controller = new AbortController();
        const work = createDemo(dir, demo ?? {}, controller.signal);
        demoRun = { controller, settled: work.catch(() => undefined) };
        try {
          return await work;
        } finally {
          demoRun = null;
        }
      }),
    'workspaces:cancelDemo': async () => {
      const run = demoRun;
      if (!run) return { cancelled: false };
      run.controller.abort(new Error('cancelled'));
      await run.settled;
      return { cancelled: true };
    },
  };

  /**
   * A new demo workspace, made in a hidden staging folder beside the target (`.<name>.demo-partial`,
   * same disk) and renamed into place when whole: the dataset by a job process, then the database,
   * which names the dataset at its final place. A failed or cancelled creation removes the staging
   * folder; a killed one leaves it, and the next creation for that target removes it first. Either
   * way the target stays missing or empty, so a retry works.
   */
  async function createDemo(dir: string | undefined, demo: Parameters<DemoGenerator>[1], signal: AbortSignal): Promise<WorkspaceInfo> {
    const target = resolve(dir ?? (await pickDemoDir()));
    const before = await folderState(target);
    if (before === 'file') throw new LabError(`${target} is a file, not a folder`, 'ValidationError');
    if (before === 'other' || before === 'workspace') {
      throw new LabError(`${target} is not empty: a demo workspace needs an empty or new folder`, 'ConflictError');
    }
    const staging = join(dirname(target), `.${basename(target)}.demo-partial`);
    const cancelled = () => new LabError('the demo creation was cancelled: nothing was kept', 'ConflictError');
    let samples = 0;
    try {
      await rm(staging, { recursive: true, force: true });
      await makeDirs(staging);
      const ws = await openWorkspaceFolder(staging, { create: true, ...(options.now ? { now: options.now } : {}) });
      try {
        ws.store.setMeta('name', basename(target));
        const made = await generateDemo(join(staging, 'datasets', 'miad-mini'), demo, (p) => emit('workspaces:demoProgress', p), signal);
        if (signal.aborted) throw cancelled();
        samples = made.samples.length;
        emit('workspaces:demoProgress', { phase: 'registering', scenario: null, done: samples, total: samples });
        ws.store.addDataset({ name: 'MIAD-mini (demo)', root: join(target, 'datasets', 'miad-mini'), kind: 'miad-mini' }, made.samples);
      } finally {
        ws.store.close();
      }
      if (signal.aborted) throw cancelled();
      // rename(2) replaces an empty folder on POSIX; elsewhere it must go first.
      if (before === 'empty') await rmdir(target);
      await rename(staging, target);
    } catch (error) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw signal.aborted ? cancelled() : error;
    }
    const next = await createLab(target, { ...(options.now ? { now: options.now } : {}), jobs: { recoverOnOpen: true, ...options.jobs, emit }, forcedBackend: () => settings.forcedBackend() });
    emit('workspaces:demoProgress', { phase: 'done', scenario: null, done: samples, total: samples });
    return switchTo(next);
  }

  const handlers: Handlers = {
    ...appHandlers,
    ...datasetHandlers(context, { generateMini: generateDemo }),
    ...importHandlers(context),
    ...libraryHandlers(context),
    ...runHandlers(context, { forcedBackend: () => settings.forcedBackend(), bestBackend }),
    ...benchHandlers(context, { forcedBackend: () => settings.forcedBackend(), bestBackend }),
    ...annotateHandlers(context),
    ...engineHandlers(context, { settings }),
    ...compareHandlers(context),
    ...evaluationHandlers(context),
    ...checksHandlers(context, { forcedBackend: () => settings.forcedBackend() }),
  };

  return {
    async invoke(name: string, rawInput: unknown): Promise<unknown> {
      if (!isCallName(name)) throw new LabError(`unknown call ${JSON.stringify(name)}`, 'NotFoundError');
      const input = parseCallInput(name, rawInput);
      return (handlers[name] as (i: unknown) => Promise<unknown>)(input);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async resolveAllowedFile(path) {
      if (!lab) throw new LabError('no workspace is open', 'ForbiddenError');
      return lab.resolveAllowedFile(path);
    },
    async close() {
      if (demoRun) {
        demoRun.controller.abort(new Error('the app is closing'));
        await demoRun.settled;
      }
      await closeLab('the app is closing');
      listeners.clear();
    },
    openWorkspace,
    currentLab: () => lab,
  };
}
