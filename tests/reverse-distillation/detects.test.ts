/**
 * Reverse Distillation detects MIAD-mini's defects with a RANDOM teacher: the `fast` preset as a user
 * launches it (the ResNet18 pairing at 128 px, 48 training images, 10 epochs of batch 8), through
 * `miad-lab train`, on wind_turbine. Everything is seeded and wasm is deterministic, so the figure is
 * the same on every run of this code; the bar sits below what was measured (pixel AUROC 0.852 on this
 * data when the bar was set) and far above chance. At 64 px the same run stays near chance (0.49: the
 * third level's map is 2×2 there), which is why the other tests' tiny runs assert no bar.
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

describe('Reverse Distillation on MIAD-mini with a random teacher', () => {
  it('finds wind_turbine cracks clearly above chance with the fast preset (pixel AUROC > 0.75)', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['wind_turbine'], train: 48, test: 24, size: 64, seed: 7 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
    const err: string[] = [];
    const code = await runCli(['train', '--workspace', ws, '--method', 'reverse_distillation', '--scenario', 'wind_turbine', '--preset', 'fast', '--backend', 'wasm'], { out: () => undefined, err: (t) => err.push(t) });
    expect(code, err.join('\n')).toBe(0);
    const lab = await createLab(ws);
    try {
      const metrics = getRun(lab.store, 1).metrics.filter((m) => m.defectType === '');
      const pixel = metrics.find((m) => m.metric === 'pixel_auroc')?.value ?? 0;
      console.info(`RD fast, random teacher, MIAD-mini wind_turbine (seed 7): ${metrics.map((m) => `${m.metric} ${m.value?.toFixed(4) ?? '-'}`).join(', ')}`);
      expect(pixel).toBeGreaterThan(0.75);
    } finally {
      lab.close();
    }
  }, 900_000);
});
