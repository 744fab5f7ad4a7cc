/**
 * A method's presets and their resolution with the user's overrides, one rule for every method:
 * each preset lists every setting with its value and where that value comes from (the MIAD
 * appendix, an official code base, anomalib, PyTorch's default, or 'ours'); overrides are checked
 * by the method's schema (unknown keys refused) and replace values, whose source becomes
 * 'override'. Pure: the main process reads presets without loading tensor code.
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { LabError } from '../../../shared/errors';

/** Every setting of config C but its preset name, as [value, source]. */
export type SourcedPreset<C> = { [K in Exclude<keyof C, 'preset'>]: [C[K], string] };

/**
 * The preset's values with validated overrides applied; throws LabError('ValidationError') naming
 * the method (`title`), the preset or the offending keys.
 */
export function resolvePreset<C extends { preset: string }>(
  title: string,
  presets: Readonly<Record<string, SourcedPreset<C>>>,
  preset: string,
  overrides: unknown,
  schema: z.ZodType,
): { config: C; sources: Record<Exclude<keyof C, 'preset'>, string> } {
  const base = Object.prototype.hasOwnProperty.call(presets, preset) ? presets[preset] : undefined;
  if (!base) throw new LabError(`unknown ${title} preset ${JSON.stringify(preset)}; choose one of ${Object.keys(presets).join(', ')}`, 'ValidationError');
  const parsed = schema.safeParse(overrides ?? {});
  if (!parsed.success) {
    throw new LabError(`${title} overrides: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, 'ValidationError');
  }
  const given = (parsed.data ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { preset };
  const sources: Record<string, string> = {};
  for (const [key, [value, source]] of Object.entries(base) as [string, [unknown, string]][]) {
    const o = given[key];
    config[key] = o !== undefined ? o : value;
    sources[key] = o !== undefined ? 'override' : source;
  }
  return { config: config as C, sources: sources as Record<Exclude<keyof C, 'preset'>, string> };
}

/**
 * The override checks of the settings every trained method has (their meaning: harness/trained-method.ts
 * and train-loop.ts), one rule for all; a method spreads them into its schema beside its own settings.
 */
export const trainedSettingOverrides = {
  batchSize: z.number().int().min(1).max(512),
  trainImages: z.union([z.literal('all'), z.number().int().min(1)]),
  seed: z.number().int().min(0).max(2 ** 31 - 1),
  evalResolution: z.number().int().min(0).max(4096),
  checkpointMinutes: z.number().gt(0).max(24 * 60),
  checkpointSteps: z.number().int().min(0),
};

/** A weights file a run starts from or evaluates: an absolute path (a job runs in another folder), or '' for none. */
export const weightsFileOverride = z
  .string()
  .max(4096)
  .refine((v) => v === '' || isAbsolute(v), { message: 'must be an absolute path to a .safetensors file (or empty for none)' });
