/**
 * A run's per-image scores, wherever the run keeps them: external runs (and any run that stored
 * them) in run_predictions, job runs in `<runDir>/scores.json` (relPath → score). Read directly,
 * not through the run report, so asking for scores never starts a curve computation.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runScenarioDir } from '../runs/scenario-dir';
import type { RunDetail } from '../../../shared/types';
import { labelOf } from '../runs/report';
import { getPredictions } from '../store/runs-repo';
import type { Store } from '../store/store';

export interface ScoredImage {
  scenario: string;
  /** Relative to the scenario folder: `test/<label>/<name>`. */
  relPath: string;
  /** The test folder's label: `good` or a defect type. */
  label: string;
  score: number;
}

async function scoresJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Every scored test image of a run; empty for a run that has none (failed, cancelled, files gone). */
export async function runScores(store: Store, runDir: string, run: RunDetail): Promise<ScoredImage[]> {
  const stored = getPredictions(store, run.id);
  if (stored.length > 0) return stored.map((p) => ({ scenario: p.scenario, relPath: p.relPath, label: p.label, score: p.score }));
  if (run.kind !== 'internal' || run.status !== 'done') return [];
  // Each scenario's scores.json keys are relative to that scenario's folder; a unified run keeps one
  // per scenario under scenarios/<name>/ (runs/scenario-dir.ts).
  const out: ScoredImage[] = [];
  for (const scenario of run.scenarios) {
    const scores = await scoresJson(join(runScenarioDir(runDir, run.scenarios, scenario), 'scores.json'));
    if (!scores) continue;
    out.push(
      ...Object.entries(scores)
        .filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]))
        .map(([relPath, score]) => ({ scenario, relPath, label: labelOf(relPath), score }))
        .sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0)),
    );
  }
  return out;
}
