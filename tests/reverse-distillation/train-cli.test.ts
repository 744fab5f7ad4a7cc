/**
 * `miad-lab train --method reverse_distillation` as a new user runs it: the estimate, the run in its
 * own job process with its loss (and per-level loss series), the run's files (the student as
 * model.safetensors with the official names, the per-level map pictures), its metrics; then the
 * same run's weights evaluated with `epochs=0` (studentWeights) give its scores again; teacher weights
 * of the wrong architecture fail the run with a message that says which they are.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { randomWeights } from '../../src/main/core/engine/backbones/index';
import { readSafetensorsHeader, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { getRun, getSeries, listRuns } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();

/** The ResNet18 pairing at 64 px on 16 images, 3 epochs of 4 steps. */
const TINY = ['--set', 'inputSize=64', '--set', 'trainImages=16', '--set', 'epochs=3', '--set', 'batchSize=4'];

describe('miad-lab train --method reverse_distillation', () => {
  it('trains the fast preset with its loss, stores the student and the per-level maps, and evaluates its own weights again with 0 epochs', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 16, test: 12, size: 64, seed: 3 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
    const base = ['train', '--workspace', ws, '--method', 'reverse_distillation', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--backend', 'wasm'];

    const c = capture();
    expect(await runCli([...base, ...TINY], c.io), c.err.join('\n')).toBe(0);
    const err = c.err.join('\n');
    expect(err).toMatch(/Estimated: about .* of training on wasm: 1\.16 GFLOP per image × 16 images × 3 epochs/);
    expect(err).toMatch(/Backbone weights: RANDOM/);
    expect(err).toMatch(/training +\d+ \/ 12 +loss [\d.]+/);
    expect(c.out.join('\n')).toMatch(/Run #1 done {2}\(backend wasm, weights random, random init\)/);

    const runDir = join(ws, 'runs', '1');
    const header = await readSafetensorsHeader(join(runDir, 'model.safetensors'));
    expect(header.metadata).toMatchObject({ method: 'reverse_distillation', preset: 'fast', steps: '12' });
    expect([...header.tensors.keys()]).toContain('bn.bn_layer.0.downsample.0.weight');
    expect([...header.tensors.keys()]).toContain('decoder.layer3.0.upsample.0.weight');
    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as {
      summary: { samples: { relPath: string; images: Record<string, string> }[]; train: Record<string, unknown>; featureCache: { train: { hits: number; misses: number } } | null; weights: { randomInit: boolean } };
    };
    expect(result.summary.samples.length).toBeGreaterThanOrEqual(4);
    for (const s of result.summary.samples) {
      expect(Object.keys(s.images)).toEqual(['layer1', 'layer2', 'layer3']);
      for (const rel of Object.values(s.images)) expect(existsSync(join(runDir, rel)), rel).toBe(true);
    }
    // The teacher ran once per training image; the other two epochs read its features from the cache.
    expect(result.summary.featureCache!.train).toEqual({ hits: 32, misses: 16 });
    expect(result.summary.train).toMatchObject({ epochs: 3, steps: 12, parameters: 15_908_480 });
    expect(result.summary.weights.randomInit).toBe(true);

    const lab = await createLab(ws);
    try {
      const detail = getRun(lab.store, 1);
      expect(detail.metrics.find((m) => m.defectType === '' && m.metric === 'pixel_auroc')?.value).toBeGreaterThan(0);
      // The loss and its part per level, per step, as the run page charts them.
      const series = getSeries(lab.store, 1);
      for (const name of ['loss', 'loss/layer1', 'loss/layer2', 'loss/layer3']) expect(series[name]?.map((p) => p.step), name).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(series['epoch_loss']).toHaveLength(3);
    } finally {
      lab.close();
    }

    // The run's own weights, evaluated without training: the same scores, image for image.
    const again = capture();
    const model = join(runDir, 'model.safetensors');
    expect(await runCli([...base, ...TINY.slice(0, 4), '--set', 'epochs=0', '--set', `studentWeights=${model}`], again.io), again.err.join('\n')).toBe(0);
    expect(await readFile(join(ws, 'runs', '2', 'scores.json'), 'utf8')).toBe(await readFile(join(runDir, 'scores.json'), 'utf8'));
  }, 180_000);

  it('fails a run whose teacher weights are of another architecture, saying which they are', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 4, test: 4, size: 64, seed: 3 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
    const teacher = join(root, 'wide_resnet50_2.safetensors');
    await writeSafetensors(teacher, randomWeights('wide_resnet50_2', 1));
    const c = capture();
    const code = await runCli(['train', '--workspace', ws, '--method', 'reverse_distillation', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--backend', 'wasm', '--weights', teacher, ...TINY], c.io);
    expect(code).not.toBe(0);
    expect([...c.out, ...c.err].join('\n')).toMatch(/teacher weights .* do not fit resnet18, the teacher of preset fast: .*The file holds wide_resnet50_2 weights/);
    const lab = await createLab(ws);
    try {
      expect(listRuns(lab.store).map((r) => r.status)).toEqual(['failed']);
    } finally {
      lab.close();
    }
  }, 120_000);
});
