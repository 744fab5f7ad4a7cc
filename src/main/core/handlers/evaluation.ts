/**
 * Handler of `evaluation:predictions`: predictions made by any tool, evaluated against a dataset
 * folder; stored as an external run of the open workspace when asked.
 */
import { evaluatePredictions } from '../evaluation/evaluate-predictions';
import { storeExternalRun } from '../evaluation/store-result';
import { getRun } from '../store/runs-repo';
import type { DomainHandlers, HandlerContext } from './types';

export function evaluationHandlers(ctx: HandlerContext): DomainHandlers<'evaluation'> {
  return {
    'evaluation:predictions': async ({ datasetRoot, scenario, predictionsDir, resolution, proLimit, store }) => {
      // The workspace first: a missing one fails before minutes of evaluation.
      const lab = store ? ctx.requireLab() : null;
      const result = await evaluatePredictions({ datasetRoot, scenario, predictionsDir, resolution, proLimit });
      if (!lab || !store) return { ...result, runId: null };
      const runId = storeExternalRun(lab.store, result, store);
      ctx.emit('runs:changed', { run: getRun(lab.store, runId) });
      return { ...result, runId };
    },
  };
}
