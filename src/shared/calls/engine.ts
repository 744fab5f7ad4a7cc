/**
 * Calls about the compute engine: which backends this machine offers and why not the others, the
 * stored "force backend" setting (app-wide, not per workspace: it is about this machine), and the
 * open workspace's frozen-feature cache.
 */
import { z } from 'zod';
import { BACKEND_NAMES, type BackendStatusInfo } from '../backends';
import { emptyInput, pathInput, returns } from './define';

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

/** One file of the weights catalogue (core/engine/weights.ts WEIGHTS_CATALOG). */
export interface WeightsEntry {
  /** Our id: the timm model name with its pretrained tag, e.g. `wide_resnet50_2.tv_in1k`. */
  id: string;
  /** timm architecture name. */
  arch: string;
  /** Hugging Face repository. */
  repo: string;
  url: string;
  /** Exact size in bytes, or null when not verified. */
  bytes: number | null;
  /** sha256 of the file (lower-case hex), or null when not verified: never guessed. */
  sha256: string | null;
  /** Human size for the UI when `bytes` is unknown: published, or estimated from the architecture's float32 parameters. */
  sizeHint: string;
  usedBy: string[];
  /**
   * 'pth': published only as a PyTorch pickle, which the lab never unpickles: `fetch` refuses it
   * and says how to convert it to .safetensors (scripts/pth-to-safetensors.py) and import that.
   */
  published?: 'pth';
}

export interface WeightsStatus extends WeightsEntry {
  /** The cached file exists (complete and verified when it was stored). */
  present: boolean;
  path: string;
  /** Bytes of an interrupted download waiting to be resumed, or null. */
  partialBytes: number | null;
  local: LocalRecord | null;
}

/** The sidecar `<id>.json` of a cached file. */
export interface LocalRecord {
  sha256: string;
  bytes: number;
  source: 'download' | 'import' | 'random';
  from: string;
  at: string;
  /** True when the file's sha256 equals the catalogue's (null: the catalogue has no hash). */
  matchesPublished: boolean | null;
  /** 'checked' when every expected tensor was found with its shape; 'unchecked' for an arch we cannot build. */
  structure: 'checked' | 'unchecked';
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  path: string;
  sha256: string | null;
  matchesPublished: boolean | null;
  structure: 'checked' | 'unchecked';
  problems: string[];
}

export interface FetchProgress {
  id: string;
  received: number;
  total: number | null;
}

/** Backbone architectures the lab builds (core/engine/backbones), for `engine:randomWeights`. */
export interface WeightsCatalog {
  entries: WeightsEntry[];
  archs: string[];
}

const weightsId = z.string().min(1).max(200);

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
  /** The weights catalogue and the architectures the lab builds; needs no workspace. */
  'engine:weightsCatalog': { input: emptyInput, result: returns<WeightsCatalog>() },
  /** Every catalogue entry with what the open workspace's cache (`<workspace>/weights`) holds. */
  'engine:weights': { input: emptyInput, result: returns<WeightsStatus[]>() },
  /** Downloads one entry into the cache (resuming a partial download), with `engine:weightsProgress`. */
  'engine:fetchWeights': { input: z.object({ id: weightsId }).strict(), result: returns<WeightsStatus>() },
  /** Copies a local .safetensors into the cache after checking it fits the entry (a ValidationError says why not). */
  'engine:importWeights': { input: z.object({ id: weightsId, file: pathInput }).strict(), result: returns<WeightsStatus>() },
  /** Re-checks a cached file: sha256 and every tensor's name and shape. */
  'engine:verifyWeights': { input: z.object({ id: weightsId }).strict(), result: returns<VerifyResult>() },
  /** Writes seeded random weights (torchvision init) of an architecture, for tests and demos. */
  'engine:randomWeights': {
    input: z.object({ arch: z.string().min(1).max(100), seed: z.number().int().min(0).max(2 ** 31 - 1).default(0) }).strict(),
    result: returns<{ path: string; arch: string; seed: number }>(),
  },
  /** Removes every cached feature; runs then compute them again. */
  'engine:clearCache': { input: emptyInput, result: returns<{ entries: number; bytes: number }>() },
} as const;

export const engineEvents = {
  'engine:weightsProgress': returns<FetchProgress>(),
} as const;
