/**
 * A trained method as a real job (the U-Net Auto-Encoder, tiny, on MIAD-mini): in its own process,
 * live loss, checkpoints; SIGKILL after a checkpoint → `runs:resume` → the same final weights and
 * scores as a run never interrupted; a cancel checkpoints and resumes too; bad input refused with
 * a clear message: overrides out of range, weights for a method without a backbone, a truncated
 * checkpoint, a checkpoint of another configuration.
 */
import { describe, expect, it } from 'vitest';
import { cp, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab } from '../../src/main/core/lab';
import type { RunProgress } from '../../src/shared/calls/runs';
import type { RunInfo } from '../../src/shared/types';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { jobHost } from '../jobs/helpers';

const tmp = useTmpDirs();

/** 16 images at 32 px, base width 4: 6 epochs of 4 steps, a checkpoint every 4 steps. */
const OVERRIDES = { inputSize: 32, baseWidth: 4, latentChannels: 4, trainImages: 16, batchSize: 4, epochs: 6, checkpointSteps: 4 };

async function workspace() {
  const root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 16, test: 12, size: 64, seed: 5 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  const quiet = { out: () => undefined, err: () => undefined };
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
  const t = await jobHost(ws, join(root, 'config'));
  const config = (overrides: Record<string, unknown> = OVERRIDES) => ({ datasetId: 1, scenario: 'nut_and_bolt', preset: 'fast', overrides });
  const file = (runId: number, name: string) => readFile(join(ws, 'runs', String(runId), name));
  const digest = (runId: number, name: string) => fileDigest(join(ws, 'runs', String(runId), name));
  /** Resumes a run and waits for how that resumed run ends (events before the resume do not count). */
  const resumeAndWait = async (runId: number): Promise<RunInfo> => {
    const from = t.events.length;
    await t.host.invoke('runs:resume', { runId });
    const ended = await t.waitFor(
      (e) =>
        t.events.indexOf(e) >= from &&
        e.event === 'runs:changed' &&
        (e.payload as { run: RunInfo }).run.id === runId &&
        ['done', 'failed', 'cancelled'].includes((e.payload as { run: RunInfo }).run.status),
      `resumed run ${runId} to end`,
    );
    return (ended.payload as { run: RunInfo }).run;
  };
  return { t, ws, config, file, digest, resumeAndWait };
}

function checkpointAt(runId: number, atLeast: number) {
  return (e: { event: string; payload: unknown }) => e.event === 'runs:checkpoint' && (e.payload as { runId: number }).runId === runId && (e.payload as { step: number }).step >= atLeast;
}

describe('a trained method as a job', () => {
  it('SIGKILL after a checkpoint, then runs:resume, ends with the weights and scores of an uninterrupted run', async () => {
    const { t, config, file, digest, resumeAndWait } = await workspace();
    const straight = await t.start('autoencoder', config(), { backend: 'wasm' });
    expect((await t.waitForStatus(straight.id, ['done', 'failed'])).status).toBe('done');
    const losses = t.events.filter((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === straight.id && (e.payload as RunProgress).loss !== undefined);
    expect(losses.length).toBeGreaterThan(0);
    const series = (await t.host.invoke('runs:series', { runId: straight.id })) as Record<string, { step: number; value: number }[]>;
    expect(series['loss']!.map((p) => p.step)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(series['epoch_loss']).toHaveLength(6);

    const run = await t.start('autoencoder', config(), { backend: 'wasm' });
    await t.waitFor(checkpointAt(run.id, 8), 'checkpoint 8');
    process.kill(t.handles.get(run.id)!.pid!, 'SIGKILL');
    expect((await t.waitForStatus(run.id, ['failed', 'done'])).status).toBe('failed');
    expect((await resumeAndWait(run.id)).status).toBe('done');

    const summary = JSON.parse((await file(run.id, 'result.json')).toString()) as { summary: { train: { resumedFromStep: number; steps: number } } };
    expect(summary.summary.train.resumedFromStep).toBeGreaterThanOrEqual(8);
    expect(summary.summary.train.resumedFromStep).toBeLessThan(24);
    expect(summary.summary.train.steps).toBe(24);
    expect(await digest(run.id, 'model.safetensors')).toBe(await digest(straight.id, 'model.safetensors'));
    expect((await file(run.id, 'scores.json')).toString()).toBe((await file(straight.id, 'scores.json')).toString());
    await t.host.close();
  }, 240_000);

  it('a cancelled run checkpoints where it stopped and resumes to the same weights', async () => {
    const { t, config, digest, resumeAndWait } = await workspace();
    // No periodic checkpoints: the cancel must reach a job whose steps touch no file (cached
    // images), and the only checkpoint is the one written on cancel.
    const noPeriodic = { ...OVERRIDES, checkpointSteps: 0 };
    const straight = await t.start('autoencoder', config(noPeriodic), { backend: 'wasm' });
    const run = await t.start('autoencoder', config(noPeriodic), { backend: 'wasm' });
    expect((await t.waitForStatus(straight.id, ['done', 'failed'])).status).toBe('done');
    await t.waitFor((e) => e.event === 'runs:progress' && (e.payload as RunProgress).runId === run.id && (e.payload as RunProgress).phase === 'training' && (e.payload as RunProgress).step >= 6, 'step 6');
    await t.host.invoke('runs:cancel', { runId: run.id });
    expect((await t.waitForStatus(run.id, ['cancelled', 'done', 'failed'])).status).toBe('cancelled');
    const saved = t.events.filter(checkpointAt(run.id, 0)).map((e) => (e.payload as { step: number }).step);
    // One checkpoint, at the step where the cancel landed, before the last step.
    expect(saved).toHaveLength(1);
    expect(saved[0]).toBeGreaterThanOrEqual(6);
    expect(saved[0]).toBeLessThan(24);
    expect((await resumeAndWait(run.id)).status).toBe('done');
    expect(await digest(run.id, 'model.safetensors')).toBe(await digest(straight.id, 'model.safetensors'));
    await t.host.close();
  }, 240_000);

  it('refuses bad overrides and weights at the start, and a damaged or foreign checkpoint at resume, with clear messages', async () => {
    const { t, ws, config, resumeAndWait } = await workspace();
    await expect(t.start('autoencoder', config({ epochs: 0 }))).rejects.toThrow(/Auto-Encoder overrides: epochs: Too small: expected number to be >=1/);
    await expect(t.start('autoencoder', config({ inputSize: 40 }))).rejects.toThrow(/inputSize: must be a multiple of 16/);
    await expect(t.start('autoencoder', config({ learningRate: 'fast' }))).rejects.toThrow(/learningRate/);
    await expect(t.start('autoencoder', config({ nope: 1 }))).rejects.toThrow(/Unrecognized key: "nope"/);
    await expect(t.start('autoencoder', { ...config(), weightsFile: '/tmp/x.safetensors' })).rejects.toThrow(/trains from scratch and reads no pretrained backbone/);

    // A run killed after a checkpoint, whose checkpoint is then truncated: resuming fails loudly.
    const a = await t.start('autoencoder', config(), { backend: 'wasm' });
    await t.waitFor(checkpointAt(a.id, 4), 'checkpoint 4');
    process.kill(t.handles.get(a.id)!.pid!, 'SIGKILL');
    await t.waitForStatus(a.id, ['failed']);
    const checkpoints = join(ws, 'runs', String(a.id), 'checkpoints');
    const latest = JSON.parse(await readFile(join(checkpoints, 'latest.json'), 'utf8')) as { name: string };
    const backup = join(ws, 'backup-checkpoints');
    await cp(checkpoints, backup, { recursive: true });
    await truncate(join(checkpoints, latest.name, 'model.safetensors'), 100);
    const damaged = await resumeAndWait(a.id);
    expect(damaged.status).toBe('failed');
    expect(damaged.error).toMatch(/is damaged: step-\d+\/model.safetensors has 100 bytes, \d+ were written \(truncated\?\)/);

    // The intact checkpoint planted into a run of another configuration: refused, naming why.
    const b = await t.start('autoencoder', config({ ...OVERRIDES, baseWidth: 8 }), { backend: 'wasm' });
    await t.waitFor(checkpointAt(b.id, 4), 'checkpoint 4 of b');
    process.kill(t.handles.get(b.id)!.pid!, 'SIGKILL');
    await t.waitForStatus(b.id, ['failed']);
    const bCheckpoints = join(ws, 'runs', String(b.id), 'checkpoints');
    await rm(bCheckpoints, { recursive: true });
    await cp(backup, bCheckpoints, { recursive: true });
    const foreign = await resumeAndWait(b.id);
    expect(foreign.status).toBe('failed');
    expect(foreign.error).toMatch(/cannot resume: its checkpoint was written with another configuration/);
    await t.host.close();
  }, 240_000);
});
