/**
 * Greedy k-center coreset subsampling on a random projection (PatchCore, Roth et al. 2022,
 * section 3.2 and Algorithm 1), with anomalib's choices (KCenterGreedy and its SparseRandomProjection):
 *
 * - Projection: a sparse random matrix as Achlioptas / Li et al., density 1/√(input dims), entries
 *   ±√(1/density)/√(dims) else 0 (anomalib's `_sparse_random_matrix`, sklearn's 'auto' density).
 *   anomalib picks the dims with the Johnson–Lindenstrauss bound at eps 0.9 on the number of
 *   samples, 4·ln(n)/(eps²/2 − eps³/3): ~284 dims at 100k patches, ~392 at MIAD's 7.8 M. We offer
 *   that (`jlMinDim`) or a fixed number of dims (the official PatchCore code projects to 128).
 *   Our generator is seeded mulberry32 (torch's generator is not reproducible across devices).
 * - Greedy: start at a seeded random row, then repeatedly update every row's distance to its
 *   nearest chosen centre with the newest centre and take the farthest row. As anomalib, the random
 *   start only seeds the distances; the first coreset row is the farthest from it.
 *
 * Equivalent implementations: `greedyKCenter` on device tensors (GPU backends), and on host arrays
 * for the wasm and cpu backends, where a tfjs matrix-vector product costs ~12 ms for 9k × 225
 * (XNNPACK repacks the matrix on every call) against ~1 ms for a JS loop: `greedyKCenterHost`, the
 * plain loop (the reference), and `greedyKCenterPruned` (coreset-pruned.ts), the same picks with
 * triangle-inequality pruning, which training uses.
 *
 * Memory: the projected rows live as a few large tensors or arrays (`chunks`), never the full-width features;
 * at MIAD scale that is 7.8 M × 128 × 4 B = 4 GB instead of 48 GB. Distances use
 * ‖f − c‖² = ‖f‖² − 2 f·c + ‖c‖² (one matrix-vector product per chunk, clamped at 0) instead of
 * anomalib's F.pairwise_distance; the ordering, hence the selection, is the same up to rounding.
 * The selected centre's own distance becomes ~0 on the next update, which is what anomalib's
 * explicit `min_distances[idx] = 0` achieves.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { mulberry32 } from '../../engine/random';

/** anomalib's johnson_lindenstrauss_min_dim: 4·ln(n) / (eps²/2 − eps³/3), truncated. */
export function jlMinDim(samples: number, eps = 0.9): number {
  if (!(samples >= 1)) throw new LabError(`JL bound needs at least one sample, got ${samples}`, 'ValidationError');
  if (!(eps > 0 && eps < 1)) throw new LabError(`JL eps must be in (0, 1), got ${eps}`, 'ValidationError');
  return Math.max(1, Math.trunc((4 * Math.log(samples)) / (eps ** 2 / 2 - eps ** 3 / 3)));
}

/**
 * The sparse random projection matrix, transposed for x·R: shape [inputDims, dims] row-major.
 * Deterministic in `seed`.
 */
export function sparseRandomProjection(inputDims: number, dims: number, seed: number): Float32Array {
  const density = 1 / Math.sqrt(inputDims);
  const value = Math.sqrt(1 / density) / Math.sqrt(dims);
  const rand = mulberry32(seed);
  const out = new Float32Array(inputDims * dims);
  for (let i = 0; i < out.length; i++) {
    if (density >= 1 || rand() < density) out[i] = rand() < 0.5 ? -value : value;
  }
  return out;
}

export interface GreedyOptions {
  /** Seed of the random start row. */
  seed: number;
  signal?: AbortSignal;
  /** Called every `progressEvery` picks and at the end. */
  onProgress?: (picked: number, total: number) => void;
  progressEvery?: number;
}

/**
 * Greedy k-center selection.
 * @param chunks projected rows split into tensors, each [rows_k, dims]; read only, not disposed
 * @param count rows to pick (≤ total rows)
 * @returns the picked global row indices, in the order picked
 */
export async function greedyKCenter(chunks: readonly tf.Tensor2D[], count: number, options: GreedyOptions): Promise<Int32Array> {
  const sizes = chunks.map((c) => c.shape[0]);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(Number.isInteger(count) && count >= 0 && count <= total)) throw new LabError(`coreset of ${count} rows asked from ${total}`, 'ValidationError');
  const picked = new Int32Array(count);
  if (count === 0) return picked;
  const offsets: number[] = [];
  sizes.reduce((acc, s) => (offsets.push(acc), acc + s), 0);
  const locate = (row: number): [number, number] => {
    let k = 0;
    while (k < sizes.length - 1 && row >= offsets[k + 1]!) k++;
    return [k, row - offsets[k]!];
  };
  const norms = chunks.map((c) => tf.tidy(() => tf.sum(tf.square(c), 1)));
  let minDist: tf.Tensor1D[] = chunks.map((c) => tf.fill([c.shape[0]], Number.POSITIVE_INFINITY) as tf.Tensor1D);
  const every = options.progressEvery ?? 256;
  let current = Math.floor(mulberry32(options.seed)() * total);
  try {
    for (let i = 0; i < count; i++) {
      if (i % every === 0) {
        if (options.signal?.aborted) throw abortError(options.signal);
        options.onProgress?.(i, count);
        // Let timers and messages (a cancel request) run between spans of synchronous work.
        await new Promise((r) => setImmediate(r));
      }
      const [ck, cr] = locate(current);
      const best = tf.tidy(() => {
        const centre = tf.slice(chunks[ck]!, [cr, 0], [1, -1]); // [1, dims]
        const centreNorm = tf.sum(tf.square(centre));
        const maxes: tf.Tensor[] = [];
        const args: tf.Tensor[] = [];
        const next: tf.Tensor1D[] = [];
        chunks.forEach((chunk, k) => {
          const dot = tf.reshape(tf.matMul(chunk, centre, false, true), [sizes[k]!]);
          const d = tf.relu(tf.add(tf.sub(norms[k]!, tf.mul(dot, 2)), centreNorm));
          const m = tf.minimum(minDist[k]!, d) as tf.Tensor1D;
          next.push(tf.keep(m));
          maxes.push(tf.max(m));
          args.push(tf.cast(tf.argMax(m), 'float32'));
        });
        return { next, summary: tf.concat([tf.stack(maxes), tf.stack(args)]) };
      });
      tf.dispose(minDist);
      minDist = best.next;
      const s = best.summary.dataSync();
      best.summary.dispose();
      let bk = 0;
      for (let k = 1; k < chunks.length; k++) if (s[k]! > s[bk]!) bk = k;
      current = offsets[bk]! + s[chunks.length + bk]!;
      picked[i] = current;
    }
    options.onProgress?.(count, count);
    return picked;
  } finally {
    tf.dispose(norms);
    tf.dispose(minDist);
  }
}

/** The error a cancelled operation throws: the signal's reason when it is an Error, else an AbortError. */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const e = new Error(typeof reason === 'string' ? reason : 'cancelled');
  e.name = 'AbortError';
  return e;
}

/**
 * Rows per host chunk and in all, after checking that every chunk is made of whole `dims`-wide rows
 * and that `count` picks can be taken from them (the host greedy loops' shared input check).
 */
export function hostChunkRows(chunks: readonly Float32Array[], dims: number, count: number): { sizes: number[]; total: number } {
  const sizes = chunks.map((c) => {
    if (c.length % dims !== 0) throw new LabError(`coreset: a chunk of ${c.length} values is not made of ${dims}-dim rows`);
    return c.length / dims;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  if (!(Number.isInteger(count) && count >= 0 && count <= total)) throw new LabError(`coreset of ${count} rows asked from ${total}`, 'ValidationError');
  return { sizes, total };
}

/**
 * Greedy k-center on the host (same selection as `greedyKCenter`, exact squared differences).
 * @param chunks projected rows, each [rows_k, dims] row-major; read only
 * @returns the picked global row indices, in the order picked
 */
export async function greedyKCenterHost(chunks: readonly Float32Array[], dims: number, count: number, options: GreedyOptions): Promise<Int32Array> {
  const { sizes, total } = hostChunkRows(chunks, dims, count);
  const picked = new Int32Array(count);
  if (count === 0) return picked;
  const offsets: number[] = [];
  sizes.reduce((acc, s) => (offsets.push(acc), acc + s), 0);
  const minDist = chunks.map((_, k) => new Float32Array(sizes[k]!).fill(Number.POSITIVE_INFINITY));
  const centre = new Float32Array(dims);
  const dims4 = dims - (dims % 4);
  const every = options.progressEvery ?? 256;
  let current = Math.floor(mulberry32(options.seed)() * total);
  for (let i = 0; i < count; i++) {
    if (i % every === 0) {
      if (options.signal?.aborted) throw abortError(options.signal);
      options.onProgress?.(i, count);
      await new Promise((r) => setImmediate(r));
    }
    let ck = chunks.length - 1;
    while (ck > 0 && current < offsets[ck]!) ck--;
    const src = chunks[ck]!;
    const base = (current - offsets[ck]!) * dims;
    for (let j = 0; j < dims; j++) centre[j] = src[base + j]!;
    let bestValue = -1;
    let bestRow = 0;
    for (let k = 0; k < chunks.length; k++) {
      const rows = chunks[k]!;
      const mins = minDist[k]!;
      const n = sizes[k]!;
      for (let r = 0; r < n; r++) {
        const s = squaredDistance(rows, r * dims, centre, dims, dims4);
        let m = mins[r]!;
        if (s < m) {
          // The farthest row is chosen on the stored float32 distances (as on the device).
          m = Math.fround(s);
          mins[r] = m;
        }
        if (m > bestValue) {
          bestValue = m;
          bestRow = offsets[k]! + r;
        }
      }
    }
    current = bestRow;
    picked[i] = current;
  }
  options.onProgress?.(count, count);
  return picked;
}

/** Squared Euclidean distance of row `o` of `rows` to `centre`, as the plain greedy computes it. */
export function squaredDistance(rows: Float32Array, o: number, centre: Float32Array, dims: number, dims4: number): number {
  // Four accumulators: independent adds pipeline, ~1.7× faster in V8 than one.
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j < dims4; j += 4) {
    const x0 = rows[o + j]! - centre[j]!;
    const x1 = rows[o + j + 1]! - centre[j + 1]!;
    const x2 = rows[o + j + 2]! - centre[j + 2]!;
    const x3 = rows[o + j + 3]! - centre[j + 3]!;
    s0 += x0 * x0;
    s1 += x1 * x1;
    s2 += x2 * x2;
    s3 += x3 * x3;
  }
  for (; j < dims; j++) {
    const x = rows[o + j]! - centre[j]!;
    s0 += x * x;
  }
  return s0 + s1 + s2 + s3;
}
