/**
 * Electrical insulator: a string of ribbed glazed discs on a steel rod against the sky, seen side-on.
 * Defect "crack": a dark branching fissure across one disc, clipped to that disc.
 */
import { buildBackground, buildWear, cylinderShade, jitterColour, setRgb, type Rgb, type SceneSpec } from '../common';
import { hyp, capsule, ellipse, intersect, inflate, jaggedPath, polyline, box, union, type Point } from '../shapes';
import type { Shape } from '../raster';

const GLAZES: Rgb[] = [
  [0.45, 0.22, 0.11], // brown porcelain
  [0.3, 0.52, 0.5], // toughened glass, teal
  [0.62, 0.64, 0.64], // grey composite
  [0.84, 0.82, 0.77], // white porcelain
];

export const electricalInsulator: SceneSpec = {
  scenario: 'electrical_insulator',
  build(rng, knobs, defect) {
    const background = buildBackground(rng, knobs, { horizon: rng.range(170, 320) });
    const vertical = rng.chance(0.35);
    const angle = (vertical ? Math.PI / 2 : 0) + rng.signed() * 0.22;
    const ca = Math.cos(angle), sa = Math.sin(angle);
    const cx = 128 + rng.signed() * 10, cy = 128 + rng.signed() * 10;
    const n = rng.int(7, 9);
    const spacing = rng.range(26, 31);
    const a = spacing * rng.range(0.36, 0.44);
    const b = rng.range(34, 44);
    const glaze = jitterColour(rng, rng.pick(GLAZES), 0.08);
    const steel = jitterColour(rng, [0.6, 0.61, 0.6], 0.06);
    const wearGlaze = buildWear(rng, knobs.surface * 0.5, 0.6);
    const wearSteel = buildWear(rng, knobs.surface, 0.6);
    const ribs = rng.int(2, 4);
    const at = (s: number, t: number): Point => [cx + ca * s - sa * t, cy + sa * s + ca * t];
    // Scene → local frame, as two scalar functions so shaders allocate nothing per pixel.
    const ls = (u: number, v: number) => ca * (u - cx) + sa * (v - cy);
    const lt = (u: number, v: number) => -sa * (u - cx) + ca * (v - cy);
    const half = ((n - 1) / 2) * spacing;
    const rodEnds = [at(-half - spacing, 0), at(half + spacing, 0)] as const;
    const rod = capsule(rodEnds[0][0], rodEnds[0][1], rodEnds[1][0], rodEnds[1][1], 4.2);
    const discCentres = Array.from({ length: n }, (_, i) => -half + i * spacing);
    const discs = discCentres.map((s) => {
      const [x, y] = at(s, 0);
      return ellipse(x, y, a, b, angle);
    });
    const caps = discCentres.map((s) => {
      const [x, y] = at(s - a * 1.2, 0);
      return box(x, y, a * 0.9, 8.5, angle, 2.5);
    });

    // The crack: from a point on the rim of one inner disc, running inwards.
    let crack: Shape | null = null;
    if (defect === 'crack') {
      const k = rng.int(1, n - 2);
      const s0 = discCentres[k]!;
      const side = rng.chance(0.5) ? 1 : -1;
      const tStart = side * b * rng.range(0.55, 0.95);
      const startLocal: Point = [s0 + rng.signed() * a * 0.3, tStart];
      const heading = Math.atan2(-side, rng.signed() * 0.5) + rng.signed() * 0.4;
      const mainLocal = jaggedPath(startLocal, heading, rng.int(12, 18), 3.4, 0.45, () => rng.next());
      const branchFrom = mainLocal[Math.floor(mainLocal.length / 2)]!;
      const branchLocal = jaggedPath(branchFrom, heading + rng.signed() * 1.2, rng.int(3, 6), 3, 0.8, () => rng.next());
      const toScene = (p: Point) => at(p[0], p[1]);
      const disc = discs[k]!;
      crack = intersect(union(polyline(mainLocal.map(toScene), 1.05), polyline(branchLocal.map(toScene), 0.75)), inflate(disc, -0.8));
    }

    return (canvas, defective) => {
      background(canvas);
      canvas.fill(rod, (u, v, out) => {
        const t = lt(u, v);
        const k = cylinderShade(t / 4.2, 0.25);
        setRgb(out, steel[0] * k, steel[1] * k, steel[2] * k);
        wearSteel(u, v, out);
      });
      for (let i = 0; i < n; i++) {
        const s0 = discCentres[i]!;
        canvas.fill(caps[i]!, (u, v, out) => {
          const t = lt(u, v);
          const k = cylinderShade(t / 8.5, 0.3) * 0.95;
          setRgb(out, steel[0] * k, steel[1] * k, steel[2] * k);
          wearSteel(u, v, out);
        });
        canvas.fill(discs[i]!, (u, v, out) => {
          const s = ls(u, v), t = lt(u, v);
          const ds = (s - s0) / a;
          const dt = t / b;
          // Round disc seen edge-on: shade across its diameter; the convex top (ds < 0) catches more light.
          let k = cylinderShade(dt, 0.45) * (1.05 - 0.25 * Math.max(0, ds));
          const rho = hyp(ds * 0.8, dt);
          for (let r = 1; r <= ribs; r++) {
            const rr = 1 - r / (ribs + 1.2);
            k *= 1 - 0.32 * Math.exp(-(((rho - rr) / 0.035) ** 2));
          }
          k *= 1 - 0.35 * Math.max(0, Math.abs(dt) - 0.85) / 0.15;
          setRgb(out, glaze[0] * k, glaze[1] * k, glaze[2] * k);
          wearGlaze(u, v, out);
        });
      }
      if (defective && crack) {
        // Chipped glaze along the fissure, then the dark gap itself.
        canvas.fill(inflate(crack, 0.9), (_u, _v, out) => setRgb(out, glaze[0] * 0.55 + 0.3, glaze[1] * 0.55 + 0.3, glaze[2] * 0.55 + 0.28));
        canvas.fill(crack, (_u, _v, out) => setRgb(out, 0.05, 0.04, 0.035));
      }
    };
  },
};
