/**
 * The frozen-feature cache (DESIGN section 6): the backbone features of an un-augmented image are
 * the same on every epoch and every run that uses the same backbone, weights, input size and
 * layers, so they are computed once and kept in the workspace under `cache/features/`.
 *
 * Layout and why:
 *   entries/<ab>/<sha256 of the key>.f16   one file per key, fp16 (half the bytes; PatchCore's
 *                                          memory bank is rounded through fp16 anyway)
 *   tmp/                                   where entries are written before their rename
 *   stats.log                              hit/miss deltas, one JSON line per flush
 *   config.json                            { capBytes }
 *
 * No database: the job process that writes entries must not need SQLite (only the main process
 * opens the workspace store, DESIGN section 2), and the file system already gives what an index
 * would: an entry appears by an atomic rename, so a reader sees a whole file or none; LRU order is
 * each file's mtime, set on write and on every hit; size is a directory scan. A file can still be
 * damaged after a crash of the machine (rename persisted before the data), so every entry carries
 * its key and a CRC-32 of its payload, and any mismatch is a miss (the file is removed), never
 * wrong features. SIGKILL at any point leaves at worst a stray temp file, swept by eviction or
 * `clear`.
 *
 * Several processes may use one cache: a job process reads and writes entries while the main
 * process reads stats or clears. Counters are appended to stats.log with O_APPEND, one small
 * write per flush, so concurrent appenders do not interleave and a reader sums the lines (a torn
 * last line is skipped). Eviction re-scans the folder, so entries another process wrote count.
 */
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { LabError } from '../../../shared/errors';
import { sha256File, writeFileAtomic } from '../fs-util';
import { float32ToHalf, halfToFloat32 } from '../evaluation/float16';

import { DEFAULT_FEATURE_CACHE_CAP_BYTES } from '../../../shared/limits';
export { DEFAULT_FEATURE_CACHE_CAP_BYTES };

/** Bump when the entry format or the meaning of a key changes: old entries then simply miss. */
const FORMAT_VERSION = 1;
const MAGIC = Buffer.from('MIADFC\0\x01', 'latin1');
/** magic, header length (u32), payload CRC-32 (u32). */
const FIXED_HEADER = MAGIC.length + 8;
/** Stray temp files older than this are removed by eviction (a live writer renames within seconds). */
const STALE_TMP_MS = 3600_000;
/** stats.log is folded into one line by its writer once it grows past this. */
const STATS_COMPACT_BYTES = 64 * 1024;

/** What features of one image depend on. */
export interface FeatureKey {
  /** Backbone architecture, e.g. `wide_resnet50_2`. */
  backbone: string;
  /** sha256 of the weights file, or `random:<seed>`. */
  weights: string;
  inputSize: number;
  /** The layers stored, in order, e.g. ['layer2', 'layer3']. */
  layers: readonly string[];
  /** sha256 of the image file's bytes. */
  image: string;
  /** How pixels were prepared (decoder, resize, normalisation): entries of another recipe miss. */
  preprocess: string;
}

/** One layer's features of one image, [h, w, c] row-major. */
export interface FeatureLayer {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface FeatureCacheStats {
  dir: string;
  entries: number;
  bytes: number;
  capBytes: number;
  /** Summed over every process since the last clear. */
  hits: number;
  misses: number;
}

/** This process's own counts since the cache was opened (what a run records). */
export interface FeatureCacheSession {
  hits: number;
  misses: number;
  bytesWritten: number;
  evicted: number;
  /** Entries that could not be written (the run went on without storing them), and the last reason. */
  writeFailures: number;
  lastWriteError: string | null;
}

export interface FeatureCacheOptions {
  /** Overrides the cap stored in config.json (which defaults to 20 GB). */
  capBytes?: number;
  /** Clock for LRU times (tests). */
  now?: () => Date;
}

interface EntryFile {
  path: string;
  bytes: number;
  mtimeMs: number;
}

/** sha256 of bytes, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export { sha256File };

function canonicalKey(key: FeatureKey): string {
  return JSON.stringify([FORMAT_VERSION, key.backbone, key.weights, key.inputSize, [...key.layers], key.preprocess, key.image]);
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class FeatureCache {
  readonly session: FeatureCacheSession = { hits: 0, misses: 0, bytesWritten: 0, evicted: 0, writeFailures: 0, lastWriteError: null };
  /** Counts not yet appended to stats.log. */
  private pending = { hits: 0, misses: 0 };
  /** Bytes of all entries as last scanned plus what this process wrote since; null before a scan. */
  private knownBytes: number | null = null;
  private readonly now: () => Date;

  private constructor(
    readonly dir: string,
    private cap: number,
    options: FeatureCacheOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Opens (creating the folders of) the cache at `dir`, e.g. `<workspace>/cache/features`. */
  static async open(dir: string, options: FeatureCacheOptions = {}): Promise<FeatureCache> {
    await mkdir(join(dir, 'entries'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const cap = options.capBytes ?? (await readCap(dir));
    return new FeatureCache(dir, cap, options);
  }

  /** The cache folder of a workspace. */
  static workspaceDir(workspaceDir: string): string {
    return join(workspaceDir, 'cache', 'features');
  }

  get capBytes(): number {
    return this.cap;
  }

  /** Stores a new cap for every process (config.json) and evicts down to it now. */
  async setCap(bytes: number): Promise<void> {
    if (!Number.isFinite(bytes) || bytes < 0) throw new LabError(`cache cap must be a number of bytes ≥ 0, got ${bytes}`, 'ValidationError');
    this.cap = Math.floor(bytes);
    await writeFileAtomic(join(this.dir, 'config.json'), JSON.stringify({ capBytes: this.cap }));
    await this.evict(0);
  }

  /** The entry file of a key: sha256 of the canonical key, fanned out over 256 folders. */
  entryPath(key: FeatureKey): string {
    const id = createHash('sha256').update(canonicalKey(key)).digest('hex');
    return join(this.dir, 'entries', id.slice(0, 2), `${id}.f16`);
  }

  /**
   * The features stored for `key`, decoded to float32, or null (a miss) when there are none or the
   * entry is damaged or belongs to another key. Counts a hit or a miss and marks the entry used.
   */
  async get(key: FeatureKey): Promise<FeatureLayer[] | null> {
    const path = this.entryPath(key);
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch {
      return this.miss();
    }
    const layers = decodeEntry(file, canonicalKey(key));
    if (!layers) {
      // A damaged or foreign file: remove it so it is rewritten, and recompute.
      await unlink(path).catch(() => undefined);
      return this.miss();
    }
    const t = this.now();
    await utimes(path, t, t).catch(() => undefined);
    this.session.hits += 1;
    this.pending.hits += 1;
    return layers;
  }

  private miss(): null {
    this.session.misses += 1;
    this.pending.misses += 1;
    return null;
  }

  /**
   * Stores the features of `key`, rounded to fp16, atomically (temp file, rename). Throws only for
   * layers that do not fit the key; I/O failures are counted in `session.writeFailures`.
   * @param layers each [h, w, c] float32, in key.layers order
   * @returns the layers as stored, decoded back to float32: what a later hit will return
   */
  async put(key: FeatureKey, layers: readonly FeatureLayer[]): Promise<FeatureLayer[]> {
    if (layers.length !== key.layers.length || layers.some((l, i) => l.name !== key.layers[i])) {
      throw new LabError(`feature cache: layers ${layers.map((l) => l.name).join(',')} do not match the key's ${key.layers.join(',')}`);
    }
    const header = Buffer.from(JSON.stringify({ key: canonicalKey(key), layers: layers.map((l) => ({ name: l.name, shape: l.shape })) }), 'utf8');
    // The payload starts on an 8-byte boundary so it can be viewed as Uint16 without a copy.
    const headerPadded = Math.ceil((FIXED_HEADER + header.length) / 8) * 8 - FIXED_HEADER;
    const total = layers.reduce((a, l) => a + elements(l.shape), 0);
    const file = Buffer.alloc(FIXED_HEADER + headerPadded + total * 2);
    MAGIC.copy(file, 0);
    file.writeUInt32LE(headerPadded, MAGIC.length);
    header.copy(file, FIXED_HEADER);
    file.fill(0x20, FIXED_HEADER + header.length, FIXED_HEADER + headerPadded);
    const payloadAt = FIXED_HEADER + headerPadded;
    const bits = new Uint16Array(file.buffer, file.byteOffset + payloadAt, total);
    const stored: FeatureLayer[] = [];
    let at = 0;
    for (const l of layers) {
      const n = elements(l.shape);
      if (l.data.length !== n) throw new LabError(`feature cache: layer ${l.name} has ${l.data.length} values for shape [${l.shape.join(', ')}]`);
      const part = bits.subarray(at, at + n);
      float32ToHalf(l.data, part);
      stored.push({ name: l.name, shape: [...l.shape], data: halfToFloat32(part) });
      at += n;
    }
    file.writeUInt32LE(crc32(file.subarray(payloadAt)) >>> 0, MAGIC.length + 4);

    // The cache only saves time: a failed write (disk full, read-only folder) is noted, and the
    // caller still gets the rounded features, the same numbers a stored entry would have given.
    const path = this.entryPath(key);
    const tmp = join(this.dir, 'tmp', `${randomBytes(8).toString('hex')}.part`);
    try {
      await this.makeRoom(file.length);
      // The folder may have been removed under us by another process's clear().
      await writeFile(tmp, file).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await mkdir(join(this.dir, 'tmp'), { recursive: true });
        await writeFile(tmp, file);
      });
      const t = this.now();
      await utimes(tmp, t, t);
      await mkdir(join(path, '..'), { recursive: true });
      await rename(tmp, path);
      this.session.bytesWritten += file.length;
      if (this.knownBytes !== null) this.knownBytes += file.length;
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      this.session.writeFailures += 1;
      this.session.lastWriteError = error instanceof Error ? error.message : String(error);
    }
    return stored;
  }

  private async makeRoom(incoming: number): Promise<void> {
    if (this.knownBytes === null) this.knownBytes = (await this.scan()).reduce((a, e) => a + e.bytes, 0);
    if (this.knownBytes + incoming > this.cap) await this.evict(incoming);
  }

  /**
   * Removes least-recently-used entries until the cache plus `incoming` bytes fits in 90 % of the
   * cap (the margin spares a re-scan on every following write).
   */
  private async evict(incoming: number): Promise<void> {
    const entries = await this.scan(true);
    let bytes = entries.reduce((a, e) => a + e.bytes, 0);
    const target = this.cap * 0.9 - incoming;
    entries.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const e of entries) {
      if (bytes <= target) break;
      try {
        await unlink(e.path);
        this.session.evicted += 1;
      } catch {
        // another process removed it first
      }
      bytes -= e.bytes;
    }
    this.knownBytes = Math.max(0, bytes);
  }

  private async scan(sweepTmp = false): Promise<EntryFile[]> {
    const out: EntryFile[] = [];
    const root = join(this.dir, 'entries');
    const shards = await readdir(root).catch(() => [] as string[]);
    for (const shard of shards) {
      const names = await readdir(join(root, shard)).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith('.f16')) continue;
        const path = join(root, shard, name);
        const s = await stat(path).catch(() => null);
        if (s?.isFile()) out.push({ path, bytes: s.size, mtimeMs: s.mtimeMs });
      }
    }
    if (sweepTmp) {
      const limit = Date.now() - STALE_TMP_MS;
      for (const name of await readdir(join(this.dir, 'tmp')).catch(() => [] as string[])) {
        const path = join(this.dir, 'tmp', name);
        const s = await stat(path).catch(() => null);
        if (s && s.mtimeMs < limit) await unlink(path).catch(() => undefined);
      }
    }
    return out;
  }

  /** Appends this process's unrecorded hit/miss counts to stats.log. */
  async flush(): Promise<void> {
    if (this.pending.hits === 0 && this.pending.misses === 0) return;
    const line = `${JSON.stringify({ h: this.pending.hits, m: this.pending.misses })}\n`;
    this.pending = { hits: 0, misses: 0 };
    const path = join(this.dir, 'stats.log');
    try {
      await appendFile(path, line);
      const size = (await stat(path).catch(() => null))?.size ?? 0;
      if (size > STATS_COMPACT_BYTES) {
        const sum = await readCounters(this.dir);
        await writeFileAtomic(path, `${JSON.stringify({ h: sum.hits, m: sum.misses })}\n`);
      }
    } catch (error) {
      // Counters are statistics: losing a flush must not stop a run (this process's own counts
      // in `session` stay right).
      this.session.lastWriteError = error instanceof Error ? error.message : String(error);
    }
  }

  /** Entries, bytes and cap from the folder; hits and misses of every process (after this one's flush). */
  async stats(): Promise<FeatureCacheStats> {
    await this.flush();
    return readStats(this.dir, this.cap);
  }

  /** Removes every entry, stray temp file and counter. */
  async clear(): Promise<{ entries: number; bytes: number }> {
    const before = await this.scan();
    await rm(join(this.dir, 'entries'), { recursive: true, force: true });
    await rm(join(this.dir, 'tmp'), { recursive: true, force: true });
    await rm(join(this.dir, 'stats.log'), { force: true });
    await mkdir(join(this.dir, 'entries'), { recursive: true });
    await mkdir(join(this.dir, 'tmp'), { recursive: true });
    this.knownBytes = 0;
    this.pending = { hits: 0, misses: 0 };
    return { entries: before.length, bytes: before.reduce((a, e) => a + e.bytes, 0) };
  }

  async close(): Promise<void> {
    await this.flush();
  }
}

async function readCap(dir: string): Promise<number> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { capBytes?: unknown };
    if (typeof parsed.capBytes === 'number' && Number.isFinite(parsed.capBytes) && parsed.capBytes >= 0) return parsed.capBytes;
  } catch {
    // no or unreadable config: the default
  }
  return DEFAULT_FEATURE_CACHE_CAP_BYTES;
}

async function readCounters(dir: string): Promise<{ hits: number; misses: number }> {
  let text = '';
  try {
    text = await readFile(join(dir, 'stats.log'), 'utf8');
  } catch {
    return { hits: 0, misses: 0 };
  }
  let hits = 0;
  let misses = 0;
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const d = JSON.parse(line) as { h?: unknown; m?: unknown };
      if (typeof d.h === 'number' && typeof d.m === 'number') {
        hits += d.h;
        misses += d.m;
      }
    } catch {
      // a line torn by a crash mid-append: those counts are lost, the rest stand
    }
  }
  return { hits, misses };
}

/**
 * The stats of the cache at `dir` without opening it for writing (the main process's view).
 * A missing folder is an empty cache.
 */
export async function readStats(dir: string, capBytes?: number): Promise<FeatureCacheStats> {
  let entries = 0;
  let bytes = 0;
  const root = join(dir, 'entries');
  for (const shard of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, shard)).catch(() => [] as string[])) {
      if (!name.endsWith('.f16')) continue;
      const s = await stat(join(root, shard, name)).catch(() => null);
      if (s?.isFile()) {
        entries += 1;
        bytes += s.size;
      }
    }
  }
  const { hits, misses } = await readCounters(dir);
  return { dir, entries, bytes, capBytes: capBytes ?? (await readCap(dir)), hits, misses };
}

/** Parses and checks one entry file; null when anything is off (wrong magic, key, size or CRC). */
function decodeEntry(file: Buffer, key: string): FeatureLayer[] | null {
  if (file.length < FIXED_HEADER || !file.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const headerLength = file.readUInt32LE(MAGIC.length);
  const crc = file.readUInt32LE(MAGIC.length + 4);
  const payloadAt = FIXED_HEADER + headerLength;
  if (payloadAt > file.length || payloadAt % 2 !== 0) return null;
  let header: { key?: unknown; layers?: unknown };
  try {
    header = JSON.parse(file.subarray(FIXED_HEADER, payloadAt).toString('utf8')) as typeof header;
  } catch {
    return null;
  }
  if (header.key !== key || !Array.isArray(header.layers)) return null;
  const specs = header.layers as { name?: unknown; shape?: unknown }[];
  let total = 0;
  for (const s of specs) {
    if (typeof s.name !== 'string' || !Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d > 0)) return null;
    total += elements(s.shape as number[]);
  }
  if (file.length - payloadAt !== total * 2) return null;
  const payload = file.subarray(payloadAt);
  if ((crc32(payload) >>> 0) !== crc) return null;
  // readFile's buffer of a large file is its own allocation; copy only when it is misaligned.
  const aligned = (file.byteOffset + payloadAt) % 2 === 0 ? payload : Buffer.from(payload);
  const bits = new Uint16Array(aligned.buffer, aligned.byteOffset, total);
  const out: FeatureLayer[] = [];
  let at = 0;
  for (const s of specs) {
    const n = elements(s.shape as number[]);
    out.push({ name: s.name as string, shape: [...(s.shape as number[])], data: halfToFloat32(bits.subarray(at, at + n)) });
    at += n;
  }
  return out;
}
