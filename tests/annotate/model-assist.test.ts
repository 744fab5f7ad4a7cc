/**
 * Model-assisted curation through the host's calls (issue 19) on a real workspace: runs written
 * into its SQLite file with real maps.amap files of maps the test controls, so every proposal is
 * known exactly. Proposals (run threshold, given threshold, resized maps), accepting one as a mask
 * version with its origin and reverting it back to the previous bytes, the review queue of a
 * selection, a run's false positives / negatives, and every refusal the issue names.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Annotation, AnnotationHistoryEntry, MaskProposal, ProposalQueue, RunDisagreements } from '../../src/shared/calls/annotate';
import type { RunMetricInfo } from '../../src/shared/types';
import { proposeMask } from '../../src/main/core/annotate/mask-proposal';
import { MapPackWriter, resizeBilinear } from '../../src/main/core/evaluation/index';
import { decodePng, encodePng } from '../../src/main/core/image/png';
import { createLab } from '../../src/main/core/lab';
import type { LabHost } from '../../src/main/core/host';
import { insertRun } from '../../src/main/core/store/runs-repo';
import { H, W, maskPng, openSmallWorkspace } from './helpers';
import { useTmpDirs } from '../helpers/tmp';

const tmp = useTmpDirs();
let host: LabHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const CRACK = 'wind_turbine/test/crack/000.png';

/** A W×H map: a 3×2 blob of 0.9, one speck of 0.8, a hole (0.1) inside a ring of 0.7, 0.2 elsewhere. */
function crackMap(): Float32Array {
  const m = new Float32Array(W * H).fill(0.2);
  for (const [x, y] of [[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]] as const) m[y * W + x] = 0.9;
  m[5 * W + 0] = 0.8;
  for (let y = 2; y <= 4; y++) for (let x = 4; x <= 6; x++) m[y * W + x] = 0.7;
  m[3 * W + 5] = 0.1;
  return m;
}

interface RunSpec {
  scenario: string;
  /** A unified run: every scenario it covers, with each one's maps in runs/<id>/scenarios/<scenario>/. */
  unified?: Record<string, { width: number; height: number; entries: Record<string, Float32Array> }>;
  status?: 'done' | 'failed';
  maps?: { width: number; height: number; entries: Record<string, Float32Array> };
  metrics?: RunMetricInfo[];
  scores?: Record<string, number>;
}

/** Workspace with runs made directly in its store (maps.amap and scores.json in their folders). */
async function workspace(runs: RunSpec[]) {
  const root = await tmp();
  const first = await openSmallWorkspace(root);
  await first.host.close();
  const lab = await createLab(first.dir);
  const ids: number[] = [];
  try {
    const { root: dataRoot } = lab.store.connection.prepare('SELECT root FROM datasets').get() as { root: string };
    for (const spec of runs) {
      const id = insertRun(
        lab.store,
        {
          name: `run on ${spec.scenario}`,
          kind: 'internal',
          method: 'patchcore',
          scenarios: spec.unified ? Object.keys(spec.unified) : [spec.scenario],
          datasetRoot: dataRoot,
          config: {},
          status: spec.status ?? 'done',
        },
        { metrics: spec.metrics ?? [] },
      );
      const dir = join(first.dir, 'runs', String(id));
      await mkdir(dir, { recursive: true });
      if (spec.maps) {
        const writer = await MapPackWriter.create(join(dir, 'maps.amap'), spec.maps.height, spec.maps.width, { method: 'patchcore' });
        for (const [key, map] of Object.entries(spec.maps.entries)) await writer.add(key, map);
        await writer.close();
      }
      for (const [scenario, maps] of Object.entries(spec.unified ?? {})) {
        await mkdir(join(dir, 'scenarios', scenario), { recursive: true });
        const writer = await MapPackWriter.create(join(dir, 'scenarios', scenario, 'maps.amap'), maps.height, maps.width);
        for (const [key, map] of Object.entries(maps.entries)) await writer.add(key, map);
        await writer.close();
      }
      if (spec.scores) await writeFile(join(dir, 'scores.json'), JSON.stringify(spec.scores));
      ids.push(id);
    }
  } finally {
    lab.close();
  }
  const opened = await openSmallWorkspace(root, first.dir);
  host = opened.host;
  return { host: opened.host, dir: first.dir, id: opened.id, runs: ids };
}

const pixelF1 = (scenario: string, threshold: number): RunMetricInfo => ({ scenario, defectType: '', metric: 'pixel_f1_max', value: 0.5, threshold });
const imageF1 = (scenario: string, threshold: number): RunMetricInfo => ({ scenario, defectType: '', metric: 'image_f1_max', value: 0.5, threshold });

function pngBits(base64OrBytes: string | Uint8Array): Uint8Array {
  const img = decodePng(typeof base64OrBytes === 'string' ? Buffer.from(base64OrBytes, 'base64') : base64OrBytes);
  expect(img.channels).toBe(1);
  return img.data;
}

describe('annotate:proposeMask', () => {
  it("proposes at the run's pixel F1-max threshold, or at a given one, with components under minArea dropped and holes filled", async () => {
    const map = crackMap();
    const { host, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': map } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const p = (await host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0], minArea: 2 })) as MaskProposal;
    const expected = proposeMask(map, W, H, { threshold: 0.5, minArea: 2, fillHoles: true });
    expect(pngBits(p.png)).toEqual(expected.mask);
    // The blob (6 px) and the filled ring (9 px); the 0.8 speck is dropped.
    expect([p.threshold, p.runThreshold, p.area, p.components, p.dropped]).toEqual([0.5, 0.5, 15, 2, 1]);
    // The range of the map as the run stored it (float16).
    expect([p.width, p.height, p.mapLo, p.mapHi]).toEqual([W, H, 0.0999755859375, 0.89990234375]);

    const high = (await host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0], threshold: 0.85, fillHoles: false })) as MaskProposal;
    expect([high.threshold, high.area, high.minArea]).toEqual([0.85, 6, 0]);
    expect(pngBits(high.png)).toEqual(proposeMask(map, W, H, { threshold: 0.85, minArea: 0, fillHoles: false }).mask);
  });

  it('proposes from the maps file as it is now, not from a map read for an earlier proposal', async () => {
    const map = crackMap();
    const { host, dir, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': map } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const first = (await host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0], fillHoles: false })) as MaskProposal;
    expect(first.area).toBe(15); // the blob (6), the speck (1) and the ring (8), its hole unfilled
    // The run's maps rewritten (same size): the next proposal reads them again.
    const amap = join(dir, 'runs', String(runs[0]), 'maps.amap');
    await rm(amap);
    const writer = await MapPackWriter.create(amap, H, W);
    await writer.add('test/crack/000.png', new Float32Array(W * H).fill(0.9));
    await writer.close();
    const second = (await host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0], fillHoles: false })) as MaskProposal;
    expect(second.area).toBe(W * H);
  });

  it("resizes a map of another resolution to the sample bilinearly, the evaluation's rule", async () => {
    // A square 5×5 map over the 8×6 image (a method's square input).
    const small = new Float32Array(25);
    for (let i = 0; i < 25; i++) small[i] = (i % 7) / 7;
    const { host, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: 5, height: 5, entries: { 'test/crack/000.png': small } }, metrics: [pixelF1('wind_turbine', 0.4)] }]);
    const p = (await host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0] })) as MaskProposal;
    const expected = proposeMask(resizeBilinear(small, 5, 5, W, H), W, H, { threshold: 0.4, minArea: 0, fillHoles: true });
    expect(expected.area).toBeGreaterThan(0);
    expect(pngBits(p.png)).toEqual(expected.mask);
  });

  it('refuses missing maps, maps of another shape, another scenario, a training image, an unfinished run, and a run without a threshold', async () => {
    const map = crackMap();
    const { host, id, runs } = await workspace([
      { scenario: 'wind_turbine', metrics: [pixelF1('wind_turbine', 0.5)] }, // no maps.amap
      { scenario: 'wind_turbine', maps: { width: 5, height: 3, entries: { 'test/crack/000.png': new Float32Array(15) } }, metrics: [pixelF1('wind_turbine', 0.5)] },
      { scenario: 'metal_welding', maps: { width: W, height: H, entries: { 'test/weld_pit/000.png': map } }, metrics: [pixelF1('metal_welding', 0.5)] },
      { scenario: 'wind_turbine', status: 'failed' },
      { scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': map } } }, // no pixel F1 threshold
      { scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/other.png': map } }, metrics: [pixelF1('wind_turbine', 0.5)] },
    ]);
    const propose = (runId: number, sampleId = id(CRACK), extra = {}) => host.invoke('annotate:proposeMask', { sampleId, runId, ...extra });
    await expect(propose(runs[0]!)).rejects.toThrow(/run #1 has no anomaly maps: .*maps\.amap is missing/);
    await expect(propose(runs[1]!)).rejects.toThrow(/run #2's maps are 5×3, neither square nor of sample \d+'s aspect \(8×6\)/);
    await expect(propose(runs[2]!)).rejects.toThrow(/run #3 is on scenario metal_welding; sample \d+ is a wind_turbine image/);
    await expect(propose(runs[5]!, id('wind_turbine/train/good/000.png'))).rejects.toThrow(/is a training image/);
    await expect(propose(runs[3]!)).rejects.toThrow(/run #4 is failed: only a finished run has anomaly maps/);
    await expect(propose(runs[4]!)).rejects.toThrow(/run #5 has no pixel F1-max threshold for wind_turbine .*give a threshold/);
    // With a threshold given, the same run proposes.
    await expect(propose(runs[4]!, id(CRACK), { threshold: 0.5 })).resolves.toMatchObject({ area: 16 });
    await expect(propose(runs[5]!)).rejects.toThrow(/run #6 has no anomaly map for test\/crack\/000\.png/);
    await expect(propose(99)).rejects.toThrow(/no run with id 99/);
    // Shapes are the contract's: a negative minimum area never reaches the core.
    await expect(propose(runs[0]!, id(CRACK), { minArea: -1 })).rejects.toMatchObject({ name: 'ValidationError' });
  });
});

describe('annotate:proposeMask snapped to image edges', () => {
  /** The crack image rewritten with a sharp edge: columns x ≥ 3 bright, the rest dark (gray, as the demo's). */
  async function edgeImage(dir: string): Promise<void> {
    const px = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) px[y * W + x] = x >= 3 ? 200 : 40;
    const { root } = (await createLab(dir).then((lab) => {
      try {
        return lab.store.connection.prepare('SELECT root FROM datasets').get();
      } finally {
        lab.close();
      }
    })) as { root: string };
    await writeFile(join(root, CRACK), encodePng(px, W, H, 1));
  }

  it('moves the boundary onto the image edge read from the sample file, and records the band in the accepted origin', async () => {
    // The map's blob is the columns x ≥ 4: one pixel right of the image's edge.
    const map = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 4; x < W; x++) map[y * W + x] = 0.9;
    const { host, dir, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': map } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const sampleId = id(CRACK);
    // The demo's image is flat: snapping finds no edge and leaves the proposal as it is.
    const onFlat = (await host.invoke('annotate:proposeMask', { sampleId, runId: runs[0], snap: { band: 1 } })) as MaskProposal;
    expect([onFlat.area, onFlat.snapMoved, onFlat.snap]).toEqual([4 * H, 0, { band: 1 }]);
    await edgeImage(dir);
    const plain = (await host.invoke('annotate:proposeMask', { sampleId, runId: runs[0] })) as MaskProposal;
    expect([plain.area, plain.snap, plain.snapMoved]).toEqual([4 * H, null, 0]);
    const p = (await host.invoke('annotate:proposeMask', { sampleId, runId: runs[0], snap: { band: 1 } })) as MaskProposal;
    const expected = new Uint8Array(W * H);
    for (let y = 0; y < H; y++) expected.fill(255, y * W + 3, y * W + W);
    expect(pngBits(p.png)).toEqual(expected);
    expect([p.area, p.snapMoved, p.snap]).toEqual([5 * H, H, { band: 1 }]);

    const origin = { kind: 'proposal', runId: runs[0], threshold: p.threshold, minArea: p.minArea, fillHoles: p.fillHoles, snap: p.snap, edited: false };
    await host.invoke('annotate:saveMask', { sampleId, png: p.png, origin });
    const entry = ((await host.invoke('annotate:history', { sampleId })) as AnnotationHistoryEntry[]).at(-1)!;
    expect(entry.change.origin).toEqual({ ...origin, snap: { band: 1 } });
  });

  it('refuses a band out of range or malformed, in the call and in an origin', async () => {
    const { host, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': crackMap() } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const sampleId = id(CRACK);
    for (const snap of [{ band: 0 }, { band: 17 }, { band: 2.5 }, { band: 4, radius: 2 }, {}, true]) {
      await expect(host.invoke('annotate:proposeMask', { sampleId, runId: runs[0], snap })).rejects.toMatchObject({ name: 'ValidationError', message: expect.stringMatching(/snap/) });
    }
    const origin = { kind: 'proposal', runId: runs[0], threshold: 0.5, minArea: 0, fillHoles: true, snap: { band: 99 }, edited: false };
    await expect(host.invoke('annotate:saveMask', { sampleId, png: maskPng([1]), origin })).rejects.toMatchObject({ name: 'ValidationError' });
    expect(((await host.invoke('annotate:history', { sampleId })) as AnnotationHistoryEntry[]).length).toBe(0);
  });
});

describe('accepting and reverting a proposal', () => {
  it('saves it as a mask version with its origin; reverting restores the previous mask bytes', async () => {
    const map = crackMap();
    const { host, dir, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': map } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const sampleId = id(CRACK);
    // A hand-drawn mask first: the bytes a revert must bring back.
    const before = (await host.invoke('annotate:saveMask', { sampleId, png: maskPng([1, 2, 3]) })) as Annotation;
    const beforeBytes = await readFile(before.maskPath!);

    const p = (await host.invoke('annotate:proposeMask', { sampleId, runId: runs[0], minArea: 2 })) as MaskProposal;
    const origin = { kind: 'proposal', runId: runs[0], threshold: p.threshold, minArea: p.minArea, fillHoles: p.fillHoles, edited: false };
    const accepted = (await host.invoke('annotate:saveMask', { sampleId, png: p.png, origin })) as Annotation;
    expect(accepted.maskPath).not.toBe(before.maskPath);
    // Stored as sent: the proposal's PNG is already the workspace's canonical gray 0/255.
    expect((await readFile(accepted.maskPath!)).toString('base64')).toBe(p.png);

    const history = (await host.invoke('annotate:history', { sampleId })) as AnnotationHistoryEntry[];
    const entry = history.at(-1)!;
    expect(entry.change.kind).toBe('mask');
    expect(entry.change.origin).toEqual(origin);
    expect(entry.change.mask![0]).toBe(before.maskPath!.slice(dir.length + 1));

    const reverted = (await host.invoke('annotate:revert', { historyId: entry.id })) as Annotation;
    expect(reverted.maskPath).toBe(before.maskPath);
    expect(Buffer.compare(await readFile(reverted.maskPath!), beforeBytes)).toBe(0);
    const last = ((await host.invoke('annotate:history', { sampleId })) as AnnotationHistoryEntry[]).at(-1)!;
    expect(last.change).toMatchObject({ kind: 'revert', revertOf: entry.id });
  });

  it('reverting a proposal accepted over the dataset mask goes back to the dataset mask', async () => {
    const { host, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': crackMap() } }, metrics: [pixelF1('wind_turbine', 0.5)] }]);
    const sampleId = id(CRACK);
    const original = (await host.invoke('annotate:get', { sampleId })) as Annotation;
    const originalBytes = await readFile(original.maskPath!);
    const p = (await host.invoke('annotate:proposeMask', { sampleId, runId: runs[0] })) as MaskProposal;
    await host.invoke('annotate:saveMask', { sampleId, png: p.png, origin: { kind: 'proposal', runId: runs[0], threshold: p.threshold, minArea: 0, fillHoles: true, edited: true } });
    const entry = ((await host.invoke('annotate:history', { sampleId })) as AnnotationHistoryEntry[]).at(-1)!;
    const reverted = (await host.invoke('annotate:revert', { historyId: entry.id })) as Annotation;
    expect([reverted.maskEdited, reverted.maskPath]).toEqual([false, original.maskPath]);
    expect(Buffer.compare(await readFile(reverted.maskPath!), originalBytes)).toBe(0);
  });

  it('refuses an origin naming a run the workspace does not have, and changes nothing', async () => {
    const { host, id } = await workspace([]);
    const sampleId = id(CRACK);
    const origin = { kind: 'proposal', runId: 42, threshold: 0.5, minArea: 0, fillHoles: true, edited: false };
    await expect(host.invoke('annotate:saveMask', { sampleId, png: maskPng([1]), origin })).rejects.toThrow(/no run with id 42/);
    await expect(host.invoke('annotate:set', { sampleId, label: 'good', origin: { kind: 'review', runId: 42, outcome: 'fp' } })).rejects.toThrow(/no run with id 42/);
    expect(((await host.invoke('annotate:get', { sampleId })) as Annotation).version).toBe(0);
  });
});

describe('annotate:proposalQueue', () => {
  it("keeps the selection's anomalous test images of the run's scenario, counting the rest by reason", async () => {
    const { host, id, runs } = await workspace([
      { scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': crackMap() } }, metrics: [pixelF1('wind_turbine', 0.5)] },
    ]);
    const all = ['wind_turbine/train/good/000.png', CRACK, 'metal_welding/test/weld_pit/000.png', 'metal_welding/test/good/000.png', 'bottle/test/broken_large/000.png'].map(id);
    const q = (await host.invoke('annotate:proposalQueue', { selection: { mode: 'ids', ids: all }, runId: runs[0] })) as ProposalQueue;
    expect(q).toEqual({ runId: runs[0], scenarios: ['wind_turbine'], sampleIds: [id(CRACK)], skipped: { good: 1, otherScenario: 3, notInRun: 0 } });
    // Relabelled good by the workspace: no longer proposed for.
    await host.invoke('annotate:set', { sampleId: id(CRACK), label: 'good' });
    await expect(host.invoke('annotate:proposalQueue', { selection: { mode: 'ids', ids: all }, runId: runs[0] })).rejects.toThrow(
      /none of the 5 selected samples is an anomalous test image of run #1 \(scenario wind_turbine\): 3 of another scenario, 2 labelled good, 0 not tested by the run/,
    );
    await expect(host.invoke('annotate:proposalQueue', { selection: { mode: 'ids', ids: [] }, runId: runs[0] })).rejects.toThrow(/the selection is empty/);
  });

  it("reads a unified run's maps of each scenario from that scenario's folder", async () => {
    const map = crackMap();
    const { host, id, runs } = await workspace([
      {
        scenario: 'wind_turbine',
        unified: {
          wind_turbine: { width: W, height: H, entries: { 'test/crack/000.png': map } },
          metal_welding: { width: W, height: H, entries: { 'test/weld_pit/000.png': map.map((v) => 1 - v) } },
        },
        metrics: [pixelF1('wind_turbine', 0.5), pixelF1('metal_welding', 0.5)],
      },
    ]);
    const pit = id('metal_welding/test/weld_pit/000.png');
    const ids = [id(CRACK), pit, id('bottle/test/broken_large/000.png')];
    const q = (await host.invoke('annotate:proposalQueue', { selection: { mode: 'ids', ids }, runId: runs[0] })) as ProposalQueue;
    // In the Library's default order, which need not be the order the ids were given in.
    expect([[...q.sampleIds].sort(), q.scenarios.sort(), q.skipped.otherScenario]).toEqual([[id(CRACK), pit].sort(), ['metal_welding', 'wind_turbine'], 1]);
    const p = (await host.invoke('annotate:proposeMask', { sampleId: pit, runId: runs[0], fillHoles: false })) as MaskProposal;
    expect(pngBits(p.png)).toEqual(proposeMask(map.map((v) => 1 - v), W, H, { threshold: 0.5, minArea: 0, fillHoles: false }).mask);
  });

  it('refuses a run whose maps are unreadable or gone', async () => {
    const { host, dir, id, runs } = await workspace([{ scenario: 'wind_turbine', maps: { width: W, height: H, entries: { 'test/crack/000.png': crackMap() } } }]);
    const amap = join(dir, 'runs', String(runs[0]), 'maps.amap');
    const good = await readFile(amap);
    await writeFile(amap, good.subarray(0, 100));
    await expect(host.invoke('annotate:proposeMask', { sampleId: id(CRACK), runId: runs[0], threshold: 0.5 })).rejects.toThrow(
      /run #1's anomaly maps cannot be read: .*truncated or corrupt/,
    );
    await rm(join(dir, 'runs', String(runs[0]), 'maps.amap'));
    expect(existsSync(join(dir, 'runs', String(runs[0]), 'maps.amap'))).toBe(false);
    await expect(host.invoke('annotate:proposalQueue', { selection: { mode: 'ids', ids: [id(CRACK)] }, runId: runs[0] })).rejects.toThrow(/has no anomaly maps/);
  });
});

describe('annotate:runDisagreements', () => {
  it("lists the run's false positives and false negatives at its image F1-max threshold; a label fixed from them records its origin and reverts", async () => {
    const { host, id, runs } = await workspace([
      { scenario: 'metal_welding', metrics: [imageF1('metal_welding', 0.5)], scores: { 'test/good/000.png': 0.9, 'test/weld_pit/000.png': 0.1 } },
      { scenario: 'metal_welding', metrics: [imageF1('metal_welding', 0.5)], scores: { 'test/good/000.png': 0.1, 'test/weld_pit/000.png': 0.9 } },
      { scenario: 'metal_welding', scores: { 'test/good/000.png': 0.1 } },
    ]);
    const good = id('metal_welding/test/good/000.png');
    const pit = id('metal_welding/test/weld_pit/000.png');
    const d = (await host.invoke('annotate:runDisagreements', { runId: runs[0] })) as RunDisagreements;
    expect(d).toEqual({
      runId: runs[0],
      scenario: 'metal_welding',
      threshold: 0.5,
      unmatched: 0,
      items: [
        { sampleId: good, relPath: 'test/good/000.png', label: 'good', score: 0.9, outcome: 'fp' },
        { sampleId: pit, relPath: 'test/weld_pit/000.png', label: 'weld_pit', score: 0.1, outcome: 'fn' },
      ],
    });
    expect(((await host.invoke('annotate:runDisagreements', { runId: runs[1] })) as RunDisagreements).items).toEqual([]);
    await expect(host.invoke('annotate:runDisagreements', { runId: runs[2] })).rejects.toThrow(/run #3 has no image F1-max threshold/);

    // "Is this label right?" No: the false positive was a weld pit after all.
    const origin = { kind: 'review', runId: runs[0], outcome: 'fp' };
    const fixed = (await host.invoke('annotate:set', { sampleId: good, defectType: 'weld_pit', origin })) as Annotation;
    expect([fixed.label, fixed.defectType]).toEqual(['anomalous', 'weld_pit']);
    const entry = ((await host.invoke('annotate:history', { sampleId: good })) as AnnotationHistoryEntry[]).at(-1)!;
    expect(entry.change).toMatchObject({ kind: 'set', origin, label: ['good', 'anomalous'], defectType: [null, 'weld_pit'] });
    const back = (await host.invoke('annotate:revert', { historyId: entry.id })) as Annotation;
    expect([back.label, back.defectType]).toEqual(['good', null]);
  });
});
