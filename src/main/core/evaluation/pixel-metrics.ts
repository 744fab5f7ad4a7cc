/**
 * Exact pixel-level metrics over a whole test set (164 M pixels at MIAD scale) in bounded memory:
 * pixel AUROC (as sklearn's roc_auc_score on the float32 maps), pixel F1-max, AUPRO (the MVTec AD
 * script's definition) and their curves, for several subsets of images in one walk (overall, and each
 * defect type against all normal images).
 *
 * Why not sort: a float64 argsort of 164 M scores needs several GB. Instead the float32 bit patterns
 * become order-preserving uint32 keys (float-order.ts) and the pixels are ranked by a two-digit MSD
 * radix on the high and low 16 key bits. The anomalous pixels (a few % of a test set) are listed once,
 * in image order, with their key and class while their masks are labelled. Normal pixels need only
 * their pattern (below), which is one per image, so a histogram of (pattern, high key) lets one
 * scatter write each normal pixel's low key alone (2 bytes) into its (high bucket, pattern) segment;
 * each bucket is then ordered by its low bits with a counting sort, or, when it is dense, tallied per
 * (pattern, low key). When 2 bytes a normal pixel exceeds the memory budget, slabs of consecutive
 * buckets are gathered one at a time, one more pass over the maps each. A bucket bigger than the sort
 * scratch (e.g. constant maps) is tallied per (low key, pattern) instead. Within a tie, PRO weights are
 * summed in the order the one-scatter version summed them (image order; reversed in dense buckets), so
 * its results are kept bit for bit (bench/metrics.ts compares against it). Memory: 2 bytes a normal
 * pixel (bounded by the budget) plus 12 bytes an anomalous one (not bounded: masks are small).
 *
 * Pixel class: a normal pixel carries the membership pattern of its image (which subsets it is in);
 * a ground-truth pixel carries its region (8-connected component), whose weight 1/|region| feeds PRO.
 * Walking keys from high to low, each distinct key updates the running counts of the subsets its
 * pixels belong to and commits one curve point for each of them (curve.ts). Runs of negative pixels
 * between two positives are only counted per pattern and committed as one rectangle per subset: the
 * walk costs one increment per normal pixel, which is what makes 164 M pixels take seconds.
 */
import { labelComponents } from './components';
import { MetricUndefinedError, RankAccumulator, type Curve } from './curve';
import { keyToFloat } from './float-order';
import type { ScoreMetrics } from './score-metrics';

/** A test set's maps and ground truth at one resolution. */
export interface PixelSet {
  width: number;
  height: number;
  /** Number of images. */
  count: number;
  /** Anomaly maps, shape [count, height, width], finite float32. */
  maps: Float32Array;
  /** Ground truth, shape [count, height, width]; a value > 0 marks an anomalous pixel. */
  masks: Uint8Array;
}

export interface PixelSubset {
  name: string;
  /** Per image (shape [count]): truthy when the image belongs to the subset. */
  images: ArrayLike<boolean | number>;
}

export interface PixelMetrics extends ScoreMetrics {
  name: string;
  /** Ground-truth regions (8-connected) in the subset. */
  regions: number;
  /** AUPRO up to `proLimit`, divided by it; null without regions or normal pixels. */
  aupro: number | null;
  proLimit: number;
  pro: Curve | null;
}

export interface PixelMetricsOptions {
  /** FPR limit of AUPRO; default 0.3. */
  proLimit?: number;
  /** Bytes the gathered normal pixels may hold at once (2 each); default 768 MiB. */
  memoryBytes?: number;
  /** Largest bucket ordered by counting sort (beyond it: tallied); default 2^22. Small values are for tests. */
  sortPixels?: number;
  /** Buckets with more pixels than this are counted per key rather than sorted; default 32,768 × patterns. Small values are for tests. */
  denseFrom?: number;
  /** When given, receives the seconds spent in each phase (for benchmarks). */
  timings?: Record<string, number>;
}

const HIGH = 65536;
const NO_COMPONENTS = { count: 0, labels: new Int32Array(0), sizes: new Int32Array(0), first: 0, last: -1 };

/** True when any byte of `mask` is non-zero; reads 4 bytes at a time where the mask is word-aligned. */
function anyNonZero(mask: Uint8Array): boolean {
  const n = mask.length;
  let j = 0;
  if (mask.byteOffset % 4 === 0) {
    const words = new Int32Array(mask.buffer, mask.byteOffset, n >> 2);
    for (let k = 0; k < words.length; k++) if (words[k] !== 0) return true;
    j = words.length * 4;
  }
  for (; j < n; j++) if (mask[j] !== 0) return true;
  return false;
}

/**
 * Pixel metrics of each subset (default: one subset with every image, named `all`).
 * Throws RangeError on inconsistent shapes or non-finite map values (naming the image).
 */
export function pixelMetrics(set: PixelSet, subsets?: PixelSubset[], options: PixelMetricsOptions = {}): PixelMetrics[] {
  const { width, height, count, maps, masks } = set;
  const plane = width * height;
  const total = plane * count;
  if (!(width > 0 && height > 0 && count >= 0)) throw new RangeError(`bad pixel set shape ${count}×${height}×${width}`);
  if (maps.length !== total) throw new RangeError(`maps hold ${maps.length} values, expected ${count}×${height}×${width}`);
  if (masks.length !== total) throw new RangeError(`masks hold ${masks.length} values, expected ${count}×${height}×${width}`);
  const subs = subsets ?? [{ name: 'all', images: new Uint8Array(count).fill(1) }];
  const proLimit = options.proLimit ?? 0.3;
  if (!(proLimit > 0 && proLimit <= 1)) throw new RangeError(`proLimit must be in (0, 1], got ${proLimit}`);
  const S = subs.length;
  const timings = options.timings;
  const start = performance.now();

  // --- membership patterns: images with the same set of subsets share one normal-pixel class ----
  const patternOfImage = new Int32Array(count);
  const patternIndex = new Map<string, number>();
  const patternSubs: number[][] = [];
  for (const sub of subs) {
    if (sub.images.length !== count) throw new RangeError(`subset ${sub.name} flags ${sub.images.length} images, expected ${count}`);
  }
  for (let i = 0; i < count; i++) {
    const member: number[] = [];
    for (let s = 0; s < S; s++) if (subs[s]!.images[i]) member.push(s);
    const sig = member.join(',');
    let p = patternIndex.get(sig);
    if (p === undefined) {
      p = patternSubs.length;
      patternIndex.set(sig, p);
      patternSubs.push(member);
    }
    patternOfImage[i] = p;
  }
  const nPatterns = patternSubs.length;
  const patStart = new Int32Array(nPatterns + 1);
  for (let p = 0; p < nPatterns; p++) patStart[p + 1] = patStart[p]! + patternSubs[p]!.length;
  const patList = Int32Array.from(patternSubs.flat());
  // The inverse: the patterns of each subset, to total a run of pending negatives per subset.
  const subPatterns: number[][] = subs.map(() => []);
  patternSubs.forEach((members, p) => members.forEach((s) => subPatterns[s]!.push(p)));
  const subPatStart = new Int32Array(S + 1);
  for (let s = 0; s < S; s++) subPatStart[s + 1] = subPatStart[s]! + subPatterns[s]!.length;
  const subPatList = Int32Array.from(subPatterns.flat());

  // --- regions: label each mask, give every ground-truth pixel its region's class and its key ----
  // The anomalous pixels (a few % of a test set) are listed once here, in image order, with their
  // class and key; the gather below then moves normal pixels only, as 2-byte low keys.
  const bits = new Int32Array(maps.buffer, maps.byteOffset, total);
  const subPos = new Float64Array(S);
  const subNeg = new Float64Array(S);
  const subRegions = new Float64Array(S);
  let posClass: Int32Array = new Int32Array(1024);
  let posKey: Int32Array = new Int32Array(1024);
  let nPos = 0;
  const regionPattern: number[] = [];
  const regionWeight: number[] = [];
  const scratch = new Int32Array(plane);
  for (let i = 0; i < count; i++) {
    const p = patternOfImage[i]!;
    const mask = masks.subarray(i * plane, (i + 1) * plane);
    const comp = anyNonZero(mask) ? labelComponents(mask, width, height, scratch) : NO_COMPONENTS;
    const base = nPatterns + regionPattern.length;
    for (let k = 0; k < comp.count; k++) {
      regionPattern.push(p);
      regionWeight.push(1 / comp.sizes[k]!);
    }
    let imagePos = 0;
    if (comp.count > 0) {
      const labels = comp.labels;
      const to = comp.last;
      const off = i * plane;
      for (let j = comp.first; j <= to; j++) {
        const l = labels[j]!;
        if (l === 0) continue;
        if (nPos === posClass.length) {
          posClass = growI32(posClass);
          posKey = growI32(posKey);
        }
        let b = bits[off + j]!;
        if (b === -2147483648) b = 0;
        posKey[nPos] = b ^ ((b >> 31) | -2147483648);
        posClass[nPos++] = base + l - 1;
        imagePos++;
      }
    }
    for (let q = patStart[p]!; q < patStart[p + 1]!; q++) {
      const s = patList[q]!;
      subPos[s] = subPos[s]! + imagePos;
      subNeg[s] = subNeg[s]! + (plane - imagePos);
      subRegions[s] = subRegions[s]! + comp.count;
    }
  }
  // Classes: 0..nPatterns-1 are the normal pixels of each pattern, then one class per region.
  const nClasses = nPatterns + regionPattern.length;
  const classPattern = new Int32Array(nClasses);
  const classW = new Float64Array(nClasses);
  for (let c = 0; c < nPatterns; c++) classPattern[c] = c;
  for (let r = 0; r < regionPattern.length; r++) {
    classPattern[nPatterns + r] = regionPattern[r]!;
    classW[nPatterns + r] = regionWeight[r]!;
  }

  let clock = start;
  const lap = (phase: string): void => {
    if (!timings) return;
    const now = performance.now();
    timings[phase] = (timings[phase] ?? 0) + (now - clock) / 1000;
    clock = now;
  };
  lap('regions');
  const accs: RankAccumulator[] = [];
  for (let s = 0; s < S; s++) accs.push(new RankAccumulator(subPos[s]!, subNeg[s]!, subRegions[s]!, proLimit));

  // --- histograms: normal pixels per (pattern, high key), anomalous ones per high key -----------
  const negHist = patternHistogram(bits, maps, count, plane, patternOfImage, nPatterns);
  const posHigh = new Int32Array(HIGH);
  for (let q = 0; q < nPos; q++) {
    const high = posKey[q]! >>> 16;
    negHist[classPattern[posClass[q]!]! * HIGH + high]!--;
    posHigh[high]!++;
  }
  const normalCount = new Int32Array(HIGH);
  for (let p = 0; p < nPatterns; p++) {
    for (let h = 0; h < HIGH; h++) normalCount[h] = normalCount[h]! + negHist[p * HIGH + h]!;
  }
  // The anomalous pixels by high key, image order kept within a key (stable counting sort): the
  // order every later sum over them (PRO weights) runs in.
  const posStart = new Int32Array(HIGH + 1);
  for (let h = 0; h < HIGH; h++) posStart[h + 1] = posStart[h]! + posHigh[h]!;
  const posPerm = new Int32Array(nPos);
  const posFill = posStart.slice(0, HIGH);
  for (let q = 0; q < nPos; q++) posPerm[posFill[posKey[q]! >>> 16]!++] = q;
  lap('histogram');

  // --- gather normal low keys (all at once, or slab by slab) and walk from the top key down -----
  const budget = options.memoryBytes ?? 768 * 2 ** 20;
  const slabCap = Math.max(256, Math.floor(budget / 2));
  const sortCap = Math.max(2, Math.floor(options.sortPixels ?? 1 << 22));
  // Scanning 65,536 keys × patterns beats ordering the pixels once a bucket holds about half that many.
  const denseFrom = options.denseFrom ?? (HIGH / 2) * nPatterns;
  let largestSorted = 0;
  for (let b = 0; b < HIGH; b++) {
    const m = normalCount[b]! + posHigh[b]!;
    if (m <= sortCap && m > largestSorted) largestSorted = m;
  }
  const w: Walker = {
    accs,
    nPatterns,
    classPattern,
    classW,
    patStart,
    patList,
    subPatStart,
    subPatList,
    dirtyList: new Int32Array(S),
    pending: new Float64Array(nPatterns),
    pendingAny: false,
    pendingToken: 0,
    slab: new Uint16Array(Math.max(1, Math.min(slabCap, total))),
    segStart: new Int32Array(nPatterns + 1),
    posKey,
    posClass,
    posPerm,
    posA: 0,
    posE: 0,
    sortedCls: new Int32Array(Math.max(1, largestSorted)),
    lowCount: new Int32Array(HIGH),
    touched: new Int32Array(HIGH),
    negTally: new Int32Array(nPatterns * HIGH),
    posOrder: new Float64Array(1024),
  };
  let fill = new Int32Array(0);
  let hi = HIGH - 1;
  while (hi >= 0) {
    if (normalCount[hi] === 0 && posHigh[hi] === 0) {
      hi--;
      continue;
    }
    if (normalCount[hi]! > slabCap) {
      // More normal pixels at one high key than the budget holds: tally them straight from the maps.
      w.posA = posStart[hi]!;
      w.posE = posStart[hi + 1]!;
      tallyFromMaps(w, hi, bits, masks, count, plane, patternOfImage);
      lap('tally');
      hi--;
      continue;
    }
    let lo = hi;
    let n = normalCount[hi]!;
    while (lo > 0 && n + normalCount[lo - 1]! <= slabCap) {
      lo--;
      n += normalCount[lo]!;
    }
    // Bucket b of the slab holds its normal pixels pattern by pattern: the segment of (b, p) starts
    // at fill[p · span + b - lo] (buckets from hi down to lo, as the walk reads them).
    const span = hi - lo + 1;
    if (fill.length < nPatterns * span) fill = new Int32Array(nPatterns * span);
    let at = 0;
    for (let b = hi; b >= lo; b--) {
      for (let p = 0; p < nPatterns; p++) {
        fill[p * span + b - lo] = at;
        at += negHist[p * HIGH + b]!;
      }
    }
    const segBase = fill.slice(0, nPatterns * span);
    gatherSlab(w.slab, fill, lo, span, bits, masks, count, plane, patternOfImage);
    lap('gather');
    for (let b = hi; b >= lo; b--) {
      const m = normalCount[b]! + posHigh[b]!;
      if (m === 0) continue;
      for (let p = 0; p < nPatterns; p++) w.segStart[p] = segBase[p * span + b - lo]!;
      w.segStart[nPatterns] = w.segStart[0]! + normalCount[b]!;
      w.posA = posStart[b]!;
      w.posE = posStart[b + 1]!;
      if (m > sortCap) tallySegment(w, b);
      else if (m > denseFrom) walkDenseBucket(w, b);
      else walkBucket(w, b);
    }
    lap('walk');
    hi = lo - 1;
  }
  flushNegatives(w);
  lap('walk');

  return subs.map((sub, s) => {
    const acc = accs[s]!;
    const f1 = acc.f1(keyToFloat);
    const { roc, pr, pro } = acc.curves(keyToFloat);
    return {
      name: sub.name,
      positives: acc.positives,
      negatives: acc.negatives,
      regions: acc.regions,
      auroc: acc.auroc(),
      f1Max: f1?.f1Max ?? null,
      f1Threshold: f1?.threshold ?? null,
      aupro: acc.aupro(),
      proLimit,
      roc,
      pr,
      pro,
    };
  });
}

function growI32(a: Int32Array): Int32Array {
  const grown = new Int32Array(a.length * 2);
  grown.set(a);
  return grown;
}

function growF64(a: Float64Array): Float64Array {
  const grown = new Float64Array(a.length * 2);
  grown.set(a);
  return grown;
}

/** Everything the walk needs, passed explicitly so the hot loops are plain functions V8 optimises well. */
interface Walker {
  accs: RankAccumulator[];
  nPatterns: number;
  classPattern: Int32Array;
  classW: Float64Array;
  patStart: Int32Array;
  patList: Int32Array;
  subPatStart: Int32Array;
  subPatList: Int32Array;
  dirtyList: Int32Array;
  /** Negative pixels seen since the last commit, per pattern, each at its own distinct key. */
  pending: Float64Array;
  pendingAny: boolean;
  pendingToken: number;
  /** Low keys of the gathered normal pixels, shape [slab capacity]. */
  slab: Uint16Array;
  /** The bucket being walked: pattern p's normal pixels are slab[segStart[p], segStart[p + 1]). */
  segStart: Int32Array;
  /** Anomalous pixels in image order: key and class, shape [anomalous pixels] each. */
  posKey: Int32Array;
  posClass: Int32Array;
  /** Anomalous pixels by high key; the bucket being walked has posPerm[posA, posE). */
  posPerm: Int32Array;
  posA: number;
  posE: number;
  /** A sorted bucket's classes in descending key order, shape [largest sorted bucket]. */
  sortedCls: Int32Array;
  lowCount: Int32Array;
  /** The distinct low keys of the bucket being sorted, ascending in [0, nt). */
  touched: Int32Array;
  /** Dense buckets: normal-pixel counts per (pattern, low key), shape [nPatterns × 65536], kept zeroed. */
  negTally: Int32Array;
  /** Dense buckets: the anomalous pixels as low key · 2^32 + their rank in posPerm[posA, posE). */
  posOrder: Float64Array;
}

/*
 * Key parts from a float32's bits read as int32 b (all small integers, no uint32 doubles):
 *   b ≥ 0 (positive float):  key = b + 2^31  → high = (b >> 16) + 0x8000, low = b & 0xffff
 *   b < 0 (negative float):  key = ~b        → high = ~b >> 16,           low = ~b & 0xffff
 *   b = -2^31 (-0):          ranks as +0     → high = 0x8000,             low = 0
 * Branch-free: k = b ^ ((b >> 31) | -2^31) is the key as an int32 (sign bit = top key bit), so
 * high = k >>> 16 and low = k & 0xffff.
 */

/**
 * Counts of the high 16 key bits of all pixels per pattern of their image, shape [nPatterns × 65536];
 * throws on NaN / ±Inf.
 */
function patternHistogram(bits: Int32Array, maps: Float32Array, count: number, plane: number, patternOfImage: Int32Array, nPatterns: number): Int32Array {
  const hist = new Int32Array(nPatterns * HIGH);
  for (let i = 0; i < count; i++) {
    const base = patternOfImage[i]! * HIGH;
    const end = (i + 1) * plane;
    for (let k = i * plane; k < end; k++) {
      let b = bits[k]!;
      if (b === -2147483648) b = 0;
      hist[base + ((b ^ ((b >> 31) | -2147483648)) >>> 16)]!++;
    }
  }
  // Non-finite floats, and only they, have high keys below 0x0080 (-Inf, NaN with the sign bit) or
  // above 0xff7f (+Inf, NaN): checking the histogram keeps the test out of the per-pixel loop.
  let bad = false;
  for (let p = 0; p < nPatterns; p++) {
    for (let h = 0; h < 0x80; h++) if (hist[p * HIGH + h] !== 0 || hist[p * HIGH + HIGH - 1 - h] !== 0) bad = true;
  }
  if (bad) {
    for (let k = 0; k < bits.length; k++) {
      if ((bits[k]! & 0x7f800000) === 0x7f800000) {
        throw new RangeError(`map ${Math.floor(k / plane)} holds a non-finite value (${maps[k]}) at pixel ${k % plane}`);
      }
    }
  }
  return hist;
}

/** Writes the low key of every normal pixel whose high key is in [lo, lo + span) into its (bucket, pattern) segment. */
function gatherSlab(
  slab: Uint16Array,
  fill: Int32Array,
  lo: number,
  span: number,
  bits: Int32Array,
  masks: Uint8Array,
  count: number,
  plane: number,
  patternOfImage: Int32Array,
): void {
  for (let i = 0; i < count; i++) {
    const pBase = patternOfImage[i]! * span;
    const end = (i + 1) * plane;
    for (let k = i * plane; k < end; k++) {
      if (masks[k] !== 0) continue;
      let b = bits[k]!;
      if (b === -2147483648) b = 0;
      const key = b ^ ((b >> 31) | -2147483648);
      const rel = (key >>> 16) - lo;
      if (rel >= 0 && rel < span) {
        const f = pBase + rel;
        const at = fill[f]!;
        fill[f] = at + 1;
        slab[at] = key & 0xffff;
      }
    }
  }
}

/** Commits the pending run of negatives (one rectangle per subset). */
function flushNegatives(w: Walker): void {
  if (!w.pendingAny) return;
  const { accs, pending, subPatStart, subPatList } = w;
  for (let s = 0; s < accs.length; s++) {
    let r = 0;
    for (let q = subPatStart[s]!; q < subPatStart[s + 1]!; q++) r += pending[subPatList[q]!]!;
    if (r > 0) accs[s]!.addNegatives(r, w.pendingToken);
  }
  pending.fill(0);
  w.pendingAny = false;
}

/** Orders the bucket's pixels by their low key bits (counting sort, stable) and walks them downwards. */
function walkBucket(w: Walker, high: number): void {
  const { lowCount, touched, sortedCls, slab, segStart, nPatterns, posKey, posClass, posPerm, posA, posE } = w;
  let nt = 0;
  for (let k = segStart[0]!, e = segStart[nPatterns]!; k < e; k++) {
    const low = slab[k]!;
    if (lowCount[low] === 0) touched[nt++] = low;
    lowCount[low]!++;
  }
  for (let q = posA; q < posE; q++) {
    const low = posKey[posPerm[q]!]! & 0xffff;
    if (lowCount[low] === 0) touched[nt++] = low;
    lowCount[low]!++;
  }
  // The distinct lows in ascending order: sort them when few, else scan all 65,536 in order.
  if (nt < 8192) touched.subarray(0, nt).sort();
  else {
    nt = 0;
    for (let low = 0; low < HIGH; low++) if (lowCount[low] !== 0) touched[nt++] = low;
  }
  // Descending lows get consecutive ranges of sortedCls; lowCount becomes each low's fill cursor.
  let pos = 0;
  for (let t = nt - 1; t >= 0; t--) {
    const low = touched[t]!;
    const c = lowCount[low]!;
    lowCount[low] = pos;
    pos += c;
  }
  for (let p = 0; p < nPatterns; p++) {
    for (let k = segStart[p]!, e = segStart[p + 1]!; k < e; k++) {
      const low = slab[k]!;
      const at = lowCount[low]!;
      sortedCls[at] = p;
      lowCount[low] = at + 1;
    }
  }
  for (let q = posA; q < posE; q++) {
    const i = posPerm[q]!;
    const low = posKey[i]! & 0xffff;
    const at = lowCount[low]!;
    sortedCls[at] = posClass[i]!;
    lowCount[low] = at + 1;
  }
  walkSorted(w, high, nt);
}
/** Walks a bucket ordered by walkBucket: lows `touched[0, nt)`, classes in `sortedCls`, ends in `lowCount`. */
function walkSorted(w: Walker, high: number, nt: number): void {
  const { sortedCls, lowCount, touched: lows, accs, nPatterns, classPattern, classW, patStart, patList, pending } = w;
  let k = 0;
  const keyBase = high * HIGH;
  let pendingAny = w.pendingAny;
  let pendingToken = w.pendingToken;
  for (let t = nt - 1; t >= 0; t--) {
    const low = lows[t]!;
    const end = lowCount[low]!;
    lowCount[low] = 0;
    const token = keyBase + low;
    let hasPositive = false;
    for (let j = k; j < end; j++) {
      if (sortedCls[j]! >= nPatterns) {
        hasPositive = true;
        break;
      }
    }
    if (!hasPositive) {
      // Only normal pixels at this value: a flat step of every curve, so it joins the pending run.
      for (; k < end; k++) pending[sortedCls[k]!]!++;
      pendingAny = true;
      pendingToken = token;
      continue;
    }
    if (pendingAny) {
      w.pendingAny = true;
      w.pendingToken = pendingToken;
      flushNegatives(w);
      pendingAny = false;
    }
    if (end - k === 1) {
      // One anomalous pixel alone at its value: the common case with continuous scores.
      const c = sortedCls[k]!;
      k = end;
      const p = classPattern[c]!;
      const wt = classW[c]!;
      for (let q = patStart[p]!, qe = patStart[p + 1]!; q < qe; q++) accs[patList[q]!]!.addPositive(token, wt);
      continue;
    }
    const { dirtyList } = w;
    let nDirty = 0;
    for (; k < end; k++) {
      const c = sortedCls[k]!;
      const p = classPattern[c]!;
      const positive = c >= nPatterns;
      const wt = classW[c]!;
      for (let q = patStart[p]!, qe = patStart[p + 1]!; q < qe; q++) {
        const s = patList[q]!;
        const acc = accs[s]!;
        if (positive) {
          acc.tp++;
          acc.pro += wt;
        } else acc.fp++;
        if (!acc.dirty) {
          acc.dirty = true;
          dirtyList[nDirty++] = s;
        }
      }
    }
    commitDirty(w, nDirty, token);
  }
  w.pendingAny = pendingAny;
  w.pendingToken = pendingToken;
}

/**
 * A bucket with more pixels than 65,536 × patterns / 2: instead of ordering every pixel, count the
 * normal pixels per (pattern, low key) and order only the anomalous ones; then go down the low keys
 * from one anomalous key to the next, adding each stretch of normal counts to the pending run and
 * committing at each anomalous pixel's key.
 */
function walkDenseBucket(w: Walker, high: number): void {
  const { nPatterns, negTally, slab, segStart, posKey, posPerm, posA, posE } = w;
  for (let p = 0; p < nPatterns; p++) {
    const base = p * HIGH;
    for (let k = segStart[p]!, e = segStart[p + 1]!; k < e; k++) negTally[base + slab[k]!]!++;
  }
  const np = posE - posA;
  while (w.posOrder.length < np) w.posOrder = growF64(w.posOrder);
  const order = w.posOrder;
  // Low key · 2^32 + rank is exact in float64 and sorts by key, then in image order.
  for (let r = 0; r < np; r++) order[r] = (posKey[posPerm[posA + r]!]! & 0xffff) * 4294967296 + r;
  scanDense(w, high, order.subarray(0, np).sort());
}

/** Adds the normal tallies of low keys [from, to) of every pattern to the pending run and clears them. */
function pendTallies(w: Walker, from: number, to: number): boolean {
  const { nPatterns, negTally, pending } = w;
  let any = false;
  for (let p = 0; p < nPatterns; p++) {
    const a = p * HIGH + from;
    const e = p * HIGH + to;
    let s = 0;
    // Cleared in the same loop: the stretches between anomalous keys are short, a fill() call each costs more.
    for (let x = a; x < e; x++) {
      s += negTally[x]!;
      negTally[x] = 0;
    }
    if (s !== 0) {
      pending[p] = pending[p]! + s;
      any = true;
    }
  }
  return any;
}

/** Walks a dense bucket: normal tallies in `negTally`, anomalous pixels in `order` (ascending low · 2^32 + rank). */
function scanDense(w: Walker, high: number, order: Float64Array): void {
  const { nPatterns, negTally, accs, classPattern, classW, patStart, patList, dirtyList, posClass, posPerm, posA } = w;
  const keyBase = high * HIGH;
  let pendingAny = w.pendingAny;
  let top = HIGH;
  let pi = order.length - 1;
  while (pi >= 0) {
    const low = Math.floor(order[pi]! / 4294967296);
    // Keys strictly between this anomalous key and the previous one hold normal pixels only.
    if (top > low + 1 && pendTallies(w, low + 1, top)) pendingAny = true;
    top = low;
    // Anomalous pixels at this key: close the run above it, then commit the tie group.
    if (pendingAny) {
      w.pendingAny = true;
      w.pendingToken = keyBase + low + 1;
      flushNegatives(w);
      pendingAny = false;
    }
    const token = keyBase + low;
    const lowBase = low * 4294967296;
    let tiedNeg = 0;
    for (let p = 0; p < nPatterns; p++) tiedNeg += negTally[p * HIGH + low]!;
    if (tiedNeg === 0 && (pi === 0 || order[pi - 1]! < lowBase)) {
      const c = posClass[posPerm[posA + order[pi]! - lowBase]!]!;
      const pt = classPattern[c]!;
      const wt = classW[c]!;
      for (let q = patStart[pt]!, qe = patStart[pt + 1]!; q < qe; q++) accs[patList[q]!]!.addPositive(token, wt);
      pi--;
      continue;
    }
    let nDirty = 0;
    for (let p = 0; p < nPatterns; p++) {
      const at = p * HIGH + low;
      const dn = negTally[at]!;
      if (dn === 0) continue;
      negTally[at] = 0;
      for (let q = patStart[p]!, qe = patStart[p + 1]!; q < qe; q++) {
        const s = patList[q]!;
        const acc = accs[s]!;
        acc.fp += dn;
        if (!acc.dirty) {
          acc.dirty = true;
          dirtyList[nDirty++] = s;
        }
      }
    }
    // The tie group from its last pixel to its first, the order PRO weights have always been summed in.
    while (pi >= 0 && order[pi]! >= lowBase) {
      const c = posClass[posPerm[posA + order[pi]! - lowBase]!]!;
      const pt = classPattern[c]!;
      const wt = classW[c]!;
      for (let q = patStart[pt]!, qe = patStart[pt + 1]!; q < qe; q++) {
        const s = patList[q]!;
        const acc = accs[s]!;
        acc.tp++;
        acc.pro += wt;
        if (!acc.dirty) {
          acc.dirty = true;
          dirtyList[nDirty++] = s;
        }
      }
      pi--;
    }
    commitDirty(w, nDirty, token);
  }
  if (top > 0 && pendTallies(w, 0, top)) pendingAny = true;
  if (pendingAny) {
    // Everything below in this bucket is ≥ its lowest key; the next pixel is in a lower bucket.
    w.pendingAny = true;
    w.pendingToken = keyBase;
  }
}

function commitDirty(w: Walker, nDirty: number, token: number): void {
  for (let d = 0; d < nDirty; d++) {
    const acc = w.accs[w.dirtyList[d]!]!;
    acc.commit(token);
    acc.dirty = false;
  }
}

/** Per-(low key, pattern) tallies of one high bucket, shape [nPatterns × 65536] each. */
interface Tally {
  neg: Float64Array;
  pos: Float64Array;
  pro: Float64Array;
}

function newTally(nPatterns: number): Tally {
  return { neg: new Float64Array(nPatterns * HIGH), pos: new Float64Array(nPatterns * HIGH), pro: new Float64Array(nPatterns * HIGH) };
}

/** The bucket's anomalous pixels into a tally, in image order. */
function tallyPositives(w: Walker, t: Tally): void {
  const { posKey, posClass, posPerm, posA, posE, classPattern, classW } = w;
  for (let q = posA; q < posE; q++) {
    const i = posPerm[q]!;
    const c = posClass[i]!;
    const at = classPattern[c]! * HIGH + (posKey[i]! & 0xffff);
    t.pos[at]!++;
    t.pro[at] = t.pro[at]! + classW[c]!;
  }
}

/** A bucket too big to sort: tally its pixels per (low key, pattern), then walk the keys. */
function tallySegment(w: Walker, high: number): void {
  const { nPatterns, slab, segStart } = w;
  const t = newTally(nPatterns);
  for (let p = 0; p < nPatterns; p++) {
    for (let k = segStart[p]!, e = segStart[p + 1]!; k < e; k++) t.neg[p * HIGH + slab[k]!]!++;
  }
  tallyPositives(w, t);
  walkTally(w, high, t);
}

/** A high bucket holding more normal pixels than the gather budget: tally them in one pass over the maps. */
function tallyFromMaps(w: Walker, high: number, bits: Int32Array, masks: Uint8Array, count: number, plane: number, patternOfImage: Int32Array): void {
  const t = newTally(w.nPatterns);
  for (let i = 0; i < count; i++) {
    const base = patternOfImage[i]! * HIGH;
    const end = (i + 1) * plane;
    for (let k = i * plane; k < end; k++) {
      if (masks[k] !== 0) continue;
      let b = bits[k]!;
      if (b === -2147483648) b = 0;
      const key = b ^ ((b >> 31) | -2147483648);
      if (key >>> 16 === high) t.neg[base + (key & 0xffff)]!++;
    }
  }
  tallyPositives(w, t);
  walkTally(w, high, t);
}

function walkTally(w: Walker, high: number, t: Tally): void {
  flushNegatives(w);
  const { accs, nPatterns, patStart, patList, dirtyList } = w;
  const keyBase = high * HIGH;
  for (let low = HIGH - 1; low >= 0; low--) {
    let nDirty = 0;
    for (let p = 0; p < nPatterns; p++) {
      const at = p * HIGH + low;
      const dn = t.neg[at]!;
      const dp = t.pos[at]!;
      if (dn === 0 && dp === 0) continue;
      const wt = t.pro[at]!;
      for (let q = patStart[p]!; q < patStart[p + 1]!; q++) {
        const s = patList[q]!;
        const acc = accs[s]!;
        acc.tp += dp;
        acc.fp += dn;
        acc.pro += wt;
        if (!acc.dirty) {
          acc.dirty = true;
          dirtyList[nDirty++] = s;
        }
      }
    }
    commitDirty(w, nDirty, keyBase + low);
  }
}

/** Pixel AUROC of one set; throws MetricUndefinedError when a class is absent. */
export function pixelAuroc(set: PixelSet): number {
  const [m] = pixelMetrics(set);
  if (!m || m.auroc === null) {
    throw new MetricUndefinedError(
      `pixel AUROC is undefined: ${m?.positives ?? 0} anomalous and ${m?.negatives ?? 0} normal pixels; both are needed`,
    );
  }
  return m.auroc;
}

/** AUPRO of one set up to `limit`; throws MetricUndefinedError without regions or normal pixels. */
export function aupro(set: PixelSet, limit = 0.3): number {
  const [m] = pixelMetrics(set, undefined, { proLimit: limit });
  if (!m || m.aupro === null) {
    throw new MetricUndefinedError(
      `AUPRO is undefined: ${m?.regions ?? 0} ground-truth regions and ${m?.negatives ?? 0} normal pixels; both are needed`,
    );
  }
  return m.aupro;
}
