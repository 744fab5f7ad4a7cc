/**
 * The editor's mask PNG (gray 0/255, Up filter, native deflate) read by the core's decoder, and
 * the core storing such a PNG as sent while re-encoding any other mask PNG as gray 0/255.
 */
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { decodePng, encodePng } from '../../src/main/core/image/png';
import { maskFileBytes } from '../../src/main/core/annotate/annotation-service';
import { emptyMask, fillPolygon, stamp, toGray } from '../../src/renderer/src/lib/annotate/mask-ops';
import { encodeMaskPng, toBase64, upFilteredRows } from '../../src/renderer/src/lib/annotate/mask-png';
import type { Annotation } from '../../src/shared/calls/annotate';
import { useTmpDirs } from '../helpers/tmp';
import { H, openSmallWorkspace, W } from './helpers';

const tmp = useTmpDirs();

function sampleMask(w: number, h: number) {
  const m = emptyMask(w, h);
  stamp(m, w * 0.3, h * 0.4, Math.min(w, h) * 0.2, 1);
  fillPolygon(m, [
    { x: w * 0.5, y: 0 },
    { x: w, y: h * 0.6 },
    { x: w * 0.6, y: h },
  ], 1);
  return m;
}

describe('mask PNG', () => {
  it('encodes what the core decoder reads back exactly, small and large', async () => {
    for (const [w, h] of [
      [1, 1],
      [7, 3],
      [300, 211],
      [1024, 1024],
    ] as const) {
      const m = sampleMask(w, h);
      const png = await encodeMaskPng(m);
      const img = decodePng(png);
      expect([img.width, img.height, img.channels]).toEqual([w, h, 1]);
      expect(Buffer.from(img.data).equals(Buffer.from(toGray(m)))).toBe(true);
      if (w === 1024) expect(png.length).toBeLessThan(20_000);
    }
    // The Up filter on the first row is the row itself; base64 round-trips.
    const m = sampleMask(5, 4);
    const raw = upFilteredRows(m);
    expect(raw[0]).toBe(2);
    expect(Array.from(raw.subarray(1, 6))).toEqual(Array.from(toGray(m).subarray(0, 5)));
    const png = await encodeMaskPng(m);
    expect(Buffer.from(toBase64(png), 'base64').equals(Buffer.from(png))).toBe(true);
  });

  it('stores an editor PNG as sent and re-encodes any other mask PNG as gray 0/255', async () => {
    const m = sampleMask(40, 30);
    const editor = await encodeMaskPng(m);
    expect(maskFileBytes(editor, 40, 30)).toBe(editor);
    // An RGB mask (a canvas export) and a gray one with faint values are binarised by the one mask
    // rule (shared/mask-rule.ts, as MVTec AD): any colour channel > 0 is anomalous.
    const gray = toGray(m);
    const rgb = new Uint8Array(40 * 30 * 3);
    for (let i = 0; i < gray.length; i++) rgb[i * 3 + 2] = gray[i] ? 200 : 0;
    const fromRgb = decodePng(maskFileBytes(encodePng(rgb, 40, 30, 3), 40, 30));
    expect(fromRgb.channels).toBe(1);
    expect(Buffer.from(fromRgb.data).equals(Buffer.from(gray))).toBe(true);
    const soft = Uint8Array.from(gray, (v) => (v ? 1 : 0));
    const fromSoft = decodePng(maskFileBytes(encodePng(soft, 40, 30, 1), 40, 30));
    expect(Buffer.from(fromSoft.data).equals(Buffer.from(gray))).toBe(true);
    expect(() => maskFileBytes(editor, 41, 30)).toThrow(/40×30 but the image is 41×30/);
    expect(() => maskFileBytes(editor.subarray(0, editor.length - 20), 40, 30)).toThrow(/not a readable PNG/);
  });

  it('saves an editor PNG through the core, byte for byte', async () => {
    const { host, dir, id } = await openSmallWorkspace(await tmp());
    const m = sampleMask(W, H);
    const png = await encodeMaskPng(m);
    const saved = (await host.invoke('annotate:saveMask', { sampleId: id('wind_turbine/test/crack/000.png'), png: toBase64(png) })) as Annotation;
    expect(saved.maskPath!.startsWith(dir)).toBe(true);
    expect(Buffer.from(await readFile(saved.maskPath!)).equals(Buffer.from(png))).toBe(true);
    await host.close();
  });
});
