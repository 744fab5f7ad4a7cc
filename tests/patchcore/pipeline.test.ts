// runPatchCore end to end on MIAD-mini with random resnet18 weights (pretrained ones cannot be
// downloaded here), on the wasm backend: defects are found clearly better than chance, the run's
// files are complete and consistent with its result, no tensor leaks, and a cancel stops it between
// batches leaving no partial files.
//
// Bars, set below what was measured (fast preset, input 64, 24 train / 24 test images generated at
// 96 px, seed 11; pixel AUROC / AUPRO / image AUROC):
//   nut_and_bolt          0.870 / 0.609 / 0.667
//   electrical_insulator  0.735 / 0.360 / 0.715
// (all seven: pixel AUROC 0.63–0.87, AUPRO 0.22–0.61; image AUROC is near chance for most
// scenarios with random weights, so the bar is on the pixel level, where the random features already
// localise defects.)
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { MapPackReader } from '../../src/main/core/evaluation/index';
import { runPatchCore, type RunPatchCoreResult } from '../../src/main/core/methods/patchcore/pipeline';
import { makeMini } from './helpers';

let dir = '';
let root = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'patchcore-pipeline-'));
  await initBackend('wasm');
  root = await makeMini(join(dir, 'mini'), ['electrical_insulator', 'nut_and_bolt'], 24, 24, 96, 11);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const OVERRIDES = { inputSize: 64, trainImages: 'all', batchSize: 8 };
const quiet = { progress: () => undefined };

describe('runPatchCore', () => {
  let result: RunPatchCoreResult;

  it('finds nut_and_bolt defects clearly better than chance, and writes maps and scores', async () => {
    const before = tf.memory().numTensors;
    const phases = new Set<string>();
    result = await runPatchCore(
      { datasetRoot: root, scenario: 'nut_and_bolt', preset: 'fast', overrides: OVERRIDES, weights: 'random', outDir: join(dir, 'run-nb') },
      { progress: (phase) => phases.add(phase) },
    );
    expect(tf.memory().numTensors).toBe(before);
    expect([...phases]).toEqual(['loading weights', 'embedding', 'coreset', 'memory bank', 'scoring', 'metrics']);
    const m = result.evaluation!.overall.metrics;
    console.log('nut_and_bolt', JSON.stringify(m));
    expect(m.pixelAuroc!).toBeGreaterThan(0.78);
    expect(m.aupro!).toBeGreaterThan(0.45);
    expect(result.train).toMatchObject({ images: 24, patches: 24 * 64, memoryBankRows: Math.floor(24 * 64 * 0.1), grid: { h: 8, w: 8 } });
    expect(result.weights.randomInit).toBe(true);
    expect(result.backend).toBe('wasm');
    expect(result.evaluation!.perDefect.map((p) => p.defect)).toEqual(['bolt_miss', 'looseness', 'nut_miss'].filter((d) => result.images.some((i) => i.label === d)));

    const reader = await MapPackReader.open(result.paths.maps);
    try {
      expect(reader.count).toBe(result.testImages);
      expect([reader.height, reader.width]).toEqual([64, 64]);
      const scores = JSON.parse(await readFile(result.paths.scores, 'utf8')) as Record<string, number>;
      result.images.forEach((img, i) => {
        expect(reader.index.entries[i]!.key).toBe(img.relPath);
        expect(reader.index.entries[i]!.score).toBe(img.score);
        expect(scores[img.relPath]).toBe(img.score);
      });
      const map = await reader.read(0);
      expect(map.length).toBe(64 * 64);
      expect(Math.max(...map)).toBeGreaterThan(0);
    } finally {
      await reader.close();
    }
    expect((await readdir(join(dir, 'run-nb'))).sort()).toEqual(['maps.amap', 'scores.json']);
  });

  it('finds electrical_insulator defects better than chance', async () => {
    const r = await runPatchCore({ datasetRoot: root, scenario: 'electrical_insulator', preset: 'fast', overrides: OVERRIDES, weights: 'random', outDir: join(dir, 'run-ei') }, quiet);
    const m = r.evaluation!.overall.metrics;
    console.log('electrical_insulator', JSON.stringify(m));
    expect(m.pixelAuroc!).toBeGreaterThan(0.66);
    expect(m.aupro!).toBeGreaterThan(0.25);
  });

  it('is deterministic and leaks no tensor across runs (file-backed feature store)', async () => {
    const before = tf.memory().numTensors;
    const again = await runPatchCore(
      { datasetRoot: root, scenario: 'nut_and_bolt', preset: 'fast', overrides: { ...OVERRIDES, featureStore: 'file' }, weights: 'random', outDir: join(dir, 'run-nb2') },
      quiet,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(again.train.featureStore.where).toBe('file');
    // float16 either way: the same bank, the same scores.
    expect(again.images.map((i) => i.score)).toEqual(result.images.map((i) => i.score));
    expect((await readdir(join(dir, 'run-nb2'))).sort()).toEqual(['maps.amap', 'scores.json']);
  });

  for (const phase of ['embedding', 'scoring'] as const) {
    it(`stops when cancelled during ${phase}, disposing everything and leaving no files`, async () => {
      const before = tf.memory().numTensors;
      const ac = new AbortController();
      const outDir = join(dir, `cancel-${phase}`);
      const run = runPatchCore(
        { datasetRoot: root, scenario: 'nut_and_bolt', preset: 'fast', overrides: { ...OVERRIDES, featureStore: 'file' }, weights: 'random', outDir },
        {
          signal: ac.signal,
          progress: (p, step) => {
            if (p === phase && step >= 8) ac.abort(new Error('cancelled by the user'));
          },
        },
      );
      await expect(run).rejects.toThrow('cancelled by the user');
      expect(tf.memory().numTensors).toBe(before);
      expect(await readdir(outDir)).toEqual([]);
    });
  }

  it('refuses a scenario without training images, naming the folder', async () => {
    await expect(runPatchCore({ datasetRoot: root, scenario: 'wind_turbine', preset: 'fast', weights: 'random', outDir: join(dir, 'x') }, quiet)).rejects.toThrow(/no scenario folder wind_turbine/);
  });
});
