/**
 * Handlers of the `checks:*` calls (issue 19): a training-set check started as a job through the
 * open workspace's runner (kind `train-check`, checks/train-check-kind.ts), and the shown checks'
 * rankings read from the store (store/checks-repo.ts).
 */
import { LabError } from '../../../shared/errors';
import type { CheckRanking } from '../../../shared/calls/checks';
import { checkScores, getCheck, latestChecks, sampleSuspicion, topCount } from '../store/checks-repo';
import type { Lab } from '../lab';
import type { DomainHandlers, HandlerContext } from './types';

/** The dataset a check of `scenario` reads: the given one, or the only one holding the scenario. */
function datasetFor(lab: Lab, scenario: string, datasetId: number | undefined): number {
  if (datasetId !== undefined) return datasetId;
  const all = lab.listDatasets();
  const holding = all.filter((d) => d.scenarios.includes(scenario));
  if (holding.length === 0) {
    const known = [...new Set(all.flatMap((d) => d.scenarios))].sort();
    throw new LabError(`no dataset of this workspace has scenario ${JSON.stringify(scenario)} (scenarios: ${known.join(', ') || 'none'})`, 'ValidationError');
  }
  if (holding.length > 1) throw new LabError(`${holding.length} datasets hold scenario ${scenario} (${holding.map((d) => `#${d.id} ${d.name}`).join(', ')}): name one with datasetId`, 'ValidationError');
  return holding[0]!.id;
}

export function checksHandlers(ctx: HandlerContext, deps: { forcedBackend: () => Promise<string | undefined> }): DomainHandlers<'checks'> {
  return {
    'checks:start': async ({ scenario, datasetId, folds, preset, overrides, weightsFile, seed, name }) => {
      const lab = ctx.requireLab();
      const config = {
        datasetId: datasetFor(lab, scenario, datasetId),
        scenario,
        folds,
        ...(preset !== undefined ? { preset } : {}),
        ...(overrides !== undefined ? { overrides } : {}),
        ...(weightsFile !== undefined ? { weightsFile } : {}),
        ...(seed !== undefined ? { seed } : {}),
      };
      const backend = await deps.forcedBackend();
      return lab.jobs.start({ kind: 'train-check', name: name ?? `check · ${scenario} · ${folds} folds`, config, ...(backend ? { backend } : {}) });
    },
    'checks:list': async () => latestChecks(ctx.requireLab().store),
    'checks:ranking': async ({ runId, scenario, datasetId, top, percent }) => {
      const store = ctx.requireLab().store;
      let id = runId;
      if (id === undefined) {
        const shown = latestChecks(store).filter((c) => c.scenario === scenario && (datasetId === undefined || c.datasetId === datasetId));
        if (shown.length === 0) throw new LabError(`scenario ${scenario} has no finished training-set check: run "Check the training set" first`, 'NotFoundError');
        if (shown.length > 1) throw new LabError(`${shown.length} datasets have a check of ${scenario}: name one with datasetId`, 'ValidationError');
        id = shown[0]!.runId;
      }
      const check = getCheck(store, id);
      const scores = checkScores(store, id);
      const n = top !== undefined ? Math.min(top, scores.length) : topCount(scores.length, percent ?? 5);
      const ranking: CheckRanking = { check, top: n, items: scores.slice(0, n).map((s, rank) => ({ ...s, rank })) };
      return ranking;
    },
    'checks:sample': async ({ sampleId }) => sampleSuspicion(ctx.requireLab().store, sampleId),
  };
}
