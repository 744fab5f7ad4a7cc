/**
 * DRAEM as a real job (tiny, on MIAD-mini): a run killed after a checkpoint and resumed ends with the
 * weights and scores of a run never interrupted. DRAEM's own part of that is its synthesis: every
 * sample's anomaly is a function of the global step (methods/draem/inputs.ts), so the resumed run
 * must synthesise from the checkpoint's step on exactly what the uninterrupted one did; were it to
 * start the sequence again at step 0, the weights would differ.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import type { RunInfo } from '../../src/shared/types';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { jobHost } from '../jobs/helpers';

const tmp = useTmpDirs();

/** 16 images at 32 px, widths 4 / 4: 4 epochs of 4 steps, a checkpoint every 4 steps. */
const OVERRIDES = { inputSize: 32, reconstructiveWidth: 4, discriminativeWidth: 4, trainImages: 16, batchSize: 4, epochs: 4, learningRate: 1e-3, checkpointSteps: 4 };

describe('DRAEM as a job', () => {
  it('SIGKILL after a checkpoint, then runs:resume, ends with the weights, scores and synthesis counts of an uninterrupted run', async () => {
    const root = await tmp();
    await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['wind_turbine'], train: 16, test: 8, size: 64, seed: 5 });
    const ws = join(root, 'ws');
    (await createLab(ws, { create: true })).close();
    expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], { out: () => undefined, err: () => undefined })).toBe(0);
    const t = await jobHost(ws, join(root, 'config'));
    const config = { datasetId: 1, scenario: 'wind_turbine', preset: 'fast', overrides: OVERRIDES };
    const file = (runId: number, name: string) => readFile(join(ws, 'runs', String(runId), name));
    const digest = (runId: number, name: string) => fileDigest(join(ws, 'runs', String(runId), name));
    try {
      const straight = await t.start('draem', config, { backend: 'wasm' });
      expect((await t.waitForStatus(straight.id, ['done', 'failed'])).status).toBe('done');

      const run = await t.start('draem', config, { backend: 'wasm' });
      await t.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number }).runId === run.id && (e.payload as { step: number }).step >= 8, 'checkpoint 8');
      process.kill(t.handles.get(run.id)!.pid!, 'SIGKILL');
      expect((await t.waitForStatus(run.id, ['failed', 'done'])).status).toBe('failed');
      const from = t.events.length;
      await t.host.invoke('runs:resume', { runId: run.id });
      const ended = await t.waitFor(
        (e) => t.events.indexOf(e) >= from && e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === run.id && ['done', 'failed', 'cancelled'].includes((e.payload as { run: RunInfo }).run.status),
        'the resumed run to end',
      );
      expect((ended.payload as { run: RunInfo }).run.status).toBe('done');

      const summary = JSON.parse((await file(run.id, 'result.json')).toString()) as { summary: { train: { resumedFromStep: number; steps: number } } };
      expect(summary.summary.train.resumedFromStep).toBeGreaterThanOrEqual(8);
      expect(summary.summary.train.resumedFromStep).toBeLessThan(16);
      expect(summary.summary.train.steps).toBe(16);
      expect(await digest(run.id, 'model.safetensors')).toBe(await digest(straight.id, 'model.safetensors'));
      expect((await file(run.id, 'scores.json')).toString()).toBe((await file(straight.id, 'scores.json')).toString());
      // The resumed process synthesised only the steps after its checkpoint.
      const record = JSON.parse((await file(run.id, 'synthesis.json')).toString()) as { synthesis: { batches: number } };
      expect(record.synthesis.batches).toBe(16 - summary.summary.train.resumedFromStep);
    } finally {
      await t.host.close();
    }
  }, 180_000);
});
