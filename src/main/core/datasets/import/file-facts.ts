/**
 * What the importer learns about each file: size, mtime, sha256 of its bytes, image format and
 * size from its headers, and whether it is whole. A file is read once, as a stream through a
 * 1 MiB buffer (a 1.5 GB file costs 1 MiB, never its size): the stream feeds the hash and, for a
 * PNG, a walk of its chunk chain that checks every chunk's CRC up to IEND; only the first
 * HEAD_BYTES (headers) and the last TAIL_BYTES (JPEG's end marker) are kept. What no header shows
 * (image data that does not match its header, a corrupt JPEG stream) takes a decode: for a common
 * PNG (8 or 16-bit gray, RGB, RGBA, not interlaced, up to 2048 × 2048) the walk itself inflates the
 * image data and checks its length and row filters (pixelsVerified), a few microseconds for a small
 * image; the importer has sharp decode every other image once (decode-check.ts), and a PNG the
 * check did not prove whole, so a defect is always reported with the decoder's own message.
 *
 * Reading and hashing run in a small pool of worker threads (synchronous fs calls there are much
 * cheaper per small file than the async ones that hop through libuv's pool); each worker hands
 * head and tail back by transfer, and the main thread parses the headers. The worker source is a
 * plain string evaluated by node: it needs only node:fs, node:crypto and node:zlib, so it runs the
 * same under tsx, vitest, the bundled Electron main process and the server. When workers cannot
 * start, an in-thread reader does the same work through fs/promises with the same PNG walk
 * (PNG_WALK_SOURCE, evaluated once here too).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { crc32, inflateSync } from 'node:zlib';
import { pngSize, PngError } from '../../image/png';
import { readImageSize, readImageSizeFromBuffer, ImageSizeError } from '../../image/image-size';
import { IMPORT_MAX_PIXELS, type ImportProblemKind } from '../../../../shared/calls/import';

/** Bytes of a file's start kept for its headers (PNG IHDR, JPEG markers up to the frame header). */
export const HEAD_BYTES = 64 * 1024;
/** Bytes of a file's end kept (JPEG's EOI; encoders may pad a few bytes after it). */
export const TAIL_BYTES = 64;
const CHUNK_BYTES = 1024 * 1024;
/**
 * The PNG pixel check (PNG_WALK_SOURCE's pixelsVerified) holds a file's image data and its
 * inflated rows: it runs only while they stay under these bounds (a 2048 × 2048 RGBA image), and
 * larger images are decoded by sharp in bounded memory instead.
 */
const PIXEL_CHECK_MAX_BYTES = 16 * 1024 * 1024;
const PIXEL_CHECK_MAX_RAW = 2048 * (2048 * 4 + 1);

/** A file to read. */
export interface FactRequest {
  path: string;
}

/** What the streamed PNG walk found wrong (null: a whole chain to IEND with an IDAT, every CRC right). */
export type PngWalkProblem = { problem: 'corrupt-image' | 'truncated-image'; detail: string };

/** What a reader returns per request, in request order. */
export type RawFacts =
  | {
      status: 'read';
      size: number;
      mtimeMs: number;
      hash: string;
      head: Uint8Array;
      tail: Uint8Array;
      png: PngWalkProblem | null;
      /** A PNG whose pixel data the walk proved whole (PNG_WALK_SOURCE's pixelsVerified): no decode needed. */
      pixelsVerified: boolean;
    }
  | { status: 'error'; code: string };

export interface FactReader {
  /** Reads a batch; results in the same order. */
  read(batch: readonly FactRequest[]): Promise<RawFacts[]>;
  /**
   * Size and mtime (whole ms) of each path, following links, as pairs: [size0, mtime0, size1, …];
   * NaN for a path that is not a readable regular file. No file is opened.
   */
  stat(paths: readonly string[]): Promise<Float64Array>;
  close(): Promise<void>;
  readonly description: string;
}

export type ImageCheck =
  | { ok: true; format: 'png' | 'jpeg'; width: number; height: number }
  | { ok: false; problem: Extract<ImportProblemKind, 'zero-byte' | 'not-image' | 'corrupt-image' | 'truncated-image' | 'too-large'>; detail: string };

/**
 * The PNG chunk walk, fed the file's bytes in pieces as they stream by: each chunk's length and
 * type, its CRC (zlib's crc32 over type and data), an IDAT before IEND. Plain JavaScript in a
 * string, because the worker threads evaluate it (see the header) and this thread does too.
 * The first 8 bytes (the signature) are skipped: call it only for a file that starts with one.
 */
const PNG_WALK_SOURCE = `
function pngWalker(crc32, inflateSync) {
  var pos = 0, phase = 0, hbuf = [], remaining = 0, crc = 0, type = '', start = 0, sawData = false, problem = null;
  // The pixel check's state: IHDR's bytes, the IDAT pieces (copies), and whether the file stays
  // within what the check covers (IHDR, IDAT, IEND and, before the image data, a valid pHYs,
  // sRGB or gAMA as encoders commonly write; contiguous IDATs; bounded sizes).
  var ihdr = [], idat = [], idatBytes = 0, checkable = true, lastType = '', small = [];
  var SMALL = Object.assign(Object.create(null), { pHYs: 9, sRGB: 1, gAMA: 4 }), seen = Object.create(null);
  var be32 = function (b, i) { return ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; };
  return {
    feed: function (bytes) {
      var i = 0;
      while (i < bytes.length && problem === null && phase !== 4) {
        if (phase === 0) {
          var skip = Math.min(8 - pos, bytes.length - i);
          i += skip; pos += skip;
          if (pos === 8) phase = 1;
        } else if (phase === 2) {
          var n = Math.min(remaining, bytes.length - i);
          var piece = bytes.subarray(i, i + n);
          crc = crc32(piece, crc);
          if (checkable && (type === 'IHDR' || SMALL[type])) for (var k = 0; k < n; k++) (type === 'IHDR' ? ihdr : small).push(piece[k]);
          else if (checkable && type === 'IDAT') {
            idatBytes += n;
            if (idatBytes > ${PIXEL_CHECK_MAX_BYTES}) { checkable = false; idat = []; } else idat.push(piece.slice());
          }
          i += n; pos += n; remaining -= n;
          if (remaining === 0) phase = 3;
        } else {
          hbuf.push(bytes[i]); i++; pos++;
          if (hbuf.length < (phase === 1 ? 8 : 4)) continue;
          if (phase === 1) {
            start = pos - 8;
            remaining = be32(hbuf, 0);
            type = String.fromCharCode(hbuf[4], hbuf[5], hbuf[6], hbuf[7]);
            if (remaining > 0x7fffffff) problem = { problem: 'corrupt-image', detail: 'PNG chunk at byte ' + start + ' claims ' + remaining + ' bytes' };
            else if (!/^[A-Za-z]{4}$/.test(type)) problem = { problem: 'corrupt-image', detail: 'PNG chunk at byte ' + start + ' has no valid type' };
            crc = crc32(Uint8Array.from(hbuf.slice(4)), 0);
            hbuf = [];
            phase = remaining > 0 ? 2 : 3;
            small = [];
            if (SMALL[type] ? sawData || seen[type] || remaining !== SMALL[type] : type !== 'IHDR' && type !== 'IDAT' && type !== 'IEND') checkable = false;
            seen[type] = true;
            if (type === 'IHDR' && lastType !== '') checkable = false;
            if (type === 'IDAT' && sawData && lastType !== 'IDAT') checkable = false;
            lastType = type;
          } else {
            var stored = be32(hbuf, 0);
            hbuf = [];
            if (stored !== crc >>> 0) problem = { problem: 'corrupt-image', detail: 'CRC mismatch in the ' + type + ' chunk at byte ' + start };
            else {
              if (type === 'IDAT') sawData = true;
              else if (type === 'pHYs' && small[8] > 1) checkable = false;
              else if (type === 'sRGB' && small[0] > 3) checkable = false;
              else if (type === 'gAMA' && be32(small, 0) === 0) checkable = false;
              phase = type === 'IEND' ? 4 : 1;
            }
          }
        }
      }
    },
    end: function () {
      if (problem !== null) return problem;
      if (phase !== 4) {
        if (phase <= 1 && hbuf.length === 0) return { problem: 'truncated-image', detail: 'PNG ends at byte ' + pos + ' without an IEND chunk' };
        return { problem: 'truncated-image', detail: 'PNG chunk at byte ' + (phase === 1 ? pos - hbuf.length : start) + ' runs past the end of the file (' + pos + ' bytes)' };
      }
      if (!sawData) return { problem: 'corrupt-image', detail: 'PNG without image data (IDAT)' };
      return null;
    },
    // After end() found nothing wrong: true when the image data inflates (zlib's own checksum
    // included) to exactly the bytes IHDR's size gives, with nothing left over, and every row
    // starts with a valid filter type: what decoding would find wrong with the data. False means
    // "not proven here" (a palette, interlacing, other chunks, a size over the bounds, or a
    // defect), and the caller decodes the file to learn which.
    pixelsVerified: function () {
      if (!checkable || phase !== 4 || problem !== null || ihdr.length !== 13 || idat.length === 0) return false;
      var width = be32(ihdr, 0), height = be32(ihdr, 4), depth = ihdr[8], colour = ihdr[9];
      if (ihdr[10] !== 0 || ihdr[11] !== 0 || ihdr[12] !== 0 || width === 0 || height === 0) return false;
      var channels = colour === 0 ? 1 : colour === 2 ? 3 : colour === 4 ? 2 : colour === 6 ? 4 : 0;
      if (channels === 0) return false;
      if (colour === 0 ? [1, 2, 4, 8, 16].indexOf(depth) < 0 : depth !== 8 && depth !== 16) return false;
      var stride = Math.ceil((width * channels * depth) / 8) + 1;
      var expected = stride * height;
      if (expected > ${PIXEL_CHECK_MAX_RAW}) return false;
      var data = new Uint8Array(idatBytes), at = 0;
      for (var j = 0; j < idat.length; j++) { data.set(idat[j], at); at += idat[j].length; }
      idat = [];
      var out;
      try {
        out = inflateSync(data, { maxOutputLength: expected, info: true });
      } catch (e) {
        return false;
      }
      if (out.buffer.length !== expected || out.engine.bytesWritten !== data.length) return false;
      var raw = out.buffer;
      for (var y = 0; y < expected; y += stride) if (raw[y] > 4) return false;
      return true;
    },
  };
}
`;

interface PngWalker {
  feed(bytes: Uint8Array): void;
  end(): PngWalkProblem | null;
  pixelsVerified(): boolean;
}

// The walk is a string the worker threads evaluate; this thread evaluates the very same text.
const pngWalker = new Function('crc32', 'inflateSync', `${PNG_WALK_SOURCE}\nreturn pngWalker(crc32, inflateSync);`) as (
  crc: typeof crc32,
  inflate: typeof inflateSync,
) => PngWalker;

const PNG_SIG = [137, 80, 78, 71, 13, 10, 26, 10];

function isPng(b: Uint8Array): boolean {
  if (b.length < 8) return false;
  for (let i = 0; i < 8; i++) if (b[i] !== PNG_SIG[i]) return false;
  return true;
}

/** What checkImageHeader needs of a file: its size, first and last bytes, and the PNG walk's finding. */
export interface FileHead {
  size: number;
  head: Uint8Array;
  tail: Uint8Array;
  png: PngWalkProblem | null;
  /** The file, to read a JPEG's frame header past `head` (a large EXIF block). */
  path?: string | undefined;
}

/**
 * Checks a PNG or JPEG from its headers, its PNG chunk walk (CRCs, IEND) or JPEG end marker, and
 * the pixel limit, and reads its size. No pixel is decoded (decode-check.ts does that).
 */
export async function checkImageHeader(file: FileHead): Promise<ImageCheck> {
  const { head, tail } = file;
  if (file.size === 0) return { ok: false, problem: 'zero-byte', detail: '0 bytes' };
  let size: { format: 'png' | 'jpeg'; width: number; height: number };
  if (isPng(head)) {
    let dims: { width: number; height: number } | null;
    try {
      dims = pngSize(head);
    } catch (error) {
      const message = error instanceof PngError ? error.message : String(error);
      return { ok: false, problem: /truncated/.test(message) ? 'truncated-image' : 'corrupt-image', detail: message };
    }
    if (!dims || dims.width === 0 || dims.height === 0) return { ok: false, problem: 'corrupt-image', detail: 'PNG with a zero size' };
    if (file.png) return { ok: false, ...file.png };
    size = { format: 'png', ...dims };
  } else if (head.length >= 2 && head[0] === 0xff && head[1] === 0xd8) {
    try {
      const s = await readImageSizeFromBuffer(head).catch((error: unknown) => {
        if (file.path && head.length < file.size && error instanceof ImageSizeError && /truncated/.test(error.message)) return readImageSize(file.path);
        throw error;
      });
      size = { format: 'jpeg', width: s.width, height: s.height };
    } catch (error) {
      const message = error instanceof ImageSizeError ? error.message : String(error);
      return { ok: false, problem: /truncated/.test(message) ? 'truncated-image' : 'corrupt-image', detail: message };
    }
    // EOI closes the stream; encoders may pad a few bytes after it.
    let eoi = false;
    for (let i = tail.length - 2; i >= 0; i--) {
      if (tail[i] === 0xff && tail[i + 1] === 0xd9) {
        eoi = true;
        break;
      }
    }
    if (!eoi) return { ok: false, problem: 'truncated-image', detail: 'JPEG without its end marker (EOI)' };
  } else {
    return { ok: false, problem: 'not-image', detail: 'the bytes are not a PNG or JPEG file' };
  }
  if (size.width * size.height > IMPORT_MAX_PIXELS) {
    return { ok: false, problem: 'too-large', detail: `${size.width}×${size.height} pixels, over the limit of ${IMPORT_MAX_PIXELS} (8192 × 8192)` };
  }
  return { ok: true, ...size };
}

/**
 * Checks the structure of a PNG or JPEG held in memory (`bytes`: the whole file) and reads its
 * size from the headers, as the importer does for a file. No pixel is decoded.
 */
export async function checkImageBytes(bytes: Uint8Array): Promise<ImageCheck> {
  let png: PngWalkProblem | null = null;
  if (isPng(bytes)) {
    const walk = pngWalker(crc32, inflateSync);
    walk.feed(bytes);
    png = walk.end();
  }
  return checkImageHeader({ size: bytes.length, head: bytes, tail: bytes.subarray(Math.max(0, bytes.length - TAIL_BYTES)), png });
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// --- worker pool -------------------------------------------------------------------------------------

/**
 * The worker: a batch of paths in, a batch of facts out, head and tail transferred; or a list of
 * paths to stat (a rescan's first pass), their sizes and mtimes out in one transferred array. The
 * file streams through one reused buffer; head and tail go in fresh ArrayBuffers (never Buffer's
 * shared pool, which a transfer would detach). mtimes are whole milliseconds, as the store keeps
 * them.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { crc32, inflateSync } = require('node:zlib');
${PNG_WALK_SOURCE}
const PNG_SIG = [137, 80, 78, 71, 13, 10, 26, 10];
const chunk = new Uint8Array(${CHUNK_BYTES});
parentPort.on('message', ({ id, batch, stat: statList }) => {
  if (statList !== undefined) {
    const stat = statList.split('\\0');
    const out = new Float64Array(stat.length * 2).fill(NaN);
    for (let i = 0; i < stat.length; i++) {
      try {
        const st = fs.statSync(stat[i], { throwIfNoEntry: false });
        if (st && st.isFile()) { out[2 * i] = st.size; out[2 * i + 1] = Math.floor(st.mtimeMs); }
      } catch {}
    }
    parentPort.postMessage({ id, stats: out }, [out.buffer]);
    return;
  }
  const results = [];
  const transfer = [];
  for (const path of batch) {
    let fd = -1;
    try {
      fd = fs.openSync(path, 'r');
      const st = fs.fstatSync(fd);
      if (!st.isFile()) { results.push({ status: 'error', code: 'ENOTFILE' }); continue; }
      const mtimeMs = Math.floor(st.mtimeMs);
      const hash = createHash('sha256');
      const head = new Uint8Array(Math.min(st.size, ${HEAD_BYTES}));
      let tail = new Uint8Array(0);
      let walk = null;
      let off = 0;
      for (;;) {
        const n = fs.readSync(fd, chunk, 0, chunk.length, off);
        if (n === 0) break;
        const view = chunk.subarray(0, n);
        hash.update(view);
        if (off < head.length) head.set(view.subarray(0, Math.min(n, head.length - off)), off);
        if (off === 0 && n >= 8 && PNG_SIG.every((b, i) => view[i] === b)) walk = pngWalker(crc32, inflateSync);
        if (walk) walk.feed(view);
        const keep = Math.min(${TAIL_BYTES}, tail.length + n);
        const next = new Uint8Array(keep);
        const fromView = Math.min(n, keep);
        next.set(tail.subarray(tail.length - (keep - fromView)), 0);
        next.set(view.subarray(n - fromView), keep - fromView);
        tail = next;
        off += n;
      }
      const headView = off >= head.length ? head : head.slice(0, off);
      const png = walk ? walk.end() : null;
      results.push({ status: 'read', size: off, mtimeMs, hash: hash.digest('hex'), head: headView, tail, png, pixelsVerified: walk !== null && png === null && walk.pixelsVerified() });
      transfer.push(headView.buffer, tail.buffer);
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
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

class WorkerSlot {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (msg: { id: number; results?: RawFacts[]; stats?: Float64Array }) => {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      p?.resolve(msg.results ?? msg.stats);
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
    return this.post<RawFacts[]>({ batch: batch.map((r) => r.path) });
  }

  /** The paths go as one string, NUL-separated (no path holds a NUL): one string to copy, not thousands. */
  stat(paths: readonly string[]): Promise<Float64Array> {
    return this.post<Float64Array>({ stat: paths.join('\0') });
  }

  private post<T>(message: { batch?: string[]; stat?: string }): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      this.worker.postMessage({ id, ...message });
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
  const leastBusy = () => {
    let best = slots[0]!;
    for (const s of slots) if (s.load < best.load) best = s;
    return best;
  };
  return {
    description: `${size} worker threads`,
    read: (batch) => leastBusy().run(batch),
    stat: (paths) => leastBusy().stat(paths),
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
      const hash = createHash('sha256');
      const head = new Uint8Array(Math.min(st.size, HEAD_BYTES));
      const chunk = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, st.size)));
      let tail = new Uint8Array(0);
      let walk: PngWalker | null = null;
      let off = 0;
      for (;;) {
        const { bytesRead: n } = await handle.read(chunk, 0, chunk.length, off);
        if (n === 0) break;
        const view = chunk.subarray(0, n);
        hash.update(view);
        if (off < head.length) head.set(view.subarray(0, Math.min(n, head.length - off)), off);
        if (off === 0 && isPng(view)) walk = pngWalker(crc32, inflateSync);
        walk?.feed(view);
        const keep = Math.min(TAIL_BYTES, tail.length + n);
        const fromView = Math.min(n, keep);
        const next = new Uint8Array(keep);
        next.set(tail.subarray(tail.length - (keep - fromView)), 0);
        next.set(view.subarray(n - fromView), keep - fromView);
        tail = next;
        off += n;
      }
      const png = walk ? walk.end() : null;
      return {
        status: 'read',
        size: off,
        mtimeMs,
        hash: hash.digest('hex'),
        head: off >= head.length ? head : head.slice(0, off),
        tail,
        png,
        pixelsVerified: walk !== null && png === null && walk.pixelsVerified(),
      };
    } catch (error) {
      return { status: 'error', code: (error as NodeJS.ErrnoException).code ?? String(error) };
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
  async function statInto(out: Float64Array, i: number, path: string): Promise<void> {
    const st = await stat(path).catch(() => null);
    if (st?.isFile()) {
      out[2 * i] = st.size;
      out[2 * i + 1] = Math.floor(st.mtimeMs);
    }
  }
  return {
    description: 'in-thread fs/promises',
    read: (batch) => Promise.all(batch.map(one)),
    async stat(paths) {
      const out = new Float64Array(paths.length * 2).fill(NaN);
      await Promise.all(paths.map((p, i) => statInto(out, i, p)));
      return out;
    },
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

/**
 * The sizes and mtimes of `paths` (as FactReader.stat), `batchSize` paths a message. Every batch
 * is handed to the reader before this returns its promise, so the workers stat while the caller's
 * thread goes on with other work.
 */
export function statAll(reader: FactReader, paths: readonly string[], batchSize = 4096): Promise<Float64Array> {
  const parts: Promise<Float64Array>[] = [];
  for (let start = 0; start < paths.length; start += batchSize) parts.push(reader.stat(paths.slice(start, start + batchSize)));
  return Promise.all(parts).then((done) => {
    const out = new Float64Array(paths.length * 2);
    let at = 0;
    for (const d of done) {
      out.set(d, at);
      at += d.length;
    }
    return out;
  });
}
