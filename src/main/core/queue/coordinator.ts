/**
 * The coordinator's side of the benchmark queue: the app or the CLI, which owns the workspace,
 * enqueues cells and merges what workers finish. The API the benchmark runner calls:
 *
 *   const queue = await openQueue({ url, lab });
 *   await queue.enqueue({ datasetId, cells });   // uploads the dataset bundles, then adds the cells
 *   queue.onMerged((cell) => …);                 // a finished cell is a run in `lab` now
 *   await queue.sync();                          // merges cells that finished while we were away
 *   await queue.close();
 *
 * Enqueueing uploads each distinct dataset bundle (transfer/dataset-bundle.ts) to the queue's blob
 * store first, then adds one BullMQ job per cell with id `cell-<fingerprint>`: a cell already in
 * the queue (waiting, running or finished) is not added again.
 *
 * The coordinator remembers its cells in `<workspace>/queue/cells.json` (fingerprint → dataset,
 * merged run), written atomically, so a coordinator that was closed or offline while a cell
 * finished merges it when it opens the queue again (`sync`, run by `openQueue`), and only cells it
 * enqueued are merged into its workspace. Merging imports the run bundle (transfer/run-bundle.ts),
 * idempotent on the cell's uid: a result merged twice is stored once.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { LabError } from '../../../shared/errors';
import type { Lab } from '../lab';
import { appVersion } from '../lab-host';
import { writeFileAtomic } from '../fs-util';
import { bundleDataset } from '../transfer/dataset-bundle';
import { importRun } from '../transfer/run-bundle';
import { cellResultSchema } from './cell-result';
import { KEY_PREFIX, QUEUE_NAME, connectRedis, redisOptions } from './connection';
import { cellJobId, cellMethodConfig, makeCellPayload, type CellSpec } from './payload';
import { RedisBlobStore } from './redis-blob-store';

export interface OpenQueueOptions {
  /** `redis://user:password@host:port` of the coordinator's ACL user. */
  url: string;
  /** The workspace results merge into. */
  lab: Lab;
  /** Tries per cell (default 3) and the first retry's delay, doubled each time (default 60 s). */
  attempts?: number;
  backoffMs?: number;
  /** Told of every merged cell, including those merged as the queue opens (cells finished while it was closed). */
  onMerged?: (cell: MergedCell) => void;
}

export interface MergedCell {
  fingerprint: string;
  /** The tag the cell was enqueued with here (null: none). */
  tag: string | null;
  cellUid: string;
  runId: number;
  /** False when the run was already in the workspace (merged before): nothing was stored. */
  created: boolean;
  host: string;
  resumedFromStep: number | null;
  /** Epoch ms: added to the queue, taken by a worker (last attempt), finished there, merged here. */
  times: { enqueued: number; started: number | null; finished: number | null; merged: number };
}

export interface FailedCell {
  fingerprint: string;
  reason: string;
  /** True when the cell will not be retried (attempts used up, or a deterministic failure). */
  final: boolean;
}

export interface EnqueueResult {
  added: number;
  existing: number;
  cells: { fingerprint: string; jobId: string; added: boolean }[];
}

export interface BenchmarkQueue {
  /**
   * Uploads the cells' dataset bundles and adds the cells not in the queue yet. A cell's `tag` (e.g.
   * the benchmark cell it fills) is kept here, never sent, and comes back with it when it merges.
   */
  enqueue(input: { datasetId: number; cells: (CellSpec & { tag?: string })[] }): Promise<EnqueueResult>;
  onMerged(listener: (cell: MergedCell) => void): () => void;
  onFailed(listener: (cell: FailedCell) => void): () => void;
  /** Merges every cell of this workspace that finished and is not merged yet; returns those merged now. */
  sync(): Promise<MergedCell[]>;
  /** This workspace's cells: their queue state and merged run. */
  cells(): Promise<{ fingerprint: string; tag: string | null; method: string; scenarios: string[]; state: string; runId: number | null }[]>;
  close(): Promise<void>;
}

interface LocalCell {
  datasetId: number;
  cellUid: string;
  method: string;
  scenarios: string[];
  enqueuedAt: string;
  tag?: string;
  /** The coordinator's weights file the cell was sent, mapped back into the merged run. */
  weightsFile?: string;
  merged: { runId: number; at: string } | null;
}

type LocalCells = Record<string, LocalCell>;

function cellsFile(lab: Lab): string {
  return join(lab.dir, 'queue', 'cells.json');
}

async function readCells(lab: Lab): Promise<LocalCells> {
  try {
    return JSON.parse(await readFile(cellsFile(lab), 'utf8')) as LocalCells;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LabError(`the queue's record of this workspace's cells (${cellsFile(lab)}) cannot be read: ${(error as Error).message}`);
  }
}

export async function openQueue(options: OpenQueueOptions): Promise<BenchmarkQueue> {
  const { lab } = options;
  const { client: redis, target } = await connectRedis(options.url);
  const blobs = new RedisBlobStore(redis);
  const connection = redisOptions(target);
  const queue = new Queue(QUEUE_NAME, {
    connection,
    prefix: KEY_PREFIX,
    defaultJobOptions: {
      attempts: options.attempts ?? 3,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 60_000 },
      // Kept a month: the coordinator may be asleep for a while when a cell finishes.
      removeOnComplete: { age: 30 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
  queue.on('error', () => undefined);
  const events = new QueueEvents(QUEUE_NAME, { connection, prefix: KEY_PREFIX });
  events.on('error', () => undefined);
  const cells = await readCells(lab);
  const mergedListeners = new Set<(cell: MergedCell) => void>(options.onMerged ? [options.onMerged] : []);
  const failedListeners = new Set<(cell: FailedCell) => void>();

  // One writer of cells.json and one merge at a time.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };
  const save = () => writeFileAtomic(cellsFile(lab), JSON.stringify(cells, null, 1));

  const merge = (jobId: string): Promise<MergedCell | null> =>
    serial(async () => {
      const fingerprint = jobId.replace(/^cell-/, '');
      const local = cells[fingerprint];
      if (!local || local.merged) return null;
      const job = await Job.fromId(queue, jobId);
      if (!job || !job.finishedOn || (await job.getState()) !== 'completed') return null;
      const parsed = cellResultSchema.safeParse(job.returnvalue);
      if (!parsed.success || parsed.data.fingerprint !== fingerprint) {
        for (const l of failedListeners) l({ fingerprint, reason: 'the worker returned a result that is not valid; it is not merged', final: true });
        return null;
      }
      const result = parsed.data;
      const { runId, created } = await importRun(lab.store, lab.dir, blobs, result.runBundle, { datasetId: local.datasetId, ...(local.weightsFile ? { weightsFile: local.weightsFile } : {}) });
      local.merged = { runId, at: new Date().toISOString() };
      await save();
      const merged: MergedCell = {
        fingerprint,
        tag: local.tag ?? null,
        cellUid: result.cellUid,
        runId,
        created,
        host: result.host,
        resumedFromStep: result.resumedFromStep,
        times: { enqueued: job.timestamp, started: job.processedOn ?? null, finished: job.finishedOn ?? null, merged: Date.now() },
      };
      for (const l of mergedListeners) l(merged);
      return merged;
    });

  const reportFailure = async (jobId: string, reason: string) => {
    const fingerprint = jobId.replace(/^cell-/, '');
    if (!cells[fingerprint]) return;
    const state = await Job.fromId(queue, jobId)
      .then((job) => job?.getState())
      .catch(() => 'unknown');
    for (const l of failedListeners) l({ fingerprint, reason, final: state === 'failed' });
  };

  events.on('completed', ({ jobId }) => {
    void merge(jobId).catch((error: unknown) => void reportFailure(jobId, `merging failed: ${(error as Error).message}`));
  });
  events.on('failed', ({ jobId, failedReason }) => void reportFailure(jobId, failedReason));

  const sync = async (): Promise<MergedCell[]> => {
    const out: MergedCell[] = [];
    for (const [fingerprint, local] of Object.entries(cells)) {
      if (local.merged) continue;
      const merged = await merge(cellJobId(fingerprint));
      if (merged) out.push(merged);
    }
    return out;
  };

  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    // Listening first, then the scan: a cell finishing in between is caught by one or the other.
    await sync();
  } catch (error) {
    await Promise.allSettled([events.close(), queue.close()]);
    redis.disconnect();
    throw error;
  }

  let closed = false;
  return {
    async enqueue({ datasetId, cells: specs }) {
      if (closed) throw new LabError('the queue is closed', 'ConflictError');
      // Every cell is checked against its method before anything is uploaded or queued.
      for (const spec of specs) cellMethodConfig({ ...spec, overrides: spec.overrides ?? {}, seed: spec.seed ?? 0 });
      const bundles = new Map<string, string>();
      const weightsBlobs = new Map<string, string>();
      const result: EnqueueResult = { added: 0, existing: 0, cells: [] };
      for (const spec of specs) {
        const scenarioKey = [...spec.scenarios].sort().join('\n');
        let digest = bundles.get(scenarioKey);
        if (digest === undefined) {
          digest = (await bundleDataset(lab.store, lab.dir, blobs, { datasetId, scenarios: spec.scenarios })).digest;
          bundles.set(scenarioKey, digest);
        }
        let weights: { sha256: string; name: string } | undefined;
        if (spec.weightsFile !== undefined) {
          let sha256 = weightsBlobs.get(spec.weightsFile);
          if (sha256 === undefined) {
            sha256 = await blobs.put({ file: spec.weightsFile });
            weightsBlobs.set(spec.weightsFile, sha256);
          }
          weights = { sha256, name: basename(spec.weightsFile) };
        }
        const payload = makeCellPayload(spec, { sha256: digest }, appVersion(), new Date(), weights);
        const jobId = cellJobId(payload.fingerprint);
        await serial(async () => {
          if (!cells[payload.fingerprint]) {
            const tag = spec.tag !== undefined ? { tag: spec.tag } : {};
            const weightsFile = spec.weightsFile !== undefined ? { weightsFile: spec.weightsFile } : {};
            cells[payload.fingerprint] = { datasetId, cellUid: payload.cellUid, method: payload.method, scenarios: payload.scenarios, enqueuedAt: payload.createdAt, ...tag, ...weightsFile, merged: null };
            await save();
          }
        });
        // A cell already in the queue (waiting, running, finished or failed) is left as it is. Redis
        // dedups by job id too, so two coordinators racing here still add it once.
        const added = (await queue.getJob(jobId)) === undefined;
        if (added) await queue.add(payload.method, payload, { jobId });
        if (added) result.added += 1;
        else result.existing += 1;
        result.cells.push({ fingerprint: payload.fingerprint, jobId, added });
      }
      return result;
    },
    onMerged(listener) {
      mergedListeners.add(listener);
      return () => mergedListeners.delete(listener);
    },
    onFailed(listener) {
      failedListeners.add(listener);
      return () => failedListeners.delete(listener);
    },
    sync,
    async cells() {
      const out = [];
      for (const [fingerprint, local] of Object.entries(cells)) {
        const job = await Job.fromId(queue, cellJobId(fingerprint));
        out.push({ fingerprint, tag: local.tag ?? null, method: local.method, scenarios: local.scenarios, state: job ? await job.getState() : 'gone', runId: local.merged?.runId ?? null });
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      await events.close();
      await chain;
      await queue.close();
      redis.disconnect();
    },
  };
}
