/** The Library's selection model: ids, or "filter minus exceptions", and the shortcuts over it. */
import { describe, expect, it } from 'vitest';
import {
  addRange,
  afterFilterChange,
  EMPTY_SELECTION,
  isSelected,
  only,
  selectAll,
  selectedCount,
  toggle,
  toWire,
} from '../../src/renderer/src/lib/library/selection';

describe('library selection', () => {
  it('click, ctrl-click and shift-click over explicit ids', () => {
    let s = only(5);
    expect(selectedCount(s, 100)).toBe(1);
    s = toggle(s, 7);
    s = toggle(s, 5);
    expect([isSelected(s, 5), isSelected(s, 7)]).toEqual([false, true]);
    s = addRange(s, [1, 2, 3], false);
    expect(selectedCount(s, 100)).toBe(4);
    expect(toWire(addRange(s, [9, 10], true))).toEqual({ mode: 'ids', ids: [9, 10] });
  });

  it('select all in the filter costs nothing, exceptions are counted off it', () => {
    const filter = { kind: ['anomalous' as const] };
    let s = selectAll(filter);
    expect(selectedCount(s, 105_000)).toBe(105_000);
    expect(isSelected(s, 123)).toBe(true);
    s = toggle(toggle(s, 123), 456);
    expect(selectedCount(s, 105_000)).toBe(104_998);
    expect(isSelected(s, 123)).toBe(false);
    // Shift-clicking a range back in removes those exceptions.
    s = addRange(s, [123], false);
    expect(selectedCount(s, 105_000)).toBe(104_999);
    expect(toWire(s)).toEqual({ mode: 'filter', filter, except: [456] });
  });

  it('a filter change keeps explicit ids and drops "all in the old filter"', () => {
    const ids = only(3);
    expect(afterFilterChange(ids)).toBe(ids);
    expect(afterFilterChange(selectAll({}))).toBe(EMPTY_SELECTION);
    // Values are never mutated in place (the UI keeps them in $state.raw).
    const before = only(1);
    toggle(before, 2);
    expect(toWire(before)).toEqual({ mode: 'ids', ids: [1] });
  });
});
