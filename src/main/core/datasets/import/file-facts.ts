/**
 * What the importer learns about each file: size, mtime, sha256 of its bytes, image format and
 * size from its headers, and whether it is whole. Nothing is decoded: PNG is checked by walking its
 * chunk chain to IEND, JPEG by walking its marker segments to the frame header and finding EOI at
 * the end, so a truncated or corrupt file is caught at the cost of reading its bytes once (which
 * the content hash needs anyway).
 *
 * Reading and hashing run in a small pool of worker threads (synchronous fs calls there are much
 * cheaper per small file than the async ones that hop through libuv's pool); each worker hands
 * the bytes back by transfer, without a copy, and the main thread parses the headers. The worker
 * source is a plain string evaluated by node: it needs only node:fs and node:crypto, so it runs
 * the same under tsx, vitest, the bundled Electron main process and the server. When workers
 * cannot start, an in-thread reader does the same work through fs/promises.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { pngSize, PngError } from '../../image/png';
import { readImageSizeFromBuffer, ImageSizeError } from '../../image/image-size';
import type { ImportProblemKind } from '../../../../shared/calls/import';

/** A file to read; with `known`, a file whose size and mtime match is not read again. */
export interface FactRequest {
  path: string;
  known?: { size: number; mtimeMs: number } | undefined;
}

/** What a reader returns per request, in request order. */
export type RawFacts =
  | { status: 'read'; size: number; mtimeMs: number; hash: string; bytes: Uint8Array }
  | { status: 'unchanged'; size: number; mtimeMs: number }
  | { status: 'error'; code: string };

export interface FactReader {
  /** Reads a batch; results in the same order. */
  read(batch: readonly FactRequest[]): Promise<RawFacts[]>;
  close(): Promise<void>;
  readonly description: string;
}

export type ImageCheck =
  | { ok: true; format: 'png' | 'jpeg'; width: number; height: number }
  | { ok: false; problem: Extract<ImportProblemKind, 'zero-byte' | 'not-image' | 'corrupt-image' | 'truncated-image'>; detail: string };

const PNG_SIG = [137, 80, 78, 71, 13, 10, 26, 10];

function isPng(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== PNG_SIG[i]) return false;
  return true;
}

/**
 * Checks the structure of a PNG or JPEG held in memory (`bytes`: the whole file) and reads its
 * size from the headers. No pixel is decoded.
 */
export async function checkImageBytes(bytes: Uint8Array): Promise<ImageCheck> {
  if (bytes.length === 0) return { ok: false, problem: 'zero-byte', detail: '0 bytes' };
  if (isPng(bytes)) {
    let size: { width: number; height: number } | null;
    try {
      size = pngSize(bytes);
    } catch (error) {
      const message = error instanceof PngError ? error.message : String(error);
      return { ok: false, problem: /truncated/.test(message) ? 'truncated-image' : 'corrupt-image', detail: message };
    }
    if (!size || size.width === 0 || size.height === 0) return { ok: false, problem: 'corrupt-image', detail: 'PNG with a zero size' };
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = 8;
    let sawData = false;
    for (;;) {
      if (pos + 12 > bytes.length) return { ok: false, problem: 'truncated-image', detail: `PNG ends at byte ${bytes.length} without an IEND chunk` };
      const length = view.getUint32(pos);
      if (length > 0x7fffffff) return { ok: false, problem: 'corrupt-image', detail: `PNG chunk at byte ${pos} claims ${length} bytes` };
      const t0 = bytes[pos + 4]!, t1 = bytes[pos + 5]!, t2 = bytes[pos + 6]!, t3 = bytes[pos + 7]!;
      const letters = [t0, t1, t2, t3].every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122));
      if (!letters) return { ok: false, problem: 'corrupt-image', detail: `PNG chunk at byte ${pos} has no valid type` };
      if (pos + 12 + length > bytes.length) return { ok: false, problem: 'truncated-image', detail: `PNG chunk at byte ${pos} runs past the end of the file (${bytes.length} bytes)` };
      // IDAT, IEND
      if (t0 === 73 && t1 === 68 && t2 === 65 && t3 === 84) sawData = true;
      if (t0 === 73 && t1 === 69 && t2 === 78 && t3 === 68) break;
      pos += 12 + length;
    }
    if (!sawData) return { ok: false, problem: 'corrupt-image', detail: 'PNG without image data (IDAT)' };
    return { ok: true, format: 'png', ...size };
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let size;
    try {
      size = await readImageSizeFromBuffer(bytes);
    } catch (error) {
      const message = error instanceof ImageSizeError ? error.message : String(error);
      return { ok: false, problem: /truncated/.test(message) ? 'truncated-image' : 'corrupt-image', detail: message };
    }
    // EOI closes the stream; encoders may pad a few bytes after it.
    let eoi = false;
    for (let i = bytes.length - 2; i >= Math.max(2, bytes.length - 64); i--) {
      if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) {
        eoi = true;
        break;
      }
    }
    if (!eoi) return { ok: false, problem: 'truncated-image', detail: 'JPEG without its end marker (EOI)' };
    return { ok: true, format: 'jpeg', width: size.width, height: size.height };
  }
  return { ok: false, problem: 'not-image', detail: 'the bytes are not a PNG or JPEG file' };
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// --- worker pool -------------------------------------------------------------------------------------

/**
 * The worker: a batch of [path, knownSize, knownMtime] in, a batch of facts out, the bytes
 * transferred. Bytes go in a fresh ArrayBuffer per file (never Buffer's shared pool, which a
 * transfer would detach). mtimes are whole milliseconds, as the store keeps them.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
parentPort.on('message', ({ id, batch }) => {
  const results = [];
  const transfer = [];
  for (const [path, knownSize, knownMtime] of batch) {
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      const st = fs.fstatSync(fd);
      if (!st.isFile()) { results.push({ status: 'error', code: 'ENOTFILE' }); continue; }
      const mtimeMs = Math.floor(st.mtimeMs);
      if (knownSize === st.size && knownMtime === mtimeMs) { results.push({ status: 'unchanged', size: st.size, mtimeMs }); continue; }
      const bytes = new Uint8Array(st.size);
      let off = 0;
      while (off < bytes.length) {
        const n = fs.readSync(fd, bytes, off, bytes.length - off, off);
        if (n === 0) break;
        off += n;
      }
      const view = off === bytes.length ? bytes : bytes.slice(0, off);
      const hash = createHash('sha256').update(view).digest('hex');
      results.push({ status: 'read', size: off, mtimeMs, hash, bytes: view });
      transfer.push(view.buffer);
    } catch (error) {
      results.push({ status: 'error', code: (error && error.code) || String(error) });
    } finally {
      if (fd >= 0) try { fs.closeSync(fd); } catch {}
    }
  }
  parentPort.postMessage({ id, results }, transfer);
});
`;

interface Pending {
  resolve: (r: RawFacts[]) => void;
  reject: (e: Error) => void;
}

class WorkerSlot {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (msg: { id: number; results: RawFacts[] }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.resolve(msg.results);
    });
    const fail = (error: Error) => {
      this.failed = error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0) fail(new Error(`a file-reading worker exited with code ${code}`));
    });
  }

  get load(): number {
    return this.pending.size;
  }

  run(batch: readonly FactRequest[]): Promise<RawFacts[]> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch: batch.map((r) => [r.path, r.known?.size ?? -1, r.known?.mtimeMs ?? -1]) });
    });
  }
}

/** A pool of `size` reading/hashing threads (default: one per core, 2 to 4). */
export function createWorkerReader(size = Math.min(4, Math.max(2, availableParallelism()))): FactReader {
  const slots: WorkerSlot[] = [];
  for (let i = 0; i < size; i++) {
    // Not unref'd: a pending read must keep the process alive; close() ends the threads.
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    slots.push(new WorkerSlot(worker));
  }
  return {
    description: `${size} worker threads`,
    read(batch) {
      let best = slots[0]!;
      for (const s of slots) if (s.load < best.load) best = s;
      return best.run(batch);
    },
    async close() {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** The same work on this thread through fs/promises (libuv's pool does the I/O). */
export function createInThreadReader(): FactReader {
  async function one(req: FactRequest): Promise<RawFacts> {
    let handle;
    try {
      handle = await open(req.path, 'r');
      const st = await handle.stat();
      if (!st.isFile()) return { status: 'error', code: 'ENOTFILE' };
      const mtimeMs = Math.floor(st.mtimeMs);
      if (req.known && req.known.size === st.size && req.known.mtimeMs === mtimeMs) return { status: 'unchanged', size: st.size, mtimeMs };
      const bytes = new Uint8Array(st.size);
      let off = 0;
      while (off < bytes.length) {
        const { bytesRead } = await handle.read(bytes, off, bytes.length - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      const view = off === bytes.length ? bytes : bytes.slice(0, off);
      return { status: 'read', size: off, mtimeMs, hash: sha256Hex(view), bytes: view };
    } catch (error) {
      return { status: 'error', code: (error as NodeJS.ErrnoException).code ?? String(error) };
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
  return {
    description: 'in-thread fs/promises',
    read: (batch) => Promise.all(batch.map(one)),
    close: async () => {},
  };
}

/** The default reader: the worker pool, or the in-thread one where threads cannot start. */
export function createDefaultReader(): FactReader {
  try {
    return createWorkerReader();
  } catch {
    return createInThreadReader();
  }
}

/**
 * Reads every request through `reader`, `batchSize` files per message and `inFlight` batches
 * outstanding, handing each result to `onResult` (with its request index) as soon as its batch
 * returns. Results are handled in completion order; the callback must not assume request order.
 */
export async function readAll(
  reader: FactReader,
  requests: readonly FactRequest[],
  onResult: (index: number, facts: RawFacts) => Promise<void> | void,
  options: { batchSize?: number; inFlight?: number } = {},
): Promise<void> {
  const batchSize = options.batchSize ?? 64;
  const inFlight = options.inFlight ?? 8;
  let next = 0;
  async function lane(): Promise<void> {
    while (next < requests.length) {
      const start = next;
      next = Math.min(requests.length, next + batchSize);
      const results = await reader.read(requests.slice(start, next));
      for (let i = 0; i < results.length; i++) await onResult(start + i, results[i]!);
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
}
