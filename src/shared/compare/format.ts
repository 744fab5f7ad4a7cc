/**
 * Text forms of the comparison tables (issue #8): labels and numbers as the paper prints them
 * (values ×100 with one decimal), and the CSV, JSON and LaTeX (booktabs) exports. Pure, so the
 * view, the `compare:export` call and `miad-lab compare` all write the same text.
 */
import type { CompareCell, CompareRowHead, CompareTables, DefectTable, ExportedText, PaperMetric, PaperTable } from '../calls/compare';
import { SCENARIO_INFO, isScenario } from '../taxonomy';

export const METRIC_LABELS: Readonly<Record<PaperMetric, string>> = {
  image_auroc: 'Image AUROC',
  pixel_auroc: 'Pixel AUROC',
  aupro: 'AUPRO',
};

export function scenarioLabel(scenario: string): string {
  return isScenario(scenario) ? SCENARIO_INFO[scenario].label : scenario.replace(/_/g, ' ');
}

export function defectLabel(defectType: string): string {
  return defectType.replace(/_/g, ' ');
}

/** A metric in [0, 1] as the paper prints it: ×100, one decimal; `missing` where there is none. */
export function formatPercent(value: number | null, missing = '—'): string {
  return value === null || !Number.isFinite(value) ? missing : (value * 100).toFixed(1);
}

/** The label a row head is shown under, with the random-init dagger every view must carry. */
export function headLabel(head: Pick<CompareRowHead, 'label' | 'randomInit'>): string {
  return head.randomInit ? `${head.label} †` : head.label;
}

// ---------------------------------------------------------------- CSV

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  const s = typeof value === 'number' ? numberText(value) : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Raw values in [0, 1] keep their precision in CSV: it is for analysis, not for reading. Twelve
 * significant digits drop the float noise of a mean (0.6499999999999999) and nothing real.
 */
function numberText(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(12))) : '';
}

function csv(rows: readonly (readonly (string | number | boolean | null)[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

export function paperTableCsv(table: PaperTable): string {
  const header = ['row', 'method', 'run_ids', 'random_init', 'external'];
  for (const metric of table.metrics) {
    for (const s of table.scenarios) header.push(`${metric}:${s}`);
    header.push(`${metric}:mean`);
  }
  const rows = table.rows.map((r) => {
    const out: (string | number | boolean | null)[] = [r.label, r.method, r.runIds.join(' '), r.randomInit, r.external];
    for (const metric of table.metrics) {
      for (const c of r.cells[metric]) out.push(c.value);
      out.push(r.mean[metric].value);
    }
    return out;
  });
  return csv([header, ...rows]);
}

export function defectTableCsv(table: DefectTable): string {
  const header: string[] = ['kind', 'scenario', 'defect_type', 'factors'];
  for (const metric of table.metrics) for (const h of table.heads) header.push(`${metric}:${h.label}${h.randomInit ? ' (random init)' : ''}`);
  const values = (cells: Record<PaperMetric, CompareCell[]>) => table.metrics.flatMap((m) => cells[m].map((c) => c.value));
  const rows = [
    ...table.rows.map((r) => ['defect', r.scenario, r.defectType, r.factors.join(' '), ...values(r.cells)]),
    ...table.groups.map((g) => [`mean by ${g.by}`, g.by === 'scenario' ? g.key : '', '', g.by === 'factor' ? g.key : '', ...values(g.cells)]),
  ];
  return csv([header, ...rows]);
}

// ---------------------------------------------------------------- LaTeX

const LATEX_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};

/** Escapes text for LaTeX's text mode (labels are user-typed run names). */
export function latexEscape(text: string): string {
  return text.replace(/[\\&%$#_{}~^]/g, (c) => LATEX_SPECIALS[c]!).replace(/[\r\n]+/g, ' ');
}

/** A LaTeX comment line: a line break inside would end the comment and leak text into the table. */
function latexComment(text: string): string {
  return `% ${text.replace(/[\r\n]+/g, ' ')}`;
}

function latexCell(c: CompareCell): string {
  const v = formatPercent(c.value, '--');
  return c.best && c.value !== null ? `\\textbf{${v}}` : v;
}

function latexHead(head: Pick<CompareRowHead, 'label' | 'randomInit'>): string {
  return head.randomInit ? `${latexEscape(head.label)}$^\\dagger$` : latexEscape(head.label);
}

const DAGGER_NOTE = '$^\\dagger$ random init: the backbone had random weights, so these numbers are not comparable with the paper.';

/** `caption` is LaTeX already (it is ours, not user text). */
function latexDocument(caption: string, columns: string, body: string[], footnote: boolean, notes: readonly string[]): string {
  const lines = [
    latexComment('Made by MIAD Lab (miad-lab compare). Needs \\usepackage{booktabs}. Values are x100.'),
    // The random-init note is the table's footnote already.
    ...notes.filter((n) => !n.startsWith('†')).map((n) => latexComment(`note: ${n}`)),
    '\\begin{table}[t]',
    '\\centering',
    `\\caption{${caption}}`,
    `\\begin{tabular}{${columns}}`,
    '\\toprule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
  ];
  if (footnote) lines.push('', '\\par\\smallskip\\footnotesize ' + DAGGER_NOTE);
  lines.push('\\end{table}');
  return lines.join('\n') + '\n';
}

/** The paper's table as booktabs LaTeX: one block of rows per metric, scenarios as columns, then the mean. */
export function paperTableLatex(table: PaperTable): string {
  const width = table.scenarios.length + 2;
  const body: string[] = [['Method', ...table.scenarios.map((s) => latexEscape(scenarioLabel(s))), 'Mean'].join(' & ') + ' \\\\'];
  for (const metric of table.metrics) {
    body.push('\\midrule', `\\multicolumn{${width}}{l}{\\textit{${METRIC_LABELS[metric]}}} \\\\`);
    for (const r of table.rows) {
      const line = [latexHead(r), ...r.cells[metric].map(latexCell), latexCell(r.mean[metric])].join(' & ') + ' \\\\';
      body.push(r.randomInit ? `${line} % random init` : line);
    }
  }
  const random = table.rows.some((r) => r.randomInit);
  return latexDocument('Anomaly detection and localisation per scenario (image AUROC, pixel AUROC, AUPRO; $\\times$100).', `l${'c'.repeat(width - 1)}`, body, random, table.notes);
}

/** The per-defect-type table as booktabs LaTeX: one block per metric, the compared rows as columns, group means below. */
export function defectTableLatex(table: DefectTable): string {
  const width = table.heads.length + 2;
  const body: string[] = [['Scenario', 'Defect type', ...table.heads.map(latexHead)].join(' & ') + ' \\\\'];
  for (const metric of table.metrics) {
    body.push('\\midrule', `\\multicolumn{${width}}{l}{\\textit{${METRIC_LABELS[metric]}}} \\\\`);
    let last = '';
    for (const r of table.rows) {
      // The scenario is named on its first row only, as Table A.1 prints it.
      const scenario = r.scenario === last ? '' : latexEscape(scenarioLabel(r.scenario));
      last = r.scenario;
      body.push([scenario, latexEscape(defectLabel(r.defectType)), ...r.cells[metric].map(latexCell)].join(' & ') + ' \\\\');
    }
    const groups = table.groups;
    if (groups.length > 0) body.push('\\cmidrule(lr){1-' + width + '}');
    for (const g of groups) {
      const name = g.by === 'scenario' ? `mean, ${scenarioLabel(g.key)}` : `mean, uncontrolled ${g.key}`;
      body.push([`\\multicolumn{2}{l}{${latexEscape(name)}}`, ...g.cells[metric].map(latexCell)].join(' & ') + ' \\\\');
    }
  }
  const random = table.heads.some((h) => h.randomInit);
  return latexDocument('Results per defect type (Table A.1 order), with means by scenario and by uncontrolled factor ($\\times$100).', `ll${'c'.repeat(width - 2)}`, body, random, table.notes);
}

// ---------------------------------------------------------------- export

export type ExportFormat = 'csv' | 'json' | 'latex';

const MIME: Record<ExportFormat, string> = { csv: 'text/csv', json: 'application/json', latex: 'application/x-latex' };
const EXT: Record<ExportFormat, string> = { csv: 'csv', json: 'json', latex: 'tex' };

/** One table of a comparison as text, with the file name and type a save dialog offers. */
export function exportTables(tables: CompareTables, table: 'paper' | 'defects', format: ExportFormat): ExportedText {
  let text: string;
  if (format === 'json') {
    text = JSON.stringify({ table, runs: tables.runs, ...(table === 'paper' ? { paper: tables.paper } : { defects: tables.defects }) }, null, 2) + '\n';
  } else if (format === 'csv') {
    text = table === 'paper' ? paperTableCsv(tables.paper) : defectTableCsv(tables.defects);
  } else {
    text = table === 'paper' ? paperTableLatex(tables.paper) : defectTableLatex(tables.defects);
  }
  return { filename: `miad-compare-${table}.${EXT[format]}`, mime: MIME[format], text };
}
