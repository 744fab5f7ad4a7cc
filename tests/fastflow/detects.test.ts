/**
 * FastFlow detects MIAD-mini's defects with a RANDOM backbone: the `fast` preset (ResNet18, 8 steps of
 * 3×3 subnets) through `miad-lab train`, on wind_turbine, shrunk to fit the CI budget: 64 px, 32 training
 * images, 4 epochs of batch 8 (16 steps). Everything is seeded and wasm is deterministic, so the figure is
 * the same on every run of this code; the bar sits below what was measured and far above chance.
 *
 * Measured when the bar was set (MIAD-mini seed 7, 48 train / 24 test generated at 64 px, this command):
 *   wind_turbine          pixel AUROC 0.9455 (image AUROC 0.5625, AUPRO 0.811)   → the bar: 0.85
 *   photovoltaic_module   pixel AUROC 0.7225 (image AUROC 0.6875, AUPRO 0.450)   (not asserted here)
 * The preset as a user launches it at 64 px (48 images, 10 epochs) gave 0.816 on wind_turbine: with a
 * random backbone longer training fits the flows to the noise more than to the scene.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { getRun } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const quiet = { out: () => undefined, err: () => undefined };

describe('FastFlow on MIAD-mini with a random backbone', () => {
  it('finds wind_turbine cracks clearly above chance (pixel AUROC > 0.85)', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['wind_turbine'], train: 48, test: 24, size: 64, seed: 7 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
    const err: string[] = [];
    const args = ['train', '--workspace', ws, '--method', 'fastflow', '--scenario', 'wind_turbine', '--preset', 'fast', '--backend', 'wasm', '--set', 'inputSize=64', '--set', 'epochs=4', '--set', 'trainImages=32'];
    const code = await runCli(args, { out: () => undefined, err: (t) => err.push(t) });
    expect(code, err.join('\n')).toBe(0);
    const lab = await createLab(ws);
    try {
      const metrics = getRun(lab.store, 1).metrics.filter((m) => m.defectType === '');
      const pixel = metrics.find((m) => m.metric === 'pixel_auroc')?.value ?? 0;
      console.info(`FastFlow fast (64 px, 32 images, 4 epochs), random backbone, MIAD-mini wind_turbine (seed 7): ${metrics.map((m) => `${m.metric} ${m.value?.toFixed(4) ?? '-'}`).join(', ')}`);
      expect(pixel).toBeGreaterThan(0.85);
    } finally {
      lab.close();
    }
  }, 600_000);
});
