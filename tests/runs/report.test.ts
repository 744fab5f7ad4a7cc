/**
 * The run report on a real small PatchCore run (fast preset, random weights, made through the CLI
 * as a job): histograms, curves computed from maps.amap + masks and cached, gallery outcomes at the
 * F1 threshold, heatmap PNGs; and an external run read from its stored curves and predictions.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab, type Lab } from '../../src/main/core/lab';
import { buildRunReport, colormap, galleryItems, renderHeatmap, scoreHistogram, type ReportContext } from '../../src/main/core/runs/report';
import { methodPresets } from '../../src/main/core/methods/registry';
import { getCurves, getRun, insertRun, listRuns } from '../../src/main/core/store/runs-repo';
import { decodePng } from '../../src/main/core/image/png';
import { rocAuc } from '../../src/main/core/evaluation/index';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const quiet = { out: () => {}, err: () => {} };

let lab: Lab;
let ctx: ReportContext;
let runId: number;

beforeAll(async () => {
  const root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: ['nut_and_bolt'], train: 16, test: 16, size: 96, seed: 11 });
  const ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
  expect(await runCli(['train', '--workspace', ws, '--method', 'patchcore', '--scenario', 'nut_and_bolt', '--preset', 'fast', '--backend', 'wasm'], quiet)).toBe(0);
  lab = await createLab(ws);
  ctx = { store: lab.store, runDir: (id) => lab.jobs.runDir(id) };
  runId = listRuns(lab.store)[0]!.id;
}, 120_000);

afterAll(() => lab?.close());

describe('run report of a PatchCore job run', () => {
  it('bins every test image once, normal against each defect type', async () => {
    const report = await buildRunReport(ctx, runId);
    const scores = JSON.parse(await readFile(join(ctx.runDir(runId), 'scores.json'), 'utf8')) as Record<string, number>;
    const n = Object.keys(scores).length;
    expect(n).toBeGreaterThan(0);
    const h = report.histogram!;
    const total = h.normal.reduce((a, b) => a + b, 0) + h.defects.reduce((a, d) => a + d.counts.reduce((x, y) => x + y, 0), 0);
    expect(total).toBe(n);
    expect(h.defects.map((d) => d.defectType)).toEqual(['bolt_miss', 'looseness', 'nut_miss']);
    expect(h.edges[0]).toBe(Math.min(...Object.values(scores)));
    expect(h.edges.at(-1)).toBe(Math.max(...Object.values(scores)));
    expect(report.summary).toMatchObject({ preset: 'fast', weights: { source: 'random', randomInit: true } });
    expect(report.hasMaps).toBe(true);
  });

  it('computes curves whose area matches the stored metrics, and caches them in run_curves', async () => {
    const report = await buildRunReport(ctx, runId);
    const run = getRun(lab.store, runId);
    const metric = (defectType: string, name: string) => run.metrics.find((m) => m.defectType === defectType && m.metric === name)!.value!;
    const trapz = (x: number[], y: number[]) => x.slice(1).reduce((a, xi, i) => a + (xi - x[i]!) * (y[i + 1]! + y[i]!) / 2, 0);
    for (const scope of ['', 'looseness', 'bolt_miss', 'nut_miss']) {
      const roc = report.curves.find((c) => c.defectType === scope && c.curve === 'image_roc')!;
      expect(roc.x[0]).toBe(0);
      expect(roc.x.at(-1)).toBe(1);
      expect(trapz(roc.x, roc.y)).toBeCloseTo(metric(scope, 'image_auroc'), 6);
      const pix = report.curves.find((c) => c.defectType === scope && c.curve === 'pixel_roc')!;
      // Pixel curves are sampled (CURVE_SAMPLES): their area is close, not exact.
      expect(Math.abs(trapz(pix.x, pix.y) - metric(scope, 'pixel_auroc'))).toBeLessThan(0.01);
      expect(report.curves.some((c) => c.defectType === scope && c.curve === 'pro')).toBe(true);
    }
    expect(getCurves(lab.store, runId).length).toBe(report.curves.length);
    // Second call reads the cache: same curves.
    expect((await buildRunReport(ctx, runId)).curves).toEqual(report.curves);
  });

  it('sorts the gallery by score and splits it at the image F1-max threshold', async () => {
    const report = await buildRunReport(ctx, runId);
    const g = report.gallery;
    expect(report.threshold).not.toBeNull();
    for (let i = 1; i < g.length; i++) expect(g[i - 1]!.score).toBeGreaterThanOrEqual(g[i]!.score);
    for (const item of g) {
      expect(item.anomalous).toBe(item.label !== 'good');
      const called = item.score >= report.threshold!;
      expect(item.outcome).toBe(called ? (item.anomalous ? 'tp' : 'fp') : item.anomalous ? 'fn' : 'tn');
      expect(item.imagePath).toMatch(/nut_and_bolt[/\\]test[/\\]/);
    }
    const tp = g.filter((i) => i.outcome === 'tp').length;
    const fp = g.filter((i) => i.outcome === 'fp').length;
    const positives = g.filter((i) => i.anomalous).length;
    const f1 = getRun(lab.store, runId).metrics.find((m) => m.defectType === '' && m.metric === 'image_f1_max')!.value!;
    expect((2 * tp) / (tp + fp + positives)).toBeCloseTo(f1, 9);
  });

  it('renders a heatmap PNG of a map under the run folder, once', async () => {
    const report = await buildRunReport(ctx, runId);
    const top = report.gallery[0]!;
    const path = await renderHeatmap(ctx, runId, top.relPath);
    expect(path.startsWith(join(ctx.runDir(runId), 'heatmaps'))).toBe(true);
    const png = decodePng(await readFile(path));
    expect(png).toMatchObject({ width: 96, height: 96, channels: 3 });
    // Not a flat image: the map has hot and cold parts.
    expect(new Set(png.data).size).toBeGreaterThan(10);
    expect(await renderHeatmap(ctx, runId, top.relPath)).toBe(path);
    await expect(renderHeatmap(ctx, runId, 'test/good/nope.png')).rejects.toThrow(/no map for/);
  });
});

describe('report pieces', () => {
  it('lists every preset value with its source', () => {
    const presets = methodPresets('patchcore');
    expect(presets.map((p) => p.name)).toEqual(['full', 'paper', 'fast']);
    const fast = presets.find((p) => p.name === 'fast')!;
    expect(fast.values.find((v) => v.key === 'arch')).toEqual({ key: 'arch', value: 'resnet18', source: 'ours' });
    expect(presets[0]!.values.find((v) => v.key === 'inputSize')).toEqual({ key: 'inputSize', value: 224, source: 'paper A.2.2' });
    expect(presets[0]!.note).toMatch(/GPU backend/);
    expect(presets.find((p) => p.name === 'paper')!.note).toMatch(/2,000 training images/);
    expect(() => methodPresets('no_such_method')).toThrow(/no presets for method "no_such_method"; methods: patchcore, autoencoder, /);
  });

  it('puts a score at the top edge into the last bin and ties into one', () => {
    const h = scoreHistogram(
      [
        { relPath: 'test/good/a.png', label: 'good', score: 0 },
        { relPath: 'test/good/b.png', label: 'good', score: 0 },
        { relPath: 'test/crack/c.png', label: 'crack', score: 4 },
      ],
      4,
    )!;
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(h.normal).toEqual([2, 0, 0, 0]);
    expect(h.defects).toEqual([{ defectType: 'crack', counts: [0, 0, 0, 1] }]);
    expect(galleryItems([{ relPath: 'test/good/a.png', label: 'good', score: 1 }], null, null)[0]!.outcome).toBeNull();
  });

  it('maps 0 to the dark end and 1 to the bright end of the colormap', () => {
    const rgb = colormap([0, 1, -3, 7]);
    expect([...rgb.subarray(0, 3)]).toEqual([0, 0, 4]);
    expect([...rgb.subarray(3, 6)]).toEqual([252, 255, 164]);
    expect([...rgb.subarray(6, 9)]).toEqual([0, 0, 4]);
    expect([...rgb.subarray(9, 12)]).toEqual([252, 255, 164]);
  });

  it('reads an external run from its stored curves and predictions, without maps', async () => {
    const preds = [
      { scenario: 'nut_and_bolt', relPath: 'test/good/0.png', label: 'good', score: 0.1, mapPath: null },
      { scenario: 'nut_and_bolt', relPath: 'test/good/1.png', label: 'good', score: 0.6, mapPath: null },
      { scenario: 'nut_and_bolt', relPath: 'test/looseness/0.png', label: 'looseness', score: 0.5, mapPath: null },
      { scenario: 'nut_and_bolt', relPath: 'test/looseness/1.png', label: 'looseness', score: 0.9, mapPath: null },
    ];
    const id = insertRun(
      lab.store,
      { name: 'ext', kind: 'external', method: 'other', scenarios: ['nut_and_bolt'], datasetRoot: null, config: {}, status: 'done' },
      {
        metrics: [{ scenario: 'nut_and_bolt', defectType: '', metric: 'image_f1_max', value: 0.8, threshold: 0.5 }],
        curves: [{ scenario: 'nut_and_bolt', defectType: '', curve: 'image_roc', points: { x: [0, 0.5, 1], y: [0, 1, 1] } }],
        predictions: preds,
      },
    );
    const report = await buildRunReport(ctx, id);
    expect(report.hasMaps).toBe(false);
    expect(report.curves).toEqual([{ defectType: '', curve: 'image_roc', x: [0, 0.5, 1], y: [0, 1, 1] }]);
    expect(report.gallery.map((g) => [g.relPath, g.outcome])).toEqual([
      ['test/looseness/1.png', 'tp'],
      ['test/good/1.png', 'fp'],
      ['test/looseness/0.png', 'tp'],
      ['test/good/0.png', 'tn'],
    ]);
    expect(rocAuc(preds.map((p) => p.score), preds.map((p) => p.label !== 'good'))).toBe(0.75);
    await expect(renderHeatmap(ctx, id, 'test/good/0.png')).rejects.toThrow(/no anomaly maps/);
  });
});
