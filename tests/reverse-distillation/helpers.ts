// Shared helpers of the Reverse Distillation tests: the PyTorch reference runner, seeded teacher-shaped
// features, .npy in and out. Relative errors and layouts come from the Auto-Encoder's helpers.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { RD_ARCH, type ReverseDistillationConfig } from '../../src/main/core/methods/reverse-distillation/config';
import { runPython } from '../../scripts/parity/reference';

export { maxAbs, randomImages, readNpy, relError, toTorch, writeImages, type Arr } from '../autoencoder/helpers';

export const RD_SCRIPT = fileURLToPath(new URL('../../scripts/reference/reverse_distillation.py', import.meta.url));

/** Runs scripts/reference/reverse_distillation.py; without torch it rejects with the install hint (exit status 3). */
export async function runRdReference(args: string[], timeoutMs = 600_000): Promise<string> {
  return (await runPython([RD_SCRIPT, ...args], timeoutMs)).stdout;
}

/** ‖ours − ref‖₂ / ‖ref‖₂ (the bar for gradients); ref all zero: ‖ours‖₂. */
export function relL2(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = (ours[i] as number) - (ref[i] as number);
    diff += d * d;
    norm += (ref[i] as number) ** 2;
  }
  return norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
}

/** The reference's architecture options for a config. */
export function archArgs(c: Pick<ReverseDistillationConfig, 'backbone' | 'bottleneckWidth' | 'bottleneckConv4'>): string[] {
  return ['--backbone', c.backbone, '--bottleneck-width', String(c.bottleneckWidth), ...(c.bottleneckConv4 ? ['--conv4'] : [])];
}

export interface LevelData {
  data: Float32Array;
  /** NHWC */
  shape: [number, number, number, number];
}

/**
 * Teacher-shaped features for `n` images of side `size`: layer1..3 at 1/4, 1/8, 1/16 with the
 * backbone's channels, uniform in [0, 1) (non-negative, as a ReLU's outputs), seeded.
 */
export function randomFeatures(c: Pick<ReverseDistillationConfig, 'backbone'>, n: number, size: number, seed: number): LevelData[] {
  const rand = mulberry32(seed);
  return RD_ARCH[c.backbone].channels.map((ch, i) => {
    const side = size / (4 << i);
    const shape: [number, number, number, number] = [n, side, side, ch];
    return { data: Float32Array.from({ length: n * side * side * ch }, () => rand()), shape };
  });
}

/** Writes features as DIR/teacher.layer{1,2,3}.npy (NHWC), the reference's --features layout. */
export async function writeFeatures(dir: string, levels: readonly LevelData[]): Promise<void> {
  await Promise.all(levels.map((l, i) => writeFile(join(dir, `teacher.layer${i + 1}.npy`), encodeNpy(l.data, l.shape))));
}
