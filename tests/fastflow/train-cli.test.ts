/**
 * `miad-lab train --method fastflow` as a new user runs it: the estimate, the run in its own job process
 * with its loss (and per-scale loss series), the run's files (the flows as model.safetensors with the
 * reference's names, the per-scale map pictures), the feature cache at work, its metrics; then the same
 * run's weights evaluated with `epochs=0` (flowWeights) give its scores again.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { readSafetensorsHeader } from '../../src/main/core/engine/safetensors';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { getRun, getSeries } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

/** The fast preset at 32 px on 8 images, 3 epochs of 2 steps. */
const TINY = ['--set', 'inputSize=32', '--set', 'trainImages=8', '--set', 'epochs=3', '--set', 'batchSize=4'];

describe('miad-lab train --method fastflow', () => {
  it('trains the fast preset with its loss, stores the flows and the per-scale maps, and evaluates its own weights again with 0 epochs', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 8, test: 8, size: 64, seed: 3 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
    const base = ['train', '--workspace', ws, '--method', 'fastflow', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--backend', 'wasm'];

    const c = capture();
    expect(await runCli([...base, ...TINY], c.io), c.err.join('\n')).toBe(0);
    const err = c.err.join('\n');
    expect(err).toMatch(/Estimated: about .* of training on wasm: 0\.31\d? GFLOP per image × 8 images × 3 epochs/);
    expect(err).toMatch(/Backbone weights: RANDOM/);
    expect(err).toMatch(/training +\d+ \/ 6 +loss -?[\d.e+]+/);
    expect(c.out.join('\n')).toMatch(/Run #1 done {2}\(backend wasm, weights random, random init\)/);

    const runDir = join(ws, 'runs', '1');
    const header = await readSafetensorsHeader(join(runDir, 'model.safetensors'));
    expect(header.metadata).toMatchObject({ method: 'fastflow', preset: 'fast', steps: '6' });
    const names = [...header.tensors.keys()];
    expect(names).toContain('norms.2.weight');
    expect(names).toContain('nf_flows.2.module_list.7.w_perm_inv');
    expect(header.tensors.get('norms.0.weight')!.shape).toEqual([64, 8, 8]);
    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as {
      summary: { samples: { relPath: string; images: Record<string, string> }[]; train: Record<string, unknown>; featureCache: { train: { hits: number; misses: number } } | null };
    };
    expect(result.summary.samples.length).toBeGreaterThanOrEqual(4);
    for (const s of result.summary.samples) {
      expect(Object.keys(s.images)).toEqual(['layer1', 'layer2', 'layer3']);
      for (const rel of Object.values(s.images)) expect(existsSync(join(runDir, rel)), rel).toBe(true);
    }
    // The backbone ran once per training image; the other two epochs read its features from the cache.
    expect(result.summary.featureCache!.train).toEqual({ hits: 16, misses: 8 });
    expect(result.summary.train).toMatchObject({ epochs: 3, steps: 6 });

    const lab = await createLab(ws);
    try {
      const detail = getRun(lab.store, 1);
      expect(detail.metrics.find((m) => m.defectType === '' && m.metric === 'pixel_auroc')?.value).toBeGreaterThan(0);
      const series = getSeries(lab.store, 1);
      for (const name of ['loss', 'loss/layer1', 'loss/layer2', 'loss/layer3']) expect(series[name]?.map((p) => p.step), name).toEqual(Array.from({ length: 6 }, (_, i) => i + 1));
      expect(series['epoch_loss']).toHaveLength(3);
    } finally {
      lab.close();
    }

    // The run's own weights, evaluated without training: the same scores, image for image.
    const again = capture();
    const model = join(runDir, 'model.safetensors');
    expect(await runCli([...base, ...TINY.slice(0, 4), '--set', 'epochs=0', '--set', `flowWeights=${model}`], again.io), again.err.join('\n')).toBe(0);
    expect(await readFile(join(ws, 'runs', '2', 'scores.json'), 'utf8')).toBe(await readFile(join(runDir, 'scores.json'), 'utf8'));
  }, 240_000);
});
