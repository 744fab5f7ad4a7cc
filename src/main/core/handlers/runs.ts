/** Handlers of the `runs:*` calls: the stored runs, and jobs through the open workspace's runner. */
import { METHODS, getMethod, methodPresets } from '../methods/registry';
import { synthesisPreview } from '../methods/draem/preview';
import { describeEstimate, estimateTraining } from '../runs/estimate';
import { LabError } from '../../../shared/errors';
import { buildRunReport, renderHeatmap, type ReportContext } from '../runs/report';
import { rm } from 'node:fs/promises';
import { diffRuns } from '../compare/config-diff';
import { hasCheckpoint } from '../jobs/checkpoints';
import { deleteRunRows, getRun, getSeries, listRunTable, listRuns, updateRun } from '../store/runs-repo';
import type { JOB_BACKENDS } from '../../../shared/calls/runs';
import type { DomainHandlers, HandlerContext } from './types';
import type { Store } from '../store/store';
import type { RunInfo } from '../../../shared/types';

export interface RunHandlerDeps {
  /** The stored "force backend" setting (engine:setBackend): used when a start names no backend. */
  forcedBackend: () => Promise<(typeof JOB_BACKENDS)[number] | undefined>;
  /** The best backend this machine offers (engine:backends' probe), for estimates of unforced runs. */
  bestBackend: () => Promise<string | null>;
}

const ENDED = new Set(['done', 'failed', 'cancelled']);

/** Resolves when run `runId` is done, failed or cancelled; rejects when `signal` aborts (the workspace closes). */
function untilEnded(ctx: HandlerContext, store: Store, runId: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const finish = (error?: unknown) => {
      stop();
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onAbort = () => finish(new LabError(`stopped waiting for run #${runId}: ${signal.reason instanceof Error ? signal.reason.message : 'cancelled'}`, 'ConflictError'));
    // Listen first, then look: a change between the two is not missed.
    const stop = ctx.listen((event, payload) => {
      if (event === 'runs:changed' && (payload as { run: RunInfo }).run.id === runId && ENDED.has((payload as { run: RunInfo }).run.status)) finish();
    });
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    if (ENDED.has(getRun(store, runId).status)) finish();
  });
}

export function runHandlers(ctx: HandlerContext, deps: RunHandlerDeps): DomainHandlers<'runs'> {
  const report = (): ReportContext => {
    const lab = ctx.requireLab();
    return { store: lab.store, runDir: (id) => lab.jobs.runDir(id) };
  };
  return {
    'runs:list': async () => listRuns(ctx.requireLab().store),
    'runs:get': async ({ runId }) => getRun(ctx.requireLab().store, runId),
    'runs:kinds': async () => ctx.requireLab().jobs.listKinds(),
    'runs:start': async (input) => ctx.requireLab().jobs.start({ ...input, backend: input.backend ?? (await deps.forcedBackend()) }),
    'runs:cancel': async ({ runId }) => ctx.requireLab().jobs.cancel(runId),
    'runs:resume': async ({ runId }) => ctx.requireLab().jobs.resume(runId),
    'runs:wait': async ({ runId }) => {
      const lab = ctx.requireLab();
      getRun(lab.store, runId);
      await ctx.track(`wait for run #${runId}`, (signal) => untilEnded(ctx, lab.store, runId, signal));
      // The job process has exited and a `done` run's result is on disk.
      await lab.jobs.waitForSettled(runId);
      return getRun(lab.store, runId);
    },
    'runs:series': async ({ runId }) => {
      const store = ctx.requireLab().store;
      getRun(store, runId);
      return getSeries(store, runId);
    },
    'runs:presets': async ({ method }) => methodPresets(method),
    'runs:methods': async () =>
      METHODS.map((m) => ({ name: m.name, title: m.title, presets: [...m.presets], defaultPreset: m.defaultPreset, unified: m.unified ?? false })),
    'runs:resolveConfig': async ({ method, preset, overrides }) => {
      const definition = getMethod(method);
      const chosen = preset ?? definition.defaultPreset;
      if (!definition.presets.includes(chosen)) {
        throw new LabError(`${method} has no preset ${JSON.stringify(chosen)}; its presets: ${definition.presets.join(', ')}`, 'ValidationError');
      }
      const { config } = definition.resolveConfig(chosen, overrides ?? {});
      return { method, preset: chosen, config: config as Record<string, unknown>, backbone: definition.backboneArch(config) };
    },
    'runs:synthesisPreview': async ({ datasetId, scenario, preset, overrides, count }) => {
      const lab = ctx.requireLab();
      const { config } = getMethod('draem').resolveConfig(preset, overrides ?? {});
      const train = lab.store.listSamples({ datasetId, scenario, split: 'train', offset: 0, limit: 100_000 }).samples.filter((s) => s.label === 'good');
      if (train.length === 0) throw new LabError(`dataset #${datasetId} has no normal training images for scenario ${JSON.stringify(scenario)}`, 'ValidationError');
      return synthesisPreview(config, train.map((s) => s.path), count, lab.dir);
    },
    'runs:estimate': async ({ method, preset, overrides, datasetId, scenario, scenarios, backend }) => {
      const lab = ctx.requireLab();
      const chosen = backend ?? (await deps.forcedBackend()) ?? (await deps.bestBackend());
      if (!chosen) throw new LabError('no compute backend is available on this machine, so no run can be estimated', 'ConflictError');
      // A unified run samples each of its scenarios on its own.
      const per = (scenarios ?? [scenario]).map((s) => lab.store.listSamples({ datasetId, scenario: s, split: 'train', offset: 0, limit: 1 }).total);
      const available = per.reduce((a, n) => a + n, 0);
      const estimate = await estimateTraining(lab.store, (id) => lab.jobs.runDir(id), { method, preset, overrides, availableImages: available, scenarioImages: per, backend: chosen });
      return { ...estimate, text: describeEstimate(estimate) };
    },
    'runs:report': async ({ runId }) => buildRunReport(report(), runId),
    'runs:heatmap': async ({ runId, relPath }) => ({ path: await renderHeatmap(report(), runId, relPath) }),
    'runs:table': async () => {
      const lab = ctx.requireLab();
      const rows = listRunTable(lab.store);
      for (const row of rows) {
        if (row.kind === 'internal' && (row.status === 'failed' || row.status === 'cancelled')) row.resumable = await hasCheckpoint(lab.jobs.runDir(row.id));
      }
      return rows;
    },
    'runs:update': async ({ runId, name, tags, notes }) => {
      const run = updateRun(ctx.requireLab().store, runId, { name, tags, notes });
      // Other windows showing this run (the runs table, a report) refresh from the event.
      ctx.emit('runs:changed', { run });
      return run;
    },
    'runs:delete': async ({ runId }) => {
      const lab = ctx.requireLab();
      // Rows first, in one transaction: a run whose folder removal fails is gone from every view
      // and leaves only files behind, never rows pointing at missing files.
      deleteRunRows(lab.store, runId);
      await rm(lab.jobs.runDir(runId), { recursive: true, force: true });
      return { runId };
    },
    'runs:diff': async ({ a, b }) => {
      const store = ctx.requireLab().store;
      return diffRuns(getRun(store, a), getRun(store, b));
    },
  };
}
