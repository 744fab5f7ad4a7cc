/**
 * Draws the qualitative grid (Figure A.1) into one canvas: column heads, a label per row, the
 * test image and its ground truth, each run's map through the colormap with its predicted
 * outline, and the colour-scale legend (one shared bar, or one per run). One canvas rather than
 * a canvas per cell: the maps of a row are painted into one ImageData and put once, and the
 * figure exports as a PNG as it is. Used by the Compare view and by bench/compare-grid.ts.
 */
import type { GridData } from '../../../../shared/calls/compare';
import { cellOrigin, codeToLutIndex, fitBox, gridLayout, paintCell, thresholdCode, type GridLayout, type Scale } from './grid-render';

export interface GridPaint {
  data: GridData;
  /** codes[row][run]: decoded cells (cellCodes), null where the run has no map. */
  codes: (Uint8Array | null)[][];
  /** Per row: the loaded test image and ground-truth mask, null when missing. */
  images: (CanvasImageSource | null)[];
  masks: (CanvasImageSource | null)[];
  /** Intrinsic sizes of images/masks (for fitting), aligned with them. */
  imageSizes: ({ width: number; height: number } | null)[];
  cellSize: number;
  sharedScale: boolean;
  /** Per run: the outline threshold, null for no outline. */
  thresholds: (number | null)[];
  lut: Uint8ClampedArray;
  /** Row labels (defect type labels). */
  rowLabels: string[];
  runLabels: string[];
}

export function runScale(p: Pick<GridPaint, 'data' | 'sharedScale'>, run: number): Scale {
  return p.sharedScale ? p.data.shared : p.data.runs[run]!.scale;
}

function fmt(v: number): string {
  return Math.abs(v) >= 100 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : v.toPrecision(3);
}

function clip(ctx: CanvasRenderingContext2D, text: string, maxW: number): string {
  if (ctx.measureText(text).width <= maxW) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > maxW) t = t.slice(0, -1);
  return `${t}…`;
}

function drawBar(ctx: CanvasRenderingContext2D, lut: Uint8ClampedArray, x: number, y: number, w: number, h: number, scale: Scale): void {
  const img = ctx.createImageData(Math.max(1, Math.round(w)), h);
  for (let px = 0; px < img.width; px++) {
    const l = Math.round((px / Math.max(1, img.width - 1)) * 255) * 4;
    for (let py = 0; py < h; py++) {
      const o = (py * img.width + px) * 4;
      img.data[o] = lut[l]!;
      img.data[o + 1] = lut[l + 1]!;
      img.data[o + 2] = lut[l + 2]!;
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, Math.round(x), Math.round(y));
  ctx.fillStyle = '#5a6676';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.fillText(fmt(scale.lo), x, y + h + 11);
  ctx.textAlign = 'right';
  ctx.fillText(fmt(scale.hi), x + w, y + h + 11);
  ctx.textAlign = 'left';
}

/** Sizes `canvas` to the figure and draws it; returns the layout (for hit-testing a row). */
export function drawGrid(canvas: HTMLCanvasElement, p: GridPaint): GridLayout {
  const runs = p.data.runs.length;
  const layout = gridLayout(runs, p.data.rows.length, p.cellSize);
  if (canvas.width !== layout.width) canvas.width = layout.width;
  if (canvas.height !== layout.height) canvas.height = layout.height;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, layout.width, layout.height);

  // Column heads.
  ctx.fillStyle = '#18202b';
  ctx.font = '600 11px system-ui, sans-serif';
  const heads = ['Image', 'Ground truth', ...p.runLabels];
  heads.forEach((h, col) => {
    const { x } = cellOrigin(layout, 0, col);
    ctx.fillText(clip(ctx, h, layout.cell), x, 16);
  });
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#5a6676';
  p.data.runs.forEach((r, i) => {
    const { x } = cellOrigin(layout, 0, 2 + i);
    const t = p.thresholds[i];
    ctx.fillStyle = r.randomInit ? '#9a6700' : '#5a6676';
    ctx.fillText(clip(ctx, `${r.method}${r.randomInit ? ' · RANDOM INIT' : ''}`, layout.cell), x, 29);
    ctx.fillStyle = '#5a6676';
    if (t !== null && t !== undefined) ctx.fillText(clip(ctx, `outline ≥ ${fmt(t)}`, layout.cell), x, 41);
  });

  // Per run: the remap tables of each scale and the threshold code depend on the cell's lo/hi.
  const rowW = runs * (layout.cell + layout.gap);
  const rowImg = runs > 0 ? ctx.createImageData(Math.max(1, rowW), layout.cell) : null;
  p.data.rows.forEach((row, r) => {
    const { y } = cellOrigin(layout, r, 0);
    ctx.fillStyle = '#18202b';
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(clip(ctx, p.rowLabels[r] ?? row.defectType, layout.labelW - 8), 6, y + layout.cell / 2 + 4);

    const img = p.images[r];
    const size = p.imageSizes[r];
    const o0 = cellOrigin(layout, r, 0);
    const o1 = cellOrigin(layout, r, 1);
    if (img && size) {
      const f = fitBox(size.width, size.height, layout.cell);
      ctx.drawImage(img, o0.x + f.dx, o0.y + f.dy, f.dw, f.dh);
      ctx.fillStyle = '#000';
      ctx.fillRect(o1.x + f.dx, o1.y + f.dy, f.dw, f.dh);
      const mask = p.masks[r];
      if (mask) ctx.drawImage(mask, o1.x + f.dx, o1.y + f.dy, f.dw, f.dh);
    } else {
      ctx.fillStyle = '#eef1f5';
      ctx.fillRect(o0.x, o0.y, layout.cell, layout.cell);
      ctx.fillRect(o1.x, o1.y, layout.cell, layout.cell);
    }

    if (!rowImg) return;
    rowImg.data.fill(255);
    row.cells.forEach((cell, i) => {
      const codes = p.codes[r]?.[i];
      if (!cell || !codes) return;
      const f = fitBox(cell.width, cell.height, layout.cell);
      const remap = codeToLutIndex(cell, runScale(p, i));
      const t = p.thresholds[i];
      const thr = t === null || t === undefined ? 256 : thresholdCode(cell, t);
      paintCell(codes, cell.width, cell.height, remap, p.lut, { data: rowImg.data, width: rowImg.width, x: i * (layout.cell + layout.gap) + f.dx, y: f.dy }, thr);
    });
    ctx.putImageData(rowImg, cellOrigin(layout, r, 2).x, y);
    row.cells.forEach((cell, i) => {
      if (cell) return;
      const o = cellOrigin(layout, r, 2 + i);
      ctx.fillStyle = '#eef1f5';
      ctx.fillRect(o.x, o.y, layout.cell, layout.cell);
      ctx.fillStyle = '#8a95a4';
      ctx.fillText('no map', o.x + 6, o.y + layout.cell / 2);
    });
  });

  // Legend: one bar across the run columns (shared scale), or one under each run.
  const ly = layout.height - layout.legendH + 10;
  ctx.fillStyle = '#5a6676';
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillText(p.sharedScale ? 'shared scale' : 'scale per run', 6, ly + 9);
  if (runs > 0) {
    if (p.sharedScale) {
      const x0 = cellOrigin(layout, 0, 2).x;
      drawBar(ctx, p.lut, x0, ly, runs * (layout.cell + layout.gap) - layout.gap, 10, p.data.shared);
    } else {
      p.data.runs.forEach((r, i) => drawBar(ctx, p.lut, cellOrigin(layout, 0, 2 + i).x, ly, layout.cell, 10, r.scale));
    }
  }
  return layout;
}
