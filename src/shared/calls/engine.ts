/**
 * Calls about the compute engine: which backends this machine offers and why not the others, the
 * stored "force backend" setting (app-wide, not per workspace: it is about this machine), and the
 * open workspace's frozen-feature cache.
 */
import { z } from 'zod';
import { BACKEND_NAMES, type BackendStatusInfo } from '../backends';
import { emptyInput, returns } from './define';

/** `auto`: jobs take the best available backend; a name: jobs are forced onto that one. */
export const BACKEND_SETTINGS = ['auto', ...BACKEND_NAMES] as const;
export type BackendSetting = (typeof BACKEND_SETTINGS)[number];

/** The frozen-feature cache of the open workspace (`<workspace>/cache/features`). */
export interface FeatureCacheInfo {
  /** The cache folder (`<workspace>/cache/features`). */
  dir: string;
  entries: number;
  bytes: number;
  capBytes: number;
  /** Images whose features came from the cache / were computed, over all runs since the last clear. */
  hits: number;
  misses: number;
}

export const engineCalls = {
  'engine:backends': {
    input: z.object({ refresh: z.boolean().optional() }).strict(),
    result: returns<{ backends: BackendStatusInfo[]; best: string | null; probedAt: string }>(),
  },
  /** The stored backend setting; `runs:start` without a backend uses it. */
  'engine:backendSetting': { input: emptyInput, result: returns<{ backend: BackendSetting }>() },
  /** Stores the setting; a backend this machine cannot run is refused with the reason. */
  'engine:setBackend': {
    input: z.object({ backend: z.enum(BACKEND_SETTINGS) }).strict(),
    result: returns<{ backend: BackendSetting }>(),
  },
  'engine:cache': { input: emptyInput, result: returns<FeatureCacheInfo>() },
  /** Sets the cache's size cap (least recently used entries go first); answers the cache as it then is. */
  'engine:setCacheCap': {
    input: z.object({ bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict(),
    result: returns<FeatureCacheInfo>(),
  },
  /** Removes every cached feature; runs then compute them again. */
  'engine:clearCache': { input: emptyInput, result: returns<{ entries: number; bytes: number }>() },
} as const;

export const engineEvents = {} as const;
