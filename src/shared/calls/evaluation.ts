/**
 * Evaluation of predictions made by any tool (`miad-lab evaluate`, core/evaluation/evaluate-predictions.ts):
 * anomaly maps as .npy against a dataset in MVTec layout, every metric overall and per defect type,
 * optionally stored in the open workspace as an external run.
 */
import { z } from 'zod';
import { pathInput, returns } from './define';

/** A sampled curve (core/evaluation/curve.ts): x, y and the score threshold of each point. */
export interface EvaluationCurve {
  x: number[];
  y: number[];
  thresholds: (number | null)[];
}

export interface MetricSet {
  imageAuroc: number | null;
  imageF1Max: number | null;
  imageF1Threshold: number | null;
  pixelAuroc: number | null;
  pixelF1Max: number | null;
  pixelF1Threshold: number | null;
  aupro: number | null;
}

export interface EvaluationScope {
  /** null for the overall scope, else the defect folder name. */
  defect: string | null;
  images: { normal: number; anomalous: number };
  pixels: { normal: number; anomalous: number };
  regions: number;
  metrics: MetricSet;
  curves: { imageRoc: EvaluationCurve | null; imagePr: EvaluationCurve | null; pixelRoc: EvaluationCurve | null; pixelPr: EvaluationCurve | null; pro: EvaluationCurve | null };
}

export interface EvaluationResult {
  scenario: string;
  datasetRoot: string;
  predictionsDir: string;
  resolution: number;
  proLimit: number;
  imageScores: 'scores.json' | 'map maximum';
  testImages: number;
  /** Every test image with its label and score, in evaluation order. */
  images: EvaluatedImage[];
  overall: EvaluationScope;
  perDefect: EvaluationScope[];
  /** Mean over defect types of each metric (over the types where it is defined). */
  meanOverDefects: MetricSet;
  warnings: string[];
  conventions: { mapResize: string; maskResize: string; regions: string; aupro: string };
  seconds: number;
}

export interface EvaluatedImage {
  /** Relative to the scenario folder, with / separators, e.g. `test/crack/000.png`. */
  relPath: string;
  /** The test folder's label: `good` or the defect folder name. */
  label: string;
  /** True when its mask has a pixel > 0. */
  anomalous: boolean;
  score: number;
}

export const evaluatePredictionsInput = z
  .object({
    /** Dataset root: `<root>/<scenario>/test/<label>/*.png`, `<root>/<scenario>/ground_truth/<defect>/<name>_mask.png`. */
    datasetRoot: pathInput,
    scenario: z.string().min(1).max(200),
    /** Folder of predictions: `<dir>/test/<label>/<name>.npy` and optionally `<dir>/scores.json`. */
    predictionsDir: pathInput,
    /** Square evaluation resolution (pixels a side). */
    resolution: z.number().int().min(1).max(8192).default(256),
    /** AUPRO's FPR limit. */
    proLimit: z.number().gt(0).max(1).default(0.3),
    /** Also store the result in the open workspace as a finished external run. */
    store: z
      .object({
        name: z.string().trim().min(1).max(200),
        /** The tool or method that made the maps, as the run records it. */
        method: z.string().trim().min(1).max(100).default('external'),
      })
      .strict()
      .optional(),
  })
  .strict();

export const evaluationCalls = {
  /**
   * Every metric for a scenario's predictions (the result is plain JSON); with `store`, an open
   * workspace is required (checked before the evaluation) and `runId` names the stored run.
   */
  'evaluation:predictions': { input: evaluatePredictionsInput, result: returns<EvaluationResult & { runId: number | null }>() },
} as const;

export const evaluationEvents = {} as const;
