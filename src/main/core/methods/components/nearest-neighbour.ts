/**
 * Exact nearest-neighbour search against a memory bank, in chunks, as PatchCore scores patches
 * (anomalib's `PatchcoreModel.euclidean_dist` + `nearest_neighbors`): distances by
 * ‖x‖² − 2 x·yᵀ + ‖y‖², clamped at 0, square-rooted, then the k smallest.
 *
 * Why chunks: a batch of 32 images at 224² has 25,088 patches and MIAD's full memory bank 784k rows;
 * their distance matrix would be 78 GB. The bank is held as tensors of at most `chunkRows` rows and
 * the queries go in blocks, so one block × chunk distance matrix stays under `maxMatrixBytes`;
 * the running best over chunks is merged on the device (1-NN) or on the host (k-NN, small k).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';

export interface MemoryBankOptions {
  /** Rows per bank tensor (default 65,536). */
  chunkRows?: number;
  /** Largest query-block × chunk distance matrix, in bytes (default 256 MiB). */
  maxMatrixBytes?: number;
}

export class MemoryBank {
  readonly rows: number;
  private readonly chunks: tf.Tensor2D[];
  private readonly norms: tf.Tensor2D[]; // each [1, rows_k]
  private readonly offsets: number[];
  private readonly maxMatrixBytes: number;
  private disposed = false;

  /**
   * @param data the bank, shape [rows, width] row-major float32 (copied to tensors)
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
    this.chunks = [];
    this.norms = [];
    this.offsets = [];
    for (let start = 0; start < this.rows; start += chunkRows) {
      const n = Math.min(chunkRows, this.rows - start);
      const chunk = tf.tensor2d(data.subarray(start * width, (start + n) * width), [n, width]);
      this.chunks.push(chunk);
      this.norms.push(tf.tidy(() => tf.reshape(tf.sum(tf.square(chunk), 1), [1, n])));
      this.offsets.push(start);
    }
  }

  /** Query rows per block so a block × chunk float32 matrix fits the budget. */
  private blockRows(): number {
    const widest = Math.max(...this.chunks.map((c) => c.shape[0]));
    return Math.max(1, Math.floor(this.maxMatrixBytes / (4 * widest)));
  }

  /**
   * 1-nearest neighbour of every query row.
   * @param queries [n, width]; not disposed
   * @returns distances [n] (Euclidean) and bank row indices [n], on the host
   */
  async nearest(queries: tf.Tensor2D): Promise<{ distances: Float32Array; indices: Int32Array }> {
    this.check(queries);
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
        this.chunks.forEach((chunk, k) => {
          const d2 = tf.relu(tf.add(tf.sub(xNorm, tf.mul(tf.matMul(x, chunk, false, true), 2)), this.norms[k]!)); // [q, rows_k]
          const m = tf.min(d2, 1) as tf.Tensor1D;
          const a = tf.add(tf.argMin(d2, 1), tf.scalar(this.offsets[k]!, 'int32')) as tf.Tensor1D;
          if (best === null || where === null) {
            best = m;
            where = a;
          } else {
            // Strictly less: ties keep the earlier row, as a single argmin over the whole bank would.
            const better = tf.less(m, best);
            where = tf.where(better, a, where) as tf.Tensor1D;
            best = tf.minimum(best, m) as tf.Tensor1D;
          }
        });
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

  /**
   * The k nearest bank rows of each query row, nearest first (ties: lower index first).
   * @param queries [n, width]; not disposed
   * @returns distances and indices, each [n, k] row-major, on the host
   */
  async kNearest(queries: tf.Tensor2D, k: number): Promise<{ distances: Float32Array; indices: Int32Array; k: number }> {
    this.check(queries);
    const kk = Math.min(k, this.rows);
    const n = queries.shape[0];
    // Per chunk: top-k candidates on the device; merge the candidates of all chunks on the host.
    const candD: Float32Array[] = [];
    const candI: Int32Array[] = [];
    const kc: number[] = [];
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      const kChunk = Math.min(kk, chunk.shape[0]);
      const [v, i] = tf.tidy(() => {
        const xNorm = tf.sum(tf.square(queries), 1, true);
        const d2 = tf.relu(tf.add(tf.sub(xNorm, tf.mul(tf.matMul(queries, chunk, false, true), 2)), this.norms[c]!));
        const top = tf.topk(tf.neg(d2), kChunk, true);
        return [tf.sqrt(tf.neg(top.values)), top.indices];
      });
      try {
        candD.push(await v.data<'float32'>());
        const idx = await i.data<'int32'>();
        const off = this.offsets[c]!;
        candI.push(Int32Array.from(idx, (x) => x + off));
      } finally {
        tf.dispose([v, i]);
      }
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
    const out = new Float32Array(indices.length * this.width);
    for (let j = 0; j < indices.length; j++) {
      const r = indices[j]!;
      let c = this.offsets.length - 1;
      while (c > 0 && r < this.offsets[c]!) c--;
      const t = tf.slice(this.chunks[c]!, [r - this.offsets[c]!, 0], [1, -1]);
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
    tf.dispose(this.chunks);
    tf.dispose(this.norms);
  }
}
