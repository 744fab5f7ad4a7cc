/**
 * FastFlow as a real job (tiny, on MIAD-mini): in its own process, live loss and its part per scale,
 * checkpoints with the backbone's features from the workspace's feature cache; SIGKILL after a
 * checkpoint → `runs:resume` → the same flows and scores as a run never interrupted; the job door
 * refuses bad overrides at the start, and a resume from a checkpoint another method wrote.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunProgress } from '../../src/shared/calls/runs';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { killAfterCheckpoint, miniWorkspaceJobHost, resumeToEnd, waitForEnd } from '../jobs/helpers';

const tmp = useTmpDirs();

/** 8 images at 32 px: 5 epochs of 2 steps, a checkpoint every 2 steps. */
const OVERRIDES = { inputSize: 32, trainImages: 8, batchSize: 4, epochs: 5, checkpointSteps: 2 };
const STEPS = 10;

describe('FastFlow as a job', () => {
  it('streams its loss, and a run SIGKILLed after a checkpoint resumes to the weights and scores of an uninterrupted one', async () => {
    const root = await tmp();
    const { ws, t } = await miniWorkspaceJobHost(root, { scenarios: ['nut_and_bolt'], train: 16, test: 8, size: 64, seed: 5 });
    const config = { datasetId: 1, scenario: 'nut_and_bolt', preset: 'fast', overrides: OVERRIDES };
    const file = (runId: number, name: string) => readFile(join(ws, 'runs', String(runId), name));
    const digest = (runId: number, name: string) => fileDigest(join(ws, 'runs', String(runId), name));

    const straight = await t.start('fastflow', config, { backend: 'wasm' });
    expect((await waitForEnd(t, straight.id)).status).toBe('done');
    const losses = t.events.filter((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === straight.id && (e.payload as RunProgress).loss !== undefined);
    expect(losses.length).toBeGreaterThan(0);
    const series = (await t.host.invoke('runs:series', { runId: straight.id })) as Record<string, { step: number; value: number }[]>;
    expect(series['loss']!.map((p) => p.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1));
    for (const part of ['loss/layer1', 'loss/layer2', 'loss/layer3']) expect(series[part], part).toHaveLength(STEPS);

    const run = await t.start('fastflow', config, { backend: 'wasm' });
    expect((await killAfterCheckpoint(t, run.id, 4)).status).toBe('failed');
    expect((await resumeToEnd(t, run.id)).status).toBe('done');

    const summary = JSON.parse((await file(run.id, 'result.json')).toString()) as { summary: { train: { resumedFromStep: number; steps: number } } };
    expect(summary.summary.train.resumedFromStep).toBeGreaterThanOrEqual(4);
    expect(summary.summary.train.resumedFromStep).toBeLessThan(STEPS);
    expect(await digest(run.id, 'model.safetensors')).toBe(await digest(straight.id, 'model.safetensors'));
    expect((await file(run.id, 'scores.json')).toString()).toBe((await file(straight.id, 'scores.json')).toString());

    // Refused at the start, in the caller's face.
    await expect(t.start('fastflow', { ...config, overrides: { inputSize: 40 } })).rejects.toThrow(/inputSize: must be a multiple of 16/);
    await expect(t.start('fastflow', { ...config, overrides: { clamp: -1 } })).rejects.toThrow(/clamp/);
    await t.host.close();
  }, 300_000);
});
