/** Handlers of the `datasets:*` and `samples:*` calls. */
import { isAbsolute } from 'node:path';
import { LabError } from '../../../shared/errors';
import type { DemoGenerator } from '../datasets/demo-dataset';
import { inspectOutDir } from '../datasets/miad-mini/generate';
import type { DomainHandlers, HandlerContext } from './types';

export interface DatasetHandlerDeps {
  /** Makes MIAD-mini in a job process (the host's demo generator): never on the door's main thread. */
  generateMini: DemoGenerator;
}

export function datasetHandlers(ctx: HandlerContext, deps: DatasetHandlerDeps): DomainHandlers<'datasets' | 'samples'> {
  return {
    'datasets:list': async () => ctx.requireLab().listDatasets(),
    'datasets:summary': async (input) => ctx.requireLab().datasetSummary(input),
    'samples:list': async (input) => ctx.requireLab().listSamples(input),
    'datasets:generateMini': async ({ outDir, options }) => {
      if (!isAbsolute(outDir)) throw new LabError(`the output folder must be an absolute path, got ${JSON.stringify(outDir)}`, 'ValidationError');
      // Refused before a process starts: a file, or a foreign non-empty folder (ConflictError naming it).
      await inspectOutDir(outDir);
      // Not the open workspace's work (none is needed), so closing one does not cancel it.
      const made = await deps.generateMini(outDir, options ?? {}, (p) => ctx.emit('datasets:miniProgress', p));
      if (!made.summary) throw new LabError('the MIAD-mini generator returned no report');
      return made.summary;
    },
  };
}
