/**
 * Pixels of the qualitative grid (the paper's Figure A.1), pure so they are tested in Node: the
 * colormap (the shared heat ramp of src/shared/compare/heat.ts, so a run's maps look alike on its
 * page, in the grid and in the CLI's figure) as a 256-entry table, decoding a quantised map cell, the
 * per-cell byte → colour remap that applies a shared or per-run scale, and painting a cell with
 * its predicted outline (the contour of map ≥ threshold) into an RGBA buffer.
 *
 * Speed: a cell arrives as 8-bit codes (compare:grid), so every value a cell can hold is one of
 * 256; the scale and the threshold are applied once per code (a 256-entry table), and each pixel
 * costs one table lookup and four byte writes. 8 runs × 28 cells of 128² is 3.7 M pixels.
 */
import type { GridCell } from '../../../../shared/calls/compare';
import { heatColor, OUTLINE_RGB } from '../../../../shared/compare/heat';

export interface Scale {
  lo: number;
  hi: number;
}

/** The heat ramp as 256 RGBA entries (Uint8ClampedArray of length 1024): entry i is heatColor(i / 255). */
export function heatLut(): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = heatColor(i / 255);
    lut.set([r, g, b, 255], i * 4);
  }
  return lut;
}

/**
 * base64 → bytes: the native `Uint8Array.fromBase64` where the engine has it (Chromium ≥ 140,
 * several times faster than a charCodeAt loop over 3.7 M characters), else atob.
 */
export function decodeBase64(data: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (native) return native.call(Uint8Array, data);
  const bin = atob(data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The value code `b` of a cell stands for (compare.ts: lo + b / 255 × (hi − lo)). */
export function codeValue(cell: Scale, b: number): number {
  return cell.lo + (b / 255) * (cell.hi - cell.lo);
}

/**
 * For each of a cell's 256 codes, the colormap index under the display scale: values below
 * `scale.lo` take the first colour, above `scale.hi` the last.
 */
export function codeToLutIndex(cell: Scale, scale: Scale): Uint8Array {
  const out = new Uint8Array(256);
  const span = scale.hi - scale.lo;
  for (let b = 0; b < 256; b++) {
    const t = span > 0 ? (codeValue(cell, b) - scale.lo) / span : 0;
    out[b] = Math.round(255 * Math.max(0, Math.min(1, t)));
  }
  return out;
}

/** The smallest code whose value is ≥ threshold: 0 when all are, 256 when none is. */
export function thresholdCode(cell: Scale, threshold: number): number {
  for (let b = 0; b < 256; b++) if (codeValue(cell, b) >= threshold) return b;
  return 256;
}

export interface PaintTarget {
  /** RGBA bytes of the whole target image. */
  data: Uint8ClampedArray;
  /** Target width in pixels (its row stride / 4). */
  width: number;
  /** Where the cell's top-left pixel goes. */
  x: number;
  y: number;
}

/** The outline colour (cyan: it stands out against every colour of the ramp). */
export const OUTLINE: readonly [number, number, number] = OUTLINE_RGB;

/**
 * Paints one map cell into `target` through the colormap, and, when `thrCode` < 256, the outline
 * of the region at or above the threshold: pixels of the region with a 4-neighbour outside it
 * (or on the cell's edge), so every region is a closed contour.
 * @param codes cell.width × cell.height codes, row-major
 * @param remap codeToLutIndex(cell, scale)
 * @param lut heatLut()
 */
export function paintCell(codes: Uint8Array, w: number, h: number, remap: Uint8Array, lut: Uint8ClampedArray, target: PaintTarget, thrCode = 256): void {
  const { data, width: tw, x: ox, y: oy } = target;
  for (let y = 0; y < h; y++) {
    let o = ((oy + y) * tw + ox) * 4;
    const row = y * w;
    for (let x = 0; x < w; x++, o += 4) {
      const c = codes[row + x]!;
      if (c >= thrCode) {
        const edge = x === 0 || y === 0 || x === w - 1 || y === h - 1 || codes[row + x - 1]! < thrCode || codes[row + x + 1]! < thrCode || codes[row - w + x]! < thrCode || codes[row + w + x]! < thrCode;
        if (edge) {
          data[o] = OUTLINE[0];
          data[o + 1] = OUTLINE[1];
          data[o + 2] = OUTLINE[2];
          data[o + 3] = 255;
          continue;
        }
      }
      const l = remap[c]! * 4;
      data[o] = lut[l]!;
      data[o + 1] = lut[l + 1]!;
      data[o + 2] = lut[l + 2]!;
      data[o + 3] = 255;
    }
  }
}

/** Decodes a grid cell once; painting it again (new scale or threshold) reuses the codes. */
export function cellCodes(cell: GridCell): Uint8Array {
  const codes = decodeBase64(cell.data);
  if (codes.length !== cell.width * cell.height) throw new Error(`a grid cell of ${cell.width}×${cell.height} came with ${codes.length} bytes`);
  return codes;
}

/** Where a w × h picture goes centred in a box × box square, keeping its aspect. */
export function fitBox(w: number, h: number, box: number): { dx: number; dy: number; dw: number; dh: number } {
  const s = Math.min(box / Math.max(1, w), box / Math.max(1, h));
  const dw = Math.round(w * s);
  const dh = Math.round(h * s);
  return { dx: Math.floor((box - dw) / 2), dy: Math.floor((box - dh) / 2), dw, dh };
}

export interface GridLayout {
  cell: number;
  gap: number;
  labelW: number;
  headerH: number;
  legendH: number;
  /** 2 + runs. */
  cols: number;
  rows: number;
  width: number;
  height: number;
}

/** The geometry of the grid figure: a label column, then image | ground truth | each run's map. */
export function gridLayout(runs: number, rows: number, cell: number): GridLayout {
  const gap = 4;
  const labelW = 96;
  const headerH = 48;
  const legendH = 44;
  const cols = 2 + runs;
  return { cell, gap, labelW, headerH, legendH, cols, rows, width: labelW + cols * (cell + gap) + gap, height: headerH + rows * (cell + gap) + legendH };
}

export function cellOrigin(layout: GridLayout, row: number, col: number): { x: number; y: number } {
  return { x: layout.labelW + layout.gap + col * (layout.cell + layout.gap), y: layout.headerH + row * (layout.cell + layout.gap) };
}

/** The threshold a slider position s ∈ [0, 1] stands for in a run's display scale. */
export function sliderThreshold(scale: Scale, s: number): number {
  return scale.lo + s * (scale.hi - scale.lo);
}

/** The slider position of a threshold in a scale, clamped to [0, 1]. */
export function sliderPosition(scale: Scale, threshold: number): number {
  const span = scale.hi - scale.lo;
  return span > 0 ? Math.max(0, Math.min(1, (threshold - scale.lo) / span)) : 0;
}
