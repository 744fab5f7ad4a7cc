/**
 * A growable table of float16 rows, the streamed store of PatchCore's training embeddings
 * (all patches of all training images, before the coreset picks 10 % of them).
 *
 * Why float16: at MIAD scale one scenario is ~10,000 images × 784 patches × 1,536 channels:
 * 48 GB as float32, the reason the MIAD paper could not train PatchCore on more than 2,000 images.
 * Half precision halves that and keeps 11 significant bits, well below the spread of a patch
 * distance; only the coreset's rows are ever read back (as float32). Rows live in memory
 * (Uint16Array chunks, no single huge allocation) or, when they would not fit, in a temp file.
 */
import { open, rm, statfs, type FileHandle } from 'node:fs/promises';
import { LabError } from '../../../../shared/errors';
import { float32ToHalf, halfTable } from '../../evaluation/float16';

export interface HalfRowStore {
  readonly width: number;
  readonly rows: number;
  /** Bytes the stored rows occupy (memory or file). */
  readonly bytes: number;
  readonly where: 'memory' | 'file';
  /** Appends rows, shape [n, width] row-major float32 (rounded to half, ties to even). */
  append(rows: Float32Array): Promise<void>;
  /** Rows by index, as float32, shape [indices.length, width], in the order asked. */
  gather(indices: ArrayLike<number>): Promise<Float32Array>;
  /** Frees the memory / deletes the file. */
  close(): Promise<void>;
}

/** Rows per in-memory chunk: at 1,536 channels a chunk is 48 MiB. */
const CHUNK_ROWS = 16_384;

class MemoryHalfRowStore implements HalfRowStore {
  readonly where = 'memory' as const;
  rows = 0;
  private chunks: Uint16Array[] = [];

  constructor(readonly width: number) {}

  get bytes(): number {
    return this.rows * this.width * 2;
  }

  async append(data: Float32Array): Promise<void> {
    const n = checkRows(data, this.width);
    let done = 0;
    while (done < n) {
      const inChunk = this.rows % CHUNK_ROWS;
      if (inChunk === 0) this.chunks.push(new Uint16Array(CHUNK_ROWS * this.width));
      const take = Math.min(n - done, CHUNK_ROWS - inChunk);
      const chunk = this.chunks[this.chunks.length - 1]!;
      const half = float32ToHalf(data.subarray(done * this.width, (done + take) * this.width));
      chunk.set(half, inChunk * this.width);
      done += take;
      this.rows += take;
    }
  }

  async gather(indices: ArrayLike<number>): Promise<Float32Array> {
    const w = this.width;
    const out = new Float32Array(indices.length * w);
    const t = halfTable();
    for (let i = 0; i < indices.length; i++) {
      const r = checkIndex(indices[i]!, this.rows);
      const chunk = this.chunks[Math.floor(r / CHUNK_ROWS)]!;
      const off = (r % CHUNK_ROWS) * w;
      for (let c = 0; c < w; c++) out[i * w + c] = t[chunk[off + c]!]!;
    }
    return out;
  }

  async close(): Promise<void> {
    this.chunks = [];
  }
}

class FileHalfRowStore implements HalfRowStore {
  readonly where = 'file' as const;
  rows = 0;

  private constructor(
    readonly width: number,
    private readonly fh: FileHandle,
    readonly path: string,
  ) {}

  static async create(path: string, width: number): Promise<FileHalfRowStore> {
    return new FileHalfRowStore(width, await open(path, 'w+'), path);
  }

  get bytes(): number {
    return this.rows * this.width * 2;
  }

  async append(data: Float32Array): Promise<void> {
    const n = checkRows(data, this.width);
    const half = float32ToHalf(data);
    const bytes = new Uint8Array(half.buffer, half.byteOffset, half.byteLength);
    await this.fh.write(bytes, 0, bytes.length, this.rows * this.width * 2);
    this.rows += n;
  }

  async gather(indices: ArrayLike<number>): Promise<Float32Array> {
    const w = this.width;
    const rowBytes = w * 2;
    const out = new Float32Array(indices.length * w);
    // Read in file order (sorted), so the disk sees one forward sweep, and runs of adjacent rows
    // become one read.
    const order = Array.from({ length: indices.length }, (_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
    const t = halfTable();
    const maxRun = 256;
    const buf = new Uint8Array(maxRun * rowBytes);
    const half = new Uint16Array(buf.buffer);
    let k = 0;
    while (k < order.length) {
      const first = checkIndex(indices[order[k]!]!, this.rows);
      let end = k + 1;
      while (end < order.length && end - k < maxRun && indices[order[end]!]! - first < maxRun && indices[order[end]!]! >= first) end++;
      const last = indices[order[end - 1]!]!;
      const span = last - first + 1;
      await this.fh.read(buf, 0, span * rowBytes, first * rowBytes);
      for (let j = k; j < end; j++) {
        const r = indices[order[j]!]! - first;
        const dst = order[j]! * w;
        for (let c = 0; c < w; c++) out[dst + c] = t[half[r * w + c]!]!;
      }
      k = end;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.path, { force: true });
  }
}

function checkRows(data: Float32Array, width: number): number {
  if (data.length % width !== 0) throw new LabError(`row store: ${data.length} values is not a whole number of ${width}-wide rows`);
  return data.length / width;
}

function checkIndex(r: number, rows: number): number {
  if (!Number.isInteger(r) || r < 0 || r >= rows) throw new LabError(`row store: row ${r} out of range [0, ${rows})`);
  return r;
}

/** Bytes free for an unprivileged writer on the file system holding `dir`. */
export async function diskFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * A store for `width`-wide rows: in memory, or in a temp file at `filePath` (deleted on close).
 */
export async function createHalfRowStore(width: number, where: 'memory' | 'file', filePath?: string): Promise<HalfRowStore> {
  if (!(Number.isInteger(width) && width > 0)) throw new LabError(`row store: bad width ${width}`);
  if (where === 'memory') return new MemoryHalfRowStore(width);
  if (!filePath) throw new LabError('row store: a file store needs a path');
  return FileHalfRowStore.create(filePath, width);
}
