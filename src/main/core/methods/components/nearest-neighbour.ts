/**
 * Exact nearest-neighbour search against a memory bank, in chunks, as PatchCore scores patches
 * (anomalib's `PatchcoreModel.euclidean_dist` + `nearest_neighbors`): distances by
 * ‖x‖² − 2 x·yᵀ + ‖y‖², clamped at 0, square-rooted, then the k smallest.
 *
 * Why chunks: a batch of 32 images at 224² has 25,088 patches and MIAD's full memory bank 784k rows;
 * their distance matrix would be 78 GB. The bank is split into chunks of at most `chunkRows` rows and
 * the queries go in blocks, so one block × chunk distance matrix stays under `maxMatrixBytes`.
 *
 * Why two residences: on the wasm backend every tensor lives in the wasm heap, a 32-bit address space
 * that stops growing at 3,936 MiB (measured: fifteen 256 MiB tensors fit, the sixteenth gets offset 0
 * and silently overwrites the heap instead of throwing). PatchCore's `full` preset at MIAD scale has a
 * 784,000 × 1,536 float32 bank, 4.8 GB. So the bank either lives on the device as tensors made once
 * ('device', fastest when it fits), or stays in the host Float32Array ('host'): each chunk is uploaded
 * only while it is searched and disposed right after, once per call, with the queries in blocks
 * inside the chunk loop and the running best kept on the host. Both give the same numbers: the same
 * kernels run on the same block × chunk shapes, and the squared norms computed on the host follow
 * tf.sum(tf.square) in float32.
 *
 * Why chunks are held transposed, [width, rows]: on wasm, tf.matMul(x, y, false, true) runs about
 * ten times slower than tf.matMul(x, yᵀ) with yᵀ already laid out (measured 1.1 vs 12.7 GFLOP/s on
 * 784 × 1,536 queries against 4,000 rows), so the transpose is paid once per chunk, not per product.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { assertWasmHeadroom } from '../../engine/wasm-heap';

export type BankResidence = 'device' | 'host';

export interface MemoryBankOptions {
  /** Rows per bank chunk (default 65,536). */
  chunkRows?: number;
  /** Largest query-block × chunk distance matrix, in bytes (default 256 MiB). */
  maxMatrixBytes?: number;
  /**
   * Where the bank lives between calls. 'auto' (default): 'host' on the wasm backend when the bank
   * is larger than `hostAboveBytes`, else 'device'.
   */
  residence?: BankResidence | 'auto';
  /** 'auto' keeps banks above this many bytes on the host under wasm (default 1 GiB). */
  hostAboveBytes?: number;
}

/** One chunk of the bank in either residence. */
interface Chunk {
  offset: number;
  rows: number;
  /** 'device': the rows transposed, [width, rows], and their squared norms [1, rows], made once. */
  tensor: tf.Tensor2D | null;
  norm: tf.Tensor2D | null;
  /** 'host': a view (no copy) of the bank's rows, [rows, width] row-major, and their squared norms [rows]. */
  values: Float32Array | null;
  hostNorm: Float32Array | null;
}

/**
 * Squared norm of every row, accumulated in float32 in index order as tfjs' Sum kernels do, so a
 * host chunk's norms equal those the device mode computes with tf.sum(tf.square(chunk), 1).
 * @param rows [n, width] row-major
 * @returns [n]
 */
export function squaredRowNorms(rows: Float32Array, width: number): Float32Array {
  const n = rows.length / width;
  const out = new Float32Array(n);
  const f = Math.fround;
  for (let r = 0; r < n; r++) {
    let s = 0;
    const base = r * width;
    for (let j = 0; j < width; j++) {
      const v = rows[base + j]!;
      s = f(s + f(v * v));
    }
    out[r] = s;
  }
  return out;
}

export class MemoryBank {
  readonly rows: number;
  /** Where the bank lives, so run summaries can say which one ran. */
  readonly residence: BankResidence;
  private chunks: Chunk[];
  /** 'host' only: the bank itself, kept for rowsAt. */
  private hostData: Float32Array | null;
  private readonly maxMatrixBytes: number;
  private disposed = false;

  /**
   * @param data the bank, shape [rows, width] row-major float32: copied to tensors in 'device'
   *   residence; in 'host' residence referenced (not copied), so the caller must not modify it
   */
  constructor(
    data: Float32Array,
    readonly width: number,
    options: MemoryBankOptions = {},
  ) {
    if (data.length === 0 || data.length % width !== 0) throw new LabError(`memory bank: ${data.length} values do not make ${width}-wide rows`);
    this.rows = data.length / width;
    const chunkRows = options.chunkRows ?? 65_536;
    this.maxMatrixBytes = options.maxMatrixBytes ?? 256 * 2 ** 20;
    this.residence = chooseResidence(options.residence ?? 'auto', data.length * 4, options.hostAboveBytes ?? 2 ** 30);
    this.hostData = this.residence === 'host' ? data : null;
    this.chunks = [];
    try {
      for (let start = 0; start < this.rows; start += chunkRows) {
        const n = Math.min(chunkRows, this.rows - start);
        const values = data.subarray(start * width, (start + n) * width);
        if (this.residence === 'host') {
          this.chunks.push({ offset: start, rows: n, tensor: null, norm: null, values, hostNorm: squaredRowNorms(values, width) });
        } else {
          const [tensor, norm] = tf.tidy((): [tf.Tensor2D, tf.Tensor2D] => {
            const rows = tf.tensor2d(values, [n, width]);
            return [tf.transpose(rows), tf.reshape(tf.sum(tf.square(rows), 1), [1, n])];
          });
          this.chunks.push({ offset: start, rows: n, tensor, norm, values: null, hostNorm: null });
          assertWasmHeadroom('memory bank');
        }
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /** Query rows per block so a block × chunk float32 matrix fits the budget. */
  private blockRows(): number {
    const widest = Math.max(...this.chunks.map((c) => c.rows));
    return Math.max(1, Math.floor(this.maxMatrixBytes / (4 * widest)));
  }

  /**
   * The chunk as tensors for the duration of `use`: rowsT [width, rows] and norm [1, rows]; the
   * resident ones in 'device' mode; in 'host' mode uploaded now and disposed when `use` settles.
   */
  private async withChunk<T>(chunk: Chunk, use: (rowsT: tf.Tensor2D, norm: tf.Tensor2D) => Promise<T>): Promise<T> {
    if (chunk.tensor && chunk.norm) return use(chunk.tensor, chunk.norm);
    const [rowsT, norm] = tf.tidy((): [tf.Tensor2D, tf.Tensor2D] => [
      tf.transpose(tf.tensor2d(chunk.values!, [chunk.rows, this.width])),
      tf.tensor2d(chunk.hostNorm!, [1, chunk.rows]),
    ]);
    try {
      assertWasmHeadroom('memory bank search');
      return await use(rowsT, norm);
    } finally {
      tf.dispose([rowsT, norm]);
    }
  }

  /**
   * 1-nearest neighbour of every query row.
   * @param queries [n, width]; not disposed
   * @returns distances [n] (Euclidean) and bank row indices [n], on the host
   */
  async nearest(queries: tf.Tensor2D): Promise<{ distances: Float32Array; indices: Int32Array }> {
    this.check(queries);
    return this.residence === 'host' ? this.nearestHost(queries) : this.nearestDevice(queries);
  }

  /** Blocks outside, resident chunks inside, the running best merged on the device: one download per block. */
  private async nearestDevice(queries: tf.Tensor2D): Promise<{ distances: Float32Array; indices: Int32Array }> {
    const n = queries.shape[0];
    const distances = new Float32Array(n);
    const indices = new Int32Array(n);
    const block = this.blockRows();
    for (let start = 0; start < n; start += block) {
      const q = Math.min(block, n - start);
      const [d, i] = tf.tidy(() => {
        const x = tf.slice(queries, [start, 0], [q, -1]);
        const xNorm = tf.sum(tf.square(x), 1, true); // [q, 1]
        let best: tf.Tensor1D | null = null;
        let where: tf.Tensor1D | null = null;
        for (const chunk of this.chunks) {
          const d2 = squaredDistances(x, xNorm, chunk.tensor!, chunk.norm!); // [q, rows_k]
          const m = tf.min(d2, 1) as tf.Tensor1D;
          const a = tf.add(tf.argMin(d2, 1), tf.scalar(chunk.offset, 'int32')) as tf.Tensor1D;
          d2.dispose(); // else every chunk's matrix would live until the tidy ends
          if (best === null || where === null) {
            best = m;
            where = a;
          } else {
            // Strictly less: ties keep the earlier row, as a single argmin over the whole bank would.
            const better = tf.less(m, best);
            where = tf.where(better, a, where) as tf.Tensor1D;
            best = tf.minimum(best, m) as tf.Tensor1D;
          }
        }
        return [tf.sqrt(best!), where!] as [tf.Tensor1D, tf.Tensor1D];
      });
      try {
        distances.set(await d.data<'float32'>(), start);
        indices.set(await i.data<'int32'>(), start);
      } finally {
        tf.dispose([d, i]);
      }
    }
    return { distances, indices };
  }

  /** Chunks outside (each uploaded once), blocks inside, the running best merged on the host. */
  private async nearestHost(queries: tf.Tensor2D): Promise<{ distances: Float32Array; indices: Int32Array }> {
    const n = queries.shape[0];
    const best = new Float32Array(n); // squared distances
    const indices = new Int32Array(n);
    const block = this.blockRows();
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      await this.withChunk(chunk, async (rowsT, norm) => {
        for (let start = 0; start < n; start += block) {
          const q = Math.min(block, n - start);
          const [m, a] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
            const x = tf.slice(queries, [start, 0], [q, -1]);
            const d2 = squaredDistances(x, tf.sum(tf.square(x), 1, true), rowsT, norm);
            return [tf.min(d2, 1), tf.argMin(d2, 1)];
          });
          let mv: Float32Array;
          let av: Int32Array;
          try {
            mv = await m.data<'float32'>();
            av = await a.data<'int32'>();
          } finally {
            tf.dispose([m, a]);
          }
          for (let j = 0; j < q; j++) {
            // The first chunk sets the best; later ones replace it only when strictly less, so ties
            // keep the earlier row as the device mode and a single argmin over the whole bank do.
            if (c === 0 || mv[j]! < best[start + j]!) {
              best[start + j] = mv[j]!;
              indices[start + j] = av[j]! + chunk.offset;
            }
          }
        }
      });
    }
    const distances = new Float32Array(n);
    for (let j = 0; j < n; j++) distances[j] = Math.sqrt(best[j]!); // a float32 sqrt rounds the same way
    return { distances, indices };
  }

  /**
   * The k nearest bank rows of each query row, nearest first (ties: lower index first).
   * @param queries [n, width]; not disposed
   * @returns distances and indices, each [n, k] row-major, on the host
   */
  async kNearest(queries: tf.Tensor2D, k: number): Promise<{ distances: Float32Array; indices: Int32Array; k: number }> {
    this.check(queries);
    const kk = Math.min(k, this.rows);
    const n = queries.shape[0];
    const block = this.blockRows();
    // Per chunk and query block: top-k candidates on the device; all candidates of a query row are
    // merged on the host. Chunks outside, so a host-resident chunk is uploaded once per call.
    const candD: Float32Array[] = []; // per chunk, [n, kChunk]
    const candI: Int32Array[] = [];
    const kc: number[] = [];
    for (const chunk of this.chunks) {
      const kChunk = Math.min(kk, chunk.rows);
      const cd = new Float32Array(n * kChunk);
      const ci = new Int32Array(n * kChunk);
      await this.withChunk(chunk, async (rowsT, norm) => {
        for (let start = 0; start < n; start += block) {
          const q = Math.min(block, n - start);
          const [v, i] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
            const x = tf.slice(queries, [start, 0], [q, -1]);
            const d2 = squaredDistances(x, tf.sum(tf.square(x), 1, true), rowsT, norm);
            const top = tf.topk(tf.neg(d2), kChunk, true);
            return [tf.sqrt(tf.neg(top.values)), top.indices];
          });
          try {
            cd.set(await v.data<'float32'>(), start * kChunk);
            const idx = await i.data<'int32'>();
            for (let j = 0; j < idx.length; j++) ci[start * kChunk + j] = idx[j]! + chunk.offset;
          } finally {
            tf.dispose([v, i]);
          }
        }
      });
      candD.push(cd);
      candI.push(ci);
      kc.push(kChunk);
    }
    const distances = new Float32Array(n * kk);
    const indices = new Int32Array(n * kk);
    for (let r = 0; r < n; r++) {
      const all: { d: number; i: number }[] = [];
      for (let c = 0; c < kc.length; c++) {
        for (let j = 0; j < kc[c]!; j++) all.push({ d: candD[c]![r * kc[c]! + j]!, i: candI[c]![r * kc[c]! + j]! });
      }
      all.sort((a, b) => a.d - b.d || a.i - b.i);
      for (let j = 0; j < kk; j++) {
        distances[r * kk + j] = all[j]!.d;
        indices[r * kk + j] = all[j]!.i;
      }
    }
    return { distances, indices, k: kk };
  }

  /** Bank rows by index, shape [indices.length, width], on the host. */
  async rowsAt(indices: ArrayLike<number>): Promise<Float32Array> {
    if (this.disposed) throw new LabError('memory bank was disposed');
    const out = new Float32Array(indices.length * this.width);
    for (let j = 0; j < indices.length; j++) {
      const r = indices[j]!;
      if (!Number.isInteger(r) || r < 0 || r >= this.rows) throw new LabError(`memory bank: row ${r} is outside 0..${this.rows - 1}`);
      if (this.hostData) {
        out.set(this.hostData.subarray(r * this.width, (r + 1) * this.width), j * this.width);
        continue;
      }
      let c = this.chunks.length - 1;
      while (c > 0 && r < this.chunks[c]!.offset) c--;
      const chunk = this.chunks[c]!;
      const t = tf.slice(chunk.tensor!, [0, r - chunk.offset], [-1, 1]); // a column of the transposed chunk
      try {
        out.set(await t.data<'float32'>(), j * this.width);
      } finally {
        t.dispose();
      }
    }
    return out;
  }

  private check(queries: tf.Tensor2D): void {
    if (this.disposed) throw new LabError('memory bank was disposed');
    if (queries.rank !== 2 || queries.shape[1] !== this.width) throw new LabError(`memory bank: queries must be [n, ${this.width}], got [${queries.shape.join(', ')}]`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const chunk of this.chunks) {
      chunk.tensor?.dispose();
      chunk.norm?.dispose();
    }
    // Drop the host views too, so a disposed bank does not keep the caller's array alive.
    this.chunks = [];
    this.hostData = null;
  }
}

function chooseResidence(asked: BankResidence | 'auto', bytes: number, hostAboveBytes: number): BankResidence {
  if (asked !== 'auto') return asked;
  return tf.getBackend() === 'wasm' && bytes > hostAboveBytes ? 'host' : 'device';
}

/**
 * relu(‖x‖² − 2 x·yᵀ + ‖y‖²), the squared distances clamped at 0 as anomalib does.
 * @param x [q, width]; xNorm [q, 1]; yT the bank rows transposed, [width, rows]; yNorm [1, rows]
 * @returns [q, rows]
 */
function squaredDistances(x: tf.Tensor2D, xNorm: tf.Tensor, yT: tf.Tensor2D, yNorm: tf.Tensor2D): tf.Tensor2D {
  // Each [q, rows] step is disposed as soon as the next exists: inside the callers' tf.tidy they
  // would otherwise all live until it ends, five matrices instead of two (the wasm heap never
  // shrinks back). Scaling x by −2 before the product is exact, so the sums are the same as
  // ‖x‖² − 2·(x·yᵀ) + ‖y‖².
  const minus2x = tf.mul(x, tf.scalar(-2));
  let d: tf.Tensor = tf.matMul(minus2x, yT);
  minus2x.dispose();
  for (const step of [(t: tf.Tensor) => tf.add(t, xNorm), (t: tf.Tensor) => tf.add(t, yNorm), (t: tf.Tensor) => tf.relu(t)]) {
    const next = step(d);
    d.dispose();
    d = next;
  }
  return d as tf.Tensor2D;
}
