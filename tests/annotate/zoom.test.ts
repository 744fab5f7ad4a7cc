/** The zoom/pan transform shared by the sample viewer and the annotation editor. */
import { describe, expect, it } from 'vitest';
import { fitView, imageToScreen, MAX_ZOOM, screenToImage, wheelFactor, zoomAbout, zoomTo } from '../../src/renderer/src/lib/ui/zoom';

describe('zoom and pan transform', () => {
  it('fits an image centred with a margin, limited by the tighter side', () => {
    const v = fitView(200, 100, 820, 620, 10);
    expect(v.zoom).toBe(4);
    expect(v).toEqual({ zoom: 4, panX: 10, panY: 110 });
    expect(screenToImage(v, 10, 110)).toEqual({ x: 0, y: 0 });
    expect(screenToImage(v, 810, 510)).toEqual({ x: 200, y: 100 });
  });

  it('maps screen to image and back at any zoom and pan', () => {
    for (const view of [
      { zoom: 0.37, panX: -12.5, panY: 40 },
      { zoom: 1, panX: 0, panY: 0 },
      { zoom: 7.25, panX: -3000, panY: -1234.5 },
    ]) {
      for (const [x, y] of [
        [0, 0],
        [12.3, 99.9],
        [511.5, 0.5],
      ] as const) {
        const s = imageToScreen(view, x, y);
        const back = screenToImage(view, s.x, s.y);
        expect(back.x).toBeCloseTo(x, 9);
        expect(back.y).toBeCloseTo(y, 9);
      }
    }
    // At 8× with the image 100 px left of the box, box x 104 is inside image pixel 25 (its left half).
    const p = screenToImage({ zoom: 8, panX: -100, panY: 0 }, 104, 4);
    expect([Math.floor(p.x), Math.floor(p.y), p.x]).toEqual([25, 0, 25.5]);
  });

  it('keeps the image point under the cursor while zooming, and clamps the zoom', () => {
    let v = { zoom: 1.5, panX: 30, panY: -20 };
    const before = screenToImage(v, 240, 170);
    for (const f of [1.15, 1.15, 1 / 1.15, 3, 0.2]) {
      v = zoomAbout(v, f, 240, 170);
      const after = screenToImage(v, 240, 170);
      expect(after.x).toBeCloseTo(before.x, 9);
      expect(after.y).toBeCloseTo(before.y, 9);
    }
    expect(zoomAbout(v, 1e6, 0, 0).zoom).toBe(MAX_ZOOM);
    const actual = zoomTo(v, 1, 100, 100);
    expect(actual.zoom).toBe(1);
    expect(screenToImage(actual, 100, 100).x).toBeCloseTo(screenToImage(v, 100, 100).x, 9);
  });

  it('zooms in on a wheel up and out on a wheel down, one notch at a time', () => {
    expect(wheelFactor(-100)).toBeCloseTo(1.15, 12);
    expect(wheelFactor(100)).toBeCloseTo(1 / 1.15, 12);
    expect(wheelFactor(-3, 1)).toBeCloseTo(Math.pow(1.15, 0.99), 12);
    // A huge trackpad delta is capped rather than jumping to the limit.
    expect(wheelFactor(-1e5)).toBeCloseTo(Math.pow(1.15, 5), 12);
  });
});
