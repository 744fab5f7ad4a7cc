/**
 * Runs in the workspace database (schema v3): the run row, its metrics per scope, its curves,
 * its per-image predictions. A run and everything under it is written in one transaction.
 */
import { LabError } from '../../../shared/errors';
import type { RunDetail, RunInfo, RunMetricInfo, RunStatus } from '../../../shared/types';
import type { Store } from './store';

export interface NewRun {
  name: string;
  kind: 'internal' | 'external';
  method: string;
  scenarios: string[];
  datasetRoot: string | null;
  config: unknown;
  backend?: string | null;
  device?: string | null;
  weights?: string | null;
  randomInit?: boolean;
  status: RunStatus;
  error?: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
}

export interface NewCurve {
  scenario: string;
  defectType: string;
  curve: string;
  points: { x: ArrayLike<number>; y: ArrayLike<number> };
}

export interface NewPrediction {
  scenario: string;
  relPath: string;
  label: string;
  score: number;
  mapPath: string | null;
}

interface RunRow {
  id: number;
  name: string;
  kind: 'internal' | 'external';
  method: string;
  scenarios: string;
  dataset_root: string | null;
  config: string;
  backend: string | null;
  weights: string | null;
  random_init: number;
  status: RunStatus;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  tags: string;
  notes: string;
}

/** Inserts a run with its metrics, curves and predictions; returns its id. */
export function insertRun(
  store: Store,
  run: NewRun,
  parts: { metrics?: RunMetricInfo[]; curves?: NewCurve[]; predictions?: NewPrediction[] } = {},
): number {
  const db = store.connection;
  const insertRunStmt = db.prepare(
    `INSERT INTO runs (name, kind, method, scenarios, dataset_root, config, backend, device, weights, random_init, status, error, created_at, started_at, finished_at)
     VALUES (@name, @kind, @method, @scenarios, @datasetRoot, @config, @backend, @device, @weights, @randomInit, @status, @error, @createdAt, @startedAt, @finishedAt)`,
  );
  const insertMetric = db.prepare('INSERT INTO run_metrics (run_id, scenario, defect_type, metric, value, threshold) VALUES (?, ?, ?, ?, ?, ?)');
  const insertCurve = db.prepare('INSERT INTO run_curves (run_id, scenario, defect_type, curve, points) VALUES (?, ?, ?, ?, ?)');
  const insertPrediction = db.prepare('INSERT INTO run_predictions (run_id, scenario, rel_path, label, score, map_path) VALUES (?, ?, ?, ?, ?, ?)');
  return store.transaction(() => {
    const id = Number(
      insertRunStmt.run({
        name: run.name,
        kind: run.kind,
        method: run.method,
        scenarios: JSON.stringify(run.scenarios),
        datasetRoot: run.datasetRoot,
        config: JSON.stringify(run.config ?? {}),
        backend: run.backend ?? null,
        device: run.device ?? null,
        weights: run.weights ?? null,
        randomInit: run.randomInit ? 1 : 0,
        status: run.status,
        error: run.error ?? null,
        createdAt: store.nowIso(),
        startedAt: run.startedAt ?? null,
        finishedAt: run.finishedAt ?? null,
      }).lastInsertRowid,
    );
    for (const m of parts.metrics ?? []) insertMetric.run(id, m.scenario, m.defectType, m.metric, finiteOrNull(m.value), finiteOrNull(m.threshold));
    for (const c of parts.curves ?? []) {
      insertCurve.run(id, c.scenario, c.defectType, c.curve, JSON.stringify({ x: Array.from(c.points.x), y: Array.from(c.points.y) }));
    }
    for (const p of parts.predictions ?? []) insertPrediction.run(id, p.scenario, p.relPath, p.label, p.score, p.mapPath);
    return id;
  });
}

function finiteOrNull(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : v;
}

function toRunInfo(row: RunRow): RunInfo {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    method: row.method,
    scenarios: JSON.parse(row.scenarios) as string[],
    status: row.status,
    error: row.error,
    backend: row.backend,
    weights: row.weights,
    randomInit: row.random_init === 1,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    tags: JSON.parse(row.tags) as string[],
    notes: row.notes,
  };
}

export function listRuns(store: Store): RunInfo[] {
  return (store.connection.prepare('SELECT * FROM runs ORDER BY id DESC').all() as RunRow[]).map(toRunInfo);
}

export function getRun(store: Store, id: number): RunDetail {
  const row = store.connection.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
  if (!row) throw new LabError(`no run with id ${id} in this workspace`, 'NotFoundError');
  const metrics = (
    store.connection
      .prepare('SELECT scenario, defect_type, metric, value, threshold FROM run_metrics WHERE run_id = ? ORDER BY scenario, defect_type, metric')
      .all(id) as { scenario: string; defect_type: string; metric: string; value: number | null; threshold: number | null }[]
  ).map((m) => ({ scenario: m.scenario, defectType: m.defect_type, metric: m.metric, value: m.value, threshold: m.threshold }));
  return { ...toRunInfo(row), config: JSON.parse(row.config) as unknown, datasetRoot: row.dataset_root, metrics };
}
