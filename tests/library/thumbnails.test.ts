/**
 * Thumbnails of real MIAD-mini images: made lazily with sharp into <workspace>/thumbs, keyed by
 * content, reused, bounded in concurrency, and a broken file gets an error item, not a failure.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { createLab, type Lab } from '../../src/main/core/lab';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { libraryOf } from '../../src/main/core/handlers/library';
import { Limiter, ThumbnailCache, thumbKey, type ThumbRenderer } from '../../src/main/core/library/thumbnails';
import { THUMB_MAX_SIDE } from '../../src/shared/calls/library';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let lab: Lab;
let root: string;

beforeAll(async () => {
  const base = await tmp();
  root = join(base, 'mini');
  // 300 px images, so the thumbnail really is a reduction to 256.
  const report = await generateMiadMini({ outDir: root, scenarios: ['metal_welding', 'wind_turbine'], train: 2, test: 4, size: 300, seed: 3 });
  lab = await createLab(join(base, 'ws'), { create: true });
  lab.addDataset(
    { name: 'mini', root, kind: 'miad-mini' },
    report.scenarios.flatMap((s) =>
      s.files.map((f) => ({ scenario: f.scenario, split: f.split, label: f.defect ?? 'good', relPath: f.relPath, maskRelPath: f.maskRelPath, width: f.width, height: f.height })),
    ),
  );
});

afterAll(() => lab?.close());

describe('library thumbnails', () => {
  it('makes 256 px webp thumbnails under <workspace>/thumbs and reuses them', async () => {
    const library = libraryOf(lab);
    const page = library.query({}, { key: 'default', desc: false }, 0, 100);
    expect(page.total).toBe(12);
    const ids = page.rows.map((r) => r.id);
    const first = await library.thumbnails(ids);
    expect(first.map((t) => t.error)).toEqual(ids.map(() => null));
    for (const item of first) {
      expect(item.path!.startsWith(join(lab.dir, 'thumbs'))).toBe(true);
      const meta = await sharp(item.path!).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width!, meta.height!)).toBe(THUMB_MAX_SIDE);
    }
    // A thumbnail looks like its image: mean colour close to the source's.
    const srcStats = await sharp(join(root, page.rows[0]!.relPath)).stats();
    const thumbStats = await sharp(first[0]!.path!).stats();
    for (let c = 0; c < 3; c++) expect(Math.abs(srcStats.channels[c]!.mean - thumbStats.channels[c]!.mean)).toBeLessThan(6);
    const mtimes = await Promise.all(first.map(async (t) => (await stat(t.path!)).mtimeMs));
    const again = await library.thumbnails(ids);
    expect(again.map((t) => t.path)).toEqual(first.map((t) => t.path));
    expect(await Promise.all(again.map(async (t) => (await stat(t.path!)).mtimeMs))).toEqual(mtimes);
    // No temp files left behind.
    const all = (await readdir(join(lab.dir, 'thumbs'), { recursive: true })).map(String);
    expect(all.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keys by path, size and mtime without a hash, by the hash when there is one', async () => {
    const path = join(root, 'wind_turbine/train/good/000.png');
    const info = await stat(path);
    const a = await thumbKey({ id: 1, path, contentHash: null, fileSize: null, mtimeMs: null });
    expect(await thumbKey({ id: 2, path, contentHash: null, fileSize: info.size, mtimeMs: Math.trunc(info.mtimeMs) })).toBe(a);
    await utimes(path, new Date(), new Date(Date.now() + 5000));
    expect(await thumbKey({ id: 1, path, contentHash: null, fileSize: null, mtimeMs: null })).not.toBe(a);
    const h1 = await thumbKey({ id: 1, path: '/a.png', contentHash: 'ab'.repeat(32), fileSize: 1, mtimeMs: 1 });
    expect(await thumbKey({ id: 9, path: '/elsewhere/b.png', contentHash: 'ab'.repeat(32), fileSize: 5, mtimeMs: 5 })).toBe(h1);
  });

  it('gives an error item for a truncated image and for an unknown id, and carries on', async () => {
    const library = libraryOf(lab);
    const rows = library.query({ scenario: ['metal_welding'] }, { key: 'default', desc: false }, 0, 2).rows;
    const broken = join(root, rows[0]!.relPath);
    const bytes = await readFile(broken);
    await writeFile(broken, bytes.subarray(0, 60));
    const items = await library.thumbnails([rows[0]!.id, 999_999, rows[1]!.id]);
    expect(items[0]!.path).toBeNull();
    expect(items[0]!.error).toMatch(/cannot make a thumbnail/);
    expect(items[1]).toEqual({ id: 999_999, path: null, error: 'no sample with id 999999 in this workspace' });
    expect(items[2]!.error).toBeNull();
    expect(items[2]!.path).not.toBeNull();
  });

  it('renders at most `concurrency` at once and renders a shared key once', async () => {
    const dir = await tmp();
    let active = 0;
    let peak = 0;
    const rendered: string[] = [];
    const render: ThumbRenderer = async (src, dest) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      rendered.push(src);
      await writeFile(dest, 'x');
      active--;
    };
    const cache = new ThumbnailCache({ dir, concurrency: 2, render });
    const sources = Array.from({ length: 10 }, (_, i) => ({ id: i, path: `/img/${i % 6}.png`, contentHash: `h${i % 6}`, fileSize: 1, mtimeMs: 1 }));
    const items = await cache.get(sources);
    expect(items.every((t) => t.error === null)).toBe(true);
    expect(peak).toBe(2);
    expect(rendered.sort()).toEqual(['/img/0.png', '/img/1.png', '/img/2.png', '/img/3.png', '/img/4.png', '/img/5.png']);
    expect(() => new Limiter(0)).toThrow(RangeError);
  });
});
