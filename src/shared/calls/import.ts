/**
 * Calls and events of the `import:*` domain, and the plain objects they carry: the scan that shows
 * what a folder holds before anything is written, the folder-to-defect-type mapping the user
 * completes, and the import report (counts per scenario, problems by kind with example paths) that
 * the store keeps for later viewing.
 */
import { z } from 'zod';
import { idInput, pathInput, returns } from './define';
import type { DatasetKind } from '../types';

/** Phases of an import or rescan, in order; `done` is sent once with the final counts. */
export type ImportPhase = 'scanning' | 'hashing' | 'writing' | 'done';

export interface ImportProgress {
  phase: ImportPhase;
  done: number;
  /** 0 while the total is not known yet (the walk of the folder tree). */
  total: number;
}

/**
 * The most pixels an image may have (width × height from its header) for the importer to decode it:
 * 8192 × 8192 ('ours'; MIAD's images are far smaller). A header claiming more is reported as
 * `too-large` before anything is decoded.
 */
export const IMPORT_MAX_PIXELS = 8192 * 8192;

/**
 * Every problem the importer reports. Image files that cannot be used at all (`zero-byte`,
 * `not-image`, `corrupt-image`, `truncated-image`, `too-large`, `unreadable-file`) are skipped; samples
 * with the other per-file problems are imported and carry the code in `samples.issues`.
 */
export const IMPORT_PROBLEMS = {
  'zero-byte': 'zero-byte file (skipped)',
  'not-image': 'not a PNG or JPEG image (skipped)',
  'corrupt-image': 'corrupt image: bad header, checksum or image data (skipped)',
  'truncated-image': 'truncated image (skipped)',
  'too-large': 'image of more than 8192 × 8192 pixels (skipped)',
  'unreadable-file': 'file could not be read (skipped)',
  'mask-missing': 'defect image without a ground-truth mask (imported, flagged)',
  'mask-size-mismatch': 'mask of another size than its image (imported, flagged)',
  'mask-unreadable': 'mask is not a readable PNG/JPEG (imported without mask, flagged)',
  'mask-orphan': 'mask without an image (ignored)',
  'leak': 'the same image content in train and test (imported, flagged)',
  'duplicate': 'the same image content more than once in one split (imported, flagged)',
  'unreadable-folder': 'folder could not be read (its files are missing from the import)',
  'symlink-loop': 'symbolic link loop (not followed)',
  'symlink-outside': 'symbolic link to a file or folder outside the dataset folder (not followed)',
  'unexpected-entry': 'outside the train/test/ground_truth layout (not imported)',
  'skipped-folder': 'defect folder mapped to "skip" by the user (not imported)',
} as const;

export type ImportProblemKind = keyof typeof IMPORT_PROBLEMS;

/** Problem codes a sample row can carry in `samples.issues`. */
export type SampleIssue = Extract<ImportProblemKind, 'mask-missing' | 'mask-size-mismatch' | 'mask-unreadable' | 'leak' | 'duplicate'>;

export interface ImportProblemExample {
  /** Relative to the dataset root, forward slashes. */
  path: string;
  detail?: string;
}

export interface ImportProblemGroup {
  kind: ImportProblemKind;
  count: number;
  /** The first examples (at most IMPORT_EXAMPLES_PER_KIND), sorted by path. */
  examples: ImportProblemExample[];
}

export const IMPORT_EXAMPLES_PER_KIND = 25;

export type { DatasetKind };

/** How one scenario folder was found. */
export interface ScenarioLayout {
  /** Canonical name: the MIAD scenario id, the MVTec AD category, or the folder name. */
  scenario: string;
  /** The scenario root relative to the dataset root (`nut_and_bolt/nut_and_bolt` when nested). */
  dir: string;
  nested: boolean;
  family: 'miad' | 'mvtec' | 'other';
}

/** One defect folder of one scenario (under test/ or ground_truth/) and where it goes. */
export interface DefectFolder {
  scenario: string;
  /** The folder name as found on disk. */
  folder: string;
  /** Images under test/<folder>. */
  images: number;
  /** Masks under ground_truth/<folder>. */
  masks: number;
  /** Label the samples get, `skip`, or null while unmapped. */
  target: string | null;
  /** exact: already a Table A.1 name; alias: recognised spelling; user: mapped by hand; kept: non-MIAD scenario, name kept as is. */
  how: 'exact' | 'alias' | 'user' | 'kept' | null;
  /** Table A.1 types the folder may map to (MIAD scenarios); null when any name is kept. */
  allowed: string[] | null;
}

/** Mapping the user supplies: `<scenario>/<folder>` → defect type name or `skip`. */
export type FolderMapping = Record<string, string>;

export const SKIP = 'skip';

export function mappingKey(scenario: string, folder: string): string {
  return `${scenario}/${folder}`;
}

/** What a folder holds, found by walking it (no file is read): the first step of the import dialog. */
export interface ImportScan {
  root: string;
  kind: DatasetKind;
  /** Name the dataset gets unless the user gives another. */
  suggestedName: string;
  scenarios: (ScenarioLayout & { train: number; test: number; masks: number })[];
  folders: DefectFolder[];
  /** Folders that still need a mapping before the import can run. */
  unmapped: DefectFolder[];
  images: number;
  masks: number;
  /** Problems the walk alone finds (unreadable folders, symlink loops, non-image files…). */
  problems: ImportProblemGroup[];
  /** Set when the folder is already imported in this workspace (rescan it instead). */
  existingDatasetId: number | null;
}

export interface ScenarioImportCounts {
  scenario: string;
  dir: string;
  /** Images per label (`good` or the defect type) and split, as imported. */
  train: Record<string, number>;
  test: Record<string, number>;
  masks: number;
  /** Images of this scenario skipped as unusable. */
  skipped: number;
}

export interface ImportChanges {
  added: number;
  removed: number;
  /** Content changed (size/mtime differed and the hash too). */
  modified: number;
  /** Size or mtime changed but the bytes are the same. */
  touched: number;
  unchanged: number;
  /** Rows whose label, mask, issues or size changed without the image file changing (a mask, a mapping). */
  relabelled: number;
}

export interface ImportReport {
  kind: 'import' | 'rescan';
  datasetId: number;
  name: string;
  root: string;
  datasetKind: DatasetKind;
  createdAt: string;
  seconds: number;
  /** Image files found, samples in the dataset afterwards, images skipped, masks attached. */
  totals: { images: number; samples: number; skipped: number; masks: number; bytes: number };
  scenarios: ScenarioImportCounts[];
  problems: ImportProblemGroup[];
  mapping: FolderMapping;
  /** Present for rescans. */
  changes: ImportChanges | null;
}

export interface ImportReportEntry {
  id: number;
  datasetId: number;
  kind: 'import' | 'rescan';
  createdAt: string;
  samples: number;
  problems: number;
}

export interface ImportResult {
  datasetId: number;
  reportId: number;
  report: ImportReport;
}

const mappingInput = z
  .record(z.string().min(1).max(400), z.string().min(1).max(200))
  .refine((m) => Object.keys(m).length <= 10_000, 'too many mapping entries')
  .optional();

export const importCalls = {
  /** What a folder holds and how its defect folders map; works with no workspace open (it reads the folder only). */
  'import:scan': {
    input: z.object({ root: pathInput, mapping: mappingInput }).strict(),
    result: returns<ImportScan>(),
  },
  'import:run': {
    input: z.object({ root: pathInput, name: z.string().trim().min(1).max(200).optional(), mapping: mappingInput }).strict(),
    result: returns<ImportResult>(),
  },
  'import:rescan': {
    input: z.object({ datasetId: idInput, mapping: mappingInput }).strict(),
    result: returns<ImportResult>(),
  },
  'import:reports': {
    input: z.object({ datasetId: idInput }).strict(),
    result: returns<ImportReportEntry[]>(),
  },
  'import:report': {
    input: z.object({ reportId: idInput.optional(), datasetId: idInput.optional() }).strict()
      .refine((v) => v.reportId !== undefined || v.datasetId !== undefined, 'give reportId or datasetId'),
    result: returns<{ entry: ImportReportEntry; report: ImportReport }>(),
  },
} as const;

export const importEvents = {
  'import:progress': returns<ImportProgress>(),
} as const;
