/**
 * Collects the problems an import finds and groups them by kind for the report: every occurrence
 * is counted, and the first examples (by path) are kept with a detail each, so a tree with 10,000
 * duplicates still yields a small report that says how many and shows where.
 */
import {
  IMPORT_EXAMPLES_PER_KIND,
  IMPORT_PROBLEMS,
  type ImportProblemExample,
  type ImportProblemGroup,
  type ImportProblemKind,
} from '../../../../shared/calls/import';

export class ProblemLog {
  private readonly byKind = new Map<ImportProblemKind, ImportProblemExample[]>();

  add(kind: ImportProblemKind, path: string, detail?: string): void {
    let list = this.byKind.get(kind);
    if (!list) {
      list = [];
      this.byKind.set(kind, list);
    }
    list.push(detail === undefined ? { path } : { path, detail });
  }

  count(kind?: ImportProblemKind): number {
    if (kind) return this.byKind.get(kind)?.length ?? 0;
    let n = 0;
    for (const list of this.byKind.values()) n += list.length;
    return n;
  }

  /** Every occurrence of one kind (tests and the scan step use it). */
  all(kind: ImportProblemKind): readonly ImportProblemExample[] {
    return this.byKind.get(kind) ?? [];
  }

  merge(other: ProblemLog): void {
    for (const [kind, list] of other.byKind) for (const e of list) this.add(kind, e.path, e.detail);
  }

  /** Groups in the order IMPORT_PROBLEMS lists the kinds, examples sorted by path. */
  groups(): ImportProblemGroup[] {
    const out: ImportProblemGroup[] = [];
    for (const kind of Object.keys(IMPORT_PROBLEMS) as ImportProblemKind[]) {
      const list = this.byKind.get(kind);
      if (!list || list.length === 0) continue;
      const examples = [...list].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).slice(0, IMPORT_EXAMPLES_PER_KIND);
      out.push({ kind, count: list.length, examples });
    }
    return out;
  }
}
