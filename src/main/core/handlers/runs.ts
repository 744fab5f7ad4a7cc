/** Handlers of the `runs:*` calls: the stored runs, and jobs through the open workspace's runner. */
import { methodPresets } from '../runs/presets';
import { buildRunReport, renderHeatmap, type ReportContext } from '../runs/report';
import { getRun, getSeries, listRuns } from '../store/runs-repo';
import type { DomainHandlers, HandlerContext } from './types';

export function runHandlers(ctx: HandlerContext): DomainHandlers<'runs'> {
  const report = (): ReportContext => {
    const lab = ctx.requireLab();
    return { store: lab.store, runDir: (id) => lab.jobs.runDir(id) };
  };
  return {
    'runs:list': async () => listRuns(ctx.requireLab().store),
    'runs:get': async ({ runId }) => getRun(ctx.requireLab().store, runId),
    'runs:kinds': async () => ctx.requireLab().jobs.listKinds(),
    'runs:start': async (input) => ctx.requireLab().jobs.start(input),
    'runs:cancel': async ({ runId }) => ctx.requireLab().jobs.cancel(runId),
    'runs:resume': async ({ runId }) => ctx.requireLab().jobs.resume(runId),
    'runs:series': async ({ runId }) => {
      const store = ctx.requireLab().store;
      getRun(store, runId);
      return getSeries(store, runId);
    },
    'runs:presets': async ({ method }) => methodPresets(method),
    'runs:report': async ({ runId }) => buildRunReport(report(), runId),
    'runs:heatmap': async ({ runId, relPath }) => ({ path: await renderHeatmap(report(), runId, relPath) }),
  };
}
