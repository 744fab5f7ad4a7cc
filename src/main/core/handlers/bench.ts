/** Handlers of the `bench:*` calls: benchmark matrices stored in the workspace, run by its local executor. */
import { LabError } from '../../../shared/errors';
import { estimateBenchmark } from '../bench/estimate';
import { planBenchmark } from '../bench/plan';
import { benchTable } from '../bench/results';
import { getBenchmark, insertBenchmark, listBenchmarks } from '../store/bench-repo';
import type { RunHandlerDeps } from './runs';
import type { DomainHandlers, HandlerContext } from './types';

export function benchHandlers(ctx: HandlerContext, deps: RunHandlerDeps): DomainHandlers<'bench'> {
  return {
    'bench:list': async () => listBenchmarks(ctx.requireLab().store),
    'bench:get': async ({ benchmarkId }) => getBenchmark(ctx.requireLab().store, benchmarkId),
    'bench:create': async (input) => {
      const lab = ctx.requireLab();
      const plan = planBenchmark(input, lab.listDatasets());
      const name = input.name ?? `${plan.spec.methods.length} method${plan.spec.methods.length === 1 ? '' : 's'} × ${plan.spec.scenarios.length} scenario${plan.spec.scenarios.length === 1 ? '' : 's'} (${plan.spec.presets.join(', ')})`;
      const id = insertBenchmark(lab.store, { name, datasetId: plan.datasetId, execution: input.execution, spec: plan.spec }, plan.cells);
      const benchmark = getBenchmark(lab.store, id);
      ctx.emit('bench:changed', { benchmark });
      return benchmark;
    },
    'bench:estimate': async ({ benchmarkId, backend }) => {
      const lab = ctx.requireLab();
      const stored = getBenchmark(lab.store, benchmarkId).backend;
      const chosen = backend ?? stored ?? (await deps.forcedBackend()) ?? (await deps.bestBackend());
      if (!chosen) throw new LabError('no compute backend is available on this machine, so the benchmark cannot be estimated', 'ConflictError');
      return estimateBenchmark({ store: lab.store, workspaceDir: lab.dir, runDir: (id) => lab.jobs.runDir(id), kinds: lab.jobs.listKinds().map((k) => k.name) }, benchmarkId, chosen);
    },
    'bench:start': async ({ benchmarkId, queue }) => {
      const lab = ctx.requireLab();
      const b = getBenchmark(lab.store, benchmarkId);
      if (b.execution === 'queue') {
        if (queue === undefined) throw new LabError(`benchmark ${benchmarkId} runs on a queue: give the queue's URL (redis://user:password@host:port) to start it`, 'ValidationError');
        return lab.queueBenchmarks.start(benchmarkId, queue);
      }
      if (queue !== undefined) throw new LabError(`benchmark ${benchmarkId} runs in this process: a queue URL does not apply (create the benchmark with execution 'queue' to run it on worker hosts)`, 'ValidationError');
      if (b.state === 'running') return b;
      return lab.benchmarks.start(benchmarkId);
    },
    'bench:cancel': async ({ benchmarkId }) => {
      const lab = ctx.requireLab();
      const b = getBenchmark(lab.store, benchmarkId);
      if (b.state === 'done') throw new LabError(`benchmark ${benchmarkId} is done: there is nothing to cancel`, 'ConflictError');
      if (b.state === 'cancelled') return b;
      return b.execution === 'queue' ? lab.queueBenchmarks.cancel(benchmarkId) : lab.benchmarks.cancel(benchmarkId);
    },
    'bench:table': async ({ benchmarkId }) => benchTable(ctx.requireLab().store, benchmarkId),
  };
}
