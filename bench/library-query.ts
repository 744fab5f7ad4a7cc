/**
 * Benchmark of the Library's queries over 105,000 samples (MIAD's size): live facet counts and a
 * filtered, sorted page of 200 rows, p50/p95/max latency, as the Library calls them (through
 * LibraryService, on a real workspace store in a temp folder).
 *
 * Reference, measured in the same run on the same rows: the plain SQL way (tests/library/
 * sql-reference.ts), one GROUP BY per facet with that facet's own filter left out, COUNT(*) and
 * LIMIT/OFFSET paging, over the schema's own indexes (samples_by_facets on dataset, scenario,
 * split, label; the UNIQUE (dataset, rel_path)). Also reported: the one-off cost of (re)building
 * the in-memory index, paid on the first call after any write.
 *
 * Second part, thumbnail throughput at 256 px on MIAD-mini images (7 scenarios at 512 px, so
 * every thumbnail is a real reduction): the ThumbnailCache as the Library runs it (sharp, 4 at
 * once), the same at concurrency 1, and a naive baseline that decodes, box-resizes and encodes in
 * JavaScript on the main thread (the project's own PNG codec). Each also reports the main
 * thread's longest event-loop stall while it ran: sharp's work is off the thread.
 *
 * Run: npx tsx bench/library-query.ts [rows] [interactions]
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { decodePng, encodePng } from '../src/main/core/image/png';
import { ThumbnailCache, type ThumbRenderer } from '../src/main/core/library/thumbnails';
import { THUMB_MAX_SIDE } from '../src/shared/calls/library';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/main/core/store/store';
import { LibraryRepo } from '../src/main/core/store/library-repo';
import { LibraryService } from '../src/main/core/library/library-service';
import { LIBRARY_SORTS, type LibraryFilter, type LibrarySort } from '../src/shared/calls/library';
import { SCENARIOS } from '../src/shared/taxonomy';
import { sqlFacets, sqlPage } from '../tests/library/sql-reference';
import { insertSynthetic, PROBLEM_CODES, prng } from '../tests/library/synthetic';

const ROWS = Number(process.argv[2] ?? 105_000);
const INTERACTIONS = Number(process.argv[3] ?? 200);
const PAGE = 200;

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `p50 ${q(0.5).toFixed(2).padStart(7)} ms  p95 ${q(0.95).toFixed(2).padStart(7)} ms  max ${s[s.length - 1]!.toFixed(2).padStart(7)} ms`;
}

function p95(samples: number[]): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.95 * s.length))]!;
}

/** What a user does: tick a facet value or two, sometimes type a search, then scroll anywhere. */
function interactions(count: number): { filter: LibraryFilter; sort: LibrarySort; offsets: number[] }[] {
  const rand = prng(2024);
  const some = <T>(values: readonly T[]): T[] => {
    const out = values.filter(() => rand() < 0.3);
    return out.length ? out : [values[Math.floor(rand() * values.length)]!];
  };
  return Array.from({ length: count }, () => {
    const filter: LibraryFilter = {};
    if (rand() < 0.6) filter.scenario = some(SCENARIOS);
    if (rand() < 0.4) filter.split = some(['train', 'test'] as const);
    if (rand() < 0.4) filter.kind = some(['good', 'anomalous'] as const);
    if (rand() < 0.2) filter.label = some(['crack', 'looseness', 'broken', 'miss', 'weld_pit']);
    if (rand() < 0.15) filter.mask = some(['with', 'without'] as const);
    if (rand() < 0.1) filter.problems = some(['none', ...PROBLEM_CODES]);
    if (rand() < 0.1) filter.search = ['00012', 'wind', '/crack/'][Math.floor(rand() * 3)]!;
    const sort: LibrarySort = { key: LIBRARY_SORTS[Math.floor(rand() * LIBRARY_SORTS.length)]!, desc: rand() < 0.3 };
    // Offsets as fractions of the result; resolved against its size below.
    const offsets = Array.from({ length: 4 }, () => rand());
    return { filter, sort, offsets };
  });
}

const dir = await mkdtemp(join(tmpdir(), 'library-bench-'));
try {
  const store = Store.open(dir);
  const t0 = performance.now();
  insertSynthetic(store, { count: ROWS, seed: 1 });
  console.log(`${ROWS.toLocaleString('en')} synthetic samples inserted in ${((performance.now() - t0) / 1000).toFixed(2)} s; ${INTERACTIONS} filter changes, each followed by 4 jumps to random pages of ${PAGE}`);
  const service = new LibraryService({ repo: new LibraryRepo(store), thumbsDir: join(dir, 'thumbs') });
  const plan = interactions(INTERACTIONS);

  // Index (re)build: after a write, the next call scans and rebuilds. Measured 5 times.
  const builds: number[] = [];
  for (let i = 0; i < 5; i++) {
    store.setMeta('bench', String(i)); // any write moves the data version
    const b0 = performance.now();
    service.current();
    builds.push(performance.now() - b0);
  }
  // Sort permutations are made on first use of each sort key, once per index build.
  const sortFirst: number[] = [];
  for (const key of LIBRARY_SORTS) {
    const s0 = performance.now();
    service.query({}, { key, desc: false }, 0, PAGE);
    sortFirst.push(performance.now() - s0);
  }

  // Warm-up: the JIT compiles the scan loops on first use; 30 other filter changes, not timed.
  for (const { filter, sort } of interactions(230).slice(200)) {
    service.facets(filter);
    service.query(filter, sort, 0, PAGE);
  }

  const ours = { facets: [] as number[], firstPage: [] as number[], jump: [] as number[], both: [] as number[] };
  for (const { filter, sort, offsets } of plan) {
    const a = performance.now();
    const facets = service.facets(filter);
    const b = performance.now();
    service.query(filter, sort, 0, PAGE);
    const c = performance.now();
    ours.facets.push(b - a);
    ours.firstPage.push(c - b);
    ours.both.push(c - a);
    for (const f of offsets) {
      const offset = Math.floor(f * Math.max(0, facets.total - PAGE));
      const d = performance.now();
      service.query(filter, sort, offset, PAGE);
      ours.jump.push(performance.now() - d);
    }
  }

  const db = store.connection;
  const sql = { facets: [] as number[], firstPage: [] as number[], jump: [] as number[], both: [] as number[] };
  for (const { filter, sort, offsets } of plan) {
    const a = performance.now();
    const facets = sqlFacets(db, filter);
    const b = performance.now();
    sqlPage(db, filter, sort, 0, PAGE);
    const c = performance.now();
    sql.facets.push(b - a);
    sql.firstPage.push(c - b);
    sql.both.push(c - a);
    for (const f of offsets) {
      const offset = Math.floor(f * Math.max(0, facets.total - PAGE));
      const d = performance.now();
      sqlPage(db, filter, sort, offset, PAGE);
      sql.jump.push(performance.now() - d);
    }
  }

  console.log(`\nindex build after a write (scan + dictionaries), 5×: ${stats(builds)}`);
  console.log(`first use of each sort key (${LIBRARY_SORTS.join(', ')}): ${sortFirst.map((t) => t.toFixed(1)).join(', ')} ms`);
  const rows: [string, keyof typeof ours][] = [
    ['facets (6 facets, live counts)', 'facets'],
    ['first page of a new filter', 'firstPage'],
    ['facets + first page (one filter change)', 'both'],
    ['jump to a random page (same filter)', 'jump'],
  ];
  console.log('');
  for (const [label, key] of rows) {
    console.log(`${label.padEnd(40)} ours     ${stats(ours[key])}`);
    console.log(`${''.padEnd(40)} SQL      ${stats(sql[key])}   p95 ratio SQL/ours ${(p95(sql[key]) / p95(ours[key])).toFixed(1)}×`);
  }
  const goal = p95(ours.both) < 20 && p95(ours.jump) < 20;
  console.log(`\ngoal p95 < 20 ms (facets + page, and page jumps): ${goal ? 'met' : 'NOT met'}`);
  store.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}

/** Naive thumbnail: JS PNG decode, box-filter resize to fit 256, JS PNG encode, on this thread. */
const naiveRenderer: ThumbRenderer = async (src, dest) => {
  const img = decodePng(await readFile(src));
  const scale = Math.min(1, THUMB_MAX_SIDE / Math.max(img.width, img.height));
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const out = new Uint8Array(w * h * 3);
  const c = img.channels;
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * img.height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * img.width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * img.width) / w));
      for (let k = 0; k < 3; k++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += img.data[(yy * img.width + xx) * c + (c >= 3 ? k : 0)]!;
        out[(y * w + x) * 3 + k] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  await writeFile(dest, encodePng(out, w, h, 3));
};

const thumbRoot = await mkdtemp(join(tmpdir(), 'library-thumbs-bench-'));
try {
  const report = await generateMiadMini({ outDir: join(thumbRoot, 'mini'), train: 10, test: 6, size: 512, seed: 11 });
  const files = report.scenarios.flatMap((s) => s.files).map((f) => join(thumbRoot, 'mini', f.relPath));
  console.log(`\nthumbnails: ${files.length} MIAD-mini images at 512 px → webp/png at most ${THUMB_MAX_SIDE} px`);
  const runs: { label: string; concurrency: number; render?: ThumbRenderer }[] = [
    { label: 'ours: sharp, 4 at once', concurrency: 4 },
    { label: 'sharp, 1 at a time', concurrency: 1 },
    { label: 'naive: JS decode + box resize + encode', concurrency: 1, render: naiveRenderer },
  ];
  const rates: number[] = [];
  for (const [i, run] of runs.entries()) {
    const cache = new ThumbnailCache({ dir: join(thumbRoot, `thumbs-${i}`), concurrency: run.concurrency, ...(run.render ? { render: run.render } : {}) });
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    const t0 = performance.now();
    const items = await cache.get(files.map((path, id) => ({ id, path, contentHash: null, fileSize: null, mtimeMs: null })));
    const s = (performance.now() - t0) / 1000;
    lag.disable();
    if (items.some((t) => t.error)) throw new Error(items.find((t) => t.error)!.error!);
    rates.push(files.length / s);
    console.log(`${run.label.padEnd(42)} ${(files.length / s).toFixed(1).padStart(7)} images/s   longest event-loop stall ${(lag.max / 1e6).toFixed(0).padStart(5)} ms`);
  }
  console.log(`ratio ours / sharp at concurrency 1: ${(rates[0]! / rates[1]!).toFixed(2)}×; ours / naive: ${(rates[0]! / rates[2]!).toFixed(1)}×`);
} finally {
  await rm(thumbRoot, { recursive: true, force: true });
}
