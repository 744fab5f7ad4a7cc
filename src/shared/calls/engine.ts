/** Calls about the compute engine: which backends this machine offers, and why not the others. */
import { z } from 'zod';
import type { BackendStatusInfo } from '../backends';
import { returns } from './define';

export const engineCalls = {
  'engine:backends': {
    input: z.object({ refresh: z.boolean().optional() }).strict(),
    result: returns<{ backends: BackendStatusInfo[]; best: string | null; probedAt: string }>(),
  },
} as const;

export const engineEvents = {} as const;
