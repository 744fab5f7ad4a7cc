/**
 * The lab host: implements the whole contract for one process (the Electron main process, the
 * headless server, a CLI invocation). It holds the open workspace, if any, validates every call's
 * input where it enters, and fans events out to the doors.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
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
import { folderState } from './workspace/workspace';
import { generateDemoDataset, type DemoGenerator } from './datasets/demo-dataset';
import type { DomainHandlers, HandlerContext, Handlers } from './handlers/types';
import { datasetHandlers } from './handlers/datasets';
import { importHandlers } from './handlers/import';
import { libraryHandlers } from './handlers/library';
import { runHandlers } from './handlers/runs';
import { bestBackend, engineHandlers } from './handlers/engine';
import { annotateHandlers } from './handlers/annotate';
import { compareHandlers } from './handlers/compare';
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
  /** Makes the demo dataset; tests pass a small fake. */
  generateDemo?: DemoGenerator;
  now?: () => Date;
  /** How job processes start (Electron passes its utilityProcess spawner) and which kinds exist. */
  jobs?: JobsOptions;
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
  const generateDemo = options.generateDemo ?? generateDemoDataset;
  const version = options.version ?? appVersion();
  let lab: Lab | null = null;
  let busy: string | null = null;

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

  async function switchTo(next: Lab): Promise<WorkspaceInfo> {
    lab?.close();
    lab = next;
    const info = next.info();
    await recent.add(info.dir, info.name).catch(() => undefined);
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
    return exclusive('open a workspace', async () => switchTo(await createLab(dir, { create, ...(options.now ? { now: options.now } : {}), jobs: { recoverOnOpen: true, ...options.jobs, emit } })));
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

  const context: HandlerContext = { requireLab, emit };

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
    'workspaces:open': ({ dir, create }) => openWorkspace(dir, create ?? false),
    'workspaces:close': async () => {
      if (busy) throw new LabError(`cannot close the workspace while ${busy} is under way`, 'ConflictError');
      const closed = lab !== null;
      lab?.close();
      lab = null;
      if (closed) emit('workspaces:changed', { workspace: null });
      return { closed };
    },
    'workspaces:createDemo': ({ dir, options: demo }) =>
      exclusive('create a demo workspace', async () => {
        const target = dir ?? (await pickDemoDir());
        const before = await folderState(target);
        if (before === 'file') throw new LabError(`${target} is a file, not a folder`, 'ValidationError');
        if (before === 'other' || before === 'workspace') {
          throw new LabError(`${target} is not empty: a demo workspace needs an empty or new folder`, 'ConflictError');
        }
        let next: Lab | null = null;
        try {
          next = await createLab(target, { create: true, ...(options.now ? { now: options.now } : {}), jobs: { recoverOnOpen: true, ...options.jobs, emit } });
          const datasetRoot = join(next.dir, 'datasets', 'miad-mini');
          await mkdir(datasetRoot, { recursive: true });
          const made = await generateDemo(datasetRoot, demo ?? {}, (p) => emit('workspaces:demoProgress', p));
          emit('workspaces:demoProgress', { phase: 'registering', scenario: null, done: made.samples.length, total: made.samples.length });
          next.addDataset({ name: 'MIAD-mini (demo)', root: datasetRoot, kind: 'miad-mini' }, made.samples);
          emit('workspaces:demoProgress', { phase: 'done', scenario: null, done: made.samples.length, total: made.samples.length });
        } catch (error) {
          // An interrupted demo changes nothing: remove what this call created.
          next?.close();
          if (before === 'missing') await rm(target, { recursive: true, force: true });
          else if (before === 'empty') {
            for (const entry of ['lab.sqlite', 'lab.sqlite-wal', 'lab.sqlite-shm', 'thumbs', 'weights', 'runs', 'datasets']) {
              await rm(join(target, entry), { recursive: true, force: true });
            }
          }
          throw error;
        }
        return switchTo(next);
      }),
  };

  const handlers: Handlers = {
    ...appHandlers,
    ...datasetHandlers(context),
    ...importHandlers(context),
    ...libraryHandlers(context),
    ...runHandlers(context, { forcedBackend: () => settings.forcedBackend(), bestBackend }),
    ...annotateHandlers(context),
    ...engineHandlers(context, { settings }),
    ...compareHandlers(context),
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
      lab?.close();
      lab = null;
      listeners.clear();
    },
    openWorkspace,
    currentLab: () => lab,
  };
}
