/**
 * Benchmark of the Library grid's scrolling in Chromium over 105,000 samples: frame times while
 * the grid is scrolled programmatically (a steady scroll, a fling, and random jumps across the
 * whole set), recorded with requestAnimationFrame; p50 / p95 / max and frames over 50 ms.
 *
 * Setup: a workspace whose 105,000 sample rows share the content hashes of a few real MIAD-mini
 * images, whose thumbnails are made first, so every tile shows a real thumbnail from the cache;
 * the real server (`miad-lab serve`), Debian's Chromium through playwright-core.
 *
 * Reference, measured in the same run and browser: the naive grid, all 105,000 tiles in the DOM
 * (a CSS grid of divs with a caption, no images), built and scrolled the same way.
 *
 * Run: npm run build && npx tsx bench/library-scroll.ts [rows]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWorkspace } from '../src/main/core/workspace/workspace';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { ThumbnailCache } from '../src/main/core/library/thumbnails';
import { insertSynthetic } from '../tests/library/synthetic';
import { fileURLToPath } from 'node:url';

// tests/helpers/browser.ts finds the repository from `__dirname`, which vitest defines and an ES
// module run by tsx does not: define it for that module, then load it.
(globalThis as { __dirname?: string }).__dirname = fileURLToPath(new URL('../tests/helpers/', import.meta.url));
const { launchChromium, startServe } = await import('../tests/helpers/browser');

const ROWS = Number(process.argv[2] ?? 105_000);

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  over50: number;
}

interface ScrollResult {
  steady: number[];
  fling: number[];
  jumps: number[];
  /** Long animation frames seen: how many, and their total, script and style+layout ms. */
  long: { count: number; duration: number; script: number; styleLayout: number };
}

function summary(deltas: number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0, over50: s.filter((d) => d > 50).length };
}

function line(label: string, st: FrameStats): string {
  return `${label.padEnd(34)} ${String(st.frames).padStart(5)} frames  p50 ${st.p50.toFixed(1).padStart(6)} ms  p95 ${st.p95.toFixed(1).padStart(6)} ms  max ${st.max.toFixed(1).padStart(6)} ms  >50 ms: ${st.over50}`;
}

/**
 * Scrolls `selector` in the page: `steady` px per frame for `frames` frames, then a fling, then
 * random jumps. Returns the frame-to-frame deltas of each phase.
 */
async function scrollFrames(page: Page, selector: string): Promise<ScrollResult> {
  // Sent as source text: tsx would wrap a function literal with helpers the page does not have.
  return page.evaluate(`(${IN_PAGE_SCROLL})(${JSON.stringify(selector)})`) as Promise<ScrollResult>;
}

const IN_PAGE_SCROLL = `async function (sel) {
  const el = document.querySelector(sel);
  // Long animation frames (> 50 ms) with where their time went: scripts vs. style and layout.
  const loaf = [];
  let observer = null;
  try {
    observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) loaf.push(e); });
    observer.observe({ type: 'long-animation-frame', buffered: false });
  } catch {}
  const phase = (frames, step) => new Promise((resolve) => {
    const deltas = [];
    let last = performance.now();
    let n = 0;
    const tick = (now) => {
      deltas.push(now - last);
      last = now;
      if (n++ >= frames) return resolve(deltas.slice(1));
      step(el, n);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const steady = await phase(300, (e) => (e.scrollTop += 40));
  const fling = await phase(200, (e) => (e.scrollTop += 900));
  const jumps = await phase(200, (e, f) => { if (f % 5 === 0) e.scrollTop = rand() * (e.scrollHeight - e.clientHeight); });
  observer?.disconnect();
  const sum = (f) => loaf.reduce((s, e) => s + f(e), 0);
  const long = { count: loaf.length, duration: sum((e) => e.duration), script: sum((e) => e.scripts.reduce((s, x) => s + x.duration, 0)), styleLayout: sum((e) => e.styleAndLayoutStart ? e.startTime + e.duration - e.styleAndLayoutStart : 0) };
  return { steady, fling, jumps, long };
}`;

const NAIVE_BUILD = `(n) => {
  const g = document.getElementById('g');
  const parts = [];
  for (let i = 0; i < n; i++) parts.push('<div class="t"><div class="i"></div><div class="c">good ' + String(i).padStart(6, '0') + '.png</div></div>');
  g.innerHTML = parts.join('');
  return g.scrollHeight;
}`;

const root = await mkdtemp(join(tmpdir(), 'library-scroll-'));
let serve: Awaited<ReturnType<typeof startServe>> | null = null;
const browser = await launchChromium();
try {
  const wsDir = join(root, 'ws');
  const ws = await openWorkspace(wsDir, { create: true });
  // A few real images: their hashes are shared by all rows, their thumbnails made up front.
  const mini = await generateMiadMini({ outDir: join(wsDir, 'datasets', 'mini'), scenarios: ['wind_turbine', 'metal_welding'], train: 4, test: 4, size: 256, seed: 5 });
  const files = mini.scenarios.flatMap((s) => s.files).map((f) => join(wsDir, 'datasets', 'mini', f.relPath));
  const hashes = await Promise.all(files.map(async (f) => createHash('sha256').update(await readFile(f)).digest('hex')));
  const cache = new ThumbnailCache({ dir: join(wsDir, 'thumbs') });
  const made = await cache.get(files.map((path, i) => ({ id: i, path, contentHash: hashes[i]!, fileSize: null, mtimeMs: null })));
  if (made.some((m) => m.error)) throw new Error(`thumbnails failed: ${made.find((m) => m.error)!.error}`);
  insertSynthetic(ws.store, { count: ROWS, seed: 3, root: join(wsDir, 'datasets', 'mini'), hashes });
  ws.store.close();

  serve = await startServe(['--workspace', wsDir], { MIAD_LAB_CONFIG_DIR: join(root, 'config'), MIAD_LAB_WORKSPACES_DIR: join(root, 'workspaces') });
  // The app's CSP forbids eval; the measuring script is sent as text, so this page bypasses it.
  const page = await browser.newPage({ viewport: { width: 1360, height: 860 }, bypassCSP: true });
  await page.goto(serve.url);
  await page.getByTestId('app-frame').waitFor({ timeout: 60_000 });
  const t0 = Date.now();
  await page.getByTestId('nav-library').click();
  await page.waitForFunction(`document.querySelector('[data-testid="library-total"]')?.textContent?.includes(${JSON.stringify(`${ROWS.toLocaleString('en')} samples`)})`, null, { timeout: 60_000 });
  await page.waitForFunction(`document.querySelectorAll('[data-testid="library-thumb"]').length > 10`, null, { timeout: 60_000 });
  const openMs = Date.now() - t0;
  const tiles = await page.getByTestId('library-tile').count();
  const ours = await scrollFrames(page, '[data-testid="library-grid"]');
  await page.waitForTimeout(500);
  const thumbsAfter = await page.getByTestId('library-thumb').count();

  // The naive grid: every tile in the DOM.
  const naive = await browser.newPage({ viewport: { width: 1360, height: 860 } });
  const b0 = Date.now();
  await naive.setContent(`<!doctype html><style>body{margin:0}#g{height:100vh;overflow-y:auto;display:grid;grid-template-columns:repeat(auto-fill,132px);gap:8px;padding:8px}
    .t{height:152px}.i{height:132px;background:#cbd3dd;border-radius:5px}.c{font:11px sans-serif}</style><div id="g"></div>`);
  await naive.evaluate(`(${NAIVE_BUILD})(${ROWS})`);
  const naiveBuildMs = Date.now() - b0;
  const reference = await scrollFrames(naive, '#g');

  console.log(`Library grid scrolling in Chromium (headless, --disable-gpu), ${ROWS.toLocaleString('en')} samples, viewport 1360×860`);
  console.log(`ours: Library opened with thumbnails in ${openMs} ms; ${tiles} tiles in the DOM; ${thumbsAfter} thumbnails shown after the last jump`);
  console.log(`naive: ${ROWS.toLocaleString('en')} tiles in the DOM, built in ${naiveBuildMs} ms\n`);
  const phases: [string, 'steady' | 'fling' | 'jumps'][] = [
    ['steady scroll (40 px/frame)', 'steady'],
    ['fling (900 px/frame)', 'fling'],
    ['random jumps (every 5th frame)', 'jumps'],
  ];
  for (const [label, key] of phases) {
    const a = summary(ours[key]);
    const b = summary(reference[key]);
    console.log(line(`ours   ${label}`, a));
    console.log(line(`naive  ${label}`, b) + `   p95 ratio naive/ours ${(b.p95 / a.p95).toFixed(2)}×`);
  }
  const longLine = (r: ScrollResult) =>
    `${r.long.count} long frames, ${r.long.duration.toFixed(0)} ms in all: scripts ${r.long.script.toFixed(0)} ms, style + layout + paint ${r.long.styleLayout.toFixed(0)} ms`;
  console.log(`\nlong animation frames, ours:  ${longLine(ours)}`);
  console.log(`long animation frames, naive: ${longLine(reference)}`);
  const all = summary([...ours.steady, ...ours.fling, ...ours.jumps]);
  console.log(`\nours over all phases: ${line('', all).trim()}; goal no frame > 50 ms: ${all.over50 === 0 ? 'met' : 'NOT met'}`);
} finally {
  await browser.close();
  await serve?.stop();
  await rm(root, { recursive: true, force: true });
}
