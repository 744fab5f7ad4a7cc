/**
 * A unified UniAD run through `miad-lab train --scenarios` as a user runs it: one model trained on the
 * training images of three MIAD-mini scenarios (one of them generated at another image size: resized,
 * and the run says so), evaluated per scenario and per defect type; its files per scenario under
 * runs/1/scenarios/<name>/, its metrics in the store per (scenario, defect type), the model as
 * model.safetensors with the official names. A RANDOM backbone (no pretrained weights offline), so
 * the bars on pixel AUROC are set from what this seeded, deterministic run measured (printed), above
 * chance in every scenario. Then bad input where it enters: --scenarios for a method that trains one scenario
 * per run, scenarios no one dataset holds, a scenario without training images, and a weights file of
 * another method.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { readSafetensorsHeader, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import { getRun, listRuns } from '../../src/main/core/store/runs-repo';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();
const SCENARIOS = ['nut_and_bolt', 'photovoltaic_module', 'wind_turbine'] as const;
/**
 * The fast preset (its transformer, 128 px: 8 × 8 tokens) on fewer images: 24 per scenario, 12 epochs
 * of batch 8. Fewer (16 images, 4 epochs, hidden 64) left two of the three scenarios at chance.
 */
const TEST_SET = ['--set', 'trainImages=24', '--set', 'epochs=12', '--set', 'batchSize=8'];

describe('miad-lab train --method uniad --scenarios', () => {
  it('trains one model over three scenarios and evaluates it per scenario and defect type', async () => {
    const root = await tmp();
    const data = join(root, 'data');
    await generateMiadMini({ outDir: data, scenarios: ['nut_and_bolt', 'photovoltaic_module'], train: 24, test: 24, size: 128, seed: 7 });
    // wind_turbine at another size, in the same dataset folder.
    await generateMiadMini({ outDir: join(root, 'other'), scenarios: ['wind_turbine'], train: 24, test: 24, size: 96, seed: 7 });
    await cp(join(root, 'other', 'wind_turbine'), join(data, 'wind_turbine'), { recursive: true });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, data, '--name', 'mini'], capture().io)).toBe(0);

    const c = capture();
    const code = await runCli(['train', '--workspace', ws, '--method', 'uniad', '--scenarios', SCENARIOS.join(','), '--preset', 'fast', '--backend', 'wasm', ...TEST_SET], c.io);
    expect(code, c.err.join('\n')).toBe(0);
    const err = c.err.join('\n');
    // One estimate for the one run: 24 images from each scenario.
    expect(err).toMatch(/Estimated: about .* GFLOP per image × 72 images × 12 epochs/);
    expect(err).toMatch(/Run #1 started: uniad \(fast\) on nut_and_bolt, photovoltaic_module, wind_turbine/);
    const out = c.out.join('\n');
    for (const s of SCENARIOS) expect(out).toMatch(new RegExp(`^${s}$`, 'm'));

    const runDir = join(ws, 'runs', '1');
    for (const s of SCENARIOS) for (const f of ['maps.amap', 'scores.json', 'labels.json']) expect(existsSync(join(runDir, 'scenarios', s, f)), `${s}/${f}`).toBe(true);
    const header = await readSafetensorsHeader(join(runDir, 'model.safetensors'));
    expect(header.metadata).toMatchObject({ method: 'uniad', preset: 'fast', steps: String(12 * 9) });
    expect([...header.tensors.keys()]).toContain('transformer.decoder.layers.1.learned_embed.weight');
    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as {
      summary: { warnings: string[]; train: { images: number; perScenario: Record<string, { images: number }> }; unified: { scenario: string; testImages: number }[] };
    };
    expect(result.summary.train.images).toBe(72);
    expect(Object.keys(result.summary.train.perScenario)).toEqual([...SCENARIOS]);
    expect(result.summary.unified.map((u) => [u.scenario, u.testImages])).toEqual(SCENARIOS.map((s) => [s, 24]));
    expect(result.summary.warnings.join('\n')).toMatch(/differ in size \(.*nut_and_bolt 128×128.*wind_turbine 96×96\): all are resized to 128×128/);

    const lab = await createLab(ws);
    try {
      const runs = listRuns(lab.store);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.scenarios).toEqual([...SCENARIOS]);
      const metrics = getRun(lab.store, 1).metrics;
      const pixel: Record<string, number> = {};
      for (const s of SCENARIOS) {
        pixel[s] = metrics.find((m) => m.scenario === s && m.defectType === '' && m.metric === 'pixel_auroc')?.value ?? Number.NaN;
        // Per defect type too.
        expect(metrics.filter((m) => m.scenario === s && m.defectType !== '' && m.metric === 'image_auroc').length, s).toBeGreaterThan(0);
      }
      console.info(`UniAD fast, unified over ${SCENARIOS.join(', ')}, random backbone (seeded): pixel AUROC ${JSON.stringify(pixel)}`);
      // Measured when the bars were set (seeded, deterministic): nut_and_bolt 0.554, photovoltaic_module 0.661,
      // wind_turbine 0.787, mean 0.667. A RANDOM EfficientNet and a minute of training: every scenario is
      // above chance, nut_and_bolt only just (the fast preset as a user runs it, 64 images × 30 epochs,
      // measured 0.727 / 0.771 / 0.765 on the same kind of data).
      expect(pixel['wind_turbine']).toBeGreaterThan(BARS.wind_turbine);
      expect(pixel['photovoltaic_module']).toBeGreaterThan(BARS.photovoltaic_module);
      expect(pixel['nut_and_bolt']).toBeGreaterThan(BARS.nut_and_bolt);
      expect(SCENARIOS.reduce((a, s) => a + pixel[s]!, 0) / SCENARIOS.length).toBeGreaterThan(BARS.mean);
      for (const s of SCENARIOS) expect(Number.isFinite(pixel[s]), s).toBe(true);
    } finally {
      lab.close();
    }
  }, 400_000);

  it('refuses bad input where it enters, saying why', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'a'), scenarios: ['nut_and_bolt', 'wind_turbine'], train: 4, test: 4, size: 128, seed: 1 });
    await generateMiadMini({ outDir: join(root, 'b'), scenarios: ['witness_mark'], train: 4, test: 4, size: 128, seed: 1 });
    // wind_turbine without training images.
    await rm(join(root, 'a', 'wind_turbine', 'train'), { recursive: true });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'a'), '--name', 'a'], capture().io)).toBe(0);
    expect(await runCli(['import', '--workspace', ws, join(root, 'b'), '--name', 'b'], capture().io)).toBe(0);
    const train = async (...args: string[]) => {
      const c = capture();
      const code = await runCli(['train', '--workspace', ws, '--backend', 'wasm', ...args], c.io);
      return { code, text: [...c.out, ...c.err].join('\n') };
    };
    let r = await train('--method', 'reverse_distillation', '--scenarios', 'nut_and_bolt,wind_turbine', '--preset', 'fast');
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/Reverse Distillation trains one scenario per run: --scenarios is for methods that train one model over several \(uniad\)/);
    r = await train('--method', 'uniad', '--scenarios', 'nut_and_bolt,witness_mark', '--preset', 'fast');
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/no one dataset holds all of nut_and_bolt, witness_mark: a unified run reads one dataset/);
    r = await train('--method', 'uniad', '--scenarios', 'nut_and_bolt,wind_turbine', '--preset', 'fast');
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/0 training and \d+ test images for scenario "wind_turbine"/);
    // A weights file of another method: its header says what it is.
    const other = join(root, 'rd.safetensors');
    await writeSafetensors(other, new Map([['decoder.layer1.0.conv1.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]]), { method: 'reverse_distillation' });
    r = await train('--method', 'uniad', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--set', `modelWeights=${other}`, '--set', 'epochs=0');
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/modelWeights .* is not a UniAD reconstruction: .*written by method reverse_distillation/);
    r = await train('--method', 'uniad', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--weights', other);
    expect(r.code).not.toBe(0);
    expect(r.text).toMatch(/backbone weights .* do not fit efficientnet_b4: .*It is a reverse_distillation checkpoint/);
  }, 200_000);
});

/** Set below the measured run (see the console line and the comment above): pixel AUROC per scenario and their mean. */
const BARS = { wind_turbine: 0.74, photovoltaic_module: 0.62, nut_and_bolt: 0.52, mean: 0.63 };
