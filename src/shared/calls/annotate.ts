/**
 * Calls of the `annotate:*` domain (issue 4): the workspace's own label, defect type, review state
 * and mask of a sample, edited beside the dataset (whose files and `samples` rows never change),
 * with a per-sample history that can be reverted. Defect types are checked against Table A.1 in
 * the core, whatever door the call came through; the schemas here only bound the shapes.
 */
import { z } from 'zod';
import { idInput, pathInput, returns } from './define';
import { librarySelectionSchema } from './library';

export const REVIEW_STATES = ['unlabelled', 'labelled', 'reviewed', 'rejected'] as const;
export type ReviewState = (typeof REVIEW_STATES)[number];

export const ANNOTATION_LABELS = ['good', 'anomalous'] as const;
export type AnnotationLabel = (typeof ANNOTATION_LABELS)[number];

/**
 * Largest PNG one `annotate:saveMask` may carry, whatever the door: the editor's 0/255 gray mask
 * is a few KB at 1024×1024 and stays far below this even at 4096×4096 with fine detail. The HTTP
 * door's body limit is made from it (CALL_BODY_MAX_BYTES in ../http.ts); the IPC door has no other.
 */
export const MASK_PNG_MAX_BYTES = 4 << 20;
/** The same limit as base64 characters (what the call's input carries). */
export const MASK_PNG_BASE64_MAX = 4 * Math.ceil(MASK_PNG_MAX_BYTES / 3);
/** Most samples one `annotate:bulk` / `annotate:flagTraining` call may change. */
export const ANNOTATE_BULK_MAX = 200_000;

/** The annotation of one sample as the app reads it: the workspace's edit, or the dataset's label. */
export interface Annotation {
  sampleId: number;
  datasetId: number;
  scenario: string;
  split: 'train' | 'test';
  /** Absolute path of the image, for fileUrl(). */
  imagePath: string;
  width: number;
  height: number;
  /** The label the dataset's files give (`good` or the defect folder name); never edited. */
  datasetLabel: string;
  label: AnnotationLabel;
  /** Table A.1 name (folder style), or null. */
  defectType: string | null;
  reviewState: ReviewState;
  /** Absolute path of the mask to show: the edited one when there is one, else the dataset's. */
  maskPath: string | null;
  maskEdited: boolean;
  /** True when the sample is left out of training sets. */
  excludedFromTraining: boolean;
  /** 0 while the workspace has no edit for the sample; each edit adds one. */
  version: number;
  updatedAt: string | null;
  /** The defect types Table A.1 allows for this sample's scenario (empty outside MIAD). */
  allowedDefectTypes: string[];
}

/**
 * Where an edit came from when it was not drawn by hand (issue 19): a mask proposed from a run's
 * anomaly map (with the settings that made it, and whether the user refined it before saving), or a
 * label changed while reviewing a run's disagreements with the labels (its false positives and
 * false negatives at the image F1-max threshold).
 */
export type AnnotationOrigin =
  | {
      kind: 'proposal';
      runId: number;
      threshold: number;
      minArea: number;
      fillHoles: boolean;
      /** Present when the proposal was snapped to the image's edges (absent: not snapped). */
      snap?: ProposalSnap;
      edited: boolean;
    }
  | { kind: 'review'; runId: number; outcome: 'fp' | 'fn' }
  /** A decision from a training-set check's review queue: flagged as suspicious (out of training), or kept as good. */
  | { kind: 'check'; runId: number; decision: 'suspicious' | 'keep' };

/** One field's move in a history entry: [old, new]. */
export type FieldChange<T> = [T, T];

export interface AnnotationChange {
  kind: 'set' | 'bulk' | 'mask' | 'revert' | 'flagTraining';
  label?: FieldChange<AnnotationLabel>;
  defectType?: FieldChange<string | null>;
  reviewState?: FieldChange<ReviewState>;
  /** Mask paths relative to the workspace (null: the dataset's own mask). */
  mask?: FieldChange<string | null>;
  excludedFromTraining?: FieldChange<boolean>;
  /** For `revert`: the history entry it undid. */
  revertOf?: number;
  /** The proposal or review the edit came from; absent for a hand edit. */
  origin?: AnnotationOrigin;
}

export interface AnnotationHistoryEntry {
  id: number;
  sampleId: number;
  at: string;
  /** The annotation version this change produced. */
  version: number;
  change: AnnotationChange;
}

/** Snapping a proposal to the image's colour edges (core/annotate/mask-proposal.ts, snapToEdges). */
export interface ProposalSnap {
  /** Pixels on each side of the proposal's boundary that may move. */
  band: number;
}

/** A mask proposed for a sample from one run's anomaly map (`annotate:proposeMask`). */
export interface MaskProposal {
  sampleId: number;
  runId: number;
  width: number;
  height: number;
  /** The threshold used (map values ≥ it are foreground). */
  threshold: number;
  /** The run's pixel F1-max threshold for the sample's scenario, when it has one. */
  runThreshold: number | null;
  minArea: number;
  fillHoles: boolean;
  /** The snapping asked for, or null (not snapped). */
  snap: ProposalSnap | null;
  /** Pixels snapping moved to the other side of the boundary (0 when not snapped). */
  snapMoved: number;
  /** Range of the run's map of this image, for a threshold slider. */
  mapLo: number;
  mapHi: number;
  /** Foreground pixels; components kept and dropped below the minimum area. */
  area: number;
  components: number;
  dropped: number;
  /** The proposal as a gray 0/255 PNG of the sample's size, base64 (what `annotate:saveMask` takes). */
  png: string;
}

/** The samples of a selection a run can propose masks for (`annotate:proposalQueue`). */
export interface ProposalQueue {
  runId: number;
  /** The run's scenarios the queued samples are in. */
  scenarios: string[];
  /** Sample ids, in the Library's default order. */
  sampleIds: number[];
  /** Selected samples left out, by reason. */
  skipped: { good: number; otherScenario: number; notInRun: number };
}

/** A test image a run called wrongly at its image F1-max threshold (`annotate:runDisagreements`). */
export interface DisagreementItem {
  sampleId: number;
  relPath: string;
  /** The label the run evaluated against. */
  label: string;
  score: number;
  outcome: 'fp' | 'fn';
}

export interface RunDisagreements {
  runId: number;
  scenario: string;
  threshold: number;
  items: DisagreementItem[];
  /** Disagreements whose image this workspace does not hold as a sample (another dataset copy). */
  unmatched: number;
}

/** Most pixels of a minimum area a proposal accepts (a 4096² image). */
export const PROPOSAL_MIN_AREA_MAX = 4096 * 4096;

/** Bounds of a snap band (pixels on each side of a proposal's boundary). */
export const SNAP_BAND_MIN = 1;
export const SNAP_BAND_MAX = 16;
/** The band the editor and the bulk queue offer first. */
export const SNAP_BAND_DEFAULT = 4;

const snapSchema = z.object({ band: z.number().int().min(SNAP_BAND_MIN).max(SNAP_BAND_MAX) }).strict();

/** Why the export left a sample out (see src/main/core/annotate/export-dataset.ts). */
export const EXPORT_SKIP_REASONS = ['rejected', 'excluded-from-training', 'anomalous-in-train'] as const;
export type ExportSkipReason = (typeof EXPORT_SKIP_REASONS)[number];

/** What `annotate:exportDataset` wrote: the manifest's totals, for the dialog to show. */
export interface ExportSummary {
  /** The folder written (absolute). */
  outDir: string;
  /** `<outDir>/manifest.json`: every file with its source sample, every sample left out and why. */
  manifestPath: string;
  /** The one scenario exported, or null for all. */
  scenario: string | null;
  /** Images written. */
  samples: number;
  /** Masks written (edited or the dataset's own). */
  masks: number;
  /** Images whose exported label folder differs from the dataset's label. */
  changedLabels: number;
  /** Masks taken from the workspace's edits rather than the dataset. */
  editedMasks: number;
  /** Samples left out, in all and by reason. */
  excluded: number;
  excludedBy: Record<ExportSkipReason, number>;
  /** Per scenario, images per `<split>/<label>` folder. */
  counts: Record<string, Record<string, number>>;
}

const defectName = z.string().min(1).max(100);

const originSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('proposal'),
      runId: idInput,
      threshold: z.number(),
      minArea: z.number().int().min(0).max(PROPOSAL_MIN_AREA_MAX),
      fillHoles: z.boolean(),
      snap: snapSchema.optional(),
      edited: z.boolean(),
    })
    .strict(),
  z.object({ kind: z.literal('review'), runId: idInput, outcome: z.enum(['fp', 'fn']) }).strict(),
  z.object({ kind: z.literal('check'), runId: idInput, decision: z.enum(['suspicious', 'keep']) }).strict(),
]);

/** The fields one edit may set; absent fields stay as they are. */
const editFields = {
  label: z.enum(ANNOTATION_LABELS).optional(),
  defectType: defectName.nullable().optional(),
  reviewState: z.enum(REVIEW_STATES).optional(),
};

export const annotateCalls = {
  'annotate:get': {
    input: z.object({ sampleId: idInput }).strict(),
    result: returns<Annotation>(),
  },
  /** Refused with a ConflictError when `expectedVersion` is given and the sample moved on. */
  'annotate:set': {
    input: z
      .object({
        sampleId: idInput,
        ...editFields,
        /** Leaves the sample out of training sets (true) or puts it back (false). */
        excludedFromTraining: z.boolean().optional(),
        expectedVersion: z.number().int().min(0).optional(),
        origin: originSchema.optional(),
      })
      .strict(),
    result: returns<Annotation>(),
  },
  /**
   * A mask as PNG (any bit depth the decoder reads; a pixel is "defect" when its first channel is
   * ≥ 128), exactly the image's size. Stored as a gray 0/255 PNG in the workspace.
   */
  'annotate:saveMask': {
    input: z
      .object({
        sampleId: idInput,
        png: z.string().min(1).max(MASK_PNG_BASE64_MAX).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'png must be base64'),
        expectedVersion: z.number().int().min(0).optional(),
        /** Set when the mask is an accepted (possibly refined) proposal: recorded in the history entry. */
        origin: originSchema.optional(),
      })
      .strict(),
    result: returns<Annotation>(),
  },
  'annotate:history': {
    input: z.object({ sampleId: idInput }).strict(),
    result: returns<AnnotationHistoryEntry[]>(),
  },
  /** Puts back the old values of one history entry's fields (itself a new history entry). */
  'annotate:revert': {
    input: z.object({ historyId: idInput }).strict(),
    result: returns<Annotation>(),
  },
  /** One edit applied to every sample of a selection, in one transaction (all or none). */
  'annotate:bulk': {
    input: z.object({ selection: librarySelectionSchema, ...editFields }).strict(),
    result: returns<{ changed: number; unchanged: number }>(),
  },
  'annotate:flagTraining': {
    input: z.object({ selection: librarySelectionSchema, excluded: z.boolean() }).strict(),
    result: returns<{ changed: number; unchanged: number }>(),
  },
  /**
   * A mask proposed for one test sample from a run's anomaly map (resized to the sample as the
   * run's evaluation resizes maps): thresholded at `threshold`, or at the run's pixel F1-max
   * threshold when none is given; components under `minArea` pixels dropped; holes filled.
   * Nothing is saved: accepting it is `annotate:saveMask` with its origin.
   */
  'annotate:proposeMask': {
    input: z
      .object({
        sampleId: idInput,
        runId: idInput,
        threshold: z.number().optional(),
        minArea: z.number().int().min(0).max(PROPOSAL_MIN_AREA_MAX).default(0),
        fillHoles: z.boolean().default(true),
        /** Snap the proposal to the image's colour edges within this band; absent: not snapped. */
        snap: snapSchema.optional(),
      })
      .strict(),
    result: returns<MaskProposal>(),
  },
  /** The anomalous test samples of a selection that a run has maps for: a review queue of proposals. */
  'annotate:proposalQueue': {
    input: z.object({ selection: librarySelectionSchema, runId: idInput }).strict(),
    result: returns<ProposalQueue>(),
  },
  /** A run's false positives and false negatives at its image F1-max threshold, as samples to review. */
  'annotate:runDisagreements': {
    input: z.object({ runId: idInput }).strict(),
    result: returns<RunDisagreements>(),
  },
  /**
   * The curated dataset in MVTec AD / MIAD layout with `manifest.json`, as `miad-lab
   * export-dataset` writes it. `outDir` must be absolute and new or empty (the core refuses
   * anything else before writing).
   */
  'annotate:exportDataset': {
    // Any scenario the workspace holds (an MVTec AD category too); one it lacks is refused by name.
    input: z.object({ outDir: pathInput, scenario: z.string().min(1).max(200).optional() }).strict(),
    result: returns<ExportSummary>(),
  },
} as const;

export const annotateEvents = {} as const;
