/**
 * The benchmark's table pools seeds: rows by method, each cell the mean of the method's runs on
 * that scenario with their sample standard deviation, where the compare view's own rows-by-method
 * table shows only the newest run.
 */
import { describe, expect, it } from 'vitest';
import { buildCompareTables } from '../../src/main/core/compare/tables';
import type { RunDetail } from '../../src/shared/types';

function run(id: number, method: string, scenario: string, imageAuroc: number): RunDetail {
  return {
    id,
    name: `${method} #${id}`,
    kind: 'internal',
    method,
    scenarios: [scenario],
    status: 'done',
    error: null,
    backend: 'wasm',
    weights: null,
    randomInit: false,
    createdAt: '2026-01-01T00:00:00Z',
    finishedAt: `2026-01-0${id}T00:00:00Z`,
    tags: [],
    notes: '',
    config: {},
    datasetRoot: null,
    metrics: [{ scenario, defectType: '', metric: 'image_auroc', value: imageAuroc, threshold: null }],
    startedAt: null,
    device: null,
    jobKind: method,
  };
}

describe('a table pooled over seeds', () => {
  const runs = [run(1, 'patchcore', 'nut_and_bolt', 0.8), run(2, 'patchcore', 'nut_and_bolt', 0.9), run(3, 'patchcore', 'nut_and_bolt', 0.7), run(4, 'autoencoder', 'nut_and_bolt', 0.6)];

  it('shows each cell as the mean ± sample std of its seeds, and one seed as its value alone', () => {
    const paper = buildCompareTables(runs, 'method', { poolSeeds: true }).paper;
    const pc = paper.rows.find((r) => r.key === 'patchcore')!;
    expect(pc.runIds).toEqual([1, 2, 3]);
    const c = pc.cells.image_auroc[0]!;
    expect(c.value).toBeCloseTo(0.8, 12);
    expect(c.std).toBeCloseTo(0.1, 12);
    expect(c.n).toBe(3);
    expect(c.best).toBe(true);
    const ae = paper.rows.find((r) => r.key === 'autoencoder')!.cells.image_auroc[0]!;
    expect(ae).toEqual({ value: 0.6, best: false });
    expect(paper.notes.some((n) => /left out/.test(n))).toBe(false);
  });

  it('without pooling the newest run wins, as the compare view has it', () => {
    const c = buildCompareTables(runs, 'method').paper.rows.find((r) => r.key === 'patchcore')!.cells.image_auroc[0]!;
    expect(c).toEqual({ value: 0.7, best: true });
  });
});
