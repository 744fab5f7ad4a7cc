/**
 * A hex nut on a threaded bolt through a washer on a painted steel plate, seen from slightly
 * above: shared by the nut-and-bolt and witness-mark scenes. Heights are drawn as an oblique
 * projection (a point at height h is shifted by h·e on screen), so the nut is a hexagonal prism
 * with lit top, shaded side faces and a soft shadow, and a lifted nut shows the thread beneath it.
 */
import { buildBackground, buildWear, clamp01, jitterColour, setRgb, smoothstep, type Knobs, type Rgb } from '../common';
import { valueNoise } from '../noise';
import type { Rng } from '../prng';
import { EVERYWHERE, type Canvas, type Shape } from '../raster';
import { hyp, box, capsule, circle, convexHull, intersect, polygon, regularPolygonPoints, translate, type Point } from '../shapes';

export interface JointState {
  /** Extra nut rotation (radians) on top of the built angle. */
  nutTurn: number;
  /** Gap between washer and nut, scene units. */
  nutLift: number;
  nut: boolean;
  bolt: boolean;
}

export interface Stripe {
  angle: number;
  /** Half-width, scene units. */
  width: number;
  /** Half-length from the bolt axis, scene units. */
  length: number;
  colour: Rgb;
}

export interface BoltedJoint {
  /** Bolt axis on the plate, scene units. */
  centre: Point;
  draw(canvas: Canvas, state: JointState, stripe: Stripe | null): void;
}

const PLATE_COLOURS: Rgb[] = [
  [0.55, 0.57, 0.58], // galvanised
  [0.3, 0.42, 0.32], // green paint
  [0.34, 0.4, 0.48], // blue-grey paint
  [0.62, 0.55, 0.38], // primer ochre
  [0.42, 0.42, 0.43], // dark grey
];

export function buildBoltedJoint(rng: Rng, knobs: Knobs, options: { plateEdge: boolean }): BoltedJoint {
  const background = options.plateEdge ? buildBackground(rng, knobs, { horizon: rng.range(60, 160) }) : null;
  const plateCol = jitterColour(rng, rng.pick(PLATE_COLOURS), 0.08);
  const steel = jitterColour(rng, [0.66, 0.66, 0.64], 0.06);
  const nutCol = jitterColour(rng, rng.chance(0.5) ? [0.68, 0.68, 0.66] : [0.5, 0.5, 0.5], 0.06);
  const plateWear = buildWear(rng, knobs.surface, 1.2);
  const nutWear = buildWear(rng, knobs.surface * 0.8, 0.5);
  const cx = 128 + rng.signed() * 14, cy = 134 + rng.signed() * 14;
  const tiltDir = rng.signed() * 0.5;
  const tilt = rng.range(0.55, 0.8);
  const ex = Math.sin(tiltDir) * tilt, ey = -Math.cos(tiltDir) * tilt;
  const R = rng.range(38, 48); // nut circumradius
  const nutAngle = rng.range(0, Math.PI / 3);
  const washerR = R * rng.range(1.12, 1.3);
  const washerH = rng.range(2.5, 4);
  const boltR = R * rng.range(0.48, 0.55);
  const nutH = R * rng.range(0.55, 0.7);
  const stub = rng.range(6, 12);
  const pitch = rng.range(2.2, 3);
  const light: Point = [0.55, 0.75]; // shadows fall towards +x, +y
  const plateSeed = rng.seed();
  // A second plate edge crossing the frame, with the outdoors beyond (the background factor).
  const edgeAngle = rng.range(0, Math.PI * 2);
  const edgeDist = rng.range(95, 140);
  const en: Point = [Math.cos(edgeAngle), Math.sin(edgeAngle)];
  const plate: Shape = options.plateEdge
    ? { sdf: (u, v) => (u - cx) * en[0] + (v - cy) * en[1] - edgeDist, bounds: [-400, -400, 656, 656] }
    : EVERYWHERE;
  const lift = (h: number): Point => [ex * h, ey * h];
  const shift = (p: Point, h: number): Point => [p[0] + ex * h, p[1] + ey * h];
  const c0: Point = [cx, cy];

  const stripeShape = (s: Stripe, centre: Point, turn: number): Shape => {
    const a = s.angle + turn;
    const mid: Point = [centre[0] + Math.cos(a) * s.length * 0.5, centre[1] + Math.sin(a) * s.length * 0.5];
    // One-sided stripe: from the axis outwards, as painters draw it across nut and plate.
    return box(mid[0], mid[1], s.length * 0.5 + s.width, s.width, a, s.width * 0.4);
  };
  const paint = (col: Rgb, seed: number) => (u: number, v: number, out: Float32Array) => {
    const k = 0.9 + 0.2 * valueNoise(u / 3, v / 3, seed);
    setRgb(out, col[0] * k, col[1] * k, col[2] * k);
  };

  const draw = (canvas: Canvas, st: JointState, stripe: Stripe | null) => {
    if (background) {
      // Only beyond the plate edge (with a margin for anti-aliasing and clutter).
      background(canvas, { sdf: (u, v) => 2 - plate.sdf(u, v), bounds: plate.bounds });
    }
    canvas.fill(plate, (u, v, out) => {
      const k = 0.92 + 0.1 * valueNoise(u / 60, v / 60, plateSeed) - 0.08 * ((u + v) / 512);
      setRgb(out, plateCol[0] * k, plateCol[1] * k, plateCol[2] * k);
      plateWear(u, v, out);
    });
    if (options.plateEdge) {
      // The plate's cut edge catches the light.
      const edge: Shape = { sdf: (u, v) => Math.abs((u - cx) * en[0] + (v - cy) * en[1] - edgeDist + 1.5) - 1.5, bounds: plate.bounds };
      canvas.fill(edge, (_u, _v, out) => setRgb(out, plateCol[0] * 0.6, plateCol[1] * 0.6, plateCol[2] * 0.6));
    }
    const stripeSeed = 991;
    if (stripe) canvas.fill(intersect(stripeShape(stripe, c0, 0), plate), paint(stripe.colour, stripeSeed));

    if (!st.bolt) {
      // Empty bolt hole: dark bore with its far wall lit.
      const r = boltR * 1.08;
      canvas.fill(circle(cx, cy, r), (u, v, out) => {
        const dy = (v - cy) / r, dx = (u - cx) / r;
        const k = 0.05 + 0.3 * smoothstep(0.2, 1, -(dy * 0.9 + dx * 0.3)) * hyp(dx, dy);
        setRgb(out, plateCol[0] * k, plateCol[1] * k, plateCol[2] * k);
      });
      canvas.fill(circle(cx, cy, r + 1.2), (u, v, out) => { setRgb(out, plateCol[0] * 0.45, plateCol[1] * 0.45, plateCol[2] * 0.45); out[3] = clamp01(hyp(u - cx, v - cy) - r + 0.3); });
      return;
    }
    const totalH = washerH + (st.nut ? st.nutLift + nutH : 0) + stub;
    // Shadows on the plate, from the whole assembly, soft.
    const shadowLen = 0.45;
    const sh = lift(0);
    canvas.fill(
      translate(capsule(c0[0], c0[1], c0[0] + light[0] * totalH * shadowLen, c0[1] + light[1] * totalH * shadowLen, st.nut ? R * 0.95 : washerR * 0.9), sh[0], sh[1]),
      (_u, _v, out) => { setRgb(out, 0, 0, 0); out[3] = 0.4; },
      { soft: 7 },
    );
    // Washer: a short cylinder.
    const wTop = shift(c0, washerH);
    canvas.fill(capsule(c0[0], c0[1], wTop[0], wTop[1], washerR), (u, v, out) => {
      const onTop = hyp(u - wTop[0], v - wTop[1]) <= washerR;
      const ang = Math.atan2(v - wTop[1], u - wTop[0]);
      const k = onTop ? 0.95 + 0.15 * Math.cos(ang + 2.3) : 0.6;
      setRgb(out, steel[0] * k, steel[1] * k, steel[2] * k);
      nutWear(u, v, out);
    });
    if (stripe) canvas.fill(intersect(stripeShape(stripe, wTop, 0), circle(wTop[0], wTop[1], washerR - 0.5)), paint(stripe.colour, stripeSeed));
    // Threaded shank, washer to bolt tip.
    const tip = shift(c0, totalH);
    const drawShank = (from: Point, to: Point) => {
      const ax = to[0] - from[0], ay = to[1] - from[1];
      const len2 = ax * ax + ay * ay || 1;
      canvas.fill(capsule(from[0], from[1], to[0], to[1], boltR), (u, v, out) => {
        const along = ((u - from[0]) * ax + (v - from[1]) * ay) / Math.sqrt(len2);
        const across = (-(u - from[0]) * ay + (v - from[1]) * ax) / Math.sqrt(len2) / boltR;
        const thread = 0.78 + 0.3 * Math.abs(Math.sin((along + across * 1.2) * Math.PI / pitch));
        const k = (0.55 + 0.45 * clamp01(1 - Math.abs(across + 0.3))) * thread;
        setRgb(out, steel[0] * k, steel[1] * k, steel[2] * k);
      });
    };
    drawShank(wTop, tip);
    if (st.nut) {
      const base = shift(c0, washerH + st.nutLift);
      const top = shift(base, nutH);
      const a = nutAngle + st.nutTurn;
      const hexBase = regularPolygonPoints(base[0], base[1], R, 6, a);
      const hexTop = regularPolygonPoints(top[0], top[1], R, 6, a);
      // The nut's own shadow on the washer when it is lifted.
      if (st.nutLift > 0.5) {
        canvas.fill(translate(polygon(hexBase), light[0] * st.nutLift * 0.6, light[1] * st.nutLift * 0.6 - ey * st.nutLift), (_u, _v, out) => { setRgb(out, 0, 0, 0); out[3] = 0.3; }, { soft: 3 });
      }
      const body = polygon(convexHull([...hexBase, ...hexTop]));
      canvas.fill(body, (u, v, out) => {
        // Side face: the hexagon face the point lies in front of; Lambert from the top left.
        let best = -Infinity, nx = 0, ny = 0;
        for (let k = 0; k < 6; k++) {
          const na = a + Math.PI / 6 + (k * Math.PI) / 3;
          const cxn = Math.cos(na), cyn = Math.sin(na);
          const d = (u - base[0]) * cxn + (v - base[1]) * cyn;
          if (d > best) { best = d; nx = cxn; ny = cyn; }
        }
        const k = 0.38 + 0.42 * clamp01(0.55 - nx * 0.6 + ny * 0.35);
        setRgb(out, nutCol[0] * k, nutCol[1] * k, nutCol[2] * k);
        nutWear(u, v, out);
      });
      const topFace = polygon(hexTop);
      const chamferR = R * 0.93;
      canvas.fill(topFace, (u, v, out) => {
        const r = hyp(u - top[0], v - top[1]);
        const ang = Math.atan2(v - top[1], u - top[0]);
        let k = 0.95 + 0.12 * Math.cos(ang + 2.4);
        if (r > chamferR) k *= 0.72 + 0.2 * Math.cos(ang + 2.4);
        setRgb(out, nutCol[0] * k, nutCol[1] * k, nutCol[2] * k);
        nutWear(u, v, out);
      });
      if (stripe) canvas.fill(intersect(stripeShape(stripe, top, st.nutTurn), inflate1(topFace)), paint(stripe.colour, stripeSeed));
      drawShank(top, tip);
    }
    // Bolt tip: chamfered end face.
    canvas.fill(circle(tip[0], tip[1], boltR), (u, v, out) => {
      const r = hyp(u - tip[0], v - tip[1]) / boltR;
      const ang = Math.atan2(v - tip[1], u - tip[0]);
      const k = r > 0.8 ? 0.7 + 0.25 * Math.cos(ang + 2.4) : 0.92 + 0.08 * Math.cos(ang + 2.4);
      setRgb(out, steel[0] * k, steel[1] * k, steel[2] * k);
    });
    if (stripe) canvas.fill(intersect(stripeShape(stripe, tip, 0), circle(tip[0], tip[1], boltR - 0.5)), paint(stripe.colour, stripeSeed));
  };

  return { centre: c0, draw };
}

function inflate1(s: Shape): Shape {
  return { sdf: (u, v) => s.sdf(u, v) + 0.6, bounds: s.bounds };
}
