/**
 * Benchmark of the runs table in Chromium with 1,000 runs: the time from opening the Runs area to
 * the table shown, a re-sort by a metric, and frame times while the table is scrolled
 * programmatically (steady, fling, random jumps), recorded with requestAnimationFrame.
 *
 * Setup: a workspace with 1,000 runs (7 methods × 7 scenarios, every status, metrics overall and
 * per defect type) inserted through the store; the real server; Debian's Chromium.
 *
 * Reference, measured in the same run and browser: a naive table, all 1,000 rows with the same 15
 * cells (checkbox, tag chips, buttons) in the DOM at once, built and scrolled the same way.
 *
 * Run: npm run build && npx tsx bench/runs-table.ts [runs]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { openWorkspace } from '../src/main/core/workspace/workspace';
import { insertRun } from '../src/main/core/store/runs-repo';
import { SCENARIOS, SCENARIO_INFO } from '../src/shared/taxonomy';
import type { RunStatus } from '../src/shared/types';

// tests/helpers/browser.ts finds the repository from `__dirname`, which vitest defines and an ES
// module run by tsx does not: define it for that module, then load it.
(globalThis as { __dirname?: string }).__dirname = fileURLToPath(new URL('../tests/helpers/', import.meta.url));
const { launchChromium, startServe } = await import('../tests/helpers/browser');

const RUNS = Number(process.argv[2] ?? 1000);
const METHODS = ['patchcore', 'reverse_distillation', 'fastflow', 'draem', 'unet_ae', 'uniad', 'external'];
const STATUSES: RunStatus[] = ['done', 'done', 'done', 'done', 'failed', 'cancelled', 'queued'];

interface FrameStats {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  over50: number;
}

function summary(deltas: number[]): FrameStats {
  const s = [...deltas].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] ?? 0, over50: s.filter((d) => d > 50).length };
}

function line(label: string, st: FrameStats): string {
  return `${label.padEnd(34)} ${String(st.frames).padStart(5)} frames  p50 ${st.p50.toFixed(1).padStart(6)} ms  p95 ${st.p95.toFixed(1).padStart(6)} ms  max ${st.max.toFixed(1).padStart(6)} ms  >50 ms: ${st.over50}`;
}

// Sent as source text: tsx would wrap a function literal with helpers the page does not have.
const IN_PAGE_SCROLL = `async function (sel) {
  const el = document.querySelector(sel);
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
  const steady = await phase(200, (e) => (e.scrollTop += 30));
  const fling = await phase(120, (e) => (e.scrollTop += 700));
  const jumps = await phase(120, (e, f) => { if (f % 4 === 0) e.scrollTop = rand() * (e.scrollHeight - e.clientHeight); });
  return { steady, fling, jumps };
}`;

async function scrollFrames(page: Page, selector: string): Promise<{ steady: number[]; fling: number[]; jumps: number[] }> {
  return page.evaluate(`(${IN_PAGE_SCROLL})(${JSON.stringify(selector)})`) as Promise<{ steady: number[]; fling: number[]; jumps: number[] }>;
}

/** Time from a click to the second animation frame after it (the DOM updated and painted). */
const CLICK_TO_PAINT = `async function (sel) {
  const t0 = performance.now();
  document.querySelector(sel).click();
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  return performance.now() - t0;
}`;

const NAIVE_BUILD = `(n) => {
  const parts = [];
  for (let i = 0; i < n; i++) {
    const id = n - i;
    parts.push('<tr><td><input type="checkbox"></td><td>#' + id + '</td><td><b>run ' + id + '</b><br><span class="b">RANDOM INIT</span></td>'
      + '<td><span class="c">baseline<button>×</button></span><button>+ tag</button></td><td>patchcore</td><td>nut and bolt</td><td><span class="c">done</span></td>'
      + '<td>wasm</td><td>2026-11-28 23:41</td><td>12.5 s</td><td>0.812</td><td>0.934</td><td>0.701</td><td><button>add note</button></td>'
      + '<td><button>Open</button><button>Delete</button></td></tr>');
  }
  document.getElementById('b').innerHTML = parts.join('');
  return document.getElementById('s').scrollHeight;
}`;

const root = await mkdtemp(join(tmpdir(), 'runs-table-'));
let serve: Awaited<ReturnType<typeof startServe>> | null = null;
const browser = await launchChromium();
try {
  const wsDir = join(root, 'ws');
  const ws = await openWorkspace(wsDir, { create: true });
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const t0 = Date.now();
  for (let i = 0; i < RUNS; i++) {
    const method = METHODS[i % METHODS.length]!;
    const scenario = SCENARIOS[Math.floor(i / METHODS.length) % SCENARIOS.length]!;
    const status = STATUSES[i % STATUSES.length]!;
    const metrics =
      status === 'done'
        ? ['', ...SCENARIO_INFO[scenario].defects].flatMap((defectType) =>
            ['image_auroc', 'pixel_auroc', 'aupro', 'image_f1_max', 'pixel_f1_max'].map((metric) => ({ scenario, defectType, metric, value: 0.5 + 0.5 * rand(), threshold: null })),
          )
        : [];
    insertRun(
      ws.store,
      {
        name: `${method} ${scenario} #${i}`,
        kind: method === 'external' ? 'external' : 'internal',
        method,
        scenarios: [scenario],
        datasetRoot: null,
        config: { preset: i % 2 ? 'fast' : 'full', coresetRatio: 0.1 },
        backend: i % 3 ? 'wasm' : 'tensorflow',
        randomInit: i % 5 === 0,
        status,
        error: status === 'failed' ? 'out of memory' : null,
        startedAt: '2026-11-28T10:00:00.000Z',
        finishedAt: status === 'done' ? '2026-11-28T10:02:00.000Z' : null,
      },
      { metrics },
    );
  }
  ws.store.close();
  const insertMs = Date.now() - t0;

  serve = await startServe(['--workspace', wsDir], { MIAD_LAB_CONFIG_DIR: join(root, 'config'), MIAD_LAB_WORKSPACES_DIR: join(root, 'workspaces') });
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 }, bypassCSP: true });
  await page.goto(serve.url);
  await page.getByTestId('app-frame').waitFor({ timeout: 60_000 });
  const o0 = Date.now();
  await page.getByTestId('nav-runs').click();
  await page.waitForFunction(`document.querySelector('[data-testid="runs-count"]')?.textContent === ${JSON.stringify(`${RUNS} runs`)}`, null, { timeout: 60_000 });
  await page.waitForFunction(`document.querySelectorAll('[data-testid^="run-row-"]').length > 5`);
  const openMs = Date.now() - o0;
  const domRows = await page.locator('[data-testid^="run-row-"]').count();
  await page.getByTestId('runs-table').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(fileURLToPath(new URL('../test-artifacts/', import.meta.url)), 'bench-runs-table.png') });
  const sortMs = (await page.evaluate(`(${CLICK_TO_PAINT})('[data-testid="sort-image_auroc"]')`)) as number;
  const filterMs = (await page.evaluate(`(async () => {
    const el = document.querySelector('[data-testid="filter-text"]');
    const t0 = performance.now();
    el.value = 'patchcore';
    el.dispatchEvent(new Event('input', { bubbles: true }));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  })()`)) as number;
  await page.getByTestId('filter-clear').click();
  const ours = await scrollFrames(page, '[data-testid="runs-table-scroll"]');

  const naive = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await naive.setContent(`<!doctype html><style>body{margin:0;font:13px system-ui}#s{height:600px;overflow:auto}table{border-collapse:collapse;min-width:1430px}
    td{padding:0 6px;height:45px;border-bottom:1px solid #dde2e9;white-space:nowrap}.c{border:1px solid #dde2e9;border-radius:9px;padding:0 6px}.b{font-size:10px;color:#9a6700}</style>
    <div id="s"><table><tbody id="b"></tbody></table></div>`);
  const n0 = await naive.evaluate(`performance.now()`);
  await naive.evaluate(`(${NAIVE_BUILD})(${RUNS})`);
  await naive.evaluate(`new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))`);
  const naiveBuildMs = ((await naive.evaluate(`performance.now()`)) as number) - (n0 as number);
  const naiveSortMs = (await naive.evaluate(`(async () => {
    const b = document.getElementById('b');
    const t0 = performance.now();
    const rows = [...b.rows].reverse();
    b.replaceChildren(...rows);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  })()`)) as number;
  const reference = await scrollFrames(naive, '#s');

  console.log(`Runs table in Chromium (headless, --disable-gpu), ${RUNS} runs (inserted in ${insertMs} ms), viewport 1500×950`);
  console.log(`ours:  Runs area opened with the table in ${openMs} ms (server call included); ${domRows} rows in the DOM`);
  console.log(`ours:  re-sort by image AUROC ${sortMs.toFixed(1)} ms to paint; text filter ${filterMs.toFixed(1)} ms to paint`);
  console.log(`naive: ${RUNS} rows built and painted in ${naiveBuildMs.toFixed(1)} ms; reversed (a re-sort) in ${naiveSortMs.toFixed(1)} ms\n`);
  const phases: [string, 'steady' | 'fling' | 'jumps'][] = [
    ['steady scroll (30 px/frame)', 'steady'],
    ['fling (700 px/frame)', 'fling'],
    ['random jumps (every 4th frame)', 'jumps'],
  ];
  for (const [label, key] of phases) {
    const a = summary(ours[key]);
    const b = summary(reference[key]);
    console.log(line(`ours   ${label}`, a));
    console.log(line(`naive  ${label}`, b) + `   p95 ratio naive/ours ${(b.p95 / a.p95).toFixed(2)}×`);
  }
  console.log(`\nsort ratio naive/ours ${(naiveSortMs / sortMs).toFixed(2)}×`);
  const all = summary([...ours.steady, ...ours.fling, ...ours.jumps]);
  console.log(`ours over all phases: ${line('', all).trim()}; goal no frame > 50 ms: ${all.over50 === 0 ? 'met' : 'NOT met'}`);
} finally {
  await browser.close();
  await serve?.stop();
  await rm(root, { recursive: true, force: true });
}
