/**
 * The editor's overlay renderer over a fake 2D context that records the dirty rectangles and
 * keeps the uploaded pixels: a stroke uploads only its rectangle, and after any sequence of
 * strokes and full draws the canvas holds exactly the mask in the overlay colour. Also the
 * history panel's wording.
 */
import { describe, expect, it } from 'vitest';
import { emptyMask, fillPolygon, strokeBounds, strokeLine, type Mask } from '../../src/renderer/src/lib/annotate/mask-ops';
import { MaskRenderer, OVERLAY_RGBA, type MaskCanvas } from '../../src/renderer/src/lib/annotate/mask-render';
import { changeLines, entryTitle } from '../../src/renderer/src/lib/annotate/history-text';

/** A canvas that copies each dirty rectangle of the uploaded image into its own pixels. */
function fakeCanvas(width: number, height: number) {
  const pixels = new Uint8ClampedArray(width * height * 4);
  const uploads: { x: number; y: number; w: number; h: number }[] = [];
  const ctx: MaskCanvas = {
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4), colorSpace: 'srgb' }) as ImageData,
    putImageData(image, dx, dy, x, y, w, h) {
      expect([dx, dy]).toEqual([0, 0]);
      uploads.push({ x, y, w, h });
      for (let yy = y; yy < y + h; yy++) pixels.set(image.data.subarray((yy * width + x) * 4, (yy * width + x + w) * 4), (yy * width + x) * 4);
    },
  };
  return { ctx, pixels, uploads };
}

function expectShows(pixels: Uint8ClampedArray, mask: Mask): void {
  const wrong: number[] = [];
  for (let i = 0; i < mask.data.length; i++) {
    const ok = mask.data[i] ? OVERLAY_RGBA.every((v, c) => pixels[i * 4 + c] === v) : pixels[i * 4 + 3] === 0;
    if (!ok) wrong.push(i);
  }
  expect(wrong).toEqual([]);
}

describe('mask overlay renderer', () => {
  it('uploads only the stroke rectangle and keeps the canvas equal to the mask', () => {
    const mask = emptyMask(64, 48);
    const { ctx, pixels, uploads } = fakeCanvas(64, 48);
    const r = new MaskRenderer(ctx, mask);
    r.drawAll();
    expect(uploads.at(-1)).toEqual({ x: 0, y: 0, w: 64, h: 48 });
    const strokes = [
      [5, 5, 20, 9, 3, 1],
      [18, 9, 40, 30, 2, 1],
      [10, 6, 30, 20, 4, 0],
      [60, 45, 70, 50, 5, 1],
    ] as const;
    for (const [x0, y0, x1, y1, radius, value] of strokes) {
      strokeLine(mask, x0, y0, x1, y1, radius, value);
      const rect = strokeBounds(mask, x0, y0, x1, y1, radius)!;
      r.draw(rect);
      const up = uploads.at(-1)!;
      expect(up.w * up.h).toBeLessThan(64 * 48);
      expectShows(pixels, mask);
    }
    // Another mask object of the same size (as undo returns) is drawn whole.
    const other = emptyMask(64, 48);
    fillPolygon(other, [{ x: 2, y: 2 }, { x: 30, y: 4 }, { x: 12, y: 40 }], 1);
    r.setMask(other);
    expectShows(pixels, other);
    expect(() => r.setMask(emptyMask(10, 10))).toThrow(/another size/);
  });
});

describe('history wording', () => {
  it('says what changed, old → new, and names reverts', () => {
    expect(changeLines({ kind: 'set', label: ['good', 'anomalous'], defectType: [null, 'weld_pit'], reviewState: ['unlabelled', 'labelled'] })).toEqual([
      'label: good → anomalous',
      'defect type: — → weld pit',
      'review: unlabelled → labelled',
    ]);
    expect(changeLines({ kind: 'mask', mask: [null, 'masks/1/7.mabc-0011aabb.png'] })).toEqual(['mask: dataset mask → edit mabc-0011aabb']);
    expect(changeLines({ kind: 'flagTraining', excludedFromTraining: [false, true] })).toEqual(['training: included → excluded']);
    expect(entryTitle({ id: 9, sampleId: 1, at: '', version: 4, change: { kind: 'revert', revertOf: 3, label: ['anomalous', 'good'] } })).toBe('Revert of #3');
    expect(entryTitle({ id: 2, sampleId: 1, at: '', version: 1, change: { kind: 'bulk' } })).toBe('Bulk edit');
  });
});
