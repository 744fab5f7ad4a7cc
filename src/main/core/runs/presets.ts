/**
 * The presets of the trainable methods, each value with its source, for the launch form: the user
 * sees what a preset will run (and why each value is what it is) before starting it.
 */
import type { MethodPreset } from '../../../shared/calls/runs';
import { LabError } from '../../../shared/errors';
import { PATCHCORE_PRESET_NOTES, PATCHCORE_PRESETS, resolvePatchCoreConfig } from '../methods/patchcore/config';

/** Methods the Runs area can launch, by job kind name. */
export const TRAINABLE_METHODS = ['patchcore'] as const;

export function methodPresets(method: string): MethodPreset[] {
  if (method !== 'patchcore') throw new LabError(`no presets for method ${JSON.stringify(method)}; trainable: ${TRAINABLE_METHODS.join(', ')}`, 'NotFoundError');
  return PATCHCORE_PRESETS.map((name) => {
    const { config, sources } = resolvePatchCoreConfig(name);
    const values = (Object.keys(sources) as (keyof typeof sources)[]).map((key) => ({ key, value: config[key] as unknown, source: sources[key] }));
    return { name, note: PATCHCORE_PRESET_NOTES[name], values };
  });
}
