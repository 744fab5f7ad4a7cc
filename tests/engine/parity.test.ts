// Our TypeScript ResNets against torchvision on the same random weights (written by our
// safetensors writer, strictly loaded by torchvision) and the same 64×64 image: every returned
// layer must agree to 1e-4, relative to that layer's max |value|. PyTorch comes from Debian
// (scripts/install-torch.sh); without it this test FAILS and says so, it never skips.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { writeSafetensors, loadSafetensors } from '../../src/main/core/engine/safetensors';
import { ResNetBackbone, normalizeImageNet, randomResNetWeights, RESNET_LAYERS, type ResNetArch } from '../../src/main/core/engine/backbones/resnet';
import { encodeNpy, decodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { assertTorch, runPython, BACKBONE_SCRIPT } from '../../scripts/parity/reference';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parity-'));
  await initBackend('wasm');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** max |ours − ref| / max |ref| over a layer; ours NHWC, ref NCHW. */
function layerError(ours: Float32Array, shape: number[], ref: Float32Array | Float64Array): { rel: number; maxAbs: number } {
  const [b, h, w, c] = shape as [number, number, number, number];
  let diff = 0;
  let maxAbs = 0;
  for (let n = 0; n < b; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const r = ref[((n * c + k) * h + y) * w + x] as number;
          diff = Math.max(diff, Math.abs((ours[((n * h + y) * w + x) * c + k] as number) - r));
          maxAbs = Math.max(maxAbs, Math.abs(r));
        }
  return { rel: diff / maxAbs, maxAbs };
}

async function parity(arch: ResNetArch, size: number): Promise<void> {
  await assertTorch();
  const weightsPath = join(dir, `${arch}.safetensors`);
  await writeSafetensors(weightsPath, randomResNetWeights(arch, 1234, { randomBatchNorm: true }), { arch, init: 'random' });
  const rand = mulberry32(99);
  const image = Float32Array.from({ length: size * size * 3 }, () => rand());
  const imagePath = join(dir, `${arch}-image.npy`);
  await writeFile(imagePath, encodeNpy(image, [size, size, 3]));
  const outDir = join(dir, `${arch}-ref`);
  await runPython([BACKBONE_SCRIPT, '--arch', arch, '--weights', weightsPath, '--image', imagePath, '--layers', RESNET_LAYERS.join(','), '--out', outDir, '--threads', '2']);

  const model = ResNetBackbone.fromTensors(arch, (await loadSafetensors(weightsPath)).tensors);
  try {
    const feats = tf.tidy(() => model.forward(normalizeImageNet(tf.tensor4d(image, [1, size, size, 3])), RESNET_LAYERS));
    for (const layer of RESNET_LAYERS) {
      const t = feats[layer]!;
      const ref = decodeNpy(new Uint8Array(await readFile(join(outDir, `${layer}.npy`))));
      const [b, h, w, c] = t.shape;
      expect(ref.shape, `${arch} ${layer} shape`).toEqual([b, c, h, w]);
      const { rel, maxAbs } = layerError(t.dataSync() as Float32Array, t.shape, ref.data as Float32Array);
      console.info(`parity ${arch} ${layer}: max |ours − torch| / max |torch| = ${rel.toExponential(2)} (max |torch| ${maxAbs.toPrecision(3)})`);
      expect(rel, `${arch} ${layer}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(1e-4);
    }
    tf.dispose(Object.values(feats));
  } finally {
    model.dispose();
  }
}

describe('backbone parity with torchvision (random weights, BN folded)', () => {
  it('resnet18 layer1..4 on 64×64', async () => {
    await parity('resnet18', 64);
  }, 120_000);

  it('wide_resnet50_2 layer1..4 on 64×64', async () => {
    await parity('wide_resnet50_2', 64);
  }, 240_000);
});
