/** The Library bulk edit's pure parts: defect types common to a selection's scenarios, and the confirmation. */
import { describe, expect, it } from 'vitest';
import { commonDefectTypes, confirmText, isEmptyPatch } from '../../src/renderer/src/lib/library/bulk';

describe('bulk edit helpers', () => {
  it('offers only the Table A.1 types every selected scenario allows', () => {
    expect(commonDefectTypes(['metal_welding'])).toEqual(['weld_beading', 'weld_pit']);
    expect(commonDefectTypes(['metal_welding', 'metal_welding'])).toEqual(['weld_beading', 'weld_pit']);
    // Looseness is a catenary dropper's, a nut and bolt's and a witness mark's.
    expect(commonDefectTypes(['catenary_dropper', 'nut_and_bolt', 'witness_mark'])).toEqual(['looseness']);
    expect(commonDefectTypes(['electrical_insulator', 'wind_turbine'])).toEqual(['crack']);
    expect(commonDefectTypes(['metal_welding', 'wind_turbine'])).toEqual([]);
    // Outside MIAD there is no row to take types from; nothing selected offers nothing.
    expect(commonDefectTypes(['bottle'])).toEqual([]);
    expect(commonDefectTypes(['wind_turbine', 'bottle'])).toEqual([]);
    expect(commonDefectTypes([])).toEqual([]);
  });

  it('says what will change and on how many samples', () => {
    expect(confirmText({ defectType: 'weld_pit', reviewState: 'reviewed' }, 12)).toBe('Set defect type to weld pit, review to reviewed on 12 samples?');
    expect(confirmText({ excluded: true }, 1)).toBe('Exclude from training on 1 sample?');
    expect(confirmText({ label: 'good', excluded: false }, 105000)).toBe('Set label to good and include in training on 105,000 samples?');
    expect(confirmText({ defectType: null }, 2)).toBe('Set no defect type on 2 samples?');
    expect(isEmptyPatch({})).toBe(true);
    expect(isEmptyPatch({ excluded: false })).toBe(false);
  });
});
