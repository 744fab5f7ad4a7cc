/**
 * Wind turbine: a close-up of a white composite blade against the sky, tapering from root to tip,
 * with a distant turbine sometimes on the horizon. Defect "crack": a dark fissure across or along
 * the blade skin, clipped to the blade.
 */
import { buildBackground, buildWear, clamp01, cylinderShade, jitterColour, setRgb, type SceneSpec } from '../common';
import { valueNoise } from '../noise';
import type { Shape } from '../raster';
import { capsule, circle, inflate, intersect, jaggedPath, polygon, polyline, union, type Point } from '../shapes';

export const windTurbine: SceneSpec = {
  scenario: 'wind_turbine',
  build(rng, knobs, defect) {
    const background = buildBackground(rng, knobs, { horizon: rng.range(220, 330) });
    const angle = rng.range(0, Math.PI * 2);
    const ca = Math.cos(angle), sa = Math.sin(angle);
    const cx = 128 + rng.signed() * 20, cy = 128 + rng.signed() * 20;
    const root = -rng.range(170, 230);
    const tipS = rng.range(70, 170);
    const rootChord = rng.range(60, 80);
    const tipChord = rng.range(12, 20);
    const lead = rng.range(0.3, 0.4);
    const at = (s: number, t: number): Point => [cx + ca * s - sa * t, cy + sa * s + ca * t];
    // Scene → local frame, as two scalar functions so shaders allocate nothing per pixel.
    const ls = (u: number, v: number) => ca * (u - cx) + sa * (v - cy);
    const lt = (u: number, v: number) => -sa * (u - cx) + ca * (v - cy);
    const chord = (s: number) => {
      const x = clamp01((s - root) / (tipS - root));
      // Widest a little outboard of the root, tapering to the tip.
      return tipChord + (rootChord - tipChord) * (1 - x) * (0.8 + 0.6 * Math.exp(-(((x - 0.15) / 0.2) ** 2)) - 0.2 * x);
    };
    const outline: Point[] = [];
    const N = 16;
    for (let i = 0; i <= N; i++) {
      const s = root + ((tipS - root) * i) / N;
      outline.push(at(s, -chord(s) * lead));
    }
    outline.push(at(tipS + tipChord * 0.4, 0));
    for (let i = N; i >= 0; i--) {
      const s = root + ((tipS - root) * i) / N;
      outline.push(at(s, chord(s) * (1 - lead)));
    }
    const blade = polygon(outline);
    const white = jitterColour(rng, [0.9, 0.91, 0.92], 0.04);
    const redTip = rng.chance(0.3);
    const wear = buildWear(rng, knobs.surface * 0.6, 1);
    const streakSeed = rng.seed();
    // A distant turbine for context.
    let distant: Shape | null = null;
    if (rng.chance(0.4 + 0.4 * knobs.background)) {
      const x = rng.range(20, 236), base = rng.range(200, 260), h = rng.range(50, 90);
      const hub: Point = [x, base - h];
      const rot = rng.range(0, Math.PI * 2);
      const parts: Shape[] = [capsule(x, base, x, base - h, 1.2), circle(hub[0], hub[1], 2)];
      for (let k = 0; k < 3; k++) {
        const a = rot + (k * 2 * Math.PI) / 3;
        parts.push(capsule(hub[0], hub[1], hub[0] + Math.cos(a) * h * 0.55, hub[1] + Math.sin(a) * h * 0.55, 1));
      }
      distant = union(...parts);
    }
    let crack: Shape | null = null;
    if (defect === 'crack') {
      const s0 = rng.range(Math.max(root, -110), Math.min(tipS - 25, 90));
      const c = chord(s0);
      const transverse = rng.chance(0.6);
      const fromLead = rng.chance(0.5);
      const start: Point = transverse ? [s0, fromLead ? -c * lead * 0.95 : c * (1 - lead) * 0.95] : [s0, -c * lead * rng.range(0.3, 0.8)];
      const heading = transverse ? (fromLead ? Math.PI / 2 : -Math.PI / 2) + rng.signed() * 0.3 : (rng.chance(0.5) ? 0 : Math.PI) + rng.signed() * 0.2;
      const steps = Math.max(6, Math.round((transverse ? c * rng.range(0.55, 0.95) : rng.range(40, 75)) / 3.2));
      const path = jaggedPath(start, heading, steps, 3.2, 0.55, () => rng.next()).map((p) => at(p[0], p[1]));
      crack = intersect(polyline(path, rng.range(1.2, 1.7)), inflate(blade, -1));
    }
    return (canvas, defective) => {
      background(canvas);
      if (distant) canvas.fill(distant, (_u, _v, out) => { setRgb(out, 0.86, 0.87, 0.88); out[3] = 0.7; });
      canvas.fill(blade, (u, v, out) => {
        const s = ls(u, v), t = lt(u, v);
        const c = chord(s);
        const x = (t + c * lead) / c; // 0 leading edge … 1 trailing edge
        const k = cylinderShade(x * 1.6 - 1, 0.3) * (0.96 + 0.06 * valueNoise(s / 60, t / 8, streakSeed));
        let r = white[0] * k, g = white[1] * k, b = white[2] * k;
        if (redTip && s > tipS - 40) { r = 0.75 * k; g = 0.15 * k; b = 0.12 * k; }
        // Shear web seam along the span.
        const seam = Math.exp(-(((x - 0.55) / 0.01) ** 2)) * 0.08;
        setRgb(out, r - seam, g - seam, b - seam);
        wear(u, v, out);
      });
      if (defective && crack) {
        canvas.fill(inflate(crack, 0.9), (_u, _v, out) => { setRgb(out, 0.55, 0.55, 0.54); out[3] = 0.6; });
        canvas.fill(crack, (_u, _v, out) => setRgb(out, 0.1, 0.1, 0.1));
      }
    };
  },
};
