/**
 * The job protocol: the messages the main process and a job process exchange, both ways, with
 * zod schemas. Every message is validated where it arrives, because a worker is a separate
 * program that may be buggy, half-dead or out of memory: a malformed message fails that job,
 * never the app. Only plain JSON data crosses (DESIGN section 2).
 */
import { z } from 'zod';

/** What the main process hands a job process once it says it is ready. */
export const jobSpecSchema = z
  .object({
    /** The run's id; 0 for a standalone job that has no run row (standalone.ts). */
    runId: z.number().int().nonnegative(),
    kind: z.string().min(1),
    /** The validated config as the run records it. */
    config: z.unknown(),
    /** What the kind resolved in the main process (image list, dataset root): not stored in the run row. */
    input: z.unknown(),
    workspaceDir: z.string().min(1),
    runDir: z.string().min(1),
    /** A tfjs backend name to force; the best available one when absent. */
    backend: z.string().optional(),
  })
  .strict();
export type JobSpec = z.infer<typeof jobSpecSchema>;

export const toWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), job: jobSpecSchema }).strict(),
  z.object({ type: z.literal('cancel') }).strict(),
]);
export type ToWorker = z.infer<typeof toWorkerSchema>;

const finite = z.number().finite();
const count = z.number().int().nonnegative();

export const jobProgressSchema = z
  .object({
    phase: z.string().min(1).max(200),
    step: count,
    total: count,
    loss: finite.optional(),
    imagesPerSec: finite.nonnegative().optional(),
    etaSeconds: finite.nonnegative().optional(),
    message: z.string().max(2000).optional(),
  })
  .strict();
export type JobProgress = z.infer<typeof jobProgressSchema>;

export const jobMetricSchema = z
  .object({
    scenario: z.string(),
    defectType: z.string(),
    metric: z.string().min(1),
    value: finite.nullable(),
    threshold: finite.nullable(),
  })
  .strict();

export const jobResultSchema = z
  .object({
    metrics: z.array(jobMetricSchema).optional(),
    /** Files the job wrote, relative to its run folder. */
    outputs: z.array(z.string()).optional(),
    summary: z.record(z.string(), z.unknown()).optional(),
    /** Chart curves the job computed (down-sampled), stored in run_curves when the run turns done. */
    curves: z
      .array(
        z
          .object({
            scenario: z.string(),
            defectType: z.string(),
            curve: z.string().min(1).max(100),
            x: z.array(finite).max(100_000),
            y: z.array(finite).max(100_000),
          })
          .strict(),
      )
      .max(10_000)
      .optional(),
  })
  .strict();
export type JobResult = z.infer<typeof jobResultSchema>;

export const fromWorkerSchema = z.discriminatedUnion('type', [
  /** The process is up and listening: the main process may send `start`. */
  z.object({ type: z.literal('ready'), pid: z.number().int() }).strict(),
  /** The tfjs backend the job runs on (our name, tfjs' name) and a short device description. */
  z.object({ type: z.literal('backend'), name: z.string().min(1), tfName: z.string(), device: z.string() }).strict(),
  z.object({ type: z.literal('progress'), progress: jobProgressSchema }).strict(),
  z
    .object({ type: z.literal('series'), points: z.array(z.object({ name: z.string().min(1).max(200), step: count, value: finite }).strict()).max(10_000) })
    .strict(),
  /** A checkpoint is on disk (already renamed into place) for this step. */
  z.object({ type: z.literal('checkpoint'), step: count }).strict(),
  z.object({ type: z.literal('done'), result: jobResultSchema }).strict(),
  z.object({ type: z.literal('failed'), error: z.object({ name: z.string(), message: z.string() }).strict() }).strict(),
  z.object({ type: z.literal('cancelled') }).strict(),
]);
export type FromWorker = z.infer<typeof fromWorkerSchema>;

/** Parses a message from a worker; returns a one-line reason instead of throwing when it is malformed. */
export function parseFromWorker(raw: unknown): { ok: true; message: FromWorker } | { ok: false; reason: string } {
  const parsed = fromWorkerSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const detail = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'message'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: detail };
}

export function parseToWorker(raw: unknown): { ok: true; message: ToWorker } | { ok: false; reason: string } {
  const parsed = toWorkerSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ') };
}
