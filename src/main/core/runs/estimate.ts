/**
 * The cost of a run before it starts (issue 13 item 7; METHODS.md section 7 item 7): the method's
 * training FLOPs per image (its definition's `cost`, from the architecture) × the training images
 * × the epochs, divided by the speed of the backend the run will use.
 *
 * The speed is measured, not assumed, wherever this workspace has measured it: every trained run
 * records the throughput it achieved (`summary.train.trainGflops`: images/s × GFLOP per image), so
 * the estimate takes the latest finished run of the same method on the same backend, else of any
 * method on that backend. Only with no such run does it fall back to an order-of-magnitude figure
 * per backend (DESIGN section 6, METHODS.md 0.1), and it says so.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TrainingEstimate } from '../../../shared/calls/runs';
import { getMethod } from '../methods/registry';
import { listRuns } from '../store/runs-repo';
import type { Store } from '../store/store';

/**
 * Effective training GFLOP/s when nothing was measured here. wasm: METHODS.md 0.1 item 1 (forward
 * ~30, weight gradients ~20, input gradients ~4.5 before the override). cpu: DESIGN section 6.
 * webgpu: the low end of DESIGN's 0.7–2.2 TFLOP/s on convolutions. tensorflow(-gpu): not measured
 * by this project; a conservative guess from libtensorflow's class of kernels.
 */
export const ASSUMED_TRAIN_GFLOPS: Record<string, number> = {
  'tensorflow-gpu': 5000,
  webgpu: 700,
  tensorflow: 100,
  wasm: 10,
  cpu: 1,
};

export interface EstimateRequest {
  method: string;
  preset?: string | undefined;
  overrides?: Record<string, unknown> | undefined;
  /** Training images available to the run (before the preset's sampling). */
  availableImages: number;
  /** A unified run: the training images available in each of its scenarios (each is sampled on its own); `availableImages` is then their sum. */
  scenarioImages?: readonly number[] | undefined;
  /** Our backend name the run will use. */
  backend: string;
}

interface Measured {
  runId: number;
  name: string;
  method: string;
  gflops: number;
}

async function measuredSpeeds(store: Store, runDir: (id: number) => string, backend: string): Promise<Measured[]> {
  const runs = listRuns(store)
    .filter((r) => r.kind === 'internal' && r.status === 'done' && r.backend === backend)
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? '') || b.id - a.id)
    .slice(0, 50);
  const out: Measured[] = [];
  for (const run of runs) {
    try {
      const result = JSON.parse(await readFile(join(runDir(run.id), 'result.json'), 'utf8')) as { summary?: { train?: { trainGflops?: unknown } } };
      const g = result.summary?.train?.trainGflops;
      if (typeof g === 'number' && Number.isFinite(g) && g > 0) out.push({ runId: run.id, name: run.name, method: run.method, gflops: g });
    } catch {
      // A run folder without a readable result says nothing about speed.
    }
  }
  return out;
}

export async function estimateTraining(store: Store, runDir: (id: number) => string, request: EstimateRequest): Promise<TrainingEstimate> {
  const definition = getMethod(request.method);
  const { config } = definition.resolveConfig(request.preset ?? definition.defaultPreset, request.overrides ?? {});
  const per = request.scenarioImages ?? [request.availableImages];
  const images = per.reduce((a, n) => a + (config.trainImages === 'all' ? n : Math.min(config.trainImages, n)), 0);
  const cost = definition.cost(config);
  const totalGflop = cost.gflopPerImage * images * cost.epochs;
  const measured = await measuredSpeeds(store, runDir, request.backend);
  const same = measured.find((m) => m.method === request.method) ?? measured[0] ?? null;
  const gflops = same?.gflops ?? ASSUMED_TRAIN_GFLOPS[request.backend] ?? 1;
  const seconds = totalGflop / gflops;
  return {
    method: request.method,
    preset: config.preset,
    backend: request.backend,
    images,
    epochs: cost.epochs,
    gflopPerImage: cost.gflopPerImage,
    totalGflop,
    gflops,
    speedSource: same ? 'measured' : 'assumed',
    measuredBy: same ? { runId: same.runId, name: same.name, method: same.method } : null,
    seconds,
  };
}

/** "about 3 h 20 min", "about 45 s", "about 12 days": the estimate in words. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  const minutes = seconds / 60;
  if (minutes < 90) return `about ${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `about ${Math.floor(hours)} h ${Math.round(minutes - Math.floor(hours) * 60)} min`;
  return `about ${Math.round(hours / 24)} days`;
}

/** One line for the CLI and the launch form. */
export function describeEstimate(e: TrainingEstimate): string {
  const speed = e.speedSource === 'measured' ? `${e.gflops.toFixed(1)} GFLOP/s measured by run #${e.measuredBy!.runId}` : `${e.gflops} GFLOP/s assumed (no run on ${e.backend} measured here yet)`;
  return (
    `${formatDuration(e.seconds)} of training on ${e.backend}: ${e.gflopPerImage.toPrecision(3)} GFLOP per image × ${e.images} images × ${e.epochs} epoch${e.epochs === 1 ? '' : 's'}` +
    ` = ${(e.totalGflop / 1000).toPrecision(3)} TFLOP at ${speed}`
  );
}
