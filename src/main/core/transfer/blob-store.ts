/**
 * Content-addressed blob stores (issue 18, scale-out): what moves datasets, runs and checkpoints
 * between workspaces that share no file system. A blob's id is the sha256 of its bytes (64 lower-case
 * hex digits), so the same image put twice is stored once and a bundle re-sends only what changed.
 *
 * Every read is checked: `get` and `getFile` hash what they return and refuse content whose sha256
 * is not its id (BlobIntegrityError, a deterministic failure: retrying reads the same bad bytes).
 * Files are streamed in both directions (a weights file is hundreds of MB): `put({ file })` hashes
 * while it copies, `getFile` hashes while it writes a temp file beside `dest`, renamed into place
 * only once the hash matched, so a corrupted blob never leaves a file at `dest`.
 *
 * DirBlobStore is the `file://` store (a folder, e.g. a shared mount): `<root>/sha256/<ab>/<id>`.
 * The queue's Redis store implements the same interface (queue/redis-blob-store.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { LabError } from '../../../shared/errors';
import { sha256File } from '../fs-util';

export type BlobSource = Uint8Array | { file: string };

export interface BlobStore {
  /** Stores bytes or a file (streamed); returns its sha256, the blob's id. Idempotent. */
  put(source: BlobSource): Promise<string>;
  /** The blob's bytes, checked against `sha256`; BlobIntegrityError when they differ, NotFoundError when absent. */
  get(sha256: string): Promise<Uint8Array>;
  /** Writes the blob to `dest` (parents made), streamed and checked; nothing is left at `dest` when the check fails. */
  getFile(sha256: string, dest: string): Promise<void>;
  has(sha256: string): Promise<boolean>;
}

const BLOB_ID = /^[0-9a-f]{64}$/;

/**
 * Content that does not match its digest: a corrupted blob, a tampered manifest. Deterministic: the
 * queue does not retry it (the same bytes would fail again).
 */
export class BlobIntegrityError extends LabError {
  readonly deterministic = true;
  constructor(message: string) {
    super(message, 'ValidationError');
  }
}

/** Refuses anything but a sha256 in hex (an id is also a file name here: nothing else may reach the path). */
export function checkBlobId(id: string): string {
  if (typeof id !== 'string' || !BLOB_ID.test(id)) throw new BlobIntegrityError(`not a blob id (a sha256 in lower-case hex): ${JSON.stringify(String(id).slice(0, 80))}`);
  return id;
}

export function sha256Bytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Throws BlobIntegrityError unless `bytes` hash to `id`. */
export function verifyBlob(id: string, bytes: Uint8Array): Uint8Array {
  const got = sha256Bytes(bytes);
  if (got !== id) throw mismatch(id, got, bytes.length);
  return bytes;
}

function mismatch(id: string, got: string, bytes: number): BlobIntegrityError {
  return new BlobIntegrityError(`blob ${id.slice(0, 16)}… is corrupted: its ${bytes} bytes have sha256 ${got.slice(0, 16)}…, not the id they were stored under`);
}

/** A stream stage that hashes and counts what passes through. */
class Hasher extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

function tempBeside(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`;
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies `from` (a file, streamed) to a temp file beside `dest` while hashing it; when `expect`
 * is given and the hash differs, the temp file is removed and BlobIntegrityError thrown. Otherwise
 * the temp is fsynced and renamed to `dest`. Returns the sha256.
 */
async function copyHashed(from: string, dest: string, expect: string | null): Promise<string> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempBeside(dest);
  const hasher = new Hasher();
  try {
    await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), hasher, createWriteStream(tmp, { flags: 'wx' }));
    const got = hasher.digest();
    if (expect !== null && got !== expect) throw mismatch(expect, got, hasher.bytes);
    await syncFile(tmp);
    await rename(tmp, dest);
    return got;
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** Writes bytes already known to hash to `id` to `dest` atomically (for stores that hold blobs in memory). */
export async function writeVerifiedFile(id: string, bytes: Uint8Array, dest: string): Promise<void> {
  verifyBlob(id, bytes);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempBeside(dest);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, dest);
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** The `file://` store: one file per blob under `<root>/sha256/<first two hex digits>/<id>`. */
export class DirBlobStore implements BlobStore {
  constructor(readonly root: string) {
    if (!isAbsolute(root)) throw new LabError(`a blob store folder must be an absolute path, got ${JSON.stringify(root)}`, 'ValidationError');
  }

  private pathOf(id: string): string {
    checkBlobId(id);
    return join(this.root, 'sha256', id.slice(0, 2), id);
  }

  async put(source: BlobSource): Promise<string> {
    if (source instanceof Uint8Array) {
      const id = sha256Bytes(source);
      if (!(await this.has(id))) await writeVerifiedFile(id, source, this.pathOf(id));
      return id;
    }
    // Hashed first, read-only: a file the store already holds (an unchanged image of the last
    // bundle) costs one read and no write. A new one is then copied, checked against that hash.
    const id = await sha256File(source.file);
    if (await this.has(id)) return id;
    try {
      await copyHashed(source.file, this.pathOf(id), id);
    } catch (error) {
      if (error instanceof BlobIntegrityError) throw new LabError(`${source.file} changed while it was being stored; store it again`, 'ConflictError');
      throw error;
    }
    return id;
  }

  async get(sha256: string): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.pathOf(sha256)));
    } catch (error) {
      throw absent(sha256, error);
    }
    return verifyBlob(sha256, bytes);
  }

  async getFile(sha256: string, dest: string): Promise<void> {
    const from = this.pathOf(sha256);
    if (!(await this.has(sha256))) throw absent(sha256, null);
    await copyHashed(from, dest, sha256);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }
}

function absent(id: string, error: unknown): LabError {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (error && code !== 'ENOENT') return new LabError(`blob ${id.slice(0, 16)}… cannot be read: ${(error as Error).message}`);
  return new LabError(`blob ${id.slice(0, 16)}… is not in the store`, 'NotFoundError');
}

/** A store from its URI; `file:///abs/folder` (the only scheme the core knows; the queue adds Redis). */
export function openBlobStore(uri: string): BlobStore {
  if (uri.startsWith('file://')) return new DirBlobStore(fileURLToPath(uri));
  throw new LabError(`unknown blob store ${JSON.stringify(uri.slice(0, 100))}: give file:///absolute/folder`, 'ValidationError');
}
