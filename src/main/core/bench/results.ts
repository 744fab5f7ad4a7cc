/**
 * A benchmark's results as the paper's table (compare/tables.ts, rows by method), one per preset,
 * filled by its finished cells: with several seeds each value is their mean ± std.
 */
import type { BenchTable } from '../../../shared/calls/bench';
import { buildCompareTables, loadRuns } from '../compare/tables';
import { benchSpec, listCells } from '../store/bench-repo';
import type { Store } from '../store/store';

export function benchTable(store: Store, benchmarkId: number): BenchTable {
  const { spec } = benchSpec(store, benchmarkId);
  const done = listCells(store, benchmarkId).filter((c) => c.state === 'done' && c.runId !== null);
  const presets = spec.presets.map((preset) => {
    const runs = loadRuns(store, done.filter((c) => c.preset === preset).map((c) => c.runId!));
    return { preset, paper: buildCompareTables(runs, 'method', { poolSeeds: true }).paper };
  });
  return { benchmarkId, presets, runIds: done.map((c) => c.runId!) };
}
