/** Calls of the app itself and of workspaces: the first screen's world. */
import { z } from 'zod';
import type { AppInfo, DemoProgress, RecentWorkspace, WorkspaceInfo } from '../types';

/** What a folder holds, as `workspaces:inspect` answers (core/workspace/workspace.ts folderState). */
export type FolderState = 'missing' | 'empty' | 'workspace' | 'file' | 'other';
import { SCENARIOS } from '../taxonomy';
import { DEMO_LIMITS } from '../limits';
import { emptyInput, pathInput, returns } from './define';

export const demoOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    train: z.number().int().min(1).max(DEMO_LIMITS.maxTrain).optional(),
    test: z.number().int().min(1).max(DEMO_LIMITS.maxTest).optional(),
    size: z.number().int().min(DEMO_LIMITS.minSize).max(DEMO_LIMITS.maxSize).optional(),
    scenarios: z.array(z.enum(SCENARIOS)).min(1).optional(),
    /** The uncontrolled factors (DESIGN section 5): viewpoint jitter, background clutter, surface wear, each 0..1 (default 0.5). */
    viewpoint: z.number().min(0).max(1).optional(),
    background: z.number().min(0).max(1).optional(),
    surface: z.number().min(0).max(1).optional(),
  })
  .strict();

export const appCalls = {
  'app:info': { input: emptyInput, result: returns<AppInfo>() },
  'app:pickFolder': {
    input: z.object({ title: z.string().max(200).optional() }).strict(),
    result: returns<{ path: string | null }>(),
  },
  'workspaces:recent': { input: emptyInput, result: returns<RecentWorkspace[]>() },
  /**
   * What a folder holds, without opening or creating anything: missing, empty, a workspace, a file,
   * or other (a non-empty folder that holds no workspace). A relative path is taken from the
   * process's working folder.
   */
  'workspaces:inspect': {
    input: z.object({ dir: pathInput }).strict(),
    result: returns<{ dir: string; state: FolderState }>(),
  },
  'workspaces:open': {
    input: z.object({ dir: pathInput, create: z.boolean().optional() }).strict(),
    result: returns<WorkspaceInfo>(),
  },
  'workspaces:createDemo': {
    input: z.object({ dir: pathInput.optional(), options: demoOptionsSchema.optional() }).strict(),
    result: returns<WorkspaceInfo>(),
  },
  /**
   * Cancels the demo creation under way (its job process ends, its half-made folder is removed);
   * answers once that is done. `cancelled` is false when none was under way.
   */
  'workspaces:cancelDemo': { input: emptyInput, result: returns<{ cancelled: boolean }>() },
  /** Work still using the workspace (an import, a rescan) is cancelled first; `cancelled` names it. */
  'workspaces:close': { input: emptyInput, result: returns<{ closed: boolean; cancelled: string[] }>() },
} as const;

export const appEvents = {
  'workspaces:demoProgress': returns<DemoProgress>(),
  'workspaces:changed': returns<{ workspace: WorkspaceInfo | null }>(),
} as const;
