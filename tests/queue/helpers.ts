/**
 * What the queue tests share: cluster.ts's workspace and worker processes, cleaned up after the
 * test file, and a way to wait for merged cells.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, Queue } from 'bullmq';
import { afterAll } from 'vitest';
import type { Lab } from '../../src/main/core/lab';
import type { BenchmarkQueue, MergedCell } from '../../src/main/core/queue/coordinator';
import { makeCoordinatorWorkspace, spawnWorkerProcess, type WorkerProcess } from './cluster';

export { SCENARIOS, autoencoderCell, patchcoreCell, type WorkerProcess } from './cluster';

/** A coordinator workspace (cluster.ts), closed after the test file. */
export async function coordinatorWorkspace(root: string): Promise<Lab> {
  const lab = await makeCoordinatorWorkspace(root);
  afterAll(() => lab.close());
  return lab;
}

/** A worker process (cluster.ts) stopped after the test file. */
export async function startWorkerProcess(url: string, cacheDir: string, lockMs?: number): Promise<WorkerProcess> {
  const worker = await spawnWorkerProcess(url, cacheDir, lockMs);
  afterAll(() => worker.stop());
  return worker;
}

/** Resolves once `count` cells have been merged through `queue` (from now on). */
export function mergedCells(queue: BenchmarkQueue, count: number): Promise<MergedCell[]> {
  return new Promise((resolve) => {
    const got: MergedCell[] = [];
    const off = queue.onMerged((cell) => {
      got.push(cell);
      if (got.length === count) {
        off();
        resolve(got);
      }
    });
  });
}

/** The job once no worker holds it any more (a worker logs how a cell ended just before it hands it back). */
export async function settledJob(queue: Queue, id: string): Promise<Job> {
  for (;;) {
    // The state first, then the job read afresh: a job read before its state changed is a stale snapshot.
    if (!['active', 'waiting', 'wait', 'unknown'].includes(await queue.getJobState(id))) return (await queue.getJob(id))!;
    await sleep(50);
  }
}
