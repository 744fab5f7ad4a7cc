/**
 * Benchmarks run in-process (issue 18): a 2 methods × 2 scenarios matrix of real tiny runs fills
 * the paper's table; a workspace closed mid-benchmark resumes it when it opens again (done cells
 * kept, the running cell continued from its checkpoint, exactly one run per cell); the estimate
 * names the cells that cannot run here; bad input is refused at the contract with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import type { BenchEstimate, BenchmarkDetail, BenchTable } from '../../src/shared/calls/bench';
import type { RunInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';
import { jobHost, miniWorkspaceJobHost } from '../jobs/helpers';
import { benchEnded, MINI, TINY_OVERRIDES } from './helpers';

const tmp = useTmpDirs();
let root: string;
let ws: string;
let t: Awaited<ReturnType<typeof jobHost>>;

beforeAll(async () => {
  root = await tmp();
  ({ ws, t } = await miniWorkspaceJobHost(root, MINI));
}, 120_000);

afterAll(async () => {
  await t?.host.close();
});

const MATRIX = {
  methods: ['patchcore', 'autoencoder'],
  scenarios: [...MINI.scenarios],
  presets: ['fast'],
  overrides: TINY_OVERRIDES,
  weights: 'random' as const,
  backend: 'wasm' as const,
};

describe('a benchmark run in-process', () => {
  it('runs a 2 methods × 2 scenarios matrix cell by cell and fills the paper table', async () => {
    const created = (await t.host.invoke('bench:create', MATRIX)) as BenchmarkDetail;
    expect(created).toMatchObject({ state: 'created', execution: 'local', total: 4, counts: { pending: 4 } });
    expect(created.cells.map((c) => `${c.method}/${c.scenarios.join('+')}`)).toEqual(['patchcore/nut_and_bolt', 'patchcore/wind_turbine', 'autoencoder/nut_and_bolt', 'autoencoder/wind_turbine']);
    // Nothing runs before it is started.
    expect((await t.host.invoke('runs:list', {})) as RunInfo[]).toHaveLength(0);

    const estimate = (await t.host.invoke('bench:estimate', { benchmarkId: created.id })) as BenchEstimate;
    expect(estimate.backend).toBe('wasm');
    expect(estimate.cells).toHaveLength(4);
    expect(estimate.blocked).toBe(0);
    for (const c of estimate.cells) expect(c.seconds).toBeGreaterThan(0);
    // 8 test images per scenario at 64² float16 per cell.
    expect(estimate.mapBytes).toBe(4 * 8 * 64 * 64 * 2);
    expect(estimate.cacheBytes).toBeGreaterThan(0); // PatchCore's resnet18 features
    expect(estimate.text[0]).toMatch(/^4 cells \(0 done, 0 cannot run here\) on wasm: about \d+/);

    const from = t.events.length;
    const started = (await t.host.invoke('bench:start', { benchmarkId: created.id })) as BenchmarkDetail;
    expect(started.state).toBe('running');
    const done = await benchEnded(t, created.id, from);
    expect(done.state).toBe('done');
    expect(done.counts.done).toBe(4);
    const runIds = done.cells.map((c) => c.runId);
    expect(new Set(runIds).size).toBe(4);
    const runs = (await t.host.invoke('runs:list', {})) as RunInfo[];
    expect(runs.map((r) => r.id).sort()).toEqual([...runIds].sort());
    // One at a time: no two cells' runs were ever running together.
    let running = 0;
    for (const e of t.events.slice(from)) {
      if (e.event !== 'bench:changed') continue;
      running = Math.max(running, (e.payload as { benchmark: BenchmarkDetail }).benchmark.counts.running);
    }
    expect(running).toBe(1);

    const table = (await t.host.invoke('bench:table', { benchmarkId: created.id })) as BenchTable;
    expect(table.runIds.sort()).toEqual([...runIds].sort());
    const paper = table.presets[0]!.paper;
    expect(paper.scenarios.sort()).toEqual([...MINI.scenarios].sort());
    expect(paper.rows.map((r) => r.key).sort()).toEqual(['autoencoder', 'patchcore']);
    for (const row of paper.rows) for (const c of row.cells.image_auroc) expect(c.value).not.toBeNull();
  }, 300_000);

  it('cancel stops it: the running cell\'s run is cancelled, pending cells are cancelled, nothing more starts', async () => {
    const created = (await t.host.invoke('bench:create', {
      ...MATRIX,
      methods: ['autoencoder'],
      seeds: [1, 2],
      overrides: { autoencoder: { ...TINY_OVERRIDES.autoencoder, epochs: 200 } },
    })) as BenchmarkDetail;
    const from = t.events.length;
    await t.host.invoke('bench:start', { benchmarkId: created.id });
    const running = await t.waitFor(
      (e) => t.events.indexOf(e) >= from && e.event === 'runs:progress' && (e.payload as { phase: string }).phase === 'training',
      'the first cell to train',
    );
    const runId = (running.payload as { runId: number }).runId;
    const cancelled = (await t.host.invoke('bench:cancel', { benchmarkId: created.id })) as BenchmarkDetail;
    expect(cancelled.state).toBe('cancelled');
    const ended = await benchEnded(t, created.id, from);
    expect(ended.state).toBe('cancelled');
    await t.waitForStatus(runId, ['cancelled']);
    const after = (await t.host.invoke('bench:get', { benchmarkId: created.id })) as BenchmarkDetail;
    expect(after.cells.map((c) => c.state)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    expect(after.cells.filter((c) => c.runId !== null).map((c) => c.runId)).toEqual([runId]);
    expect(after.cells.find((c) => c.runId === null)!.reason).toBe('the benchmark was cancelled');
    // Nothing else started after the cancel.
    expect(t.events.slice(from).filter((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.status === 'queued').map((e) => (e.payload as { run: RunInfo }).run.id)).toEqual([runId]);
  }, 120_000);

  it('the estimate names a cell that cannot run here (pretrained weights absent) with its reason', async () => {
    const created = (await t.host.invoke('bench:create', { ...MATRIX, scenarios: ['nut_and_bolt'], weights: 'pretrained' })) as BenchmarkDetail;
    const estimate = (await t.host.invoke('bench:estimate', { benchmarkId: created.id })) as BenchEstimate;
    const pc = estimate.cells.find((c) => c.method === 'patchcore')!;
    expect(pc.blocked).toMatch(/no pretrained resnet18 weights in this workspace: miad-lab weights fetch resnet18\.tv_in1k/);
    expect(pc.seconds).toBeNull();
    // The auto-encoder trains from scratch: nothing to fetch.
    expect(estimate.cells.find((c) => c.method === 'autoencoder')!.blocked).toBeNull();
    expect(estimate.blocked).toBe(1);
    expect(estimate.text.join('\n')).toMatch(/cannot run: patchcore fast · nut_and_bolt · seed \d+: no pretrained resnet18 weights/);
  });

  it("a cell's run is attached in the run's own insert transaction: when attaching fails, no run is left behind", async () => {
    const before = ((await t.host.invoke('runs:list', {})) as RunInfo[]).length;
    const start = t.lab().jobs.start({
      kind: 'autoencoder',
      config: { datasetId: 1, scenario: 'nut_and_bolt', preset: 'fast', overrides: TINY_OVERRIDES.autoencoder },
      onCreated: () => {
        throw new Error('the cell could not take the run');
      },
    });
    await expect(start).rejects.toThrow('the cell could not take the run');
    expect((await t.host.invoke('runs:list', {})) as RunInfo[]).toHaveLength(before);
  });

  it('refuses bad input at the contract with a clear message', async () => {
    const bad = async (input: unknown) => t.host.invoke('bench:create', input).then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);
    expect(await bad({ ...MATRIX, methods: ['nosuch'] })).toMatch(/ValidationError: unknown method "nosuch"; methods: patchcore, autoencoder/);
    expect(await bad({ ...MATRIX, scenarios: ['moon_base'] })).toMatch(/ValidationError: unknown scenario "moon_base": no dataset of this workspace holds it/);
    expect(await bad({ ...MATRIX, presets: ['huge'] })).toMatch(/ValidationError: PatchCore has no preset "huge"; its presets: full, paper, fast/);
    expect(await bad({ ...MATRIX, overrides: { ...TINY_OVERRIDES, autoencoder: { epochs: -3 } } })).toMatch(/ValidationError: .*overrides: epochs: /);
    expect(await bad({ ...MATRIX, overrides: { uniad: { epochs: 1 } } })).toMatch(/ValidationError: overrides for uniad, which the matrix does not run/);
    expect(await bad({ ...MATRIX, methods: [] })).toMatch(/ValidationError: invalid input for bench:create: methods: choose at least one method/);
    expect(await bad({ ...MATRIX, scenarios: [] })).toMatch(/scenarios: choose at least one scenario/);
    const missing = await t.host.invoke('bench:start', { benchmarkId: 999 }).then(() => 'accepted', (e: Error) => `${e.name}: ${e.message}`);
    expect(missing).toBe('NotFoundError: no benchmark with id 999 in this workspace');
  });
});

describe('a benchmark across a restart', () => {
  it('closing the workspace mid-cell and opening it again resumes: done cells kept, the running one continued, one run per cell', async () => {
    await t.host.close(); // one host on the workspace at a time, as one app
    const a = await jobHost(ws, join(root, 'config-a'));
    const created = (await a.host.invoke('bench:create', {
      ...MATRIX,
      scenarios: ['nut_and_bolt'],
      seeds: [1, 2],
      overrides: { ...TINY_OVERRIDES, autoencoder: { ...TINY_OVERRIDES.autoencoder, epochs: 20 } },
    })) as BenchmarkDetail;
    expect(created.cells.map((c) => `${c.method}/${c.seed}`)).toEqual(['patchcore/1', 'patchcore/2', 'autoencoder/1', 'autoencoder/2']);
    await a.host.invoke('bench:start', { benchmarkId: created.id });
    // The third cell (the first auto-encoder) has checkpointed: close the workspace under it.
    const third = await a.waitFor(
      (e) => e.event === 'bench:changed' && (e.payload as { benchmark: BenchmarkDetail }).benchmark.id === created.id && (e.payload as { benchmark: BenchmarkDetail }).benchmark.cells[2]!.runId !== null,
      'the third cell to get a run',
    );
    const interrupted = (third.payload as { benchmark: BenchmarkDetail }).benchmark.cells[2]!.runId!;
    for (let i = 0; ; i++) {
      try {
        await a.waitFor((e) => e.event === 'runs:checkpoint' && (e.payload as { runId: number; step: number }).runId === interrupted && (e.payload as { step: number }).step >= 4, 'a checkpoint of the third cell');
        break;
      } catch (error) {
        if (i >= 4) throw error;
      }
    }
    const before = (await a.host.invoke('bench:get', { benchmarkId: created.id })) as BenchmarkDetail;
    expect(before.cells.slice(0, 2).map((c) => c.state)).toEqual(['done', 'done']);
    expect(before.cells[2]!.state).toBe('running');
    expect(before.cells[3]!.state).toBe('pending');
    await a.host.close();

    const b = await jobHost(ws, join(root, 'config-b'));
    try {
      const done = await benchEnded(b, created.id);
      expect(done.state).toBe('done');
      expect(done.cells.map((c) => c.state)).toEqual(['done', 'done', 'done', 'done']);
      // Done cells were not run again; the interrupted cell kept its run, which resumed.
      expect(done.cells.slice(0, 3).map((c) => c.runId)).toEqual(before.cells.slice(0, 3).map((c) => c.runId));
      const statuses = b.events.filter((e) => e.event === 'runs:changed' && (e.payload as { run: RunInfo }).run.id === interrupted).map((e) => (e.payload as { run: RunInfo }).run.status);
      // (`running` repeats as the job reports its backend.)
      expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['running', 'done']);
      const result = JSON.parse(await readFile(join(ws, 'runs', String(interrupted), 'result.json'), 'utf8')) as { summary: { train: { resumedFromStep: number } } };
      expect(result.summary.train.resumedFromStep).toBeGreaterThanOrEqual(4);
      // Exactly one run per cell of this benchmark.
      const mine = ((await b.host.invoke('runs:list', {})) as RunInfo[]).filter((r) => r.name.endsWith(`(benchmark #${created.id})`));
      expect(mine.map((r) => r.id).sort()).toEqual(done.cells.map((c) => c.runId!).sort());
      // Two seeds per method: the table shows their mean ± std.
      const table = (await b.host.invoke('bench:table', { benchmarkId: created.id })) as BenchTable;
      const cell = table.presets[0]!.paper.rows.find((r) => r.key === 'patchcore')!.cells.image_auroc[0]!;
      expect(cell.n).toBe(2);
      expect(cell.std).toBeGreaterThanOrEqual(0);
    } finally {
      await b.host.close();
    }
  }, 400_000);
});
