import { describe, expect, it } from 'vitest';
import { matchDefectFolder, matchScenarioFolder, nameTokens } from '../../src/main/core/datasets/import/aliases';
import { checkImageBytes } from '../../src/main/core/datasets/import/file-facts';
import { DEFECT_TYPES } from '../../src/shared/taxonomy';
import { png } from './helpers';

describe('defect folder aliases', () => {
  it('maps every Table A.1 name to itself', () => {
    for (const t of DEFECT_TYPES) expect(matchDefectFolder(t.scenario, t.name)).toEqual({ type: t.name, how: 'exact' });
  });

  it('maps the spellings seen in the wild', () => {
    const cases: [Parameters<typeof matchDefectFolder>[0], string, string][] = [
      ['metal_welding', 'Weld Pit', 'weld_pit'],
      ['metal_welding', 'weld-pits', 'weld_pit'],
      ['metal_welding', 'pit', 'weld_pit'],
      ['metal_welding', 'pits', 'weld_pit'],
      ['metal_welding', 'WELD_BEADING', 'weld_beading'],
      ['metal_welding', 'beads', 'weld_beading'],
      ['nut_and_bolt', 'bolt_missing', 'bolt_miss'],
      ['nut_and_bolt', 'missing_nut', 'nut_miss'],
      ['nut_and_bolt', 'Missing Nuts', 'nut_miss'],
      ['nut_and_bolt', 'loose', 'looseness'],
      ['photovoltaic_module', 'foreign_object', 'foreign_body'],
      ['photovoltaic_module', 'Foreign Body', 'foreign_body'],
      ['photovoltaic_module', 'missing', 'miss'],
      ['catenary_dropper', 'Broken', 'broken'],
      ['electrical_insulator', 'cracks', 'crack'],
      ['wind_turbine', 'Cracked', 'crack'],
      ['witness_mark', 'loosened', 'looseness'],
    ];
    for (const [scenario, folder, type] of cases) expect(matchDefectFolder(scenario, folder), `${scenario}/${folder}`).toEqual({ type, how: 'alias' });
  });

  it('leaves ambiguous and unknown names for the user', () => {
    expect(matchDefectFolder('nut_and_bolt', 'missing')).toBeNull(); // bolt or nut?
    expect(matchDefectFolder('metal_welding', 'crack')).toBeNull(); // not a type of this scenario
    expect(matchDefectFolder('metal_welding', 'scratch')).toBeNull();
    expect(matchDefectFolder('witness_mark', '')).toBeNull();
  });

  it('normalises tokens: case, separators, plurals, synonyms; a double s is not a plural', () => {
    expect([...nameTokens('Missing-Nuts')].sort()).toEqual(['miss', 'nut']);
    expect([...nameTokens('looseness')]).toEqual(['looseness']);
    expect([...nameTokens('miss')]).toEqual(['miss']);
  });

  it('recognises scenario folders of MIAD and MVTec AD in any spelling', () => {
    expect(matchScenarioFolder('Metal Welding')).toEqual({ scenario: 'metal_welding', family: 'miad' });
    expect(matchScenarioFolder('nut-and-bolt')).toEqual({ scenario: 'nut_and_bolt', family: 'miad' });
    expect(matchScenarioFolder('metal_nut')).toEqual({ scenario: 'metal_nut', family: 'mvtec' });
    expect(matchScenarioFolder('Toothbrush')).toEqual({ scenario: 'toothbrush', family: 'mvtec' });
    expect(matchScenarioFolder('my_parts')).toEqual({ scenario: 'my_parts', family: 'other' });
  });
});

describe('image checks without decoding', () => {
  it('accepts a whole PNG and reads its size', async () => {
    await expect(checkImageBytes(png(1, 20, 10))).resolves.toEqual({ ok: true, format: 'png', width: 20, height: 10 });
  });

  it('names zero-byte, non-image, truncated and corrupt files', async () => {
    const whole = png(2, 32, 32);
    expect(await checkImageBytes(new Uint8Array())).toMatchObject({ ok: false, problem: 'zero-byte' });
    expect(await checkImageBytes(new TextEncoder().encode('hello'))).toMatchObject({ ok: false, problem: 'not-image' });
    expect(await checkImageBytes(whole.subarray(0, whole.length - 20))).toMatchObject({ ok: false, problem: 'truncated-image' });
    expect(await checkImageBytes(whole.subarray(0, 20))).toMatchObject({ ok: false, problem: 'truncated-image' });
    const corrupt = whole.slice();
    corrupt.fill(0, 12, 16); // IHDR's type gone
    expect(await checkImageBytes(corrupt)).toMatchObject({ ok: false, problem: 'corrupt-image' });
  });
});
