/**
 * The demo dataset of a new demo workspace: MIAD-mini generated into the workspace, returned as
 * the samples to register (the generator knows every file it wrote, so nothing is re-scanned).
 */
import type { z } from 'zod';
import type { demoOptionsSchema } from '../../../shared/contract';
import type { DemoProgress } from '../../../shared/types';
import type { NewSample } from '../store/store';
import { generateMiadMini } from './miad-mini/generate';

export type DemoOptions = z.output<typeof demoOptionsSchema>;

export interface DemoDataset {
  samples: NewSample[];
}

export type DemoGenerator = (outDir: string, options: DemoOptions, onProgress: (progress: DemoProgress) => void) => Promise<DemoDataset>;

/** MIAD-mini at its defaults (7 × (200 train + 60 test) at 256 px) unless the options say otherwise. */
export const generateDemoDataset: DemoGenerator = async (outDir, options, onProgress) => {
  const report = await generateMiadMini({ outDir, ...options }, onProgress);
  const samples: NewSample[] = report.scenarios.flatMap((s) =>
    s.files.map((f) => ({
      scenario: f.scenario,
      split: f.split,
      label: f.label === 'good' ? 'good' : (f.defect ?? 'anomalous'),
      relPath: f.relPath,
      maskRelPath: f.maskRelPath,
      width: f.width,
      height: f.height,
    })),
  );
  return { samples };
};
