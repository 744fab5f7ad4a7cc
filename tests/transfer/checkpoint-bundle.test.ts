/**
 * Checkpoint bundles (transfer/checkpoint-bundle.ts): a job SIGKILLed after a checkpoint in one
 * workspace (a worker that died), its checkpoint moved through a blob store into a run of another
 * workspace (the host the cell is retried on), which resumes from it and ends as a run never
 * interrupted does, as in the resume tests (tests/jobs/resume.test.ts, the method job tests).
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { insertJobRun, setRunStatus } from '../../src/main/core/store/runs-repo';
import { DirBlobStore } from '../../src/main/core/transfer/blob-store';
import { bundleCheckpoint, restoreCheckpoint } from '../../src/main/core/transfer/checkpoint-bundle';
import { checkpointsDir } from '../../src/main/core/jobs/checkpoints';
import type { Lab } from '../../src/main/core/lab';
import { fileDigest, useTmpDirs } from '../helpers/tmp';
import { jobHost, killAfterCheckpoint, miniWorkspaceJobHost, resumeToEnd, waitForEnd } from '../jobs/helpers';

const tmp = useTmpDirs();

/** The run a retried cell gets on the new host: the same job config, failed, waiting for a checkpoint to resume from. */
function retriedRun(lab: Lab, jobKind: string, config: Record<string, unknown>, scenarios: string[] = []): number {
  const dataset = typeof config['datasetId'] === 'number' ? lab.listDatasets().find((d) => d.id === config['datasetId'])! : null;
  const id = insertJobRun(lab.store, {
    name: 'retried cell',
    jobKind,
    method: jobKind,
    scenarios,
    datasetId: dataset?.id ?? null,
    datasetRoot: dataset?.root ?? null,
    config,
    weights: null,
    randomInit: false,
    requestedBackend: null,
  });
  setRunStatus(lab.store, id, 'failed', 'interrupted: its worker died');
  return id;
}

describe('a checkpoint moved to another workspace', () => {
  it('resumes a job there, which ends as an uninterrupted run does', async () => {
    const root = await tmp();
    const config = { steps: 24, stepMs: 15, checkpointEvery: 4 };
    const a = await jobHost(join(root, 'ws-a'), join(root, 'config-a'));
    const b = await jobHost(join(root, 'ws-b'), join(root, 'config-b'));
    try {
      const straight = await b.start('count', config);
      expect((await waitForEnd(b, straight.id)).status).toBe('done');
      const result = async (t: typeof b, id: number) => JSON.parse(await readFile(join(t.lab().jobs.runDir(id), 'count.json'), 'utf8')) as unknown;

      const killed = await a.start('count', config);
      expect((await killAfterCheckpoint(a, killed.id, 8)).status).toBe('failed');
      const blobs = new DirBlobStore(join(root, 'blobs'));
      const bundled = await bundleCheckpoint(a.lab().jobs.runDir(killed.id), blobs);
      expect(bundled!.step).toBeGreaterThanOrEqual(8);

      const retried = retriedRun(b.lab(), 'count', config);
      expect(await restoreCheckpoint(blobs, bundled!.digest, b.lab().jobs.runDir(retried))).toEqual({ step: bundled!.step });
      expect((await resumeToEnd(b, retried)).status).toBe('done');
      expect(await result(b, retried)).toEqual(await result(b, straight.id));
      const summary = JSON.parse(await readFile(join(b.lab().jobs.runDir(retried), 'result.json'), 'utf8')) as { summary: { resumedFrom: number } };
      expect(summary.summary.resumedFrom).toBe(bundled!.step);
      // A run with no checkpoint bundles to nothing.
      expect(await bundleCheckpoint(join(root, 'no-such-run'), blobs)).toBeNull();
    } finally {
      await a.host.close();
      await b.host.close();
    }
  });

  it('resumes a trained method (64 px Auto-Encoder) on the other host to the weights and scores of an uninterrupted run; a corrupted checkpoint blob is refused', async () => {
    const rootA = await tmp();
    const rootB = await tmp();
    const mini: Parameters<typeof miniWorkspaceJobHost>[1] = { scenarios: ['nut_and_bolt'], train: 12, test: 8, size: 64, seed: 5 };
    const { t: a } = await miniWorkspaceJobHost(rootA, mini);
    const { t: b } = await miniWorkspaceJobHost(rootB, mini);
    // 12 images in batches of 4 for 4 epochs: 12 steps, a checkpoint every 2.
    const config = { datasetId: 1, scenario: 'nut_and_bolt', preset: 'fast', overrides: { epochs: 4, batchSize: 4, checkpointSteps: 2 } };
    try {
      const straight = await b.start('autoencoder', config, { backend: 'wasm' });
      const killed = await a.start('autoencoder', config, { backend: 'wasm' });
      expect((await killAfterCheckpoint(a, killed.id, 2)).status).toBe('failed');
      expect((await waitForEnd(b, straight.id)).status).toBe('done');

      const blobs = new DirBlobStore(join(rootA, 'blobs'));
      const bundled = (await bundleCheckpoint(a.lab().jobs.runDir(killed.id), blobs))!;
      const retried = retriedRun(b.lab(), 'autoencoder', config, ['nut_and_bolt']);
      const retriedDir = b.lab().jobs.runDir(retried);

      // A checkpoint blob corrupted in the store is refused before anything is written.
      const manifest = JSON.parse(Buffer.from(await blobs.get(bundled.digest)).toString()) as { blobs: Record<string, { sha256: string }> };
      const victim = Object.values(manifest.blobs)[0]!.sha256;
      const victimPath = join(rootA, 'blobs', 'sha256', victim.slice(0, 2), victim);
      const good = await readFile(victimPath);
      await writeFile(victimPath, good.subarray(0, good.length - 1));
      await expect(restoreCheckpoint(blobs, bundled.digest, retriedDir)).rejects.toThrow(/is corrupted/);
      expect(existsSync(checkpointsDir(retriedDir))).toBe(false);
      await writeFile(victimPath, good);

      await restoreCheckpoint(blobs, bundled.digest, retriedDir);
      expect((await resumeToEnd(b, retried)).status).toBe('done');
      const summary = JSON.parse(await readFile(join(retriedDir, 'result.json'), 'utf8')) as { summary: { train: { resumedFromStep: number } } };
      expect(summary.summary.train.resumedFromStep).toBe(bundled.step);
      expect(bundled.step).toBeGreaterThanOrEqual(2);
      expect(bundled.step).toBeLessThan(12);
      const file = (id: number, name: string) => join(b.lab().jobs.runDir(id), name);
      expect(await fileDigest(file(retried, 'model.safetensors'))).toBe(await fileDigest(file(straight.id, 'model.safetensors')));
      expect(await readFile(file(retried, 'scores.json'), 'utf8')).toBe(await readFile(file(straight.id, 'scores.json'), 'utf8'));
    } finally {
      await a.host.close();
      await b.host.close();
    }
  });
});
