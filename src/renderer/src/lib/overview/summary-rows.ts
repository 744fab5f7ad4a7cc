/**
 * Turns a `datasets:summary` into the Overview table: one row per scenario with its Table A.1
 * defect types in the paper's order (a type with no test images still shows, as 0, so a gap is
 * visible), labels not in Table A.1 kept and flagged rather than dropped, and the totals row.
 */
import type { DatasetSummary, ScenarioCounts } from '../../../../shared/types';
import { SCENARIO_INFO, isScenario, type Factor } from '../../../../shared/taxonomy';

export interface DefectCell {
  /** Folder-style name as stored on samples, e.g. `weld_pit`. */
  name: string;
  /** As Table A.1 writes it, e.g. `weld pit`. */
  label: string;
  count: number;
  /** False for a label the scenario's Table A.1 row does not list (or a non-MIAD category). */
  inTaxonomy: boolean;
}

export interface SummaryRow {
  scenario: string;
  label: string;
  factors: readonly Factor[];
  miad: boolean;
  trainGood: number;
  testGood: number;
  testAnomalous: number;
  defects: DefectCell[];
  masks: number;
  /** `256 × 256`, or null when the store has no size for this scenario. */
  size: string | null;
}

export interface SummaryTotals {
  trainGood: number;
  testGood: number;
  testAnomalous: number;
  masks: number;
  /** Defect types with at least one test image, over all scenarios. */
  defectTypes: number;
  /** One size when all scenarios agree, `mixed`, or null when none is known. */
  size: string | null;
}

export function humanise(name: string): string {
  return name.replace(/_/g, ' ');
}

export function scenarioLabel(scenario: string): string {
  return isScenario(scenario) ? SCENARIO_INFO[scenario].label : humanise(scenario);
}

export function sizeText(width: number | null, height: number | null): string | null {
  return width !== null && height !== null ? `${width} × ${height}` : null;
}

export function summaryRow(counts: ScenarioCounts): SummaryRow {
  const info = counts.miadScenario ? SCENARIO_INFO[counts.miadScenario] : null;
  const known = info ? [...info.defects] : [];
  const extra = Object.keys(counts.testDefects)
    .filter((name) => !known.includes(name))
    .sort();
  const defects: DefectCell[] = [
    ...known.map((name) => ({ name, label: humanise(name), count: counts.testDefects[name] ?? 0, inTaxonomy: true })),
    ...extra.map((name) => ({ name, label: humanise(name), count: counts.testDefects[name] ?? 0, inTaxonomy: info === null })),
  ];
  return {
    scenario: counts.scenario,
    label: info ? info.label : humanise(counts.scenario),
    factors: info ? info.factors : [],
    miad: info !== null,
    trainGood: counts.trainGood,
    testGood: counts.testGood,
    testAnomalous: defects.reduce((sum, d) => sum + d.count, 0),
    defects,
    masks: counts.masks,
    size: sizeText(counts.width, counts.height),
  };
}

export function summaryTable(summary: DatasetSummary): { rows: SummaryRow[]; totals: SummaryTotals } {
  const rows = summary.scenarios.map(summaryRow);
  const sizes = new Set(rows.map((r) => r.size).filter((s): s is string => s !== null));
  const totals: SummaryTotals = {
    trainGood: sum(rows, (r) => r.trainGood),
    testGood: sum(rows, (r) => r.testGood),
    testAnomalous: sum(rows, (r) => r.testAnomalous),
    masks: sum(rows, (r) => r.masks),
    defectTypes: sum(rows, (r) => r.defects.filter((d) => d.count > 0).length),
    size: sizes.size === 0 ? null : sizes.size === 1 ? [...sizes][0]! : 'mixed',
  };
  return { rows, totals };
}

/** The example strip's slots: one normal test image, then one per defect type that has images. */
export function exampleSlots(row: SummaryRow): { label: string; caption: string; defect: boolean }[] {
  return [
    { label: 'good', caption: 'normal', defect: false },
    ...row.defects.filter((d) => d.count > 0).map((d) => ({ label: d.name, caption: d.label, defect: true })),
  ];
}

function sum<T>(items: T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}
