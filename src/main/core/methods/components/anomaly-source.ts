/**
 * Where DRAEM's anomaly textures come from (METHODS.md 3.5): the user's DTD folder when they point
 * to one (the official code globs `anomaly_source_path/*\/*.jpg`, DTD's `images/<class>/` layout),
 * else the lab's procedural textures (textures.ts) from a seed. Either way the run records which
 * (`describe()`), since DRAEM's numbers depend on it.
 *
 * A texture folder is checked when it is opened, not when a texture is first drawn hours into a
 * run: a missing or empty folder, or one whose every image is unreadable, is refused with a message
 * that names it; unreadable files among readable ones are skipped and listed; grey images are taken
 * and expanded to three equal channels, as cv2.imread (IMREAD_COLOR) does in the official code. A
 * file that passed the header check but fails to decode later (a truncated JPEG) is replaced by the
 * next readable one in the sorted list, deterministically, and listed too.
 *
 * Textures are decoded at the model's input size (sharp's resize to size × size; the official code
 * uses cv2.resize, bilinear) and kept in memory up to a cap.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import sharp from 'sharp';
import type { AnomalySourceInfo, SkippedTexture } from '../../../../shared/calls/synthesis';
import { LabError } from '../../../../shared/errors';
import { seedFor } from '../../engine/random';
import { loadImageBytes } from './images';
import { proceduralTexture } from './textures';

/** Image files a texture folder may hold (DTD's are .jpg; ours take the usual others too). */
const TEXTURE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp']);

/** How deep below the folder images are looked for: DTD is `dtd/images/<class>/x.jpg`, so the user may point at dtd/, images/ or one class. */
const MAX_DEPTH = 3;

/** Default cap of decoded textures kept in memory: 512 MiB ('ours'; DTD at 256² is 1.1 GB). */
export const TEXTURE_CACHE_BYTES = 512 * 1024 ** 2;

/** At most this many skipped files are listed by name in the record (the count is always exact). */
const LISTED = 20;

export type { AnomalySourceInfo, SkippedTexture } from '../../../../shared/calls/synthesis';

export interface TextureSource {
  readonly kind: 'procedural' | 'folder';
  /** Textures to draw from: indices 0..count − 1. */
  readonly count: number;
  /** Texture `index`, 8-bit RGB [size × size × 3]; do not modify it (it may be cached). */
  texture(index: number): Promise<Uint8Array>;
  describe(): AnomalySourceInfo;
}

export interface TextureSourceOptions {
  /** A texture folder (DTD), or '' for the procedural textures. */
  dir: string;
  /** Side of the textures (the model's input size). */
  size: number;
  /** Seed of the procedural textures. */
  seed: number;
  /** Procedural textures to draw from. */
  pool: number;
  cacheBytes?: number;
}

async function listImages(dir: string, depth: number, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth < MAX_DEPTH) await listImages(path, depth + 1, out);
    else if (e.isFile() && TEXTURE_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(path);
  }
}

class Cache {
  private readonly items = new Map<number, Uint8Array>();
  private used = 0;
  constructor(private readonly cap: number) {}
  get(i: number): Uint8Array | undefined {
    return this.items.get(i);
  }
  put(i: number, bytes: Uint8Array): void {
    if (this.used + bytes.length > this.cap) return;
    this.items.set(i, bytes);
    this.used += bytes.length;
  }
}

function proceduralSource(options: TextureSourceOptions): TextureSource {
  const cache = new Cache(options.cacheBytes ?? TEXTURE_CACHE_BYTES);
  return {
    kind: 'procedural',
    count: options.pool,
    async texture(index) {
      const hit = cache.get(index);
      if (hit) return hit;
      const t = proceduralTexture(options.size, seedFor(options.seed, `texture-${index}`));
      cache.put(index, t);
      return t;
    },
    describe: () => ({ kind: 'procedural', seed: options.seed, pool: options.pool, size: options.size }),
  };
}

async function folderSource(options: TextureSourceOptions): Promise<TextureSource> {
  const dir = options.dir;
  const info = await stat(dir).catch(() => null);
  if (!info) throw new LabError(`anomaly source folder ${dir} does not exist; point anomalySourceDir to a texture folder such as DTD's images/, or leave it empty for the lab's procedural textures`, 'ValidationError');
  if (!info.isDirectory()) throw new LabError(`anomaly source ${dir} is not a folder; anomalySourceDir takes a texture folder such as DTD's images/`, 'ValidationError');
  const files: string[] = [];
  await listImages(dir, 1, files);
  if (files.length === 0) {
    throw new LabError(
      `anomaly source folder ${dir} holds no images (.jpg, .png, … up to ${MAX_DEPTH} levels down; DTD keeps them in images/<class>/*.jpg); leave anomalySourceDir empty for the lab's procedural textures`,
      'ValidationError',
    );
  }
  const skipped: SkippedTexture[] = [];
  let skippedCount = 0;
  const skip = (path: string, reason: string): void => {
    skippedCount++;
    if (skipped.length < LISTED) skipped.push({ file: relative(dir, path), reason });
  };
  const usable: string[] = [];
  let grayscale = 0;
  // Headers only (sharp reads a few kB per file): a DTD of 5,640 images checks in seconds. A few
  // at a time, so a big folder never holds thousands of open files.
  const headers: ({ path: string; error: string } | { path: string; grey: boolean })[] = new Array(files.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const path = files[i]!;
      try {
        const m = await sharp(path).metadata();
        headers[i] = !m.width || !m.height ? { path, error: 'no image size in its header' } : { path, grey: m.channels !== undefined && m.channels < 3 };
      } catch (error) {
        headers[i] = { path, error: error instanceof Error ? error.message : String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  for (const h of headers) {
    if ('error' in h) skip(h.path, `unreadable: ${h.error}`);
    else {
      usable.push(h.path);
      if (h.grey) grayscale++;
    }
  }
  if (usable.length === 0) {
    const first = skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ');
    throw new LabError(`anomaly source folder ${dir}: none of its ${files.length} images can be read (${first}); leave anomalySourceDir empty for the lab's procedural textures`, 'ValidationError');
  }
  const cache = new Cache(options.cacheBytes ?? TEXTURE_CACHE_BYTES);
  const broken = new Set<number>();
  return {
    kind: 'folder',
    count: usable.length,
    async texture(index) {
      for (let k = 0; k < usable.length; k++) {
        const i = (index + k) % usable.length;
        if (broken.has(i)) continue;
        const hit = cache.get(i);
        if (hit) return hit;
        try {
          const bytes = await loadImageBytes(usable[i]!, options.size);
          cache.put(i, bytes);
          return bytes;
        } catch (error) {
          broken.add(i);
          skip(usable[i]!, `fails to decode: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      throw new LabError(`anomaly source folder ${dir}: every image failed to decode`);
    },
    describe: () => ({ kind: 'folder', dir, files: files.length, usable: usable.length - broken.size, grayscale, skipped: [...skipped], skippedCount, size: options.size }),
  };
}

/** The texture source of a run: the folder when `dir` is set, else procedural textures. */
export async function openTextureSource(options: TextureSourceOptions): Promise<TextureSource> {
  return options.dir.trim() === '' ? proceduralSource(options) : folderSource({ ...options, dir: options.dir.trim() });
}
