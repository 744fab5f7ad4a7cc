/**
 * The Library's multi-selection as a value: explicit ids, or "everything in a filter minus some
 * exceptions". Select-all over 105,000 samples is then one object with an empty exception set,
 * and ctrl-clicking a few tiles off it costs a few ids. Pure functions returning new values, so
 * the UI can keep it in `$state.raw` and tests need no DOM.
 */
import type { LibraryFilter, LibrarySelection } from '../../../../shared/calls/library';

export type Selection =
  | { mode: 'ids'; ids: ReadonlySet<number> }
  | { mode: 'filter'; filter: LibraryFilter; except: ReadonlySet<number> };

export const EMPTY_SELECTION: Selection = { mode: 'ids', ids: new Set() };

/** Selects every sample of `filter`. */
export function selectAll(filter: LibraryFilter): Selection {
  return { mode: 'filter', filter, except: new Set() };
}

/** Whether `id` (a sample shown under the selection's filter, for filter mode) is selected. */
export function isSelected(selection: Selection, id: number): boolean {
  return selection.mode === 'ids' ? selection.ids.has(id) : !selection.except.has(id);
}

/** How many samples are selected, given the total of the filter shown now. */
export function selectedCount(selection: Selection, filterTotal: number): number {
  return selection.mode === 'ids' ? selection.ids.size : Math.max(0, filterTotal - selection.except.size);
}

/** Ctrl/cmd-click: flips one sample. */
export function toggle(selection: Selection, id: number): Selection {
  if (selection.mode === 'ids') {
    const ids = new Set(selection.ids);
    if (!ids.delete(id)) ids.add(id);
    return { mode: 'ids', ids };
  }
  const except = new Set(selection.except);
  if (!except.delete(id)) except.add(id);
  return { ...selection, except };
}

/** Plain click: only this sample. */
export function only(id: number): Selection {
  return { mode: 'ids', ids: new Set([id]) };
}

/**
 * Shift-click: adds the ids of a range (resolved by the caller, possibly from the server for a
 * long range) to the selection; `replace` makes the range the whole selection.
 */
export function addRange(selection: Selection, rangeIds: readonly number[], replace: boolean): Selection {
  if (replace) return { mode: 'ids', ids: new Set(rangeIds) };
  if (selection.mode === 'ids') {
    const ids = new Set(selection.ids);
    for (const id of rangeIds) ids.add(id);
    return { mode: 'ids', ids };
  }
  const except = new Set(selection.except);
  for (const id of rangeIds) except.delete(id);
  return { ...selection, except };
}

/**
 * The selection after the filter changed: explicit ids stay (they are still those samples);
 * "all in the filter" meant the old filter, so it is dropped rather than silently re-aimed.
 */
export function afterFilterChange(selection: Selection): Selection {
  return selection.mode === 'ids' ? selection : EMPTY_SELECTION;
}

/** The selection as the `library:selection` call takes it. */
export function toWire(selection: Selection): LibrarySelection {
  return selection.mode === 'ids'
    ? { mode: 'ids', ids: [...selection.ids] }
    : { mode: 'filter', filter: selection.filter, except: [...selection.except] };
}
