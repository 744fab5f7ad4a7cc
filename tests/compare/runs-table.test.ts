/**
 * The runs-table calls on a real workspace (real SQLite, real run folders), through the lab host
 * so input validation is exercised too: runs:table (metric means, preset, duration, two queries
 * for any number of runs), runs:update, runs:delete (refusals, rows and folder gone), runs:diff.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import { insertRun, listRunTable } from '../../src/main/core/store/runs-repo';
import { diffSettings, flattenSettings } from '../../src/main/core/compare/config-diff';
import type { ConfigDiffEntry, RunTableRow } from '../../src/shared/calls/runs';
import type { RunInfo, RunMetricInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
type Host = ReturnType<typeof createLabHost>;
let host: Host;
let ws: string;

function overall(scenario: string, values: Record<string, number | null>): RunMetricInfo[] {
  return Object.entries(values).map(([metric, value]) => ({ scenario, defectType: '', metric, value, threshold: null }));
}

beforeAll(async () => {
  const root = await tmp();
  ws = join(root, 'ws');
  host = createLabHost({ door: 'cli', configDir: join(root, 'cfg'), defaultWorkspacesDir: root });
  await host.openWorkspace(ws, true);
});

afterAll(() => host?.close());

describe('runs:table', () => {
  it('averages the overall metrics over scenarios, ignores defect rows and undefined values, reads the preset and the duration', async () => {
    const store = host.currentLab()!.store;
    const a = insertRun(
      store,
      {
        name: 'two scenarios',
        kind: 'internal',
        method: 'patchcore',
        scenarios: ['nut_and_bolt', 'wind_turbine'],
        datasetRoot: null,
        config: { preset: 'paper', coresetRatio: 0.1 },
        status: 'done',
        startedAt: '2026-01-01T10:00:00.000Z',
        finishedAt: '2026-01-01T10:01:30.500Z',
      },
      {
        metrics: [
          ...overall('nut_and_bolt', { image_auroc: 0.6, pixel_auroc: 0.9, aupro: null }),
          ...overall('wind_turbine', { image_auroc: 0.8, pixel_auroc: 0.7, aupro: 0.5 }),
          // A defect type's row must not pull the overall mean.
          { scenario: 'nut_and_bolt', defectType: 'looseness', metric: 'image_auroc', value: 0.01, threshold: null },
          { scenario: 'nut_and_bolt', defectType: '', metric: 'image_f1_max', value: 0.5, threshold: 0.3 },
          // Not a table metric.
          { scenario: 'nut_and_bolt', defectType: '', metric: 'something_else', value: 0.5, threshold: null },
        ],
      },
    );
    const b = insertRun(store, { name: 'queued', kind: 'external', method: 'tool', scenarios: ['witness_mark'], datasetRoot: null, config: 'not an object', status: 'failed' });
    const rows = (await host.invoke('runs:table', {})) as RunTableRow[];
    expect(rows.map((r) => r.id)).toEqual([b, a]);
    const ra = rows[1]!;
    expect(ra.metrics.image_auroc).toBeCloseTo(0.7, 12);
    expect(ra.metrics.pixel_auroc).toBeCloseTo(0.8, 12);
    expect(ra.metrics.aupro).toBeCloseTo(0.5, 12);
    expect(ra.metrics.image_f1_max).toBeCloseTo(0.5, 12);
    expect(Object.keys(ra.metrics).sort()).toEqual(['aupro', 'image_auroc', 'image_f1_max', 'pixel_auroc']);
    expect(ra.preset).toBe('paper');
    expect(ra.durationSec).toBeCloseTo(90.5, 6);
    expect(ra.startedAt).toBe('2026-01-01T10:00:00.000Z');
    expect(ra).toMatchObject({ name: 'two scenarios', method: 'patchcore', scenarios: ['nut_and_bolt', 'wind_turbine'], status: 'done', tags: [], notes: '' });
    const rb = rows[0]!;
    expect(rb).toMatchObject({ metrics: {}, preset: null, durationSec: null, startedAt: null, kind: 'external' });
  });

  it('lists 1,000 runs with their metrics in two statements, whatever the count', async () => {
    const root = await tmp();
    const h = createLabHost({ door: 'cli', configDir: join(root, 'cfg'), defaultWorkspacesDir: root });
    await h.openWorkspace(join(root, 'ws'), true);
    const store = h.currentLab()!.store;
    store.transaction(() => {
      for (let i = 0; i < 1000; i++) {
        insertRun(store, { name: `r${i}`, kind: 'internal', method: i % 2 ? 'patchcore' : 'padim', scenarios: ['metal_welding'], datasetRoot: null, config: { preset: 'fast' }, status: 'done' }, { metrics: overall('metal_welding', { image_auroc: i / 1000 }) });
      }
    });
    const db = store.connection;
    const prepare = db.prepare.bind(db);
    let statements = 0;
    db.prepare = ((sql: string) => {
      statements++;
      return prepare(sql);
    }) as typeof db.prepare;
    try {
      const rows = listRunTable(store);
      expect(rows).toHaveLength(1000);
      expect(rows[0]!.metrics.image_auroc).toBeCloseTo(0.999, 12);
      expect(rows[999]!.metrics.image_auroc).toBe(0);
    } finally {
      db.prepare = prepare;
    }
    expect(statements).toBe(2);
    await h.close();
  });
});

describe('runs:update', () => {
  it('renames, tags and notes a run, keeps what is not given, and tells other windows', async () => {
    const store = host.currentLab()!.store;
    const id = insertRun(store, { name: 'old', kind: 'internal', method: 'patchcore', scenarios: ['metal_welding'], datasetRoot: null, config: {}, status: 'done' });
    const seen: unknown[] = [];
    const off = host.onEvent((event, payload) => event === 'runs:changed' && seen.push(payload));
    const r1 = (await host.invoke('runs:update', { runId: id, name: '  new name ', tags: ['baseline', 'wasm', 'baseline'] })) as RunInfo;
    expect(r1).toMatchObject({ id, name: 'new name', tags: ['baseline', 'wasm'], notes: '' });
    const r2 = (await host.invoke('runs:update', { runId: id, notes: 'random init, do not cite' })) as RunInfo;
    expect(r2).toMatchObject({ name: 'new name', tags: ['baseline', 'wasm'], notes: 'random init, do not cite' });
    const r3 = (await host.invoke('runs:update', { runId: id, tags: [] })) as RunInfo;
    expect(r3.tags).toEqual([]);
    off();
    expect(seen).toHaveLength(3);
    expect(seen[2]).toEqual({ run: expect.objectContaining({ id, tags: [] }) });
    await expect(host.invoke('runs:update', { runId: id, name: '   ' })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(host.invoke('runs:update', { runId: 99_999, name: 'x' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});

describe('runs:delete', () => {
  it('deletes a finished run with its rows and its folder, refuses queued and running ones, and accepts a missing folder', async () => {
    const lab = host.currentLab()!;
    const store = lab.store;
    const parts = {
      metrics: overall('metal_welding', { image_auroc: 0.5 }),
      curves: [{ scenario: 'metal_welding', defectType: '', curve: 'image_roc', points: { x: [0, 1], y: [0, 1] } }],
      predictions: [{ scenario: 'metal_welding', relPath: 'test/good/0.png', label: 'good', score: 1, mapPath: null }],
    };
    const done = insertRun(store, { name: 'done', kind: 'internal', method: 'patchcore', scenarios: ['metal_welding'], datasetRoot: null, config: {}, status: 'done' }, parts);
    const keep = insertRun(store, { name: 'keep', kind: 'internal', method: 'patchcore', scenarios: ['metal_welding'], datasetRoot: null, config: {}, status: 'done' }, parts);
    const running = insertRun(store, { name: 'running', kind: 'internal', method: 'patchcore', scenarios: ['metal_welding'], datasetRoot: null, config: {}, status: 'running' });
    const queued = insertRun(store, { name: 'queued', kind: 'internal', method: 'patchcore', scenarios: ['metal_welding'], datasetRoot: null, config: {}, status: 'queued' });
    const dir = lab.jobs.runDir(done);
    await mkdir(join(dir, 'heatmaps'), { recursive: true });
    await writeFile(join(dir, 'maps.amap'), 'x');
    store.connection.prepare('INSERT INTO run_series (run_id, series, step, value) VALUES (?, ?, ?, ?)').run(done, 'loss', 1, 0.5);

    expect(await host.invoke('runs:delete', { runId: done })).toEqual({ runId: done });
    expect(existsSync(dir)).toBe(false);
    const count = (table: string, id: number) => (store.connection.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE run_id = ?`).get(id) as { n: number }).n;
    for (const table of ['run_metrics', 'run_curves', 'run_predictions', 'run_series']) {
      expect(count(table, done)).toBe(0);
      if (table !== 'run_series') expect(count(table, keep)).toBe(1);
    }
    await expect(host.invoke('runs:get', { runId: done })).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(host.invoke('runs:delete', { runId: done })).rejects.toMatchObject({ name: 'NotFoundError' });

    for (const id of [running, queued]) {
      await expect(host.invoke('runs:delete', { runId: id })).rejects.toMatchObject({ name: 'ConflictError', message: expect.stringMatching(/cancel it before deleting it/) });
      expect(((await host.invoke('runs:get', { runId: id })) as RunInfo).id).toBe(id);
    }
    // No folder at all (an external run): still deleted.
    expect(existsSync(lab.jobs.runDir(keep))).toBe(false);
    expect(await host.invoke('runs:delete', { runId: keep })).toEqual({ runId: keep });
  });
});

describe('runs:diff', () => {
  it('flattens configs to dotted paths and keeps only differing leaves; arrays compare whole', () => {
    expect([...flattenSettings({ a: { b: 1, c: { d: [1, 2] } }, e: {}, f: null }).entries()]).toEqual([
      ['a.b', 1],
      ['a.c.d', [1, 2]],
      ['e', {}],
      ['f', null],
    ]);
    expect(diffSettings({ x: 1, y: { z: [1, 2], w: 'same' }, only: true }, { x: 2, y: { z: [1, 2], w: 'same' }, extra: { deep: 1 } })).toEqual([
      { path: 'extra.deep', a: undefined, b: 1 },
      { path: 'only', a: true, b: undefined },
      { path: 'x', a: 1, b: 2 },
    ]);
    expect(diffSettings({ a: [1, 2] }, { a: [2, 1] })).toEqual([{ path: 'a', a: [1, 2], b: [2, 1] }]);
    expect(diffSettings({ a: NaN }, { a: NaN })).toEqual([]);
  });

  it('shows method, backend, weights, random init, scenarios and config leaves that differ between two runs', async () => {
    const store = host.currentLab()!.store;
    const base = { kind: 'internal' as const, datasetRoot: null, status: 'done' as const };
    const a = insertRun(store, { ...base, name: 'a', method: 'patchcore', scenarios: ['metal_welding'], backend: 'wasm', weights: 'wrn50', randomInit: false, config: { preset: 'paper', coresetRatio: 0.1, layers: ['layer2', 'layer3'], input: { size: 224 } } });
    const b = insertRun(store, { ...base, name: 'b', method: 'patchcore', scenarios: ['metal_welding'], backend: 'cpu', weights: 'random', randomInit: true, config: { preset: 'fast', coresetRatio: 0.1, layers: ['layer2', 'layer3'], input: { size: 128 }, seed: 3 } });
    const diff = (await host.invoke('runs:diff', { a, b })) as ConfigDiffEntry[];
    expect(diff).toEqual([
      { path: 'backend', a: 'wasm', b: 'cpu' },
      { path: 'config.input.size', a: 224, b: 128 },
      { path: 'config.preset', a: 'paper', b: 'fast' },
      { path: 'config.seed', a: undefined, b: 3 },
      { path: 'randomInit', a: false, b: true },
      { path: 'weights', a: 'wrn50', b: 'random' },
    ]);
    expect(await host.invoke('runs:diff', { a, b: a })).toEqual([]);
    await expect(host.invoke('runs:diff', { a, b: 123_456 })).rejects.toMatchObject({ name: 'NotFoundError' });
  });
});
