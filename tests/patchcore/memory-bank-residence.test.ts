// The memory bank's two residences on the wasm backend: 'host' (chunks stay in the host Float32Array
// and are uploaded per call) must give exactly what 'device' (chunks as tensors made once) gives,
// for 1-NN and k-NN, across several chunks and query blocks and with duplicate rows (ties); 'auto'
// must pick by backend and size; host mode must not leak tensors.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { mulberry32 } from '../../src/main/core/engine/random';
import { MemoryBank, squaredRowNorms, type MemoryBankOptions } from '../../src/main/core/methods/components/nearest-neighbour';

beforeAll(async () => {
  await initBackend('wasm');
});

function randomRows(n: number, d: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

const d = 12;
const rows = 301;
/** 301 rows, with rows 7 = 150 = 290 and 40 = 41 (ties inside one chunk and across chunks). */
function bankWithDuplicates(): Float32Array {
  const bank = randomRows(rows, d, 11);
  bank.copyWithin(150 * d, 7 * d, 8 * d);
  bank.copyWithin(290 * d, 7 * d, 8 * d);
  bank.copyWithin(41 * d, 40 * d, 41 * d);
  return bank;
}

/** Queries: random rows, plus exact copies of the duplicated bank rows and points equidistant from them. */
function queriesFor(bank: Float32Array): Float32Array {
  const q = randomRows(45, d, 12);
  q.set(bank.subarray(7 * d, 8 * d), 0);
  q.set(bank.subarray(290 * d, 291 * d), 1 * d);
  q.set(bank.subarray(41 * d, 42 * d), 2 * d);
  // Row 3 sits near row 7 (and so equally near 150 and 290): a tie at a non-zero distance.
  for (let j = 0; j < d; j++) q[3 * d + j] = bank[7 * d + j]! + 0.001 * (j % 3);
  return q;
}

// 301 rows in chunks of 64 (5 chunks, the last one short); a block × chunk matrix of 4·64·9 bytes
// makes 9-row query blocks (5 blocks for 45 queries).
const layout: MemoryBankOptions = { chunkRows: 64, maxMatrixBytes: 4 * 64 * 9 };

function banks(data: Float32Array): { device: MemoryBank; host: MemoryBank } {
  return { device: new MemoryBank(data, d, { ...layout, residence: 'device' }), host: new MemoryBank(data, d, { ...layout, residence: 'host' }) };
}

describe('memory bank residence', () => {
  it('host and device modes find the same nearest rows, ties included', async () => {
    const data = bankWithDuplicates();
    const q = queriesFor(data);
    const { device, host } = banks(data);
    const queries = tf.tensor2d(q, [q.length / d, d]);
    try {
      expect(device.residence).toBe('device');
      expect(host.residence).toBe('host');
      const a = await device.nearest(queries);
      const b = await host.nearest(queries);
      expect([...b.indices]).toEqual([...a.indices]);
      for (let i = 0; i < a.distances.length; i++) expect(Math.abs(b.distances[i]! - a.distances[i]!)).toBeLessThanOrEqual(1e-5);
      // Ties keep the earliest row: 7 over 150 and 290, 40 over 41.
      expect([a.indices[0], a.indices[1], a.indices[2], a.indices[3]]).toEqual([7, 7, 40, 7]);
      // And both agree with a float64 brute force on every query that is not a tie.
      const n = q.length / d;
      for (let i = 4; i < n; i++) {
        let best = -1;
        let bestD = Infinity;
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += (q[i * d + j]! - data[r * d + j]!) ** 2;
          if (s < bestD) {
            bestD = s;
            best = r;
          }
        }
        expect(b.indices[i]).toBe(best);
        expect(b.distances[i]).toBeCloseTo(Math.sqrt(bestD), 4);
      }
    } finally {
      queries.dispose();
      device.dispose();
      host.dispose();
    }
  });

  it('host and device modes give the same k nearest rows, ties in index order', async () => {
    const data = bankWithDuplicates();
    const q = queriesFor(data);
    const { device, host } = banks(data);
    const queries = tf.tensor2d(q, [q.length / d, d]);
    try {
      for (const k of [1, 5, 70]) {
        const a = await device.kNearest(queries, k);
        const b = await host.kNearest(queries, k);
        expect(b.k).toBe(k);
        expect([...b.indices]).toEqual([...a.indices]);
        for (let i = 0; i < a.distances.length; i++) expect(Math.abs(b.distances[i]! - a.distances[i]!)).toBeLessThanOrEqual(1e-5);
        if (k >= 5) {
          expect([...b.indices.subarray(0, 3)]).toEqual([7, 150, 290]); // query 0 is row 7, which has two copies
          expect([...b.indices.subarray(2 * k, 2 * k + 2)]).toEqual([40, 41]);
        }
      }
      expect((await host.kNearest(queries, 1000)).k).toBe(rows);
    } finally {
      queries.dispose();
      device.dispose();
      host.dispose();
    }
  });

  it('reads the same rows in both modes', async () => {
    const data = bankWithDuplicates();
    const { device, host } = banks(data);
    try {
      const want = [300, 0, 64, 63, 150, 128];
      const a = await device.rowsAt(want);
      const b = await host.rowsAt(want);
      expect([...b]).toEqual([...a]);
      expect([...b.subarray(0, d)]).toEqual([...data.subarray(300 * d)]);
      await expect(host.rowsAt([rows])).rejects.toThrow(/outside/);
      await expect(device.rowsAt([-1])).rejects.toThrow(/outside/);
    } finally {
      device.dispose();
      host.dispose();
    }
  });

  it('computes host norms as tf.sum(tf.square) does on wasm', async () => {
    const data = randomRows(200, 1536, 3);
    const t = tf.tensor2d(data, [200, 1536]);
    const dev = tf.tidy(() => tf.sum(tf.square(t), 1));
    try {
      expect([...squaredRowNorms(data, 1536)]).toEqual([...(await dev.data())]);
    } finally {
      tf.dispose([t, dev]);
    }
  });

  it("'auto' keeps banks above hostAboveBytes on the host under wasm, the rest on the device", () => {
    const data = randomRows(100, d, 5); // 4,800 bytes
    const above = new MemoryBank(data, d, { hostAboveBytes: 4_799 });
    const at = new MemoryBank(data, d, { hostAboveBytes: 4_800 });
    const byDefault = new MemoryBank(data, d);
    try {
      expect(tf.getBackend()).toBe('wasm');
      expect(above.residence).toBe('host');
      expect(at.residence).toBe('device');
      expect(byDefault.residence).toBe('device'); // default threshold 1 GiB
    } finally {
      above.dispose();
      at.dispose();
      byDefault.dispose();
    }
  });

  it('host mode holds no tensors between calls and leaks none', async () => {
    const data = bankWithDuplicates();
    const q = queriesFor(data);
    const queries = tf.tensor2d(q, [q.length / d, d]);
    try {
      const before = tf.memory().numTensors;
      const host = new MemoryBank(data, d, { ...layout, residence: 'host' });
      expect(tf.memory().numTensors).toBe(before);
      await host.nearest(queries);
      await host.kNearest(queries, 9);
      await host.rowsAt([1, 2, 3]);
      expect(tf.memory().numTensors).toBe(before);
      host.dispose();
      await expect(host.nearest(queries)).rejects.toThrow(/disposed/);
      // The device mode frees its chunks on dispose, too.
      const device = new MemoryBank(data, d, { ...layout, residence: 'device' });
      expect(tf.memory().numTensors).toBe(before + 10); // 5 chunks + 5 norms
      await device.nearest(queries);
      device.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      queries.dispose();
    }
  });
});
