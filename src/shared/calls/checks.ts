/**
 * Calls of the `checks:*` domain (issue 19, item 2): "Check the training set". A check is a job
 * (kind `train-check`): k folds of a scenario's training images, each fold scored by a one-pass
 * model (PatchCore) built from the other folds, so every image gets a score from a model that
 * never saw it. The newest finished check of a scenario is the one shown: its ranking feeds the
 * review queue and the Library's suspicion facet.
 */
import { z } from 'zod';
import type { RunInfo } from '../types';
import { idInput, pathInput, returns } from './define';

/** The Library's suspicion bins, in the order the facet shows them. */
export const SUSPICION_BINS = ['top-1%', 'top-5%', 'rest', 'unchecked'] as const;
export type SuspicionBin = (typeof SUSPICION_BINS)[number];

export const CHECK_FOLDS_DEFAULT = 5;

/** A finished check: its identity. */
export interface CheckInfo {
  /** The check's run (its config, log and result are the run's). */
  runId: number;
  datasetId: number;
  scenario: string;
  folds: number;
  method: string;
  preset: string;
  /** The backbone architecture, or null for a method without one. */
  backbone: string | null;
  /** 'random' (seeded random backbone: a check on it is a demonstration, not pretrained features) or the weights file. */
  weights: string | null;
  /** Training images scored. */
  images: number;
  checkedAt: string;
}

export interface RankedImage {
  sampleId: number;
  relPath: string;
  score: number;
  /** 0 for the highest score. */
  rank: number;
  fold: number;
}

/** The top of a check's ranking (`checks:ranking`). */
export interface CheckRanking {
  check: CheckInfo;
  /** Highest score first. */
  items: RankedImage[];
  /** How the top was chosen. */
  top: number;
}

/** A sample's place in the shown check of its scenario (the sample viewer shows it). */
export interface SampleSuspicion {
  runId: number;
  score: number;
  rank: number;
  of: number;
  fold: number;
  bin: Exclude<SuspicionBin, 'unchecked'>;
  checkedAt: string;
}

const scenarioName = z.string().min(1).max(200);

export const checksCalls = {
  /** Starts a check as a job; the run's progress and end come as `runs:*` events. */
  'checks:start': {
    input: z
      .object({
        scenario: scenarioName,
        /** Absent: the only dataset holding the scenario (refused when several do). */
        datasetId: idInput.optional(),
        folds: z.number().int().min(2).max(100).default(CHECK_FOLDS_DEFAULT),
        /** PatchCore's preset (full, paper, fast); its default when absent. */
        preset: z.string().min(1).max(100).optional(),
        overrides: z.record(z.string(), z.unknown()).optional(),
        weightsFile: pathInput.optional(),
        seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
        name: z.string().min(1).max(200).optional(),
      })
      .strict(),
    result: returns<RunInfo>(),
  },
  /** The shown check of each scenario (the newest finished one). */
  'checks:list': { input: z.object({}).strict(), result: returns<CheckInfo[]>() },
  /**
   * The top of a check's ranking: the `top` highest scores, or those in the top `percent` %; by
   * default the top 5 %. `runId` names a check; absent, the shown check of `scenario`.
   */
  'checks:ranking': {
    input: z
      .object({
        runId: idInput.optional(),
        scenario: scenarioName.optional(),
        datasetId: idInput.optional(),
        top: z.number().int().min(1).max(1_000_000).optional(),
        percent: z.number().gt(0).max(100).optional(),
      })
      .strict()
      .refine((i) => i.runId !== undefined || i.scenario !== undefined, { message: 'give runId or scenario' })
      .refine((i) => i.top === undefined || i.percent === undefined, { message: 'give top or percent, not both' }),
    result: returns<CheckRanking>(),
  },
  /** A sample's score in the shown check of its scenario; null when none scored it. */
  'checks:sample': { input: z.object({ sampleId: idInput }).strict(), result: returns<SampleSuspicion | null>() },
} as const;

export const checksEvents = {} as const;
