/**
 * Model-assisted curation (issue 19): masks proposed from a run's anomaly maps, the review queue of
 * a selection's proposals, and a run's disagreements with the labels (false positives and false
 * negatives at its image F1-max threshold) as samples to review. Accepting a proposal or changing a
 * label goes through AnnotationService like any edit, with its origin in the history entry.
 *
 * A sample's map is the run's map of the same image (the key in maps.amap is the image's path
 * relative to the run's scenario folder), resized to the sample's size bilinearly: the rule the
 * run's evaluation resizes maps by (resizeBilinear, methods/harness/test-loop.ts), so the run's
 * pixel F1-max threshold means on the proposal what it meant when the run was evaluated. A
 * proposal snapped to the image's edges (mask-proposal.ts, snapToEdges) reads the sample's image
 * file, decoded by sharp to 8-bit RGB at the sample's size.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import type { DisagreementItem, MaskProposal, ProposalQueue, ProposalSnap, RunDisagreements } from '../../../shared/calls/annotate';
import { LabError } from '../../../shared/errors';
import type { RunDetail } from '../../../shared/types';
import { MapPackError, MapPackReader, resizeBilinear } from '../evaluation/index';
import { encodePng } from '../image/png';
import { loadImageBytes } from '../methods/components/images';
import { buildRunReport } from '../runs/report';
import { findScenarioDir } from '../datasets/layout';
import { runScenarioDir } from '../runs/scenario-dir';
import { AnnotationRepo, type SampleFacts } from '../store/annotation-repo';
import { getRun } from '../store/runs-repo';
import type { Store } from '../store/store';
import { stateOf } from './annotation-service';
import { proposeMask } from './mask-proposal';

export interface AssistContext {
  store: Store;
  /** A run's folder (`<workspace>/runs/<id>`). */
  runDir: (runId: number) => string;
}

export interface ProposalRequest {
  sampleId: number;
  runId: number;
  /** Absent: the run's pixel F1-max threshold for the sample's scenario. */
  threshold?: number | undefined;
  minArea: number;
  fillHoles: boolean;
  /** Snap to the image's colour edges (mask-proposal.ts, snapToEdges); absent: not snapped. */
  snap?: ProposalSnap | undefined;
}

/** A done internal run's maps file and dataset folder for one of its scenarios. */
interface RunMaps {
  run: RunDetail;
  scenario: string;
  scenarioDir: string;
  mapsPath: string;
}

/** A done job run with a dataset: the only runs whose anomaly maps the lab keeps. */
function mappedRun(ctx: AssistContext, runId: number): RunDetail {
  const run = getRun(ctx.store, runId);
  if (run.kind !== 'internal') throw new LabError(`run #${runId} is an external run: the lab keeps no anomaly maps for it`, 'ValidationError');
  if (run.status !== 'done') throw new LabError(`run #${runId} is ${run.status}: only a finished run has anomaly maps`, 'ValidationError');
  if (run.scenarios.length === 0 || !run.datasetRoot) throw new LabError(`run #${runId} names no scenario or dataset`, 'ValidationError');
  return run;
}

/** The maps of one scenario of the run (a unified run keeps each scenario's in its own folder: runs/scenario-dir.ts). */
function runMaps(ctx: AssistContext, run: RunDetail, scenario: string): RunMaps {
  const scenarioDir = findScenarioDir(run.datasetRoot!, scenario);
  if (!scenarioDir) throw new LabError(`run #${run.id}'s dataset folder ${run.datasetRoot} no longer holds scenario ${scenario}`, 'ValidationError');
  const mapsPath = join(runScenarioDir(ctx.runDir(run.id), run.scenarios, scenario), 'maps.amap');
  if (!existsSync(mapsPath)) throw new LabError(`run #${run.id} has no anomaly maps: ${mapsPath} is missing`, 'ValidationError');
  return { run, scenario, scenarioDir, mapsPath };
}

function scenarioWords(run: RunDetail): string {
  return `${run.scenarios.length === 1 ? 'scenario' : 'scenarios'} ${run.scenarios.join(', ')}`;
}

async function openMaps(rm: RunMaps): Promise<MapPackReader> {
  try {
    return await MapPackReader.open(rm.mapsPath);
  } catch (error) {
    if (error instanceof MapPackError) throw new LabError(`run #${rm.run.id}'s anomaly maps cannot be read: ${error.message}`, 'ValidationError');
    throw error;
  }
}

/** The sample's key in the run's maps (`test/<label>/<name>`), or null when the run did not test it. */
function mapKey(rm: RunMaps, facts: SampleFacts): string | null {
  if (facts.scenario !== rm.scenario) return null;
  const rel = relative(rm.scenarioDir, resolve(facts.root, facts.rel_path)).split(sep).join('/');
  return rel.startsWith('test/') ? rel : null;
}

function sampleFacts(repo: AnnotationRepo, sampleId: number): SampleFacts {
  const facts = repo.facts(sampleId);
  if (!facts) throw new LabError(`no sample with id ${sampleId} in this workspace`, 'NotFoundError');
  return facts;
}

function pixelThreshold(run: RunDetail, scenario: string): number | null {
  return run.metrics.find((m) => m.scenario === scenario && m.defectType === '' && m.metric === 'pixel_f1_max')?.threshold ?? null;
}

/**
 * The run's map of a sample, resized to the sample's size: refuses a map that is neither square
 * (a method's input, which every method makes square) nor of the sample's aspect, as it cannot
 * be laid over the image.
 * @returns shape [height, width] of the sample, with the raw map's range
 */
async function sampleMap(reader: MapPackReader, rm: RunMaps, facts: SampleFacts, key: string): Promise<{ map: Float32Array; lo: number; hi: number }> {
  const { width: mw, height: mh } = reader;
  if (mw !== mh && mw * facts.height !== mh * facts.width) {
    throw new LabError(
      `run #${rm.run.id}'s maps are ${mw}×${mh}, neither square nor of sample ${facts.id}'s aspect (${facts.width}×${facts.height}): they do not cover the image`,
      'ValidationError',
    );
  }
  const raw = await reader.readKey(key);
  if (!raw) throw new LabError(`run #${rm.run.id} has no anomaly map for ${key}`, 'ValidationError');
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { map: resizeBilinear(raw, mw, mh, facts.width, facts.height), lo, hi };
}

/** Refuses a sample the run did not test, saying why. */
function keyOrRefuse(rm: RunMaps, facts: SampleFacts): string {
  if (facts.split !== 'test') throw new LabError(`sample ${facts.id} is a training image: run #${rm.run.id} has maps of test images only`, 'ValidationError');
  const key = mapKey(rm, facts);
  if (!key) throw new LabError(`sample ${facts.id} is not among run #${rm.run.id}'s test images (the run read ${rm.scenarioDir})`, 'ValidationError');
  return key;
}

export async function proposeFromRun(ctx: AssistContext, req: ProposalRequest): Promise<MaskProposal> {
  const facts = sampleFacts(new AnnotationRepo(ctx.store), req.sampleId);
  const run = mappedRun(ctx, req.runId);
  if (!run.scenarios.includes(facts.scenario)) {
    throw new LabError(`run #${run.id} is on ${scenarioWords(run)}; sample ${facts.id} is a ${facts.scenario} image`, 'ValidationError');
  }
  const rm = runMaps(ctx, run, facts.scenario);
  const key = keyOrRefuse(rm, facts);
  const runThreshold = pixelThreshold(rm.run, rm.scenario);
  const threshold = req.threshold ?? runThreshold;
  if (threshold === null) {
    throw new LabError(`run #${rm.run.id} has no pixel F1-max threshold for ${rm.scenario} (no masks to evaluate against): give a threshold`, 'ValidationError');
  }
  const { map, lo, hi } = await cachedSampleMap(rm, facts, key);
  const snap = req.snap ? { band: req.snap.band, image: await cachedSampleImage(facts) } : undefined;
  const p = proposeMask(map, facts.width, facts.height, { threshold, minArea: req.minArea, fillHoles: req.fillHoles, snap });
  // Up filter as the workspace stores masks (annotation-service.ts); deflate level 1, as a proposal is
  // made per slider move and a binary mask's rows compress about as well at 1 as at 6.
  const png = encodePng(p.mask, facts.width, facts.height, 1, { filter: 2, level: 1 });
  return {
    sampleId: facts.id,
    runId: rm.run.id,
    width: facts.width,
    height: facts.height,
    threshold,
    runThreshold,
    minArea: req.minArea,
    fillHoles: req.fillHoles,
    snap: req.snap ? { band: req.snap.band } : null,
    snapMoved: p.snapMoved,
    mapLo: lo,
    mapHi: hi,
    area: p.area,
    components: p.components,
    dropped: p.dropped,
    png: png.toString('base64'),
  };
}

/**
 * The last map resized for a proposal, by maps file (path and modification time), image key and
 * size: a threshold slider asks for the same image again and again, and the resize is most of a
 * proposal's time at 1024² (bench/mask-proposal.ts). One entry, so at most one image's map is held.
 */
let lastMap: { id: string; map: Float32Array; lo: number; hi: number } | null = null;

async function cachedSampleMap(rm: RunMaps, facts: SampleFacts, key: string): Promise<{ map: Float32Array; lo: number; hi: number }> {
  const { mtimeMs, size } = await stat(rm.mapsPath);
  const id = JSON.stringify([rm.mapsPath, mtimeMs, size, key, facts.width, facts.height]);
  if (lastMap?.id === id) return lastMap;
  const reader = await openMaps(rm);
  try {
    const m = await sampleMap(reader, rm, facts, key);
    lastMap = { id, ...m };
    return m;
  } finally {
    await reader.close();
  }
}

/**
 * The last image decoded for a snapped proposal (8-bit RGB at the sample's size, through sharp as
 * the methods read images), by file path, modification time, size and the sample's size: as the
 * map, a slider move asks for the same image again. One entry.
 */
let lastImage: { id: string; rgb: Uint8Array } | null = null;

async function cachedSampleImage(facts: SampleFacts): Promise<Uint8Array> {
  const path = resolve(facts.root, facts.rel_path);
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new LabError(`sample ${facts.id}'s image ${path} is missing: it cannot be snapped to`, 'ValidationError');
  }
  const id = JSON.stringify([path, info.mtimeMs, info.size, facts.width, facts.height]);
  if (lastImage?.id === id) return lastImage.rgb;
  const rgb = await loadImageBytes(path, { width: facts.width, height: facts.height });
  lastImage = { id, rgb };
  return rgb;
}

/**
 * The samples among `sampleIds` a run can propose masks for: anomalous (as the workspace labels
 * them) test images of its scenario(s) that it has a map of. An empty selection, or one with none
 * of them, is refused with what the selection held instead.
 */
export async function proposalQueue(ctx: AssistContext, runId: number, sampleIds: readonly number[]): Promise<ProposalQueue> {
  if (sampleIds.length === 0) throw new LabError('the selection is empty: select the samples to propose masks for first', 'ValidationError');
  const run = mappedRun(ctx, runId);
  const repo = new AnnotationRepo(ctx.store);
  // Each scenario's maps and keys, read when a selected sample first needs them.
  const byScenario = new Map<string, { rm: RunMaps; keys: Set<string> }>();
  const mapsOf = async (scenario: string) => {
    let m = byScenario.get(scenario);
    if (!m) {
      const rm = runMaps(ctx, run, scenario);
      const reader = await openMaps(rm);
      m = { rm, keys: new Set(reader.keys()) };
      await reader.close();
      byScenario.set(scenario, m);
    }
    return m;
  };
  const skipped = { good: 0, otherScenario: 0, notInRun: 0 };
  const out: number[] = [];
  for (const id of sampleIds) {
    const facts = sampleFacts(repo, id);
    if (!run.scenarios.includes(facts.scenario)) skipped.otherScenario++;
    else if (stateOf(facts, repo.row(id)).label === 'good') skipped.good++;
    else {
      const { rm, keys } = await mapsOf(facts.scenario);
      const key = facts.split === 'test' ? mapKey(rm, facts) : null;
      if (key !== null && keys.has(key)) out.push(id);
      else skipped.notInRun++;
    }
  }
  if (out.length === 0) {
    throw new LabError(
      `none of the ${sampleIds.length} selected samples is an anomalous test image of run #${runId} (${scenarioWords(run)}): ` +
        `${skipped.otherScenario} of another scenario, ${skipped.good} labelled good, ${skipped.notInRun} not tested by the run`,
      'ValidationError',
    );
  }
  return { runId, scenarios: [...byScenario.keys()], sampleIds: out, skipped };
}

/**
 * A run's false positives and false negatives at its image F1-max threshold, in the run page's
 * gallery order (highest score first), as the workspace's samples. The outcome is the gallery's
 * (runs/report.ts), so the queue holds exactly the images the page marks FP / FN.
 */
export async function runDisagreements(ctx: AssistContext, runId: number): Promise<RunDisagreements> {
  const report = await buildRunReport(ctx, runId);
  if (report.threshold === null || report.scenario === null) {
    throw new LabError(`run #${runId} has no image F1-max threshold: it has no disagreements to review`, 'ValidationError');
  }
  const samples = new Map<string, number>();
  for (const r of new AnnotationRepo(ctx.store).exportRows(report.scenario)) samples.set(resolve(r.root, r.rel_path), r.id);
  const items: DisagreementItem[] = [];
  let unmatched = 0;
  for (const g of report.gallery) {
    if (g.outcome !== 'fp' && g.outcome !== 'fn') continue;
    const id = g.imagePath ? samples.get(resolve(g.imagePath)) : undefined;
    if (id === undefined) unmatched++;
    else items.push({ sampleId: id, relPath: g.relPath, label: g.label, score: g.score, outcome: g.outcome });
  }
  return { runId, scenario: report.scenario, threshold: report.threshold, items, unmatched };
}
