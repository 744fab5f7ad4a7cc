/**
 * The comparison tables from stored metrics (real SQLite through the lab host): rows per run and
 * per method (newest finished wins, said in notes), best per column with ties, means over the
 * scenarios a row has, the per-defect-type table in Table A.1 order with group means.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import { insertRun, type NewRun } from '../../src/main/core/store/runs-repo';
import { orderScenarios } from '../../src/main/core/compare/tables';
import type { CompareTables, ExportedText } from '../../src/shared/calls/compare';
import type { RunMetricInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let host: ReturnType<typeof createLabHost>;

/** Metric rows of one scenario: overall and per defect type, every paper metric the same value unless given. */
function metrics(scenario: string, overall: number, perDefect: Record<string, number> = {}, aupro?: number | null): RunMetricInfo[] {
  const rows: RunMetricInfo[] = [];
  for (const [defectType, v] of [['', overall] as const, ...Object.entries(perDefect)]) {
    rows.push({ scenario, defectType, metric: 'image_auroc', value: v, threshold: null });
    rows.push({ scenario, defectType, metric: 'pixel_auroc', value: v / 2 + 0.5, threshold: null });
    rows.push({ scenario, defectType, metric: 'aupro', value: defectType === '' && aupro !== undefined ? aupro : v / 2, threshold: null });
  }
  return rows;
}

function run(name: string, method: string, scenarios: string[], extra: Partial<NewRun> = {}): NewRun {
  return { name, kind: 'internal', method, scenarios, datasetRoot: null, config: {}, status: 'done', ...extra };
}

let ids: Record<string, number>;

beforeAll(async () => {
  const root = await tmp();
  host = createLabHost({ door: 'cli', configDir: join(root, 'cfg'), defaultWorkspacesDir: root });
  await host.openWorkspace(join(root, 'ws'), true);
  const store = host.currentLab()!.store;
  ids = {
    pcNut: insertRun(store, run('pc nut', 'patchcore', ['nut_and_bolt'], { finishedAt: '2026-01-01T00:00:00Z' }), { metrics: metrics('nut_and_bolt', 0.8, { looseness: 0.7, bolt_miss: 0.9, nut_miss: 0.8 }) }),
    pcNutNewer: insertRun(store, run('pc nut newer', 'patchcore', ['nut_and_bolt'], { finishedAt: '2026-02-01T00:00:00Z' }), { metrics: metrics('nut_and_bolt', 0.6, { looseness: 0.5, bolt_miss: 0.6, nut_miss: 0.7 }) }),
    pcWeld: insertRun(store, run('pc weld', 'patchcore', ['metal_welding'], { finishedAt: '2026-01-05T00:00:00Z' }), { metrics: metrics('metal_welding', 0.9, { weld_beading: 0.95, weld_pit: 0.85 }, null) }),
    ext: insertRun(store, run('tool_A & co', 'anomalib', ['nut_and_bolt', 'metal_welding'], { kind: 'external', finishedAt: '2026-01-03T00:00:00Z' }), {
      metrics: [...metrics('nut_and_bolt', 0.6, { looseness: 0.9, bolt_miss: 0.2, nut_miss: 0.3, odd_type: 0.5 }), ...metrics('metal_welding', 0.7, { weld_beading: 0.6, weld_pit: 0.8 })],
    }),
    rnd: insertRun(store, run('random', 'padim', ['witness_mark'], { randomInit: true, weights: 'random' }), { metrics: metrics('witness_mark', 0.55, { looseness: 0.55 }) }),
    failed: insertRun(store, run('broken', 'padim', ['witness_mark'], { status: 'failed', error: 'out of memory' })),
  };
});

afterAll(() => host?.close());

const tables = async (runIds: number[], rowsBy: 'run' | 'method') => (await host.invoke('compare:tables', { runIds, rowsBy })) as CompareTables;

describe('compare:tables, the paper table', () => {
  it('has one row per run, scenarios in Table A.1 order, the mean over the scenarios each row has, and the best of each column marked (ties all)', async () => {
    const t = await tables([ids.pcNut!, ids.pcNutNewer!, ids.ext!, ids.failed!], 'run');
    const p = t.paper;
    // Table A.1 lists metal welding before nut and bolt.
    expect(p.scenarios).toEqual(['metal_welding', 'nut_and_bolt']);
    expect(p.metrics).toEqual(['image_auroc', 'pixel_auroc', 'aupro']);
    expect(p.rows.map((r) => r.key)).toEqual([`run:${ids.pcNut}`, `run:${ids.pcNutNewer}`, `run:${ids.ext}`]);
    const [a, b, e] = p.rows;
    expect(a!.cells.image_auroc.map((c) => c.value)).toEqual([null, 0.8]);
    expect(a!.mean.image_auroc.value).toBeCloseTo(0.8, 12);
    expect(e!.mean.image_auroc.value).toBeCloseTo(0.65, 12);
    expect(e).toMatchObject({ label: 'tool_A & co', method: 'anomalib', external: true, randomInit: false, runIds: [ids.ext] });
    // Nut and bolt image AUROC: 0.8, 0.6, 0.6 → only the first is best; metal welding: only the external run has it, so no win is claimed.
    expect(p.rows.map((r) => r.cells.image_auroc[1]!.best)).toEqual([true, false, false]);
    expect(p.rows.map((r) => r.cells.image_auroc[0]!.best)).toEqual([false, false, false]);
    expect(p.rows.map((r) => r.cells.pixel_auroc[1]!.best)).toEqual([true, false, false]);
    expect(b!.cells.pixel_auroc[1]!.value).toBe(e!.cells.pixel_auroc[1]!.value);
    expect(p.rows.map((r) => r.mean.image_auroc.best)).toEqual([true, false, false]);
    expect(p.notes.join('\n')).toMatch(/run #\d+ "broken" is failed and has no metrics: left out/);
    expect(p.notes.join('\n')).toMatch(/rows without every scenario \(pc nut, pc nut newer\)/);
    expect(t.runs.map((r) => r.id)).toEqual([ids.pcNut, ids.pcNutNewer, ids.ext, ids.failed]);
  });

  it('tells apart runs that share a name by their id', async () => {
    const store = host.currentLab()!.store;
    const x = insertRun(store, run('same', 'patchcore', ['wind_turbine']), { metrics: metrics('wind_turbine', 0.5) });
    const y = insertRun(store, run('same', 'patchcore', ['wind_turbine']), { metrics: metrics('wind_turbine', 0.6) });
    const t = await tables([x, y, ids.pcNut!], 'run');
    expect(t.paper.rows.map((r) => r.label)).toEqual([`same (#${x})`, `same (#${y})`, 'pc nut']);
  });

  it('marks every tied best', async () => {
    const t = await tables([ids.pcNutNewer!, ids.ext!], 'run');
    // Both have 0.6 image AUROC on nut_and_bolt.
    expect(t.paper.rows.map((r) => r.cells.image_auroc[1]!.best)).toEqual([true, true]);
  });

  it("merges a method's runs per scenario, the newest finished run winning, and says so", async () => {
    const t = await tables([ids.pcNut!, ids.pcWeld!, ids.pcNutNewer!, ids.ext!, ids.rnd!], 'method');
    const p = t.paper;
    expect(p.scenarios).toEqual(['metal_welding', 'nut_and_bolt', 'witness_mark']);
    expect(p.rows.map((r) => r.key)).toEqual(['patchcore', 'anomalib', 'padim']);
    const pc = p.rows[0]!;
    expect(pc.runIds).toEqual([ids.pcNutNewer, ids.pcWeld].sort((a, b) => a! - b!));
    expect(pc.cells.image_auroc.map((c) => c.value)).toEqual([0.9, 0.6, null]);
    // AUPRO undefined for metal welding in pcWeld: the mean uses what there is.
    expect(pc.cells.aupro[0]!.value).toBeNull();
    expect(pc.mean.aupro.value).toBeCloseTo(0.3, 12);
    expect(p.notes.join('\n')).toContain(`patchcore, nut_and_bolt: run #${ids.pcNutNewer} (the newest finished) is shown; #${ids.pcNut} left out`);
    expect(p.rows[2]).toMatchObject({ key: 'padim', randomInit: true, runIds: [ids.rnd] });
    expect(p.notes.join('\n')).toMatch(/random init/);
  });

  it('names every unknown run id', async () => {
    await expect(tables([ids.pcNut!, 9001, 9002], 'run')).rejects.toMatchObject({ name: 'NotFoundError', message: 'no runs with id 9001, 9002 in this workspace' });
    await expect(host.invoke('compare:tables', { runIds: [], rowsBy: 'run' })).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('compare:tables, the per-defect-type table', () => {
  it('lists the covered scenarios\' defect types in Table A.1 order, each from its scenario\'s rows, with group means by scenario and factor', async () => {
    const t = await tables([ids.pcWeld!, ids.pcNut!, ids.ext!], 'run');
    const d = t.defects;
    expect(d.heads.map((h) => h.key)).toEqual([`run:${ids.pcWeld}`, `run:${ids.pcNut}`, `run:${ids.ext}`]);
    expect(d.rows.map((r) => `${r.scenario}/${r.defectType}`)).toEqual([
      'metal_welding/weld_beading',
      'metal_welding/weld_pit',
      'nut_and_bolt/looseness',
      'nut_and_bolt/bolt_miss',
      'nut_and_bolt/nut_miss',
      'nut_and_bolt/odd_type',
    ]);
    const loose = d.rows[2]!;
    expect(loose.factors).toEqual(['viewpoint']);
    expect(loose.cells.image_auroc.map((c) => c.value)).toEqual([null, 0.7, 0.9]);
    // Best across heads, per row.
    expect(loose.cells.image_auroc.map((c) => c.best)).toEqual([false, false, true]);
    expect(d.rows[0]!.cells.image_auroc.map((c) => c.best)).toEqual([true, false, false]);
    expect(d.rows[0]!.factors).toEqual(['surface']);
    const g = (by: string, key: string) => d.groups.find((x) => x.by === by && x.key === key)!;
    expect(d.groups.map((x) => `${x.by}:${x.key}`)).toEqual(['scenario:metal_welding', 'scenario:nut_and_bolt', 'factor:viewpoint', 'factor:surface']);
    expect(g('scenario', 'metal_welding').cells.image_auroc[0]!.value).toBeCloseTo(0.9, 12);
    expect(g('scenario', 'nut_and_bolt').cells.image_auroc[1]!.value).toBeCloseTo(0.8, 12);
    // External run on nut_and_bolt: looseness .9, bolt_miss .2, nut_miss .3, odd_type .5 → mean .475.
    expect(g('scenario', 'nut_and_bolt').cells.image_auroc[2]!.value).toBeCloseTo(0.475, 12);
    expect(g('factor', 'surface').cells.image_auroc[2]!.value).toBeCloseTo(0.7, 12);
    expect(d.notes.join('\n')).toMatch(/outside Table A\.1.*nut_and_bolt\/odd_type/);
    expect(d.notes.join('\n')).toMatch(/no compared run covers electrical_insulator, photovoltaic_module, wind_turbine, catenary_dropper, witness_mark/);
  });

  it('orders scenarios as Table A.1, other names after', () => {
    expect(orderScenarios(['zeta', 'witness_mark', 'electrical_insulator', 'alpha', 'catenary_dropper'])).toEqual(['electrical_insulator', 'catenary_dropper', 'witness_mark', 'alpha', 'zeta']);
  });
});

describe('compare:export', () => {
  it('writes the same tables as CSV, JSON and LaTeX', async () => {
    const runIds = [ids.pcNut!, ids.ext!, ids.rnd!];
    const csv = (await host.invoke('compare:export', { runIds, rowsBy: 'run', table: 'paper', format: 'csv' })) as ExportedText;
    expect(csv.filename).toBe('miad-compare-paper.csv');
    expect(csv.text.split('\r\n')[0]).toBe(
      'row,method,run_ids,random_init,external,image_auroc:metal_welding,image_auroc:nut_and_bolt,image_auroc:witness_mark,image_auroc:mean,pixel_auroc:metal_welding,pixel_auroc:nut_and_bolt,pixel_auroc:witness_mark,pixel_auroc:mean,aupro:metal_welding,aupro:nut_and_bolt,aupro:witness_mark,aupro:mean',
    );
    expect(csv.text.split('\r\n')[2]).toMatch(/^tool_A & co,anomalib,\d+,false,true,0\.7,0\.6,,0\.65,/);
    const json = (await host.invoke('compare:export', { runIds, rowsBy: 'method', table: 'defects', format: 'json' })) as ExportedText;
    const parsed = JSON.parse(json.text) as { table: string; defects: { heads: { key: string }[] } };
    expect(parsed.table).toBe('defects');
    expect(parsed.defects.heads.map((h) => h.key)).toEqual(['patchcore', 'anomalib', 'padim']);
    const tex = (await host.invoke('compare:export', { runIds, rowsBy: 'run', table: 'paper', format: 'latex' })) as ExportedText;
    expect(tex.filename).toBe('miad-compare-paper.tex');
    expect(tex.text).toContain('tool\\_A \\& co & 70.0 & 60.0 & -- & 65.0 \\\\');
    expect(tex.text).toContain('random$^\\dagger$ & -- & -- & 55.0 & 55.0 \\\\ % random init');
    expect(tex.text).toContain('pc nut & -- & \\textbf{80.0} & -- & \\textbf{80.0} \\\\');
    for (const rule of ['\\toprule', '\\midrule', '\\bottomrule']) expect(tex.text).toContain(rule);
    expect(tex.text).toMatch(/\$\^\\dagger\$ random init: the backbone had random weights/);
    await expect(host.invoke('compare:export', { runIds, table: 'paper', format: 'xlsx' })).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
