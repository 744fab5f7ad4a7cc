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
 * Edge snapping (the "optionally snapped to image edges") is not done here.
 */
import { labelComponents } from '../evaluation/components';

export interface ProposalOptions {
  /** Map values ≥ this are foreground. */
  threshold: number;
  /** Components (8-connected) of fewer pixels are dropped; 0 or 1 keeps every one. */
  minArea: number;
  /** Fill background regions that do not touch the border. */
  fillHoles: boolean;
}

export interface ProposedMask {
  /** Shape [height, width], 255 foreground, 0 background. */
  mask: Uint8Array;
  /** Foreground pixels of the proposal. */
  area: number;
  /** Components kept (before hole filling, which never joins two). */
  components: number;
  /** Components dropped below the minimum area. */
  dropped: number;
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
  return { mask, area, components: count - dropped, dropped };
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
