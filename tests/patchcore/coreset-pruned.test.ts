// The pruned greedy k-center must pick exactly the rows the plain host greedy picks, in the same
// order, whatever the data: spread or clustered, with duplicate rows (ties), dims that are not a
// multiple of 4 or of the early-exit block, several chunks, tiny and large pivot caps, and a coreset
// as large as the data. It must also really prune (fewer distances than rows × picks) and stop on abort.
import { describe, it, expect } from 'vitest';
import { mulberry32 } from '../../src/main/core/engine/random';
import { greedyKCenterHost, squaredDistance } from '../../src/main/core/methods/components/coreset';
import { greedyKCenterPruned, squaredDistanceBelow, newPrunedGreedyStats } from '../../src/main/core/methods/components/coreset-pruned';


function uniformRows(n: number, d: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

/** Gaussian blobs of different spreads, the last `dupes` rows copies of the first ones. */
function clusteredRows(n: number, d: number, seed: number, dupes = 0): Float32Array {
  const r = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: 12 }, () => Float32Array.from({ length: d }, () => gauss() * 4));
  const rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[Math.floor(r() * centres.length)]!;
    const spread = 0.2 + r();
    for (let j = 0; j < d; j++) rows[i * d + j] = c[j]! + gauss() * spread;
  }
  for (let i = 0; i < dupes; i++) rows.copyWithin((n - 1 - i) * d, i * d, (i + 1) * d);
  return rows;
}

/** Splits rows into chunks of the given row counts (the rest in a last chunk). */
function split(rows: Float32Array, d: number, counts: number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const c of counts) {
    out.push(rows.subarray(at * d, (at + c) * d));
    at += c;
  }
  if (at * d < rows.length) out.push(rows.subarray(at * d));
  return out;
}

describe('pruned greedy k-center', () => {
  const cases = [
    { name: 'uniform, 16 dims', rows: () => uniformRows(1500, 16, 1), d: 16, count: 150, chunks: [400, 700] },
    { name: 'clustered with duplicates, 128 dims', rows: () => clusteredRows(2000, 128, 2, 40), d: 128, count: 300, chunks: [999] },
    { name: 'clustered, 33 dims (block and tail)', rows: () => clusteredRows(1200, 33, 3), d: 33, count: 240, chunks: [100, 100, 100] },
    { name: 'clustered, 3 dims', rows: () => clusteredRows(900, 3, 4, 10), d: 3, count: 180, chunks: [] },
  ];
  for (const c of cases) {
    it(`picks what the plain greedy picks: ${c.name}`, async () => {
      const rows = c.rows();
      const chunks = split(rows, c.d, c.chunks);
      for (const seed of [0, 7]) {
        const expected = await greedyKCenterHost(chunks, c.d, c.count, { seed });
        for (const maxPivots of [undefined, 1, 3, 64]) {
          for (const anchors of [1, 4]) {
            const got = await greedyKCenterPruned(chunks, c.d, c.count, { seed, maxPivots, anchors });
            expect([...got], `seed ${seed}, maxPivots ${maxPivots}, anchors ${anchors}`).toEqual([...expected]);
          }
          // Reordering permutes the rows of (copies of) the chunks in place.
          const copies = chunks.map((ch) => ch.slice());
          const got = await greedyKCenterPruned(copies, c.d, c.count, { seed, maxPivots, reorder: true });
          expect([...got], `seed ${seed}, maxPivots ${maxPivots}, reordered`).toEqual([...expected]);
        }
      }
    });
  }

  it('picks what the plain greedy picks when the coreset is the whole set, duplicates included', async () => {
    const d = 8;
    const rows = clusteredRows(300, d, 5, 60);
    const expected = await greedyKCenterHost([rows], d, 300, { seed: 2 });
    const got = await greedyKCenterPruned([rows], d, 300, { seed: 2 });
    expect([...got]).toEqual([...expected]);
    expect([...(await greedyKCenterPruned([rows.slice()], d, 300, { seed: 2, reorder: true, maxPivots: 8 }))]).toEqual([...expected]);
  });

  it('reorders the chunks into a permutation of their rows, keeping each chunk’s size', async () => {
    const d = 5;
    const rows = clusteredRows(700, d, 8, 20);
    const chunks = split(rows, d, [250, 250]);
    const copies = chunks.map((ch) => ch.slice());
    await greedyKCenterPruned(copies, d, 200, { seed: 3, reorder: true, maxPivots: 40 });
    expect(copies.map((ch) => ch.length)).toEqual(chunks.map((ch) => ch.length));
    const key = (all: Float32Array[]) => all.flatMap((ch) => Array.from({ length: ch.length / d }, (_, r) => Array.from(ch.subarray(r * d, (r + 1) * d)).join(','))).sort();
    expect(key(copies)).toEqual(key(chunks));
    expect(copies.some((ch, k) => ch.some((v, i) => v !== chunks[k]![i]))).toBe(true);
  });

  it('computes far fewer distances than rows × picks on clustered data', async () => {
    const d = 32;
    const rows = clusteredRows(6000, d, 6);
    const stats = newPrunedGreedyStats();
    const picked = await greedyKCenterPruned([rows.slice()], d, 600, { seed: 1, stats, reorder: true });
    expect([...picked]).toEqual([...(await greedyKCenterHost([rows], d, 600, { seed: 1 }))]);
    expect(stats.distances).toBeLessThan((6000 * 601) / 4);
    expect(stats.regroups).toBeGreaterThan(1);
    expect(stats.pivots).toBeGreaterThan(1);
    expect(stats.updates).toBeGreaterThan(0);
  });

  it('gives up a distance early only when it has reached the limit, else returns the full sum', () => {
    const r = mulberry32(9);
    for (const d of [3, 32, 33, 100, 128]) {
      const rows = Float32Array.from({ length: 2 * d }, () => r() * 2 - 1);
      const centre = rows.slice(d);
      const full = squaredDistance(rows, 0, centre, d, d - (d % 4));
      expect(squaredDistanceBelow(rows, 0, centre, d, d - (d % 4), full * 2)).toBe(full);
      expect(squaredDistanceBelow(rows, 0, centre, d, d - (d % 4), Infinity)).toBe(full);
      const early = squaredDistanceBelow(rows, 0, centre, d, d - (d % 4), full / 4);
      expect(early).toBeGreaterThanOrEqual(full / 4);
      expect(early).toBeLessThanOrEqual(full);
    }
  });

  it('refuses a bad count or ragged chunks, and stops when its signal is aborted', async () => {
    const rows = uniformRows(3000, 4, 1);
    await expect(greedyKCenterPruned([rows], 4, 3001, { seed: 0 })).rejects.toThrow(/coreset of 3001 rows asked from 3000/);
    await expect(greedyKCenterPruned([rows.subarray(1)], 4, 3, { seed: 0 })).rejects.toThrow(/not made of 4-dim rows/);
    expect((await greedyKCenterPruned([rows], 4, 0, { seed: 0 })).length).toBe(0);
    const ac = new AbortController();
    let calls = 0;
    const run = greedyKCenterPruned([rows], 4, 2500, {
      seed: 1,
      signal: ac.signal,
      progressEvery: 10,
      onProgress: () => {
        if (++calls === 3) ac.abort();
      },
    });
    await expect(run).rejects.toThrow(/cancel|abort/i);
    expect(calls).toBe(3);
  });
});
