/** Calls about datasets and their samples. */
import { z } from 'zod';
import type { DatasetInfo, DatasetSummary, DemoProgress, SampleInfo } from '../types';
import { demoOptionsSchema } from './app';
import { emptyInput, idInput, pathInput, returns } from './define';

/** What `datasets:generateMini` wrote: MIAD-mini's resolved options, totals and per-scenario counts. */
export interface MiniDatasetSummary {
  outDir: string;
  version: number;
  options: { seed: number; train: number; test: number; size: number; scenarios: string[]; viewpoint: number; background: number; surface: number };
  totals: { images: number; masks: number; bytes: number };
  scenarios: { scenario: string; train: number; testGood: number; testAnomalous: number; byDefect: Record<string, number> }[];
}

export const datasetCalls = {
  'datasets:list': { input: emptyInput, result: returns<DatasetInfo[]>() },
  'datasets:summary': { input: z.object({ datasetId: idInput }).strict(), result: returns<DatasetSummary>() },
  'samples:list': {
    input: z
      .object({
        datasetId: idInput,
        scenario: z.string().max(200).optional(),
        split: z.enum(['train', 'test']).optional(),
        label: z.string().max(200).optional(),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(100),
      })
      .strict(),
    result: returns<{ total: number; samples: SampleInfo[] }>(),
  },
  /**
   * Generates the MIAD-mini dataset into a folder (new, empty, or an earlier MIAD-mini output;
   * anything else is a ConflictError) in a job process, with `datasets:miniProgress` events; no
   * workspace is needed or touched.
   */
  'datasets:generateMini': {
    input: z.object({ outDir: pathInput, options: demoOptionsSchema.optional() }).strict(),
    result: returns<MiniDatasetSummary>(),
  },
} as const;

export const datasetEvents = {
  'datasets:miniProgress': returns<DemoProgress>(),
} as const;
