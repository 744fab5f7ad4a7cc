/**
 * The benchmark queue when things go wrong, with real parts (redis-server, `miad-lab worker`
 * processes, job processes): a worker SIGKILLed mid-run after a checkpoint — its cell finishes on
 * the other worker, resumed from that checkpoint, and exactly one run is merged; the coordinator
 * closed while a cell finishes — it merges the cell once when it opens the queue again; a worker
 * stopped with SIGTERM mid-run checkpoints, exits cleanly and leaves the cell to resume elsewhere.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { openQueue } from '../../src/main/core/queue';
import { checkpointKey } from '../../src/main/core/queue/cell-result';
import { KEY_PREFIX, QUEUE_NAME, connectRedis, parseRedisUrl, redisOptions } from '../../src/main/core/queue/connection';
import { Queue } from 'bullmq';
import { listRuns } from '../../src/main/core/store/runs-repo';
import { startRedis } from '../helpers/redis';
import { useTmpDirs } from '../helpers/tmp';
import { autoencoderCell, coordinatorWorkspace, mergedCells, patchcoreCell, settledJob, startWorkerProcess } from './helpers';

const tmp = useTmpDirs();

describe('the benchmark queue recovers', () => {
  it('resumes a SIGKILLed worker’s cell on the other worker from its checkpoint and merges one run; merges a cell finished while the coordinator was away, once', async () => {
    const root = await tmp();
    const redis = await startRedis(root);
    const lab = await coordinatorWorkspace(root);
    const workers = await Promise.all([startWorkerProcess(redis.url('worker'), join(root, 'w1')), startWorkerProcess(redis.url('worker'), join(root, 'w2'))]);
    const { client } = await connectRedis(redis.url('coordinator'));
    let queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 500 });
    try {
      // 25 epochs of 4 steps, a checkpoint every 4.
      const merged = mergedCells(queue, 1);
      const { cells } = await queue.enqueue({ datasetId: 1, cells: [autoencoderCell('nut_and_bolt', 25, 7)] });
      const fingerprint = cells[0]!.fingerprint;
      let saved: Record<string, string> = {};
      while (!(Number(saved['step']) >= 8)) {
        await sleep(100);
        saved = await client.hgetall(checkpointKey(fingerprint));
      }
      const victim = workers.find((w) => w.name === saved['host'])!;
      const survivor = workers.find((w) => w !== victim)!;
      expect(victim).toBeDefined();
      victim.child.kill('SIGKILL');
      await victim.exited;

      const [cell] = await merged;
      expect(cell!.host).toBe(survivor.name);
      expect(cell!.resumedFromStep).toBeGreaterThanOrEqual(Number(saved['step']));
      expect(cell!.resumedFromStep).toBeLessThan(100);
      const runs = listRuns(lab.store);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ method: 'autoencoder', status: 'done' });
      const result = JSON.parse(await readFile(join(lab.dir, 'runs', String(runs[0]!.id), 'result.json'), 'utf8')) as { summary: { train: { resumedFromStep: number; steps: number } } };
      expect(result.summary.train.resumedFromStep).toBe(cell!.resumedFromStep);
      expect(result.summary.train.steps).toBe(100);
      expect(await client.exists(checkpointKey(fingerprint))).toBe(0);

      // The coordinator goes away right after enqueueing; the cell finishes meanwhile.
      const offline = await queue.enqueue({ datasetId: 1, cells: [patchcoreCell('wind_turbine', 3)] });
      await queue.close();
      await survivor.waitForLine(new RegExp(`cell ${offline.cells[0]!.fingerprint.slice(0, 12)} .*: done`));
      const peek = new Queue(QUEUE_NAME, { connection: redisOptions(parseRedisUrl(redis.url('coordinator'))), prefix: KEY_PREFIX });
      expect(await (await settledJob(peek, offline.cells[0]!.jobId)).getState()).toBe('completed');
      await peek.close();
      expect(listRuns(lab.store)).toHaveLength(1);

      // Back: opening the queue merges it, once; syncing again and reopening add nothing.
      const reported: number[] = [];
      queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 500, onMerged: (c) => reported.push(c.runId) });
      const after = listRuns(lab.store);
      expect(reported).toEqual([after.find((r) => r.method === 'patchcore')!.id]);
      expect(after).toHaveLength(2);
      expect(after.find((r) => r.method === 'patchcore')).toMatchObject({ status: 'done', scenarios: ['wind_turbine'] });
      expect(await queue.sync()).toEqual([]);
      await queue.close();
      queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 500 });
      expect(listRuns(lab.store)).toHaveLength(2);
      expect((await queue.cells()).map((c) => c.runId).sort()).toEqual(after.map((r) => r.id).sort());
    } finally {
      await queue.close();
      client.disconnect();
    }
  }, 240_000);

  it('a worker stopped with SIGTERM mid-run uploads a checkpoint, exits with 0, and the cell resumes on the next worker', async () => {
    const root = await tmp();
    const redis = await startRedis(root);
    const lab = await coordinatorWorkspace(root);
    const first = await startWorkerProcess(redis.url('worker'), join(root, 'w1'));
    const { client } = await connectRedis(redis.url('coordinator'));
    const peek = new Queue(QUEUE_NAME, { connection: redisOptions(parseRedisUrl(redis.url('coordinator'))), prefix: KEY_PREFIX });
    const queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 200 });
    try {
      const merged = mergedCells(queue, 1);
      const { cells } = await queue.enqueue({ datasetId: 1, cells: [autoencoderCell('wind_turbine', 25, 9)] });
      const { fingerprint, jobId } = cells[0]!;
      let saved: Record<string, string> = {};
      while (!(Number(saved['step']) >= 4)) {
        await sleep(100);
        saved = await client.hgetall(checkpointKey(fingerprint));
      }
      first.child.kill('SIGTERM');
      await first.exited;
      expect(first.child.exitCode).toBe(0);
      await first.waitForLine(/stopped; it resumes from step \d+ elsewhere/);
      const job = (await peek.getJob(jobId))!;
      expect(['wait', 'delayed']).toContain(await job.getState());
      expect(job.attemptsMade).toBe(1);
      // The cancel checkpointed the step it stopped at, and that is what was uploaded.
      const stoppedAt = Number((await client.hgetall(checkpointKey(fingerprint)))['step']);
      expect(stoppedAt).toBeGreaterThanOrEqual(Number(saved['step']));

      const second = await startWorkerProcess(redis.url('worker'), join(root, 'w2'));
      const [cell] = await merged;
      expect(cell).toMatchObject({ host: second.name, resumedFromStep: stoppedAt });
      expect(listRuns(lab.store)).toHaveLength(1);
    } finally {
      await queue.close();
      await peek.close();
      client.disconnect();
    }
  }, 180_000);
});
