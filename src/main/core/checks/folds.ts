/**
 * The k-fold split of a training-set check (issue 19): every image in exactly one fold, folds of
 * sizes that differ by at most one, drawn by a seeded shuffle so the same images and seed always
 * give the same folds (a check can be repeated and compared). Pure: no tensors, no store.
 */
import { LabError } from '../../../shared/errors';
import { mulberry32 } from '../engine/random';

/**
 * @param n images, in their stored order
 * @param k folds, 2 ≤ k ≤ n
 * @returns the fold (0 … k−1) of each image, [n]
 */
export function assignFolds(n: number, k: number, seed: number): Int32Array {
  if (!Number.isInteger(k) || k < 2) throw new LabError(`a check needs at least 2 folds, got ${k}`, 'ValidationError');
  if (k > n) throw new LabError(`${k} folds need at least ${k} training images; the scenario has ${n}`, 'ValidationError');
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const fold = new Int32Array(n);
  // Dealt round the shuffled order: fold sizes are ⌈n/k⌉ or ⌊n/k⌋.
  for (let p = 0; p < n; p++) fold[order[p]!] = p % k;
  return fold;
}

/** The images of fold `f` (held out) and of every other fold (the bank's), as indexes. */
export function foldSplit(folds: Int32Array, f: number): { heldOut: number[]; bank: number[] } {
  const heldOut: number[] = [];
  const bank: number[] = [];
  for (let i = 0; i < folds.length; i++) (folds[i] === f ? heldOut : bank).push(i);
  return { heldOut, bank };
}
