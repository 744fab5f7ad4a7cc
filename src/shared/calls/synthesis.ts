/**
 * The preview of a method's synthetic training samples (DRAEM's anomaly synthesis), call
 * `runs:synthesisPreview`: its input schema and what it returns. Plain data: the samples are PNG
 * files under the workspace, shown through the image protocol.
 */
import { z } from 'zod';
import { idInput } from './define';

export const synthesisPreviewInput = z
  .object({
    /** The method whose synthesis is shown; only 'draem' synthesises its training samples. */
    method: z.literal('draem').default('draem'),
    datasetId: idInput,
    scenario: z.string().min(1).max(200),
    preset: z.string().min(1).max(100).optional(),
    /** The launch form's overrides, checked by the method's schema (anomalySourceDir, inputSize, seed…). */
    overrides: z.record(z.string(), z.unknown()).optional(),
    /** Samples to show. */
    count: z.number().int().min(1).max(32).default(8),
  })
  .strict();

export interface SkippedTexture {
  /** Relative to the texture folder. */
  file: string;
  reason: string;
}

/** Where a run's anomaly textures come from, as the run records it (synthesis.json) and the preview shows it. */
export type AnomalySourceInfo =
  | { kind: 'procedural'; seed: number; pool: number; size: number }
  | { kind: 'folder'; dir: string; files: number; usable: number; grayscale: number; skipped: SkippedTexture[]; skippedCount: number; size: number };

export interface SynthesisPreviewSample {
  /** The training image it was made from (absolute). */
  source: string;
  /** Absolute PNG paths: the normal image (the reconstruction target), the augmented texture, the network's input, the mask. */
  image: string;
  texture: string;
  augmented: string;
  mask: string;
  /** false: the sample is the plain image with an empty mask (about half of them, as in training). */
  anomalous: boolean;
  /** Share of the pixels inside the mask. */
  maskFraction: number;
  /** The texture augmenters applied, in order. */
  augmenters: string[];
  /** The texture's opacity is 1 − beta. */
  beta: number;
  /** Perlin lattice rows × columns. */
  lattice: [number, number];
  /** Degrees the normal image was rotated by, or null. */
  rotation: number | null;
}

export interface SynthesisPreview {
  size: number;
  seed: number;
  anomalySource: AnomalySourceInfo;
  samples: SynthesisPreviewSample[];
}
