// PatchCore's scoring against anomalib's, re-implemented in torch (scripts/reference/patchcore.py),
// on the SAME features: our memory bank (built by our streaming pass and coreset) and our test patch
// embeddings go to Python as .npy; the reference does the 1-NN, the eq. 7 re-weighting and the map
// (nearest upsampling + σ 4 blur). Patch scores, image scores and maps must agree to 1e-4 (relative
// to max(1, |value|)). The embedding itself (3×3 average, bilinear resize, concat) is also rebuilt
// from our raw layer features. PyTorch comes from Debian (scripts/install-torch.sh); without it this
// test FAILS naming that script, it never skips.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { assertTorch, runPython } from '../../scripts/parity/reference';
import { loadImageRgb } from '../../src/main/core/methods/components/images';
import { MemoryBank } from '../../src/main/core/methods/components/nearest-neighbour';
import { PatchCoreModel, patchEmbedding } from '../../src/main/core/methods/patchcore/model';
import { trainMemoryBank } from '../../src/main/core/methods/patchcore/train';
import { scoreEmbedding } from '../../src/main/core/methods/patchcore/score';
import { anomalyMap } from '../../src/main/core/methods/patchcore/anomaly-map';
import { resolvePatchCoreConfig } from '../../src/main/core/methods/patchcore/config';
import { PATCHCORE_SCRIPT, loadNpy, makeMini, maxRelError, saveNpy } from './helpers';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'patchcore-parity-'));
  await initBackend('wasm');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('PatchCore scoring parity with anomalib (torch)', () => {
  it('agrees on embeddings, patch scores, image scores and maps', async () => {
    await assertTorch();
    const root = await makeMini(join(dir, 'mini'), ['nut_and_bolt'], 10, 6, 64);
    const size = 64;
    const { config } = resolvePatchCoreConfig('fast', { inputSize: size, batchSize: 4, trainImages: 'all', coresetRatio: 0.25, seed: 5 });
    const model = await PatchCoreModel.create(config, 'random');
    const trainDir = join(root, 'nut_and_bolt', 'train', 'good');
    const trainPaths = (await readdir(trainDir)).sort().map((n) => join(trainDir, n));
    const trained = await trainMemoryBank(model, trainPaths, config, { progress: () => undefined }, { loadImage: loadImageRgb, tmpDir: dir });
    expect(trained.patches).toBe(10 * 8 * 8);
    expect(trained.rows).toBe(Math.floor(640 * 0.25));
    const bank = new MemoryBank(trained.bank, trained.width, { chunkRows: 50, maxMatrixBytes: 4 * 50 * 100 }); // several chunks and query blocks
    const ref = join(dir, 'ref');
    await mkdir(ref);
    try {
      const testDir = join(root, 'nut_and_bolt', 'test');
      const labels = (await readdir(testDir)).sort();
      const paths: string[] = [];
      for (const l of labels) for (const n of (await readdir(join(testDir, l))).sort()) paths.push(join(testDir, l, n));
      const b = paths.length;
      const pixels = new Float32Array(b * size * size * 3);
      for (let i = 0; i < b; i++) pixels.set(await loadImageRgb(paths[i]!, size), i * size * size * 3);
      const x = tf.tensor4d(pixels, [b, size, size, 3]);
      const feats = model.extractor.extract(x);
      const layers = model.extractor.layers.map((l) => feats[l]!);
      const emb = patchEmbedding(layers);
      for (let i = 0; i < layers.length; i++) await saveNpy(ref, `layer_${i}.npy`, await layers[i]!.data<'float32'>(), layers[i]!.shape);
      const [, h, w, c] = emb.shape;
      await saveNpy(ref, 'embedding.npy', await emb.data<'float32'>(), emb.shape);
      await saveNpy(ref, 'bank.npy', trained.bank, [trained.rows, trained.width]);
      await writeFile(join(ref, 'params.json'), JSON.stringify({ num_neighbors: config.numNeighbors, input_size: size, sigma: config.sigma }));
      const scored = await scoreEmbedding(emb, bank, config.numNeighbors);
      const embData = await emb.data<'float32'>();
      tf.dispose([x, emb, ...Object.values(feats)]);

      await runPython([PATCHCORE_SCRIPT, ref]);
      if (process.env.PATCHCORE_PARITY_LOG) console.log('errors', maxRelError(embData, (await loadNpy(ref, 'embedding_ref.npy')).data), maxRelError(scored.patchScores, (await loadNpy(ref, 'patch_scores.npy')).data), maxRelError(scored.imageScores, (await loadNpy(ref, 'image_scores.npy')).data));
      const embRef = await loadNpy(ref, 'embedding_ref.npy');
      expect(embRef.shape).toEqual([b, h, w, c]);
      expect(maxRelError(embData, embRef.data)).toBeLessThan(1e-5);
      const patchRef = await loadNpy(ref, 'patch_scores.npy');
      expect(patchRef.shape).toEqual([b, h, w]);
      expect(maxRelError(scored.patchScores, patchRef.data)).toBeLessThan(1e-4);
      const imageRef = await loadNpy(ref, 'image_scores.npy');
      expect(maxRelError(scored.imageScores, imageRef.data)).toBeLessThan(1e-4);
      // The re-weighting really changed the score (weight < 1): the test would notice it missing.
      for (let i = 0; i < b; i++) {
        const worst = Math.max(...scored.patchScores.subarray(i * h * w, (i + 1) * h * w));
        expect(scored.imageScores[i]!).toBeLessThan(worst * 0.999);
      }
      const mapsRef = await loadNpy(ref, 'maps.npy');
      expect(mapsRef.shape).toEqual([b, size, size]);
      const maps = new Float32Array(b * size * size);
      for (let i = 0; i < b; i++) maps.set(anomalyMap(scored.patchScores.subarray(i * h * w, (i + 1) * h * w), h, w, size, config.sigma), i * size * size);
      expect(maxRelError(maps, mapsRef.data)).toBeLessThan(1e-4);
    } finally {
      bank.dispose();
      model.dispose();
    }
  });
});
