/** The pure figure builders: heat colours and cell rasters, the bar chart and the grid figure SVGs. */
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { CompareCell, GridCell, PaperTable } from '../../src/shared/calls/compare';
import { HEAT_STOPS, OUTLINE_RGB, cellRgba, cellValues, formatMapValue, heatColor } from '../../src/shared/compare/heat';
import { barChartSvg, gridFigureSvg, svgEscape, twoLines } from '../../src/shared/compare/svg';
import { colormap } from '../../src/main/core/runs/report';

function cellOf(values: number[], width: number, height: number, lo: number, hi: number): GridCell {
  const bytes = Uint8Array.from(values.map((v) => Math.round(((v - lo) / (hi - lo)) * 255)));
  return { width, height, lo, hi, data: Buffer.from(bytes).toString('base64') };
}

describe('heat', () => {
  it('matches the run report\'s heatmap colours, so a run looks alike on its page and in a comparison', () => {
    const xs = [0, 0.1, 0.25, 0.4, 0.5, 0.77, 1];
    const report = colormap(xs);
    xs.forEach((x, i) => expect(heatColor(x)).toEqual([report[i * 3], report[i * 3 + 1], report[i * 3 + 2]]));
    expect(heatColor(-3)).toEqual(heatColor(0));
    expect(heatColor(Number.NaN)).toEqual(heatColor(0));
    expect(heatColor(7)).toEqual(HEAT_STOPS.at(-1)!.slice(1));
  });

  it('decodes a cell\'s codes and colours it under a scale, outlining what is at or above the threshold', () => {
    // 4 × 3 map: a 2 × 1 hot spot in the middle row.
    const values = [0, 0, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0];
    const cell = cellOf(values, 4, 3, 0, 4);
    expect(Array.from(cellValues(cell))).toEqual(values);
    const plain = cellRgba(cell, { lo: 0, hi: 4 });
    expect(Array.from(plain.slice(0, 4))).toEqual([...heatColor(0), 255]);
    expect(Array.from(plain.slice(5 * 4, 5 * 4 + 4))).toEqual([...heatColor(1), 255]);
    // A wider scale makes the spot cooler.
    expect(Array.from(cellRgba(cell, { lo: 0, hi: 8 }).slice(20, 23))).toEqual(heatColor(0.5));
    const outlined = cellRgba(cell, { lo: 0, hi: 4 }, 2);
    for (const i of [5, 6]) expect(Array.from(outlined.slice(i * 4, i * 4 + 3))).toEqual([...OUTLINE_RGB]);
    expect(Array.from(outlined.slice(0, 3))).toEqual(heatColor(0));
    expect(() => cellValues({ ...cell, width: 5 })).toThrow(/expected 5×3/);
  });

  it('prints map values with three significant digits', () => {
    expect(formatMapValue(0.571234)).toBe('0.571');
    expect(formatMapValue(4.75)).toBe('4.75');
    expect(formatMapValue(1234.5)).toBe('1230');
    expect(formatMapValue(0.00001234)).toBe('1.23e-5');
    expect(formatMapValue(0)).toBe('0');
  });
});

const c = (value: number | null, best = false): CompareCell => ({ value, best });
const table: PaperTable = {
  scenarios: ['nut_and_bolt'],
  metrics: ['image_auroc', 'pixel_auroc', 'aupro'],
  rows: [
    { key: 'a', label: 'A <&>', method: 'a', runIds: [1], randomInit: false, external: false, cells: { image_auroc: [c(0.9, true)], pixel_auroc: [c(0.8)], aupro: [c(null)] }, mean: { image_auroc: c(0.9, true), pixel_auroc: c(0.8), aupro: c(null) } },
    { key: 'b', label: 'B', method: 'b', runIds: [2], randomInit: true, external: false, cells: { image_auroc: [c(0.5)], pixel_auroc: [c(0.85, true)], aupro: [c(0.3)] }, mean: { image_auroc: c(0.5), pixel_auroc: c(0.85, true), aupro: c(0.3) } },
  ],
  notes: [],
};

describe('bar chart', () => {
  it('draws a bar per row and metric with its value, bold where best, and rasterises', async () => {
    const svg = barChartSvg(table);
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(5);
    expect(svg).toContain('A &lt;&amp;&gt;');
    expect(svg).toContain('B †');
    expect(svg).toContain(">90.0</text>");
    expect(svg).toMatch(/font-weight='bold'>85\.0</);
    expect(svg).toContain('† random init');
    expect(svg).toContain('Mean over scenarios');
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    expect((await sharp(png).metadata()).width).toBeGreaterThan(300);
    expect(barChartSvg(table, { scenario: 'nut_and_bolt' })).toContain('Nut and Bolt');
    expect(() => barChartSvg(table, { scenario: 'wind_turbine' })).toThrow(/no scenario wind_turbine/);
  });
});

describe('grid figure', () => {
  it('lays out image, ground truth and one column per run with legends, and escapes every label', async () => {
    const dot = `data:image/png;base64,${(await sharp({ create: { width: 4, height: 4, channels: 3, background: '#ff0000' } }).png().toBuffer()).toString('base64')}`;
    const svg = gridFigureSvg({
      title: 'Nut & Bolt',
      columns: [{ label: 'run "one"', randomInit: true }, { label: 'two', randomInit: false }],
      rows: [
        { label: 'bolt miss', sublabel: '001.png', image: dot, mask: dot, maps: [dot, null] },
        { label: 'good', image: dot, mask: null, maps: [dot, dot] },
      ],
      cellWidth: 32,
      cellHeight: 32,
      legends: [{ label: '', lo: 0.5, hi: 4.75 }],
      notes: ['a note <b>'],
    });
    expect(svg.match(/<image /g)).toHaveLength(6);
    expect(svg).toContain('>no map<');
    expect(svg).toContain('>no mask<');
    expect(svg).toContain('Nut &amp; Bolt');
    expect(svg).toContain('run &quot;one&quot; †');
    expect(svg).toContain('a note &lt;b&gt;');
    expect(svg).toContain('>shared scale<');
    expect(svg).toContain('>4.75<');
    const png = await sharp(Buffer.from(svg)).png().toBuffer();
    const { width, height } = await sharp(png).metadata();
    expect(width).toBeGreaterThan(96 + 4 * 32);
    expect(height).toBeGreaterThan(2 * 32);
  });

  it('wraps long labels on two lines at a space', () => {
    expect(twoLines('short', 10)).toEqual(['short']);
    expect(twoLines('PatchCore fast (weld)', 15)).toEqual(['PatchCore fast', '(weld)']);
    expect(twoLines('averyveryverylongword', 8)).toEqual(['averyver', 'yverylo…']);
    expect(svgEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
