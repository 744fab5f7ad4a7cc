/**
 * The qualitative grid as an SVG file through the shared figure builder (src/shared/compare/svg.ts,
 * the same figure `miad-lab compare --format svg` writes): every picture cell (image, ground truth,
 * each run's map with its outline) is cropped from the canvas the view drew and handed over as a
 * PNG data: URI; titles, labels and legends stay vector text.
 */
import type { GridData } from '../../../../shared/calls/compare';
import { formatMapValue } from '../../../../shared/compare/heat';
import { gridFigureSvg } from '../../../../shared/compare/svg';
import { cellOrigin, gridLayout } from './grid-render';

function crop(source: HTMLCanvasElement, x: number, y: number, w: number, h: number): string {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  c.getContext('2d')!.drawImage(source, x, y, w, h, 0, 0, w, h);
  return c.toDataURL('image/png');
}

/** `canvas` must hold the grid drawn by drawGrid with the same data and options. */
export function gridSvg(
  canvas: HTMLCanvasElement,
  data: GridData,
  opts: { cellSize: number; sharedScale: boolean; thresholds: (number | null)[]; rowLabels: string[] },
): string {
  const layout = gridLayout(data.runs.length, data.rows.length, opts.cellSize);
  const at = (r: number, col: number) => {
    const o = cellOrigin(layout, r, col);
    return crop(canvas, o.x, o.y, layout.cell, layout.cell);
  };
  const thresholds = data.runs.flatMap((run, i) => {
    const t = opts.thresholds[i];
    return t === null || t === undefined ? [] : [`${run.label}: ${formatMapValue(t)}`];
  });
  return gridFigureSvg({
    title: `Qualitative comparison · ${data.scenario.replace(/_/g, ' ')}`,
    columns: data.runs.map((r) => ({ label: r.label, randomInit: r.randomInit })),
    rows: data.rows.map((row, r) => ({
      label: opts.rowLabels[r] ?? row.defectType,
      image: row.imagePath ? at(r, 0) : null,
      mask: at(r, 1),
      maps: row.cells.map((cell, i) => (cell ? at(r, 2 + i) : null)),
    })),
    cellWidth: layout.cell,
    cellHeight: layout.cell,
    legends: opts.sharedScale ? [{ label: '', ...data.shared }] : data.runs.map((r) => ({ label: r.label, ...r.scale })),
    notes: thresholds.length > 0 ? [`Outline at map ≥ ${thresholds.join('; ')}`] : [],
  });
}
