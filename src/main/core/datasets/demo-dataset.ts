/**
 * The demo dataset of a new demo workspace: MIAD-mini generated into the workspace, returned as
 * the samples to register (the generator knows every file it wrote, so nothing is re-scanned).
 * The host runs it as a job process (generateDemoInJob, kinds/demo.ts), never on its own thread.
 */
import type { z } from 'zod';
import type { demoOptionsSchema } from '../../../shared/contract';
import type { DemoProgress } from '../../../shared/types';
import type { NewSample } from '../store/store';
import { generateMiadMini, miniSummary } from './miad-mini/generate';
import type { MiniDatasetSummary } from '../../../shared/calls/datasets';
import { runStandaloneJob } from '../jobs/standalone';
import type { SpawnWorker } from '../jobs/spawn';

export type DemoOptions = z.output<typeof demoOptionsSchema>;

export interface DemoDataset {
  samples: NewSample[];
  /** The generator's report without its file lists (a test's fake generator may leave it out). */
  summary?: MiniDatasetSummary;
}

/** Writes the demo dataset into `outDir`; stops (rejecting) when `signal` aborts, if it can. */
export type DemoGenerator = (outDir: string, options: DemoOptions, onProgress: (progress: DemoProgress) => void, signal?: AbortSignal) => Promise<DemoDataset>;

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
  return { samples, summary: miniSummary(report) };
};

/**
 * The generator the host uses: generateDemoDataset in a job process started by `spawn` (the
 * door's spawner), its progress relayed; an abort ends the process at once.
 */
export function generateDemoInJob(spawn: SpawnWorker): DemoGenerator {
  return async (outDir, options, onProgress, signal) => {
    const result = await runStandaloneJob(spawn, { kind: 'demo', config: { outDir, options }, dir: outDir }, {
      onProgress: (p) => onProgress({ phase: p.phase === 'generating' ? 'generating' : 'done', scenario: p.message ?? null, done: p.step, total: p.total }),
      ...(signal ? { signal } : {}),
    });
    const summary = result.summary?.report as MiniDatasetSummary | undefined;
    return { samples: (result.summary?.samples ?? []) as NewSample[], ...(summary ? { summary } : {}) };
  };
}
