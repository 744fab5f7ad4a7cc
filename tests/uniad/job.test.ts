/**
 * UniAD as a real job (tiny, on MIAD-mini at 128 px: 8 × 8 tokens, the smallest grid on which the 7×7
 * neighbour mask leaves every token keys): in its own process, with dropout and feature jitter on,
 * clipping by global norm (its series), checkpoints with the features from the workspace's feature
 * cache; SIGKILL after a checkpoint → `runs:resume` → the same weights and scores as a run never
 * interrupted (dropout masks and jitter are drawn from the step's seed). The job door refuses bad
 * input where it enters: several scenarios for a method that trains one per run, a scenario
 * without training images in a unified run, a scenario listed twice, and a token grid the mask
 * would block entirely.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { killAfterCheckpoint, miniWorkspaceJobHost, resumeToEnd, waitForEnd } from '../jobs/helpers';

const tmp = useTmpDirs();

/** 8 images, 3 epochs of 2 steps, a checkpoint every 2 steps, a small transformer. */
const OVERRIDES = { inputSize: 128, trainImages: 8, batchSize: 4, epochs: 3, checkpointSteps: 2, hiddenDim: 32, heads: 4, feedforward: 64 };
const STEPS = 6;

describe('UniAD as a job', () => {
  it('clips and logs its gradient norm, and a run SIGKILLed after a checkpoint resumes to the weights and scores of an uninterrupted one', async () => {
    const root = await tmp();
    const { ws, t } = await miniWorkspaceJobHost(root, { scenarios: ['nut_and_bolt'], train: 8, test: 6, size: 128, seed: 5 });
    const config = { datasetId: 1, scenario: 'nut_and_bolt', preset: 'fast', overrides: OVERRIDES };
    const digest = (runId: number, name: string) => fileDigest(join(ws, 'runs', String(runId), name));

    const straight = await t.start('uniad', config, { backend: 'wasm' });
    expect((await waitForEnd(t, straight.id)).status).toBe('done');
    const series = (await t.host.invoke('runs:series', { runId: straight.id })) as Record<string, { step: number; value: number }[]>;
    expect(series['loss']!.map((p) => p.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    expect(series['grad_norm']).toHaveLength(STEPS);
    const result = JSON.parse((await readFile(join(ws, 'runs', String(straight.id), 'result.json'))).toString()) as { summary: { featureCache: { train: { hits: number; misses: number } } } };
    // feature_align of each training image computed once, then read from the cache.
    expect(result.summary.featureCache.train).toEqual({ hits: 16, misses: 8 });

    const run = await t.start('uniad', config, { backend: 'wasm' });
    expect((await killAfterCheckpoint(t, run.id, 2)).status).toBe('failed');
    expect((await resumeToEnd(t, run.id)).status).toBe('done');
    const summary = JSON.parse((await readFile(join(ws, 'runs', String(run.id), 'result.json'))).toString()) as { summary: { train: { resumedFromStep: number } } };
    expect(summary.summary.train.resumedFromStep).toBeGreaterThanOrEqual(2);
    expect(summary.summary.train.resumedFromStep).toBeLessThan(STEPS);
    expect(await digest(run.id, 'model.safetensors')).toBe(await digest(straight.id, 'model.safetensors'));
    expect(await digest(run.id, 'scores.json')).toBe(await digest(straight.id, 'scores.json'));

    // Refused at the start, in the caller's face.
    await expect(t.start('reverse_distillation', { datasetId: 1, scenarios: ['nut_and_bolt', 'wind_turbine'], preset: 'fast' })).rejects.toThrow(/Reverse Distillation trains one scenario per run/);
    await expect(t.start('uniad', { ...config, scenario: undefined, scenarios: ['nut_and_bolt', 'wind_turbine'] })).rejects.toThrow(/0 training and 0 test images for scenario "wind_turbine"/);
    await expect(t.start('uniad', { ...config, scenario: undefined, scenarios: ['nut_and_bolt', 'nut_and_bolt'] })).rejects.toThrow(/listed twice/);
    await expect(t.start('uniad', { ...config, overrides: { ...OVERRIDES, inputSize: 64 } })).rejects.toThrow(/4×4 token grid/);
    await t.host.close();
  }, 240_000);
});
