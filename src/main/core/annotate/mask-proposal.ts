/**
 * A mask proposed from an anomaly map (issue 19, item 1), pure: the map (already at the sample's
 * size) is thresholded, its connected regions smaller than a minimum area are dropped, and the
 * holes of what is left are filled. The reference is scripts/reference/mask_proposal.py (numpy +
 * scipy.ndimage), compared exactly in tests/annotate/mask-proposal.test.ts.
 *
 * The rules, step by step:
 * 1. threshold: a pixel is foreground when its value is ≥ the threshold (the F1-max convention of
 *    evaluation/score-metrics.ts: score ≥ t is called anomalous); NaN is background.
 * 2. components: 8-connected (evaluation/components.ts, the labelling the AUPRO regions use, scipy's
 *    `label` with a 3×3 structure of ones); a component of fewer than `minArea` pixels is dropped.
 * 3. holes: background pixels not 4-connected to the image border become foreground, as
 *    scipy.ndimage.binary_fill_holes with its default (cross) structure. 4 for the background is the
 *    dual of 8 for the foreground: a diagonal gap in an 8-connected ring does not let the inside out.
 * 4. snapping (optional, off unless `snap` is given; snapToEdges below): within a band of `band`
 *    pixels on either side of the proposal's boundary, each pixel goes to the side (inside or
 *    outside) whose local colour model its colour is nearer to, the models taken from the pixels
 *    just inside and just outside the band. Then steps 2 and 3 apply again to what snapping left.
 */
import { labelComponents } from '../evaluation/components';

export interface ProposalOptions {
  /** Map values ≥ this are foreground. */
  threshold: number;
  /** Components (8-connected) of fewer pixels are dropped; 0 or 1 keeps every one. */
  minArea: number;
  /** Fill background regions that do not touch the border. */
  fillHoles: boolean;
  /** Snap the boundary to the image's colour edges (step 4): the band's half-width and the image. */
  snap?: { band: number; image: Uint8Array } | undefined;
}

export interface ProposedMask {
  /** Shape [height, width], 255 foreground, 0 background. */
  mask: Uint8Array;
  /** Foreground pixels of the proposal. */
  area: number;
  /** Components kept (before hole filling, which never joins two). */
  components: number;
  /** Components dropped below the minimum area (after snapping, when it snapped). */
  dropped: number;
  /** Pixels snapping moved to the other side (0 without snapping). */
  snapMoved: number;
}

/**
 * Proposes a mask from a map.
 * @param map shape [height, width], row-major (at the sample's size)
 */
export function proposeMask(map: Float32Array, width: number, height: number, options: ProposalOptions): ProposedMask {
  const n = width * height;
  if (map.length !== n) throw new RangeError(`map holds ${map.length} values, expected ${height}×${width}`);
  const { threshold, minArea, fillHoles } = options;
  // Built as the 0/255 mask itself and counted as it changes: no pass over the image after the last step.
  const mask = new Uint8Array(n);
  let area = 0;
  for (let i = 0; i < n; i++) {
    if (map[i]! >= threshold) {
      mask[i] = 255;
      area++;
    }
  }

  const cleaned = cleanMask(mask, width, height, area, minArea, fillHoles);
  if (!options.snap) return { mask, ...cleaned, snapMoved: 0 };
  const { band, image } = options.snap;
  const snapMoved = snapToEdges(mask, image, width, height, band);
  if (snapMoved === 0) return { mask, ...cleaned, snapMoved };
  let snappedArea = 0;
  for (let i = 0; i < n; i++) if (mask[i]) snappedArea++;
  return { mask, ...cleanMask(mask, width, height, snappedArea, minArea, fillHoles), snapMoved };
}

/** Steps 2 and 3 in place on a 0/255 mask of `area` foreground pixels. */
function cleanMask(mask: Uint8Array, width: number, height: number, area: number, minArea: number, fillHoles: boolean): { area: number; components: number; dropped: number } {
  const { count, labels, sizes, first, last } = labelComponents(mask, width, height);
  let dropped = 0;
  if (minArea > 1 && count > 0) {
    const keep = new Uint8Array(count + 1);
    for (let k = 1; k <= count; k++) {
      if (sizes[k - 1]! >= minArea) keep[k] = 1;
      else {
        dropped++;
        area -= sizes[k - 1]!;
      }
    }
    if (dropped > 0) for (let i = first; i <= last; i++) if (mask[i] && !keep[labels[i]!]) mask[i] = 0;
  }
  if (fillHoles) area += fillBackgroundHoles(mask, width, height);
  return { area, components: count - dropped, dropped };
}

/**
 * Local colour models must differ by at least this much (Euclidean distance of mean RGB, 0–255
 * scale) for a band pixel to be reassigned: where the image has no edge (a flat or evenly
 * textured area, whose two models are nearly the same colour) the proposal is left as it is.
 */
export const SNAP_MIN_CONTRAST = 8;

/**
 * Snaps a proposal's boundary to the image's colour edges, in place; returns how many pixels moved.
 *
 * The method, deterministic (a local two-class nearest-mean rule, as a band-limited form of the
 * colour models of interactive segmentation such as GrabCut, without its graph cut):
 * 1. distances: each foreground pixel's chessboard distance to the nearest background pixel
 *    (dIn ≥ 1), and each background pixel's to the nearest foreground one (dOut ≥ 1), by the
 *    classic two-pass 8-neighbour distance transform; the image border is no boundary.
 * 2. band: the pixels with dIn ≤ band or dOut ≤ band, the ones that may move.
 *    inner ring: foreground with band < dIn ≤ 2·band; outer ring: background with band < dOut ≤ 2·band.
 * 3. models: for each band pixel, the mean colour of the inner-ring pixels and of the outer-ring
 *    pixels in the (2R+1)² window around it, R = 2·band + 1 (far enough to reach both rings from
 *    anywhere in the band), summed with integral images.
 * 4. decision: when both models have pixels in the window and differ by at least SNAP_MIN_CONTRAST,
 *    the pixel becomes foreground if its colour is strictly nearer (squared RGB distance) the inner
 *    model, background if strictly nearer the outer one; otherwise (a tie, a missing model, or no
 *    contrast) it keeps its side. Every decision reads the mask as it was before snapping.
 * A boundary that sits up to `band` pixels off a sharp edge between two flat colours thus moves
 * exactly onto the edge; a region thinner than the band has no inner ring and stays as it is.
 * Only the rectangle around the foreground (grown by the reach of the window) is worked on.
 * @param mask shape [height, width], 0 background, 255 foreground (changed in place)
 * @param rgb shape [height, width, 3], 8-bit RGB of the image at the mask's size
 * @param band pixels on each side of the boundary that may move (≥ 1)
 */
export function snapToEdges(mask: Uint8Array, rgb: Uint8Array, width: number, height: number, band: number): number {
  if (rgb.length !== width * height * 3) throw new RangeError(`image holds ${rgb.length} bytes, expected ${height}×${width}×3`);
  if (!Number.isInteger(band) || band < 1 || band > 100) throw new RangeError(`snap band ${band} is not an integer in 1..100`);
  // The foreground's bounding box, grown by what any decision reads (band + the window's reach).
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (mask[row + x]) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  if (x1 < 0) return 0;
  const R = 2 * band + 1;
  const grow = band + R;
  x0 = Math.max(0, x0 - grow);
  y0 = Math.max(0, y0 - grow);
  x1 = Math.min(width - 1, x1 + grow);
  y1 = Math.min(height - 1, y1 + grow);
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const m = bw * bh;
  const fg = new Uint8Array(m);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) fg[y * bw + x] = mask[(y + y0) * width + x + x0] ? 1 : 0;

  // 1. Distances to the other side, capped at 2·band + 1 (nothing further is read).
  const cap = 2 * band + 1;
  const dist = new Uint8Array(m);
  for (let i = 0; i < m; i++) dist[i] = cap;
  const relax = (i: number, j: number) => {
    if (fg[j] !== fg[i]) dist[i] = 1;
    else if (dist[j]! + 1 < dist[i]!) dist[i] = dist[j]! + 1;
  };
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      if (x > 0) relax(i, i - 1);
      if (y > 0) {
        relax(i, i - bw);
        if (x > 0) relax(i, i - bw - 1);
        if (x < bw - 1) relax(i, i - bw + 1);
      }
    }
  }
  for (let y = bh - 1; y >= 0; y--) {
    for (let x = bw - 1; x >= 0; x--) {
      const i = y * bw + x;
      if (x < bw - 1) relax(i, i + 1);
      if (y < bh - 1) {
        relax(i, i + bw);
        if (x < bw - 1) relax(i, i + bw + 1);
        if (x > 0) relax(i, i + bw - 1);
      }
    }
  }

  // 2–3. Integral images of the two rings: count and R, G, B sums ([side][channel], (bw+1)×(bh+1)).
  const iw = bw + 1;
  const sums = [0, 1].map(() => [0, 1, 2, 3].map(() => new Int32Array(iw * (bh + 1))));
  for (let y = 0; y < bh; y++) {
    const run = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      const d = dist[i]!;
      if (d > band && d <= 2 * band) {
        const side = fg[i]!;
        const p = ((y + y0) * width + x + x0) * 3;
        run[side * 4]! += 1;
        run[side * 4 + 1]! += rgb[p]!;
        run[side * 4 + 2]! += rgb[p + 1]!;
        run[side * 4 + 3]! += rgb[p + 2]!;
      }
      const o = (y + 1) * iw + x + 1;
      for (let s = 0; s < 2; s++) for (let c = 0; c < 4; c++) sums[s]![c]![o] = sums[s]![c]![o - iw]! + run[s * 4 + c]!;
    }
  }
  const boxSum = (a: Int32Array, xa: number, ya: number, xb: number, yb: number) => a[(yb + 1) * iw + xb + 1]! - a[ya * iw + xb + 1]! - a[(yb + 1) * iw + xa]! + a[ya * iw + xa]!;

  // 4. Decisions, read from the mask before snapping (fg), written into the mask.
  const minContrast2 = SNAP_MIN_CONTRAST * SNAP_MIN_CONTRAST;
  const mean = [0, 0, 0, 0, 0, 0];
  let moved = 0;
  for (let y = 0; y < bh; y++) {
    const ya = Math.max(0, y - R);
    const yb = Math.min(bh - 1, y + R);
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      if (dist[i]! > band) continue;
      const xa = Math.max(0, x - R);
      const xb = Math.min(bw - 1, x + R);
      const nOut = boxSum(sums[0]![0]!, xa, ya, xb, yb);
      const nIn = boxSum(sums[1]![0]!, xa, ya, xb, yb);
      if (nIn === 0 || nOut === 0) continue;
      let contrast = 0;
      for (let c = 0; c < 3; c++) {
        mean[c] = boxSum(sums[1]![c + 1]!, xa, ya, xb, yb) / nIn;
        mean[c + 3] = boxSum(sums[0]![c + 1]!, xa, ya, xb, yb) / nOut;
        contrast += (mean[c]! - mean[c + 3]!) ** 2;
      }
      if (contrast < minContrast2) continue;
      const p = ((y + y0) * width + x + x0) * 3;
      let dIn = 0;
      let dOut = 0;
      for (let c = 0; c < 3; c++) {
        dIn += (rgb[p + c]! - mean[c]!) ** 2;
        dOut += (rgb[p + c]! - mean[c + 3]!) ** 2;
      }
      const side = dIn < dOut ? 1 : dOut < dIn ? 0 : fg[i]!;
      if (side !== fg[i]) {
        mask[(y + y0) * width + x + x0] = side ? 255 : 0;
        moved++;
      }
    }
  }
  return moved;
}

/**
 * Sets every background pixel (0) that is not 4-connected to the border to 255, in place; returns
 * how many it set.
 *
 * By runs, not pixels: each row's background runs are joined (union-find) to the runs of the row
 * above that share a column, which is 4-connectivity; a run touching the border marks its set as
 * outside. A proposal's background is most of a 1024² image in a few hundred runs, so the work past
 * the one scan is per run (bench/mask-proposal.ts).
 * @param binary shape [height, width], 0 background, anything else foreground
 */
export function fillBackgroundHoles(binary: Uint8Array, width: number, height: number): number {
  let cap = Math.max(64, height * 2);
  let starts = new Int32Array(cap);
  let ends = new Int32Array(cap);
  let parent = new Int32Array(cap);
  let outside = new Uint8Array(cap);
  const rowFirst = new Int32Array(height + 1);
  let count = 0;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      const up = parent[parent[a]!]!;
      parent[a] = up;
      a = up;
    }
    return a;
  };
  for (let y = 0; y < height; y++) {
    rowFirst[y] = count;
    const row = y * width;
    let x = 0;
    while (x < width) {
      if (binary[row + x] !== 0) {
        x++;
        continue;
      }
      const s = x;
      while (x < width && binary[row + x] === 0) x++;
      if (count === cap) {
        cap *= 2;
        const grow = <T extends Int32Array | Uint8Array>(a: T): T => {
          const b = new (a.constructor as new (n: number) => T)(cap);
          b.set(a);
          return b;
        };
        starts = grow(starts);
        ends = grow(ends);
        parent = grow(parent);
        outside = grow(outside);
      }
      starts[count] = s;
      ends[count] = x;
      parent[count] = count;
      outside[count] = s === 0 || x === width || y === 0 || y === height - 1 ? 1 : 0;
      count++;
    }
    if (y === 0) continue;
    // Runs of the row above and of this row overlap on a column: one region (two pointers).
    let a = rowFirst[y - 1]!;
    const aEnd = rowFirst[y]!;
    let b = rowFirst[y]!;
    while (a < aEnd && b < count) {
      if (starts[a]! < ends[b]! && starts[b]! < ends[a]!) {
        const ra = find(a);
        const rb = find(b);
        if (ra !== rb) {
          const root = ra < rb ? ra : rb;
          parent[ra === root ? rb : ra] = root;
          outside[root] = outside[ra]! | outside[rb]!;
        }
      }
      if (ends[a]! < ends[b]!) a++;
      else b++;
    }
  }
  rowFirst[height] = count;
  let filled = 0;
  for (let y = 0; y < height; y++) {
    for (let r = rowFirst[y]!; r < rowFirst[y + 1]!; r++) {
      if (!outside[find(r)]) {
        binary.fill(255, y * width + starts[r]!, y * width + ends[r]!);
        filled += ends[r]! - starts[r]!;
      }
    }
  }
  return filled;
}
