// PatchCore through the frozen-feature cache, on MIAD-mini with random resnet18 weights on wasm:
// the cached features equal the uncached ones within fp16 precision, a second run of the same
// config hits for every image (train and test) and gives the very same scores, and the scores
// stay within fp16 noise of an uncached run.
import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { FeatureCache, readStats } from '../../src/main/core/engine/feature-cache';
import { FeatureExtractor } from '../../src/main/core/methods/components/feature-extractor';
import { runPatchCore } from '../../src/main/core/methods/patchcore/pipeline';
import { useTmpDirs } from '../helpers/tmp';
import { makeMini } from './helpers';

const tmp = useTmpDirs();
let root = '';
let work = '';
beforeAll(async () => {
  await initBackend('wasm');
  work = await tmp();
  root = await makeMini(join(work, 'mini'), ['nut_and_bolt'], 10, 10, 64, 5);
});

const OVERRIDES = { inputSize: 64, trainImages: 'all', batchSize: 4 };
const quiet = { progress: () => undefined };

describe('frozen-feature cache in PatchCore', () => {
  it('extractFiles: cached features equal the uncached ones within fp16 precision, hit or miss', async () => {
    const paths = ['000', '001', '002'].map((n) => join(root, 'nut_and_bolt', 'train', 'good', `${n}.png`));
    const extractor = await FeatureExtractor.create('resnet18', ['layer2', 'layer3'], 'random', 3);
    const cache = await FeatureCache.open(join(work, 'cache-extract'));
    try {
      const before = tf.memory().numTensors;
      const plain = await extractor.extractFiles(paths, 64);
      const first = await extractor.extractFiles(paths.slice(0, 2), 64, { cache }); // misses, stored
      const mixed = await extractor.extractFiles(paths, 64, { cache }); // two hits, one miss
      expect(first.counts).toEqual({ hits: 0, misses: 2 });
      expect(mixed.counts).toEqual({ hits: 2, misses: 1 });
      for (const layer of ['layer2', 'layer3']) {
        const a = await plain.features[layer]!.data();
        const b = await mixed.features[layer]!.data();
        const f = await first.features[layer]!.data();
        expect(b.length).toBe(a.length);
        let worst = 0;
        for (let i = 0; i < a.length; i++) {
          const tol = Math.max(Math.abs(a[i]!) * 2 ** -11, 2 ** -24);
          worst = Math.max(worst, Math.abs(b[i]! - a[i]!) / tol);
        }
        expect(worst, layer).toBeLessThanOrEqual(1);
        // what a hit returns is bit-identical to what the miss returned
        expect(Array.from(b.subarray(0, f.length))).toEqual(Array.from(f));
      }
      for (const r of [plain, first, mixed]) tf.dispose(Object.values(r.features));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      extractor.dispose();
    }
  }, 180_000);

  it('a second run of the same config hits for every image and gives identical scores', async () => {
    const cache1 = await FeatureCache.open(join(work, 'ws', 'cache', 'features'));
    const options = { datasetRoot: root, scenario: 'nut_and_bolt', preset: 'fast', overrides: OVERRIDES, weights: 'random' as const };
    const r1 = await runPatchCore({ ...options, outDir: join(work, 'run1'), featureCache: cache1 }, quiet);
    await cache1.close();
    expect(r1.featureCache).toEqual({ train: { hits: 0, misses: 10 }, test: { hits: 0, misses: r1.testImages } });

    // A fresh handle, as the next job process would open it.
    const cache2 = await FeatureCache.open(join(work, 'ws', 'cache', 'features'));
    const r2 = await runPatchCore({ ...options, outDir: join(work, 'run2'), featureCache: cache2 }, quiet);
    await cache2.close();
    expect(r2.featureCache).toEqual({ train: { hits: 10, misses: 0 }, test: { hits: r2.testImages, misses: 0 } });
    expect(r2.images.map((i) => i.score)).toEqual(r1.images.map((i) => i.score));

    const stats = await readStats(join(work, 'ws', 'cache', 'features'));
    expect(stats).toMatchObject({ entries: 10 + r1.testImages, hits: 10 + r1.testImages, misses: 10 + r1.testImages });

    const plain = await runPatchCore({ ...options, outDir: join(work, 'run0') }, quiet);
    expect(plain.featureCache).toBeNull();
    // fp16 features move scores by fp16 noise only
    for (let i = 0; i < plain.images.length; i++) {
      const a = plain.images[i]!.score;
      const b = r1.images[i]!.score;
      expect(Math.abs(a - b), plain.images[i]!.relPath).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(a)));
    }
    expect(r1.evaluation!.overall.metrics.pixelAuroc!).toBeCloseTo(plain.evaluation!.overall.metrics.pixelAuroc!, 2);
  }, 180_000);
});
