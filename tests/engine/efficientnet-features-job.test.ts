// The `features` job with efficientnet_b4: UniAD's four levels of MIAD-mini images extracted in a
// forked job process on wasm, equal to the backbone run here; and layer5 refused for a ResNet.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { initBackend } from '../../src/main/core/engine/backends';
import { decodeNpy } from '../../src/main/core/engine/npy';
import { buildBackbone, normalizeImageNet, randomWeights } from '../../src/main/core/engine/backbones/index';
import type { DecodedTensor } from '../../src/main/core/engine/safetensors';
import { loadImage } from '../../src/main/core/jobs/kinds/features-job';
import { useTmpDirs } from '../helpers/tmp';
import { jobHost } from '../jobs/helpers';

const tmp = useTmpDirs();
const N = 3;
const SIZE = 48;

describe('features job with efficientnet_b4', () => {
  it("writes UniAD's layer1..4 (strides 2/4/8/16, 272 channels) equal to the backbone run in-process", async () => {
    const root = await tmp();
    const data = join(root, 'data');
    const report = await generateMiadMini({ outDir: data, scenarios: ['metal_welding'], train: N, test: 1, size: 64, seed: 3 });
    const t = await jobHost(join(root, 'ws'), join(root, 'config'));
    try {
      const datasetId = t.lab().addDataset(
        { name: 'mini', root: data, kind: 'miad-mini' },
        report.scenarios[0]!.files.map((f) => ({ scenario: f.scenario, split: f.split, label: f.label === 'good' ? 'good' : (f.defect ?? 'x'), relPath: f.relPath, maskRelPath: f.maskRelPath, width: f.width, height: f.height })),
      );
      const layers = ['layer1', 'layer2', 'layer3', 'layer4'];
      const config = { datasetId, scenario: 'metal_welding', arch: 'efficientnet_b4', inputSize: SIZE, batchSize: 2, layers, seed: 4 };
      await expect(t.start('features', { ...config, arch: 'resnet18', layers: ['layer5'] }, { backend: 'wasm' })).rejects.toThrow(/layer5 exists for efficientnet_b4 and tf_efficientnet_b4 only/);

      const run = await t.start('features', config, { backend: 'wasm' });
      const done = await t.waitForStatus(run.id, ['done', 'failed', 'cancelled']);
      expect(done.error).toBeNull();
      const dir = join(t.lab().dir, 'runs', String(run.id), 'features');
      const files = Object.fromEntries(await Promise.all(layers.map(async (l) => [l, decodeNpy(new Uint8Array(await readFile(join(dir, `${l}.npy`))))] as const)));
      expect(Object.fromEntries(layers.map((l) => [l, files[l]!.shape]))).toEqual({
        layer1: [N, 24, 24, 24],
        layer2: [N, 12, 12, 32],
        layer3: [N, 6, 6, 56],
        layer4: [N, 3, 3, 160],
      });

      await initBackend('wasm');
      const tensors = new Map<string, DecodedTensor>();
      for (const [name, w] of randomWeights('efficientnet_b4', 4)) tensors.set(name, { dtype: w.dtype ?? 'F32', shape: w.shape, data: w.data });
      const model = buildBackbone('efficientnet_b4', tensors);
      const relPaths = JSON.parse(await readFile(join(dir, 'images.json'), 'utf8')) as string[];
      let maxDiff = 0;
      let maxAbs = 0;
      try {
        for (const [i, rel] of relPaths.entries()) {
          const x = tf.tensor4d(await loadImage(join(data, rel), SIZE), [1, SIZE, SIZE, 3]);
          const out = tf.tidy(() => model.forward(normalizeImageNet(x), layers as ['layer1']));
          for (const l of layers) {
            const ref = out[l]!.dataSync();
            const got = files[l]!.data.subarray(i * ref.length, (i + 1) * ref.length);
            for (let k = 0; k < ref.length; k++) {
              maxDiff = Math.max(maxDiff, Math.abs((got[k] as number) - (ref[k] as number)));
              maxAbs = Math.max(maxAbs, Math.abs(ref[k] as number));
            }
          }
          tf.dispose([x, ...Object.values(out)]);
        }
      } finally {
        model.dispose();
      }
      expect(maxAbs).toBeGreaterThan(1e-3);
      expect(maxDiff).toBeLessThan(1e-4 * maxAbs);
    } finally {
      await t.host.close();
    }
  }, 120_000);
});
