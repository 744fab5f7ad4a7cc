/**
 * SQL of moving runs between workspaces (transfer/run-bundle.ts, schema v8): a run's row as it is
 * exported, and an imported run inserted with its metrics, curves, predictions and series, keyed by
 * `remote_uid` (unique), so the same run imported twice is stored once. The caller wraps the insert
 * in `store.transaction` together with moving its files into place.
 */
import { LabError } from '../../../shared/errors';
import type { RunMetricInfo, RunStatus } from '../../../shared/types';
import type { Store } from './store';

/** The run row's columns a bundle carries (no ids, no local paths, no owner process). */
export interface ExportedRunRow {
  name: string;
  kind: 'internal' | 'external';
  method: string;
  scenarios: string[];
  config: unknown;
  backend: string | null;
  device: string | null;
  weights: string | null;
  randomInit: boolean;
  status: RunStatus;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  tags: string[];
  notes: string;
  jobKind: string | null;
  requestedBackend: string | null;
}

export interface RunRowForExport extends ExportedRunRow {
  datasetId: number | null;
  datasetRoot: string | null;
}

export function runRowForExport(store: Store, id: number): RunRowForExport {
  const r = store.connection.prepare('SELECT * FROM runs WHERE id = ?').get(id) as
    | {
        name: string; kind: 'internal' | 'external'; method: string; scenarios: string; config: string; backend: string | null; device: string | null;
        weights: string | null; random_init: number; status: RunStatus; error: string | null; created_at: string; started_at: string | null;
        finished_at: string | null; tags: string; notes: string; job_kind: string | null; requested_backend: string | null; dataset_id: number | null; dataset_root: string | null;
      }
    | undefined;
  if (!r) throw new LabError(`no run with id ${id} in this workspace`, 'NotFoundError');
  return {
    name: r.name,
    kind: r.kind,
    method: r.method,
    scenarios: JSON.parse(r.scenarios) as string[],
    config: JSON.parse(r.config) as unknown,
    backend: r.backend,
    device: r.device,
    weights: r.weights,
    randomInit: r.random_init === 1,
    status: r.status,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    tags: JSON.parse(r.tags) as string[],
    notes: r.notes,
    jobKind: r.job_kind,
    requestedBackend: r.requested_backend,
    datasetId: r.dataset_id,
    datasetRoot: r.dataset_root,
  };
}

export function runIdByRemoteUid(store: Store, uid: string): number | null {
  const row = store.connection.prepare('SELECT id FROM runs WHERE remote_uid = ?').get(uid) as { id: number } | undefined;
  return row?.id ?? null;
}

/** Dataset-relative paths of samples by id (those that exist). */
export function sampleRelPaths(store: Store, ids: readonly number[]): Map<number, string> {
  const stmt = store.connection.prepare('SELECT rel_path FROM samples WHERE id = ?');
  const out = new Map<number, string>();
  for (const id of ids) {
    const row = stmt.get(id) as { rel_path: string } | undefined;
    if (row) out.set(id, row.rel_path);
  }
  return out;
}

/** A dataset's sample ids by dataset-relative path. */
export function sampleIdsByRelPath(store: Store, datasetId: number): Map<string, number> {
  const rows = store.connection.prepare('SELECT id, rel_path FROM samples WHERE dataset_id = ?').all(datasetId) as { id: number; rel_path: string }[];
  return new Map(rows.map((r) => [r.rel_path, r.id]));
}

export interface ImportedRun {
  remoteUid: string;
  host: string;
  row: ExportedRunRow;
  datasetId: number | null;
  datasetRoot: string | null;
  metrics: readonly RunMetricInfo[];
  curves: readonly { scenario: string; defectType: string; curve: string; x: readonly number[]; y: readonly number[] }[];
  predictions: readonly { scenario: string; relPath: string; label: string; score: number; mapPath: string | null }[];
  series: readonly { series: string; step: number; value: number }[];
}

/** Inserts an imported run and everything under it; call inside `store.transaction`. Returns its id. */
export function insertImportedRun(store: Store, run: ImportedRun): number {
  const db = store.connection;
  const r = run.row;
  const id = Number(
    db
      .prepare(
        `INSERT INTO runs (name, kind, method, scenarios, dataset_id, dataset_root, config, backend, device, weights, random_init, status, error,
                           created_at, started_at, finished_at, tags, notes, job_kind, requested_backend, owner_pid, remote_uid, host)
         VALUES (@name, @kind, @method, @scenarios, @datasetId, @datasetRoot, @config, @backend, @device, @weights, @randomInit, @status, @error,
                 @createdAt, @startedAt, @finishedAt, @tags, @notes, @jobKind, @requestedBackend, NULL, @remoteUid, @host)`,
      )
      .run({
        name: r.name,
        kind: r.kind,
        method: r.method,
        scenarios: JSON.stringify(r.scenarios),
        datasetId: run.datasetId,
        datasetRoot: run.datasetRoot,
        config: JSON.stringify(r.config ?? {}),
        backend: r.backend,
        device: r.device,
        weights: r.weights,
        randomInit: r.randomInit ? 1 : 0,
        status: r.status,
        error: r.error,
        createdAt: r.createdAt,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        tags: JSON.stringify(r.tags),
        notes: r.notes,
        jobKind: r.jobKind,
        requestedBackend: r.requestedBackend,
        remoteUid: run.remoteUid,
        host: run.host,
      }).lastInsertRowid,
  );
  const metric = db.prepare('INSERT INTO run_metrics (run_id, scenario, defect_type, metric, value, threshold) VALUES (?, ?, ?, ?, ?, ?)');
  for (const m of run.metrics) metric.run(id, m.scenario, m.defectType, m.metric, m.value, m.threshold);
  const curve = db.prepare('INSERT INTO run_curves (run_id, scenario, defect_type, curve, points) VALUES (?, ?, ?, ?, ?)');
  for (const c of run.curves) curve.run(id, c.scenario, c.defectType, c.curve, JSON.stringify({ x: c.x, y: c.y }));
  const prediction = db.prepare('INSERT INTO run_predictions (run_id, scenario, rel_path, label, score, map_path) VALUES (?, ?, ?, ?, ?, ?)');
  for (const p of run.predictions) prediction.run(id, p.scenario, p.relPath, p.label, p.score, p.mapPath);
  const series = db.prepare('INSERT INTO run_series (run_id, series, step, value) VALUES (?, ?, ?, ?)');
  for (const s of run.series) series.run(id, s.series, s.step, s.value);
  return id;
}
