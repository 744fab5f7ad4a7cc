/**
 * Benchmark of the benchmark queue (issue 18): a matrix of N fast cells (PatchCore fast at 64 px
 * and the tiny U-Net Auto-Encoder, alternating, on MIAD-mini's two scenarios) through a real
 * redis-server and real `miad-lab worker` processes, on ONE worker against TWO workers on this
 * machine, each from a fresh Redis and coordinator workspace. Prints the wall time (enqueue to the
 * last cell merged) of each and the speed-up (the reference is the one-worker run, measured in the
 * same invocation), and the queue's own overhead per cell:
 *  - pickup: from the moment a cell could be taken (enqueued, or its worker's previous cell
 *    finished) to a worker taking it;
 *  - on-worker overhead: the cell's time on the worker minus its run's own time (dataset fetch
 *    and unpack, checkpoint uploads, run bundle upload);
 *  - merge: from the worker finishing to the run being in the coordinator's workspace.
 * Worker start-up is not timed (workers are ready before the matrix is enqueued).
 *
 * Run: npx tsx bench/queue-matrix.ts [cells=6]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openQueue, type MergedCell } from '../src/main/core/queue';
import { getRun } from '../src/main/core/store/runs-repo';
import { launchRedis } from '../tests/helpers/redis-server';
import { SCENARIOS, autoencoderCell, makeCoordinatorWorkspace, patchcoreCell, spawnWorkerProcess } from '../tests/queue/cluster';

const N = Number(process.argv[2] ?? 6);
if (!Number.isInteger(N) || N < 1) throw new Error(`cells must be a positive integer, got ${process.argv[2]}`);

const cells = Array.from({ length: N }, (_, i) => {
  const scenario = SCENARIOS[i % SCENARIOS.length]!;
  const seed = Math.floor(i / 4);
  return i % 4 < 2 ? patchcoreCell(scenario, seed) : autoencoderCell(scenario, 3, seed);
});

interface Phase {
  wallS: number;
  cells: (MergedCell & { runS: number })[];
}

async function phase(workers: number): Promise<Phase> {
  const root = await mkdtemp(join(tmpdir(), 'miad-queue-bench-'));
  const redis = await launchRedis(root);
  const lab = await makeCoordinatorWorkspace(root);
  const procs = await Promise.all(Array.from({ length: workers }, (_, i) => spawnWorkerProcess(redis.url('worker'), join(root, `w${i}`), 30_000)));
  const queue = await openQueue({ url: redis.url('coordinator'), lab, backoffMs: 1000 });
  try {
    const merged: MergedCell[] = [];
    const all = new Promise<void>((resolve) =>
      queue.onMerged((cell) => {
        merged.push(cell);
        if (merged.length === N) resolve();
      }),
    );
    const t0 = performance.now();
    await queue.enqueue({ datasetId: 1, cells });
    await all;
    const wallS = (performance.now() - t0) / 1000;
    return {
      wallS,
      cells: merged.map((cell) => {
        const run = getRun(lab.store, cell.runId);
        return { ...cell, runS: (Date.parse(run.finishedAt!) - Date.parse(run.startedAt!)) / 1000 };
      }),
    };
  } finally {
    await queue.close();
    await Promise.all(procs.map((p) => p.stop()));
    lab.close();
    await redis.stop();
    await rm(root, { recursive: true, force: true });
  }
}

function overheads(p: Phase) {
  const byHost = new Map<string, (MergedCell & { runS: number })[]>();
  for (const c of p.cells) byHost.set(c.host, [...(byHost.get(c.host) ?? []), c]);
  const pickup: number[] = [];
  for (const list of byHost.values()) {
    list.sort((a, b) => a.times.started! - b.times.started!);
    list.forEach((c, i) => pickup.push(c.times.started! - Math.max(c.times.enqueued, i > 0 ? list[i - 1]!.times.finished! : 0)));
  }
  const onWorker = p.cells.map((c) => (c.times.finished! - c.times.started!) / 1000 - c.runS);
  const merge = p.cells.map((c) => c.times.merged - c.times.finished!);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { pickupMs: median(pickup), pickupMaxMs: Math.max(...pickup), onWorkerS: median(onWorker), mergeMs: median(merge), runS: median(p.cells.map((c) => c.runS)) };
}

console.log(`queue matrix: ${N} cells (PatchCore fast 64 px / U-Net AE 32 px, MIAD-mini 2 scenarios), wasm, redis-server on loopback`);
const one = await phase(1);
const two = await phase(2);
for (const [label, p] of [
  ['1 worker ', one],
  ['2 workers', two],
] as const) {
  const o = overheads(p);
  console.log(
    `${label}: wall ${p.wallS.toFixed(1)} s; per cell (median): run ${o.runS.toFixed(1)} s, pickup ${o.pickupMs.toFixed(0)} ms (max ${o.pickupMaxMs.toFixed(0)} ms), ` +
      `on-worker overhead ${o.onWorkerS.toFixed(2)} s, finish→merged ${o.mergeMs.toFixed(0)} ms; hosts ${new Set(p.cells.map((c) => c.host)).size}`,
  );
}
console.log(`speed-up 2 workers / 1 worker: ${(one.wallS / two.wallS).toFixed(2)}×`);
