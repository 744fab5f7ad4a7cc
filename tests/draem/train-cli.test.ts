/**
 * `miad-lab train --method draem` on MIAD-mini as a user runs it: the estimate, the run in its own
 * job process with the total loss and its three parts as series, the run's files (both sub-networks
 * as model.safetensors with the official names, the anomaly source in synthesis.json, the
 * reconstruction beside each test sample), a pixel AUROC clearly above chance; then the run's own
 * weights evaluated with `epochs=0` (modelWeights) give its scores again.
 *
 * The bar was measured first (wasm, this 2-core machine): the settings below (64 px, widths 8 / 8,
 * Adam 1e-3, 80 steps of 8 on 64 images, procedural textures) gave a pixel AUROC of 0.98, 0.99 and
 * 0.96 on wind_turbine with seeds 0, 1 and 2 (chance is 0.5); the bar sits well below. Shorter runs
 * are not reliable: at 48–72 steps the same scenario measured 0.42 to 0.82 depending on the seed and
 * batch size, as DRAEM's discriminator learns in jumps. The same 80-step settings on the other
 * scenarios: catenary_dropper 0.58, electrical_insulator 0.65, metal_welding 0.70, nut_and_bolt 0.64,
 * photovoltaic_module 0.80, witness_mark 0.69 (one seed each).
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

const SCENARIO = 'wind_turbine';
const TRAIN = 64;
const EPOCHS = 10;
const STEPS = (TRAIN / 8) * EPOCHS;
const SHORT = ['--set', 'inputSize=64', '--set', 'reconstructiveWidth=8', '--set', 'discriminativeWidth=8', '--set', `trainImages=${TRAIN}`, '--set', 'learningRate=0.001'];
/** Pixel AUROC bar, set below the measured value (see the file comment); 0.5 is chance. */
const PX_AUROC_BAR = 0.85;

describe('miad-lab train --method draem', () => {
  it('trains a short fast run on MIAD-mini with its three losses, stores both networks and the anomaly source, detects above chance, and evaluates its own weights again', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: [SCENARIO], train: TRAIN, test: 30, size: 64, seed: 3 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], capture().io)).toBe(0);
    const base = ['train', '--workspace', ws, '--method', 'draem', '--scenario', SCENARIO, '--preset', 'fast', '--backend', 'wasm', ...SHORT];

    const c = capture();
    expect(await runCli([...base, '--set', `epochs=${EPOCHS}`], c.io), c.err.join('\n')).toBe(0);
    const err = c.err.join('\n');
    expect(err).toMatch(new RegExp(`Estimated: about .* of training on wasm: 0\\.480 GFLOP per image × ${TRAIN} images × ${EPOCHS} epochs`));
    expect(err).toMatch(/procedural anomaly textures, seed 0 \(no DTD folder given\)/);
    expect(err).toMatch(new RegExp(`training +\\d+ / ${STEPS} +loss [\\d.]+`));
    expect(c.out.join('\n')).toMatch(/Run #1 done {2}\(backend wasm, weights none\)/);

    const runDir = join(ws, 'runs', '1');
    const header = await readSafetensorsHeader(join(runDir, 'model.safetensors'));
    expect(header.metadata).toMatchObject({ method: 'draem', preset: 'fast', steps: String(STEPS) });
    const names = [...header.tensors.keys()];
    for (const n of ['encoder.block1.0.weight', 'decoder.fin_out.0.weight', 'encoder_segment.block6.3.weight', 'decoder_segment.db_b.0.weight', 'decoder_segment.fin_out.0.weight']) expect(names, n).toContain(n);
    expect(header.tensors.get('decoder_segment.fin_out.0.weight')?.shape).toEqual([2, 8, 3, 3]);

    const record = JSON.parse(await readFile(join(runDir, 'synthesis.json'), 'utf8')) as { anomalySource: unknown; synthesis: { samples: number; batches: number; prefetchHits: number } };
    expect(record.anomalySource).toEqual({ kind: 'procedural', seed: 0, pool: 256, size: 64 });
    expect(record.synthesis).toMatchObject({ samples: TRAIN * EPOCHS, batches: STEPS });
    // Every batch but the first was synthesised ahead of its step.
    expect(record.synthesis.prefetchHits).toBe(STEPS - 1);

    const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as { summary: { samples: { images: Record<string, string> }[]; train: Record<string, unknown> } };
    expect(result.summary.train).toMatchObject({ epochs: EPOCHS, steps: STEPS, parameters: 718_181 });
    expect(result.summary.samples.length).toBeGreaterThanOrEqual(4);
    for (const s of result.summary.samples) {
      expect(Object.keys(s.images)).toEqual(['reconstruction']);
      expect(existsSync(join(runDir, s.images['reconstruction']!))).toBe(true);
    }

    const lab = await createLab(ws);
    let pixelAuroc = 0;
    try {
      const detail = getRun(lab.store, 1);
      pixelAuroc = detail.metrics.find((m) => m.defectType === '' && m.metric === 'pixel_auroc')?.value ?? 0;
      const series = getSeries(lab.store, 1);
      for (const name of ['loss', 'loss/l2', 'loss/ssim', 'loss/focal']) expect(series[name]?.map((p) => p.step), name).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
      // Each step's total is the sum of its parts.
      const at = (name: string, i: number): number => series[name]![i]!.value;
      for (const i of [0, STEPS - 1]) expect(at('loss', i)).toBeCloseTo(at('loss/l2', i) + at('loss/ssim', i) + at('loss/focal', i), 4);
      expect(series['epoch_loss']).toHaveLength(EPOCHS);
    } finally {
      lab.close();
    }
    console.info(`DRAEM CLI run on ${SCENARIO}: pixel AUROC ${pixelAuroc.toFixed(4)} (bar ${PX_AUROC_BAR})`);
    expect(pixelAuroc).toBeGreaterThan(PX_AUROC_BAR);

    // The run's own weights, evaluated without training: the same scores, image for image.
    const again = capture();
    expect(await runCli([...base, '--set', 'epochs=0', '--set', `modelWeights=${join(runDir, 'model.safetensors')}`], again.io), again.err.join('\n')).toBe(0);
    expect(await readFile(join(ws, 'runs', '2', 'scores.json'), 'utf8')).toBe(await readFile(join(runDir, 'scores.json'), 'utf8'));
  }, 240_000);
});
