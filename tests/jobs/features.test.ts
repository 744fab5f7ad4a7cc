/**
 * The `features` job kind end to end: MIAD-mini images registered as a dataset, a ResNet-18 with
 * seeded random weights run in a forked job process on a forced backend (wasm), its `.npy` outputs
 * checked against the same backbone run here; and a job killed after a checkpoint resumes and
 * writes byte-identical files.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../../src/main/core/engine/backends';
import { decodeNpy } from '../../src/main/core/engine/npy';
import { ResNetBackbone, normalizeImageNet, randomResNetWeights } from '../../src/main/core/engine/backbones/resnet';
import { encodeSafetensors, type DecodedTensor } from '../../src/main/core/engine/safetensors';
import { loadImage } from '../../src/main/core/jobs/kinds/features-job';
import { nodeSpawner, type SpawnWorker } from '../../src/main/core/jobs/spawn';
import type { RunDetail, RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { jobHost, TEST_WORKER } from './helpers';

const tmp = useTmpDirs();
const N = 8;

async function withDataset(spawn?: SpawnWorker) {
  const root = await tmp();
  const data = join(root, 'data');
  const report = await generateMiadMini({ outDir: data, scenarios: ['metal_welding'], train: N, test: 1, size: 64, seed: 11 });
  const t = await jobHost(join(root, 'ws'), join(root, 'config'), spawn ? { spawn } : {});
  const datasetId = t.lab().addDataset(
    { name: 'mini', root: data, kind: 'miad-mini' },
    report.scenarios[0]!.files.map((f) => ({ scenario: f.scenario, split: f.split, label: f.label === 'good' ? 'good' : (f.defect ?? 'x'), relPath: f.relPath, maskRelPath: f.maskRelPath, width: f.width, height: f.height })),
  );
  return { t, datasetId };
}

const config = (datasetId: number) => ({ datasetId, scenario: 'metal_welding', arch: 'resnet18', inputSize: 32, batchSize: 2, layers: ['layer1', 'layer2'], seed: 5, checkpointEvery: 1 });

describe('features job', () => {
  it('extracts layer features of every train image into .npy files that match the backbone run in-process', async () => {
    const { t, datasetId } = await withDataset();
    const run = await t.start('features', config(datasetId), { backend: 'wasm' });
    expect(run).toMatchObject({ method: 'features', scenarios: ['metal_welding'], weights: 'random', randomInit: true });
    const done = await t.waitForStatus(run.id, ['done', 'failed', 'cancelled']);
    expect(done.error).toBeNull();
    const detail = (await t.host.invoke('runs:get', { runId: run.id })) as RunDetail;
    expect(detail.backend).toBe('wasm');
    const runDir = join(t.lab().dir, 'runs', String(run.id));
    const relPaths = JSON.parse(await readFile(join(runDir, 'features', 'images.json'), 'utf8')) as string[];
    expect(relPaths).toHaveLength(N);
    const layer2 = decodeNpy(new Uint8Array(await readFile(join(runDir, 'features', 'layer2.npy'))));
    expect(layer2.shape).toEqual([N, 4, 4, 128]);
    const layer1 = decodeNpy(new Uint8Array(await readFile(join(runDir, 'features', 'layer1.npy'))));
    expect(layer1.shape).toEqual([N, 8, 8, 64]);

    // The same images and weights, here.
    await initBackend('wasm');
    const tensors = new Map<string, DecodedTensor>();
    for (const [name, w] of randomResNetWeights('resnet18', 5)) tensors.set(name, { dtype: w.dtype ?? 'F32', shape: w.shape, data: w.data });
    const model = ResNetBackbone.fromTensors('resnet18', tensors);
    const samples = (await t.host.invoke('samples:list', { datasetId, scenario: 'metal_welding', split: 'train', offset: 0, limit: 100 })) as { samples: { relPath: string; path: string }[] };
    expect(samples.samples.map((s) => s.relPath)).toEqual(relPaths);
    let maxDiff = 0;
    for (const [i, s] of samples.samples.entries()) {
      const x = tf.tensor4d(await loadImage(s.path, 32), [1, 32, 32, 3]);
      const out = tf.tidy(() => model.forward(normalizeImageNet(x), ['layer2']));
      const ref = out.layer2!.dataSync();
      tf.dispose([x, out.layer2!]);
      const got = layer2.data.subarray(i * ref.length, (i + 1) * ref.length);
      for (let k = 0; k < ref.length; k++) maxDiff = Math.max(maxDiff, Math.abs((got[k] as number) - (ref[k] as number)));
    }
    model.dispose();
    expect(maxDiff).toBeLessThan(1e-4);
    const series = (await t.host.invoke('runs:series', { runId: run.id })) as Record<string, unknown[]>;
    expect(series.mean_layer2).toHaveLength(N / 2);
    await t.host.close();
  });

  it('killed after a checkpoint, resumes and writes the same bytes as an uninterrupted run', async () => {
    // Kills the worker the moment it reports its second checkpoint (4 of 8 images done).
    let killAtCheckpoint = false;
    const inner = nodeSpawner({ entry: TEST_WORKER });
    const killing: SpawnWorker = (request) => {
      const handle = inner(request);
      handle.onMessage((raw) => {
        const m = raw as { type: string; step?: number };
        if (killAtCheckpoint && m.type === 'checkpoint' && m.step === 2) process.kill(handle.pid!, 'SIGKILL');
      });
      return handle;
    };
    const { t, datasetId } = await withDataset(killing);
    // A weights file this time (timm/torchvision names), as a user would give one.
    const weightsFile = join(t.lab().dir, 'weights', 'resnet18-test.safetensors');
    await writeFile(weightsFile, encodeSafetensors(randomResNetWeights('resnet18', 9)));
    const cfg = { ...config(datasetId), weightsFile };
    const straight = await t.start('features', cfg, { backend: 'wasm' });
    expect(straight).toMatchObject({ weights: weightsFile, randomInit: false });
    expect((await t.waitForStatus(straight.id, ['done', 'failed'])).status).toBe('done');

    killAtCheckpoint = true;
    const run = await t.start('features', cfg, { backend: 'wasm' });
    const failed = await t.waitForStatus(run.id, ['done', 'failed']);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/SIGKILL/);
    killAtCheckpoint = false;
    await t.host.invoke('runs:resume', { runId: run.id });
    const resumed = await t.waitFor(
      (e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id && (e.payload as { run: RunInfo }).run.status === 'done',
      'the resumed run to finish',
    );
    expect((resumed.payload as { run: RunInfo }).run.error).toBeNull();
    const dirOf = (id: number) => join(t.lab().dir, 'runs', String(id), 'features');
    for (const file of ['layer1.npy', 'layer2.npy', 'images.json']) {
      expect(Buffer.compare(await readFile(join(dirOf(run.id), file)), await readFile(join(dirOf(straight.id), file)))).toBe(0);
    }
    const result = JSON.parse(await readFile(join(t.lab().dir, 'runs', String(run.id), 'result.json'), 'utf8')) as { summary: { resumedAt: number } };
    expect(result.summary.resumedAt).toBe(4);
    await t.host.close();
  });
});
