/**
 * Benchmark of the comparison core (issue #8) at the sizes the issue names:
 * - runs:table over 1,000 runs (7 scenarios, metrics overall and per defect type): our two
 *   queries against the naive N+1 way (list the runs, then read each run's metrics), same results;
 * - compare:tables over 64 runs, rows by method;
 * - compare:grid, 8 runs × 28 images from real .amap files (256 × 256 maps), 128 px cells: time and
 *   payload against the naive grid that ships each full-size map as JSON numbers.
 *
 * Run: npx tsx bench/runs-table-core.ts [runs]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab } from '../src/main/core/lab';
import { getRun, insertRun, listRunTable, listRuns, TABLE_METRICS } from '../src/main/core/store/runs-repo';
import { compareTables } from '../src/main/core/compare/tables';
import { compareGrid } from '../src/main/core/compare/grid';
import { MapPackReader, MapPackWriter } from '../src/main/core/evaluation/index';
import { SCENARIOS, SCENARIO_INFO } from '../src/shared/taxonomy';
import type { RunMetricInfo } from '../src/shared/types';

const RUNS = Number(process.argv[2] ?? 1000);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, repeat = 5): number {
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function timeAsync(fn: () => Promise<unknown>, repeat = 3): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

let seed = 12345;
const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);

const root = await mkdtemp(join(tmpdir(), 'miad-bench-compare-'));
try {
  const lab = await createLab(join(root, 'ws'), { create: true });
  const store = lab.store;
  store.transaction(() => {
    for (let i = 0; i < RUNS; i++) {
      const scenario = SCENARIOS[i % SCENARIOS.length]!;
      const metrics: RunMetricInfo[] = [];
      for (const d of ['', ...SCENARIO_INFO[scenario].defects]) {
        for (const m of TABLE_METRICS) metrics.push({ scenario, defectType: d, metric: m, value: rand(), threshold: m.endsWith('f1_max') ? rand() : null });
      }
      insertRun(store, { name: `run ${i}`, kind: 'internal', method: `m${i % 7}`, scenarios: [scenario], datasetRoot: null, config: { preset: 'paper', seed: i }, status: 'done', startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:10:00Z' }, { metrics });
    }
  });

  // The naive table: one query for the runs, one per run for its metrics.
  const naive = () =>
    listRuns(store).map((r) => {
      const d = getRun(store, r.id);
      const sums = new Map<string, { s: number; n: number }>();
      for (const m of d.metrics) {
        if (m.defectType !== '' || m.value === null || !(TABLE_METRICS as readonly string[]).includes(m.metric)) continue;
        const e = sums.get(m.metric) ?? { s: 0, n: 0 };
        e.s += m.value;
        e.n++;
        sums.set(m.metric, e);
      }
      return { id: r.id, metrics: Object.fromEntries([...sums].map(([k, v]) => [k, v.s / v.n])) };
    });
  const ours = listRunTable(store);
  const ref = naive();
  for (let i = 0; i < ours.length; i++) {
    for (const m of TABLE_METRICS) if (Math.abs((ours[i]!.metrics[m] ?? NaN) - (ref[i]!.metrics[m] ?? NaN)) > 1e-12) throw new Error(`run ${ours[i]!.id} ${m} differs`);
  }
  const tOurs = time(() => listRunTable(store));
  const tNaive = time(naive);
  console.log(`runs:table, ${RUNS} runs: ${tOurs.toFixed(1)} ms (naive N+1: ${tNaive.toFixed(1)} ms, ${(tNaive / tOurs).toFixed(1)}× faster), identical metrics`);

  const ids64 = listRuns(store).slice(0, 64).map((r) => r.id);
  const tTables = time(() => compareTables(store, ids64, 'method'));
  console.log(`compare:tables, 64 runs by method: ${tTables.toFixed(1)} ms`);

  // The grid: 8 runs with real map packs of 28 test images each.
  const W = 256;
  const keys: string[] = [];
  for (const d of SCENARIO_INFO.nut_and_bolt.defects) for (let k = 0; k < 8; k++) keys.push(`test/${d}/${String(k).padStart(3, '0')}.png`);
  for (let k = 0; k < 12; k++) keys.push(`test/good/${String(k).padStart(3, '0')}.png`);
  const gridRuns: number[] = [];
  for (let r = 0; r < 8; r++) {
    const id = insertRun(store, { name: `grid ${r}`, kind: 'internal', method: `m${r}`, scenarios: ['nut_and_bolt'], datasetRoot: null, config: {}, status: 'done' });
    const dir = lab.jobs.runDir(id);
    await mkdir(dir, { recursive: true });
    const w = await MapPackWriter.create(join(dir, 'maps.amap'), W, W);
    const scores: Record<string, number> = {};
    for (const key of keys) {
      const map = new Float32Array(W * W);
      for (let i = 0; i < map.length; i++) map[i] = rand() + (key.includes('good') ? 0 : Math.sin(i / 900));
      await w.add(key, map);
      scores[key] = rand();
    }
    await w.close();
    await writeFile(join(dir, 'scores.json'), JSON.stringify(scores));
    gridRuns.push(id);
  }
  const ctx = { store, workspaceDir: lab.dir, runDir: (id: number) => lab.jobs.runDir(id) };
  // The size: 28 images, picked by hand (automatic picks stop at 4 per defect type).
  const request = { runIds: gridRuns, scenario: 'nut_and_bolt', perDefect: 2, cellSize: 128, picks: keys.slice(0, 28) };
  // The first call computes and caches each run's display scale (heatmaps/scale.json).
  const tFirst = await timeAsync(() => compareGrid(ctx, request), 1);
  const grid = await compareGrid(ctx, request);
  const tGrid = await timeAsync(() => compareGrid(ctx, request));
  const payload = JSON.stringify(grid).length;
  // Naive: the same maps, full size, as JSON numbers.
  const naiveGrid = async () => {
    const rows: number[][][] = [];
    for (const id of gridRuns) {
      const reader = await MapPackReader.open(join(lab.jobs.runDir(id), 'maps.amap'));
      rows.push(await Promise.all(grid.rows.map(async (r) => Array.from((await reader.readKey(r.relPath))!))));
      await reader.close();
    }
    return JSON.stringify(rows);
  };
  let naivePayload = 0;
  const tNaiveGrid = await timeAsync(async () => (naivePayload = (await naiveGrid()).length), 1);
  console.log(
    `compare:grid, ${gridRuns.length} runs × ${grid.rows.length} images (256² maps → 128 px cells): ${tGrid.toFixed(0)} ms (first call with scales: ${tFirst.toFixed(0)} ms), ` +
      `payload ${(payload / 1e6).toFixed(2)} MB; naive full-size JSON: ${tNaiveGrid.toFixed(0)} ms, ${(naivePayload / 1e6).toFixed(1)} MB (${(naivePayload / payload).toFixed(0)}× larger, ${(tNaiveGrid / tGrid).toFixed(1)}× slower)`,
  );
  lab.close();
} finally {
  await rm(root, { recursive: true, force: true });
}
