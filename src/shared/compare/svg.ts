/**
 * SVG figures of a comparison, as self-contained strings: the bar chart of the paper's metrics per
 * compared row, and the qualitative grid of the paper's Figure A.1 (image, ground truth, each
 * run's anomaly map, a colour-scale legend). Pure: raster pictures come in as data: URIs made by
 * the caller (a canvas in the view, sharp in the CLI), so the same SVG is shown, saved as .svg,
 * and rasterised to PNG.
 */
import type { CompareCell, PaperMetric, PaperTable } from '../calls/compare';
import { HEAT_STOPS, formatMapValue } from './heat';
import { METRIC_LABELS, formatPercent, scenarioLabel } from './format';

/** Escapes text for XML content and attribute values. */
export function svgEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Colour-blind-safe series colours (Paul Tol's "bright"), one per paper metric. */
export const METRIC_COLORS: Readonly<Record<PaperMetric, string>> = {
  image_auroc: '#4477AA',
  pixel_auroc: '#EE6677',
  aupro: '#228833',
};

const FONT = "font-family='Helvetica, Arial, sans-serif'";

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Splits a label into at most two lines of about `max` characters, at a space where it can; the
 * second line is shortened with an ellipsis when the label is longer still.
 */
export function twoLines(text: string, max: number): [string] | [string, string] {
  if (text.length <= max) return [text];
  let cut = text.lastIndexOf(' ', max);
  if (cut <= 0) cut = max;
  const first = text.slice(0, cut).trimEnd();
  const rest = text.slice(cut).trimStart();
  return [first, shorten(rest, max)];
}

/** A text element of one or two lines, vertically centred on y. */
function textLines(x: number, y: number, lines: readonly string[], attrs: string, full: string): string {
  const dy = lines.length === 1 ? ['0.35em'] : ['-0.25em', '1.2em'];
  const spans = lines.map((l, i) => `<tspan x='${round(x)}' dy='${dy[i]}'>${svgEscape(l)}</tspan>`).join('');
  return `<text x='${round(x)}' y='${round(y)}' ${attrs}>${spans}<title>${svgEscape(full)}</title></text>`;
}

function round(v: number): string {
  return String(Math.round(v * 10) / 10);
}

export interface BarChartOptions {
  /** A scenario of the table to chart; default the rows' means. */
  scenario?: string;
  width?: number;
  height?: number;
  title?: string;
}

/**
 * Grouped bars: one group per table row, one bar per paper metric (×100), value printed on each
 * bar (bold where it is its column's best), a dagger on random-init rows, a legend.
 */
export function barChartSvg(table: PaperTable, options: BarChartOptions = {}): string {
  const col = options.scenario === undefined ? -1 : table.scenarios.indexOf(options.scenario);
  if (options.scenario !== undefined && col < 0) throw new RangeError(`the table has no scenario ${options.scenario}`);
  const metrics = table.metrics;
  const n = table.rows.length;
  const width = options.width ?? Math.max(400, 90 + n * (metrics.length * 22 + 26));
  const height = options.height ?? 300;
  const left = 44;
  const right = 12;
  const top = 48;
  const bottom = 58;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const groupW = plotW / Math.max(1, n);
  const barW = Math.min(28, (groupW - 12) / metrics.length);
  const y = (v: number) => top + plotH * (1 - v);
  const title = options.title ?? `${col < 0 ? 'Mean over scenarios' : scenarioLabel(options.scenario!)} (×100)`;
  const parts: string[] = [
    `<svg xmlns='http://www.w3.org/2000/svg' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}' ${FONT} font-size='11'>`,
    `<rect width='${width}' height='${height}' fill='#ffffff'/>`,
    `<text x='${left}' y='18' font-size='13' font-weight='bold'>${svgEscape(title)}</text>`,
  ];
  for (let t = 0; t <= 100; t += 20) {
    const yy = round(y(t / 100));
    parts.push(`<line x1='${left}' x2='${width - right}' y1='${yy}' y2='${yy}' stroke='${t === 0 ? '#444' : '#ddd'}' stroke-width='1'/>`);
    parts.push(`<text x='${left - 6}' y='${yy}' dy='0.35em' text-anchor='end' fill='#444'>${t}</text>`);
  }
  let lx = left;
  for (const m of metrics) {
    parts.push(`<rect x='${lx}' y='27' width='10' height='10' fill='${METRIC_COLORS[m]}'/>`, `<text x='${lx + 14}' y='36'>${svgEscape(METRIC_LABELS[m])}</text>`);
    lx += 24 + METRIC_LABELS[m].length * 6.5;
  }
  table.rows.forEach((row, r) => {
    const gx = left + r * groupW + (groupW - barW * metrics.length) / 2;
    metrics.forEach((m, k) => {
      const cell: CompareCell = col < 0 ? row.mean[m] : row.cells[m][col]!;
      const x = round(gx + k * barW);
      if (cell.value === null) {
        parts.push(`<text x='${round(gx + (k + 0.5) * barW)}' y='${round(y(0) - 4)}' text-anchor='middle' fill='#888'>—</text>`);
        return;
      }
      const v = Math.min(1, Math.max(0, cell.value));
      parts.push(`<rect x='${x}' y='${round(y(v))}' width='${round(barW - 2)}' height='${round(plotH * v)}' fill='${METRIC_COLORS[m]}'><title>${svgEscape(`${row.label}: ${METRIC_LABELS[m]} ${formatPercent(cell.value)}`)}</title></rect>`);
      parts.push(
        `<text x='${round(gx + (k + 0.5) * barW - 1)}' y='${round(y(v) - 3)}' text-anchor='middle' font-size='9'${cell.best ? " font-weight='bold'" : ''}>${formatPercent(cell.value)}</text>`,
      );
    });
    const label = shorten(row.label, Math.max(6, Math.floor(groupW / 6.2))) + (row.randomInit ? ' †' : '');
    parts.push(`<text x='${round(left + (r + 0.5) * groupW)}' y='${height - bottom + 16}' text-anchor='middle'>${svgEscape(label)}<title>${svgEscape(row.label)}</title></text>`);
  });
  if (table.rows.some((r) => r.randomInit)) {
    parts.push(`<text x='${left}' y='${height - 12}' fill='#555' font-size='10'>† random init: random backbone weights, not comparable with the paper</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** One run column of the grid figure. */
export interface GridFigureColumn {
  label: string;
  randomInit: boolean;
}

export interface GridFigureRow {
  label: string;
  /** A second line under the label (the file name). */
  sublabel?: string;
  /** data: URIs (or any href the renderer can load); null draws an empty, marked cell. */
  image: string | null;
  mask: string | null;
  /** Aligned with the columns. */
  maps: (string | null)[];
}

export interface GridFigureLegend {
  /** '' for the shared scale, else the run's label. */
  label: string;
  lo: number;
  hi: number;
}

export interface GridFigureInput {
  title: string;
  columns: GridFigureColumn[];
  rows: GridFigureRow[];
  /** Size of each picture cell, in pixels; pictures keep their aspect inside it. */
  cellWidth: number;
  cellHeight: number;
  /** One legend for a shared scale, or one per run. */
  legends: GridFigureLegend[];
  /** Lines printed under the figure (the outline threshold used, what was missing). */
  notes?: string[];
}

function cellPicture(x: number, y: number, w: number, h: number, href: string | null, what: string): string {
  if (href === null) {
    return `<rect x='${x}' y='${y}' width='${w}' height='${h}' fill='#f2f2f2' stroke='#ccc'/><text x='${x + w / 2}' y='${y + h / 2}' dy='0.35em' text-anchor='middle' fill='#999' font-size='10'>no ${svgEscape(what)}</text>`;
  }
  return `<image x='${x}' y='${y}' width='${w}' height='${h}' preserveAspectRatio='xMidYMid meet' href='${svgEscape(href)}'/>`;
}

/**
 * The qualitative grid: a header row (Image, Ground truth, each run), one row per test image with
 * its label on the left, and the colour-scale legend(s) below: a gradient of the heat ramp with
 * the scale's lo and hi map values at its ends.
 */
export function gridFigureSvg(input: GridFigureInput): string {
  const { cellWidth: cw, cellHeight: ch } = input;
  const gap = 4;
  const labelW = 96;
  const headH = 34;
  const titleH = 24;
  const columns = 2 + input.columns.length;
  const legendH = 40;
  const notes = input.notes ?? [];
  const random = input.columns.some((c) => c.randomInit);
  const footLines = notes.length + (random ? 1 : 0);
  const width = labelW + columns * (cw + gap) + gap;
  const legendRows = Math.ceil(input.legends.length / Math.max(1, Math.floor((width - 20) / 240)));
  const height = titleH + headH + input.rows.length * (ch + gap) + gap + legendRows * legendH + footLines * 14 + 8;
  const perLine = Math.max(1, Math.floor((width - 20) / 240));
  const parts: string[] = [
    `<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' width='${width}' height='${height}' viewBox='0 0 ${width} ${height}' ${FONT} font-size='11'>`,
    '<defs>',
    `<linearGradient id='heat' x1='0' x2='1' y1='0' y2='0'>${HEAT_STOPS.map(([t, r, g, b]) => `<stop offset='${t}' stop-color='rgb(${r},${g},${b})'/>`).join('')}</linearGradient>`,
    '</defs>',
    `<rect width='${width}' height='${height}' fill='#ffffff'/>`,
    `<text x='8' y='17' font-size='13' font-weight='bold'>${svgEscape(input.title)}</text>`,
  ];
  const heads = ['Image', 'Ground truth', ...input.columns.map((c) => c.label + (c.randomInit ? ' †' : ''))];
  heads.forEach((h, i) => {
    const x = labelW + gap + i * (cw + gap) + cw / 2;
    const max = Math.max(6, Math.floor(cw / 6.5));
    parts.push(textLines(x, titleH + headH / 2, twoLines(h, max), "text-anchor='middle' font-weight='bold'", h));
  });
  input.rows.forEach((row, r) => {
    const y = titleH + headH + r * (ch + gap);
    const lines = row.sublabel ? [shorten(row.label, 15), shorten(row.sublabel, 15)] : twoLines(row.label, 15);
    parts.push(textLines(labelW - 6, y + ch / 2, lines, "text-anchor='end'", row.sublabel ? `${row.label} ${row.sublabel}` : row.label));
    const pictures: [string | null, string][] = [
      [row.image, 'image'],
      [row.mask, 'mask'],
      ...input.columns.map((_, i): [string | null, string] => [row.maps[i] ?? null, 'map']),
    ];
    pictures.forEach(([href, what], i) => parts.push(cellPicture(labelW + gap + i * (cw + gap), y, cw, ch, href, what)));
  });
  let y = titleH + headH + input.rows.length * (ch + gap) + gap;
  input.legends.forEach((legend, i) => {
    const lx = 10 + (i % perLine) * 240;
    const ly = y + Math.floor(i / perLine) * legendH;
    const name = legend.label === '' ? 'shared scale' : shorten(legend.label, 28);
    parts.push(
      `<text x='${lx}' y='${ly + 11}' fill='#333'>${svgEscape(name)}</text>`,
      `<rect x='${lx}' y='${ly + 16}' width='200' height='10' fill='url(#heat)' stroke='#888' stroke-width='0.5'/>`,
      `<text x='${lx}' y='${ly + 37}' font-size='10'>${svgEscape(formatMapValue(legend.lo))}</text>`,
      `<text x='${lx + 200}' y='${ly + 37}' font-size='10' text-anchor='end'>${svgEscape(formatMapValue(legend.hi))}</text>`,
    );
  });
  y += legendRows * legendH;
  const foot = [...(random ? ['† random init: random backbone weights, not comparable with the paper'] : []), ...notes];
  foot.forEach((line, i) => parts.push(`<text x='10' y='${y + 10 + i * 14}' fill='#555' font-size='10'>${svgEscape(line)}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}
