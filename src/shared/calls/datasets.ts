/** Calls about datasets and their samples. */
import { z } from 'zod';
import type { DatasetInfo, DatasetSummary, SampleInfo } from '../types';
import { emptyInput, idInput, returns } from './define';

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
} as const;

export const datasetEvents = {} as const;
