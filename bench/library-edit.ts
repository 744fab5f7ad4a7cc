/**
 * Benchmark of the Library while annotating at MIAD's size (issue 20): after each label edit, the
 * facet counts and a page of the grid, as the UI asks for them right after the edit.
 *
 * Measured: the LibraryService as it runs now (the edited samples patched into the index in
 * place, migration 6's change log), against the reference measured in the same run on the same
 * store and edits: what the service did before, a full rebuild of the index from one scan on
 * the first query after any write. Goal (issue 20): facet query after an edit at p95 < 20 ms.
 *
 * Run: npx tsx bench/library-edit.ts [rows] [edits]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LibraryIndex } from '../src/main/core/library/library-index';
import { LibraryService } from '../src/main/core/library/library-service';
import { AnnotationRepo } from '../src/main/core/store/annotation-repo';
import { LibraryRepo } from '../src/main/core/store/library-repo';
import { Store } from '../src/main/core/store/store';
import type { LibraryFilter, LibrarySort } from '../src/shared/calls/library';
import { insertSynthetic, prng } from '../tests/library/synthetic';

const ROWS = Number(process.argv[2] ?? 105_000);
const EDITS = Number(process.argv[3] ?? 100);
const FILTER: LibraryFilter = { scenario: ['wind_turbine', 'metal_welding'], kind: ['anomalous'] };
const SORT: LibrarySort = { key: 'default', desc: false };

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `p50 ${q(0.5).toFixed(2).padStart(8)} ms  p95 ${q(0.95).toFixed(2).padStart(8)} ms  max ${s[s.length - 1]!.toFixed(2).padStart(8)} ms`;
}
const p95 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor(0.95 * samples.length))]!;

const dir = await mkdtemp(join(tmpdir(), 'library-edit-bench-'));
try {
  const store = Store.open(dir);
  insertSynthetic(store, { count: ROWS, seed: 1 });
  const repo = new LibraryRepo(store);
  const annotations = new AnnotationRepo(store);
  const ids = store.connection.prepare('SELECT id FROM samples ORDER BY id').pluck().all() as number[];
  const rand = prng(7);
  let version = 0;
  /** One annotator's edit: relabel to a defect type or to good, with a review state. */
  const edit = () => {
    const id = ids[Math.floor(rand() * ids.length)]!;
    const good = rand() < 0.3;
    annotations.upsert({
      sample_id: id,
      label: good ? 'good' : 'anomalous',
      defect_type: good ? null : ['crack', 'looseness', 'broken', 'weld_pit'][Math.floor(rand() * 4)]!,
      review_state: 'reviewed',
      mask_path: null,
      exclude_train: 0,
      updated_at: new Date().toISOString(),
      version: ++version,
    });
  };

  console.log(`${ROWS.toLocaleString('en')} samples, ${EDITS} label edits; after each: facet counts, then a page of 200 in the default sort`);
  // Now: the service, warmed (index built, the default order sorted).
  const service = new LibraryService({ repo, thumbsDir: join(dir, 'thumbs') });
  service.facets(FILTER);
  service.query(FILTER, SORT, 0, 200);
  const nowFacets: number[] = [];
  const nowPage: number[] = [];
  for (let k = 0; k < EDITS; k++) {
    edit();
    let t = performance.now();
    service.facets(FILTER);
    nowFacets.push(performance.now() - t);
    t = performance.now();
    service.query(FILTER, SORT, 0, 200);
    nowPage.push(performance.now() - t);
  }
  // Reference: a rebuild from one scan on the first query after the write (the service before migration 6).
  const refFacets: number[] = [];
  const refPage: number[] = [];
  for (let k = 0; k < EDITS; k++) {
    edit();
    let t = performance.now();
    const index = new LibraryIndex(repo.scanColumns());
    index.facets(FILTER);
    refFacets.push(performance.now() - t);
    t = performance.now();
    index.page(FILTER, SORT, 0, 200);
    refPage.push(performance.now() - t);
  }
  console.log(`  in place (now)     facets ${stats(nowFacets)}   page ${stats(nowPage)}`);
  console.log(`  rebuild (before)   facets ${stats(refFacets)}   page ${stats(refPage)}`);
  console.log(`  service: ${service.stats.rebuilds} rebuild(s), ${service.stats.patches} in-place updates`);
  console.log(`  facet query after an edit, p95: ${p95(nowFacets).toFixed(2)} ms now vs ${p95(refFacets).toFixed(2)} ms rebuilding: ${(p95(refFacets) / p95(nowFacets)).toFixed(1)}× faster (goal < 20 ms)`);
  store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
