/**
 * A trained method's own weights file (`studentWeights`, `flowWeights`, `modelWeights`: a lab run's
 * model.safetensors or a converted reference state dict), the part every trained method checks the
 * same way: the header read before anything is built, a file of another method refused naming the
 * method that wrote it, and the seeded model loaded strictly from it. What a method checks beyond
 * that (its widths, sizes, layer counts) stays with the method.
 */
import { readFileSync } from 'node:fs';
import { LabError } from '../../../../shared/errors';
import type { Module } from '../../engine/nn/module';
import { decodeSafetensors, readSafetensorsHeader, type SafetensorsHeader } from '../../engine/safetensors';

/**
 * The header of `path`, given as `setting`; refuses an unreadable file, and one that has no tensor
 * under one of `modules` (top-level names such as `decoder`), saying it is not a `what`, which of
 * them it lacks (and `hint`, in brackets), and which method wrote it when the file says.
 */
export async function methodWeightsHeader(setting: string, path: string, what: string, modules: readonly string[], hint = ''): Promise<SafetensorsHeader> {
  let header: SafetensorsHeader;
  try {
    header = await readSafetensorsHeader(path);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LabError(/ENOENT|EACCES|EISDIR/.test(message) ? `${setting}: cannot read ${path}: ${message}` : `${setting}: ${message}`, 'ValidationError');
  }
  const names = [...header.tensors.keys()];
  const missing = modules.filter((m) => !names.some((n) => n.startsWith(`${m}.`)));
  if (missing.length > 0) {
    const by = header.metadata['method'] ? `; it was written by method ${header.metadata['method']}` : '';
    throw new LabError(`${setting} ${path} is not a ${what}: it has no ${missing.map((m) => `${m}.*`).join(', ')} tensors${hint ? ` (${hint})` : ''}${by}`, 'ValidationError');
  }
  return header;
}

/** `build()`'s seeded model, loaded strictly from `path` when one is given; disposed when loading fails. */
export function buildWithWeights<M extends Module>(build: () => M, path: string): M {
  const model = build();
  try {
    if (path) {
      const bytes = readFileSync(path);
      const { tensors } = decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
      model.loadStateDict(tensors, { source: path });
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
