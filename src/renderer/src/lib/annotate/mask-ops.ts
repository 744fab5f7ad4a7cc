/**
 * The mask editor's pixel operations as pure functions over a binary mask, so they are tested
 * without a canvas: brush stamping (a disc) and strokes between pointer samples (stamps close
 * enough that a fast drag leaves no gaps), polygon fill (even-odd or non-zero scanline at pixel
 * centres), 4-connected flood fill, clear, and a bounded
 * undo/redo history of whole-mask snapshots (a 0/1 byte per pixel: 2 MB for a 1920×1080 image,
 * so 40 steps stay under 100 MB).
 */
import { binariseMask } from '../../../../shared/mask-rule';

/** A binary mask: `data` is `[height * width]`, row-major, 1 = defect, 0 = background. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export function emptyMask(width: number, height: number): Mask {
  return { width, height, data: new Uint8Array(width * height) };
}

export function cloneMask(mask: Mask): Mask {
  return { width: mask.width, height: mask.height, data: mask.data.slice() };
}

export function maskEquals(a: Mask, b: Mask): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** Pixels set, for a status line and tests. */
export function countSet(mask: Mask): number {
  let n = 0;
  for (const v of mask.data) n += v ? 1 : 0;
  return n;
}

/**
 * Sets to `value` every pixel whose centre lies within `radius` of (cx, cy) (image pixels,
 * fractional allowed). A radius under 0.5 still paints the pixel under the point. Returns the
 * number of pixels that changed.
 */
export function stamp(mask: Mask, cx: number, cy: number, radius: number, value: 0 | 1): number {
  const r = Math.max(radius, 0.5);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(mask.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(mask.height - 1, Math.ceil(cy + r));
  const r2 = r * r;
  let changed = 0;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy > r2) continue;
      const i = y * mask.width + x;
      if (mask.data[i] !== value) {
        mask.data[i] = value;
        changed++;
      }
    }
  }
  return changed;
}

/** Stamps along the segment (x0, y0) → (x1, y1) every quarter radius (at least every half pixel). */
export function strokeLine(mask: Mask, x0: number, y0: number, x1: number, y1: number, radius: number, value: 0 | 1): number {
  const step = Math.max(0.5, Math.max(radius, 0.5) / 2);
  const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0) / step));
  let changed = 0;
  for (let k = 0; k <= steps; k++) {
    const t = k / steps;
    changed += stamp(mask, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, radius, value);
  }
  return changed;
}

/**
 * Fills the 4-connected region of pixels equal to the one at (x, y) with `value` (scanline fill
 * with an explicit stack, so a full-image region cannot overflow the call stack). Returns the
 * number of pixels changed; 0 when the point is outside or already `value`.
 */
export function floodFill(mask: Mask, x: number, y: number, value: 0 | 1): number {
  const { width, height, data } = mask;
  const sx = Math.floor(x);
  const sy = Math.floor(y);
  if (sx < 0 || sy < 0 || sx >= width || sy >= height) return 0;
  const target = data[sy * width + sx];
  if (target === value) return 0;
  let changed = 0;
  const stack: number[] = [sx, sy];
  while (stack.length > 0) {
    const py = stack.pop()!;
    const px = stack.pop()!;
    const row = py * width;
    if (data[row + px] !== target) continue;
    let left = px;
    while (left > 0 && data[row + left - 1] === target) left--;
    let right = px;
    while (right < width - 1 && data[row + right + 1] === target) right++;
    for (let i = left; i <= right; i++) data[row + i] = value;
    changed += right - left + 1;
    for (const ny of [py - 1, py + 1]) {
      if (ny < 0 || ny >= height) continue;
      const nrow = ny * width;
      // Push one seed per run of target pixels in the neighbouring row.
      let inRun = false;
      for (let i = left; i <= right; i++) {
        const match = data[nrow + i] === target;
        if (match && !inRun) stack.push(i, ny);
        inRun = match;
      }
    }
  }
  return changed;
}

/** A pixel rectangle, inclusive: what an operation may have touched, for redrawing only that. */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The pixels a disc stroke of `radius` from (x0, y0) to (x1, y1) can touch, clipped to the mask; null when none. */
export function strokeBounds(mask: Mask, x0: number, y0: number, x1: number, y1: number, radius: number): Rect | null {
  const r = Math.max(radius, 0.5) + 1;
  return clipRect(mask, {
    x0: Math.floor(Math.min(x0, x1) - r),
    y0: Math.floor(Math.min(y0, y1) - r),
    x1: Math.ceil(Math.max(x0, x1) + r),
    y1: Math.ceil(Math.max(y0, y1) + r),
  });
}

export function clipRect(mask: Mask, r: Rect): Rect | null {
  const out = { x0: Math.max(0, r.x0), y0: Math.max(0, r.y0), x1: Math.min(mask.width - 1, r.x1), y1: Math.min(mask.height - 1, r.y1) };
  return out.x0 > out.x1 || out.y0 > out.y1 ? null : out;
}

export type FillRule = 'evenodd' | 'nonzero';

/**
 * Fills the polygon through `points` (image pixels, fractional allowed; closed implicitly) with
 * `value`: a pixel is inside when its centre is, by `rule`, as a canvas `fill()` decides. A
 * scanline fill: per row, the edges crossing the row's centre line give sorted crossings, and the
 * spans between them are filled by the winding or parity count. Fewer than 3 points fill nothing.
 * Returns the number of pixels changed.
 */
export function fillPolygon(mask: Mask, points: readonly { x: number; y: number }[], value: 0 | 1, rule: FillRule = 'evenodd'): number {
  const n = points.length;
  if (n < 3) return 0;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of points) {
    minY = Math.min(minY, p.y);
    maxY = Math.max(maxY, p.y);
  }
  const yStart = Math.max(0, Math.ceil(minY - 0.5));
  const yEnd = Math.min(mask.height - 1, Math.floor(maxY - 0.5));
  const xs: number[] = [];
  const dirs: number[] = [];
  let changed = 0;
  for (let y = yStart; y <= yEnd; y++) {
    const cy = y + 0.5;
    xs.length = 0;
    dirs.length = 0;
    for (let k = 0; k < n; k++) {
      const a = points[k]!;
      const b = points[(k + 1) % n]!;
      // Half-open in y, so a vertex on the scanline is counted once and horizontal edges never.
      if (a.y <= cy === b.y <= cy) continue;
      xs.push(a.x + ((cy - a.y) / (b.y - a.y)) * (b.x - a.x));
      dirs.push(b.y > a.y ? 1 : -1);
    }
    const order = xs.map((_, i) => i).sort((i, j) => xs[i]! - xs[j]!);
    let winding = 0;
    for (let k = 0; k < order.length - 1; k++) {
      winding += rule === 'evenodd' ? 1 : dirs[order[k]!]!;
      const inside = rule === 'evenodd' ? winding % 2 === 1 : winding !== 0;
      if (!inside) continue;
      // Pixels whose centre x + 0.5 lies in [left, right).
      const from = Math.max(0, Math.ceil(xs[order[k]!]! - 0.5));
      const to = Math.min(mask.width - 1, Math.ceil(xs[order[k + 1]!]! - 0.5) - 1);
      const row = y * mask.width;
      for (let x = from; x <= to; x++) {
        if (mask.data[row + x] !== value) {
          mask.data[row + x] = value;
          changed++;
        }
      }
    }
  }
  return changed;
}

export function clearMask(mask: Mask): number {
  const changed = countSet(mask);
  mask.data.fill(0);
  return changed;
}

/** 0/255 gray pixels of the mask, `[height * width]`, for a PNG or a canvas. */
export function toGray(mask: Mask): Uint8Array {
  const out = new Uint8Array(mask.data.length);
  for (let i = 0; i < out.length; i++) out[i] = mask.data[i] ? 255 : 0;
  return out;
}

/**
 * A mask from RGBA pixels (`[height * width * 4]`, as ImageData holds them), by the one mask rule
 * (shared/mask-rule.ts): set where any colour channel is > 0.
 */
export function fromRgba(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): Mask {
  return { width, height, data: binariseMask(rgba, width * height, 4) };
}

/**
 * Undo/redo over whole-mask snapshots. `commit` records the state after an operation; `undo` and
 * `redo` return the state to show (a copy: callers mutate it freely). Past `limit` steps the
 * oldest is forgotten.
 */
export class MaskHistory {
  private readonly past: Mask[] = [];
  private readonly future: Mask[] = [];
  private present: Mask;

  constructor(
    initial: Mask,
    private readonly limit = 40,
  ) {
    this.present = cloneMask(initial);
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** Records `next` as the new present (copied); a no-op when it equals the present. */
  commit(next: Mask): boolean {
    if (maskEquals(next, this.present)) return false;
    this.past.push(this.present);
    if (this.past.length > this.limit) this.past.shift();
    this.present = cloneMask(next);
    this.future.length = 0;
    return true;
  }

  undo(): Mask | null {
    const previous = this.past.pop();
    if (!previous) return null;
    this.future.push(this.present);
    this.present = previous;
    return cloneMask(previous);
  }

  redo(): Mask | null {
    const next = this.future.pop();
    if (!next) return null;
    this.past.push(this.present);
    this.present = next;
    return cloneMask(next);
  }
}
