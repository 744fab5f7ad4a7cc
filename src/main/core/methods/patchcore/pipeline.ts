/**
 * `runPatchCore`: one PatchCore run from images to metrics, through the shared harness
 * (harness/run-method.ts) with PatchCore's definition (method.ts). Kept as its own entry point with
 * PatchCore's result type for the callers and tests that run it directly; jobs go through the
 * generic method job (harness/method-job.ts).
 */
import type { ExtractionCounts, WeightsSource } from '../components/feature-extractor';
import type { FeatureCache } from '../../engine/feature-cache';
import { runMethod, type RunMethodResult } from '../harness/run-method';
import type { ScenarioManifest } from '../harness/scenario-images';
import type { MethodScope, TestImageResult } from '../harness/test-loop';
import type { PatchCoreConfig, ResolvedPatchCoreConfig } from './config';
import { patchcoreMethod } from './method';

export interface RunPatchCoreOptions {
  datasetRoot: string;
  scenario: string;
  /** 'full' (default), 'paper' or 'fast'. */
  preset?: string;
  /** Partial config, validated (config.ts `patchCoreOverridesSchema`). */
  overrides?: unknown;
  /** 'random' (seeded torchvision init; results are not meaningful as pretrained ones) or a `.safetensors` path. */
  weights: WeightsSource;
  /** Created if missing; receives maps.amap and scores.json. */
  outDir: string;
  /** The workspace's frozen-feature cache (engine/feature-cache.ts); absent: no caching. */
  featureCache?: FeatureCache | null;
  /** The images to use, as the workspace curates them (harness/manifest.ts). */
  manifest?: ScenarioManifest;
}

export interface RunPatchCoreContext {
  progress(phase: string, step: number, total: number): void;
  signal?: AbortSignal;
}

export type PatchCoreScope = MethodScope;
export type PatchCoreImage = TestImageResult;

export interface RunPatchCoreResult extends Omit<RunMethodResult<PatchCoreConfig>, 'train' | 'timings' | 'weights' | 'method'> {
  method: 'patchcore';
  sources: ResolvedPatchCoreConfig['sources'];
  weights: { source: 'random' | 'file'; path: string | null; randomInit: boolean };
  train: {
    images: number;
    available: number;
    patches: number;
    grid: { h: number; w: number };
    memoryBankRows: number;
    projectionDims: number;
    /** Where the memory bank lived while scoring (MemoryBank.residence). */
    bankResidence: 'device' | 'host';
    featureStore: { where: 'memory' | 'file'; bytes: number };
    peakRssBytes: number;
  };
  /** Seconds. */
  timings: { model: number; embed: number; coreset: number; gather: number; score: number; metrics: number; total: number };
  featureCache: { train: ExtractionCounts; test: ExtractionCounts } | null;
}

export async function runPatchCore(options: RunPatchCoreOptions, ctx: RunPatchCoreContext): Promise<RunPatchCoreResult> {
  const result = await runMethod(patchcoreMethod, options, { progress: (phase, step, total) => ctx.progress(phase, step, total), ...(ctx.signal ? { signal: ctx.signal } : {}) });
  return result as unknown as RunPatchCoreResult;
}
