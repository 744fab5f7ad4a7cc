// The building blocks of PatchCore: the coreset (JL dims, projection, greedy selection on host and
// device agreeing with a brute-force reference), the float16 row store (memory and file), the
// 3×3 local average at the borders, nearest-neighbour search in chunks, and the presets.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { mulberry32 } from '../../src/main/core/engine/random';
import { halfToFloat32, float32ToHalf } from '../../src/main/core/evaluation/float16';
import { greedyKCenter, greedyKCenterHost, jlMinDim, sparseRandomProjection } from '../../src/main/core/methods/components/coreset';
import { createHalfRowStore } from '../../src/main/core/methods/components/half-row-store';
import { localAverage3x3 } from '../../src/main/core/methods/components/local-average';
import { MemoryBank } from '../../src/main/core/methods/components/nearest-neighbour';
import { resolvePatchCoreConfig } from '../../src/main/core/methods/patchcore/config';
import { getMethod, methodNames } from '../../src/main/core/methods/registry';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'patchcore-components-'));
  await initBackend('wasm');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function randomRows(n: number, d: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

/** The textbook greedy k-center (anomalib's loop), in float64, from the same start row. */
function bruteGreedy(rows: Float32Array, d: number, count: number, start: number): number[] {
  const n = rows.length / d;
  const min = new Float64Array(n).fill(Infinity);
  const out: number[] = [];
  let cur = start;
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (rows[r * d + j]! - rows[cur * d + j]!) ** 2;
      min[r] = Math.min(min[r]!, s);
    }
    let best = 0;
    for (let r = 1; r < n; r++) if (min[r]! > min[best]!) best = r;
    out.push(best);
    cur = best;
  }
  return out;
}

describe('coreset', () => {
  it('uses anomalib’s Johnson–Lindenstrauss dims at eps 0.9', () => {
    // 4·ln(n) / (0.405 − 0.243): sklearn's johnson_lindenstrauss_min_dim(n, eps=0.9)
    expect(jlMinDim(100_000, 0.9)).toBe(284);
    expect(jlMinDim(7_840_000, 0.9)).toBe(391);
    expect(jlMinDim(1000, 0.9)).toBe(170);
  });

  it('draws a sparse ±s projection with density 1/√d, seeded', () => {
    const inDims = 400;
    const dims = 50;
    const m = sparseRandomProjection(inDims, dims, 3);
    const value = Math.sqrt(Math.sqrt(inDims)) / Math.sqrt(dims);
    let nonzero = 0;
    for (const v of m) {
      if (v !== 0) {
        nonzero++;
        expect(Math.abs(Math.abs(v) - value)).toBeLessThan(1e-6);
      }
    }
    expect(nonzero / m.length).toBeGreaterThan(0.04);
    expect(nonzero / m.length).toBeLessThan(0.06);
    expect(sparseRandomProjection(inDims, dims, 3)).toEqual(m);
    expect(sparseRandomProjection(inDims, dims, 4)).not.toEqual(m);
  });

  it('host and device greedy pick the rows the textbook algorithm picks', async () => {
    const d = 7;
    const rows = randomRows(300, d, 9);
    const seed = 21;
    const start = Math.floor(mulberry32(seed)() * 300);
    const expected = bruteGreedy(rows, d, 40, start);
    const host = await greedyKCenterHost([rows.subarray(0, 120 * d), rows.subarray(120 * d)], d, 40, { seed });
    expect([...host]).toEqual(expected);
    const chunks = [tf.tensor2d(rows.subarray(0, 100 * d), [100, d]), tf.tensor2d(rows.subarray(100 * d), [200, d])];
    const before = tf.memory().numTensors;
    try {
      const device = await greedyKCenter(chunks, 40, { seed });
      expect([...device]).toEqual(expected);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      tf.dispose(chunks);
    }
    expect(new Set(expected).size).toBe(40);
  });

  it('stops when its signal is aborted', async () => {
    const rows = randomRows(2000, 4, 1);
    const ac = new AbortController();
    let calls = 0;
    const run = greedyKCenterHost([rows], 4, 1500, {
      seed: 1,
      signal: ac.signal,
      progressEvery: 10,
      onProgress: () => {
        if (++calls === 3) ac.abort();
      },
    });
    await expect(run).rejects.toThrow(/cancel|abort/i);
  });
});

describe('float16 row store', () => {
  for (const where of ['memory', 'file'] as const) {
    it(`${where}: gathers rows in the order asked, rounded to half`, async () => {
      const w = 5;
      const store = await createHalfRowStore(w, where, join(dir, `rows-${where}.f16`));
      const all = randomRows(40_000, w, 2);
      // appended in uneven pieces, across in-memory chunk boundaries
      await store.append(all.subarray(0, 7 * w));
      await store.append(all.subarray(7 * w, 20_000 * w));
      await store.append(all.subarray(20_000 * w));
      expect(store.rows).toBe(40_000);
      expect(store.bytes).toBe(40_000 * w * 2);
      if (where === 'file') expect((await stat(join(dir, `rows-${where}.f16`))).size).toBe(40_000 * w * 2);
      const idx = [39_999, 0, 16_384, 16_383, 5, 6, 7, 20_000, 5];
      const got = await store.gather(idx);
      const expected = new Float32Array(idx.length * w);
      idx.forEach((r, i) => expected.set(halfToFloat32(float32ToHalf(all.subarray(r * w, (r + 1) * w))), i * w));
      expect(got).toEqual(expected);
      await expect(store.gather([40_000])).rejects.toThrow(/out of range/);
      await store.close();
      if (where === 'file') await expect(stat(join(dir, `rows-${where}.f16`))).rejects.toThrow();
    });
  }
});

describe('local 3×3 average', () => {
  it('counts the zero padding in the divisor, as torch AvgPool2d(3, 1, 1)', () => {
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const y = localAverage3x3(x);
    const v = y.dataSync();
    expect(v[4]).toBeCloseTo(45 / 9, 6); // centre: the full window
    expect(v[0]).toBeCloseTo((1 + 2 + 4 + 5) / 9, 6); // corner: 4 values over 9, not over 4
    expect(v[1]).toBeCloseTo((1 + 2 + 3 + 4 + 5 + 6) / 9, 6);
    tf.dispose([x, y]);
  });
});

describe('nearest-neighbour search', () => {
  it('finds the exact neighbours across chunks and query blocks', async () => {
    const d = 6;
    const bankRows = randomRows(257, d, 4);
    const q = randomRows(33, d, 5);
    const bank = new MemoryBank(bankRows, d, { chunkRows: 40, maxMatrixBytes: 4 * 40 * 7 });
    const queries = tf.tensor2d(q, [33, d]);
    try {
      const nn = await bank.nearest(queries);
      const knn = await bank.kNearest(queries, 5);
      for (let i = 0; i < 33; i++) {
        const all = Array.from({ length: 257 }, (_, r) => {
          let s = 0;
          for (let j = 0; j < d; j++) s += (q[i * d + j]! - bankRows[r * d + j]!) ** 2;
          return { r, dist: Math.sqrt(s) };
        }).sort((a, b) => a.dist - b.dist);
        expect(nn.indices[i]).toBe(all[0]!.r);
        expect(nn.distances[i]).toBeCloseTo(all[0]!.dist, 4);
        expect([...knn.indices.subarray(i * 5, i * 5 + 5)]).toEqual(all.slice(0, 5).map((a) => a.r));
      }
      expect([...(await bank.rowsAt([256, 0]))]).toEqual([...bankRows.subarray(256 * d), ...bankRows.subarray(0, d)]);
    } finally {
      queries.dispose();
      bank.dispose();
    }
  });
});

describe('presets', () => {
  it('marks every value with its source and applies validated overrides', () => {
    const full = resolvePatchCoreConfig('full');
    expect(full.config).toMatchObject({ arch: 'wide_resnet50_2', layers: ['layer2', 'layer3'], inputSize: 224, batchSize: 32, trainImages: 'all', coresetRatio: 0.1, numNeighbors: 9, sigma: 4 });
    expect(full.sources).toMatchObject({ inputSize: 'paper A.2.2', trainImages: 'ours', coresetRatio: 'anomalib', projectionDims: 'PatchCore code' });
    const paper = resolvePatchCoreConfig('paper');
    expect(paper.config.trainImages).toBe(2000);
    expect(paper.sources.trainImages).toBe('paper A.2.2');
    expect(paper.config.projectionDims).toBe('jl');
    const fast = resolvePatchCoreConfig('fast', { inputSize: 64 });
    expect(fast.config.arch).toBe('resnet18');
    expect(fast.config.inputSize).toBe(64);
    expect(fast.sources.inputSize).toBe('override');
    expect(() => resolvePatchCoreConfig('fast', { coresetRatio: 0 })).toThrow(/coresetRatio/);
    expect(() => resolvePatchCoreConfig('fast', { bogus: 1 })).toThrow(/PatchCore overrides/);
    expect(() => resolvePatchCoreConfig('huge')).toThrow(/unknown PatchCore preset/);
  });

  it('is reachable through the method registry', async () => {
    expect(methodNames()).toContain('patchcore');
    const m = getMethod('patchcore');
    expect(m.presets).toEqual(['full', 'paper', 'fast']);
    expect((await m.resolveConfig('paper', {})).sources.trainImages).toBe('paper A.2.2');
    expect(() => getMethod('nope')).toThrow(/unknown method/);
  });
});
