/**
 * THE list of the lab's methods (DESIGN section 2a). Everything that names methods derives from
 * it: the job kinds (jobs/registry.ts), `runs:presets`, `runs:kinds` (which kinds train a method),
 * `miad-lab train --method` and its presets, the launch form and the cost estimate. Adding a
 * method is one folder with its definition and one line here. Definitions are light (no tensor
 * code); each loads its tensor half lazily in the job process.
 */
import type { MethodPreset } from '../../../shared/calls/runs';
import { LabError } from '../../../shared/errors';
import type { AnyMethodDefinition } from './method';
import { autoencoderMethod } from './autoencoder/method';
import { draemMethod } from './draem/method';
import { fastflowMethod } from './fastflow/method';
import { patchcoreMethod } from './patchcore/method';
import { reverseDistillationMethod } from './reverse-distillation/method';
import { uniadMethod } from './uniad/method';

export const METHODS: readonly AnyMethodDefinition[] = [patchcoreMethod, autoencoderMethod, reverseDistillationMethod, fastflowMethod, draemMethod, uniadMethod];

export function methodNames(): string[] {
  return METHODS.map((m) => m.name);
}

/** The method called `name`; throws LabError('ValidationError') naming the known ones. */
export function getMethod(name: string): AnyMethodDefinition {
  const entry = METHODS.find((m) => m.name === name);
  if (!entry) throw new LabError(`unknown method ${JSON.stringify(name)}; available: ${methodNames().join(', ')}`, 'ValidationError');
  return entry;
}

/** A method's presets for the launch form: every value with its source, and what the preset is for. */
export function methodPresets(method: string): MethodPreset[] {
  const definition = METHODS.find((m) => m.name === method);
  if (!definition) throw new LabError(`no presets for method ${JSON.stringify(method)}; methods: ${methodNames().join(', ')}`, 'NotFoundError');
  return definition.presets.map((name) => {
    const { config, sources } = definition.resolveConfig(name, {});
    const values = Object.keys(sources).map((key) => ({ key, value: (config as Record<string, unknown>)[key], source: sources[key]! }));
    return { name, note: definition.presetNotes[name] ?? '', values };
  });
}
