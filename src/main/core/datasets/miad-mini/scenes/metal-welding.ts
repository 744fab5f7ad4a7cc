/**
 * Metal welding: two brushed steel plates butted together with a rippled weld bead along the seam
 * and a heat-tint band either side (surface wear is this scenario's factor). Defects:
 * "weld_beading" (blobby lumps of excess filler metal on and beside the bead) and "weld_pit"
 * (small dark craters in the bead).
 */
import { buildWear, clamp01, cylinderShade, jitterColour, setRgb, smoothstep, type SceneSpec } from '../common';
import { fbm, valueNoise } from '../noise';
import { EVERYWHERE, type Shape } from '../raster';
import { hyp, circle, smoothUnion } from '../shapes';

export const metalWelding: SceneSpec = {
  scenario: 'metal_welding',
  build(rng, knobs, defect) {
    const angle = (rng.chance(0.3) ? Math.PI / 2 : 0) + rng.signed() * 0.35;
    const ca = Math.cos(angle), sa = Math.sin(angle);
    const cx = 128 + rng.signed() * 12, cy = 128 + rng.signed() * 12;
    // Scene → local frame, as two scalar functions so shaders allocate nothing per pixel.
    const ls = (u: number, v: number) => ca * (u - cx) + sa * (v - cy);
    const lt = (u: number, v: number) => -sa * (u - cx) + ca * (v - cy);
    const at = (s: number, t: number): [number, number] => [cx + ca * s - sa * t, cy + sa * s + ca * t];
    const steelA = jitterColour(rng, [0.62, 0.63, 0.64], 0.08);
    const steelB = jitterColour(rng, [0.56, 0.57, 0.6], 0.08);
    const beadCol = jitterColour(rng, [0.5, 0.48, 0.46], 0.1);
    const brushA = rng.seed(), brushB = rng.seed(), beadSeed = rng.seed(), widthSeed = rng.seed();
    const brushAngle = rng.signed() * 0.4;
    const W = rng.range(26, 36);
    const period = rng.range(4.5, 6.5);
    const curl = rng.range(0.6, 1.2);
    const tintW = rng.range(6, 14);
    const lightGrad = rng.range(0.1, 0.25);
    const wear = buildWear(rng, knobs.surface, 1);
    const halfWidth = (s: number) => W * (1 + 0.16 * (valueNoise(s / 14, 0.5, widthSeed) - 0.5));

    const whole = EVERYWHERE;

    // Defect geometry, drawn once here so both renders agree.
    const lumps: Shape[] = [];
    const lumpCentres: [number, number, number][] = [];
    const pits: [number, number, number][] = [];
    if (defect === 'weld_beading') {
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) {
        const s = rng.range(-80, 80);
        const side = rng.chance(0.5) ? 1 : -1;
        const parts: Shape[] = [];
        const k = rng.int(2, 4);
        for (let j = 0; j < k; j++) {
          const r = rng.range(7, 12.5);
          const [x, y] = at(s + rng.signed() * 9, side * (W * rng.range(0.55, 1.15)));
          parts.push(circle(x, y, r));
          lumpCentres.push([x, y, r]);
        }
        lumps.push(smoothUnion(5, ...parts));
      }
    } else if (defect === 'weld_pit') {
      const n = rng.int(2, 5);
      const s0 = rng.range(-70, 70);
      for (let i = 0; i < n; i++) {
        const [x, y] = at(s0 + rng.signed() * 30, rng.signed() * W * 0.55);
        pits.push([x, y, rng.range(3, 6)]);
      }
    }

    return (canvas, defective) => {
      canvas.fill(whole, (u, v, out) => {
        const s = ls(u, v), t = lt(u, v);
        const w = halfWidth(s);
        const at_ = Math.abs(t);
        const light = 1 + lightGrad * ((u + v) / 256 - 1) * -1;
        if (at_ < w) {
          // Bead: convex profile across, overlapping ripples bowed along the travel direction.
          const x = t / w;
          const phase = (s + curl * W * x * x) / period;
          const f = phase - Math.floor(phase);
          const ripple = 0.78 + 0.3 * f * f;
          const n = 0.9 + 0.2 * fbm(s / 3, t / 3, beadSeed, 2);
          const k = cylinderShade(x, 0.5) * ripple * n * light;
          const edge = smoothstep(0.8, 1, Math.abs(x));
          setRgb(out, beadCol[0] * k * (1 - 0.35 * edge), beadCol[1] * k * (1 - 0.35 * edge), beadCol[2] * k * (1 - 0.3 * edge));
        } else {
          const plate = t < 0 ? steelA : steelB;
          const seed = t < 0 ? brushA : brushB;
          const bs = s * Math.cos(brushAngle) + t * Math.sin(brushAngle);
          const bt = -s * Math.sin(brushAngle) + t * Math.cos(brushAngle);
          const brushed = 0.86 + 0.2 * valueNoise(bs / 40, bt * 1.3, seed) + 0.06 * valueNoise(bs / 6, bt * 3, seed ^ 77);
          const k = brushed * light;
          let r = plate[0] * k, g = plate[1] * k, b = plate[2] * k;
          // Heat tint: straw then blue fading out from the bead toe.
          const d = (at_ - w) / tintW;
          if (d < 1) {
            const a = (1 - d) * 0.55;
            const straw = clamp01(1 - Math.abs(d - 0.25) * 3), blue = clamp01(1 - Math.abs(d - 0.65) * 3);
            r = r * (1 - a) + a * (0.55 * straw + 0.3 * blue + 0.2 * (1 - d));
            g = g * (1 - a) + a * (0.45 * straw + 0.32 * blue + 0.18 * (1 - d));
            b = b * (1 - a) + a * (0.22 * straw + 0.55 * blue + 0.16 * (1 - d));
            // The toe of the bead sits in a thin dark groove.
            const groove = 1 - 0.45 * Math.exp(-(((at_ - w) / 1.3) ** 2));
            r *= groove; g *= groove; b *= groove;
          }
          setRgb(out, r, g, b);
        }
        wear(u, v, out);
      });
      if (!defective) return;
      for (const lump of lumps) {
        canvas.fill(lump, (u, v, out) => {
          // Shade as the nearest sphere: a bright cap, dark rim where it meets the plate.
          let best = Infinity, cxx = 0, cyy = 0, rr = 1;
          for (const [x, y, r] of lumpCentres) {
            const d = hyp(u - x, v - y) - r;
            if (d < best) { best = d; cxx = x; cyy = y; rr = r; }
          }
          const nx = (u - cxx) / (rr + 3), ny = (v - cyy) / (rr + 3);
          const nz = Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
          const diffuse = clamp01(0.2 + 0.8 * (-0.5 * nx - 0.6 * ny + 0.62 * nz));
          const spec = Math.pow(clamp01(-0.35 * nx - 0.45 * ny + 0.82 * nz), 24) * 0.7;
          const k = 0.3 + 0.85 * diffuse;
          setRgb(out, beadCol[0] * k * 1.1 + spec, beadCol[1] * k * 1.05 + spec, beadCol[2] * k + spec);
        });
      }
      for (const [x, y, r] of pits) {
        canvas.fill(circle(x, y, r), (u, v, out) => {
          const dx = (u - x) / r, dy = (v - y) / r;
          const rho = hyp(dx, dy);
          // Crater: near-black centre, inner wall lit on the far side from the light.
          const wall = clamp01(0.5 + 0.6 * (dx * 0.6 + dy * 0.8));
          const k = rho < 0.55 ? 0.08 : 0.1 + 0.55 * wall * smoothstep(0.5, 1, rho);
          setRgb(out, beadCol[0] * k, beadCol[1] * k, beadCol[2] * k * 0.95);
        });
      }
    };
  },
};

