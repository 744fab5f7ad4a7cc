/**
 * Runs benchmarks whose execution is 'queue' on the BullMQ queue (queue/): `start` connects to the
 * queue with the URL the caller gives (its password is held in memory only, never stored), enqueues
 * the benchmark's pending cells, each tagged with its cell id, and marks them queued. Worker hosts
 * run them; as each finished cell is merged into this workspace (queue/coordinator.ts, idempotent),
 * the run is attached to its cell (cells.ts) and the paper table fills. A cell that fails for good on
 * the workers fails here with the workers' reason.
 *
 * The coordinator may be offline while cells finish: starting the benchmark again (`bench start
 * --queue URL`) reconnects, and the merge the queue runs on connect brings in what finished
 * meanwhile. Enqueuing the same cells again adds nothing (one job per cell fingerprint).
 *
 * A pretrained matrix's cells carry the backbone's weights file from this workspace's cache (as a
 * blob, by sha256; a cell whose weights are missing here fails with the reason, as it would
 * locally). Live per-step progress of remote cells is not forwarded; a cell shows queued until its
 * run is merged.
 */
import type { BenchmarkDetail } from '../../../shared/calls/bench';
import { LabError } from '../../../shared/errors';
import type { JobEventSink } from '../jobs/runner';
import type { Lab } from '../lab';
import type { BenchmarkQueue, FailedCell, MergedCell } from '../queue';
import { benchSpec, getBenchmark, getCell, listCells, updateCell } from '../store/bench-repo';
import { getRun } from '../store/runs-repo';
import { attachRun, cancelBenchmark, cellsToRun, failCell, markRunning, settleIfFinished } from './cells';
import { cellOverrides, cellWeights } from './plan';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class QueueBenchExecutor {
  private queue: BenchmarkQueue | null = null;
  private url: string | null = null;
  /** The benchmark cell each queued fingerprint fills, to route failures (merges carry their tag). */
  private readonly cellOfFingerprint = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly lab: () => Lab,
    private readonly emit: JobEventSink,
  ) {}

  private changed(benchmarkId: number): BenchmarkDetail {
    const benchmark = getBenchmark(this.lab().store, benchmarkId);
    this.emit('bench:changed', { benchmark });
    return benchmark;
  }

  /** Connects (once per URL), and learns which cell each of this workspace's queued fingerprints fills. */
  private async connect(url: string): Promise<BenchmarkQueue> {
    if (this.queue && this.url === url) return this.queue;
    if (this.queue) await this.queue.close().catch(() => undefined);
    this.queue = null;
    const { openQueue } = await import('../queue/index');
    const queue = await openQueue({ url, lab: this.lab(), onMerged: (cell) => this.onMerged(cell) });
    if (this.closed) {
      await queue.close().catch(() => undefined);
      throw new LabError('the workspace was closed while the queue connected', 'ConflictError');
    }
    queue.onFailed((cell) => this.onFailed(cell));
    this.queue = queue;
    this.url = url;
    for (const c of await queue.cells()) if (c.tag !== null && /^\d+$/.test(c.tag)) this.cellOfFingerprint.set(c.fingerprint, Number(c.tag));
    return queue;
  }

  /** A merged run fills the cell it was enqueued for (a cancelled cell, or one already filled by another run, keeps what it has). */
  private onMerged(merged: MergedCell): void {
    if (this.closed || merged.tag === null || !/^\d+$/.test(merged.tag)) return;
    const { store } = this.lab();
    let cell;
    try {
      cell = getCell(store, Number(merged.tag));
    } catch {
      return; // its benchmark was deleted
    }
    if (cell.state === 'cancelled' || (cell.runId !== null && cell.runId !== merged.runId)) return;
    attachRun(store, cell.id, getRun(store, merged.runId));
    settleIfFinished(store, cell.benchmarkId);
    this.changed(cell.benchmarkId);
  }

  private onFailed(failed: FailedCell): void {
    if (this.closed || !failed.final) return;
    const cellId = this.cellOfFingerprint.get(failed.fingerprint);
    if (cellId === undefined) return;
    const { store } = this.lab();
    const cell = getCell(store, cellId);
    if (cell.state !== 'queued') return;
    failCell(store, cellId, `failed on the queue: ${failed.reason}`);
    settleIfFinished(store, cell.benchmarkId);
    this.changed(cell.benchmarkId);
  }

  async start(benchmarkId: number, url: string): Promise<BenchmarkDetail> {
    const { store, dir } = this.lab();
    const { execution, spec, datasetId } = benchSpec(store, benchmarkId);
    if (execution !== 'queue') throw new LabError(`benchmark ${benchmarkId} runs in this process, not on a queue: start it without a queue URL`, 'ValidationError');
    const queue = await this.connect(url);
    markRunning(store, benchmarkId);
    const toQueue: { cellId: number; spec: Parameters<BenchmarkQueue['enqueue']>[0]['cells'][number] }[] = [];
    for (const cell of cellsToRun(store, benchmarkId)) {
      const weights = await cellWeights(dir, spec, cell);
      if (weights.blocked) {
        failCell(store, cell.id, `cannot run on the queue: ${weights.blocked}`);
        continue;
      }
      const { seed: _seed, ...overrides } = cellOverrides(spec, cell);
      const weightsFile = weights.file ? { weightsFile: weights.file } : {};
      toQueue.push({ cellId: cell.id, spec: { method: cell.method, preset: cell.preset, overrides, scenarios: cell.scenarios, seed: cell.seed, tag: String(cell.id), ...weightsFile } });
    }
    if (toQueue.length > 0) {
      let result;
      try {
        result = await queue.enqueue({ datasetId, cells: toQueue.map((c) => c.spec) });
      } catch (error) {
        this.changed(benchmarkId);
        throw new LabError(`the benchmark's cells could not be queued: ${message(error)}`, 'ConflictError');
      }
      store.transaction(() => {
        result.cells.forEach((queued, i) => {
          const cellId = toQueue[i]!.cellId;
          this.cellOfFingerprint.set(queued.fingerprint, cellId);
          if (getCell(store, cellId).state === 'pending') updateCell(store, cellId, 'queued', null);
        });
      });
    }
    // What finished while this workspace was closed is merged now (onMerged attaches it).
    await queue.sync();
    settleIfFinished(store, benchmarkId);
    return this.changed(benchmarkId);
  }

  /** Cancels the benchmark here: its pending and queued cells; a cell a worker already took finishes there and its result is not attached. */
  async cancel(benchmarkId: number): Promise<BenchmarkDetail> {
    const { store } = this.lab();
    store.transaction(() => {
      for (const c of listCells(store, benchmarkId)) if (c.state === 'queued' && c.runId === null) updateCell(store, c.id, 'cancelled', 'the benchmark was cancelled');
      cancelBenchmark(store, benchmarkId);
    });
    return this.changed(benchmarkId);
  }

  /** Waits for nothing: the queue's connection is closed in the background. */
  close(): void {
    this.closed = true;
    const queue = this.queue;
    this.queue = null;
    if (queue) void queue.close().catch(() => undefined);
  }
}
