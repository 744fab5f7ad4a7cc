/**
 * Keeps an evaluation of another tool's maps in a workspace as an external run, so it compares
 * like our own runs: its metrics per scope, its curves, its per-image scores.
 */
import type { RunMetricInfo } from '../../../shared/types';
import type { Store } from '../store/store';
import { insertRun, type NewCurve } from '../store/runs-repo';
import type { Curve } from './curve';
import type { EvaluationResult, EvaluationScope } from './evaluate-predictions';

/** The five metrics of one scope (a scenario overall, or one defect type) as run metric rows. */
export function scopeMetrics(scenario: string, scope: Pick<EvaluationScope, 'defect' | 'metrics'>): RunMetricInfo[] {
  const defectType = scope.defect ?? '';
  const m = scope.metrics;
  return [
    { scenario, defectType, metric: 'image_auroc', value: m.imageAuroc, threshold: null },
    { scenario, defectType, metric: 'image_f1_max', value: m.imageF1Max, threshold: m.imageF1Threshold },
    { scenario, defectType, metric: 'pixel_auroc', value: m.pixelAuroc, threshold: null },
    { scenario, defectType, metric: 'pixel_f1_max', value: m.pixelF1Max, threshold: m.pixelF1Threshold },
    { scenario, defectType, metric: 'aupro', value: m.aupro, threshold: null },
  ];
}

function scopeCurves(scenario: string, scope: EvaluationScope): NewCurve[] {
  const defectType = scope.defect ?? '';
  const named: [string, Curve | null][] = [
    ['image_roc', scope.curves.imageRoc],
    ['image_pr', scope.curves.imagePr],
    ['pixel_roc', scope.curves.pixelRoc],
    ['pixel_pr', scope.curves.pixelPr],
    ['pro', scope.curves.pro],
  ];
  return named.filter((e): e is [string, Curve] => e[1] !== null).map(([curve, points]) => ({ scenario, defectType, curve, points }));
}

/** The curves a run page draws (runs/report.ts REPORT_CURVES), in the order the report lists them. */
const PAGE_CURVES = [
  ['image_roc', 'imageRoc'],
  ['pixel_roc', 'pixelRoc'],
  ['pro', 'pro'],
] as const;

/**
 * A job's curves for run_curves (protocol.ts `curves`): image ROC, pixel ROC and PRO of each scope,
 * down-sampled as the evaluation samples them (CURVE_SAMPLES), the same rows runs/report.ts stores
 * when it computes them on a page's first view. The job has every map and mask in memory, so it
 * sends them with its result and the main process never recomputes them.
 */
export function pageCurves(scenario: string, scopes: readonly EvaluationScope[]): { scenario: string; defectType: string; curve: string; x: number[]; y: number[] }[] {
  return scopes.flatMap((scope) =>
    PAGE_CURVES.flatMap(([curve, key]) => {
      const c = scope.curves[key];
      return c ? [{ scenario, defectType: scope.defect ?? '', curve, x: c.x, y: c.y }] : [];
    }),
  );
}

/** Stores the result as a finished external run; returns the run's id. */
export function storeExternalRun(store: Store, result: EvaluationResult, options: { name: string; method: string }): number {
  const scopes = [result.overall, ...result.perDefect];
  return insertRun(
    store,
    {
      name: options.name,
      kind: 'external',
      method: options.method,
      scenarios: [result.scenario],
      datasetRoot: result.datasetRoot,
      config: {
        predictionsDir: result.predictionsDir,
        resolution: result.resolution,
        proLimit: result.proLimit,
        imageScores: result.imageScores,
        conventions: result.conventions,
        warnings: result.warnings,
      },
      status: 'done',
      finishedAt: store.nowIso(),
    },
    {
      metrics: scopes.flatMap((s) => scopeMetrics(result.scenario, s)),
      curves: scopes.flatMap((s) => scopeCurves(result.scenario, s)),
      predictions: result.images.map((img) => ({ scenario: result.scenario, relPath: img.relPath, label: img.label, score: img.score, mapPath: null })),
    },
  );
}
