/**
 * A benchmark cell as it travels through the queue: a versioned, self-contained description of
 * one run (method × preset × overrides × scenarios × seed on a dataset bundle), validated where it
 * enters a worker before anything runs.
 *
 * No local path crosses the wire: the dataset is named by the sha256 of its bundle (transfer/
 * dataset-bundle.ts), which the worker fetches and checks; a pretrained backbone's weights file by
 * its sha256 and its file name alone. The `fingerprint` is the sha256 of the
 * canonical JSON of everything that decides the result (not the uid or the time), and the BullMQ
 * job id is `cell-<fingerprint>`, so the same matrix enqueued twice adds nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { LabError } from '../../../shared/errors';
import { getMethod } from '../methods/registry';
import { jobScenarios } from '../methods/harness/method-job';
import { canonicalJson } from '../transfer/manifest';

const SHA256 = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex');
const NAME = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');

export const cellPayloadSchema = z
  .object({
    v: z.literal(1),
    /** Unique per enqueued cell; the merged run's remote uid. */
    cellUid: z.string().regex(/^[A-Za-z0-9-]{8,64}$/),
    fingerprint: SHA256,
    method: NAME,
    preset: NAME,
    overrides: z.record(z.string().max(100), z.unknown()),
    scenarios: z.array(NAME).min(1).max(64),
    seed: z.number().int().min(0).max(2 ** 31 - 1),
    dataset: z.object({ sha256: SHA256, name: z.string().max(200).optional() }).strict(),
    /** The backbone's weights file (absent: seeded random weights), fetched by sha256 and kept under its name. */
    weights: z
      .object({ sha256: SHA256, name: NAME.refine((n) => n !== '.' && n !== '..', 'a file name, not . or ..') })
      .strict()
      .optional(),
    codeVersion: z.string().min(1).max(100),
    createdAt: z.string().datetime(),
  })
  .strict();
export type CellPayload = z.infer<typeof cellPayloadSchema>;

/** What a coordinator asks for; the payload adds the uid, fingerprint, code version and time. */
export interface CellSpec {
  method: string;
  preset: string;
  overrides?: Record<string, unknown>;
  scenarios: string[];
  seed?: number;
  /** The coordinator's pretrained weights file for the cell's backbone; it travels as a blob (its path never does). */
  weightsFile?: string;
}

export function cellFingerprint(p: Pick<CellPayload, 'method' | 'preset' | 'overrides' | 'scenarios' | 'seed' | 'dataset' | 'codeVersion'> & { weights?: CellPayload['weights'] }): string {
  const decisive = { method: p.method, preset: p.preset, overrides: p.overrides, scenarios: p.scenarios, seed: p.seed, dataset: p.dataset.sha256, ...(p.weights ? { weights: p.weights.sha256 } : {}), codeVersion: p.codeVersion };
  return createHash('sha256').update(canonicalJson(decisive)).digest('hex');
}

/** The BullMQ job id of a cell: one job per fingerprint (no `:`, never an integer). */
export function cellJobId(fingerprint: string): string {
  return `cell-${fingerprint}`;
}

export function makeCellPayload(spec: CellSpec, dataset: CellPayload['dataset'], codeVersion: string, now = new Date(), weights?: CellPayload['weights']): CellPayload {
  const base = { method: spec.method, preset: spec.preset, overrides: spec.overrides ?? {}, scenarios: spec.scenarios, seed: spec.seed ?? 0, dataset, ...(weights ? { weights } : {}), codeVersion };
  return parseCellPayload({ v: 1, cellUid: randomUUID(), fingerprint: cellFingerprint(base), createdAt: now.toISOString(), ...base });
}

/** The method config a cell runs with: preset, overrides and the seed, checked by the method's own resolver. */
export function cellMethodConfig(payload: Pick<CellPayload, 'method' | 'preset' | 'overrides' | 'scenarios' | 'seed'>): { preset: string; overrides: Record<string, unknown>; scenarios: string[] } {
  const definition = getMethod(payload.method);
  if (!definition.presets.includes(payload.preset)) {
    throw new LabError(`${definition.title} has no preset ${JSON.stringify(payload.preset)} (presets: ${definition.presets.join(', ')})`, 'ValidationError');
  }
  const { config } = definition.resolveConfig(payload.preset, {});
  const overrides = { ...payload.overrides };
  if ('seed' in (config as object)) overrides['seed'] = payload.seed;
  else if (payload.seed !== 0) throw new LabError(`${definition.title} takes no seed: a cell of it has seed 0`, 'ValidationError');
  definition.resolveConfig(payload.preset, overrides);
  return { preset: payload.preset, overrides, scenarios: jobScenarios(definition, { scenarios: payload.scenarios }) };
}

/**
 * A payload from the wire, whole: its shape (zod), its fingerprint (recomputed), its method in the
 * registry and its config accepted by the method's resolver. Throws a LabError('ValidationError')
 * saying what is wrong; the worker fails such a cell without retrying it.
 */
export function parseCellPayload(raw: unknown): CellPayload {
  const parsed = cellPayloadSchema.safeParse(raw);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`)
      .join('; ');
    throw new LabError(`a queued cell is not valid: ${detail}`, 'ValidationError');
  }
  const payload = parsed.data;
  if (cellFingerprint(payload) !== payload.fingerprint) throw new LabError('a queued cell is not valid: its fingerprint does not match its content', 'ValidationError');
  try {
    cellMethodConfig(payload);
  } catch (error) {
    throw new LabError(`a queued cell is not valid: ${error instanceof Error ? error.message : String(error)}`, 'ValidationError');
  }
  return payload;
}
