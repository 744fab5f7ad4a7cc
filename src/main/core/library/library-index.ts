/**
 * The Library's in-memory index: every sample's facet values as dictionary-coded typed arrays
 * (about 30 bytes a sample, 3 MB at MIAD's 105,000), built from one scan of the store.
 *
 * Why not SQL per request: live facet counts need one count per facet with that facet's own
 * filter left out, i.e. six GROUP BYs over the filtered rows, and a grid that jumps anywhere in
 * 105,000 rows needs deep OFFSETs; both cost tens of milliseconds in SQLite (bench/library-query.ts
 * measures that baseline). Over typed arrays, all six facets come from one pass (a row failing
 * exactly one facet counts for that facet only, the crossfilter trick), a filtered, sorted id list
 * is one walk of a precomputed sort permutation, and any page is a slice of it.
 */
import { LIBRARY_REVIEW_VALUES, LIBRARY_TRAINING_VALUES } from '../../../shared/calls/library';
import { SUSPICION_BINS } from '../../../shared/calls/checks';
import type { FacetValue, LibraryFacet, LibraryFacets, LibraryFilter, LibraryRow, LibrarySelection, LibrarySort, LibrarySortKey } from '../../../shared/calls/library';
import type { LibraryColumns } from '../store/library-repo';

/** The pseudo problem code that matches samples without problems. */
export const NO_PROBLEMS = 'none';

const FACET_BIT: Record<LibraryFacet, number> = { scenario: 1, split: 2, kind: 4, label: 8, mask: 16, problems: 32, review: 64, training: 128, suspicion: 256 };
const SPLITS = ['train', 'test'] as const;

/** A dictionary of distinct strings, coded in first-seen order. */
class Dictionary {
  readonly values: string[] = [];
  private readonly codes = new Map<string, number>();

  code(value: string): number {
    let c = this.codes.get(value);
    if (c === undefined) {
      c = this.values.length;
      this.values.push(value);
      this.codes.set(value, c);
    }
    return c;
  }

  find(value: string): number | undefined {
    return this.codes.get(value);
  }
}

/** Per-code "passes" tables for one filter; null for a facet the filter leaves open. */
interface CompiledFilter {
  datasetId: number | null;
  search: string | null;
  scenario: Uint8Array | null;
  split: Uint8Array | null;
  label: Uint8Array | null;
  /** kind is a property of the label code: good vs. anything else. */
  kind: Uint8Array | null;
  mask: Uint8Array | null;
  problems: Uint8Array | null;
  review: Uint8Array | null;
  training: Uint8Array | null;
  suspicion: Uint8Array | null;
}

function parseProblems(issues: string | null): string[] {
  if (issues === null || issues === '') return [];
  try {
    const parsed: unknown = JSON.parse(issues);
    if (Array.isArray(parsed)) return parsed.filter((x): x is string => typeof x === 'string');
  } catch {
    // A column the importer wrote badly should not break browsing: show the raw text as one code.
  }
  return [issues];
}

export class LibraryIndex {
  readonly size: number;
  private readonly ids: Int32Array;
  private readonly dataset: Int32Array;
  private readonly scenario: Uint16Array;
  private readonly split: Uint8Array;
  private readonly label: Uint16Array;
  private readonly hasMask: Uint8Array;
  /** Index into LIBRARY_REVIEW_VALUES. */
  private readonly review: Uint8Array;
  /** 1: excluded from training sets (index into LIBRARY_TRAINING_VALUES). */
  private readonly excluded: Uint8Array;
  /** Index into SUSPICION_BINS (a column of the store's shown checks; a new check rebuilds the index). */
  private readonly suspicion: Uint8Array;
  /** Code of the row's distinct problem list (`problemSets`). */
  private readonly problemSet: Uint32Array;
  private readonly fileSize: Float64Array;
  private readonly width: Uint32Array;
  private readonly height: Uint32Array;
  private readonly relPath: string[];
  /** Lower-cased paths joined by newlines, and where each starts; built on the first search. */
  private joinedLower: string | null = null;
  private lineStart: Int32Array | null = null;

  private readonly scenarios = new Dictionary();
  private readonly labels = new Dictionary();
  private readonly problemCodes = new Dictionary();
  /** Distinct problem lists, each as codes into problemCodes. */
  private readonly problemSets: number[][] = [];
  private readonly problemSetNames: string[][] = [];

  private readonly orders = new Map<LibrarySortKey, Int32Array>();
  /** The comparator each kept order was sorted with (its ranks of the dictionaries as they were then). */
  private readonly comparators = new Map<LibrarySortKey, (a: number, b: number) => number>();
  /** Small LRU of filtered, sorted row lists: paging through one filter costs one walk. */
  private readonly matchCache = new Map<string, Int32Array>();
  private readonly searchCache = new Map<string, Uint8Array>();

  /** Builds from the store's columns; rows are kept in ascending id order ("imported" sort). */
  constructor(columns: LibraryColumns) {
    const n = columns.ids.length;
    this.size = n;
    // The packed scan does not promise id order; the index wants it (the "imported" sort is identity).
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) sorted = columns.ids[k - 1]! < columns.ids[k]!;
    const at = new Int32Array(n);
    for (let k = 0; k < n; k++) at[k] = k;
    if (!sorted) at.sort((a, b) => columns.ids[a]! - columns.ids[b]!);
    this.ids = new Int32Array(n);
    this.dataset = new Int32Array(n);
    this.scenario = new Uint16Array(n);
    this.split = new Uint8Array(n);
    this.label = new Uint16Array(n);
    this.hasMask = new Uint8Array(n);
    this.review = new Uint8Array(n);
    this.excluded = new Uint8Array(n);
    this.suspicion = new Uint8Array(n);
    this.problemSet = new Uint32Array(n);
    this.fileSize = new Float64Array(n);
    this.width = new Uint32Array(n);
    this.height = new Uint32Array(n);
    this.relPath = new Array<string>(n);
    const setCodes = new Map<string | null, number>();
    for (let i = 0; i < n; i++) {
      const k = at[i]!;
      const id = columns.ids[k]!;
      this.ids[i] = id;
      this.dataset[i] = columns.datasetIds[k]!;
      this.scenario[i] = this.scenarios.code(columns.scenarios[k]!);
      this.split[i] = columns.splits[k]!;
      this.label[i] = this.labels.code(columns.labels[k]!);
      this.relPath[i] = columns.relPaths[k]!;
      this.hasMask[i] = columns.hasMask[k]!;
      this.review[i] = columns.reviews[k]!;
      this.excluded[i] = columns.excluded[k]!;
      this.suspicion[i] = columns.suspicion[k]!;
      const issues = columns.issues[k] ?? null;
      let ps = setCodes.get(issues);
      if (ps === undefined) {
        const names = [...new Set(parseProblems(issues))];
        ps = this.problemSets.length;
        this.problemSets.push(names.map((p) => this.problemCodes.code(p)));
        this.problemSetNames.push(names);
        setCodes.set(issues, ps);
      }
      this.problemSet[i] = ps;
      this.fileSize[i] = columns.fileSizes[k] ?? Number.NaN;
      this.width[i] = columns.widths[k]!;
      this.height[i] = columns.heights[k]!;
    }
  }

  /** Row index of an id (binary search: rows are in id order), or -1. */
  private rowOf(id: number): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ids[mid]!;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Samples matching `filter`, and the page [offset, offset + limit) of them in `sort` order. */
  page(filter: LibraryFilter, sort: LibrarySort, offset: number, limit: number): { total: number; rows: LibraryRow[] } {
    const match = this.matching(filter, sort);
    const rows: LibraryRow[] = [];
    const end = Math.min(match.length, offset + limit);
    for (let k = offset; k < end; k++) rows.push(this.row(match[k]!));
    return { total: match.length, rows };
  }

  /** Row data of one sample id, or null when no such id. */
  rowById(id: number): LibraryRow | null {
    const i = this.rowOf(id);
    return i < 0 ? null : this.row(i);
  }

  /** Counts per facet value, each facet counted under the other facets' filters (live counts). */
  facets(filter: LibraryFilter): LibraryFacets {
    const f = this.compile(filter);
    const nScen = this.scenarios.values.length;
    const nLabel = this.labels.values.length;
    const scenarioCount = new Float64Array(nScen);
    const splitCount = new Float64Array(2);
    const kindCount = new Float64Array(2);
    const labelCount = new Float64Array(nLabel);
    const maskCount = new Float64Array(2);
    const reviewCount = new Float64Array(LIBRARY_REVIEW_VALUES.length);
    const trainingCount = new Float64Array(2);
    const suspicionCount = new Float64Array(SUSPICION_BINS.length);
    // Problems are counted per distinct problem list first, then spread over its codes once.
    const problemSetCount = new Float64Array(this.problemSets.length);
    const goodCode = this.labels.find('good');
    let total = 0;
    const found = f.search !== null ? this.searchMask(f.search) : null;
    for (let i = 0; i < this.size; i++) {
      if (f.datasetId !== null && this.dataset[i] !== f.datasetId) continue;
      if (found !== null && found[i] === 0) continue;
      const sc = this.scenario[i]!;
      const sp = this.split[i]!;
      const lb = this.label[i]!;
      const mk = this.hasMask[i]!;
      const ps = this.problemSet[i]!;
      const rv = this.review[i]!;
      const ex = this.excluded[i]!;
      const su = this.suspicion[i]!;
      let fails = 0;
      if (f.scenario !== null && f.scenario[sc] === 0) fails |= FACET_BIT.scenario;
      if (f.split !== null && f.split[sp] === 0) fails |= FACET_BIT.split;
      if (f.kind !== null && f.kind[lb] === 0) fails |= FACET_BIT.kind;
      if (f.label !== null && f.label[lb] === 0) fails |= FACET_BIT.label;
      if (f.mask !== null && f.mask[mk] === 0) fails |= FACET_BIT.mask;
      if (f.problems !== null && f.problems[ps] === 0) fails |= FACET_BIT.problems;
      if (f.review !== null && f.review[rv] === 0) fails |= FACET_BIT.review;
      if (f.training !== null && f.training[ex] === 0) fails |= FACET_BIT.training;
      if (f.suspicion !== null && f.suspicion[su] === 0) fails |= FACET_BIT.suspicion;
      if (fails === 0) {
        total++;
        scenarioCount[sc]!++;
        splitCount[sp]!++;
        kindCount[lb === goodCode ? 0 : 1]!++;
        labelCount[lb]!++;
        maskCount[mk]!++;
        problemSetCount[ps]!++;
        reviewCount[rv]!++;
        trainingCount[ex]!++;
        suspicionCount[su]!++;
      } else if ((fails & (fails - 1)) === 0) {
        // Fails exactly one facet: it would match if that facet's own filter were left out.
        if (fails === FACET_BIT.scenario) scenarioCount[sc]!++;
        else if (fails === FACET_BIT.split) splitCount[sp]!++;
        else if (fails === FACET_BIT.kind) kindCount[lb === goodCode ? 0 : 1]!++;
        else if (fails === FACET_BIT.label) labelCount[lb]!++;
        else if (fails === FACET_BIT.mask) maskCount[mk]!++;
        else if (fails === FACET_BIT.review) reviewCount[rv]!++;
        else if (fails === FACET_BIT.training) trainingCount[ex]!++;
        else if (fails === FACET_BIT.suspicion) suspicionCount[su]!++;
        else problemSetCount[ps]!++;
      }
    }
    const problemCount = new Float64Array(this.problemCodes.values.length);
    let none = 0;
    for (let ps = 0; ps < this.problemSets.length; ps++) {
      const codes = this.problemSets[ps]!;
      if (codes.length === 0) none += problemSetCount[ps]!;
      for (const c of codes) problemCount[c]! += problemSetCount[ps]!;
    }
    const named = (names: readonly string[], counts: Float64Array, keep: (name: string) => boolean = () => true): FacetValue[] =>
      names.map((value, i) => ({ value, count: counts[i]! })).filter((v) => keep(v.value)).sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return {
      total,
      facets: {
        scenario: named(this.scenarios.values, scenarioCount),
        split: SPLITS.map((value, i) => ({ value, count: splitCount[i]! })),
        kind: [
          { value: 'good', count: kindCount[0]! },
          { value: 'anomalous', count: kindCount[1]! },
        ],
        label: named(this.labels.values, labelCount, (name) => name !== 'good'),
        mask: [
          { value: 'with', count: maskCount[1]! },
          { value: 'without', count: maskCount[0]! },
        ],
        problems: [{ value: NO_PROBLEMS, count: none }, ...named(this.problemCodes.values, problemCount)],
        review: LIBRARY_REVIEW_VALUES.map((value, i) => ({ value, count: reviewCount[i]! })),
        training: LIBRARY_TRAINING_VALUES.map((value, i) => ({ value, count: trainingCount[i]! })),
        suspicion: SUSPICION_BINS.map((value, i) => ({ value, count: suspicionCount[i]! })),
      },
    };
  }

  /** The ids a selection stands for, in `sort` order. Unknown ids are dropped. */
  selectionIds(selection: LibrarySelection, sort: LibrarySort): number[] {
    if (selection.mode === 'filter') {
      const except = new Set(selection.except);
      const out: number[] = [];
      for (const i of this.matching(selection.filter, sort)) {
        const id = this.ids[i]!;
        if (!except.has(id)) out.push(id);
      }
      return out;
    }
    const order = this.order(sort.key);
    const rank = new Int32Array(this.size);
    for (let k = 0; k < order.length; k++) rank[order[k]!] = k;
    const rows = [...new Set(selection.ids)].map((id) => this.rowOf(id)).filter((i) => i >= 0);
    rows.sort((a, b) => (sort.desc ? rank[b]! - rank[a]! : rank[a]! - rank[b]!));
    return rows.map((i) => this.ids[i]!);
  }

  /** Row indexes matching `filter`, in `sort` order; cached for the last few (filter, sort) pairs. */
  private matching(filter: LibraryFilter, sort: LibrarySort): Int32Array {
    const key = JSON.stringify([filterKey(filter), sort.key, sort.desc]);
    const hit = this.matchCache.get(key);
    if (hit) {
      this.matchCache.delete(key);
      this.matchCache.set(key, hit);
      return hit;
    }
    const f = this.compile(filter);
    const order = this.order(sort.key);
    const found = f.search !== null ? this.searchMask(f.search) : null;
    const out = new Int32Array(this.size);
    let n = 0;
    const len = order.length;
    for (let k = 0; k < len; k++) {
      const i = order[sort.desc ? len - 1 - k : k]!;
      if (f.datasetId !== null && this.dataset[i] !== f.datasetId) continue;
      if (f.scenario !== null && f.scenario[this.scenario[i]!] === 0) continue;
      if (f.split !== null && f.split[this.split[i]!] === 0) continue;
      if (f.kind !== null && f.kind[this.label[i]!] === 0) continue;
      if (f.label !== null && f.label[this.label[i]!] === 0) continue;
      if (f.mask !== null && f.mask[this.hasMask[i]!] === 0) continue;
      if (f.problems !== null && f.problems[this.problemSet[i]!] === 0) continue;
      if (f.review !== null && f.review[this.review[i]!] === 0) continue;
      if (f.training !== null && f.training[this.excluded[i]!] === 0) continue;
      if (f.suspicion !== null && f.suspicion[this.suspicion[i]!] === 0) continue;
      if (found !== null && found[i] === 0) continue;
      out[n++] = i;
    }
    const result = out.slice(0, n);
    this.matchCache.set(key, result);
    if (this.matchCache.size > 8) this.matchCache.delete(this.matchCache.keys().next().value!);
    return result;
  }

  private compile(filter: LibraryFilter): CompiledFilter {
    const table = (size: number, wanted: readonly string[] | undefined, codeOf: (v: string) => number | undefined): Uint8Array | null => {
      if (!wanted || wanted.length === 0) return null;
      const t = new Uint8Array(size);
      for (const w of wanted) {
        const c = codeOf(w);
        if (c !== undefined) t[c] = 1;
      }
      return t;
    };
    const nLabel = this.labels.values.length;
    let kind: Uint8Array | null = null;
    if (filter.kind && filter.kind.length > 0) {
      kind = new Uint8Array(nLabel);
      for (let c = 0; c < nLabel; c++) kind[c] = filter.kind.includes(this.labels.values[c] === 'good' ? 'good' : 'anomalous') ? 1 : 0;
    }
    let problems: Uint8Array | null = null;
    if (filter.problems && filter.problems.length > 0) {
      const wanted = new Set(filter.problems);
      problems = new Uint8Array(this.problemSets.length);
      for (let ps = 0; ps < this.problemSets.length; ps++) {
        const names = this.problemSetNames[ps]!;
        problems[ps] = (names.length === 0 ? wanted.has(NO_PROBLEMS) : names.some((p) => wanted.has(p))) ? 1 : 0;
      }
    }
    const search = filter.search?.trim().toLowerCase() ?? '';
    return {
      datasetId: filter.datasetId ?? null,
      search: search === '' ? null : search,
      scenario: table(this.scenarios.values.length, filter.scenario, (v) => this.scenarios.find(v)),
      split: table(2, filter.split, (v) => SPLITS.indexOf(v as 'train' | 'test')),
      label: table(nLabel, filter.label, (v) => this.labels.find(v)),
      kind,
      mask: table(2, filter.mask, (v) => (v === 'with' ? 1 : v === 'without' ? 0 : undefined)),
      problems,
      review: table(LIBRARY_REVIEW_VALUES.length, filter.review, (v) => LIBRARY_REVIEW_VALUES.indexOf(v as (typeof LIBRARY_REVIEW_VALUES)[number])),
      training: table(2, filter.training, (v) => LIBRARY_TRAINING_VALUES.indexOf(v as (typeof LIBRARY_TRAINING_VALUES)[number])),
      suspicion: table(SUSPICION_BINS.length, filter.suspicion, (v) => SUSPICION_BINS.indexOf(v as (typeof SUSPICION_BINS)[number])),
    };
  }

  /** The permutation of row indexes for a sort key, computed on first use and kept. */
  private order(key: LibrarySortKey): Int32Array {
    const hit = this.orders.get(key);
    if (hit) return hit;
    const perm = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) perm[i] = i;
    if (key !== 'imported') {
      // Rank dictionary codes by their string once, so the comparator is integer work except for paths.
      const rankOf = (values: readonly string[]): Int32Array => {
        const sorted = values.map((v, c) => [v, c] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
        const r = new Int32Array(values.length);
        sorted.forEach(([, c], k) => (r[c] = k));
        return r;
      };
      const sr = rankOf(this.scenarios.values);
      const lr = rankOf(this.labels.values);
      const { dataset, scenario, split, label, relPath, fileSize, ids } = this;
      const byPath = (a: number, b: number): number => {
        const pa = relPath[a]!;
        const pb = relPath[b]!;
        return pa < pb ? -1 : pa > pb ? 1 : ids[a]! - ids[b]!;
      };
      const byDefault = (a: number, b: number): number =>
        dataset[a]! - dataset[b]! || sr[scenario[a]!]! - sr[scenario[b]!]! || split[a]! - split[b]! || lr[label[a]!]! - lr[label[b]!]! || byPath(a, b);
      const compare =
        key === 'path'
          ? byPath
          : key === 'label'
            ? (a: number, b: number) => lr[label[a]!]! - lr[label[b]!]! || sr[scenario[a]!]! - sr[scenario[b]!]! || byPath(a, b)
            : key === 'fileSize'
              ? (a: number, b: number) => {
                  const fa = fileSize[a]!;
                  const fb = fileSize[b]!;
                  // Unknown sizes (NaN) after known ones.
                  if (Number.isNaN(fa) || Number.isNaN(fb)) return Number.isNaN(fa) === Number.isNaN(fb) ? byDefault(a, b) : Number.isNaN(fa) ? 1 : -1;
                  return fa - fb || byDefault(a, b);
                }
              : byDefault;
      perm.sort(compare);
      this.comparators.set(key, compare);
    }
    this.orders.set(key, perm);
    return perm;
  }

  /**
   * Applies new annotation columns of some samples in place (an edit's label, mask, review state
   * or training flag), so the next query after an edit costs a query, not a rebuild. Sort orders
   * that depend on the label move each changed row to its new place (one remove and one binary-
   * searched insert); a label the index has not seen yet drops those orders instead (recomputed on
   * use). Returns false, changing nothing, when an id is not in the index: the caller rebuilds.
   */
  applyAnnotations(columns: Pick<LibraryColumns, 'ids' | 'labels' | 'hasMask' | 'reviews' | 'excluded'>): boolean {
    const rows = columns.ids.map((id) => this.rowOf(id));
    if (rows.some((i) => i < 0)) return false;
    const newLabel = columns.labels.some((l) => this.labels.find(l) === undefined);
    // Orders whose comparator reads the label: 'default' and 'label', and 'fileSize' through its ties.
    const byLabel = (['default', 'label', 'fileSize'] as const).filter((k) => this.orders.has(k));
    if (newLabel) {
      for (const k of byLabel) {
        this.orders.delete(k);
        this.comparators.delete(k);
      }
    }
    rows.forEach((i, k) => {
      const label = this.labels.code(columns.labels[k]!);
      if (label !== this.label[i] && !newLabel) {
        for (const key of byLabel) this.moveInOrder(key, i, () => (this.label[i] = label));
      }
      this.label[i] = label;
      this.hasMask[i] = columns.hasMask[k]!;
      this.review[i] = columns.reviews[k]!;
      this.excluded[i] = columns.excluded[k]!;
    });
    this.matchCache.clear();
    return true;
  }

  /** Takes row `i` out of the kept order `key`, applies `change`, and inserts it where it now sorts. */
  private moveInOrder(key: LibrarySortKey, i: number, change: () => void): void {
    const perm = this.orders.get(key)!;
    const compare = this.comparators.get(key)!;
    const n = perm.length;
    const at = perm.indexOf(i);
    perm.copyWithin(at, at + 1);
    change();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(perm[mid]!, i) < 0) lo = mid + 1;
      else hi = mid;
    }
    perm.copyWithin(lo + 1, lo, n - 1);
    perm[lo] = i;
  }

  /**
   * Rows whose path contains `search` (already lower-cased), 1 byte a row. All lower-cased paths
   * are joined by newlines into one string once, so a search is a few native indexOf calls that
   * jump from match to match instead of 105,000 `includes`. Cached for the last few searches: the
   * facets and the page of one filter change both need it.
   */
  private searchMask(search: string): Uint8Array {
    const hit = this.searchCache.get(search);
    if (hit) return hit;
    const mask = new Uint8Array(this.size);
    if (search.includes('\n')) {
      for (let i = 0; i < this.size; i++) mask[i] = this.relPath[i]!.toLowerCase().includes(search) ? 1 : 0;
    } else {
      if (this.joinedLower === null) {
        const lower = this.relPath.map((p) => p.toLowerCase());
        this.lineStart = new Int32Array(this.size + 1);
        let at = 0;
        for (let i = 0; i < this.size; i++) {
          this.lineStart[i] = at;
          at += lower[i]!.length + 1;
        }
        this.lineStart[this.size] = at;
        this.joinedLower = lower.join('\n');
      }
      const joined = this.joinedLower;
      const starts = this.lineStart!;
      let pos = joined.indexOf(search);
      while (pos >= 0) {
        // The row holding `pos`: the last start <= pos.
        let lo = 0;
        let hi = this.size - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (starts[mid]! <= pos) lo = mid;
          else hi = mid - 1;
        }
        // A match may not run over the newline into the next path.
        if (pos + search.length < starts[lo + 1]!) {
          mask[lo] = 1;
          pos = joined.indexOf(search, starts[lo + 1]!);
        } else {
          pos = joined.indexOf(search, pos + 1);
        }
      }
    }
    this.searchCache.set(search, mask);
    if (this.searchCache.size > 4) this.searchCache.delete(this.searchCache.keys().next().value!);
    return mask;
  }

  private row(i: number): LibraryRow {
    return {
      id: this.ids[i]!,
      datasetId: this.dataset[i]!,
      scenario: this.scenarios.values[this.scenario[i]!]!,
      split: SPLITS[this.split[i]!]!,
      label: this.labels.values[this.label[i]!]!,
      relPath: this.relPath[i]!,
      hasMask: this.hasMask[i] === 1,
      problems: [...this.problemSetNames[this.problemSet[i]!]!],
      width: this.width[i]!,
      height: this.height[i]!,
    };
  }
}

/** A canonical key of a filter: the same selection in another order is the same key. */
export function filterKey(filter: LibraryFilter): string {
  const sorted = (v: readonly string[] | undefined) => (v && v.length > 0 ? [...new Set(v)].sort() : null);
  return JSON.stringify([
    filter.datasetId ?? null,
    sorted(filter.scenario),
    sorted(filter.split),
    sorted(filter.kind),
    sorted(filter.label),
    sorted(filter.mask),
    sorted(filter.problems),
    sorted(filter.review),
    sorted(filter.training),
    sorted(filter.suspicion),
    filter.search?.trim().toLowerCase() || null,
  ]);
}
