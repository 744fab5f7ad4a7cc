/**
 * Polygon fill of the mask editor against a brute-force oracle: each pixel centre tested alone by
 * ray parity (even-odd) and by winding number (non-zero), on hand-made shapes and random
 * self-intersecting polygons; and the stroke bounds the editor redraws.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/main/core/engine/random';
import { countSet, emptyMask, fillPolygon, stamp, strokeBounds, strokeLine, type FillRule, type Mask } from '../../src/renderer/src/lib/annotate/mask-ops';

type P = { x: number; y: number };

/** Inside by the rule, for one point: crossings of a ray towards +x, signed by edge direction. */
function insideOracle(points: readonly P[], px: number, py: number, rule: FillRule): boolean {
  let parity = 0;
  let winding = 0;
  for (let k = 0; k < points.length; k++) {
    const a = points[k]!;
    const b = points[(k + 1) % points.length]!;
    if (a.y <= py === b.y <= py) continue;
    const x = a.x + ((py - a.y) / (b.y - a.y)) * (b.x - a.x);
    if (x > px) {
      parity ^= 1;
      winding += b.y > a.y ? 1 : -1;
    }
  }
  return rule === 'evenodd' ? parity === 1 : winding !== 0;
}

function oracleMask(w: number, h: number, points: readonly P[], rule: FillRule): Mask {
  const m = emptyMask(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) m.data[y * w + x] = insideOracle(points, x + 0.5, y + 0.5, rule) ? 1 : 0;
  return m;
}

describe('polygon fill', () => {
  it('fills an axis-aligned rectangle exactly by pixel centres', () => {
    const m = emptyMask(10, 8);
    expect(fillPolygon(m, [{ x: 2, y: 1 }, { x: 7, y: 1 }, { x: 7, y: 5 }, { x: 2, y: 5 }], 1)).toBe(5 * 4);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 10; x++) expect(m.data[y * 10 + x], `${x},${y}`).toBe(x >= 2 && x < 7 && y >= 1 && y < 5 ? 1 : 0);
    // Erasing with the same polygon changes the same pixels back; fewer than 3 points do nothing.
    expect(fillPolygon(m, [{ x: 2, y: 1 }, { x: 7, y: 1 }, { x: 7, y: 5 }, { x: 2, y: 5 }], 0)).toBe(20);
    expect(fillPolygon(m, [{ x: 0, y: 0 }, { x: 9, y: 7 }], 1)).toBe(0);
    expect(countSet(m)).toBe(0);
  });

  it('leaves the pentagram centre empty under even-odd and fills it under non-zero', () => {
    const star: P[] = [];
    for (let k = 0; k < 5; k++) {
      const a = -Math.PI / 2 + (k * 4 * Math.PI) / 5;
      star.push({ x: 20 + 18 * Math.cos(a), y: 20 + 18 * Math.sin(a) });
    }
    const even = emptyMask(40, 40);
    const nonzero = emptyMask(40, 40);
    fillPolygon(even, star, 1, 'evenodd');
    fillPolygon(nonzero, star, 1, 'nonzero');
    expect(even.data[20 * 40 + 20]).toBe(0);
    expect(nonzero.data[20 * 40 + 20]).toBe(1);
    expect(countSet(nonzero)).toBeGreaterThan(countSet(even));
    expect(Array.from(even.data)).toEqual(Array.from(oracleMask(40, 40, star, 'evenodd').data));
    expect(Array.from(nonzero.data)).toEqual(Array.from(oracleMask(40, 40, star, 'nonzero').data));
  });

  it('matches the per-pixel oracle on random self-intersecting polygons, clipped at the edges', () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 60; trial++) {
      const w = 5 + Math.floor(rand() * 40);
      const h = 5 + Math.floor(rand() * 40);
      const n = 3 + Math.floor(rand() * 9);
      // Vertices up to a quarter outside the mask, some on integer and half-integer coordinates.
      const pts: P[] = Array.from({ length: n }, () => {
        const snap = rand();
        const x = -w / 4 + rand() * w * 1.5;
        const y = -h / 4 + rand() * h * 1.5;
        return snap < 0.2 ? { x: Math.round(x), y: Math.round(y) } : snap < 0.3 ? { x: Math.round(x) + 0.5, y: Math.round(y) + 0.5 } : { x, y };
      });
      for (const rule of ['evenodd', 'nonzero'] as const) {
        const m = emptyMask(w, h);
        const changed = fillPolygon(m, pts, 1, rule);
        const want = oracleMask(w, h, pts, rule);
        expect(Array.from(m.data), `${rule} ${JSON.stringify(pts)}`).toEqual(Array.from(want.data));
        expect(changed).toBe(countSet(want));
      }
    }
  });

  it('bounds a stroke by every pixel it changes', () => {
    const rand = mulberry32(3);
    for (let trial = 0; trial < 40; trial++) {
      const m = emptyMask(50, 40);
      const [x0, y0, x1, y1] = [rand() * 60 - 5, rand() * 50 - 5, rand() * 60 - 5, rand() * 50 - 5];
      const r = rand() * 8;
      strokeLine(m, x0, y0, x1, y1, r, 1);
      stamp(m, x1, y1, r, 1);
      const b = strokeBounds(m, x0, y0, x1, y1, r);
      const outside: string[] = [];
      for (let y = 0; y < 40; y++)
        for (let x = 0; x < 50; x++) {
          if (m.data[y * 50 + x] && !(b && x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1)) outside.push(`${x},${y}`);
        }
      expect(outside, JSON.stringify(b)).toEqual([]);
    }
    expect(strokeBounds(emptyMask(10, 10), -20, -20, -15, -18, 1)).toBeNull();
  });
});
