/**
 * A PatchCore job run on the dataset as the workspace curates it (issue 4) and with its curves
 * stored at the end (issue 7): a real MIAD-mini scenario imported into a real workspace, a training
 * image flagged out, another relabelled anomalous, a test image relabelled good, one rejected, one
 * relabelled anomalous without a mask, one test mask edited; then a fast PatchCore run through the CLI as a job. The run must not train on
 * the left-out images and record them, evaluate with the edited mask and the curated labels, and
 * have its page curves in run_curves as soon as it is done.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { generateMiadMini } from '../../src/main/core/datasets/miad-mini/generate';
import { runCli } from '../../src/main/cli/main';
import { createLab, type Lab } from '../../src/main/core/lab';
import { AnnotationRepo } from '../../src/main/core/store/annotation-repo';
import { AnnotationService } from '../../src/main/core/annotate/annotation-service';
import { curatedManifest } from '../../src/main/core/methods/harness/manifest';
import { buildRunReport } from '../../src/main/core/runs/report';
import { findScenarioDir } from '../../src/main/core/datasets/layout';
import { getCurves, getRun, listRuns } from '../../src/main/core/store/runs-repo';
import { decodePng, encodePng } from '../../src/main/core/image/png';
import type { SampleInfo } from '../../src/shared/types';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
const quiet = { out: () => {}, err: () => {} };
const SCENARIO = 'nut_and_bolt';
const SIZE = 96;

let lab: Lab;
let ws: string;
let datasetId: number;
let samples: SampleInfo[];
let flagged: SampleInfo;
let anomalousTrain: SampleInfo;
let relabelledGood: SampleInfo;
let rejected: SampleInfo;
let edited: SampleInfo;
let unmasked: SampleInfo;

/** A 20×20 square mask (400 defect pixels) in the top-left corner, as PNG bytes. */
function squareMask(): Uint8Array {
  const gray = new Uint8Array(SIZE * SIZE);
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) gray[y * SIZE + x] = 255;
  return encodePng(gray, SIZE, SIZE, 1);
}

async function maskPixels(path: string): Promise<number> {
  const m = decodePng(await readFile(path));
  let n = 0;
  for (let j = 0; j < m.width * m.height; j++) if (m.data[j * m.channels]! > 0) n++;
  return n;
}

beforeAll(async () => {
  const root = await tmp();
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [SCENARIO], train: 16, test: 16, size: SIZE, seed: 5 });
  ws = join(root, 'ws');
  (await createLab(ws, { create: true })).close();
  expect(await runCli(['import', '--workspace', ws, join(root, 'data'), '--name', 'mini'], quiet)).toBe(0);
  lab = await createLab(ws);
  datasetId = lab.listDatasets()[0]!.id;
  samples = lab.store.listSamples({ datasetId, scenario: SCENARIO, offset: 0, limit: 1000 }).samples;
  const train = samples.filter((s) => s.split === 'train');
  const anomalousTest = samples.filter((s) => s.split === 'test' && s.label !== 'good' && s.maskPath);
  expect(train.length).toBe(16);
  expect(anomalousTest.length).toBeGreaterThanOrEqual(3);
  [flagged, anomalousTrain] = [train[3]!, train[7]!];
  [relabelledGood, rejected, edited] = [anomalousTest[0]!, anomalousTest[1]!, anomalousTest[2]!];
  unmasked = samples.find((s) => s.split === 'test' && s.label === 'good')!;
  const service = new AnnotationService({ repo: new AnnotationRepo(lab.store), workspaceDir: lab.dir });
  service.flagTraining([flagged.id], true);
  service.set(anomalousTrain.id, { label: 'anomalous' });
  service.set(relabelledGood.id, { label: 'good' });
  service.set(rejected.id, { reviewState: 'rejected' });
  await service.saveMask(edited.id, squareMask());
  service.set(unmasked.id, { label: 'anomalous' });
  lab.close();
  expect(await runCli(['train', '--workspace', ws, '--method', 'patchcore', '--scenario', SCENARIO, '--preset', 'fast', '--backend', 'wasm'], quiet)).toBe(0);
  lab = await createLab(ws);
}, 180_000);

afterAll(() => lab?.close());

/** `test/<label>/<name>` keys of a sample, relative to its scenario folder. */
function keyOf(s: SampleInfo): string {
  return s.relPath.slice(s.relPath.indexOf(`${s.split}/`));
}

describe('the curated manifest', () => {
  it('leaves out flagged, anomalous-in-train and rejected samples, relabels, and prefers the edited mask', () => {
    const dataset = lab.listDatasets()[0]!;
    const { manifest, leftOut, editedMasks } = curatedManifest(new AnnotationRepo(lab.store).exportRows(SCENARIO), {
      datasetId,
      scenarioDir: findScenarioDir(dataset.root, SCENARIO)!,
      workspaceDir: lab.dir,
    });
    expect(manifest.train).toHaveLength(14);
    expect(manifest.train).not.toContain(flagged.path);
    expect(manifest.train).not.toContain(anomalousTrain.path);
    const bySample = <T extends { sampleId: number }>(list: T[]) => [...list].sort((x, y) => x.sampleId - y.sampleId);
    expect(bySample(leftOut)).toEqual(
      bySample([
        { sampleId: flagged.id, split: 'train', relPath: keyOf(flagged), reason: 'excluded-from-training' },
        { sampleId: anomalousTrain.id, split: 'train', relPath: keyOf(anomalousTrain), reason: 'anomalous-in-train' },
        { sampleId: rejected.id, split: 'test', relPath: keyOf(rejected), reason: 'rejected' },
        { sampleId: unmasked.id, split: 'test', relPath: keyOf(unmasked), reason: 'no-mask' },
      ]),
    );
    expect(editedMasks).toBe(1);
    const byRel = new Map(manifest.test.map((t) => [t.rel, t]));
    expect(manifest.test).toHaveLength(samples.filter((s) => s.split === 'test').length - 2);
    expect(byRel.get(keyOf(relabelledGood))).toMatchObject({ label: 'good', mask: null });
    expect(byRel.get(keyOf(edited))!.mask).toMatch(new RegExp(`^${lab.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.masks.`));
    expect(byRel.get(keyOf(edited))!.label).toBe(edited.label);
    // Untouched anomalous images keep the dataset's mask.
    const untouched = samples.find((s) => s.split === 'test' && s.label !== 'good' && ![relabelledGood.id, rejected.id, edited.id].includes(s.id))!;
    expect(byRel.get(keyOf(untouched))!.mask).toBe(untouched.maskPath);
  });
});

describe('a PatchCore run on the curated dataset', () => {
  it('trains without the left-out images and records them in its summary', async () => {
    const runId = listRuns(lab.store)[0]!.id;
    const dir = lab.jobs.runDir(runId);
    const used = JSON.parse(await readFile(join(dir, 'train-images.json'), 'utf8')) as string[];
    expect(used).toHaveLength(14);
    expect(used).not.toContain(flagged.path);
    expect(used).not.toContain(anomalousTrain.path);
    const report = await buildRunReport({ store: lab.store, runDir: (id) => lab.jobs.runDir(id) }, runId);
    const summary = report.summary as { train: { images: number }; curation: { trainExcluded: { sampleId: number; reason: string }[]; testLeftOut: { sampleId: number }[]; editedMasks: number } };
    expect(summary.train.images).toBe(14);
    expect(summary.curation.trainExcluded.map((e) => [e.sampleId, e.reason]).sort()).toEqual(
      [
        [flagged.id, 'excluded-from-training'],
        [anomalousTrain.id, 'anomalous-in-train'],
      ].sort(),
    );
    expect(summary.curation.testLeftOut.map((e) => e.sampleId).sort()).toEqual([rejected.id, unmasked.id].sort());
    expect(summary.curation.editedMasks).toBe(1);
  });

  it('evaluates with the edited mask and the curated labels', async () => {
    const runId = listRuns(lab.store)[0]!.id;
    const dir = lab.jobs.runDir(runId);
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as {
      summary: { scopes: { defect: string | null; images: { anomalous: number }; pixels: { anomalous: number } }[] };
    };
    // Expected anomalous pixels: the dataset's masks of the anomalous test images still in, except
    // the edited image, which counts its 400-pixel square (maps and masks are 96² at input 96).
    const inTest = samples.filter((s) => s.split === 'test' && s.label !== 'good' && s.id !== relabelledGood.id && s.id !== rejected.id);
    let expected = 0;
    for (const s of inTest) expected += s.id === edited.id ? 400 : await maskPixels(s.maskPath!);
    const overall = result.summary.scopes.find((s) => s.defect === null)!;
    expect(overall.pixels.anomalous).toBe(expected);
    expect(await maskPixels(edited.maskPath!)).not.toBe(400);
    expect(overall.images.anomalous).toBe(inTest.length);
    const scores = JSON.parse(await readFile(join(dir, 'scores.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(scores)).not.toContain(keyOf(rejected));
    expect(Object.keys(scores)).not.toContain(keyOf(unmasked));
    const labels = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as Record<string, string>;
    expect(labels[keyOf(relabelledGood)]).toBe('good');
    // The page reads those labels: the relabelled image is a normal one in the gallery.
    const report = await buildRunReport({ store: lab.store, runDir: (id) => lab.jobs.runDir(id) }, runId);
    const item = report.gallery.find((g) => g.relPath === keyOf(relabelledGood))!;
    expect(item).toMatchObject({ label: 'good', anomalous: false });
    expect(item.imagePath).toBe(relabelledGood.path);
  });

  it('stores its page curves when it finishes, so the page reads them instead of recomputing', async () => {
    const runId = listRuns(lab.store)[0]!.id;
    const run = getRun(lab.store, runId);
    const defects = [...new Set(run.metrics.map((m) => m.defectType))].sort();
    expect(defects[0]).toBe('');
    expect(defects.length).toBeGreaterThan(1);
    // Stored by the runner at `done`, before any page asked for them.
    const stored = getCurves(lab.store, runId);
    expect(stored.map((c) => `${c.defectType}/${c.curve}`).sort()).toEqual(defects.flatMap((d) => ['image_roc', 'pixel_roc', 'pro'].map((c) => `${d}/${c}`)).sort());
    const result = JSON.parse(await readFile(join(lab.jobs.runDir(runId), 'result.json'), 'utf8')) as { curves: { defectType: string; curve: string; x: number[]; y: number[] }[] };
    for (const c of result.curves) {
      const s = stored.find((t) => t.defectType === c.defectType && t.curve === c.curve)!;
      expect(s.x).toEqual(c.x);
      expect(s.y).toEqual(c.y);
    }
    // The job's curves agree with its metrics (image ROC exactly; sampled pixel ROC closely).
    const trapz = (x: number[], y: number[]) => x.slice(1).reduce((a, xi, i) => a + ((xi - x[i]!) * (y[i + 1]! + y[i]!)) / 2, 0);
    const metric = (d: string, name: string) => run.metrics.find((m) => m.defectType === d && m.metric === name)!.value!;
    for (const d of defects) {
      const roc = stored.find((c) => c.defectType === d && c.curve === 'image_roc')!;
      expect(trapz(roc.x, roc.y)).toBeCloseTo(metric(d, 'image_auroc'), 9);
      const pix = stored.find((c) => c.defectType === d && c.curve === 'pixel_roc')!;
      expect(Math.abs(trapz(pix.x, pix.y) - metric(d, 'pixel_auroc'))).toBeLessThan(0.01);
    }
    const ctx = { store: lab.store, runDir: (id: number) => lab.jobs.runDir(id) };
    const report = await buildRunReport(ctx, runId);
    expect(report.curves).toEqual(stored.map((c) => ({ defectType: c.defectType, curve: c.curve, x: c.x, y: c.y })));
    // A run from before (no stored curves) still gets them on demand from its maps, then cached.
    lab.store.connection.prepare('DELETE FROM run_curves WHERE run_id = ?').run(runId);
    const old = await buildRunReport(ctx, runId);
    expect(old.curves.length).toBe(stored.length);
    expect(getCurves(lab.store, runId).length).toBe(stored.length);
  });
});
