/**
 * The demo dataset of a new demo workspace: MIAD-mini generated into the workspace, returned as
 * the samples to register (the generator knows every file it wrote, so nothing is re-scanned).
 */
import type { z } from 'zod';
import type { demoOptionsSchema } from '../../../shared/contract';
import type { DemoProgress } from '../../../shared/types';
import type { NewSample } from '../store/store';

export type DemoOptions = z.output<typeof demoOptionsSchema>;

export interface DemoDataset {
  samples: NewSample[];
}

export type DemoGenerator = (outDir: string, options: DemoOptions, onProgress: (progress: DemoProgress) => void) => Promise<DemoDataset>;

export const generateDemoDataset: DemoGenerator = async () => {
  throw new Error('MIAD-mini generator not wired yet');
};
