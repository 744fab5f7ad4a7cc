// The frozen-feature cache on real files: fp16 round trip, every part of the key separates entries,
// damaged entries are misses (never wrong features), a writer SIGKILLed mid-flight leaves only
// whole entries, LRU eviction under the cap, and hit/miss counts summed over processes.
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FeatureCache, readStats, type FeatureKey } from '../../src/main/core/engine/feature-cache';
import { float32ToHalf, halfToFloat32 } from '../../src/main/core/evaluation/float16';
import { useTmpDirs } from '../helpers/tmp';
import { writerKey, writerLayers } from './fixtures/cache-data';

const tmp = useTmpDirs();

/** Every value as fp16 rounding gives it (what the cache must return). */
function rounded(data: Float32Array): Float32Array {
  return halfToFloat32(float32ToHalf(data));
}

async function entryFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const shard of await readdir(join(dir, 'entries'))) for (const f of await readdir(join(dir, 'entries', shard))) out.push(join(dir, 'entries', shard, f));
  return out;
}

describe('FeatureCache', () => {
  it('stores fp16 and returns exactly the rounded features; every key part separates entries', async () => {
    const dir = await tmp();
    const cache = await FeatureCache.open(dir);
    const key = writerKey(1);
    const layers = writerLayers(1);
    expect(await cache.get(key)).toBeNull();
    const stored = await cache.put(key, layers);
    const back = await cache.get(key);
    expect(back).not.toBeNull();
    for (let l = 0; l < layers.length; l++) {
      expect(back![l]!.name).toBe(layers[l]!.name);
      expect(back![l]!.shape).toEqual(layers[l]!.shape);
      expect(back![l]!.data).toEqual(rounded(layers[l]!.data));
      expect(stored[l]!.data).toEqual(back![l]!.data);
      // within fp16 precision of the float32 input
      const d = back![l]!.data;
      const s = layers[l]!.data;
      for (let i = 0; i < s.length; i++) expect(Math.abs(d[i]! - s[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(s[i]!) * 2 ** -11, 2 ** -24));
    }
    // fp16 on disk: about 2 bytes per value plus a small header
    const [file] = await entryFiles(dir);
    const values = 8 * 8 * 32 + 4 * 4 * 64;
    expect((await stat(file!)).size).toBeGreaterThanOrEqual(values * 2);
    expect((await stat(file!)).size).toBeLessThan(values * 2 + 512);

    const variants: Partial<FeatureKey>[] = [{ backbone: 'wide_resnet50_2' }, { weights: 'random:1' }, { inputSize: 65 }, { layers: ['layer3', 'layer2'] }, { image: 'other' }, { preprocess: 'test/2' }];
    for (const v of variants) expect(await cache.get({ ...key, ...v }), JSON.stringify(v)).toBeNull();
    expect(cache.session).toMatchObject({ hits: 1, misses: 1 + variants.length });
    await expect(cache.put(key, layers.slice(0, 1))).rejects.toThrow(/do not match/);
  });

  it('a truncated, flipped or foreign entry is a miss and is removed, never wrong features', async () => {
    const dir = await tmp();
    const cache = await FeatureCache.open(dir);
    for (let i = 0; i < 4; i++) await cache.put(writerKey(i), writerLayers(i));
    const bytes = await readFile(cache.entryPath(writerKey(0)));
    await writeFile(cache.entryPath(writerKey(0)), bytes.subarray(0, bytes.length - 100)); // truncated
    const flipped = Buffer.from(await readFile(cache.entryPath(writerKey(1))));
    flipped[flipped.length - 7] = flipped[flipped.length - 7]! ^ 0x40;
    await writeFile(cache.entryPath(writerKey(1)), flipped); // one payload bit flipped: CRC
    await writeFile(cache.entryPath(writerKey(2)), await readFile(cache.entryPath(writerKey(3)))); // another key's entry
    for (const i of [0, 1, 2]) {
      expect(await cache.get(writerKey(i)), `entry ${i}`).toBeNull();
      await expect(stat(cache.entryPath(writerKey(i)))).rejects.toThrow();
    }
    expect((await cache.get(writerKey(3)))![0]!.data).toEqual(rounded(writerLayers(3)[0]!.data));
  });

  it('a failed write does not fail the caller: the rounded features come back and the failure is counted', async () => {
    const dir = await tmp();
    const cache = await FeatureCache.open(dir);
    await rm(join(dir, 'tmp'), { recursive: true });
    await writeFile(join(dir, 'tmp'), 'not a folder'); // every temp file write now fails (ENOTDIR)
    const stored = await cache.put(writerKey(5), writerLayers(5));
    expect(stored[1]!.data).toEqual(rounded(writerLayers(5)[1]!.data));
    expect(cache.session).toMatchObject({ writeFailures: 1, bytesWritten: 0 });
    expect(cache.session.lastWriteError).toMatch(/ENOTDIR/);
    expect(await cache.get(writerKey(5))).toBeNull();
  });

  it('a writer killed with SIGKILL at any moment leaves whole entries or misses, and readable stats', async () => {
    const dir = await tmp();
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'cache-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    // Let it write a few hundred entries, then kill it mid-write.
    for (let n = 0; n < 600; n++) {
      if ((await readdir(join(dir, 'entries'))).length >= 40) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const cache = await FeatureCache.open(dir);
    let hits = 0;
    for (let i = 0; i < 400; i++) {
      const got = await cache.get(writerKey(i));
      if (!got) continue;
      hits++;
      const want = writerLayers(i);
      expect(got[0]!.data).toEqual(rounded(want[0]!.data));
      expect(got[1]!.data).toEqual(rounded(want[1]!.data));
    }
    expect(hits).toBeGreaterThan(20);
    const stats = await readStats(dir);
    expect(stats.entries).toBe(hits);
    expect(stats.misses).toBeGreaterThan(0);
  });

  it('evicts least recently used entries to stay under the cap; a hit refreshes an entry', async () => {
    const dir = await tmp();
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const now = () => new Date((clock += 1000));
    const probe = await FeatureCache.open(join(dir, 'probe'));
    await probe.put(writerKey(0), writerLayers(0));
    const entryBytes = (await stat(probe.entryPath(writerKey(0)))).size;

    const cache = await FeatureCache.open(join(dir, 'c'), { capBytes: entryBytes * 5, now });
    for (let i = 0; i < 5; i++) await cache.put(writerKey(i), writerLayers(i));
    expect(await cache.get(writerKey(0))).not.toBeNull(); // 0 is now the most recently used
    await cache.put(writerKey(5), writerLayers(5)); // over the cap: evict down to 90 % (4 entries)
    const left = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => (await stat(cache.entryPath(writerKey(i))).catch(() => null)) !== null));
    expect(left).toEqual([true, false, false, true, true, true]);
    expect(cache.session.evicted).toBe(2);
    const stats = await cache.stats();
    expect(stats).toMatchObject({ entries: 4, bytes: 4 * entryBytes, capBytes: entryBytes * 5 });

    // A stored cap applies to every process that opens the cache later.
    await cache.setCap(entryBytes * 2);
    expect((await cache.stats()).entries).toBe(1);
    expect((await FeatureCache.open(join(dir, 'c'))).capBytes).toBe(entryBytes * 2);
  });

  it('hits and misses add up over processes; clear empties entries, stray temp files and counts', async () => {
    const dir = await tmp();
    const a = await FeatureCache.open(dir);
    const b = await FeatureCache.open(dir);
    await a.get(writerKey(1));
    await a.put(writerKey(1), writerLayers(1));
    await b.get(writerKey(1));
    await b.get(writerKey(1));
    await b.get(writerKey(2));
    await a.close();
    await b.close();
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await writeFile(join(dir, 'tmp', 'dead.part'), 'half an entry');
    // a torn last line of the counter log is skipped
    await writeFile(join(dir, 'stats.log'), (await readFile(join(dir, 'stats.log'), 'utf8')) + '{"h":4');
    expect(await readStats(dir)).toMatchObject({ entries: 1, hits: 2, misses: 2 });
    const main = await FeatureCache.open(dir);
    expect(await main.clear()).toMatchObject({ entries: 1 });
    expect(await readStats(dir)).toMatchObject({ entries: 0, bytes: 0, hits: 0, misses: 0 });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await readStats(join(dir, 'missing'))).toMatchObject({ entries: 0, hits: 0 });
  });
});
