/**
 * compare:curves, compare:grid and `miad-lab compare` on real runs (two PatchCore job runs with
 * maps, one external run without), sharing one workspace because making runs is the slow part:
 * curves computed through the report and cached, raw score lists, automatic and hand picks,
 * edited masks first, map cells at the image's aspect with their 8-bit codes, scales; the verb's
 * files (CSV, JSON, LaTeX, SVG, PNG) and its refusals of bad arguments.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLabHost } from '../../src/main/core/lab-host';
import { getCurves, getRun } from '../../src/main/core/store/runs-repo';
import { MapPackReader, resizeBilinear } from '../../src/main/core/evaluation/index';
import { autoPicks, cellDims, quantiseCell } from '../../src/main/core/compare/grid';
import { decodePng, encodePng } from '../../src/main/core/image/png';
import { runCli } from '../../src/main/cli/main';
import sharp from 'sharp';
import { heatColor } from '../../src/shared/compare/heat';
import type { CompareCurves, GridData } from '../../src/shared/calls/compare';
import type { Annotation } from '../../src/shared/calls/annotate';
import type { SampleInfo } from '../../src/shared/types';
import { makeCompareFixture, SCENARIO, type CompareFixture } from './fixture';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';

const tmp = useTmpDirs();
let fx: CompareFixture;
let host: ReturnType<typeof createLabHost>;

beforeAll(async () => {
  fx = await makeCompareFixture(await tmp());
  host = createLabHost({ door: 'cli', configDir: join(fx.root, 'cfg'), defaultWorkspacesDir: fx.root });
  await host.openWorkspace(fx.ws);
}, 240_000);

afterAll(() => host?.close());

describe('compare:curves', () => {
  it('returns every run\'s ROC and PRO curves (computing a job run\'s once) and its raw scores by class', async () => {
    const [a, b] = fx.jobRuns as [number, number];
    const store = host.currentLab()!.store;
    // Runs made before jobs stored their curves have none: the call computes them through the report.
    store.connection.prepare('DELETE FROM run_curves WHERE run_id = ?').run(a);
    expect(getCurves(store, a)).toEqual([]);
    const res = (await host.invoke('compare:curves', { runIds: [a, b, fx.externalRun] })) as CompareCurves;
    for (const id of [a, b, fx.externalRun]) {
      for (const scope of ['', 'looseness', 'bolt_miss', 'nut_miss']) {
        for (const curve of ['image_roc', 'pixel_roc', 'pro']) {
          expect(res.curves.filter((c) => c.runId === id && c.scenario === SCENARIO && c.defectType === scope && c.curve === curve)).toHaveLength(1);
        }
      }
    }
    // Precision-recall curves are stored for external runs but are not part of the overlays.
    expect(res.curves.some((c) => (c.curve as string) === 'image_pr')).toBe(false);
    // Cached for the next call.
    expect(getCurves(store, a).length).toBeGreaterThan(0);
    const scores = JSON.parse(await readFile(join(host.currentLab()!.jobs.runDir(a), 'scores.json'), 'utf8')) as Record<string, number>;
    const sa = res.scores.find((s) => s.runId === a)!;
    expect(sa.scenario).toBe(SCENARIO);
    expect(sa.normal.length + sa.defects.reduce((n, d) => n + d.scores.length, 0)).toBe(Object.keys(scores).length);
    expect(sa.defects.map((d) => d.defectType)).toEqual(['bolt_miss', 'looseness', 'nut_miss']);
    expect([...sa.normal].sort()).toEqual(Object.entries(scores).filter(([k]) => k.startsWith('test/good/')).map(([, v]) => v).sort());
    const se = res.scores.find((s) => s.runId === fx.externalRun)!;
    expect(se.normal.length).toBeGreaterThan(0);
    // The image ROC's area is the stored image AUROC: the curves are the run's own.
    const roc = res.curves.find((c) => c.runId === b && c.defectType === '' && c.curve === 'image_roc')!;
    const area = roc.x.slice(1).reduce((s, x, i) => s + ((x - roc.x[i]!) * (roc.y[i + 1]! + roc.y[i]!)) / 2, 0);
    expect(area).toBeCloseTo(getRun(store, b).metrics.find((m) => m.defectType === '' && m.metric === 'image_auroc')!.value!, 6);
  });
});

describe('compare:grid', () => {
  it('picks the top images of each defect type by the first run plus a typical normal one, and reads each run\'s maps', async () => {
    const [a, b] = fx.jobRuns as [number, number];
    const grid = (await host.invoke('compare:grid', { runIds: [a, b, fx.externalRun], scenario: SCENARIO, perDefect: 1, cellSize: 48 })) as GridData;
    const scores = JSON.parse(await readFile(join(host.currentLab()!.jobs.runDir(a), 'scores.json'), 'utf8')) as Record<string, number>;
    const top = (label: string) => Object.entries(scores).filter(([k]) => k.split('/')[1] === label).sort((x, y) => y[1] - x[1])[0]![0];
    // Table A.1 order for nut_and_bolt: looseness, bolt_miss, nut_miss; then the normal image.
    expect(grid.rows.map((r) => r.relPath)).toEqual([top('looseness'), top('bolt_miss'), top('nut_miss'), expect.stringMatching(/^test\/good\//)]);
    expect(grid.rows.map((r) => r.defectType)).toEqual(['looseness', 'bolt_miss', 'nut_miss', 'good']);
    for (const row of grid.rows) {
      expect(row.imagePath && existsSync(row.imagePath)).toBeTruthy();
      if (row.defectType === 'good') expect(row.maskPath).toBeNull();
      else expect(row.maskPath && existsSync(row.maskPath)).toBeTruthy();
      expect(row.cells).toHaveLength(3);
      expect(row.cells[2]).toBeNull();
      for (const cell of row.cells.slice(0, 2)) {
        // The images are square: 48 × 48.
        expect(cell).toMatchObject({ width: 48, height: 48 });
        expect(Buffer.from(cell!.data, 'base64')).toHaveLength(48 * 48);
        expect(cell!.hi).toBeGreaterThanOrEqual(cell!.lo);
      }
    }
    expect(grid.runs.map((r) => [r.runId, r.hasMaps])).toEqual([[a, true], [b, true], [fx.externalRun, false]]);
    expect(grid.runs[2]!.label).toBe('tool_X & co');
    for (const head of grid.runs.slice(0, 2)) {
      expect(head.randomInit).toBe(true);
      expect(head.scale.hi).toBeGreaterThan(head.scale.lo);
      expect(head.pixelThreshold).toBe(getRun(host.currentLab()!.store, head.runId).metrics.find((m) => m.defectType === '' && m.metric === 'pixel_f1_max')!.threshold);
      expect(grid.shared.lo).toBeLessThanOrEqual(head.scale.lo);
      expect(grid.shared.hi).toBeGreaterThanOrEqual(head.scale.hi);
    }
    expect(Math.min(grid.runs[0]!.scale.lo, grid.runs[1]!.scale.lo)).toBe(grid.shared.lo);
    // The cell's codes decode to the run's map resized to the cell.
    const reader = await MapPackReader.open(join(host.currentLab()!.jobs.runDir(a), 'maps.amap'));
    try {
      const map = (await reader.readKey(grid.rows[0]!.relPath))!;
      const expected = resizeBilinear(map, reader.width, reader.height, 48, 48);
      const cell = grid.rows[0]!.cells[0]!;
      const codes = Buffer.from(cell.data, 'base64');
      const step = (cell.hi - cell.lo) / 255;
      for (let i = 0; i < expected.length; i += 97) expect(Math.abs(cell.lo + codes[i]! * step - expected[i]!)).toBeLessThanOrEqual(step / 2 + 1e-6);
    } finally {
      await reader.close();
    }
  });

  it('takes hand picks in order, shows an edited mask first, and refuses paths outside the test split', async () => {
    const [a] = fx.jobRuns as [number];
    const auto = (await host.invoke('compare:grid', { runIds: [a], scenario: SCENARIO })) as GridData;
    // Default: two per defect type and one normal image.
    expect(auto.rows).toHaveLength(7);
    expect(auto.rows[0]!.cells[0]).toMatchObject({ width: 128, height: 128 });
    const defect = auto.rows[0]!;
    const good = auto.rows[6]!;
    // Edit the mask of the defect image through the annotation calls.
    const { samples } = (await host.invoke('samples:list', { datasetId: 1, scenario: SCENARIO, split: 'test', limit: 1000 })) as { samples: SampleInfo[] };
    const sample = samples.find((s) => s.path === defect.imagePath)!;
    const ann = (await host.invoke('annotate:get', { sampleId: sample.id })) as Annotation;
    const gray = new Uint8Array(ann.width * ann.height).fill(255);
    await host.invoke('annotate:saveMask', { sampleId: sample.id, png: Buffer.from(encodePng(gray, ann.width, ann.height, 1)).toString('base64'), expectedVersion: ann.version });
    const picked = (await host.invoke('compare:grid', { runIds: [a], scenario: SCENARIO, picks: [good.relPath, defect.relPath] })) as GridData;
    expect(picked.rows.map((r) => r.relPath)).toEqual([good.relPath, defect.relPath]);
    expect(picked.rows[1]!.maskPath).not.toBe(defect.maskPath);
    expect(picked.rows[1]!.maskPath!.startsWith(join(fx.ws, 'masks'))).toBe(true);
    expect(decodePng(await readFile(picked.rows[1]!.maskPath!)).data.every((v) => v === 255)).toBe(true);
    for (const bad of ['../secret.png', 'train/good/000.png', 'test/../../x.png', 'test/good']) {
      await expect(host.invoke('compare:grid', { runIds: [a], scenario: SCENARIO, picks: [bad] })).rejects.toMatchObject({ name: 'ValidationError' });
    }
    await expect(host.invoke('compare:grid', { runIds: [a], scenario: 'wind_turbine' })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/covers scenario wind_turbine/) });
  });
});

describe('grid helpers', () => {
  it('keeps the aspect with the longest side at the cell size', () => {
    expect(cellDims(200, 100, 64)).toEqual({ width: 64, height: 32 });
    expect(cellDims(100, 300, 90)).toEqual({ width: 30, height: 90 });
    expect(cellDims(1000, 1, 16)).toEqual({ width: 16, height: 1 });
  });

  it('quantises over the cell\'s own range, a flat map to zeros', () => {
    const q = quantiseCell(new Float32Array([0, 1, 2, 3]), 2, 2, 2, 2);
    expect(q).toMatchObject({ lo: 0, hi: 3, width: 2, height: 2 });
    expect([...Buffer.from(q.data, 'base64')]).toEqual([0, 85, 170, 255]);
    const flat = quantiseCell(new Float32Array(4).fill(2), 2, 2, 1, 1);
    expect(flat).toMatchObject({ lo: 2, hi: 2 });
    expect([...Buffer.from(flat.data, 'base64')]).toEqual([0]);
  });

  it('picks per defect type in Table A.1 order and the median normal image', () => {
    const img = (relPath: string, score: number) => ({ scenario: 'metal_welding', relPath, label: relPath.split('/')[1]!, score });
    const images = [img('test/weld_pit/a', 0.9), img('test/weld_pit/b', 0.95), img('test/weld_beading/c', 0.1), img('test/good/d', 0.1), img('test/good/e', 0.5), img('test/good/f', 0.3), img('test/zzz/g', 1)];
    expect(autoPicks(images, 'metal_welding', 1)).toEqual(['test/weld_beading/c', 'test/weld_pit/b', 'test/zzz/g', 'test/good/f']);
    expect(autoPicks(images, 'wind_turbine', 2)).toEqual([]);
  });
});

describe('miad-lab compare', () => {
  const cli = async (args: string[]) => {
    const c = capture();
    const code = await runCli(['compare', '--workspace', fx.ws, ...args], c.io);
    return { code, out: c.out.join('\n'), err: c.err.join('\n') };
  };

  it('writes the tables as CSV, JSON and LaTeX, the same text as compare:export', async () => {
    const runs = [...fx.jobRuns, fx.externalRun].join(',');
    const tex = join(fx.root, 'paper.tex');
    const r = await cli(['--runs', runs, '--format', 'latex', '--out', tex]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Wrote the paper table \(3 rows, 3 runs\) as latex/);
    const exported = (await host.invoke('compare:export', { runIds: [...fx.jobRuns, fx.externalRun], rowsBy: 'run', table: 'paper', format: 'latex' })) as { text: string };
    const text = await readFile(tex, 'utf8');
    expect(text).toBe(exported.text);
    expect(text).toContain('tool\\_X \\& co & ');
    expect(text).toContain('pc-a$^\\dagger$ & ');
    expect(text).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);

    const csv = join(fx.root, 'defects.csv');
    expect((await cli(['--runs', runs, '--by', 'method', '--table', 'defects', '--format', 'csv', '--out', csv])).code).toBe(0);
    const lines = (await readFile(csv, 'utf8')).trimEnd().split('\r\n');
    expect(lines[0]).toBe('kind,scenario,defect_type,factors,image_auroc:patchcore (random init),image_auroc:other-tool,pixel_auroc:patchcore (random init),pixel_auroc:other-tool,aupro:patchcore (random init),aupro:other-tool');
    expect(lines.slice(1, 4).map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['defect,nut_and_bolt,looseness', 'defect,nut_and_bolt,bolt_miss', 'defect,nut_and_bolt,nut_miss']);

    const json = join(fx.root, 'paper.json');
    const c = capture();
    expect(await runCli(['compare', '--workspace', fx.ws, '--runs', runs, '--format', 'json', '--out', json, '--json'], c.io)).toBe(0);
    expect(JSON.parse(c.out.join(''))).toMatchObject({ ok: true, result: { out: json, format: 'json', table: 'paper' } });
    const parsed = JSON.parse(await readFile(json, 'utf8')) as { paper: { rows: { label: string }[] } };
    expect(parsed.paper.rows.map((row) => row.label)).toEqual(['pc-a', 'pc-b', 'tool_X & co']);
  });

  it('writes the qualitative grid as SVG and PNG', async () => {
    const runs = [...fx.jobRuns, fx.externalRun].join(',');
    const svgPath = join(fx.root, 'grid.svg');
    const r = await cli(['--runs', runs, '--format', 'svg', '--out', svgPath, '--per-defect', '1', '--cell', '40', '--outline']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Wrote the qualitative grid of nut_and_bolt \(4 images × 3 runs\) as svg/);
    expect(r.err).toMatch(/"tool_X & co" is an external run/);
    const svg = await readFile(svgPath, 'utf8');
    // 4 rows × (image, mask, 2 maps) embedded; the external run's cells are marked empty.
    expect(svg.match(/<image /g)).toHaveLength(16);
    expect(svg.match(/>no map</g)).toHaveLength(4);
    expect(svg).toContain('tool_X &amp; co');
    expect(svg).toContain("fill='url(#heat)'");

    const pngPath = join(fx.root, 'grid.png');
    expect((await cli(['--runs', runs, '--format', 'png', '--out', pngPath, '--per-defect', '1', '--cell', '40', '--scale', 'run'])).code).toBe(0);
    const meta = await sharp(pngPath).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(300);
    // The map cells hold heat-ramp colours and the external run's cells the empty-cell grey: the
    // PNG really carries the maps, where the layout puts them (label column 96, gaps 4, header 58).
    const { data, info } = await sharp(pngPath).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    const centre = (col: number, row: number) => pixel(96 + 4 + col * 44 + 20, 58 + row * 44 + 20);
    const rampDistance = (rgb: number[]) => {
      let best = Infinity;
      for (let t = 0; t <= 1; t += 0.002) best = Math.min(best, Math.hypot(...heatColor(t).map((v, i) => v - rgb[i]!)));
      return best;
    };
    for (let row = 0; row < 4; row++) {
      for (const col of [2, 3]) expect(rampDistance(centre(col, row))).toBeLessThan(4);
      // Off the "no map" text: the cell's fill.
      expect(pixel(96 + 4 + 4 * 44 + 4, 58 + row * 44 + 4)).toEqual([0xf2, 0xf2, 0xf2]);
    }
    // The normal image's ground truth is black: nothing in it is defective.
    expect(centre(1, 3)).toEqual([0, 0, 0]);
  });

  it('refuses bad arguments with exit 2 and a message naming the flag', async () => {
    const out = join(fx.root, 'x.csv');
    const cases: [string[], RegExp][] = [
      [['--runs', '1,zz', '--format', 'csv', '--out', out], /--runs expects run ids separated by commas.*"zz"/],
      [['--runs', '1,900,901', '--format', 'csv', '--out', out], /--runs: no runs with id 900, 901 in this workspace \(its runs: 1, 2, 3\)/],
      [['--runs', '1', '--format', 'xlsx', '--out', out], /--format is one of csv, json, latex, png, svg, got "xlsx"/],
      [['--runs', '1', '--format', 'csv', '--out', join(fx.root, 'nope', 'x.csv')], /--out: the folder .*nope does not exist/],
      [['--runs', '1', '--format', 'csv', '--out', fx.root], /--out .* is a folder/],
      [['--runs', '1', '--format', 'png', '--out', out, '--table', 'defects'], /--table does not apply to --format png/],
      [['--runs', '1', '--format', 'csv', '--out', out, '--scenario', 'nut_and_bolt'], /--scenario does not apply to --format csv/],
      [['--runs', '1', '--format', 'csv', '--out', out, '--by', 'team'], /--by is one of run, method, got "team"/],
      [['--runs', '1', '--format', 'png', '--out', out, '--scenario', 'wind_turbine'], /--scenario wind_turbine is not covered by these runs; they cover nut_and_bolt/],
      [['--runs', '1', '--format', 'png', '--out', out, '--per-defect', '9'], /--per-defect must be between 1 and 4/],
      [['--runs', '1', '--format', 'csv'], /--out is required/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.err).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
    const c = capture();
    expect(await runCli(['compare', '--workspace', join(fx.root, 'no-ws'), '--runs', '1', '--format', 'csv', '--out', out], c.io)).toBe(1);
    expect(c.err.join('')).toMatch(/no MIAD Lab workspace/);
  });
});
