/** The pure text forms of the comparison tables: numbers as the paper prints them, CSV fields, LaTeX escaping and layout. */
import { describe, expect, it } from 'vitest';
import type { CompareCell, DefectTable, PaperTable } from '../../src/shared/calls/compare';
import { csvField, defectTableCsv, defectTableLatex, formatPercent, headLabel, latexEscape, paperTableLatex, scenarioLabel } from '../../src/shared/compare/format';

const c = (value: number | null, best = false): CompareCell => ({ value, best });
const head = (label: string, randomInit = false) => ({ key: label, label, method: label, runIds: [1], randomInit, external: false });

describe('numbers and labels', () => {
  it('prints metrics ×100 with one decimal, a dash where there is none', () => {
    expect(formatPercent(0.8734)).toBe('87.3');
    expect(formatPercent(1)).toBe('100.0');
    expect(formatPercent(0.00049)).toBe('0.0');
    expect(formatPercent(null)).toBe('—');
    expect(formatPercent(Number.NaN, '--')).toBe('--');
    expect(scenarioLabel('nut_and_bolt')).toBe('Nut and Bolt');
    expect(scenarioLabel('my_own_scene')).toBe('my own scene');
    expect(headLabel({ label: 'PatchCore', randomInit: true })).toBe('PatchCore †');
  });

  it('quotes CSV fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvField(0.1 + 0.2)).toBe('0.3');
    expect(csvField(true)).toBe('true');
  });

  it('escapes every LaTeX special character of a label', () => {
    expect(latexEscape('a_b & c% $5 #1 {x} ~y ^z \\w')).toBe('a\\_b \\& c\\% \\$5 \\#1 \\{x\\} \\textasciitilde{}y \\textasciicircum{}z \\textbackslash{}w');
    expect(latexEscape('line\nbreak')).toBe('line break');
  });
});

describe('LaTeX tables', () => {
  const paper: PaperTable = {
    scenarios: ['wind_turbine'],
    metrics: ['image_auroc', 'pixel_auroc', 'aupro'],
    rows: [
      { ...head('Patch_Core'), cells: { image_auroc: [c(0.9, true)], pixel_auroc: [c(0.5)], aupro: [c(null)] }, mean: { image_auroc: c(0.9, true), pixel_auroc: c(0.5), aupro: c(null) } },
      { ...head('Rand', true), cells: { image_auroc: [c(0.1)], pixel_auroc: [c(0.6, true)], aupro: [c(null)] }, mean: { image_auroc: c(0.1), pixel_auroc: c(0.6, true), aupro: c(null) } },
    ],
    notes: ['something was left out\n% \\end{table}'],
  };

  it('writes the paper table with booktabs rules, bold best, a block per metric and the dagger footnote', () => {
    const tex = paperTableLatex(paper);
    const lines = tex.split('\n');
    expect(lines.filter((l) => l === '\\toprule')).toHaveLength(1);
    expect(lines.filter((l) => l === '\\midrule')).toHaveLength(3);
    expect(lines.filter((l) => l === '\\bottomrule')).toHaveLength(1);
    expect(tex).toContain('\\begin{tabular}{lcc}');
    expect(tex).toContain('Method & Wind Turbine & Mean \\\\');
    expect(tex).toContain('Patch\\_Core & \\textbf{90.0} & \\textbf{90.0} \\\\');
    expect(tex).toContain('Rand$^\\dagger$ & \\textbf{60.0} & \\textbf{60.0} \\\\ % random init');
    expect(tex).toContain('Patch\\_Core & -- & -- \\\\');
    expect(tex).toContain('\\multicolumn{3}{l}{\\textit{AUPRO}} \\\\');
    expect(tex).toContain('$^\\dagger$ random init');
    // A note with a line break stays one comment line.
    expect(lines).toContain('% note: something was left out % \\end{table}');
    expect(lines.filter((l) => l === '\\end{table}')).toHaveLength(1);
  });

  it('leaves the footnote out when no row is random-init', () => {
    const tex = paperTableLatex({ ...paper, rows: [paper.rows[0]!] });
    expect(tex).not.toContain('dagger');
  });

  const defects: DefectTable = {
    metrics: ['image_auroc', 'pixel_auroc', 'aupro'],
    heads: [head('A'), head('B', true)],
    rows: [
      { scenario: 'metal_welding', defectType: 'weld_beading', factors: ['surface'], cells: { image_auroc: [c(0.5), c(0.75, true)], pixel_auroc: [c(0.5), c(0.5)], aupro: [c(null), c(0.1)] } },
      { scenario: 'metal_welding', defectType: 'weld_pit', factors: ['surface'], cells: { image_auroc: [c(0.5), c(0.25)], pixel_auroc: [c(0.5), c(0.5)], aupro: [c(null), c(0.1)] } },
    ],
    groups: [
      { by: 'scenario', key: 'metal_welding', cells: { image_auroc: [c(0.5, true), c(0.5, true)], pixel_auroc: [c(0.5), c(0.5)], aupro: [c(null), c(0.1)] } },
      { by: 'factor', key: 'surface', cells: { image_auroc: [c(0.5, true), c(0.5, true)], pixel_auroc: [c(0.5), c(0.5)], aupro: [c(null), c(0.1)] } },
    ],
    notes: [],
  };

  it('writes the defect table with the scenario on its first row, group means after a rule', () => {
    const tex = defectTableLatex(defects);
    expect(tex).toContain('Scenario & Defect type & A & B$^\\dagger$ \\\\');
    expect(tex).toContain('Metal Welding & weld beading & 50.0 & \\textbf{75.0} \\\\');
    expect(tex).toContain(' & weld pit & 50.0 & 25.0 \\\\');
    expect(tex).toContain('\\cmidrule(lr){1-4}');
    expect(tex).toContain('\\multicolumn{2}{l}{mean, Metal Welding} & \\textbf{50.0} & \\textbf{50.0} \\\\');
    expect(tex).toContain('\\multicolumn{2}{l}{mean, uncontrolled surface} & ');
    expect(tex).toContain('$^\\dagger$ random init');
  });

  it('writes the defect table as CSV with its groups', () => {
    const lines = defectTableCsv(defects).trimEnd().split('\r\n');
    expect(lines[0]).toBe('kind,scenario,defect_type,factors,image_auroc:A,image_auroc:B (random init),pixel_auroc:A,pixel_auroc:B (random init),aupro:A,aupro:B (random init)');
    expect(lines[1]).toBe('defect,metal_welding,weld_beading,surface,0.5,0.75,0.5,0.5,,0.1');
    expect(lines[3]).toBe('mean by scenario,metal_welding,,,0.5,0.5,0.5,0.5,,0.1');
    expect(lines[4]).toBe('mean by factor,,,surface,0.5,0.5,0.5,0.5,,0.1');
  });
});
