/**
 * compare:curves: the ROC and PRO curves of several runs for overlaid charts, and their raw image
 * scores for score distributions. Curves come from run_curves; a job run whose curves were never
 * computed gets them through the run report's path (runs/report.ts: computed once from maps and
 * masks, then cached), so there is one metric implementation and one cache.
 */
import type { CompareCurves } from '../../../shared/calls/compare';
import { buildRunReport, REPORT_CURVES, type ReportContext } from '../runs/report';
import { getCurves, type StoredCurve } from '../store/runs-repo';
import { orderScenarios, loadRuns } from './tables';
import { runScores, type ScoredImage } from './predictions';

type CurveKind = CompareCurves['curves'][number]['curve'];

function isReportCurve(c: StoredCurve): c is StoredCurve & { curve: CurveKind } {
  return (REPORT_CURVES as readonly string[]).includes(c.curve);
}

/** Scores split into normal and per defect type, per scenario; defect types sorted by name. */
export function splitScores(runId: number, images: readonly ScoredImage[]): CompareCurves['scores'] {
  const byScenario = new Map<string, { normal: number[]; defects: Map<string, number[]> }>();
  for (const img of images) {
    let s = byScenario.get(img.scenario);
    if (!s) byScenario.set(img.scenario, (s = { normal: [], defects: new Map() }));
    if (img.label === 'good') s.normal.push(img.score);
    else {
      const list = s.defects.get(img.label);
      if (list) list.push(img.score);
      else s.defects.set(img.label, [img.score]);
    }
  }
  return orderScenarios(byScenario.keys()).map((scenario) => {
    const s = byScenario.get(scenario)!;
    return {
      runId,
      scenario,
      normal: s.normal,
      defects: [...s.defects.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([defectType, scores]) => ({ defectType, scores })),
    };
  });
}

export async function compareCurves(ctx: ReportContext, runIds: readonly number[]): Promise<CompareCurves> {
  const runs = loadRuns(ctx.store, runIds);
  const out: CompareCurves = { curves: [], scores: [] };
  for (const run of runs) {
    let curves = getCurves(ctx.store, run.id).filter(isReportCurve);
    if (curves.length === 0 && run.kind === 'internal' && run.status === 'done') {
      // The report computes what it can and caches it; a run without maps or masks stays without curves.
      await buildRunReport(ctx, run.id);
      curves = getCurves(ctx.store, run.id).filter(isReportCurve);
    }
    for (const c of curves) out.curves.push({ runId: run.id, scenario: c.scenario, defectType: c.defectType, curve: c.curve, x: c.x, y: c.y });
    out.scores.push(...splitScores(run.id, await runScores(ctx.store, ctx.runDir(run.id), run)));
  }
  return out;
}
