/**
 * Runs in the workspace database (schema v3): the run row, its metrics per scope, its curves,
 * its per-image predictions. A run and everything under it is written in one transaction.
 * Job runs (jobs/runner.ts) are created queued and move through their statuses here; the main
 * process is the only writer, whatever the job process reports.
 */
import { LabError } from '../../../shared/errors';
import type { RunDetail, RunInfo, RunMetricInfo, RunStatus } from '../../../shared/types';
import type { RunTableRow } from '../../../shared/calls/runs';
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
  started_at: string | null;
  finished_at: string | null;
  tags: string;
  notes: string;
  device: string | null;
  job_kind: string | null;
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

function toRunInfo(row: Omit<RunRow, 'config' | 'dataset_root' | 'device' | 'job_kind'>): RunInfo {
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
  return {
    ...toRunInfo(row),
    config: JSON.parse(row.config) as unknown,
    datasetRoot: row.dataset_root,
    metrics,
    startedAt: row.started_at,
    device: row.device,
    jobKind: row.job_kind,
  };
}

/** A run made by a job: created queued; the runner moves it on. */
export interface NewJobRun {
  name: string;
  jobKind: string;
  method: string;
  scenarios: string[];
  datasetId: number | null;
  datasetRoot: string | null;
  config: unknown;
  weights: string | null;
  randomInit: boolean;
  requestedBackend: string | null;
  /** The main process whose queue holds it. */
  ownerPid?: number;
}

export function insertJobRun(store: Store, run: NewJobRun): number {
  const result = store.connection
    .prepare(
      `INSERT INTO runs (name, kind, method, scenarios, dataset_id, dataset_root, config, weights, random_init, status, created_at, job_kind, requested_backend, owner_pid)
       VALUES (@name, 'internal', @method, @scenarios, @datasetId, @datasetRoot, @config, @weights, @randomInit, 'queued', @createdAt, @jobKind, @requestedBackend, @ownerPid)`,
    )
    .run({
      name: run.name,
      method: run.method,
      scenarios: JSON.stringify(run.scenarios),
      datasetId: run.datasetId,
      datasetRoot: run.datasetRoot,
      config: JSON.stringify(run.config ?? {}),
      weights: run.weights,
      randomInit: run.randomInit ? 1 : 0,
      createdAt: store.nowIso(),
      jobKind: run.jobKind,
      requestedBackend: run.requestedBackend,
      ownerPid: run.ownerPid ?? process.pid,
    });
  return Number(result.lastInsertRowid);
}

/** What the runner needs to (re)start a job run. */
export interface JobRunRow {
  id: number;
  status: RunStatus;
  jobKind: string | null;
  config: unknown;
  requestedBackend: string | null;
}

export function getJobRun(store: Store, id: number): JobRunRow {
  const row = store.connection.prepare('SELECT id, status, job_kind, config, requested_backend FROM runs WHERE id = ?').get(id) as
    | { id: number; status: RunStatus; job_kind: string | null; config: string; requested_backend: string | null }
    | undefined;
  if (!row) throw new LabError(`no run with id ${id} in this workspace`, 'NotFoundError');
  return { id: row.id, status: row.status, jobKind: row.job_kind, config: JSON.parse(row.config) as unknown, requestedBackend: row.requested_backend };
}

/** Ids of the job runs in one status, oldest first, with the main process that ran them last. */
export function jobRunIds(store: Store, status: RunStatus): number[] {
  return jobRunOwners(store, status).map((r) => r.id);
}

export function jobRunOwners(store: Store, status: RunStatus): { id: number; ownerPid: number | null }[] {
  return (store.connection.prepare('SELECT id, owner_pid FROM runs WHERE status = ? AND job_kind IS NOT NULL ORDER BY id').all(status) as { id: number; owner_pid: number | null }[]).map((r) => ({
    id: r.id,
    ownerPid: r.owner_pid,
  }));
}

/**
 * Moves a run to `status`. `running` stamps started_at; the end states stamp finished_at;
 * `queued` clears the end stamp (a resumed run). `queued` and `running` also stamp the main
 * process that now holds the run (`ownerPid`), so another process opening the workspace leaves it
 * alone while that process lives. Returns the run as it now is.
 */
export function setRunStatus(store: Store, id: number, status: RunStatus, error: string | null = null, ownerPid: number = process.pid): RunInfo {
  const now = store.nowIso();
  const ended = status === 'done' || status === 'failed' || status === 'cancelled';
  store.connection
    .prepare(
      `UPDATE runs SET status = @status, error = @error,
         started_at = CASE WHEN @status = 'running' THEN @now ELSE started_at END,
         finished_at = CASE WHEN @ended = 1 THEN @now ELSE NULL END,
         owner_pid = CASE WHEN @status IN ('queued', 'running') THEN @ownerPid ELSE owner_pid END
       WHERE id = @id`,
    )
    .run({ id, status, error, now, ended: ended ? 1 : 0, ownerPid });
  return getRun(store, id);
}

export function setRunBackend(store: Store, id: number, backend: string, device: string): void {
  store.connection.prepare('UPDATE runs SET backend = ?, device = ? WHERE id = ?').run(backend, device, id);
}

/** Stores curve points; a resumed job that redoes a step replaces the point. */
export function upsertSeries(store: Store, id: number, points: readonly { name: string; step: number; value: number }[]): void {
  const stmt = store.connection.prepare('INSERT OR REPLACE INTO run_series (run_id, series, step, value) VALUES (?, ?, ?, ?)');
  store.transaction(() => {
    for (const p of points) stmt.run(id, p.name, p.step, p.value);
  });
}

export function getSeries(store: Store, id: number): Record<string, { step: number; value: number }[]> {
  const rows = store.connection.prepare('SELECT series, step, value FROM run_series WHERE run_id = ? ORDER BY series, step').all(id) as { series: string; step: number; value: number }[];
  const out: Record<string, { step: number; value: number }[]> = {};
  for (const r of rows) (out[r.series] ??= []).push({ step: r.step, value: r.value });
  return out;
}

/** A chart curve as a job reports it (protocol.ts `curves`). */
export interface JobCurve {
  scenario: string;
  defectType: string;
  curve: string;
  x: readonly number[];
  y: readonly number[];
}

/**
 * Marks a job run done and stores its metrics and the curves it computed (replacing any of the same
 * names), in one transaction: a run is never `done` without the curves its job reported.
 */
export function finishRun(store: Store, id: number, metrics: readonly RunMetricInfo[], curves: readonly JobCurve[] = []): RunInfo {
  const insert = store.connection.prepare('INSERT OR REPLACE INTO run_metrics (run_id, scenario, defect_type, metric, value, threshold) VALUES (?, ?, ?, ?, ?, ?)');
  store.transaction(() => {
    for (const m of metrics) insert.run(id, m.scenario, m.defectType, m.metric, finiteOrNull(m.value), finiteOrNull(m.threshold));
    if (curves.length > 0) putCurves(store, id, curves.map((c) => ({ scenario: c.scenario, defectType: c.defectType, curve: c.curve, points: { x: c.x, y: c.y } })));
    setRunStatus(store, id, 'done');
  });
  return getRun(store, id);
}

/** A stored chart curve of a run (run_curves). */
export interface StoredCurve {
  scenario: string;
  defectType: string;
  curve: string;
  x: number[];
  y: number[];
}

export function getCurves(store: Store, id: number): StoredCurve[] {
  const rows = store.connection.prepare('SELECT scenario, defect_type, curve, points FROM run_curves WHERE run_id = ? ORDER BY scenario, defect_type, curve').all(id) as {
    scenario: string;
    defect_type: string;
    curve: string;
    points: string;
  }[];
  return rows.map((r) => {
    const p = JSON.parse(r.points) as { x: number[]; y: number[] };
    return { scenario: r.scenario, defectType: r.defect_type, curve: r.curve, x: p.x, y: p.y };
  });
}

/** Caches curves computed after the run (the report): replaces the run's curves of the same names. */
export function putCurves(store: Store, id: number, curves: readonly NewCurve[]): void {
  const del = store.connection.prepare('DELETE FROM run_curves WHERE run_id = ? AND scenario = ? AND defect_type = ? AND curve = ?');
  const ins = store.connection.prepare('INSERT INTO run_curves (run_id, scenario, defect_type, curve, points) VALUES (?, ?, ?, ?, ?)');
  store.transaction(() => {
    for (const c of curves) {
      del.run(id, c.scenario, c.defectType, c.curve);
      ins.run(id, c.scenario, c.defectType, c.curve, JSON.stringify({ x: Array.from(c.points.x), y: Array.from(c.points.y) }));
    }
  });
}

export function getPredictions(store: Store, id: number): NewPrediction[] {
  return (
    store.connection.prepare('SELECT scenario, rel_path, label, score, map_path FROM run_predictions WHERE run_id = ? ORDER BY scenario, rel_path').all(id) as {
      scenario: string;
      rel_path: string;
      label: string;
      score: number;
      map_path: string | null;
    }[]
  ).map((r) => ({ scenario: r.scenario, relPath: r.rel_path, label: r.label, score: r.score, mapPath: r.map_path }));
}

/** The overall metrics the runs table shows, averaged over a run's scenarios. */
export const TABLE_METRICS = ['image_auroc', 'pixel_auroc', 'aupro', 'image_f1_max', 'pixel_f1_max'] as const;

/**
 * Every run with its headline metrics, newest first, in two queries whatever the number of runs
 * (the runs table must stay fast with 1,000 runs): one for the runs, one aggregate for the metrics.
 */
export function listRunTable(store: Store): RunTableRow[] {
  const db = store.connection;
  // The config itself stays in SQLite: only its preset is read (a config can be large).
  const rows = db
    .prepare(
      `SELECT id, name, kind, method, scenarios, status, error, backend, weights, random_init, created_at, started_at, finished_at, tags, notes,
              CASE WHEN json_valid(config) THEN json_extract(config, '$.preset') END AS preset_value
       FROM runs ORDER BY id DESC`,
    )
    .all() as (Omit<RunRow, 'config' | 'dataset_root' | 'device' | 'job_kind'> & { preset_value: unknown })[];
  const placeholders = TABLE_METRICS.map(() => '?').join(', ');
  const metricRows = db
    .prepare(
      `SELECT run_id, metric, AVG(value) AS mean FROM run_metrics
       WHERE defect_type = '' AND value IS NOT NULL AND metric IN (${placeholders})
       GROUP BY run_id, metric`,
    )
    .all(...TABLE_METRICS) as { run_id: number; metric: string; mean: number }[];
  const byRun = new Map<number, Record<string, number>>();
  for (const m of metricRows) {
    let rec = byRun.get(m.run_id);
    if (!rec) byRun.set(m.run_id, (rec = {}));
    rec[m.metric] = m.mean;
  }
  return rows.map((row) => {
    const started = row.started_at ? Date.parse(row.started_at) : NaN;
    const finished = row.finished_at ? Date.parse(row.finished_at) : NaN;
    const duration = Number.isFinite(started) && Number.isFinite(finished) ? Math.max(0, (finished - started) / 1000) : null;
    return {
      ...toRunInfo(row),
      startedAt: row.started_at,
      durationSec: duration,
      preset: typeof row.preset_value === 'string' ? row.preset_value : null,
      // Whether a checkpoint exists is a question for the run folder: the handler answers it.
      resumable: false,
      metrics: byRun.get(row.id) ?? {},
    };
  });
}

/** Renames a run and sets its tags or notes; fields left undefined keep their value. */
export function updateRun(store: Store, id: number, change: { name?: string | undefined; tags?: readonly string[] | undefined; notes?: string | undefined }): RunInfo {
  getRun(store, id);
  // Tags are a set for filtering: keep the first spelling of each, in the order given.
  const tags = change.tags === undefined ? null : JSON.stringify([...new Set(change.tags)]);
  store.connection
    .prepare(
      `UPDATE runs SET name = COALESCE(@name, name), tags = COALESCE(@tags, tags), notes = COALESCE(@notes, notes) WHERE id = @id`,
    )
    .run({ id, name: change.name ?? null, tags, notes: change.notes ?? null });
  return getRun(store, id);
}

/**
 * Deletes a run's rows (metrics, curves, predictions and series go with it by ON DELETE CASCADE,
 * spelled out too so a database opened without foreign keys is cleaned the same way), in one
 * transaction. A queued or running run is refused: its job would write into rows that are gone.
 */
export function deleteRunRows(store: Store, id: number): void {
  const run = getRun(store, id);
  if (run.status === 'queued' || run.status === 'running') {
    throw new LabError(`run ${id} is ${run.status}: cancel it before deleting it`, 'ConflictError');
  }
  const db = store.connection;
  store.transaction(() => {
    for (const table of ['run_metrics', 'run_curves', 'run_predictions', 'run_series']) {
      db.prepare(`DELETE FROM ${table} WHERE run_id = ?`).run(id);
    }
    db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  });
}
