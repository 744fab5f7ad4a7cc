/**
 * Calls that compare saved runs the way the paper does (issue #8): the paper's table (methods ×
 * scenarios), the per-defect-type table grouped by scenario or by uncontrolled factor, overlaid
 * curves and score distributions, the qualitative grid of Figure A.1, and exports of all of them.
 * Any run compares, our own and external ones (`miad-lab evaluate --workspace`), and a method
 * added later appears here without a change: everything is read from run_metrics, run_curves,
 * run_predictions and the run's maps.
 */
import { z } from 'zod';
import type { RunInfo } from '../types';
import { idInput, returns } from './define';

/** The three headline metrics of the paper's Table 2, in its column order. */
export const PAPER_METRICS = ['image_auroc', 'pixel_auroc', 'aupro'] as const;
export type PaperMetric = (typeof PAPER_METRICS)[number];

export const runIdsInput = z.array(idInput).min(1, 'pick at least one run').max(64, 'at most 64 runs at once');

export const compareInput = z
  .object({
    runIds: runIdsInput,
    /**
     * `method`: one row per method, runs of one method on different scenarios merged (when two runs
     * of a method cover the same scenario the newest finished one wins, and the table says so);
     * `run`: one row per run.
     */
    rowsBy: z.enum(['method', 'run']).default('run'),
  })
  .strict();

/** One cell of a table: a value in [0, 1], or null where the run has none (not run, or undefined). */
export interface CompareCell {
  value: number | null;
  /** The best of its column (highest; ties all marked). */
  best: boolean;
  /** When the value is a mean over seeds (a benchmark's): their sample standard deviation and count. */
  std?: number;
  n?: number;
}

export interface CompareRowHead {
  /** Stable key: the method name (rowsBy method) or `run:<id>`. */
  key: string;
  label: string;
  method: string;
  runIds: number[];
  /** Any of its runs used random backbone weights: every view says so. */
  randomInit: boolean;
  external: boolean;
  /** Its run trained ONE model over several scenarios (a unified run, UniAD's setting); absent: false. */
  unified?: boolean;
}

/** The paper's table: one block of scenario columns per metric, plus each row's mean over the scenarios it has. */
export interface PaperTable {
  scenarios: string[];
  metrics: PaperMetric[];
  rows: (CompareRowHead & {
    /** cells[metric][scenario index]; then `mean[metric]`. */
    cells: Record<PaperMetric, CompareCell[]>;
    mean: Record<PaperMetric, CompareCell>;
  })[];
  notes: string[];
}

/** The per-defect-type table: 14 rows (Table A.1 order), one column per compared row head and metric. */
export interface DefectTable {
  metrics: PaperMetric[];
  heads: CompareRowHead[];
  rows: {
    defectType: string;
    scenario: string;
    /** The uncontrolled factors of this type (taxonomy.ts). */
    factors: string[];
    /** cells[metric][head index]; here `best` marks the highest across the heads (this table's columns are the heads). */
    cells: Record<PaperMetric, CompareCell[]>;
  }[];
  /** Means over the defect types of each group: by scenario and by factor. */
  groups: {
    by: 'scenario' | 'factor';
    key: string;
    cells: Record<PaperMetric, CompareCell[]>;
  }[];
  /** What this table leaves out (defect types outside Table A.1, scenarios no run covers). */
  notes: string[];
}

export interface CompareTables {
  runs: RunInfo[];
  paper: PaperTable;
  defects: DefectTable;
}

/** Curves of the compared runs, one per run and scope, overlaid in one chart per curve kind. */
export interface CompareCurves {
  curves: {
    runId: number;
    scenario: string;
    /** '' overall, else a defect type. */
    defectType: string;
    curve: 'image_roc' | 'pixel_roc' | 'pro';
    x: number[];
    y: number[];
  }[];
  /** Image scores per run: normal ones and anomalous ones by defect type (raw, not binned). */
  scores: {
    runId: number;
    scenario: string;
    normal: number[];
    defects: { defectType: string; scores: number[] }[];
  }[];
}

export const gridInput = z
  .object({
    runIds: runIdsInput,
    scenario: z.string().min(1).max(100),
    /** Rows picked by hand (relative paths under the scenario, `test/<type>/<name>`); else picked automatically. */
    picks: z.array(z.string().min(1).max(1000)).max(200).optional(),
    /** Automatic picks: this many test images per defect type (the highest-scoring ones of the first run). */
    perDefect: z.number().int().min(1).max(4).default(2),
    /** Longest side of each map cell, in pixels. */
    cellSize: z.number().int().min(16).max(512).default(128),
  })
  .strict();

/** One run's anomaly map of one test image, resized to the cell and quantised to 8 bits. */
export interface GridCell {
  width: number;
  height: number;
  /** base64 of width × height bytes, row-major; byte b stands for lo + b / 255 × (hi − lo). */
  data: string;
  lo: number;
  hi: number;
}

export interface GridRunHead {
  runId: number;
  label: string;
  method: string;
  randomInit: boolean;
  /** The run's own display scale (evaluation/post-process runDisplayScale); {0, 1} when it has no maps. */
  scale: { lo: number; hi: number };
  /** False for a run without anomaly maps (an external run, a failed job): its cells are all null. compare:grid always sets it. */
  hasMaps?: boolean;
  /** The run's pixel F1-max threshold for this scenario: the slider's starting point; null if unknown. */
  pixelThreshold: number | null;
}

export interface GridRow {
  relPath: string;
  defectType: string;
  imagePath: string | null;
  /** The ground-truth mask the app reads (an edited one takes precedence); null for normal images. */
  maskPath: string | null;
  /** Aligned with `runs`; null where that run has no map of this image. */
  cells: (GridCell | null)[];
}

export interface GridData {
  scenario: string;
  runs: GridRunHead[];
  /** The scale shared across runs (the union of their display scales). */
  shared: { lo: number; hi: number };
  rows: GridRow[];
}

export const EXPORT_FORMATS = ['csv', 'json', 'latex'] as const;

export const exportInput = compareInput.extend({
  table: z.enum(['paper', 'defects']).default('paper'),
  format: z.enum(EXPORT_FORMATS),
});

export interface ExportedText {
  filename: string;
  mime: string;
  text: string;
}

export const compareCalls = {
  'compare:tables': { input: compareInput, result: returns<CompareTables>() },
  'compare:curves': { input: z.object({ runIds: runIdsInput }).strict(), result: returns<CompareCurves>() },
  'compare:grid': { input: gridInput, result: returns<GridData>() },
  /** A table as CSV, JSON or LaTeX (booktabs), the same text `miad-lab compare` writes. */
  'compare:export': { input: exportInput, result: returns<ExportedText>() },
} as const;

export const compareEvents = {} as const;
