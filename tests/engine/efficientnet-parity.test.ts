// Our TypeScript EfficientNet-B4 against torchvision's efficientnet_b4 on the same random weights
// (written by our safetensors writer with timm's names, renamed to torchvision's by the explicit
// mapping in scripts/parity/backbone.py and loaded strictly) and the same image: every returned
// layer (UniAD's layer1..4 and layer5) must agree to 1e-4, relative to that layer's max |value|.
// The image is small and odd-sized on both axes (65×49), so every stride-2 conv sees the k//2
// padding on an odd edge. PyTorch comes from Debian (scripts/install-torch.sh); without it this
// test FAILS and says so, it never skips.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { writeSafetensors, loadSafetensors } from '../../src/main/core/engine/safetensors';
import { EfficientNetBackbone, EFFICIENTNET_LAYERS, randomEfficientNetWeights } from '../../src/main/core/engine/backbones/efficientnet';
import { normalizeImageNet } from '../../src/main/core/engine/backbones/resnet';
import { encodeNpy, decodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { assertTorch, runPython, BACKBONE_SCRIPT } from '../../scripts/parity/reference';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parity-effnet-'));
  await initBackend('wasm');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** max |ours − ref| / max |ref| over a layer; ours NHWC [1, h, w, c], ref NCHW [1, c, h, w]. */
function layerError(ours: Float32Array, shape: number[], ref: ArrayLike<number>): { rel: number; maxAbs: number } {
  const [, h, w, c] = shape as [number, number, number, number];
  let diff = 0;
  let maxAbs = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const r = ref[(k * h + y) * w + x] as number;
        diff = Math.max(diff, Math.abs((ours[(y * w + x) * c + k] as number) - r));
        maxAbs = Math.max(maxAbs, Math.abs(r));
      }
  return { rel: diff / maxAbs, maxAbs };
}

describe('efficientnet_b4 parity with torchvision (random weights, BN folded, timm → torchvision names)', () => {
  it('layer1..5 on a 65×49 image agree to 1e-4', async () => {
    await assertTorch();
    const [height, width] = [65, 49];
    const weightsPath = join(dir, 'efficientnet_b4.safetensors');
    // Random BN statistics and SE biases, so the folding and every bias are exercised.
    await writeSafetensors(weightsPath, randomEfficientNetWeights('efficientnet_b4', 1234, { randomBatchNorm: true }), { arch: 'efficientnet_b4', init: 'random' });
    const rand = mulberry32(99);
    const image = Float32Array.from({ length: height * width * 3 }, () => rand());
    const imagePath = join(dir, 'image.npy');
    await writeFile(imagePath, encodeNpy(image, [height, width, 3]));
    const outDir = join(dir, 'ref');
    await runPython([BACKBONE_SCRIPT, '--arch', 'efficientnet_b4', '--weights', weightsPath, '--image', imagePath, '--layers', EFFICIENTNET_LAYERS.join(','), '--out', outDir, '--threads', '2']);

    const model = EfficientNetBackbone.fromTensors('efficientnet_b4', (await loadSafetensors(weightsPath)).tensors);
    try {
      const feats = tf.tidy(() => model.forward(normalizeImageNet(tf.tensor4d(image, [1, height, width, 3])), EFFICIENTNET_LAYERS));
      const expected = { layer1: [1, 24, 33, 25], layer2: [1, 32, 17, 13], layer3: [1, 56, 9, 7], layer4: [1, 160, 5, 4], layer5: [1, 448, 3, 2] };
      for (const layer of EFFICIENTNET_LAYERS) {
        const t = feats[layer]!;
        const ref = decodeNpy(new Uint8Array(await readFile(join(outDir, `${layer}.npy`))));
        expect(ref.shape, `${layer} shape (torch, NCHW)`).toEqual(expected[layer]);
        const [b, h, w, c] = t.shape;
        expect([b, c, h, w], `${layer} shape (ours, NHWC)`).toEqual(ref.shape);
        const { rel, maxAbs } = layerError(t.dataSync() as Float32Array, t.shape, ref.data as ArrayLike<number>);
        console.info(`parity efficientnet_b4 ${layer}: max |ours − torch| / max |torch| = ${rel.toExponential(2)} (max |torch| ${maxAbs.toPrecision(3)})`);
        expect(maxAbs, `${layer} is not all zeros`).toBeGreaterThan(1e-3);
        expect(rel, `efficientnet_b4 ${layer}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose(Object.values(feats));
    } finally {
      model.dispose();
    }
  }, 180_000);
});
