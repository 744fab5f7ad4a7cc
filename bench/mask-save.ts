/**
 * Benchmark of `annotate:saveMask` end to end through the core at 1024×1024: the call as a door
 * makes it (zod validation of the base64 PNG, base64 decode, full PNG decode and checks, atomic
 * write with fsync under a fresh name, one transaction for the row and the history entry), on a
 * real workspace. The mask (a disc, a polygon, brush strokes) is sent as the editor sends it:
 * encodeMaskPng (gray 0/255, Up filter, native deflate), which the core stores as sent.
 *
 * References, measured in the same run on the same masks:
 *   - the previous path: a colour PNG as canvas.toDataURL made it (RGB here: our encoder writes
 *     no alpha), decoded, thresholded, re-encoded with the adaptive filter, written atomically;
 *   - the naive path: the same decode + an encode at zlib level 9 + a plain writeFile (no fsync);
 *   - the core call given that colour PNG (its fallback: threshold and re-encode).
 *
 * Goal: under 50 ms a save. Run: npx tsx bench/mask-save.ts [saves] (default 40).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { DemoGenerator } from '../src/main/core/datasets/demo-dataset';
import { decodePng, encodePng } from '../src/main/core/image/png';
import { createLabHost } from '../src/main/core/lab-host';
import { maskFromPng } from '../src/main/core/annotate/annotation-service';
import { writeFileAtomic } from '../src/main/core/fs-util';
import { emptyMask, fillPolygon, stamp, strokeLine, toGray, type Mask } from '../src/renderer/src/lib/annotate/mask-ops';
import { encodeMaskPng } from '../src/renderer/src/lib/annotate/mask-png';

const SAVES = Number(process.argv[2] ?? 40);
const SIDE = 1024;

/** One 1024×1024 metal_welding test image, so the workspace has a sample of that size. */
const oneBigImage: DemoGenerator = async (outDir, _options, onProgress) => {
  const rel = 'metal_welding/test/good/000.png';
  const px = new Uint8Array(SIDE * SIDE);
  for (let i = 0; i < px.length; i++) px[i] = (i * 2654435761) >>> 24;
  await mkdir(dirname(join(outDir, rel)), { recursive: true });
  await writeFile(join(outDir, rel), encodePng(px, SIDE, SIDE, 1));
  onProgress({ phase: 'generating', scenario: 'metal_welding', done: 1, total: 1 });
  return { samples: [{ scenario: 'metal_welding', split: 'test', label: 'good', relPath: rel, maskRelPath: null, width: SIDE, height: SIDE }] };
};

/** An editor-like mask, `variant` moving it a little so every save writes new bytes. */
function editorMask(variant: number): Mask {
  const m = emptyMask(SIDE, SIDE);
  stamp(m, 300 + variant, 400, 120, 1);
  fillPolygon(m, [
    { x: 520, y: 200 },
    { x: 900, y: 260 + variant },
    { x: 760, y: 700 },
    { x: 560, y: 560 },
  ], 1);
  strokeLine(m, 100, 900, 980 - variant, 820, 9, 1);
  strokeLine(m, 150, 150, 400, 700, 4, 0);
  return m;
}

/** The mask as an RGB PNG, as a canvas would give it (less the alpha channel). */
function rgbPng(m: Mask): Uint8Array {
  const gray = toGray(m);
  const rgb = new Uint8Array(SIDE * SIDE * 3);
  for (let i = 0; i < gray.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = gray[i]!;
  return encodePng(rgb, SIDE, SIDE, 3);
}

function stats(ms: number[]): { p50: number; p95: number; mean: number } {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { p50: q(0.5), p95: q(0.95), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

function line(label: string, ms: number[]): string {
  const st = stats(ms);
  return `${label.padEnd(46)} p50 ${st.p50.toFixed(2).padStart(7)} ms   p95 ${st.p95.toFixed(2).padStart(7)} ms   mean ${st.mean.toFixed(2).padStart(7)} ms`;
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'miad-mask-save-'));
  const host = createLabHost({ door: 'server', configDir: join(root, 'config'), defaultWorkspacesDir: join(root, 'workspaces'), generateDemo: oneBigImage });
  try {
    const { dir } = (await host.invoke('workspaces:createDemo', {})) as { dir: string };
    const page = (await host.invoke('library:query', {})) as { rows: { id: number }[] };
    const sampleId = page.rows[0]!.id;
    const masks = Array.from({ length: SAVES }, (_, k) => editorMask(k % 37));
    const editorB64: string[] = [];
    const encodeClient: number[] = [];
    for (const m of masks) {
      const t = performance.now();
      editorB64.push(Buffer.from(await encodeMaskPng(m)).toString('base64'));
      encodeClient.push(performance.now() - t);
    }
    const b64 = masks.map((m) => Buffer.from(rgbPng(m)).toString('base64'));
    console.log(
      `mask-save: ${SAVES} saves of a ${SIDE}×${SIDE} mask; editor PNG ${(editorB64[0]!.length / 1024).toFixed(1)} KB base64, colour PNG ${(b64[0]!.length / 1024).toFixed(1)} KB base64`,
    );

    // Warm-up: JIT, the first mask folder, the prepared statements.
    for (let k = 0; k < 3; k++) await host.invoke('annotate:saveMask', { sampleId, png: editorB64[k]! });

    const core: number[] = [];
    for (let k = 0; k < SAVES; k++) {
      const t = performance.now();
      await host.invoke('annotate:saveMask', { sampleId, png: editorB64[k]! });
      core.push(performance.now() - t);
    }
    const coreColour: number[] = [];
    for (let k = 0; k < SAVES; k++) {
      const t = performance.now();
      await host.invoke('annotate:saveMask', { sampleId, png: b64[k]! });
      coreColour.push(performance.now() - t);
    }

    const naiveDir = join(dir, 'naive');
    await mkdir(naiveDir, { recursive: true });
    const naive: number[] = [];
    const previous: number[] = [];
    const decode: number[] = [];
    const atomic: number[] = [];
    for (let k = 0; k < SAVES; k++) {
      let t = performance.now();
      maskFromPng(Buffer.from(editorB64[k]!, 'base64'), SIDE, SIDE);
      decode.push(performance.now() - t);
      t = performance.now();
      await writeFileAtomic(join(naiveDir, `atomic-${k}.png`), Buffer.from(editorB64[k]!, 'base64'));
      atomic.push(performance.now() - t);

      t = performance.now();
      const gray = maskFromPng(Buffer.from(b64[k]!, 'base64'), SIDE, SIDE);
      await writeFileAtomic(join(naiveDir, `previous-${k}.png`), encodePng(gray, SIDE, SIDE, 1));
      previous.push(performance.now() - t);

      t = performance.now();
      const img = decodePng(Buffer.from(b64[k]!, 'base64'));
      const g = new Uint8Array(SIDE * SIDE);
      for (let i = 0; i < g.length; i++) g[i] = (img.data[i * img.channels] ?? 0) >= 128 ? 255 : 0;
      await writeFile(join(naiveDir, `naive-${k}.png`), encodePng(g, SIDE, SIDE, 1, { level: 9 }));
      naive.push(performance.now() - t);
    }

    console.log(line('editor: encodeMaskPng + base64 (client side)', encodeClient));
    console.log(line('core annotate:saveMask, editor PNG', core));
    console.log(line('  part: base64 + PNG decode + threshold', decode));
    console.log(line('  part: atomic write (temp, fsync, rename)', atomic));
    console.log(line('core annotate:saveMask, colour PNG (fallback)', coreColour));
    console.log(line('previous: colour PNG, re-encode, atomic write', previous));
    console.log(line('naive: decode + encode level 9 + writeFile', naive));
    const c = stats(core).p50;
    console.log(
      `ratios (p50): previous / core ${(stats(previous).p50 / c).toFixed(2)}×, naive / core ${(stats(naive).p50 / c).toFixed(2)}×   goal < 50 ms: ${c < 50 ? 'met' : 'NOT met'} (p50 ${c.toFixed(1)} ms)`,
    );
  } finally {
    await host.close();
    await rm(root, { recursive: true, force: true });
  }
}

await main();
