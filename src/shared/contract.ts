/**
 * The one contract between the UI (or a script) and the lab: every call with its input schema
 * and result type, every event with its payload. The Electron preload, the HTTP server and the
 * CLI are all built from this map, so a call added here exists behind every door.
 */
import { z } from 'zod';
import type {
  AppInfo,
  DatasetInfo,
  DatasetSummary,
  DemoProgress,
  RecentWorkspace,
  SampleInfo,
  WorkspaceInfo,
} from './types';
import { SCENARIOS } from './taxonomy';
import { DEMO_LIMITS } from './limits';

export { DEMO_LIMITS };

/** Phantom marker carrying a result type in the map without a runtime value. */
function returns<T>(): T {
  return undefined as T;
}

const absPath = z
  .string()
  .min(1, 'a path is required')
  .max(4096, 'path is too long')
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

const id = z.number().int().positive();


export const demoOptionsSchema = z
  .object({
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    train: z.number().int().min(1).max(DEMO_LIMITS.maxTrain).optional(),
    test: z.number().int().min(1).max(DEMO_LIMITS.maxTest).optional(),
    size: z.number().int().min(DEMO_LIMITS.minSize).max(DEMO_LIMITS.maxSize).optional(),
    scenarios: z.array(z.enum(SCENARIOS)).min(1).optional(),
  })
  .strict();

export const calls = {
  'app:info': { input: z.object({}).strict(), result: returns<AppInfo>() },
  'app:pickFolder': {
    input: z.object({ title: z.string().max(200).optional() }).strict(),
    result: returns<{ path: string | null }>(),
  },
  'workspaces:recent': { input: z.object({}).strict(), result: returns<RecentWorkspace[]>() },
  'workspaces:open': {
    input: z.object({ dir: absPath, create: z.boolean().optional() }).strict(),
    result: returns<WorkspaceInfo>(),
  },
  'workspaces:createDemo': {
    input: z.object({ dir: absPath.optional(), options: demoOptionsSchema.optional() }).strict(),
    result: returns<WorkspaceInfo>(),
  },
  'workspaces:close': { input: z.object({}).strict(), result: returns<{ closed: boolean }>() },
  'datasets:list': { input: z.object({}).strict(), result: returns<DatasetInfo[]>() },
  'datasets:summary': { input: z.object({ datasetId: id }).strict(), result: returns<DatasetSummary>() },
  'samples:list': {
    input: z
      .object({
        datasetId: id,
        scenario: z.string().max(200).optional(),
        split: z.enum(['train', 'test']).optional(),
        label: z.string().max(200).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    result: returns<{ total: number; samples: SampleInfo[] }>(),
  },
} as const;

export const events = {
  'workspaces:demoProgress': returns<DemoProgress>(),
  'workspaces:changed': returns<{ workspace: WorkspaceInfo | null }>(),
} as const;

export type Calls = typeof calls;
export type CallName = keyof Calls;
export type CallInput<N extends CallName> = z.input<Calls[N]['input']>;
export type CallParsedInput<N extends CallName> = z.output<Calls[N]['input']>;
export type CallResult<N extends CallName> = Calls[N]['result'];
export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = (typeof events)[E];

export const CALL_NAMES = Object.keys(calls) as CallName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(calls, name);
}

/** The client-side API: one async method per call. Built by the preload and by the HTTP client. */
export type LabApi = {
  [N in CallName]: (input: CallInput<N>) => Promise<CallResult<N>>;
};

export interface LabEventSource {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/**
 * Validates a call's raw input; throws an Error named ValidationError whose message names
 * the call and each offending field.
 */
export function parseCallInput<N extends CallName>(name: N, raw: unknown): CallParsedInput<N> {
  const result = calls[name].input.safeParse(raw ?? {});
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`)
      .join('; ');
    const error = new Error(`invalid input for ${name}: ${detail}`);
    error.name = 'ValidationError';
    throw error;
  }
  return result.data as CallParsedInput<N>;
}
