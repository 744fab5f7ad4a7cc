/** Calls about runs: our own and external ones (`miad-lab evaluate --workspace`). */
import { z } from 'zod';
import type { RunDetail, RunInfo } from '../types';
import { emptyInput, idInput, returns } from './define';

export const runCalls = {
  'runs:list': { input: emptyInput, result: returns<RunInfo[]>() },
  'runs:get': { input: z.object({ runId: idInput }).strict(), result: returns<RunDetail>() },
} as const;

export const runEvents = {} as const;
