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

/** Smallest cell side of the colour models (snapToEdges, step 3): a small band does not make a fine, costly grid. */
const CELL_MIN = 8;

/**
 * Snaps a proposal's boundary to the image's colour edges, in place; returns how many pixels moved.
 *
 * The method, deterministic (a local two-class nearest-mean rule, as a band-limited form of the
 * colour models of interactive segmentation such as GrabCut, without its graph cut):
 * 1. distances: each foreground pixel's chessboard distance to the nearest background pixel
 *    (dIn ≥ 1), and each background pixel's to the nearest foreground one (dOut ≥ 1), up to
 *    2·band: a breadth-first search over 8-neighbours of the same side, from the pixels that have an
 *    8-neighbour on the other side (exact for the chessboard metric); the image border is no boundary.
 * 2. band: the pixels with dIn ≤ band or dOut ≤ band, the ones that may move.
 *    inner ring: foreground with band < dIn ≤ 2·band; outer ring: background with band < dOut ≤ 2·band.
 * 3. models: the image is cut into cells of S × S pixels, S = max(CELL_MIN, band + 1), from the top
 *    left corner; a band pixel's two models are the mean colours of the inner-ring and of the
 *    outer-ring pixels in the cells within k = ⌈(2·band + 2) / S⌉ cells of its own (at least
 *    2·band + 2 pixels on every side, so both rings are in reach from anywhere in the band), summed
 *    per cell then by an integral image of cells.
 * 4. decision: when both models have pixels there and differ by at least SNAP_MIN_CONTRAST, the
 *    pixel becomes foreground if its colour is strictly nearer (squared RGB distance) the inner
 *    model, background if strictly nearer the outer one; otherwise (a tie, a missing model, or no
 *    contrast) it keeps its side. Every decision reads the mask as it was before snapping.
 * A boundary that sits up to `band` pixels off a sharp edge between two flat colours thus moves
 * exactly onto the edge; a region thinner than the band has no inner ring and stays as it is.
 * Past one pass over the image to find the boundary, the work is per pixel within 2·band of it.
 * @param mask shape [height, width], 0 background, 255 foreground (changed in place)
 * @param rgb shape [height, width, 3], 8-bit RGB of the image at the mask's size
 * @param band pixels on each side of the boundary that may move (≥ 1)
 */
export function snapToEdges(mask: Uint8Array, rgb: Uint8Array, width: number, height: number, band: number): number {
  const n = width * height;
  if (rgb.length !== n * 3) throw new RangeError(`image holds ${rgb.length} bytes, expected ${height}×${width}×3`);
  if (!Number.isInteger(band) || band < 1 || band > 100) throw new RangeError(`snap band ${band} is not an integer in 1..100`);

  // 1. The boundary: pixels with an 8-neighbour on the other side get distance 1 (each pair is
  //    seen once, from its upper or left pixel). dist 0: not reached (further than 2·band).
  const dist = new Uint8Array(n);
  let queue = new Int32Array(1024);
  let tail = 0;
  const push = (i: number) => {
    if (tail === queue.length) {
      const q = new Int32Array(queue.length * 2);
      q.set(queue);
      queue = q;
    }
    queue[tail++] = i;
  };
  const mark = (i: number) => {
    if (dist[i] === 0) {
      dist[i] = 1;
      push(i);
    }
  };
  const pair = (i: number, j: number) => {
    mark(i);
    mark(j);
  };
  // Four pixels at a time where rows start on a 4-byte boundary: a word that equals the word below
  // it, all one value, with the pixels right, below right and below left of it the same, holds no
  // boundary (most of a proposal's image).
  const words = width % 4 === 0 && mask.byteOffset % 4 === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, n >> 2) : null;
  const rowWords = width >> 2;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const last = y === height - 1;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      const v = mask[i]!;
      if (words && !last && (x & 3) === 0 && x + 4 < width) {
        const w = words[i >> 2]!;
        if (
          (w === 0 || w === 0xffffffff) &&
          words[(i >> 2) + rowWords] === w &&
          mask[i + 4] === v &&
          mask[i + width + 4] === v &&
          (x === 0 || mask[i + width - 1] === v)
        ) {
          x += 3;
          continue;
        }
      }
      if (x < width - 1 && mask[i + 1] !== v) pair(i, i + 1);
      if (last) continue;
      if (mask[i + width] !== v) pair(i, i + width);
      if (x < width - 1 && mask[i + width + 1] !== v) pair(i, i + width + 1);
      if (x > 0 && mask[i + width - 1] !== v) pair(i, i + width - 1);
    }
  }
  if (tail === 0) return 0;
  // Breadth first within each side, so the queue is in order of distance.
  const far = 2 * band;
  for (let h = 0; h < tail; h++) {
    const i = queue[h]!;
    const d = dist[i]!;
    if (d >= far) continue;
    const v = mask[i]!;
    const x = i % width;
    const y = (i - x) / width;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= width) continue;
        const j = yy * width + xx;
        if (dist[j] === 0 && mask[j] === v) {
          dist[j] = d + 1;
          push(j);
        }
      }
    }
  }

  // 2–3. Ring pixels summed per cell: [side (0 out, 1 in)][count, R, G, B], then integrated.
  const S = Math.max(CELL_MIN, band + 1);
  const reach = Math.ceil((2 * band + 2) / S);
  const gw = Math.ceil(width / S);
  const gh = Math.ceil(height / S);
  const iw = gw + 1;
  const cells = new Float64Array(8 * iw * (gh + 1));
  let bandEnd = 0;
  for (let h = 0; h < tail; h++) {
    const i = queue[h]!;
    if (dist[i]! <= band) {
      bandEnd = h + 1;
      continue;
    }
    const x = i % width;
    const y = (i - x) / width;
    const o = (((y / S) | 0) + 1) * iw + ((x / S) | 0) + 1;
    const k = 8 * o + (mask[i] ? 4 : 0);
    cells[k] = cells[k]! + 1;
    cells[k + 1] = cells[k + 1]! + rgb[i * 3]!;
    cells[k + 2] = cells[k + 2]! + rgb[i * 3 + 1]!;
    cells[k + 3] = cells[k + 3]! + rgb[i * 3 + 2]!;
  }
  for (let gy = 1; gy <= gh; gy++) {
    for (let gx = 1; gx <= gw; gx++) {
      const o = 8 * (gy * iw + gx);
      for (let c = 0; c < 8; c++) cells[o + c] = cells[o + c]! + cells[o - 8 + c]! + cells[o - 8 * iw + c]! - cells[o - 8 * iw - 8 + c]!;
    }
  }

  // 4. Decisions for the band (the queue's head, in order of distance), read from the mask before
  //    snapping: the moves are written after every decision is made.
  const minContrast2 = SNAP_MIN_CONTRAST * SNAP_MIN_CONTRAST;
  const sums = new Float64Array(8);
  const moves: number[] = [];
  for (let h = 0; h < bandEnd; h++) {
    const i = queue[h]!;
    if (dist[i]! > band) continue;
    const x = i % width;
    const y = (i - x) / width;
    const cx = (x / S) | 0;
    const cy = (y / S) | 0;
    const xa = Math.max(0, cx - reach);
    const xb = Math.min(gw, cx + reach + 1);
    const ya = Math.max(0, cy - reach);
    const yb = Math.min(gh, cy + reach + 1);
    const o11 = 8 * (yb * iw + xb);
    const o01 = 8 * (ya * iw + xb);
    const o10 = 8 * (yb * iw + xa);
    const o00 = 8 * (ya * iw + xa);
    for (let c = 0; c < 8; c++) sums[c] = cells[o11 + c]! - cells[o01 + c]! - cells[o10 + c]! + cells[o00 + c]!;
    const nOut = sums[0]!;
    const nIn = sums[4]!;
    if (nIn === 0 || nOut === 0) continue;
    let contrast = 0;
    let dIn = 0;
    let dOut = 0;
    for (let c = 1; c < 4; c++) {
      const mIn = sums[4 + c]! / nIn;
      const mOut = sums[c]! / nOut;
      const v = rgb[i * 3 + c - 1]!;
      contrast += (mIn - mOut) ** 2;
      dIn += (v - mIn) ** 2;
      dOut += (v - mOut) ** 2;
    }
    if (contrast < minContrast2) continue;
    const inside = mask[i] !== 0;
    if ((inside && dOut < dIn) || (!inside && dIn < dOut)) moves.push(i);
  }
  for (const i of moves) mask[i] = mask[i] ? 0 : 255;
  return moves.length;
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
