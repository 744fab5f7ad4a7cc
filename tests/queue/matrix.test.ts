/**
 * The benchmark queue end to end with real parts: Debian's redis-server with ACL users, two
 * `miad-lab worker` processes, real job processes training on MIAD-mini. A 2 methods × 2 scenarios
 * matrix completes and is merged into the coordinator's workspace (one run per cell, with
 * metrics); the same matrix enqueued again adds nothing; a payload that fails validation, or whose
 * dataset bundle does not match its digest, is not run and not retried.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { openQueue } from '../../src/main/core/queue';
import { KEY_PREFIX, QUEUE_NAME, connectRedis, parseRedisUrl, redisOptions } from '../../src/main/core/queue/connection';
import { RedisBlobStore } from '../../src/main/core/queue/redis-blob-store';
import { cellFingerprint, cellJobId, makeCellPayload } from '../../src/main/core/queue/payload';
import { getRun, listRuns } from '../../src/main/core/store/runs-repo';
import { startRedis } from '../helpers/redis';
import { useTmpDirs } from '../helpers/tmp';
import { SCENARIOS, autoencoderCell, coordinatorWorkspace, mergedCells, patchcoreCell, settledJob, startWorkerProcess } from './helpers';

const tmp = useTmpDirs();

describe('a benchmark matrix on the Redis queue with two worker processes', () => {
  it('runs 2 methods × 2 scenarios, merges one run per cell, and adds nothing when enqueued again', async () => {
    const root = await tmp();
    const redis = await startRedis(root);
    const lab = await coordinatorWorkspace(root);
    const workers = await Promise.all([startWorkerProcess(redis.url('worker'), join(root, 'w1'), 10_000), startWorkerProcess(redis.url('worker'), join(root, 'w2'), 10_000)]);
    const queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 500 });
    try {
      // Tagged as a benchmark would tag them: the tag stays here and comes back with the merged cell.
      const cells = SCENARIOS.flatMap((s) => [
        { ...autoencoderCell(s), tag: `autoencoder ${s}` },
        { ...patchcoreCell(s), tag: `patchcore ${s}` },
      ]);
      const merged = mergedCells(queue, 4);
      const first = await queue.enqueue({ datasetId: 1, cells });
      expect(first).toMatchObject({ added: 4, existing: 0 });
      const done = await merged;

      expect(done.every((c) => c.created)).toBe(true);
      for (const c of done) {
        const run = getRun(lab.store, c.runId);
        expect(c.tag).toBe(`${run.method} ${run.scenarios.join(',')}`);
      }
      const runs = listRuns(lab.store);
      expect(runs).toHaveLength(4);
      const got = runs.map((r) => `${r.method} ${r.scenarios.join(',')}`).sort();
      expect(got).toEqual(SCENARIOS.flatMap((s) => [`autoencoder ${s}`, `patchcore ${s}`]).sort());
      for (const run of runs) {
        const detail = getRun(lab.store, run.id);
        expect(detail.status).toBe('done');
        const auroc = detail.metrics.find((m) => m.metric === 'pixel_auroc' && m.defectType === '')?.value;
        expect(auroc).toBeGreaterThan(0);
        expect(auroc).toBeLessThanOrEqual(1);
        // The run's files came along: its anomaly maps are in the coordinator's workspace.
        expect(existsSync(join(lab.dir, 'runs', String(run.id), 'maps.amap'))).toBe(true);
      }
      expect(new Set(done.map((c) => c.host)).size).toBeGreaterThanOrEqual(1);
      expect(done.every((c) => workers.some((w) => w.name === c.host))).toBe(true);

      // The same matrix again: every cell is already in the queue; nothing is added, run or merged.
      const again = await queue.enqueue({ datasetId: 1, cells });
      expect(again).toMatchObject({ added: 0, existing: 4 });
      expect(again.cells.map((c) => c.jobId).sort()).toEqual(first.cells.map((c) => c.jobId).sort());
      expect(await queue.sync()).toEqual([]);
      expect(listRuns(lab.store)).toHaveLength(4);
      expect((await queue.cells()).map((c) => c.state)).toEqual(['completed', 'completed', 'completed', 'completed']);
    } finally {
      await queue.close();
    }
  }, 240_000);

  it('fails a payload that does not validate, or whose dataset does not match its digest, at once, without running or retrying it', async () => {
    const root = await tmp();
    const redis = await startRedis(root);
    const worker = await startWorkerProcess(redis.url('worker'), join(root, 'w1'));
    const queue = new Queue(QUEUE_NAME, { connection: redisOptions(parseRedisUrl(redis.url('coordinator'))), prefix: KEY_PREFIX });
    try {
      // Well formed, its fingerprint right, but the method refuses its overrides.
      const base = { method: 'autoencoder', preset: 'fast', overrides: { epochs: -3 }, scenarios: ['nut_and_bolt'], seed: 0, dataset: { sha256: 'a'.repeat(64) }, codeVersion: '0.1.0' };
      const fingerprint = cellFingerprint(base);
      const bad = { v: 1, cellUid: 'c0ffee00-bad', fingerprint, createdAt: new Date().toISOString(), ...base };
      const notACell = { v: 1, method: 'rm -rf /', dataset: { path: '/etc' } };
      const retried = { attempts: 3, backoff: { type: 'fixed' as const, delay: 100 } };
      const jobs = [await queue.add('autoencoder', bad, { jobId: cellJobId(fingerprint), ...retried }), await queue.add('x', notACell, { jobId: 'cell-junk', ...retried })];
      for (const job of jobs) {
        await worker.waitForLine(new RegExp(`cell ${job.id}: refused`));
      }
      for (const job of jobs) {
        const now = await settledJob(queue, job.id!);
        expect(await now.getState()).toBe('failed');
        expect(now.attemptsMade).toBe(1);
        expect(now.failedReason).toMatch(/^a queued cell is not valid: /);
      }
      expect((await queue.getJob(jobs[0]!.id!))!.failedReason).toMatch(/epochs/);

      // A valid cell whose dataset bundle does not match its digest (a chunk altered in Redis): failed, not retried.
      const { client } = await connectRedis(redis.url('coordinator'));
      try {
        const digest = await new RedisBlobStore(client).put(new TextEncoder().encode('{"format":"miad-lab/dataset-bundle"}'));
        await client.set(`${KEY_PREFIX}:blob:${digest}:0`, '{"format":"something else"}');
        const cell = makeCellPayload(autoencoderCell('nut_and_bolt'), { sha256: digest }, '0.1.0');
        const job = await queue.add('autoencoder', cell, { jobId: cellJobId(cell.fingerprint), ...retried });
        await worker.waitForLine(new RegExp(`cell ${cell.fingerprint.slice(0, 12)} .*: its dataset bundle: .*corrupted`));
        const now = await settledJob(queue, job.id!);
        expect(await now.getState()).toBe('failed');
        expect(now.attemptsMade).toBe(1);
      } finally {
        client.disconnect();
      }
      expect(worker.lines.filter((l) => / started \(attempt/.test(l))).toEqual([]);
    } finally {
      await queue.close();
    }
  }, 60_000);
});

