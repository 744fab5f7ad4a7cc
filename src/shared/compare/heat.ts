/**
 * Colouring the qualitative grid's map cells: the heat ramp (the same stops as the run report's
 * heatmaps, so a run looks alike on its page and in a comparison), decoding a cell's 8-bit codes
 * back to map values, and an RGBA raster of a cell under a chosen scale with an optional outline
 * of the region at or above a threshold (the predicted defect). Pure: the view puts the raster in
 * an ImageData, the CLI encodes it as PNG.
 */
import type { GridCell } from '../calls/compare';

/** [t, r, g, b]: a dark-blue → red → yellow ramp (inferno-like); low values stay dark. */
export const HEAT_STOPS: readonly (readonly [number, number, number, number])[] = [
  [0, 0, 0, 4],
  [0.25, 87, 16, 110],
  [0.5, 188, 55, 84],
  [0.75, 249, 142, 9],
  [1, 252, 255, 164],
];

/** The outline colour: cyan stands out against every colour of the ramp. */
export const OUTLINE_RGB = [0, 255, 255] as const;

/** The ramp's colour at v (clamped to [0, 1]), as [r, g, b]. */
export function heatColor(v: number): [number, number, number] {
  const x = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
  let s = 1;
  while (s < HEAT_STOPS.length - 1 && HEAT_STOPS[s]![0] < x) s++;
  const [t0, r0, g0, b0] = HEAT_STOPS[s - 1]!;
  const [t1, r1, g1, b1] = HEAT_STOPS[s]!;
  const f = (x - t0) / (t1 - t0);
  return [Math.round(r0 + f * (r1 - r0)), Math.round(g0 + f * (g1 - g0)), Math.round(b0 + f * (b1 - b0))];
}

/** A CSS colour of the ramp, for legends. */
export function heatCss(v: number): string {
  const [r, g, b] = heatColor(v);
  return `rgb(${r},${g},${b})`;
}

function base64Bytes(data: string): Uint8Array {
  const bin = atob(data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A cell's map values, shape [height × width] row-major: byte b stands for lo + b / 255 × (hi − lo). */
export function cellValues(cell: GridCell): Float32Array {
  const bytes = base64Bytes(cell.data);
  if (bytes.length !== cell.width * cell.height) throw new RangeError(`cell holds ${bytes.length} codes, expected ${cell.width}×${cell.height}`);
  const step = (cell.hi - cell.lo) / 255;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = cell.lo + bytes[i]! * step;
  return out;
}

/**
 * The cell as RGBA pixels [height × width × 4] under `scale` (values at or below lo are the
 * ramp's start, at or above hi its end). With a threshold, pixels ≥ t that touch a pixel < t
 * (4-neighbours) are drawn in the outline colour: the edge of what the run calls defective.
 */
export function cellRgba(cell: GridCell, scale: { lo: number; hi: number }, threshold: number | null = null): Uint8ClampedArray {
  const values = cellValues(cell);
  const { width, height } = cell;
  const span = scale.hi - scale.lo || 1;
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = heatColor((values[i]! - scale.lo) / span);
    out[i * 4] = r;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = b;
    out[i * 4 + 3] = 255;
  }
  if (threshold !== null && Number.isFinite(threshold)) {
    const above = (x: number, y: number) => values[y * width + x]! >= threshold;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!above(x, y)) continue;
        const edge = (x > 0 && !above(x - 1, y)) || (x < width - 1 && !above(x + 1, y)) || (y > 0 && !above(x, y - 1)) || (y < height - 1 && !above(x, y + 1));
        if (!edge) continue;
        const i = (y * width + x) * 4;
        out[i] = OUTLINE_RGB[0];
        out[i + 1] = OUTLINE_RGB[1];
        out[i + 2] = OUTLINE_RGB[2];
      }
    }
  }
  return out;
}

/** A map value for legends and tooltips: three significant digits, no exponent for usual ranges. */
export function formatMapValue(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}
