/**
 * State of the Library view: the filter and sort, the live facet counts, the pages of rows the
 * grid has fetched, thumbnail paths, the selection and the sample the viewer shows. Rows and
 * thumbnails live in plain Maps outside the reactive graph (105,000 proxied objects would cost
 * more than the grid itself); a version counter in `$state` tells the grid when they changed.
 */
import type { LibraryFacet, LibraryFacets, LibraryFilter, LibraryRow, LibrarySort } from '../../../../shared/calls/library';
import type { DatasetInfo } from '../../../../shared/types';
import { lab } from '../api';
import { describeError } from '../app/errors';
import { afterFilterChange, EMPTY_SELECTION, type Selection } from './selection';

/** Rows per `library:query` call; the grid asks for whole pages. */
export const PAGE_SIZE = 200;

export const library = $state({
  workspaceDir: null as string | null,
  datasets: [] as DatasetInfo[],
  filter: {} as LibraryFilter,
  sort: { key: 'default', desc: false } as LibrarySort,
  /** Samples matching the filter (null until the first answer). */
  total: null as number | null,
  facets: null as LibraryFacets | null,
  error: null as string | null,
  /** Bumped when pages or thumbnails arrive, so the grid re-reads the Maps below. */
  version: 0,
  /** Bumped when the filter or sort changes: the grid scrolls to the top, old answers are dropped. */
  generation: 0,
  focusIndex: 0,
  anchorIndex: null as number | null,
  /** Index (in the filtered, sorted order) of the sample open in the viewer. */
  viewerIndex: null as number | null,
  tileSize: 132,
});

/**
 * The selection, replaced (never mutated) on every change: `$state.raw`, so a Set of 100,000 ids
 * is never proxied. Read through `currentSelection()`, which is tracked like any state read.
 */
let selection = $state.raw<Selection>(EMPTY_SELECTION);

export function currentSelection(): Selection {
  return selection;
}

// Deliberately not SvelteMap/SvelteSet: thousands of entries would each become a signal; the
// grid re-reads these when `library.version` moves instead.
/* eslint-disable svelte/prefer-svelte-reactivity */
const pages = new Map<number, LibraryRow[]>();
const pending = new Set<number>();
const thumbs = new Map<number, string | null>();
const thumbErrors = new Map<number, string>();
const thumbPending = new Set<number>();
/* eslint-enable svelte/prefer-svelte-reactivity */

export function rowAt(index: number): LibraryRow | undefined {
  return pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
}

/** The thumbnail path of a sample: a path, null when it failed, undefined when not fetched yet. */
export function thumbOf(id: number): string | null | undefined {
  return thumbs.get(id);
}

export function thumbError(id: number): string | undefined {
  return thumbErrors.get(id);
}

function reset(): void {
  pages.clear();
  pending.clear();
  library.total = null;
  library.generation++;
  library.version++;
  library.focusIndex = 0;
  library.anchorIndex = null;
  library.viewerIndex = null;
}

/** Opens the Library on a workspace (again): datasets, counts and the first page. */
export async function openLibrary(workspaceDir: string): Promise<void> {
  if (library.workspaceDir !== workspaceDir) {
    library.workspaceDir = workspaceDir;
    library.filter = {};
    selection = EMPTY_SELECTION;
    thumbs.clear();
    thumbErrors.clear();
  }
  reset();
  try {
    library.datasets = await lab['datasets:list']({});
  } catch (error) {
    library.error = describeError(error);
  }
  await refresh();
}

/** Reloads the counts and the first page for the current filter and sort. */
export async function refresh(): Promise<void> {
  const mine = library.generation;
  library.error = null;
  try {
    const [facets] = await Promise.all([lab['library:facets']({ filter: library.filter }), ensureRows(0, PAGE_SIZE - 1)]);
    if (mine !== library.generation) return;
    library.facets = facets;
    library.total = facets.total;
  } catch (error) {
    if (mine === library.generation) library.error = describeError(error);
  }
}

export function setFilter(filter: LibraryFilter): void {
  library.filter = filter;
  selection = afterFilterChange(selection);
  reset();
  void refresh();
}

/** Ticks or unticks one value of a facet. */
export function toggleFacetValue(facet: LibraryFacet, value: string): void {
  const current = (library.filter[facet] ?? []) as string[];
  const next = current.includes(value) ? current.filter((v) => v !== value) : [...current, value];
  const filter = { ...library.filter } as Record<string, unknown>;
  if (next.length === 0) delete filter[facet];
  else filter[facet] = next;
  setFilter(filter as LibraryFilter);
}

export function clearFacet(facet: LibraryFacet): void {
  const filter = { ...library.filter };
  delete filter[facet];
  setFilter(filter);
}

export function setSearch(search: string): void {
  const filter = { ...library.filter };
  if (search.trim() === '') delete filter.search;
  else filter.search = search;
  setFilter(filter);
}

export function setDataset(datasetId: number | null): void {
  const filter = { ...library.filter };
  if (datasetId === null) delete filter.datasetId;
  else filter.datasetId = datasetId;
  setFilter(filter);
}

export function setSort(sort: LibrarySort): void {
  library.sort = sort;
  reset();
  void refresh();
}

export function setSelection(next: Selection): void {
  selection = next;
}

/** Makes sure the pages covering indexes [first, last] are loaded (or loading). */
export async function ensureRows(first: number, last: number): Promise<void> {
  const mine = library.generation;
  const wanted: number[] = [];
  for (let p = Math.floor(Math.max(0, first) / PAGE_SIZE); p <= Math.floor(Math.max(0, last) / PAGE_SIZE); p++) {
    if (!pages.has(p) && !pending.has(p)) wanted.push(p);
  }
  await Promise.all(
    wanted.map(async (p) => {
      pending.add(p);
      try {
        const page = await lab['library:query']({ filter: library.filter, sort: library.sort, offset: p * PAGE_SIZE, limit: PAGE_SIZE });
        if (mine !== library.generation) return;
        pages.set(p, page.rows);
        library.total = page.total;
        library.version++;
      } catch (error) {
        if (mine === library.generation) library.error = describeError(error);
      } finally {
        if (mine === library.generation) pending.delete(p);
      }
    }),
  );
}

/** Fetches thumbnails for ids that have none yet; the server makes missing ones. */
export async function ensureThumbs(ids: readonly number[]): Promise<void> {
  const missing = ids.filter((id) => !thumbs.has(id) && !thumbPending.has(id)).slice(0, 400);
  if (missing.length === 0) return;
  for (const id of missing) thumbPending.add(id);
  try {
    const { items } = await lab['library:thumbnails']({ ids: missing });
    for (const item of items) {
      thumbs.set(item.id, item.path);
      if (item.error) thumbErrors.set(item.id, item.error);
    }
    library.version++;
  } catch (error) {
    library.error = describeError(error);
  } finally {
    for (const id of missing) thumbPending.delete(id);
  }
}

/** Ids of the samples at [first, last] in the current order (a shift-click range), from the server. */
export async function idsInRange(first: number, last: number): Promise<number[]> {
  const lo = Math.min(first, last);
  const hi = Math.max(first, last);
  const { ids } = await lab['library:selection']({
    selection: { mode: 'filter', filter: library.filter, except: [] },
    sort: library.sort,
    offset: lo,
    limit: Math.min(100_000, hi - lo + 1),
  });
  return ids;
}

/**
 * Reads the counts and every loaded page again in place (after a bulk edit changed labels or
 * review states): the grid keeps its scroll position, unlike a filter change.
 */
export async function reloadInPlace(): Promise<void> {
  const loaded = [...pages.keys()];
  pages.clear();
  pending.clear();
  library.version++;
  await Promise.all([refresh(), ...loaded.map((p) => ensureRows(p * PAGE_SIZE, p * PAGE_SIZE))]);
}

/**
 * The scenarios of the given sample ids as far as the loaded pages tell, and how many ids no
 * loaded page holds (a shift-click range may reach beyond them).
 */
export function loadedScenarios(ids: ReadonlySet<number>): { scenarios: string[]; unknown: number } {
  // A handful of scenarios: a list is enough (and not a Set the reactivity lint would flag).
  const found: string[] = [];
  let seen = 0;
  for (const page of pages.values()) {
    for (const row of page) {
      if (!ids.has(row.id)) continue;
      if (!found.includes(row.scenario)) found.push(row.scenario);
      seen++;
    }
  }
  return { scenarios: found, unknown: ids.size - seen };
}
