/**
 * The on-disk format of a run's anomaly maps: one `.amap` file per run holding every test image's
 * map as float16 (half the bytes of float32, 328 MB for 2,500 maps at 256²) behind a fixed 64-byte
 * header, with a JSON index at the end. Documented for other tools in docs/anomaly-maps.md.
 *
 * Why one file with an index: a comparison grid reads one map from each of several runs at random;
 * a fixed stride makes map i one positioned read. The index sits at the end so maps stream in as a
 * run predicts them; the header's index offset stays 0 until close(), so a crashed write is
 * recognisable, and the file is written under a temporary name and renamed when complete.
 *
 * Values beyond float16's range are stored scaled: each entry has a power-of-two `scale` (exact to
 * apply) chosen so the map's largest magnitude lands in [2^14, 2^15); value = half × scale.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { float32ToHalfBits, halfTable } from './float16';

export const MAP_PACK_MAGIC = 'MIADMAPS';
export const MAP_PACK_VERSION = 1;
export const MAP_PACK_HEADER_BYTES = 64;

export class MapPackError extends Error {
  override name = 'MapPackError';
}

export interface MapPackEntry {
  /** The image the map belongs to, e.g. its path relative to the scenario folder (`test/crack/000.png`). */
  key: string;
  /** Multiply the stored half values by this to get the map's values (a power of two). */
  scale: number;
  /** The image's anomaly score, when the writer gave one. */
  score?: number;
}

export interface MapPackIndex {
  dtype: 'float16';
  entries: MapPackEntry[];
  /** Free-form plain JSON the writer attached (method, run id, resolution, ...). */
  meta: Record<string, unknown>;
}

/** Power-of-two scale putting max |v| in [2^14, 2^15) when the map would not fit float16 as is. */
function chooseScale(map: Float32Array): number {
  let maxAbs = 0;
  for (let i = 0; i < map.length; i++) {
    const a = Math.abs(map[i]!);
    if (a > maxAbs) maxAbs = a;
  }
  // Within [2^-14, 2^15] half keeps its full 11-bit precision: store as is, the common case.
  if (maxAbs === 0 || (maxAbs <= 32768 && maxAbs >= 2 ** -14)) return 1;
  return 2 ** (Math.floor(Math.log2(maxAbs)) - 14);
}

function headerBytes(height: number, width: number, count: number, indexOffset: number, indexLength: number): Uint8Array {
  const header = new Uint8Array(MAP_PACK_HEADER_BYTES);
  const view = new DataView(header.buffer);
  for (let i = 0; i < 8; i++) header[i] = MAP_PACK_MAGIC.charCodeAt(i);
  view.setUint32(8, MAP_PACK_VERSION, true);
  view.setUint32(12, height, true);
  view.setUint32(16, width, true);
  view.setUint32(20, count, true);
  view.setBigUint64(24, BigInt(indexOffset), true);
  view.setUint32(32, indexLength, true);
  return header;
}

/** Streams maps into a new .amap file. */
export class MapPackWriter {
  private readonly entries: MapPackEntry[] = [];
  private offset = MAP_PACK_HEADER_BYTES;
  private closed = false;

  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    private readonly tmpPath: string,
    readonly height: number,
    readonly width: number,
    private readonly meta: Record<string, unknown>,
  ) {}

  /** Starts `path` (written as `path.tmp` until close). Maps are height × width. */
  static async create(path: string, height: number, width: number, meta: Record<string, unknown> = {}): Promise<MapPackWriter> {
    if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
      throw new MapPackError(`bad map size ${height}×${width}`);
    }
    const tmpPath = `${path}.tmp`;
    const fh = await open(tmpPath, 'w');
    // The header goes in now with index offset 0: a reader of an unfinished file is told so.
    await fh.write(headerBytes(height, width, 0, 0, 0), 0, MAP_PACK_HEADER_BYTES, 0);
    return new MapPackWriter(fh, path, tmpPath, height, width, meta);
  }

  /**
   * Appends one map.
   * @param map shape [height, width], finite values
   */
  async add(key: string, map: Float32Array, score?: number): Promise<void> {
    if (this.closed) throw new MapPackError('writer is closed');
    if (map.length !== this.height * this.width) {
      throw new MapPackError(`map ${key} holds ${map.length} values, expected ${this.height}×${this.width}`);
    }
    for (let i = 0; i < map.length; i++) {
      if (!Number.isFinite(map[i]!)) throw new MapPackError(`map ${key} holds a non-finite value at pixel ${i}`);
    }
    if (score !== undefined && !Number.isFinite(score)) throw new MapPackError(`score of ${key} is not finite`);
    const scale = chooseScale(map);
    const half = new Uint16Array(map.length);
    const inv = 1 / scale;
    for (let i = 0; i < map.length; i++) half[i] = float32ToHalfBits(map[i]! * inv);
    const bytes = new Uint8Array(half.buffer);
    await this.fh.write(bytes, 0, bytes.length, this.offset);
    this.offset += bytes.length;
    this.entries.push(score === undefined ? { key, scale } : { key, scale, score });
  }

  /** Writes the index and header, syncs, and renames the file into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const index: MapPackIndex = { dtype: 'float16', entries: this.entries, meta: this.meta };
      const json = new TextEncoder().encode(JSON.stringify(index));
      await this.fh.write(json, 0, json.length, this.offset);
      const header = headerBytes(this.height, this.width, this.entries.length, this.offset, json.length);
      await this.fh.write(header, 0, header.length, 0);
      await this.fh.sync();
      await this.fh.close();
      await rename(this.tmpPath, this.path);
    } catch (error) {
      await this.fh.close().catch(() => undefined);
      await rm(this.tmpPath, { force: true });
      throw error;
    }
  }

  /** Gives up: closes and deletes the temporary file. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.tmpPath, { force: true });
  }
}

/** Random access to the maps of an .amap file. */
export class MapPackReader {
  private readonly byKey: Map<string, number>;

  private constructor(
    private readonly fh: FileHandle,
    readonly height: number,
    readonly width: number,
    readonly index: MapPackIndex,
  ) {
    this.byKey = new Map(index.entries.map((e, i) => [e.key, i]));
  }

  static async open(path: string): Promise<MapPackReader> {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const header = new Uint8Array(MAP_PACK_HEADER_BYTES);
      const { bytesRead } = await fh.read(header, 0, MAP_PACK_HEADER_BYTES, 0);
      const magic = String.fromCharCode(...header.subarray(0, 8));
      if (bytesRead < MAP_PACK_HEADER_BYTES || magic !== MAP_PACK_MAGIC) throw new MapPackError(`${path} is not an anomaly-map file (bad magic)`);
      const view = new DataView(header.buffer);
      const version = view.getUint32(8, true);
      if (version !== MAP_PACK_VERSION) throw new MapPackError(`${path}: unsupported version ${version}`);
      const height = view.getUint32(12, true);
      const width = view.getUint32(16, true);
      const count = view.getUint32(20, true);
      const indexOffset = Number(view.getBigUint64(24, true));
      const indexLength = view.getUint32(32, true);
      if (indexOffset === 0) throw new MapPackError(`${path} is incomplete (its writer did not finish)`);
      const expectedOffset = MAP_PACK_HEADER_BYTES + count * height * width * 2;
      if (indexOffset !== expectedOffset || indexOffset + indexLength > size) {
        throw new MapPackError(`${path} is truncated or corrupt (index at ${indexOffset}, file ${size} bytes)`);
      }
      const json = new Uint8Array(indexLength);
      await fh.read(json, 0, indexLength, indexOffset);
      let index: MapPackIndex;
      try {
        index = JSON.parse(new TextDecoder().decode(json)) as MapPackIndex;
      } catch {
        throw new MapPackError(`${path}: corrupt index`);
      }
      if (!Array.isArray(index.entries) || index.entries.length !== count) throw new MapPackError(`${path}: index lists ${index.entries?.length} maps, header ${count}`);
      return new MapPackReader(fh, height, width, index);
    } catch (error) {
      await fh.close();
      throw error;
    }
  }

  get count(): number {
    return this.index.entries.length;
  }

  keys(): string[] {
    return this.index.entries.map((e) => e.key);
  }

  /** Map i, shape [height, width], as float32. */
  async read(i: number): Promise<Float32Array> {
    const entry = this.index.entries[i];
    if (!entry) throw new MapPackError(`no map ${i} (the file holds ${this.count})`);
    const n = this.height * this.width;
    const bytes = new Uint8Array(n * 2);
    await this.fh.read(bytes, 0, bytes.length, MAP_PACK_HEADER_BYTES + i * n * 2);
    const half = new Uint16Array(bytes.buffer);
    const t = halfTable();
    const out = new Float32Array(n);
    const scale = entry.scale;
    for (let k = 0; k < n; k++) out[k] = t[half[k]!]! * scale;
    return out;
  }

  /** The map of `key`, or null when the file has none. */
  async readKey(key: string): Promise<Float32Array | null> {
    const i = this.byKey.get(key);
    return i === undefined ? null : this.read(i);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
