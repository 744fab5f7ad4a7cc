/**
 * `evaluatePredictions` and `miad-lab evaluate` on a small dataset written to disk in MVTec layout
 * (real PNG masks, real .npy predictions in float32 and float16): parity of every metric with the
 * sklearn / MVTec references, per defect type; scores.json; resizing; and one clear error listing
 * every bad input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/main/cli/main';
import { evaluatePredictions } from '../../src/main/core/evaluation/evaluate-predictions';
import { encodeNpy } from '../../src/main/core/evaluation/npy';
import { pixelMetrics } from '../../src/main/core/evaluation/pixel-metrics';
import { resizeBilinear } from '../../src/main/core/evaluation/post-process';
import { encodePng } from '../../src/main/core/image/png';
import { useTmpDirs } from '../helpers/tmp';
import { capture } from '../helpers/cli';
import { blobMask, rng, runReference } from './reference';

const tmp = useTmpDirs();
const S = 16;

interface Fixture {
  root: string;
  preds: string;
  /** In evaluation order (labels sorted, files sorted). */
  images: { label: string; name: string; map: Float32Array; mask: Uint8Array }[];
}

/** good ×5, pit ×3, crack ×4 (sorted: crack, good, pit); maps S×S, masks S×S. */
async function fixture(opts: { mapSize?: number; nested?: boolean } = {}): Promise<Fixture> {
  const root = await tmp();
  const preds = await tmp();
  const scen = opts.nested ? join(root, 'metal_welding', 'metal_welding') : join(root, 'metal_welding');
  const r = rng(11);
  const images: Fixture['images'] = [];
  const m = opts.mapSize ?? S;
  for (const [label, count] of [['crack', 4], ['good', 5], ['pit', 3]] as const) {
    mkdirSync(join(scen, 'test', label), { recursive: true });
    mkdirSync(join(preds, 'test', label), { recursive: true });
    if (label !== 'good') mkdirSync(join(scen, 'ground_truth', label), { recursive: true });
    for (let k = 0; k < count; k++) {
      const name = String(k).padStart(3, '0');
      const mask = label === 'good' ? new Uint8Array(S * S) : blobMask(r, S, S, 1 + (k % 2));
      writeFileSync(join(scen, 'test', label, `${name}.png`), encodePng(new Uint8Array(S * S * 3).fill(90), S, S, 3));
      if (label !== 'good') writeFileSync(join(scen, 'ground_truth', label, `${name}_mask.png`), encodePng(mask, S, S, 1));
      const map = new Float32Array(m * m);
      for (let y = 0; y < m; y++) {
        for (let x = 0; x < m; x++) {
          const inMask = mask[Math.floor((y * S) / m) * S + Math.floor((x * S) / m)]! > 0;
          map[y * m + x] = r() * 0.5 + (inMask ? 0.4 * r() : 0);
        }
      }
      // float16 for the pit maps: what many tools save to halve the size.
      writeFileSync(join(preds, 'test', label, `${name}.npy`), encodeNpy(map, [m, m], label === 'pit' ? 'float16' : 'float32'));
      images.push({ label, name, map: label === 'pit' ? roundHalf(map) : map, mask });
    }
  }
  return { root, preds, images };
}

function roundHalf(map: Float32Array): Float32Array {
  // What the reader will see: the float16 rounding of the map.
  const f = new Float32Array(map.length);
  const buf = encodeNpy(map, [map.length], 'float16');
  const bits = new Uint16Array(buf.slice(buf.length - map.length * 2).buffer);
  for (let i = 0; i < map.length; i++) {
    const h = bits[i]!;
    const e = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    f[i] = (h & 0x8000 ? -1 : 1) * (e === 0 ? mant * 2 ** -24 : (1 + mant / 1024) * 2 ** (e - 15));
  }
  return f;
}

function stack(f: Fixture): { maps: Float32Array; masks: Uint8Array } {
  const maps = new Float32Array(f.images.length * S * S);
  const masks = new Uint8Array(f.images.length * S * S);
  f.images.forEach((im, i) => {
    maps.set(im.map, i * S * S);
    masks.set(im.mask, i * S * S);
  });
  return { maps, masks };
}

describe('evaluatePredictions', () => {
  it('matches sklearn and the MVTec AUPRO overall and per defect type', async () => {
    const f = await fixture();
    const result = await evaluatePredictions({ datasetRoot: f.root, scenario: 'metal_welding', predictionsDir: f.preds, resolution: S });
    expect(result.testImages).toBe(12);
    expect(result.perDefect.map((d) => d.defect)).toEqual(['crack', 'pit']);
    expect(result.overall.images).toEqual({ normal: 5, anomalous: 7 });
    expect(result.perDefect[1]!.images).toEqual({ normal: 5, anomalous: 3 });
    const { maps, masks } = stack(f);
    const labels = f.images.map((im) => im.label);
    const ref = runReference({
      n: 12,
      height: S,
      width: S,
      maps,
      masks,
      subsets: [labels.map(() => true), labels.map((l) => l !== 'pit'), labels.map((l) => l !== 'crack')],
    });
    const scopes = [result.overall, ...result.perDefect];
    scopes.forEach((scope, s) => {
      const r = ref[s]!;
      expect(scope.metrics.imageAuroc).toBeCloseTo(r.image_auroc as number, 9);
      expect(scope.metrics.pixelAuroc).toBeCloseTo(r.pixel_auroc as number, 9);
      expect(Math.abs(scope.metrics.aupro! - (r.pro as { aupro: number }).aupro)).toBeLessThan(1e-6);
      expect(scope.metrics.pixelF1Max).toBeCloseTo((r.pixel_f1 as number[])[0]!, 9);
      expect(scope.metrics.imageF1Max).toBeCloseTo((r.image_f1 as number[])[0]!, 9);
    });
    expect(result.meanOverDefects.aupro).toBeCloseTo((result.perDefect[0]!.metrics.aupro! + result.perDefect[1]!.metrics.aupro!) / 2, 12);
    // Plain JSON: survives a round trip unchanged.
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('takes image scores from scores.json, and finds a nested scenario folder', async () => {
    const f = await fixture({ nested: true });
    const scores: Record<string, number> = {};
    f.images.forEach((im, i) => (scores[`test/${im.label}/${im.name}.png`] = im.label === 'good' ? i * 0.01 : 1 + i * 0.01));
    scores['test/other/zzz.png'] = 3;
    writeFileSync(join(f.preds, 'scores.json'), JSON.stringify(scores));
    const result = await evaluatePredictions({ datasetRoot: f.root, scenario: 'metal_welding', predictionsDir: f.preds, resolution: S });
    expect(result.imageScores).toBe('scores.json');
    expect(result.overall.metrics.imageAuroc).toBe(1);
    expect(result.warnings.join('\n')).toMatch(/test\/other\/zzz.png/);
  });

  it('resizes maps bilinearly to the evaluation resolution', async () => {
    const f = await fixture({ mapSize: 40 });
    const result = await evaluatePredictions({ datasetRoot: f.root, scenario: 'metal_welding', predictionsDir: f.preds, resolution: S });
    const maps = new Float32Array(12 * S * S);
    f.images.forEach((im, i) => maps.set(resizeBilinear(im.map, 40, 40, S, S), i * S * S));
    const masks = new Uint8Array(12 * S * S);
    f.images.forEach((im, i) => masks.set(im.mask, i * S * S));
    const [all] = pixelMetrics({ width: S, height: S, count: 12, maps, masks });
    expect(result.overall.metrics.pixelAuroc).toBe(all!.auroc);
    expect(result.overall.metrics.aupro).toBe(all!.aupro);
  });

  it('lists every bad input in one error', async () => {
    const f = await fixture();
    const p = (rel: string) => join(f.preds, 'test', ...rel.split('/'));
    writeFileSync(p('good/000.npy'), encodeNpy([1, Number.NaN, 0, 0], [2, 2], 'float32'));
    writeFileSync(p('good/001.npy'), Uint8Array.from([1, 2, 3, 4]));
    writeFileSync(p('good/002.npy'), encodeNpy(new Float32Array(S * 8), [S, 8], 'float32'));
    const { rmSync } = await import('node:fs');
    rmSync(p('crack/001.npy'));
    rmSync(join(f.root, 'metal_welding', 'ground_truth', 'pit', '002_mask.png'));
    const error = await evaluatePredictions({ datasetRoot: f.root, scenario: 'metal_welding', predictionsDir: f.preds, resolution: S }).then(
      () => null,
      (e: Error) => e,
    );
    expect(error?.name).toBe('EvaluationInputError');
    const msg = error!.message;
    expect(msg).toMatch(/missing prediction test\/crack\/001.npy/);
    expect(msg).toMatch(/test\/good\/000.npy holds NaN/);
    expect(msg).toMatch(/unreadable prediction test\/good\/001.npy: not a .npy file/);
    expect(msg).toMatch(/shape mismatch: .*test\/good\/002.npy is 16×8/);
    expect(msg).toMatch(/missing mask for anomalous image test\/pit\/002.png/);
  });

  it('refuses a test set with one class only, naming why', async () => {
    const f = await fixture();
    const { rmSync } = await import('node:fs');
    for (const d of ['crack', 'pit']) rmSync(join(f.root, 'metal_welding', 'test', d), { recursive: true });
    await expect(evaluatePredictions({ datasetRoot: f.root, scenario: 'metal_welding', predictionsDir: f.preds, resolution: S })).rejects.toThrow(
      /all normal; AUROC needs both/,
    );
    await expect(evaluatePredictions({ datasetRoot: f.root, scenario: 'nope', predictionsDir: f.preds })).rejects.toThrow(/no scenario folder/);
  });
});

describe('miad-lab evaluate', () => {
  it('prints the table, or one JSON document with --json; bad usage exits 2', async () => {
    const f = await fixture();
    const { io, out, err } = capture();
    const args = ['evaluate', '--dataset', f.root, '--scenario', 'metal_welding', '--predictions', f.preds, '--resolution', String(S)];
    expect(await runCli(args, io)).toBe(0);
    expect(out.join('\n')).toMatch(/overall .*\n.*crack.*\n.*pit.*\nmean over defect types/);
    out.length = 0;
    expect(await runCli([...args, '--json'], io)).toBe(0);
    const doc = JSON.parse(out.join('')) as { ok: boolean; result: { overall: { metrics: { aupro: number } } } };
    expect(doc.ok).toBe(true);
    expect(doc.result.overall.metrics.aupro).toBeGreaterThan(0.5);
    expect(await runCli(['evaluate', '--scenario', 'x', '--predictions', f.preds], io)).toBe(2);
    expect(await runCli([...args, '--resolution', 'big'], io)).toBe(2);
    // Bad inputs are ValidationErrors, which the CLI maps to exit 2 like bad usage.
    expect(await runCli(['evaluate', '--dataset', f.root, '--scenario', 'x', '--predictions', f.preds], io)).toBe(2);
    expect(err.join('\n')).toMatch(/no scenario folder/);
    // Bad prediction files are a failure (exit 1), reported with the files.
    writeFileSync(join(f.preds, 'test', 'good', '000.npy'), 'junk');
    expect(await runCli(args, io)).toBe(1);
    expect(err.join('\n')).toMatch(/unreadable prediction test\/good\/000.npy/);
  });
});
