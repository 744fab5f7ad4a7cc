/**
 * The comparison tables of issue #8, built from stored run metrics only (run_metrics), so any
 * method, ours or external, compares without a change here:
 * - the paper's table (Table 2): rows are runs or methods, columns the scenarios per metric, each
 *   row's mean over the scenarios it has, the best of each column marked;
 * - the per-defect-type table: Table A.1's 14 types, each read from its scenario's metric rows for
 *   that type, with means grouped by scenario and by uncontrolled factor (appendix A.3).
 * Everything dropped or merged is said in `notes`, because a table that silently leaves a run out
 * reads as a result.
 */
import { PAPER_METRICS, type CompareCell, type CompareRowHead, type CompareTables, type DefectTable, type PaperMetric, type PaperTable } from '../../../shared/calls/compare';
import { LabError } from '../../../shared/errors';
import { FACTORS, SCENARIO_INFO, isScenario, type Factor } from '../../../shared/taxonomy';
import type { RunDetail, RunInfo } from '../../../shared/types';
import { getRun } from '../store/runs-repo';
import type { Store } from '../store/store';

export { TABLE_A1_SCENARIOS, orderScenarios } from '../../../shared/taxonomy';
import { TABLE_A1_SCENARIOS, orderScenarios } from '../../../shared/taxonomy';

export function loadRuns(store: Store, runIds: readonly number[]): RunDetail[] {
  const unique = [...new Set(runIds)];
  const found: RunDetail[] = [];
  const missing: number[] = [];
  for (const id of unique) {
    try {
      found.push(getRun(store, id));
    } catch (error) {
      if (error instanceof LabError && error.name === 'NotFoundError') missing.push(id);
      else throw error;
    }
  }
  if (missing.length > 0) {
    throw new LabError(`no run${missing.length > 1 ? 's' : ''} with id ${missing.join(', ')} in this workspace`, 'NotFoundError');
  }
  return found;
}

/** A value lookup over one run's metric rows: scenario → defect type → metric → value. */
type MetricIndex = Map<string, Map<string, Map<string, number | null>>>;

function indexMetrics(run: RunDetail): MetricIndex {
  const out: MetricIndex = new Map();
  for (const m of run.metrics) {
    let byDefect = out.get(m.scenario);
    if (!byDefect) out.set(m.scenario, (byDefect = new Map()));
    let byMetric = byDefect.get(m.defectType);
    if (!byMetric) byDefect.set(m.defectType, (byMetric = new Map()));
    byMetric.set(m.metric, m.value === null || !Number.isFinite(m.value) ? null : m.value);
  }
  return out;
}

/** A row of either table: its head and, per scenario, the run whose metrics it shows there. */
interface RowSource {
  head: CompareRowHead;
  /** scenario → the run that supplies it; with `seeds`, every run pooled there (a benchmark's seeds). */
  byScenario: Map<string, { run: RunDetail; metrics: MetricIndex; seeds?: MetricIndex[] }>;
}

function runLabel(run: RunDetail): string {
  return run.name;
}

/** Newest finished first: finish time, then id (runs stored in the same millisecond). */
function newerFirst(a: RunDetail, b: RunDetail): number {
  const fa = a.finishedAt ?? '';
  const fb = b.finishedAt ?? '';
  if (fa !== fb) return fa < fb ? 1 : -1;
  return b.id - a.id;
}

/** Scenarios a run has overall metric rows for, i.e. the ones it can fill cells of. */
function coveredScenarios(metrics: MetricIndex): string[] {
  return [...metrics.entries()].filter(([, byDefect]) => byDefect.has('')).map(([s]) => s);
}

function rowSources(runs: readonly RunDetail[], rowsBy: 'run' | 'method', notes: string[], poolSeeds = false): RowSource[] {
  const usable: { run: RunDetail; metrics: MetricIndex }[] = [];
  for (const run of runs) {
    const metrics = indexMetrics(run);
    if (coveredScenarios(metrics).length === 0) {
      notes.push(`run #${run.id} "${run.name}" is ${run.status} and has no metrics: left out`);
      continue;
    }
    usable.push({ run, metrics });
  }
  if (rowsBy === 'run') {
    // Runs made with one command share a default name ("patchcore fast · nut_and_bolt"): a table
    // whose rows read alike tells nothing, so repeated names carry their run id.
    const seen = new Map<string, number>();
    for (const { run } of usable) seen.set(runLabel(run), (seen.get(runLabel(run)) ?? 0) + 1);
    return usable.map(({ run, metrics }) => ({
      head: {
        key: `run:${run.id}`,
        label: seen.get(runLabel(run))! > 1 ? `${runLabel(run)} (#${run.id})` : runLabel(run),
        method: run.method,
        runIds: [run.id],
        randomInit: run.randomInit,
        external: run.kind === 'external',
        unified: run.scenarios.length > 1,
      },
      byScenario: new Map(coveredScenarios(metrics).map((s) => [s, { run, metrics }])),
    }));
  }
  const byMethod = new Map<string, { run: RunDetail; metrics: MetricIndex }[]>();
  for (const u of usable) {
    const list = byMethod.get(u.run.method);
    if (list) list.push(u);
    else byMethod.set(u.run.method, [u]);
  }
  const out: RowSource[] = [];
  for (const [method, list] of byMethod) {
    const byScenario: RowSource['byScenario'] = new Map();
    const scenarios = orderScenarios(list.flatMap((u) => coveredScenarios(u.metrics)));
    for (const s of scenarios) {
      const candidates = list.filter((u) => u.metrics.get(s)?.has('')).sort((a, b) => newerFirst(a.run, b.run));
      // Only finished runs can win while one exists: a run that failed after writing some metrics is less trustworthy.
      const done = candidates.filter((u) => u.run.status === 'done');
      const pool = done.length > 0 ? done : candidates;
      const winner = pool[0]!;
      if (poolSeeds) {
        // A benchmark's runs of one method and scenario are its seeds: every one counts.
        byScenario.set(s, { ...winner, seeds: pool.map((u) => u.metrics) });
        continue;
      }
      byScenario.set(s, winner);
      const losers = candidates.filter((u) => u !== winner).map((u) => `#${u.run.id}`);
      if (losers.length > 0) notes.push(`${method}, ${s}: run #${winner.run.id} (the newest finished) is shown; ${losers.join(', ')} left out`);
    }
    const used = poolSeeds ? list : list.filter((u) => [...byScenario.values()].includes(u));
    const randomKinds = new Set(used.map((u) => u.run.randomInit));
    if (randomKinds.size > 1) notes.push(`${method} mixes runs with random and pretrained backbone weights`);
    out.push({
      head: {
        key: method,
        label: method,
        method,
        runIds: used.map((u) => u.run.id).sort((a, b) => a - b),
        randomInit: used.some((u) => u.run.randomInit),
        external: used.some((u) => u.run.kind === 'external'),
        unified: used.some((u) => u.run.scenarios.length > 1),
      },
      byScenario,
    });
  }
  return out;
}

function mean(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (v === null) continue;
    sum += v;
    n++;
  }
  return n === 0 ? null : sum / n;
}

/**
 * Marks the highest value(s) of a set of cells; nulls never win, ties are all marked. A value
 * alone in its column is not marked: bold there would claim a win over nothing.
 */
export function markBest(cells: readonly CompareCell[]): void {
  let best = Number.NEGATIVE_INFINITY;
  let present = 0;
  for (const c of cells) {
    if (c.value === null) continue;
    present++;
    if (c.value > best) best = c.value;
  }
  for (const c of cells) c.best = present > 1 && c.value !== null && c.value === best;
}

function perMetric<T>(make: (metric: PaperMetric) => T): Record<PaperMetric, T> {
  return Object.fromEntries(PAPER_METRICS.map((m) => [m, make(m)])) as Record<PaperMetric, T>;
}

function cell(value: number | null, spread?: { std: number; n: number }): CompareCell {
  return spread ? { value, best: false, ...spread } : { value, best: false };
}

function lookup(source: RowSource, scenario: string, defectType: string, metric: string): number | null {
  return lookupCell(source, scenario, defectType, metric).value;
}

/** The value of a row at a scenario; pooled seeds give their mean and (sample) standard deviation. */
function lookupCell(source: RowSource, scenario: string, defectType: string, metric: string): CompareCell {
  const entry = source.byScenario.get(scenario);
  if (!entry?.seeds) return cell(entry?.metrics.get(scenario)?.get(defectType)?.get(metric) ?? null);
  const values = entry.seeds.map((m) => m.get(scenario)?.get(defectType)?.get(metric) ?? null).filter((v): v is number => v !== null);
  if (values.length === 0) return cell(null);
  const m = values.reduce((a, v) => a + v, 0) / values.length;
  if (values.length === 1) return cell(m);
  const std = Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
  return cell(m, { std, n: values.length });
}

function paperTable(sources: readonly RowSource[], notes: string[]): PaperTable {
  const scenarios = orderScenarios(sources.flatMap((s) => [...s.byScenario.keys()]));
  const rows = sources.map((source) => {
    const cells = perMetric((metric) => scenarios.map((s) => lookupCell(source, s, '', metric)));
    const meanCells = perMetric((metric) => cell(mean(cells[metric].map((c) => c.value))));
    return { ...source.head, cells, mean: meanCells };
  });
  for (const metric of PAPER_METRICS) {
    scenarios.forEach((_, i) => markBest(rows.map((r) => r.cells[metric][i]!)));
    markBest(rows.map((r) => r.mean[metric]));
  }
  const partial = sources.filter((s) => s.byScenario.size < scenarios.length).map((s) => s.head.label);
  if (partial.length > 0) {
    notes.push(`rows without every scenario (${partial.join(', ')}) average only the scenarios they have: their means do not compare one to one`);
  }
  return { scenarios, metrics: [...PAPER_METRICS], rows, notes };
}

/** The defect type rows: Table A.1's types of the scenarios the heads cover, then any other type found. */
function defectRowsFor(sources: readonly RowSource[]): { scenario: string; defectType: string }[] {
  const covered = orderScenarios(sources.flatMap((s) => [...s.byScenario.keys()]));
  const out: { scenario: string; defectType: string }[] = [];
  for (const scenario of covered) {
    const known = isScenario(scenario) ? [...SCENARIO_INFO[scenario].defects] : [];
    const found = new Set<string>();
    for (const source of sources) {
      for (const d of source.byScenario.get(scenario)?.metrics.get(scenario)?.keys() ?? []) if (d !== '') found.add(d);
    }
    for (const d of known) out.push({ scenario, defectType: d });
    for (const d of [...found].filter((d) => !known.includes(d)).sort()) out.push({ scenario, defectType: d });
  }
  return out;
}

function factorsOf(scenario: string): Factor[] {
  return isScenario(scenario) ? [...SCENARIO_INFO[scenario].factors] : [];
}

function defectTable(sources: readonly RowSource[], notes: string[]): DefectTable {
  const heads = sources.map((s) => s.head);
  const rows = defectRowsFor(sources).map(({ scenario, defectType }) => {
    const cells = perMetric((metric) => sources.map((source) => cell(lookup(source, scenario, defectType, metric))));
    return { defectType, scenario, factors: factorsOf(scenario), cells };
  });
  const unknownTypes = rows.filter((r) => isScenario(r.scenario) && !SCENARIO_INFO[r.scenario].defects.includes(r.defectType));
  if (unknownTypes.length > 0) notes.push(`defect types outside Table A.1 are listed last in their scenario: ${unknownTypes.map((r) => `${r.scenario}/${r.defectType}`).join(', ')}`);
  const uncovered = TABLE_A1_SCENARIOS.filter((s) => !rows.some((r) => r.scenario === s));
  if (uncovered.length > 0 && rows.length > 0) notes.push(`no compared run covers ${uncovered.join(', ')}: their defect types are left out`);

  const group = (by: 'scenario' | 'factor', key: string, members: typeof rows) => ({
    by,
    key,
    cells: perMetric((metric) => heads.map((_, h) => cell(mean(members.map((r) => r.cells[metric][h]!.value))))),
  });
  const groups: DefectTable['groups'] = [];
  for (const scenario of orderScenarios(rows.map((r) => r.scenario))) groups.push(group('scenario', scenario, rows.filter((r) => r.scenario === scenario)));
  for (const factor of FACTORS) {
    const members = rows.filter((r) => r.factors.includes(factor));
    if (members.length > 0) groups.push(group('factor', factor, members));
  }
  // Here the compared heads are the columns: the best is marked across them, per row and metric.
  for (const r of [...rows, ...groups]) for (const metric of PAPER_METRICS) markBest(r.cells[metric]);
  return { metrics: [...PAPER_METRICS], heads, rows, groups, notes };
}

/** Both tables of the given runs (already loaded), rows per run or per method. */
export function buildCompareTables(runs: readonly RunDetail[], rowsBy: 'run' | 'method', options: { poolSeeds?: boolean } = {}): CompareTables {
  const notes: string[] = [];
  // poolSeeds (rows by method): every run of a method on a scenario is a seed of it; cells are their mean ± std.
  const sources = rowSources(runs, rowsBy, notes, options.poolSeeds === true && rowsBy === 'method');
  if (sources.some((s) => s.head.unified)) notes.push('unified: one model trained on the training images of all its scenarios and evaluated on each (UniAD’s setting), not one model per scenario');
  if (sources.some((s) => s.head.randomInit)) notes.push('† random init: the backbone had random weights, so these numbers are not comparable with the paper');
  const defectNotes: string[] = [];
  const paper = paperTable(sources, notes);
  const defects = defectTable(sources, defectNotes);
  const infos: RunInfo[] = runs.map((r) => ({
    id: r.id,
    name: r.name,
    kind: r.kind,
    method: r.method,
    scenarios: r.scenarios,
    status: r.status,
    error: r.error,
    backend: r.backend,
    weights: r.weights,
    randomInit: r.randomInit,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
    tags: r.tags,
    notes: r.notes,
  }));
  return { runs: infos, paper, defects };
}

/** compare:tables for a workspace's store. */
export function compareTables(store: Store, runIds: readonly number[], rowsBy: 'run' | 'method'): CompareTables {
  return buildCompareTables(loadRuns(store, runIds), rowsBy);
}
