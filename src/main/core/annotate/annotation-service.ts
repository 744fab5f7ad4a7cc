/**
 * Annotation of one open workspace (issue 4): label, defect type, review state, training flag
 * and mask per sample, edited in the workspace and never in the source dataset. Every rule lives
 * here, behind every door: a defect type must be one Table A.1 gives the sample's scenario, and
 * a version check turns a stale editor's save into a ConflictError when it asks for one.
 *
 * Masks are crash-safe by ordering: the PNG is written atomically under a name no other save
 * uses, and only then does one transaction point the row at it (with a new version) and record
 * the history entry. A process killed between the two leaves a stale file nobody points at (removed
 * by the sweep as the workspace next opens, mask-sweep.ts), and a row always names a complete file.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type {
  Annotation,
  AnnotationChange,
  AnnotationOrigin,
  AnnotationHistoryEntry,
  AnnotationLabel,
  ReviewState,
} from '../../../shared/calls/annotate';
import { LabError } from '../../../shared/errors';
import { SCENARIO_INFO, isDefectAllowed, isScenario } from '../../../shared/taxonomy';
import { writeFileAtomic } from '../fs-util';
import { decodePng, encodePng, pngSize, PngError, type RasterImage } from '../image/png';
import type { AnnotationRepo, AnnotationRow, SampleFacts } from '../store/annotation-repo';
import { binariseMask } from '../../../shared/mask-rule';

export interface AnnotationPatch {
  label?: AnnotationLabel | undefined;
  defectType?: string | null | undefined;
  reviewState?: ReviewState | undefined;
  excludedFromTraining?: boolean | undefined;
}

export interface AnnotationServiceOptions {
  repo: AnnotationRepo;
  /** The workspace folder: edited masks go to `<workspaceDir>/masks/<datasetId>/`. */
  workspaceDir: string;
  /** Writes a file atomically; tests may pass one that fails or stalls. */
  writeFile?: (path: string, data: Uint8Array) => Promise<void>;
}

/** The editable state of a sample; `mask` is relative to the workspace. */
export interface State {
  label: AnnotationLabel;
  defectType: string | null;
  reviewState: ReviewState;
  mask: string | null;
  excluded: boolean;
}

/** Table A.1's defect types for a scenario; none outside the MIAD scenarios. */
export function allowedDefectTypes(scenario: string): string[] {
  return isScenario(scenario) ? [...SCENARIO_INFO[scenario].defects] : [];
}

export class AnnotationService {
  private readonly repo: AnnotationRepo;
  private readonly workspaceDir: string;
  private readonly writeFile: (path: string, data: Uint8Array) => Promise<void>;

  constructor(options: AnnotationServiceOptions) {
    this.repo = options.repo;
    this.workspaceDir = options.workspaceDir;
    this.writeFile = options.writeFile ?? writeFileAtomic;
  }

  get(sampleId: number): Annotation {
    const facts = this.facts(sampleId);
    return this.view(facts, this.repo.row(sampleId));
  }

  /** `origin`: where the edit came from (a review of a run's disagreements), kept in its history entry. */
  set(sampleId: number, patch: AnnotationPatch, expectedVersion?: number, origin?: AnnotationOrigin): Annotation {
    return this.repo.transaction(() => {
      const facts = this.facts(sampleId);
      this.edit(facts, (s) => applyPatch(s, patch, facts.scenario), 'set', expectedVersion, undefined, origin);
      return this.view(facts, this.repo.row(sampleId));
    });
  }

  /** One patch over many samples in one transaction: any refusal changes none of them. */
  bulk(sampleIds: readonly number[], patch: AnnotationPatch): { changed: number; unchanged: number } {
    return this.repo.transaction(() => {
      let changed = 0;
      for (const id of sampleIds) {
        const facts = this.facts(id);
        if (this.edit(facts, (s) => applyPatch(s, patch, facts.scenario), 'bulk')) changed++;
      }
      return { changed, unchanged: sampleIds.length - changed };
    });
  }

  flagTraining(sampleIds: readonly number[], excluded: boolean): { changed: number; unchanged: number } {
    return this.repo.transaction(() => {
      let changed = 0;
      for (const id of sampleIds) {
        if (this.edit(this.facts(id), (s) => ({ ...s, excluded }), 'flagTraining')) changed++;
      }
      return { changed, unchanged: sampleIds.length - changed };
    });
  }

  /**
   * Saves a mask given as PNG bytes of exactly the sample's size. A pixel is "defect" when its
   * first channel is ≥ 128; the file written is gray 0/255 (the PNG as sent when it already is).
   * `origin`: the proposal the mask came from, kept in its history entry.
   */
  async saveMask(sampleId: number, png: Uint8Array, expectedVersion?: number, origin?: AnnotationOrigin): Promise<Annotation> {
    const facts = this.facts(sampleId);
    if (expectedVersion !== undefined) this.checkVersion(this.repo.row(sampleId), expectedVersion, sampleId);
    const bytes = maskFileBytes(png, facts.width, facts.height);
    const rel = join('masks', String(facts.dataset_id), `${sampleId}.${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.png`);
    await this.writeFile(join(this.workspaceDir, rel), bytes);
    return this.repo.transaction(() => {
      this.edit(facts, (s) => ({ ...s, mask: rel, reviewState: s.reviewState === 'unlabelled' ? 'labelled' : s.reviewState }), 'mask', expectedVersion, undefined, origin);
      return this.view(facts, this.repo.row(sampleId));
    });
  }

  history(sampleId: number): AnnotationHistoryEntry[] {
    this.facts(sampleId);
    return this.repo.history(sampleId);
  }

  /** Puts back the old value of every field the entry changed; the revert is itself recorded. */
  revert(historyId: number): Annotation {
    return this.repo.transaction(() => {
      const entry = this.repo.historyEntry(historyId);
      if (!entry) throw new LabError(`no annotation history entry ${historyId}`, 'NotFoundError');
      const facts = this.facts(entry.sampleId);
      const c = entry.change;
      this.edit(
        facts,
        (s) => {
          const next: State = { ...s };
          if (c.label) next.label = c.label[0];
          if (c.defectType) next.defectType = c.defectType[0];
          if (c.reviewState) next.reviewState = c.reviewState[0];
          if (c.mask) next.mask = c.mask[0];
          if (c.excludedFromTraining) next.excluded = c.excludedFromTraining[0];
          if (next.label === 'good') next.defectType = null;
          checkDefect(next, facts.scenario);
          return next;
        },
        'revert',
        undefined,
        historyId,
      );
      return this.view(facts, this.repo.row(entry.sampleId));
    });
  }

  private facts(sampleId: number): SampleFacts {
    const facts = this.repo.facts(sampleId);
    if (!facts) throw new LabError(`no sample with id ${sampleId} in this workspace`, 'NotFoundError');
    return facts;
  }

  private checkVersion(row: AnnotationRow | null, expected: number, sampleId: number): void {
    const actual = row?.version ?? 0;
    if (actual !== expected) {
      throw new LabError(`sample ${sampleId} was changed elsewhere (version ${actual}, this edit expected ${expected}): reload it`, 'ConflictError');
    }
  }

  /** Read-modify-write of one sample; call inside a transaction. Returns false when nothing changed. */
  private edit(
    facts: SampleFacts,
    fn: (s: State) => State,
    kind: AnnotationChange['kind'],
    expectedVersion?: number,
    revertOf?: number,
    origin?: AnnotationOrigin,
  ): boolean {
    const row = this.repo.row(facts.id);
    if (expectedVersion !== undefined) this.checkVersion(row, expectedVersion, facts.id);
    const before = stateOf(facts, row);
    const after = fn(before);
    const change: AnnotationChange = { kind };
    if (before.label !== after.label) change.label = [before.label, after.label];
    if (before.defectType !== after.defectType) change.defectType = [before.defectType, after.defectType];
    if (before.reviewState !== after.reviewState) change.reviewState = [before.reviewState, after.reviewState];
    if (before.mask !== after.mask) change.mask = [before.mask, after.mask];
    if (before.excluded !== after.excluded) change.excludedFromTraining = [before.excluded, after.excluded];
    if (Object.keys(change).length === 1) return false;
    if (revertOf !== undefined) change.revertOf = revertOf;
    if (origin !== undefined) change.origin = origin;
    const at = this.repo.nowIso();
    const version = (row?.version ?? 0) + 1;
    this.repo.upsert({
      sample_id: facts.id,
      label: after.label,
      defect_type: after.defectType,
      review_state: after.reviewState,
      mask_path: after.mask,
      exclude_train: after.excluded ? 1 : 0,
      updated_at: at,
      version,
    });
    this.repo.addHistory(facts.id, at, version, change);
    return true;
  }

  private view(facts: SampleFacts, row: AnnotationRow | null): Annotation {
    const s = stateOf(facts, row);
    const datasetMask = facts.mask_rel_path ? join(facts.root, facts.mask_rel_path) : null;
    return {
      sampleId: facts.id,
      datasetId: facts.dataset_id,
      scenario: facts.scenario,
      split: facts.split,
      imagePath: join(facts.root, facts.rel_path),
      width: facts.width,
      height: facts.height,
      datasetLabel: facts.label,
      label: s.label,
      defectType: s.defectType,
      reviewState: s.reviewState,
      maskPath: s.mask ? join(this.workspaceDir, s.mask) : datasetMask,
      maskEdited: s.mask !== null,
      excludedFromTraining: s.excluded,
      version: row?.version ?? 0,
      updatedAt: row?.updated_at ?? null,
      allowedDefectTypes: allowedDefectTypes(facts.scenario),
    };
  }
}

/**
 * The state of a sample: its row, or what the dataset says when the workspace has no edit (the
 * defect folder becomes the defect type when Table A.1 knows it; review state `unlabelled`, as
 * no one has looked at it here).
 */
export function stateOf(facts: SampleFacts, row: AnnotationRow | null): State {
  if (row) {
    return { label: row.label, defectType: row.defect_type, reviewState: row.review_state, mask: row.mask_path, excluded: row.exclude_train === 1 };
  }
  const good = facts.label === 'good';
  const known = !good && isScenario(facts.scenario) && isDefectAllowed(facts.scenario, facts.label);
  return { label: good ? 'good' : 'anomalous', defectType: known ? facts.label : null, reviewState: 'unlabelled', mask: null, excluded: false };
}

function applyPatch(s: State, patch: AnnotationPatch, scenario: string): State {
  const next: State = { ...s };
  if (patch.defectType !== undefined) next.defectType = patch.defectType;
  if (patch.label !== undefined) next.label = patch.label;
  else if (patch.defectType) next.label = 'anomalous';
  if (next.label === 'good') {
    if (patch.defectType) throw new LabError(`a good sample has no defect type (got ${patch.defectType})`, 'ValidationError');
    next.defectType = null;
  }
  if (patch.excludedFromTraining !== undefined) next.excluded = patch.excludedFromTraining;
  if (patch.reviewState !== undefined) next.reviewState = patch.reviewState;
  else if (s.reviewState === 'unlabelled' && (patch.label !== undefined || patch.defectType !== undefined)) next.reviewState = 'labelled';
  checkDefect(next, scenario);
  return next;
}

function checkDefect(s: State, scenario: string): void {
  if (s.defectType === null) return;
  if (!isScenario(scenario)) {
    throw new LabError(`scenario ${scenario} is not a MIAD scenario: Table A.1 gives it no defect types (got ${s.defectType})`, 'ValidationError');
  }
  if (!isDefectAllowed(scenario, s.defectType)) {
    throw new LabError(
      `defect type ${s.defectType} is not one of ${scenario}'s in Table A.1 (${SCENARIO_INFO[scenario].defects.join(', ')})`,
      'ValidationError',
    );
  }
}

/**
 * A 0/255 mask from PNG bytes: `[height * width]` gray, 255 where the first channel is ≥ 128.
 * Refuses bytes that are not a PNG and a PNG of another size than the image.
 */
export function maskFromPng(png: Uint8Array, width: number, height: number): Uint8Array {
  return threshold(decodeMask(png, width, height));
}

/**
 * The size comes from the header (IHDR) before anything is inflated: a PNG that claims another
 * size than the image is refused at the cost of reading 24 bytes, however large the size it
 * claims (decodePng refuses a second IHDR, so the checked one is the one decoded).
 */
function decodeMask(png: Uint8Array, width: number, height: number): RasterImage {
  try {
    const size = pngSize(png);
    if (size === null) throw new PngError('not a PNG file (bad signature)');
    if (size.width !== width || size.height !== height) {
      throw new LabError(`the mask is ${size.width}×${size.height} but the image is ${width}×${height}`, 'ValidationError');
    }
    return decodePng(png);
  } catch (error) {
    if (error instanceof PngError) throw new LabError(`the mask is not a readable PNG: ${error.message}`, 'ValidationError');
    throw error;
  }
}

/**
 * The bytes to store for a mask sent as PNG bytes. When the PNG already is what the workspace
 * keeps (8-bit gray, every pixel 0 or 255: what the editor's encoder writes), it is stored as
 * sent, after its header has proven it of the right size and the full decode above readable: a
 * save is then a check and a write, with no second encode (bench/mask-save.ts). Any other PNG is
 * thresholded and re-encoded as gray 0/255 with the Up filter, which suits a binary mask's similar
 * rows.
 */
export function maskFileBytes(png: Uint8Array, width: number, height: number): Uint8Array {
  const img = decodeMask(png, width, height);
  if (img.channels === 1) {
    const d = img.data;
    let canonical = true;
    for (let i = 0; i < d.length && canonical; i++) canonical = d[i] === 0 || d[i] === 255;
    if (canonical) return png;
  }
  return encodePng(threshold(img), width, height, 1, { filter: 2 });
}

/** Grey 0/255 by the one mask rule (shared/mask-rule.ts): any colour channel > 0 is anomalous. */
function threshold(img: RasterImage): Uint8Array {
  return binariseMask(img.data, img.width * img.height, img.channels, 255);
}
