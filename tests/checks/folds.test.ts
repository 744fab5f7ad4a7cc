/** The k-fold split of a training-set check: deterministic per seed, a partition, balanced, refusing bad k. */
import { describe, expect, it } from 'vitest';
import { assignFolds, foldSplit } from '../../src/main/core/checks/folds';

describe('assignFolds', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect([...assignFolds(37, 5, 3)]).toEqual([...assignFolds(37, 5, 3)]);
    expect([...assignFolds(37, 5, 3)]).not.toEqual([...assignFolds(37, 5, 4)]);
  });

  it('puts every image in exactly one fold, fold sizes within one of each other', () => {
    for (const [n, k] of [[10, 2], [37, 5], [5, 5], [101, 7]] as const) {
      const folds = assignFolds(n, k, 0);
      const seen = new Set<number>();
      const sizes: number[] = [];
      for (let f = 0; f < k; f++) {
        const { heldOut, bank } = foldSplit(folds, f);
        sizes.push(heldOut.length);
        expect(heldOut.length + bank.length).toBe(n);
        for (const i of heldOut) {
          expect(seen.has(i)).toBe(false);
          expect(bank).not.toContain(i);
          seen.add(i);
        }
      }
      expect(seen.size).toBe(n);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('refuses fewer than 2 folds and more folds than images', () => {
    expect(() => assignFolds(10, 1, 0)).toThrow(/at least 2 folds/);
    expect(() => assignFolds(4, 5, 0)).toThrow(/5 folds need at least 5 training images; the scenario has 4/);
  });
});
