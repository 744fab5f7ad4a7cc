/**
 * Lazily made thumbnails for the Library grid, cached in `<workspace>/thumbs/`.
 *
 * Keyed by content: the sha256 the importer stored, or (demo workspaces and samples not yet
 * hashed) the absolute path with the file's size and mtime, so an edited file gets a new
 * thumbnail and an unchanged one is never decoded twice. The key also folds in the size and
 * format, so changing either never serves a stale file. Decoding and resizing run in sharp
 * (libvips on libuv's thread pool), so the main thread stays free; a small limiter bounds how
 * many images are in flight, and concurrent requests for one key share one render.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { THUMB_MAX_SIDE, type ThumbnailItem } from '../../../shared/calls/library';

export const THUMB_FORMAT = 'webp';
/** Bumped when the rendering changes, so older cached files are not served. */
export const THUMB_VERSION = 1;

export interface ThumbSource {
  id: number;
  /** Absolute path of the image. */
  path: string;
  contentHash: string | null;
  fileSize: number | null;
  mtimeMs: number | null;
}

/** Renders one thumbnail of `src` into the file `dest` (which must not be half-written on failure). */
export type ThumbRenderer = (src: string, dest: string) => Promise<void>;

/** sharp: fit inside 256×256 keeping the aspect ratio, never enlarge, lossy webp at a quick effort. */
export const sharpRenderer: ThumbRenderer = async (src, dest) => {
  await sharp(src, { failOn: 'error' })
    .resize({ width: THUMB_MAX_SIDE, height: THUMB_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort: 2 })
    .toFile(dest);
};

/** Bounds concurrent async work; the queue is FIFO. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly concurrency: number) {
    if (!(concurrency >= 1)) throw new RangeError('concurrency must be at least 1');
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export interface ThumbnailCacheOptions {
  /** The workspace's thumbs folder. */
  dir: string;
  /** Images rendered at once (default 4, libuv's default thread-pool size). */
  concurrency?: number;
  render?: ThumbRenderer;
}

export class ThumbnailCache {
  private readonly dir: string;
  private readonly limiter: Limiter;
  private readonly render: ThumbRenderer;
  private readonly inFlight = new Map<string, Promise<string>>();
  /** Failures by key, so a broken file is not decoded again at every scroll. */
  private readonly failed = new Map<string, string>();

  constructor(options: ThumbnailCacheOptions) {
    this.dir = options.dir;
    this.limiter = new Limiter(options.concurrency ?? 4);
    this.render = options.render ?? sharpRenderer;
  }

  /** The cache file of a key: two-level fan-out keeps folders small at 105,000 files. */
  pathOf(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.${THUMB_FORMAT}`);
  }

  /** The thumbnail of each source (made if missing), in the order given. Never throws per item. */
  async get(sources: readonly ThumbSource[]): Promise<ThumbnailItem[]> {
    return Promise.all(sources.map((s) => this.one(s)));
  }

  private async one(source: ThumbSource): Promise<ThumbnailItem> {
    let key: string;
    try {
      key = await thumbKey(source);
    } catch (error) {
      return { id: source.id, path: null, error: `cannot read ${source.path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
    const failure = this.failed.get(key);
    if (failure !== undefined) return { id: source.id, path: null, error: failure };
    const dest = this.pathOf(key);
    if (await exists(dest)) return { id: source.id, path: dest, error: null };
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.limiter.run(() => this.make(source.path, dest)).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    try {
      return { id: source.id, path: await pending, error: null };
    } catch (error) {
      const message = `cannot make a thumbnail of ${source.path}: ${(error as Error).message}`;
      this.failed.set(key, message);
      return { id: source.id, path: null, error: message };
    }
  }

  private async make(src: string, dest: string): Promise<string> {
    await mkdir(dirname(dest), { recursive: true });
    // Temp file then rename: a reader never sees half a thumbnail, and a crash leaves only a .tmp.
    const tmp = `${dest}.${randomBytes(5).toString('hex')}.tmp`;
    try {
      await this.render(src, tmp);
      await rename(tmp, dest);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    return dest;
  }
}

/** The cache key of a source: content hash when known, else path + size + mtime (read now if unknown). */
export async function thumbKey(source: ThumbSource): Promise<string> {
  let identity: string;
  if (source.contentHash) {
    identity = `sha256:${source.contentHash}`;
  } else {
    let size = source.fileSize;
    let mtime = source.mtimeMs;
    if (size === null || mtime === null) {
      const info = await stat(source.path);
      size = info.size;
      mtime = Math.trunc(info.mtimeMs);
    }
    identity = `file:${source.path}:${size}:${mtime}`;
  }
  return createHash('sha256').update(`v${THUMB_VERSION}|${THUMB_MAX_SIDE}|${THUMB_FORMAT}|${identity}`).digest('hex').slice(0, 40);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
