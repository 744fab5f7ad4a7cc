/**
 * The benchmarks and their cells in the workspace database (migration 8). Rows only: which state a
 * cell may move to, and when, is bench/cells.ts's business.
 */
import { LabError } from '../../../shared/errors';
import { BENCH_CELL_STATES, type BenchCell, type BenchCellState, type BenchExecution, type BenchmarkDetail, type BenchmarkInfo, type BenchState } from '../../../shared/calls/bench';
import type { Store } from './store';

/** What a benchmark is made of, kept as JSON in `benchmarks.spec`. */
export interface BenchSpec {
  methods: string[];
  scenarios: string[];
  presets: string[];
  seeds: number[] | null;
  overrides: Record<string, Record<string, unknown>>;
  weights: 'pretrained' | 'random';
  backend: string | null;
}

export interface NewCell {
  method: string;
  scenarios: string[];
  seed: number;
  preset: string;
}

interface BenchRow {
  id: number;
  name: string;
  dataset_id: number;
  state: BenchState;
  execution: BenchExecution;
  spec: string;
  created_at: string;
}

interface CellRow {
  id: number;
  benchmark_id: number;
  method: string;
  scenarios: string;
  seed: number;
  preset: string;
  state: BenchCellState;
  reason: string | null;
  run_id: number | null;
}

function toCell(row: CellRow): BenchCell {
  return { id: row.id, method: row.method, scenarios: JSON.parse(row.scenarios) as string[], seed: row.seed, preset: row.preset, state: row.state, reason: row.reason, runId: row.run_id };
}

export function insertBenchmark(store: Store, b: { name: string; datasetId: number; execution: BenchExecution; spec: BenchSpec }, cells: readonly NewCell[]): number {
  return store.transaction(() => {
    const db = store.connection;
    const id = Number(
      db.prepare('INSERT INTO benchmarks (name, dataset_id, state, execution, spec, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(b.name, b.datasetId, 'created', b.execution, JSON.stringify(b.spec), store.nowIso()).lastInsertRowid,
    );
    const add = db.prepare('INSERT INTO benchmark_cells (benchmark_id, position, method, scenarios, seed, preset, state) VALUES (?, ?, ?, ?, ?, ?, ?)');
    cells.forEach((c, i) => add.run(id, i, c.method, JSON.stringify(c.scenarios), c.seed, c.preset, 'pending'));
    return id;
  });
}

function benchRow(store: Store, id: number): BenchRow {
  const row = store.connection.prepare('SELECT * FROM benchmarks WHERE id = ?').get(id) as BenchRow | undefined;
  if (!row) throw new LabError(`no benchmark with id ${id} in this workspace`, 'NotFoundError');
  return row;
}

export function benchSpec(store: Store, id: number): { datasetId: number; state: BenchState; execution: BenchExecution; spec: BenchSpec; name: string } {
  const row = benchRow(store, id);
  return { datasetId: row.dataset_id, state: row.state, execution: row.execution, spec: JSON.parse(row.spec) as BenchSpec, name: row.name };
}

export function listCells(store: Store, benchmarkId: number): BenchCell[] {
  return (store.connection.prepare('SELECT * FROM benchmark_cells WHERE benchmark_id = ? ORDER BY position').all(benchmarkId) as CellRow[]).map(toCell);
}

function info(row: BenchRow, cells: readonly BenchCell[]): BenchmarkInfo {
  const spec = JSON.parse(row.spec) as BenchSpec;
  const counts = Object.fromEntries(BENCH_CELL_STATES.map((s) => [s, 0])) as Record<BenchCellState, number>;
  for (const c of cells) counts[c.state] += 1;
  return {
    id: row.id,
    name: row.name,
    datasetId: row.dataset_id,
    state: row.state,
    execution: row.execution,
    ...spec,
    createdAt: row.created_at,
    counts,
    total: cells.length,
  };
}

export function getBenchmark(store: Store, id: number): BenchmarkDetail {
  const row = benchRow(store, id);
  const cells = listCells(store, id);
  return { ...info(row, cells), cells };
}

export function listBenchmarks(store: Store): BenchmarkInfo[] {
  const rows = store.connection.prepare('SELECT * FROM benchmarks ORDER BY id DESC').all() as BenchRow[];
  return rows.map((row) => info(row, listCells(store, row.id)));
}

export function benchmarkIdsIn(store: Store, state: BenchState): number[] {
  return (store.connection.prepare('SELECT id FROM benchmarks WHERE state = ? ORDER BY id').all(state) as { id: number }[]).map((r) => r.id);
}

export function setBenchmarkState(store: Store, id: number, state: BenchState): void {
  store.connection.prepare('UPDATE benchmarks SET state = ? WHERE id = ?').run(state, id);
}

export function cellOfRun(store: Store, runId: number): (BenchCell & { benchmarkId: number }) | null {
  const row = store.connection.prepare('SELECT * FROM benchmark_cells WHERE run_id = ?').get(runId) as CellRow | undefined;
  return row ? { ...toCell(row), benchmarkId: row.benchmark_id } : null;
}

export function getCell(store: Store, cellId: number): BenchCell & { benchmarkId: number } {
  const row = store.connection.prepare('SELECT * FROM benchmark_cells WHERE id = ?').get(cellId) as CellRow | undefined;
  if (!row) throw new LabError(`no benchmark cell with id ${cellId}`, 'NotFoundError');
  return { ...toCell(row), benchmarkId: row.benchmark_id };
}

export function updateCell(store: Store, cellId: number, state: BenchCellState, reason: string | null, runId?: number | null): void {
  if (runId === undefined) store.connection.prepare('UPDATE benchmark_cells SET state = ?, reason = ? WHERE id = ?').run(state, reason, cellId);
  else store.connection.prepare('UPDATE benchmark_cells SET state = ?, reason = ?, run_id = ? WHERE id = ?').run(state, reason, runId, cellId);
}
