/** Handlers of the `runs:*` calls. */
import { getRun, listRuns } from '../store/runs-repo';
import type { DomainHandlers, HandlerContext } from './types';

export function runHandlers(ctx: HandlerContext): DomainHandlers<'runs'> {
  return {
    'runs:list': async () => listRuns(ctx.requireLab().store),
    'runs:get': async ({ runId }) => getRun(ctx.requireLab().store, runId),
  };
}
