/**
 * The pixel-metrics implementation as of commit 5a8466c (before the packed-slab rewrite), kept only so
 * bench/metrics.ts can time it in the same run as the current one and check that both give identical
 * results. Not used by the app.
 */
/**
 * Exact pixel-level metrics over a whole test set (164 M pixels at MIAD scale) in bounded memory:
 * pixel AUROC (as sklearn's roc_auc_score on the float32 maps), pixel F1-max, AUPRO (the MVTec AD
 * script's definition) and their curves, for several subsets of images in one walk (overall, and each
 * defect type against all normal images).
 *
 * Why not sort: a float64 argsort of 164 M scores needs several GB. Instead the float32 bit patterns
 * become order-preserving uint32 keys (float-order.ts) and the pixels are ranked by a two-digit MSD
 * radix: a histogram of the high 16 bits, then one scatter of every pixel's (low 16 key bits, class)
 * into its high bucket, then each bucket ordered by its low bits with a counting sort. That is 4 bytes
 * a pixel (6 when there are more than 65,536 classes); when that exceeds the memory budget, slabs of
 * consecutive buckets are gathered one at a time, one more pass over the maps each. A bucket bigger
 * than the sort scratch (e.g. constant maps) is tallied per (low key, class pattern) instead.
 *
 * Pixel class: a normal pixel carries the membership pattern of its image (which subsets it is in);
 * a ground-truth pixel carries its region (8-connected component), whose weight 1/|region| feeds PRO.
 * Walking keys from high to low, each distinct key updates the running counts of the subsets its
 * pixels belong to and commits one curve point for each of them (curve.ts). Runs of negative pixels
 * between two positives are only counted per pattern and committed as one rectangle per subset: the
 * walk costs one increment per normal pixel, which is what makes 164 M pixels take seconds.
 */
import { labelComponents } from '../../src/main/core/evaluation/components';
import { MetricUndefinedError, RankAccumulator, type Curve } from '../../src/main/core/evaluation/curve';
import { keyToFloat } from '../../src/main/core/evaluation/float-order';
import type { ScoreMetrics } from '../../src/main/core/evaluation/score-metrics';

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
  /** Bytes the ranking may hold at once (4 or 6 per gathered pixel); default 768 MiB. */
  memoryBytes?: number;
  /** Largest bucket ordered by counting sort (beyond it: tallied); default 2^22. Small values are for tests. */
  sortPixels?: number;
  /** Buckets with more pixels than this are counted per key rather than sorted; default 32,768 × patterns. Small values are for tests. */
  denseFrom?: number;
  /** Store classes as 32-bit even when 16 would do (tests the path many regions take). */
  wideClasses?: boolean;
  /** When given, receives the seconds spent in each phase (for benchmarks). */
  timings?: Record<string, number>;
}

const HIGH = 65536;
const NO_COMPONENTS = { count: 0, labels: new Int32Array(0), sizes: new Int32Array(0) };

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

  // --- regions: label each mask, give every ground-truth pixel its region's class ---------------
  const subPos = new Float64Array(S);
  const subNeg = new Float64Array(S);
  const subRegions = new Float64Array(S);
  let posClass = new Uint32Array(1024);
  let nPos = 0;
  const regionPattern: number[] = [];
  const regionWeight: number[] = [];
  const scratch = new Int32Array(plane);
  for (let i = 0; i < count; i++) {
    const p = patternOfImage[i]!;
    const mask = masks.subarray(i * plane, (i + 1) * plane);
    let any = false;
    for (let j = 0; j < plane; j++) {
      if (mask[j] !== 0) {
        any = true;
        break;
      }
    }
    const comp = any ? labelComponents(mask, width, height, scratch) : NO_COMPONENTS;
    const base = nPatterns + regionPattern.length;
    for (let k = 0; k < comp.count; k++) {
      regionPattern.push(p);
      regionWeight.push(1 / comp.sizes[k]!);
    }
    let imagePos = 0;
    if (comp.count > 0) {
      const labels = comp.labels;
      for (let j = 0; j < plane; j++) {
        const l = labels[j]!;
        if (l === 0) continue;
        if (nPos === posClass.length) {
          const grown = new Uint32Array(posClass.length * 2);
          grown.set(posClass);
          posClass = grown;
        }
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

  // --- histogram of the high 16 key bits; rejects NaN / Inf -------------------------------------
  // Int32 view: every key operation below stays in small-integer range (see the note on key parts).
  const bits = new Int32Array(maps.buffer, maps.byteOffset, total);
  const highCount = highHistogram(bits, maps, count, plane);
  lap('histogram');

  // --- gather (all at once, or slab by slab) and walk from the top key down ---------------------
  const wide = options.wideClasses === true || nClasses > 65536;
  const budget = options.memoryBytes ?? 768 * 2 ** 20;
  const slabCap = Math.max(256, Math.floor(budget / (wide ? 6 : 4)));
  const sortCap = Math.max(2, Math.floor(options.sortPixels ?? 1 << 22));
  // Scanning 65,536 keys × patterns beats ordering the pixels once a bucket holds about half that many.
  const denseFrom = options.denseFrom ?? (HIGH / 2) * nPatterns;
  let largestSorted = 0;
  for (let b = 0; b < HIGH; b++) {
    const m = highCount[b]!;
    if (m <= sortCap && m > largestSorted) largestSorted = m;
  }
  const cap = Math.max(1, Math.min(slabCap, total));
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
    lowBuf: new Uint16Array(cap),
    clsBuf: wide ? new Uint32Array(cap) : new Uint16Array(cap),
    sortedCls: wide ? new Uint32Array(Math.max(1, largestSorted)) : new Uint16Array(Math.max(1, largestSorted)),
    lowCount: new Int32Array(HIGH),
    touched: new Int32Array(HIGH),
    negTally: new Int32Array(nPatterns * HIGH),
    posAt: new Int32Array(1024),
  };
  const bucketOff = new Int32Array(HIGH + 1);
  let hi = HIGH - 1;
  while (hi >= 0) {
    if (highCount[hi] === 0) {
      hi--;
      continue;
    }
    if (highCount[hi]! > slabCap) {
      // More pixels at one high key than the budget holds: tally them straight from the maps.
      tallyFromMaps(w, hi, bits, masks, count, plane, patternOfImage, posClass);
      lap('tally');
      hi--;
      continue;
    }
    let lo = hi;
    let n = highCount[hi]!;
    while (lo > 0 && (highCount[lo - 1] === 0 || n + highCount[lo - 1]! <= slabCap)) {
      lo--;
      n += highCount[lo]!;
    }
    // Bucket b (lo..hi) occupies [bucketOff[b - lo], bucketOff[b - lo + 1]) of the buffers.
    bucketOff[0] = 0;
    for (let b = lo; b <= hi; b++) bucketOff[b - lo + 1] = bucketOff[b - lo]! + highCount[b]!;
    if (w.clsBuf instanceof Uint16Array) gatherSlab16(w.lowBuf, w.clsBuf, lo, hi, bucketOff, bits, masks, count, plane, patternOfImage, posClass);
    else gatherSlab32(w.lowBuf, w.clsBuf, lo, hi, bucketOff, bits, masks, count, plane, patternOfImage, posClass);
    lap('gather');
    for (let b = hi; b >= lo; b--) {
      const a = bucketOff[b - lo]!;
      const e = bucketOff[b - lo + 1]!;
      if (e === a) continue;
      if (e - a > sortCap) tallySegment(w, b, a, e);
      else if (e - a > denseFrom) walkDenseBucket(w, b, a, e);
      else walkBucket(w, b, a, e);
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
  lowBuf: Uint16Array;
  clsBuf: Uint16Array | Uint32Array;
  sortedCls: Uint16Array | Uint32Array;
  lowCount: Int32Array;
  touched: Int32Array;
  /** Dense buckets: normal-pixel counts per (pattern, low key), shape [nPatterns × 65536], kept zeroed. */
  negTally: Int32Array;
  /** Dense buckets: slab positions of the bucket's anomalous pixels. */
  posAt: Int32Array;
}

/*
 * Key parts from a float32's bits read as int32 b (all small integers, no uint32 doubles):
 *   b ≥ 0 (positive float):  key = b + 2^31  → high = (b >> 16) + 0x8000, low = b & 0xffff
 *   b < 0 (negative float):  key = ~b        → high = ~b >> 16,           low = ~b & 0xffff
 *   b = -2^31 (-0):          ranks as +0     → high = 0x8000,             low = 0
 */

/** Counts of the high 16 key bits over all pixels, shape [65536]; throws on NaN / ±Inf. */
function highHistogram(bits: Int32Array, maps: Float32Array, count: number, plane: number): Int32Array {
  const hist = new Int32Array(HIGH);
  for (let i = 0; i < count; i++) {
    const off = i * plane;
    for (let j = 0; j < plane; j++) {
      let b = bits[off + j]!;
      if ((b & 0x7f800000) === 0x7f800000) {
        throw new RangeError(`map ${i} holds a non-finite value (${maps[off + j]}) at pixel ${j}`);
      }
      if (b === -2147483648) b = 0;
      const high = b >= 0 ? (b >> 16) + 0x8000 : ~b >> 16;
      hist[high]!++;
    }
  }
  return hist;
}

/** Copies (low key, class) of every pixel whose high key is in [lo, hi] into its bucket's range. */
function gatherSlab16(
  lowBuf: Uint16Array,
  clsBuf: Uint16Array,
  lo: number,
  hi: number,
  bucketOff: Int32Array,
  bits: Int32Array,
  masks: Uint8Array,
  count: number,
  plane: number,
  patternOfImage: Int32Array,
  posClass: Uint32Array,
): void {
  const fill = bucketOff.slice(0, hi - lo + 1);
  const all = lo === 0 && hi === HIGH - 1;
  let pp = 0;
  for (let i = 0; i < count; i++) {
    const off = i * plane;
    const normalClass = patternOfImage[i]!;
    for (let j = 0; j < plane; j++) {
      let b = bits[off + j]!;
      if (b === -2147483648) b = 0;
      const nb = b >= 0 ? b : ~b;
      const high = b >= 0 ? (nb >> 16) + 0x8000 : nb >> 16;
      const isPos = masks[off + j] !== 0;
      if (all || (high >= lo && high <= hi)) {
        const at = fill[high - lo]!;
        fill[high - lo] = at + 1;
        lowBuf[at] = nb & 0xffff;
        clsBuf[at] = isPos ? posClass[pp]! : normalClass;
      }
      if (isPos) pp++;
    }
  }
}

/** gatherSlab16 for more than 65,536 classes (kept separate so each loop stays monomorphic). */
function gatherSlab32(
  lowBuf: Uint16Array,
  clsBuf: Uint32Array,
  lo: number,
  hi: number,
  bucketOff: Int32Array,
  bits: Int32Array,
  masks: Uint8Array,
  count: number,
  plane: number,
  patternOfImage: Int32Array,
  posClass: Uint32Array,
): void {
  const fill = bucketOff.slice(0, hi - lo + 1);
  let pp = 0;
  for (let i = 0; i < count; i++) {
    const off = i * plane;
    const normalClass = patternOfImage[i]!;
    for (let j = 0; j < plane; j++) {
      let b = bits[off + j]!;
      if (b === -2147483648) b = 0;
      const nb = b >= 0 ? b : ~b;
      const high = b >= 0 ? (nb >> 16) + 0x8000 : nb >> 16;
      const isPos = masks[off + j] !== 0;
      if (high >= lo && high <= hi) {
        const at = fill[high - lo]!;
        fill[high - lo] = at + 1;
        lowBuf[at] = nb & 0xffff;
        clsBuf[at] = isPos ? posClass[pp]! : normalClass;
      }
      if (isPos) pp++;
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

/** Orders bucket [a, e) of the slab by its low key bits (counting sort) and walks it downwards. */
function walkBucket(w: Walker, high: number, a: number, e: number): void {
  const { lowBuf, clsBuf, sortedCls, lowCount, touched, accs, nPatterns, classPattern, classW, patStart, patList, pending } = w;
  let nt = 0;
  for (let k = a; k < e; k++) {
    const low = lowBuf[k]!;
    if (lowCount[low] === 0) touched[nt++] = low;
    lowCount[low]!++;
  }
  // The distinct lows in ascending order: sort them when few, else scan all 65,536 in order.
  let lows: Int32Array;
  if (nt < 8192) lows = touched.subarray(0, nt).sort();
  else {
    lows = touched;
    nt = 0;
    for (let low = 0; low < HIGH; low++) if (lowCount[low] !== 0) lows[nt++] = low;
  }
  // Descending lows get consecutive ranges of sortedCls; lowCount becomes each low's fill cursor.
  let pos = 0;
  for (let t = nt - 1; t >= 0; t--) {
    const low = lows[t]!;
    const c = lowCount[low]!;
    lowCount[low] = pos;
    pos += c;
  }
  for (let k = a; k < e; k++) {
    const low = lowBuf[k]!;
    const at = lowCount[low]!;
    sortedCls[at] = clsBuf[k]!;
    lowCount[low] = at + 1;
  }
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
 * normal pixels per (pattern, low key) and order only the anomalous ones; then scan the low keys
 * downwards, adding normal counts to the pending run and committing at each anomalous pixel's key.
 */
function walkDenseBucket(w: Walker, high: number, a: number, e: number): void {
  const { lowBuf, clsBuf, nPatterns, negTally, accs, classPattern, classW, patStart, patList, pending, dirtyList } = w;
  let np = 0;
  for (let k = a; k < e; k++) {
    const c = clsBuf[k]!;
    if (c < nPatterns) negTally[c * HIGH + lowBuf[k]!]!++;
    else {
      if (np === w.posAt.length) {
        const grown = new Int32Array(np * 2);
        grown.set(w.posAt);
        w.posAt = grown;
      }
      w.posAt[np++] = k;
    }
  }
  const posAt = w.posAt;
  // Anomalous pixels ordered by low key: low · 2^32 + ordinal is exact in float64 and sorts numerically.
  const order = new Float64Array(np);
  for (let i = 0; i < np; i++) order[i] = lowBuf[posAt[i]!]! * 4294967296 + i;
  order.sort();
  let pi = np - 1;
  let nextLow = pi >= 0 ? Math.floor(order[pi]! / 4294967296) : -1;
  const keyBase = high * HIGH;
  let pendingAny = w.pendingAny;
  for (let low = HIGH - 1; low >= 0; low--) {
    if (low !== nextLow) {
      for (let p = 0; p < nPatterns; p++) {
        const at = p * HIGH + low;
        const v = negTally[at]!;
        if (v !== 0) {
          pending[p] = pending[p]! + v;
          negTally[at] = 0;
          pendingAny = true;
        }
      }
      continue;
    }
    // Anomalous pixels at this key: close the run above it, then commit the tie group.
    if (pendingAny) {
      w.pendingAny = true;
      w.pendingToken = keyBase + low + 1;
      flushNegatives(w);
      pendingAny = false;
    }
    const token = keyBase + low;
    let tiedNeg = 0;
    for (let p = 0; p < nPatterns; p++) tiedNeg += negTally[p * HIGH + low]!;
    if (tiedNeg === 0 && (pi === 0 || Math.floor(order[pi - 1]! / 4294967296) !== low)) {
      const c = clsBuf[posAt[order[pi]! % 4294967296]!]!;
      const pt = classPattern[c]!;
      const wt = classW[c]!;
      for (let q = patStart[pt]!, qe = patStart[pt + 1]!; q < qe; q++) accs[patList[q]!]!.addPositive(token, wt);
      pi--;
    } else {
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
      while (pi >= 0 && Math.floor(order[pi]! / 4294967296) === low) {
        const c = clsBuf[posAt[order[pi]! % 4294967296]!]!;
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
    nextLow = pi >= 0 ? Math.floor(order[pi]! / 4294967296) : -1;
  }
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

/** A bucket too big to sort: tally its gathered pixels per (low key, pattern), then walk the keys. */
function tallySegment(w: Walker, high: number, a: number, e: number): void {
  const { lowBuf, clsBuf, nPatterns, classPattern, classW } = w;
  const t = newTally(nPatterns);
  for (let k = a; k < e; k++) {
    const low = lowBuf[k]!;
    const c = clsBuf[k]!;
    if (c < nPatterns) t.neg[c * HIGH + low]!++;
    else {
      const at = classPattern[c]! * HIGH + low;
      t.pos[at]!++;
      t.pro[at] = t.pro[at]! + classW[c]!;
    }
  }
  walkTally(w, high, t);
}

/** A high bucket holding more pixels than the gather budget: tally it in one pass over the maps. */
function tallyFromMaps(
  w: Walker,
  high: number,
  bits: Int32Array,
  masks: Uint8Array,
  count: number,
  plane: number,
  patternOfImage: Int32Array,
  posClass: Uint32Array,
): void {
  const { nPatterns, classPattern, classW } = w;
  const t = newTally(nPatterns);
  let pp = 0;
  for (let i = 0; i < count; i++) {
    const off = i * plane;
    const normalPattern = patternOfImage[i]!;
    for (let j = 0; j < plane; j++) {
      let b = bits[off + j]!;
      if (b === -2147483648) b = 0;
      const nb = b >= 0 ? b : ~b;
      const h = b >= 0 ? (nb >> 16) + 0x8000 : nb >> 16;
      const isPos = masks[off + j] !== 0;
      if (h === high) {
        const low = nb & 0xffff;
        if (isPos) {
          const c = posClass[pp]!;
          const at = classPattern[c]! * HIGH + low;
          t.pos[at]!++;
          t.pro[at] = t.pro[at]! + classW[c]!;
        } else {
          t.neg[normalPattern * HIGH + low]!++;
        }
      }
      if (isPos) pp++;
    }
  }
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
