import { describe, expect, it } from 'vitest';
import type { RunTableRow } from '../../src/shared/calls/runs';
import {
  EMPTY_FILTER,
  filterOptions,
  filterRows,
  formatDiffValue,
  isFilterEmpty,
  mergeRun,
  parseTags,
  sortRows,
  visibleRange,
  type RunFilter,
} from '../../src/renderer/src/lib/runs/runs-table';

function row(id: number, over: Partial<RunTableRow> = {}): RunTableRow {
  return {
    id,
    name: `run ${id}`,
    kind: 'internal',
    method: 'patchcore',
    scenarios: ['nut_and_bolt'],
    status: 'done',
    error: null,
    backend: 'wasm',
    weights: 'random',
    randomInit: true,
    createdAt: `2026-11-${String(10 + id).padStart(2, '0')}T10:00:00.000Z`,
    finishedAt: null,
    tags: [],
    notes: '',
    startedAt: null,
    durationSec: id * 10,
    preset: 'fast',
    resumable: false,
    metrics: { image_auroc: 0.5 + id / 100, pixel_auroc: 0.9 - id / 100 },
    ...over,
  };
}

const filter = (over: Partial<RunFilter>): RunFilter => ({ ...structuredClone(EMPTY_FILTER), ...over });

describe('runs table: sorting', () => {
  const rows = [row(1), row(2, { metrics: {} }), row(3), row(4, { name: 'Alpha', durationSec: null })];

  it('sorts by a metric both ways, runs without it last either way', () => {
    expect(sortRows(rows, { key: 'image_auroc', dir: 'desc' }).map((r) => r.id)).toEqual([4, 3, 1, 2]);
    expect(sortRows(rows, { key: 'image_auroc', dir: 'asc' }).map((r) => r.id)).toEqual([1, 3, 4, 2]);
    expect(sortRows(rows, { key: 'durationSec', dir: 'asc' }).map((r) => r.id)).toEqual([1, 2, 3, 4]);
    expect(sortRows(rows, { key: 'durationSec', dir: 'desc' }).map((r) => r.id)).toEqual([3, 2, 1, 4]);
  });

  it('sorts text case-insensitively and breaks ties newest first', () => {
    expect(sortRows(rows, { key: 'name', dir: 'asc' }).map((r) => r.id)).toEqual([4, 1, 2, 3]);
    expect(sortRows(rows, { key: 'method', dir: 'asc' }).map((r) => r.id)).toEqual([4, 3, 2, 1]);
  });

  it('does not change its input', () => {
    const copy = rows.map((r) => r.id);
    sortRows(rows, { key: 'id', dir: 'asc' });
    expect(rows.map((r) => r.id)).toEqual(copy);
  });
});

describe('runs table: filter', () => {
  const rows = [
    row(1, { method: 'patchcore', backend: 'wasm', tags: ['baseline'] }),
    row(2, { method: 'draem', scenarios: ['metal_welding', 'wind_turbine'], status: 'failed', backend: null, notes: 'OOM on the GPU' }),
    row(3, { method: 'patchcore', backend: 'cpu', kind: 'external' }),
  ];

  it('matches each select', () => {
    expect(filterRows(rows, filter({ method: 'patchcore' })).map((r) => r.id)).toEqual([1, 3]);
    expect(filterRows(rows, filter({ scenario: 'wind_turbine' })).map((r) => r.id)).toEqual([2]);
    expect(filterRows(rows, filter({ status: 'failed' })).map((r) => r.id)).toEqual([2]);
    expect(filterRows(rows, filter({ backend: 'cpu' })).map((r) => r.id)).toEqual([3]);
  });

  it('bounds the creation day inclusively', () => {
    expect(filterRows(rows, filter({ from: '2026-11-12' })).map((r) => r.id)).toEqual([2, 3]);
    expect(filterRows(rows, filter({ from: '2026-11-12', to: '2026-11-12' })).map((r) => r.id)).toEqual([2]);
  });

  it('searches name, tags, notes and the #id', () => {
    expect(filterRows(rows, filter({ text: 'BASELINE' })).map((r) => r.id)).toEqual([1]);
    expect(filterRows(rows, filter({ text: 'oom' })).map((r) => r.id)).toEqual([2]);
    expect(filterRows(rows, filter({ text: '#3' })).map((r) => r.id)).toEqual([3]);
    expect(filterRows(rows, filter({ text: 'external' })).map((r) => r.id)).toEqual([3]);
  });

  it('keeps runs at or above a metric threshold and drops those without the metric', () => {
    const f = filter({});
    f.min.image_auroc = 0.52;
    expect(filterRows(rows, f).map((r) => r.id)).toEqual([2, 3]);
    const g = filter({});
    g.min.aupro = 0;
    expect(filterRows(rows, g)).toEqual([]);
    expect(isFilterEmpty(g)).toBe(false);
    expect(isFilterEmpty(filter({ text: '  ' }))).toBe(true);
  });

  it('offers the distinct values present', () => {
    expect(filterOptions(rows)).toEqual({
      methods: ['draem', 'patchcore'],
      scenarios: ['metal_welding', 'nut_and_bolt', 'wind_turbine'],
      statuses: ['done', 'failed'],
      backends: ['cpu', 'wasm'],
    });
  });
});

describe('runs table: rows, events and edits', () => {
  it('renders only the rows in view plus the overscan', () => {
    expect(visibleRange(0, 460, 46, 1000, 6)).toEqual([0, 16]);
    expect(visibleRange(46 * 500, 460, 46, 1000, 6)).toEqual([494, 516]);
    expect(visibleRange(46 * 995, 460, 46, 1000, 6)).toEqual([989, 1000]);
    expect(visibleRange(0, 460, 46, 0, 6)).toEqual([0, 0]);
  });

  it('merges a run event into its row and keeps the metrics; a new run goes first', () => {
    const rows = [row(2), row(1)];
    const { metrics: _m, startedAt: _s, durationSec: _d, preset: _p, ...info } = row(1, { status: 'failed', tags: ['x'] });
    const merged = mergeRun(rows, info);
    expect(merged[1]).toMatchObject({ id: 1, status: 'failed', tags: ['x'], preset: 'fast' });
    expect(merged[1]!.metrics['image_auroc']).toBeCloseTo(0.51);
    expect(rows[1]!.status).toBe('done');
    const added = mergeRun(rows, { ...info, id: 7 });
    expect(added.map((r) => r.id)).toEqual([7, 2, 1]);
    expect(added[0]!.metrics).toEqual({});
  });

  it('parses typed tags: trimmed, no duplicates, at most 20', () => {
    expect(parseTags(' a, b ,,a, c', ['b'])).toEqual(['b', 'a', 'c']);
    expect(parseTags(Array.from({ length: 30 }, (_, i) => `t${i}`).join(','))).toHaveLength(20);
  });

  it('shows diff values', () => {
    expect(formatDiffValue(undefined)).toBe('(absent)');
    expect(formatDiffValue('wasm')).toBe('wasm');
    expect(formatDiffValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatDiffValue(null)).toBe('null');
  });
});

describe('runs table: selection', () => {
  it('checks and unchecks ids, keeps them sorted and unique, and drops deleted runs', async () => {
    const { withIds, keepExisting, idSet } = await import('../../src/renderer/src/lib/runs/runs-table');
    expect(withIds([3], [1, 3, 2], true)).toEqual([1, 2, 3]);
    expect(withIds([1, 2, 3], [2, 9], false)).toEqual([1, 3]);
    expect(keepExisting([1, 2, 5], [{ id: 5 }, { id: 1 }])).toEqual([1, 5]);
    expect(idSet([4, 7]).has(7)).toBe(true);
  });
});

describe('runs table: recycled rows', () => {
  it('never gives two rows of a window the same slot, at any scroll position and viewport', async () => {
    const { slotCount, visibleRange, windowSlots } = await import('../../src/renderer/src/lib/runs/runs-table');
    const rows = Array.from({ length: 1000 }, (_, i) => i);
    for (const vh of [0, 100, 460, 901]) {
      const slots = slotCount(vh, 46);
      for (let top = 0; top < 46 * 1000; top += 17) {
        const [first, last] = visibleRange(top, vh, 46, rows.length);
        const w = windowSlots(rows, first, last, slots);
        expect(new Set(w.map((x) => x.slot)).size).toBe(w.length);
        expect(w.map((x) => x.item).sort((a, b) => a - b)).toEqual(rows.slice(first, last));
      }
    }
  });

  it('keeps slot order, so rows that stay keep their place in the DOM', async () => {
    const { windowSlots } = await import('../../src/renderer/src/lib/runs/runs-table');
    const w = windowSlots(['a', 'b', 'c', 'd', 'e'], 3, 5, 4);
    expect(w).toEqual([
      { item: 'e', index: 4, slot: 0 },
      { item: 'd', index: 3, slot: 3 },
    ]);
  });
});
