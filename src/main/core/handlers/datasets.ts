/** Handlers of the `datasets:*` and `samples:*` calls. */
import type { DomainHandlers, HandlerContext } from './types';

export function datasetHandlers(ctx: HandlerContext): DomainHandlers<'datasets' | 'samples'> {
  return {
    'datasets:list': async () => ctx.requireLab().listDatasets(),
    'datasets:summary': async (input) => ctx.requireLab().datasetSummary(input),
    'samples:list': async (input) => ctx.requireLab().listSamples(input),
  };
}
