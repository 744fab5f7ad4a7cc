import { describe, expect, it } from 'vitest';
import type { DatasetSummary, ScenarioCounts } from '../../src/shared/types';
import { exampleSlots, summaryRow, summaryTable } from '../../src/renderer/src/lib/overview/summary-rows';

function counts(partial: Partial<ScenarioCounts> & Pick<ScenarioCounts, 'scenario'>): ScenarioCounts {
  return { miadScenario: null, trainGood: 0, testGood: 0, testDefects: {}, masks: 0, width: null, height: null, ...partial };
}

const summary: DatasetSummary = {
  dataset: { id: 1, name: 'mini', root: '/x', kind: 'miad-mini', createdAt: '', sampleCount: 0, scenarios: [] },
  scenarios: [
    counts({
      scenario: 'nut_and_bolt',
      miadScenario: 'nut_and_bolt',
      trainGood: 40,
      testGood: 6,
      // Out of Table A.1 order, one type missing, one label Table A.1 does not list here.
      testDefects: { nut_miss: 2, looseness: 3, crack: 1 },
      masks: 6,
      width: 128,
      height: 128,
    }),
    counts({ scenario: 'wind_turbine', miadScenario: 'wind_turbine', trainGood: 10, testGood: 4, testDefects: { crack: 5 }, masks: 5, width: 128, height: 96 }),
  ],
};

describe('summaryRow', () => {
  it('lists the Table A.1 defect types in the paper order, zeros included, then unknown labels flagged', () => {
    const row = summaryRow(summary.scenarios[0]!);
    expect(row.label).toBe('Nut and Bolt');
    expect(row.factors).toEqual(['viewpoint']);
    expect(row.defects).toEqual([
      { name: 'looseness', label: 'looseness', count: 3, inTaxonomy: true },
      { name: 'bolt_miss', label: 'bolt miss', count: 0, inTaxonomy: true },
      { name: 'nut_miss', label: 'nut miss', count: 2, inTaxonomy: true },
      { name: 'crack', label: 'crack', count: 1, inTaxonomy: false },
    ]);
    expect(row.testAnomalous).toBe(6);
    expect(row.size).toBe('128 × 128');
  });

  it('keeps a non-MIAD category with its own labels and no factors', () => {
    const row = summaryRow(counts({ scenario: 'metal_nut', testDefects: { bent: 2, color: 1 } }));
    expect(row.miad).toBe(false);
    expect(row.label).toBe('metal nut');
    expect(row.factors).toEqual([]);
    expect(row.defects.map((d) => [d.name, d.inTaxonomy])).toEqual([
      ['bent', true],
      ['color', true],
    ]);
    expect(row.size).toBeNull();
  });
});

describe('summaryTable', () => {
  it('sums the columns and says when image sizes differ', () => {
    const { rows, totals } = summaryTable(summary);
    expect(rows).toHaveLength(2);
    expect(totals).toEqual({ trainGood: 50, testGood: 10, testAnomalous: 11, masks: 11, defectTypes: 4, size: 'mixed' });
  });
});

describe('exampleSlots', () => {
  it('asks for one normal image and one per defect type that has images', () => {
    const slots = exampleSlots(summaryRow(summary.scenarios[0]!));
    expect(slots.map((s) => s.label)).toEqual(['good', 'looseness', 'nut_miss', 'crack']);
    expect(slots[0]!.defect).toBe(false);
    expect(slots[1]!.caption).toBe('looseness');
  });
});
