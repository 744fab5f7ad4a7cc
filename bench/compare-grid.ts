/**
 * Benchmark of the qualitative grid (Figure A.1) in Chromium: 8 runs × 28 test images at 128 px
 * cells, as compare:grid sends them (8-bit codes in base64 with lo/hi), decoded and drawn into one
 * canvas by the Compare view's own code (lib/compare/grid-canvas.ts, bundled with esbuild) — the
 * first draw (decode + paint + images + legend), a redraw for a new threshold or scale, and a
 * canvas-to-PNG export.
 *
 * Reference, measured in the same run and page: the naive render, one fillRect per map pixel with
 * a CSS colour string computed per pixel (the same ramp), on the same data.
 *
 * Run: npx tsx bench/compare-grid.ts [runs] [rows] [cell]
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { GridData } from '../src/shared/calls/compare';

(globalThis as { __dirname?: string }).__dirname = fileURLToPath(new URL('../tests/helpers/', import.meta.url));
const { launchChromium } = await import('../tests/helpers/browser');

const RUNS = Number(process.argv[2] ?? 8);
const ROWS = Number(process.argv[3] ?? 28);
const CELL = Number(process.argv[4] ?? 128);

/** Smooth synthetic maps: a few Gaussian blobs per cell on a noisy floor, per-run scales. */
function syntheticGrid(): GridData {
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const runs = Array.from({ length: RUNS }, (_, r) => ({
    runId: r + 1,
    label: `#${r + 1} method ${r}`,
    method: `method${r}`,
    randomInit: r % 3 === 0,
    scale: { lo: r * 0.1, hi: 1 + r * 0.5 },
    pixelThreshold: 0.5 + r * 0.3,
  }));
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    relPath: `test/type${i % 7}/${i}.png`,
    defectType: i % 7 === 0 ? 'good' : `type${i % 7}`,
    imagePath: null,
    maskPath: null,
    cells: runs.map((run) => {
      const bytes = new Uint8Array(CELL * CELL);
      const blobs = Array.from({ length: 3 }, () => ({ x: rand() * CELL, y: rand() * CELL, s: 6 + rand() * 20 }));
      for (let y = 0; y < CELL; y++) {
        for (let x = 0; x < CELL; x++) {
          let v = 0.1 * rand();
          for (const b of blobs) v += Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
          bytes[y * CELL + x] = Math.min(255, Math.round(v * 200));
        }
      }
      return { width: CELL, height: CELL, data: Buffer.from(bytes).toString('base64'), lo: run.scale.lo, hi: run.scale.hi };
    }),
  }));
  const shared = { lo: Math.min(...runs.map((r) => r.scale.lo)), hi: Math.max(...runs.map((r) => r.scale.hi)) };
  return { scenario: 'nut_and_bolt', runs, shared, rows };
}

const bundle = await build({
  stdin: {
    contents: `
      import { drawGrid } from './src/renderer/src/lib/compare/grid-canvas';
      import { cellCodes, heatLut } from './src/renderer/src/lib/compare/grid-render';
      import { heatCss } from './src/shared/compare/heat';
      window.gridBench = { drawGrid, cellCodes, heatLut, heatCss };
    `,
    resolveDir: fileURLToPath(new URL('..', import.meta.url)),
    loader: 'ts',
  },
  bundle: true,
  format: 'iife',
  write: false,
  target: 'chrome120',
});
const script = bundle.outputFiles[0]!.text;

const IN_PAGE = `async (data) => {
  const { drawGrid, cellCodes, heatLut, heatCss } = window.gridBench;
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const images = data.rows.map((_, i) => {
    const c = document.createElement('canvas');
    c.width = c.height = ${CELL};
    const g = c.getContext('2d');
    g.fillStyle = 'hsl(' + (i * 37) % 360 + ' 30% 60%)';
    g.fillRect(0, 0, ${CELL}, ${CELL});
    return c;
  });
  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  const lut = heatLut();
  const paint = (codes, thresholds, sharedScale) => drawGrid(canvas, {
    data, codes, images, masks: images.map(() => null), imageSizes: images.map(() => ({ width: ${CELL}, height: ${CELL} })),
    cellSize: ${CELL}, sharedScale, thresholds, lut,
    rowLabels: data.rows.map((r) => r.defectType), runLabels: data.runs.map((r) => r.label),
  });
  const first = [];
  const redraw = [];
  const parts = [];
  let codes = null;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    codes = data.rows.map((row) => row.cells.map((c) => (c ? cellCodes(c) : null)));
    const td = performance.now();
    paint(codes, data.runs.map((r) => r.pixelThreshold), true);
    const tp = performance.now();
    await frame();
    first.push(performance.now() - t0);
    parts.push([td - t0, tp - td, performance.now() - tp]);
    const t1 = performance.now();
    paint(codes, data.runs.map((r) => r.scale.lo + (0.3 + k * 0.1) * (r.scale.hi - r.scale.lo)), k % 2 === 0);
    await frame();
    redraw.push(performance.now() - t1);
  }
  const p0 = performance.now();
  const png = await new Promise((r) => canvas.toBlob(r, 'image/png'));
  const pngMs = performance.now() - p0;

  // Naive: per pixel, the value, a jet colour string, one fillRect.
  const naive = document.createElement('canvas');
  naive.width = canvas.width;
  naive.height = canvas.height;
  const ctx = naive.getContext('2d');
  const n0 = performance.now();
  data.rows.forEach((row, r) => {
    row.cells.forEach((cell, i) => {
      const bin = atob(cell.data);
      const x0 = 100 + (i + 2) * ${CELL + 4};
      const y0 = 40 + r * ${CELL + 4};
      const { lo, hi } = data.shared;
      for (let p = 0; p < bin.length; p++) {
        const v = cell.lo + (bin.charCodeAt(p) / 255) * (cell.hi - cell.lo);
        const t = (v - lo) / (hi - lo);
        ctx.fillStyle = heatCss(t);
        ctx.fillRect(x0 + (p % cell.width), y0 + Math.floor(p / cell.width), 1, 1);
      }
    });
  });
  await frame();
  const naiveMs = performance.now() - n0;
  return { first, parts, redraw, pngMs, pngBytes: png.size, naiveMs, width: canvas.width, height: canvas.height };
}`;

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.setContent('<!doctype html><body style="margin:0"></body>');
  await page.addScriptTag({ content: script });
  const data = syntheticGrid();
  const r = (await page.evaluate(`(${IN_PAGE})(${JSON.stringify(data)})`)) as {
    first: number[];
    parts: number[][];
    redraw: number[];
    pngMs: number;
    pngBytes: number;
    naiveMs: number;
    width: number;
    height: number;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const pixels = RUNS * ROWS * CELL * CELL;
  console.log(`Qualitative grid in Chromium (headless, --disable-gpu): ${RUNS} runs × ${ROWS} images, ${CELL} px cells (${(pixels / 1e6).toFixed(2)} M map pixels), canvas ${r.width}×${r.height}`);
  console.log(`ours  first draw (decode base64 + colormap + outlines + images + legend, to paint): median ${median(r.first).toFixed(1)} ms  [${r.first.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`      of which decode / draw calls / to paint: ${r.parts.map((p) => p.map((x) => x.toFixed(0)).join(' / ')).join(', ')} ms`);
  console.log(`ours  redraw (new threshold / scale):                                     median ${median(r.redraw).toFixed(1)} ms  [${r.redraw.map((x) => x.toFixed(0)).join(', ')}]`);
  console.log(`ours  PNG export: ${r.pngMs.toFixed(0)} ms, ${(r.pngBytes / 1024).toFixed(0)} KiB`);
  console.log(`naive per-pixel fillRect (maps only, no outlines): ${r.naiveMs.toFixed(0)} ms`);
  console.log(`ratio naive/ours (first draw): ${(r.naiveMs / median(r.first)).toFixed(1)}×; goal first draw < 1000 ms: ${median(r.first) < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await browser.close();
}
