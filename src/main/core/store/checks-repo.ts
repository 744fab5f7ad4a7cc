/**
 * SQL of training-set checks (issue 19; migration 8): each finished check of a scenario with its
 * identity (k, method, preset, backbone, weights, date) and one score per training image. The
 * shown check of a (dataset, scenario) is its newest; ranks and the Library's suspicion bins are
 * computed from it here, so every door and the Library agree.
 */
import type { CheckInfo, SuspicionBin } from '../../../shared/calls/checks';
import { LabError } from '../../../shared/errors';
import type { Store } from './store';

export interface NewTrainCheck {
  runId: number;
  datasetId: number;
  scenario: string;
  folds: number;
  method: string;
  preset: string;
  backbone: string | null;
  weights: string;
  scores: { sampleId: number; fold: number; score: number }[];
}

/** Stores a finished check and its scores; call inside the transaction that marks its run done. */
export function insertTrainCheck(store: Store, check: NewTrainCheck): void {
  store.transaction(() => {
    store.connection
      .prepare(
        `INSERT INTO train_checks (run_id, dataset_id, scenario, folds, method, preset, backbone, weights, images, checked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(check.runId, check.datasetId, check.scenario, check.folds, check.method, check.preset, check.backbone, check.weights, check.scores.length, store.nowIso());
    const insert = store.connection.prepare('INSERT INTO train_check_scores (run_id, sample_id, fold, score) VALUES (?, ?, ?, ?)');
    for (const s of check.scores) insert.run(check.runId, s.sampleId, s.fold, s.score);
  });
}

interface CheckRow {
  run_id: number;
  dataset_id: number;
  scenario: string;
  folds: number;
  method: string;
  preset: string;
  backbone: string | null;
  weights: string | null;
  images: number;
  checked_at: string;
}

const info = (r: CheckRow): CheckInfo => ({
  runId: r.run_id,
  datasetId: r.dataset_id,
  scenario: r.scenario,
  folds: r.folds,
  method: r.method,
  preset: r.preset,
  backbone: r.backbone,
  weights: r.weights,
  images: r.images,
  checkedAt: r.checked_at,
});

/** The newest check of each (dataset, scenario): the ones every view shows. */
const LATEST_SQL = `SELECT c.* FROM train_checks c
  WHERE c.run_id = (SELECT c2.run_id FROM train_checks c2 WHERE c2.dataset_id = c.dataset_id AND c2.scenario = c.scenario ORDER BY c2.checked_at DESC, c2.run_id DESC LIMIT 1)`;

export function latestChecks(store: Store): CheckInfo[] {
  return (store.connection.prepare(`${LATEST_SQL} ORDER BY c.scenario, c.dataset_id`).all() as CheckRow[]).map(info);
}

export function getCheck(store: Store, runId: number): CheckInfo {
  const row = store.connection.prepare('SELECT * FROM train_checks WHERE run_id = ?').get(runId) as CheckRow | undefined;
  if (!row) throw new LabError(`no finished training-set check with run id ${runId} in this workspace`, 'NotFoundError');
  return info(row);
}

/** A check's scores, highest first (ties by sample id), with each sample's path. */
export function checkScores(store: Store, runId: number): { sampleId: number; relPath: string; fold: number; score: number }[] {
  return store.connection
    .prepare(
      `SELECT t.sample_id AS sampleId, s.rel_path AS relPath, t.fold AS fold, t.score AS score
       FROM train_check_scores t JOIN samples s ON s.id = t.sample_id WHERE t.run_id = ? ORDER BY t.score DESC, t.sample_id`,
    )
    .all(runId) as { sampleId: number; relPath: string; fold: number; score: number }[];
}

/** Rank (0-based, highest score first) below which a sample is in the top `percent` % of `n`: at least the top one. */
export function topCount(n: number, percent: number): number {
  return Math.min(n, Math.max(1, Math.ceil((n * percent) / 100)));
}

/** The suspicion bin of a rank among n scores. */
export function binOfRank(rank: number, n: number): Exclude<SuspicionBin, 'unchecked'> {
  if (rank < topCount(n, 1)) return 'top-1%';
  if (rank < topCount(n, 5)) return 'top-5%';
  return 'rest';
}

/** Every sample scored by a shown check, with its bin (the Library's suspicion column). */
export function suspicionBins(store: Store): Map<number, Exclude<SuspicionBin, 'unchecked'>> {
  const out = new Map<number, Exclude<SuspicionBin, 'unchecked'>>();
  for (const check of latestChecks(store)) {
    const ids = store.connection.prepare('SELECT sample_id FROM train_check_scores WHERE run_id = ? ORDER BY score DESC, sample_id').pluck().all(check.runId) as number[];
    ids.forEach((id, rank) => out.set(id, binOfRank(rank, ids.length)));
  }
  return out;
}

/** A sample's score in the shown check of its scenario, with its rank; null when no shown check scored it. */
export function sampleSuspicion(store: Store, sampleId: number): { runId: number; score: number; rank: number; of: number; fold: number; bin: Exclude<SuspicionBin, 'unchecked'>; checkedAt: string } | null {
  const row = store.connection
    .prepare(
      `SELECT l.run_id AS runId, l.images AS images, l.checked_at AS checkedAt, t.score AS score, t.fold AS fold,
              (SELECT COUNT(*) FROM train_check_scores u WHERE u.run_id = l.run_id AND (u.score > t.score OR (u.score = t.score AND u.sample_id < t.sample_id))) AS rank
       FROM (${LATEST_SQL}) l JOIN train_check_scores t ON t.run_id = l.run_id AND t.sample_id = ?`,
    )
    .get(sampleId) as { runId: number; images: number; checkedAt: string; score: number; fold: number; rank: number } | undefined;
  if (!row) return null;
  return { runId: row.runId, score: row.score, rank: row.rank, of: row.images, fold: row.fold, bin: binOfRank(row.rank, row.images), checkedAt: row.checkedAt };
}
