/**
 * A benchmark's matrix from what the user asked for: every method, scenario, preset and override
 * checked (the method's own schema judges its overrides) before anything is stored, and expanded
 * into cells: method × scenario × seed × preset, except that a unified method (UniAD) gets ONE cell
 * per seed and preset spanning every scenario. Also what a cell's run is started with, and why a
 * cell cannot run here (a method this build cannot run, pretrained weights the workspace lacks).
 */
import type { z } from 'zod';
import type { benchCreateInput, BenchCell } from '../../../shared/calls/bench';
import { LabError } from '../../../shared/errors';
import type { DatasetInfo } from '../../../shared/types';
import { WEIGHTS_CATALOG, WeightsManager } from '../engine/weights';
import { getMethod, methodNames } from '../methods/registry';
import type { BenchSpec, NewCell } from '../store/bench-repo';

export type BenchCreate = z.output<typeof benchCreateInput>;

function invalid(message: string): LabError {
  return new LabError(message, 'ValidationError');
}

function chooseDataset(datasets: readonly DatasetInfo[], scenarios: readonly string[], datasetId: number | undefined): DatasetInfo {
  if (datasetId !== undefined) {
    const d = datasets.find((x) => x.id === datasetId);
    if (!d) throw new LabError(`no dataset with id ${datasetId} in this workspace`, 'NotFoundError');
    const missing = scenarios.filter((s) => !d.scenarios.includes(s));
    if (missing.length) throw invalid(`dataset #${d.id} ${d.name} has no scenario ${missing.map((s) => JSON.stringify(s)).join(', ')}; its scenarios: ${d.scenarios.join(', ')}`);
    return d;
  }
  const holding = datasets.filter((d) => scenarios.every((s) => d.scenarios.includes(s)));
  if (holding.length === 1) return holding[0]!;
  if (holding.length > 1) throw invalid(`several datasets hold ${scenarios.join(', ')} (${holding.map((d) => `#${d.id} ${d.name}`).join(', ')}): choose one with datasetId`);
  const unknown = scenarios.filter((s) => !datasets.some((d) => d.scenarios.includes(s)));
  if (unknown.length) throw invalid(`unknown scenario ${unknown.map((s) => JSON.stringify(s)).join(', ')}: no dataset of this workspace holds it (scenarios here: ${[...new Set(datasets.flatMap((d) => d.scenarios))].join(', ') || 'none'})`);
  throw invalid(`no one dataset holds all of ${scenarios.join(', ')}: a benchmark reads one dataset`);
}

/** Checks the request and expands it into cells; throws a ValidationError naming what is wrong. */
export function planBenchmark(input: BenchCreate, datasets: readonly DatasetInfo[]): { datasetId: number; spec: BenchSpec; cells: NewCell[] } {
  const twice = (list: readonly (string | number)[], what: string) => {
    const dup = list.find((x, i) => list.indexOf(x) !== i);
    if (dup !== undefined) throw invalid(`${what} ${JSON.stringify(dup)} is listed twice`);
  };
  twice(input.methods, 'method');
  twice(input.scenarios, 'scenario');
  twice(input.presets, 'preset');
  twice(input.seeds ?? [], 'seed');
  const unknownMethods = input.methods.filter((m) => !methodNames().includes(m));
  if (unknownMethods.length) throw invalid(`unknown method ${unknownMethods.map((m) => JSON.stringify(m)).join(', ')}; methods: ${methodNames().join(', ')}`);
  const stray = Object.keys(input.overrides ?? {}).filter((m) => !input.methods.includes(m));
  if (stray.length) throw invalid(`overrides for ${stray.join(', ')}, which the matrix does not run`);
  const dataset = chooseDataset(datasets, input.scenarios, input.datasetId);

  const cells: NewCell[] = [];
  for (const preset of input.presets) {
    for (const method of input.methods) {
      const definition = getMethod(method);
      if (!definition.presets.includes(preset)) throw invalid(`${definition.title} has no preset ${JSON.stringify(preset)}; its presets: ${definition.presets.join(', ')}`);
      const overrides = input.overrides?.[method] ?? {};
      // The method's schema judges the overrides (with each seed, which is one of its settings).
      const base = definition.resolveConfig(preset, overrides).config;
      const seeds = input.seeds ?? [base.seed];
      for (const seed of seeds) definition.resolveConfig(preset, { ...overrides, seed });
      const groups = definition.unified ? [input.scenarios] : input.scenarios.map((s) => [s]);
      for (const seed of seeds) for (const scenarios of groups) cells.push({ method, scenarios: [...scenarios], seed, preset });
    }
  }
  return {
    datasetId: dataset.id,
    spec: {
      methods: [...input.methods],
      scenarios: [...input.scenarios],
      presets: [...input.presets],
      seeds: input.seeds ? [...input.seeds] : null,
      overrides: input.overrides ?? {},
      weights: input.weights,
      backend: input.backend ?? null,
    },
    cells,
  };
}

/** The overrides a cell's run gets: the matrix's for its method, and its seed where it is not the preset's own. */
export function cellOverrides(spec: BenchSpec, cell: Pick<BenchCell, 'method' | 'preset' | 'seed'>): Record<string, unknown> {
  const overrides = { ...(spec.overrides[cell.method] ?? {}) };
  const definition = getMethod(cell.method);
  if (definition.resolveConfig(cell.preset, overrides).config.seed !== cell.seed) overrides['seed'] = cell.seed;
  return overrides;
}

/** The backbone a cell reads and, for a pretrained matrix, the cached file of it (null when none is here). */
export async function cellWeights(workspaceDir: string, spec: BenchSpec, cell: Pick<BenchCell, 'method' | 'preset' | 'seed'>): Promise<{ arch: string | null; file: string | null; blocked: string | null }> {
  const definition = getMethod(cell.method);
  const arch = definition.backboneArch(definition.resolveConfig(cell.preset, cellOverrides(spec, cell)).config);
  if (arch === null || spec.weights === 'random') return { arch, file: null, blocked: null };
  const manager = new WeightsManager({ workspaceDir });
  const entries = WEIGHTS_CATALOG.filter((e) => e.arch === arch);
  for (const e of entries) {
    const status = await manager.status(e.id);
    // A random file made for tests sits in the cache too; it is not pretrained.
    if (status.present && status.local?.source !== 'random') return { arch, file: status.path, blocked: null };
  }
  const how = entries.length ? `miad-lab weights fetch ${entries[0]!.id} (or import the file)` : `no catalogued weights exist for ${arch}`;
  return { arch, file: null, blocked: `no pretrained ${arch} weights in this workspace: ${how}` };
}

/** Why a cell cannot run in this process (its method is not among the runner's kinds), or null. */
export function kindBlocked(method: string, kinds: readonly string[]): string | null {
  return kinds.includes(method) ? null : `${method} is not available in this build of the lab`;
}

/** The run name of a cell: readable in the runs table beside the app's own runs. */
export function cellRunName(benchmarkId: number, cell: Pick<BenchCell, 'method' | 'preset' | 'seed' | 'scenarios'>): string {
  return `${cell.method} ${cell.preset} · ${cell.scenarios.join(', ')} · seed ${cell.seed} (benchmark #${benchmarkId})`;
}
