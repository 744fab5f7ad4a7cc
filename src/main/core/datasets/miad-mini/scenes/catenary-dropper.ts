/**
 * Catenary dropper: the contact wire below, the messenger wire above, and a thin dropper hanging
 * between them with a clamp at each end, against the sky (background clutter is this scenario's
 * factor). Defects: "looseness" (the lower clamp slid along the contact wire, the dropper slanted
 * and slack), "broken" (a gap in the dropper, its ends bent), "miss" (dropper and clamps absent).
 */
import { buildBackground, buildWear, cylinderShade, jitterColour, sagCurve, setRgb, type SceneSpec } from '../common';
import type { Canvas, Shape } from '../raster';
import { box, capsule, circle, polyline, union, type Point } from '../shapes';

function along(a: Point, b: Point, t: number): Point {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t];
}

export const catenaryDropper: SceneSpec = {
  scenario: 'catenary_dropper',
  build(rng, knobs, defect) {
    const background = buildBackground(rng, knobs, { horizon: rng.range(200, 330) });
    const tilt = rng.signed() * 0.08;
    const messengerY = rng.range(40, 70);
    const contactY = rng.range(180, 210);
    const sag = rng.range(4, 14);
    const messenger = sagCurve(-60, messengerY - 100 * tilt, 316, messengerY + 100 * tilt, sag, 16);
    const contact: Point[] = [[-60, contactY - 100 * tilt * 0.6], [316, contactY + 100 * tilt * 0.6]];
    const yOnMessenger = (x: number) => {
      const t = (x + 60) / 376;
      return messengerY - 100 * tilt + 200 * tilt * t + sag * 4 * t * (1 - t);
    };
    const yOnContact = (x: number) => contactY - 60 * tilt + 120 * tilt * ((x + 60) / 376);
    const copper = jitterColour(rng, rng.chance(0.5) ? [0.55, 0.33, 0.2] : [0.36, 0.3, 0.24], 0.1);
    const bronze = jitterColour(rng, [0.6, 0.55, 0.45], 0.1);
    const clampCol = jitterColour(rng, [0.66, 0.67, 0.66], 0.08);
    const wearWire = buildWear(rng, knobs.surface, 0.5);
    const wearClamp = buildWear(rng, knobs.surface, 0.4);
    const rMess = rng.range(3.2, 4.2);
    const rCont = rng.range(4.8, 6);
    const rDrop = rng.range(1.4, 1.9);
    const x = 128 + rng.signed() * 30;
    const top: Point = [x, yOnMessenger(x) + rMess + 3];
    const bottom: Point = [x, yOnContact(x) - rCont - 5];
    // Neighbouring droppers further along the span, for context (never defective).
    const others: Point[][] = [];
    for (const dx of [-1, 1]) {
      if (rng.chance(0.6)) {
        const ox = x + dx * rng.range(95, 130);
        others.push([[ox, yOnMessenger(ox) + rMess + 3], [ox, yOnContact(ox) - rCont - 5]]);
      }
    }

    // Geometry of the main dropper, normal and defective.
    const normalWire: Point[][] = [[top, bottom]];
    let defectWire: Point[][] = normalWire;
    let defectBottom = bottom;
    let hidden = false;
    if (defect === 'looseness') {
      const shift = (rng.chance(0.5) ? 1 : -1) * rng.range(18, 34);
      defectBottom = [x + shift, yOnContact(x + shift) - rCont - 5];
      // Slack: the wire bows sideways between the clamps.
      const bow = rng.range(4, 9) * Math.sign(shift);
      const pts: Point[] = [];
      for (let i = 0; i <= 10; i++) {
        const p = along(top, defectBottom, i / 10);
        pts.push([p[0] + bow * Math.sin((Math.PI * i) / 10), p[1]]);
      }
      defectWire = [pts];
    } else if (defect === 'broken') {
      const t0 = rng.range(0.3, 0.55);
      const t1 = t0 + rng.range(0.12, 0.22);
      const p0 = along(top, bottom, t0);
      const p1 = along(top, bottom, t1);
      const bend = rng.range(3, 8);
      defectWire = [
        [top, along(top, bottom, t0 * 0.8), [p0[0] + bend * (rng.chance(0.5) ? 1 : -1), p0[1] + 2]],
        [[p1[0] + bend * (rng.chance(0.5) ? 1 : -1), p1[1] - 2], along(top, bottom, t1 + (1 - t1) * 0.2), bottom],
      ];
    } else if (defect === 'miss') {
      hidden = true;
    }

    const wireShape = (pts: Point[], r: number) => (pts.length === 2 ? capsule(pts[0]![0], pts[0]![1], pts[1]![0], pts[1]![1], r) : polyline(pts, r));

    const drawCable = (canvas: Canvas, pts: Point[], r: number, col: readonly number[]) => {
      const shape = wireShape(pts, r);
      canvas.fill(shape, (u, v, out) => {
        // Cross position from the signed distance: 0 on the axis, ±1 at the edge.
        const d = shape.sdf(u, v) + r;
        const side = v < yAt(pts, u) ? -1 : 1;
        const k = cylinderShade((side * d) / r, 0.3);
        setRgb(out, col[0]! * k, col[1]! * k, col[2]! * k);
        wearWire(u, v, out);
      });
    };
    const drawDropper = (canvas: Canvas, wires: Point[][], lower: Point) => {
      for (const pts of wires) {
        const shape = wireShape(pts, rDrop);
        canvas.fill(shape, (u, v, out) => {
          const d = shape.sdf(u, v) + rDrop;
          const k = cylinderShade(u < xAt(pts, v) ? -d / rDrop : d / rDrop, 0.4);
          setRgb(out, bronze[0] * k, bronze[1] * k, bronze[2] * k);
        });
      }
      drawClamp(canvas, top, yOnMessenger(top[0]), rMess, 7, 9);
      drawClamp(canvas, lower, yOnContact(lower[0]), rCont, 8, 10);
    };
    const drawClamp = (canvas: Canvas, p: Point, wireY: number, r: number, hw: number, hh: number) => {
      const cy = (p[1] + wireY) / 2;
      const body: Shape = union(box(p[0], cy, hw, hh, 0, 2.5), capsule(p[0], p[1], p[0], p[1] + (p[1] > wireY ? -hh : hh), 2.6));
      canvas.fill(body, (u, v, out) => {
        const k = cylinderShade((u - p[0]) / hw, 0.35) * (v > wireY + r * 0.2 ? 0.85 : 1);
        setRgb(out, clampCol[0] * k, clampCol[1] * k, clampCol[2] * k);
        wearClamp(u, v, out);
      });
      const bolt = circle(p[0], cy, 2.4);
      canvas.fill(bolt, (u, v, out) => {
        const k = 0.55 + 0.4 * ((p[0] - u + cy - v) / 4.8 + 0.5);
        setRgb(out, clampCol[0] * k * 0.8, clampCol[1] * k * 0.8, clampCol[2] * k * 0.8);
      });
    };

    return (canvas, defective) => {
      background(canvas);
      for (const [a, b] of others) drawDropper0(canvas, a!, b!);
      drawCable(canvas, messenger, rMess, copper);
      drawCable(canvas, contact, rCont, copper);
      for (const [a, b] of others) {
        drawClamp(canvas, a!, yOnMessenger(a![0]), rMess, 7, 9);
        drawClamp(canvas, b!, yOnContact(b![0]), rCont, 8, 10);
      }
      if (!defective) drawDropper(canvas, normalWire, bottom);
      else if (!hidden) drawDropper(canvas, defectWire, defectBottom);
    };

    function drawDropper0(canvas: Canvas, a: Point, b: Point) {
      const shape = capsule(a[0], a[1], b[0], b[1], rDrop);
      canvas.fill(shape, (u, v, out) => {
        const d = shape.sdf(u, v) + rDrop;
        const k = cylinderShade(u < a[0] ? -d / rDrop : d / rDrop, 0.4);
        setRgb(out, bronze[0] * k, bronze[1] * k, bronze[2] * k);
      });
    }
  },
};

/** y of a polyline at x (linear interpolation; ends extend flat). */
function yAt(pts: readonly Point[], x: number): number {
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!, b = pts[i + 1]!;
    if (x >= a[0] && x <= b[0]) return a[1] + ((b[1] - a[1]) * (x - a[0])) / (b[0] - a[0] || 1);
  }
  return pts[0]![1];
}

/** x of a mostly vertical polyline at y. */
function xAt(pts: readonly Point[], y: number): number {
  for (let i = 0; i + 1 < pts.length; i++) {
    const a = pts[i]!, b = pts[i + 1]!;
    const lo = Math.min(a[1], b[1]), hi = Math.max(a[1], b[1]);
    if (y >= lo && y <= hi) return a[0] + ((b[0] - a[0]) * (y - a[1])) / (b[1] - a[1] || 1);
  }
  return y < Math.min(pts[0]![1], pts[pts.length - 1]![1]) ? pts[0]![0] : pts[pts.length - 1]![0];
}
