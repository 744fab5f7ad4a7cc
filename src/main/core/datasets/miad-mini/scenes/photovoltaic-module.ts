/**
 * Photovoltaic module: an aluminium-framed panel of dark blue cells with silver busbars on a white
 * backsheet, reflecting the sky, on a ground-mount background (viewpoint is this scenario's factor).
 * Defects: "broken" (a shattered cell: radial and ring cracks around an impact point, lighter
 * shards), "miss" (one cell absent, backsheet showing), "foreign_body" (a leaf or a bird dropping
 * lying on the glass, with its shadow).
 */
import { buildBackground, buildWear, clamp01, jitterColour, setRgb, smoothstep, type SceneSpec } from '../common';
import { fbm, hash2, valueNoise } from '../noise';
import type { Canvas, Shape } from '../raster';
import { hyp, box, capsule, circle, intersect, smoothUnion, translate, union } from '../shapes';

export const photovoltaicModule: SceneSpec = {
  scenario: 'photovoltaic_module',
  build(rng, knobs, defect) {
    const background = buildBackground(rng, knobs, { horizon: rng.range(-40, 60) });
    const cols = rng.int(4, 6);
    const rows = rng.int(3, 5);
    const cs = rng.range(34, 40);
    const gap = rng.range(2.5, 3.5);
    const frame = rng.range(5, 8);
    const angle = rng.signed() * 0.12;
    const ca = Math.cos(angle), sa = Math.sin(angle);
    const W = cols * cs + (cols + 1) * gap;
    const H = rows * cs + (rows + 1) * gap;
    const cx = 128 + rng.signed() * 20, cy = 128 + rng.signed() * 20;
    // Scene → local frame, as two scalar functions so shaders allocate nothing per pixel.
    const ls = (u: number, v: number) => ca * (u - cx) + sa * (v - cy) + W / 2;
    const lt = (u: number, v: number) => -sa * (u - cx) + ca * (v - cy) + H / 2;
    const at = (x: number, y: number): [number, number] => {
      const lx = x - W / 2, ly = y - H / 2;
      return [cx + ca * lx - sa * ly, cy + sa * lx + ca * ly];
    };
    const mono = rng.chance(0.6);
    const cellCol = jitterColour(rng, mono ? [0.07, 0.09, 0.16] : [0.13, 0.2, 0.42], 0.12);
    const sheet = jitterColour(rng, [0.86, 0.87, 0.88], 0.04);
    const alu = jitterColour(rng, [0.72, 0.73, 0.75], 0.05);
    const nBus = rng.int(3, 5);
    const chamfer = mono ? cs * rng.range(0.1, 0.16) : 0;
    const polySeed = rng.seed();
    const reflSeed = rng.seed();
    const reflAngle = rng.range(0.4, 1.2);
    const reflPos = rng.range(-0.4, 0.4);
    const wear = buildWear(rng, knobs.surface * 0.4, 1);
    const moduleShape = box(cx, cy, W / 2 + frame, H / 2 + frame, angle, 2);

    // Which cell the defect hits.
    const ci = rng.int(0, cols - 1), cj = rng.int(0, rows - 1);
    const cellX0 = gap + ci * (cs + gap), cellY0 = gap + cj * (cs + gap);
    const missing = defect === 'miss';
    const broken = defect === 'broken';
    const impact: [number, number] = [cellX0 + cs * rng.range(0.25, 0.75), cellY0 + cs * rng.range(0.25, 0.75)];
    const sectors = rng.int(7, 12);
    const sectorTint = Array.from({ length: sectors }, () => rng.range(-0.02, 0.22));
    const angSeed = rng.seed();
    const rings = [rng.range(4, 8), rng.range(10, 16), rng.range(18, 26)];
    const reach = cs * rng.range(0.7, 1.1);

    // Foreign body, in scene units.
    let body: Shape | null = null;
    let bodyShade: ((u: number, v: number, out: Float32Array) => void) | null = null;
    if (defect === 'foreign_body') {
      const [bx, by] = at(cellX0 + cs * rng.range(0.2, 0.8), cellY0 + cs * rng.range(0.2, 0.8));
      if (rng.chance(0.5)) {
        // A leaf: two intersecting circles make the blade, a capsule the stalk.
        const len = rng.range(20, 32);
        const a = rng.range(0, Math.PI * 2);
        const ux = Math.cos(a), uy = Math.sin(a);
        const R = len * 0.75;
        const off = Math.sqrt(Math.max(0, R * R - (len / 2) ** 2));
        const blade = intersect(circle(bx - uy * off, by + ux * off, R), circle(bx + uy * off, by - ux * off, R));
        const stalk = capsule(bx + ux * len * 0.5, by + uy * len * 0.5, bx + ux * (len * 0.5 + 6), by + uy * (len * 0.5 + 6), 0.7);
        body = union(blade, stalk);
        const leaf = jitterColour(rng, rng.chance(0.5) ? [0.3, 0.45, 0.12] : [0.55, 0.38, 0.12], 0.12);
        const vs = rng.seed();
        bodyShade = (u, v, out) => {
          const px = u - bx, py = v - by;
          const along = px * ux + py * uy, across = -px * uy + py * ux;
          const sideVein = ((Math.abs(across) - Math.abs(along - len * 0.1) * 0.6) % 4) / 0.5;
          const vein = Math.exp(-((across / 0.6) ** 2)) * 0.35 + Math.exp(-(sideVein * sideVein)) * 0.1;
          const k = (0.85 + 0.3 * valueNoise(u / 3, v / 3, vs)) * (1 + vein) * (across < 0 ? 1.08 : 0.92);
          setRgb(out, leaf[0] * k, leaf[1] * k, leaf[2] * k);
        };
      } else {
        const parts: Shape[] = [];
        const n = rng.int(3, 6);
        for (let i = 0; i < n; i++) parts.push(circle(bx + rng.signed() * 9, by + rng.signed() * 9, rng.range(4.5, 9)));
        const blob = smoothUnion(5, ...parts);
        const es = rng.seed();
        body = { sdf: (u, v) => blob.sdf(u, v) + (valueNoise(u / 2.5, v / 2.5, es) - 0.5) * 3, bounds: [blob.bounds[0] - 2, blob.bounds[1] - 2, blob.bounds[2] + 2, blob.bounds[3] + 2] };
        const blobRef = body;
        bodyShade = (u, v, out) => {
          const d = -blobRef.sdf(u, v);
          const k = 0.75 + 0.25 * smoothstep(0, 4, d);
          const streak = fbm(u / 2, v / 2, es ^ 99, 2);
          const grey = streak > 0.62 ? 0.45 : 0.92;
          setRgb(out, grey * k, grey * k * 0.98, grey * k * 0.92);
        };
      }
    }

    const cellShade = (x: number, y: number, i: number, j: number, defective: boolean, out: Float32Array) => {
      const fx = x - (gap + i * (cs + gap)), fy = y - (gap + j * (cs + gap));
      const inCell = fx >= 0 && fx < cs && fy >= 0 && fy < cs;
      const isDefectCell = defective && i === ci && j === cj;
      let cut = false;
      if (inCell && chamfer > 0) {
        const ex = Math.min(fx, cs - fx), ey = Math.min(fy, cs - fy);
        cut = ex + ey < chamfer;
      }
      if (!inCell || cut || (isDefectCell && missing)) {
        // Backsheet; where a cell is missing, the solder ribbons are gone too and the EVA is stained.
        let k = 1;
        if (isDefectCell && missing && inCell) k = 0.92 - 0.12 * valueNoise(fx / 6, fy / 6, polySeed ^ 5);
        setRgb(out, sheet[0] * k, sheet[1] * k, sheet[2] * k);
        return;
      }
      let r = cellCol[0], g = cellCol[1], b = cellCol[2];
      if (!mono) {
        const n = valueNoise(x / 5, y / 5, polySeed) * 0.6 + hash2(Math.floor(x / 2), Math.floor(y / 2), polySeed) * 0.4;
        const k = 0.8 + 0.45 * n;
        r *= k; g *= k; b *= k;
      }
      // Busbars.
      const pitch = cs / nBus;
      const bx = ((fx + pitch / 2) % pitch) - pitch / 2;
      const bar = clamp01(1.2 - Math.abs(bx) * 1.6);
      r += (0.7 - r) * bar; g += (0.71 - g) * bar; b += (0.72 - b) * bar;
      if (isDefectCell && broken) {
        const dx = x - impact[0], dy = y - impact[1];
        const rr = hyp(dx, dy);
        if (rr < reach) {
          const ang = Math.atan2(dy, dx) + (valueNoise(rr / 5, 0.5, angSeed) - 0.5) * 0.7;
          const t = ((ang / (2 * Math.PI)) * sectors + sectors) % sectors;
          const sector = Math.floor(t);
          const fade = 1 - rr / reach;
          const tint = (sectorTint[sector] ?? 0) * fade;
          r += tint * 0.8; g += tint * 0.9; b += tint;
          const edge = Math.min(t - sector, sector + 1 - t) * (2 * Math.PI * rr) / sectors;
          let line = Math.exp(-((edge / 0.55) ** 2));
          for (const ring of rings) {
            const ringR = ring + (valueNoise(ang * 3, ring, angSeed) - 0.5) * 3;
            if (ringR < reach) line = Math.max(line, Math.exp(-(((rr - ringR) / 0.5) ** 2)) * (0.5 + 0.5 * fade));
          }
          if (rr < 1.5) line = 1;
          const lc = sector % 2 === 0 ? 0.75 : 0.02;
          r += (lc - r) * line; g += (lc - g) * line; b += (lc + 0.02 - b) * line;
        }
      }
      setRgb(out, r, g, b);
    };

    const drawModule = (canvas: Canvas, defective: boolean) => {
      canvas.fill(moduleShape, (u, v, out) => {
        const x = ls(u, v), y = lt(u, v);
        if (x < 0 || y < 0 || x > W || y > H) {
          // Frame: anodised aluminium with a bevel lit from the top left.
          const e = Math.min(-x, -y, x - W, y - H);
          const lit = x < 0 || y < 0 ? 1.08 : 0.82;
          const k = lit * (0.9 + 0.1 * clamp01(-e / frame));
          setRgb(out, alu[0] * k, alu[1] * k, alu[2] * k);
          return;
        }
        const i = Math.min(cols - 1, Math.max(0, Math.floor((x - gap / 2) / (cs + gap))));
        const j = Math.min(rows - 1, Math.max(0, Math.floor((y - gap / 2) / (cs + gap))));
        cellShade(x, y, i, j, defective, out);
        // Glass: a soft band of reflected sky.
        const p = (x / W - 0.5) * Math.cos(reflAngle) + (y / H - 0.5) * Math.sin(reflAngle) - reflPos;
        const refl = 0.1 * Math.exp(-((p / 0.25) ** 2)) + 0.04 * fbm(x / 40, y / 40, reflSeed, 2);
        out[0] = out[0]! + refl * 0.8;
        out[1] = out[1]! + refl * 0.9;
        out[2] = out[2]! + refl;
        wear(u, v, out);
      });
    };

    return (canvas, defective) => {
      background(canvas);
      // Drop shadow of the panel on the ground.
      canvas.fill(translate(moduleShape, 6, 8), (_u, _v, out) => { setRgb(out, 0, 0, 0); out[3] = 0.35; }, { soft: 6 });
      drawModule(canvas, defective);
      if (defective && body && bodyShade) {
        canvas.fill(translate(body, 1.8, 2.4), (_u, _v, out) => { setRgb(out, 0, 0, 0); out[3] = 0.45; }, { soft: 2.5 });
        canvas.fill(body, bodyShade);
      }
    };
  },
};
