/**
 * A benchmark run on the Redis queue, as a user runs it: `miad-lab bench create --execution queue`,
 * then `bench start --queue URL` in the coordinator's workspace while two `miad-lab worker`
 * processes take the cells. The 2 methods × 2 scenarios matrix finishes, each cell holds the run
 * merged from a worker, and the paper table fills; starting it again adds nothing. A queue
 * benchmark without a URL and a local one given a URL are refused; a pretrained cell fails without
 * weights here, and with them runs on a worker that receives the file as a blob.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { BenchmarkDetail, BenchTable } from '../../src/shared/calls/bench';
import { getRun, listRuns } from '../../src/main/core/store/runs-repo';
import { cli } from '../helpers/cli';
import { startRedis } from '../helpers/redis';
import { useTmpDirs } from '../helpers/tmp';
import { SCENARIOS, autoencoderCell, coordinatorWorkspace, patchcoreCell, startWorkerProcess } from './helpers';

const tmp = useTmpDirs();

/** The cells' overrides (cluster.ts) as `--set METHOD.KEY=VALUE` arguments. */
function sets(method: string, overrides: Record<string, unknown>): string[] {
  return Object.entries(overrides).flatMap(([k, v]) => ['--set', `${method}.${k}=${JSON.stringify(v)}`]);
}

function json<T>(out: string): T {
  return (JSON.parse(out) as { result: T }).result;
}

describe('a benchmark on the queue', () => {
  it('runs 2 methods × 2 scenarios on two worker processes and fills its table; a second start adds nothing', async () => {
    const root = await tmp();
    const savedConfig = process.env.MIAD_LAB_CONFIG_DIR;
    process.env.MIAD_LAB_CONFIG_DIR = join(root, 'config');
    onTestFinished(() => {
      if (savedConfig === undefined) delete process.env.MIAD_LAB_CONFIG_DIR;
      else process.env.MIAD_LAB_CONFIG_DIR = savedConfig;
    });
    const redis = await startRedis(root);
    const lab = await coordinatorWorkspace(root);
    const ws = lab.dir;
    await Promise.all([startWorkerProcess(redis.url('worker'), join(root, 'w1'), 10_000), startWorkerProcess(redis.url('worker'), join(root, 'w2'), 10_000)]);

    const { seed: _a, ...ae } = autoencoderCell(SCENARIOS[0]);
    const { seed: _p, ...pc } = patchcoreCell(SCENARIOS[0]);
    const common = ['--workspace', ws, '--scenarios', SCENARIOS.join(','), '--presets', 'fast', '--seeds', '0', '--weights', 'random', '--json'];
    const created = await cli(['bench', 'create', ...common, '--methods', 'autoencoder,patchcore', '--execution', 'queue', ...sets('autoencoder', ae.overrides!), ...sets('patchcore', pc.overrides!)]);
    expect(created.code, created.err).toBe(0);
    const id = json<{ benchmark: BenchmarkDetail }>(created.out).benchmark.id;

    // Without the queue's URL a queue benchmark cannot start; the message says what to give.
    const noUrl = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(id)]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toMatch(/runs on a queue: give the queue's URL/);

    const started = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(id), '--queue', redis.url('coordinator'), '--json']);
    expect(started.code, started.err).toBe(0);
    const { benchmark, table } = json<{ benchmark: BenchmarkDetail; table: BenchTable }>(started.out);
    expect(benchmark.state).toBe('done');
    expect(benchmark.cells.map((c) => c.state)).toEqual(['done', 'done', 'done', 'done']);
    const runIds = benchmark.cells.map((c) => c.runId!);
    expect(new Set(runIds).size).toBe(4);
    for (const cell of benchmark.cells) {
      const run = getRun(lab.store, cell.runId!);
      // The cell holds the run a worker made for it: its method and scenario, merged from that host.
      expect(`${run.method} ${run.scenarios.join(',')}`).toBe(`${cell.method} ${cell.scenarios.join(',')}`);
      expect(run.status).toBe('done');
    }
    const db = new Database(join(ws, 'lab.sqlite'), { readonly: true });
    const merged = db.prepare(`SELECT host FROM runs WHERE id IN (${runIds.join(',')}) AND remote_uid IS NOT NULL AND host IS NOT NULL`).all();
    db.close();
    expect(merged).toHaveLength(4);
    // The paper table has a row per method and a value per scenario.
    const paper = table.presets[0]!.paper;
    expect(paper.rows).toHaveLength(2);
    expect(table.runIds.sort()).toEqual([...runIds].sort());
    expect(JSON.stringify(paper)).toMatch(/autoencoder/);

    // Started again (a coordinator coming back): nothing is enqueued or merged twice.
    const again = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(id), '--queue', redis.url('coordinator'), '--json']);
    expect(again.code, again.err).toBe(0);
    expect(json<{ benchmark: BenchmarkDetail }>(again.out).benchmark.cells.map((c) => c.runId)).toEqual(runIds);
    expect(listRuns(lab.store)).toHaveLength(4);

    // A local benchmark refuses a URL.
    const local = await cli(['bench', 'create', ...common, '--methods', 'patchcore']);
    const localId = json<{ benchmark: BenchmarkDetail }>(local.out).benchmark.id;
    const wrong = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(localId), '--queue', redis.url('coordinator')]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/runs in this process: a queue URL does not apply/);

    // A pretrained cell without weights here fails with the reason, as it would locally.
    const pretrainedArgs = ['--workspace', ws, '--scenarios', SCENARIOS[0], '--presets', 'fast', '--methods', 'patchcore', '--execution', 'queue', ...sets('patchcore', pc.overrides!), '--json'];
    const missing = json<{ benchmark: BenchmarkDetail }>((await cli(['bench', 'create', ...pretrainedArgs, '--name', 'no weights'])).out).benchmark.id;
    const refused = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(missing), '--queue', redis.url('coordinator')]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/1 of 1 cells failed/);
    const status = await cli(['bench', 'status', '--workspace', ws, '--benchmark', String(missing), '--json']);
    const cell = json<{ benchmark: BenchmarkDetail }>(status.out).benchmark.cells[0]!;
    expect(cell.state).toBe('failed');
    expect(cell.reason).toMatch(/cannot run on the queue: no pretrained resnet18 weights/);
    expect(listRuns(lab.store)).toHaveLength(4);

    // With weights in the workspace's cache, they travel to the worker as a blob (never their path): the
    // merged run read them, and names the coordinator's file.
    const made = await cli(['weights', 'random', '--workspace', ws, '--arch', 'resnet18', '--seed', '5', '--json']);
    const file = json<{ path: string }>(made.out).path;
    expect((await cli(['weights', 'import', '--workspace', ws, '--id', 'resnet18.tv_in1k', file])).code).toBe(0);
    const cached = json<{ path: string }[]>((await cli(['weights', 'list', '--workspace', ws, '--json'])).out);
    const withWeights = json<{ benchmark: BenchmarkDetail }>((await cli(['bench', 'create', ...pretrainedArgs, '--name', 'pretrained'])).out).benchmark.id;
    const ran = await cli(['bench', 'start', '--workspace', ws, '--benchmark', String(withWeights), '--queue', redis.url('coordinator'), '--json']);
    expect(ran.code, ran.err).toBe(0);
    const pretrainedCell = json<{ benchmark: BenchmarkDetail }>(ran.out).benchmark.cells[0]!;
    expect(pretrainedCell.state).toBe('done');
    const run = getRun(lab.store, pretrainedCell.runId!);
    expect(run.randomInit).toBe(false);
    expect(cached.map((c) => c.path)).toContain(run.weights);
    expect(listRuns(lab.store)).toHaveLength(5);
  }, 600_000);
});
