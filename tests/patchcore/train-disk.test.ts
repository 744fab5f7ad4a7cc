// A file-backed feature store is checked against the disk's free space before training starts: a
// run that cannot fit stops at once with the figures, leaking no tensors; one that fits trains.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { diskFreeBytes } from '../../src/main/core/methods/components/half-row-store';
import { loadImageRgb } from '../../src/main/core/methods/components/images';
import { resolvePatchCoreConfig } from '../../src/main/core/methods/patchcore/config';
import { PatchCoreModel } from '../../src/main/core/methods/patchcore/model';
import { trainMemoryBank } from '../../src/main/core/methods/patchcore/train';
import { makeMini } from './helpers';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'patchcore-disk-'));
  await initBackend('wasm');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PatchCore feature store and free disk space', () => {
  it('refuses to start a file store the disk cannot hold, and trains when it can', async () => {
    expect(await diskFreeBytes(dir)).toBeGreaterThan(0);
    const root = await makeMini(join(dir, 'mini'), ['nut_and_bolt'], 4, 2, 64);
    const { config } = resolvePatchCoreConfig('fast', { inputSize: 64, batchSize: 2, trainImages: 'all', featureStore: 'file' });
    const model = await PatchCoreModel.create(config, 'random');
    try {
      const trainDir = join(root, 'nut_and_bolt', 'train', 'good');
      const paths = (await readdir(trainDir)).sort().map((n) => join(trainDir, n));
      const out = join(dir, 'run');
      await rm(out, { recursive: true, force: true });
      await mkdir(out);
      const before = tf.memory().numTensors;
      const asked: string[] = [];
      const full = trainMemoryBank(model, paths, config, { progress: () => undefined }, {
        loadImage: loadImageRgb,
        tmpDir: out,
        freeBytes: async (d) => (asked.push(d), 5 * 2 ** 20),
      });
      await expect(full).rejects.toThrow(/fp16 features of 4 training images need 0\.0 GiB \(\+1\.0 GiB margin\) in .*run, whose disk has 0\.0 GiB free/);
      expect(asked).toEqual([out]);
      expect(tf.memory().numTensors).toBe(before);
      expect(await readdir(out)).toEqual([]);
      const trained = await trainMemoryBank(model, paths, config, { progress: () => undefined }, { loadImage: loadImageRgb, tmpDir: out });
      expect(trained.store.where).toBe('file');
      expect(trained.rows).toBeGreaterThan(0);
      expect(await readdir(out)).toEqual([]); // the store's temp file is gone
    } finally {
      model.dispose();
    }
  });
});
