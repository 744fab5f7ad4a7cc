/**
 * Pieces every MIAD-mini scene shares: the knobs for the three uncontrolled factors of MIAD
 * (appendix A.3: viewpoint, background, surface), the outdoor background, surface wear, shading
 * helpers and the camera pass (exposure, vignetting, grain).
 *
 * A scene is built in two steps so that the defect mask can be exact: `build` draws every random
 * decision up front (from the sample's Rng), and the returned renderer is then a pure function of
 * (canvas, defective). Rendering it twice, with and without the defect, differs only where the
 * defect drew.
 */
import type { Scenario } from '../../../../shared/taxonomy';
import { fbm, fbmAbove, hash2, valueNoise } from './noise';
import type { Rng } from './prng';
import { SCENE, type Canvas, type Shape, type View } from './raster';
import { box, capsule, circle, union, type Point } from './shapes';

/** Strength of each uncontrolled factor, each in [0, 1]. */
export interface Knobs {
  /** Viewpoint jitter: random rotation, scale and translation of the scene. */
  viewpoint: number;
  /** Background clutter: clouds, distant shapes, vegetation-like noise. */
  background: number;
  /** Surface wear: texture, rust and stains, wear noise on the objects. */
  surface: number;
}

/** Renders the sample; pure in (canvas, defective) once built. */
export type SceneRenderer = (canvas: Canvas, defective: boolean) => void;

export interface SceneSpec {
  scenario: Scenario;
  /**
   * Draws all random decisions of one sample. `defect` is the defect type (a name from
   * SCENARIO_INFO[scenario].defects) whose variant the renderer draws when `defective` is true, or
   * null for a normal sample.
   */
  build(rng: Rng, knobs: Knobs, defect: string | null): SceneRenderer;
}

export type Rgb = readonly [number, number, number];

export function setRgb(out: Float32Array, r: number, g: number, b: number): void {
  out[0] = r;
  out[1] = g;
  out[2] = b;
}

export function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

export function smoothstep(e0: number, e1: number, x: number): number {
  const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
}

/** Jitters a colour by up to ±`amount` per channel (brightness-correlated). */
export function jitterColour(rng: Rng, c: Rgb, amount: number): Rgb {
  const k = 1 + rng.signed() * amount;
  return [clamp01(c[0] * k + rng.signed() * amount * 0.3), clamp01(c[1] * k + rng.signed() * amount * 0.3), clamp01(c[2] * k + rng.signed() * amount * 0.3)];
}

/**
 * Brightness of a cylinder seen side-on at normalised cross position t ∈ [−1, 1], light from the
 * t = −1 side: diffuse falloff plus a specular streak.
 */
export function cylinderShade(t: number, specular = 0.35): number {
  const tt = t < -1 ? -1 : t > 1 ? 1 : t;
  const nz = Math.sqrt(1 - tt * tt);
  const diffuse = 0.35 + 0.65 * clamp01(nz * 0.85 - tt * 0.45);
  const spec = specular * Math.exp(-(((tt + 0.35) / 0.18) ** 2));
  return diffuse + spec;
}

/** The viewpoint knob: a random similarity transform, identity at 0. */
export function sampleView(rng: Rng, viewpoint: number): View {
  return {
    angle: rng.signed() * viewpoint * (28 * Math.PI) / 180,
    zoom: 1 + rng.signed() * 0.22 * viewpoint,
    tx: rng.signed() * 0.1 * SCENE * viewpoint,
    ty: rng.signed() * 0.1 * SCENE * viewpoint,
  };
}

// --- background ---------------------------------------------------------------------------------

export interface BackgroundOptions {
  /** Horizon height in scene units (larger = lower in the frame; > 256 puts it below the frame). */
  horizon: number;
}

/**
 * An outdoor background over the whole plane: sky gradient, clouds, distant hills, vegetation and,
 * with the background knob, clutter such as trees, poles and buildings.
 */
export function buildBackground(rng: Rng, knobs: Knobs, options: BackgroundOptions): (canvas: Canvas, region?: Shape) => void {
  const b = knobs.background;
  const overcast = rng.chance(0.25);
  const zenith: Rgb = overcast ? jitterColour(rng, [0.62, 0.66, 0.7], 0.08) : jitterColour(rng, [0.28, 0.5, 0.82], 0.1);
  const horizonSky: Rgb = overcast ? jitterColour(rng, [0.8, 0.82, 0.84], 0.05) : jitterColour(rng, [0.74, 0.84, 0.93], 0.05);
  const cloudSeed = rng.seed();
  const cloudCover = clamp01(0.15 + 0.65 * b * rng.next() + (overcast ? 0.2 : 0));
  const hillSeed = rng.seed();
  const horizon = options.horizon + rng.signed() * 12;
  const hillHeight = 10 + 40 * b * rng.next();
  const hill: Rgb = jitterColour(rng, [0.42, 0.52, 0.5], 0.1);
  const grass: Rgb = jitterColour(rng, rng.chance(0.3) ? [0.5, 0.46, 0.3] : [0.3, 0.42, 0.2], 0.12);
  const vegSeed = rng.seed();
  const vegContrast = 0.15 + 0.5 * b;
  const sky = (u: number, v: number, out: Float32Array) => {
    const t = clamp01((v + 40) / (horizon + 40));
    let r = zenith[0] + (horizonSky[0] - zenith[0]) * t;
    let g = zenith[1] + (horizonSky[1] - zenith[1]) * t;
    let bl = zenith[2] + (horizonSky[2] - zenith[2]) * t;
    if (cloudCover > 0.01) {
      const n = fbmAbove(u / 70, v / 28, cloudSeed, 3, 1 - cloudCover);
      const c = n < 0 ? 0 : smoothstep(1 - cloudCover, 1 - cloudCover + 0.25, n);
      if (c > 0) {
        const shade = 0.93 - 0.18 * (n - 0.5);
        r += (shade - r) * c;
        g += (shade - g) * c;
        bl += (shade + 0.02 - bl) * c;
      }
    }
    if (v > horizon - hillHeight - 6 && v > horizon - hillHeight * valueNoise(u / 45, 0.5, hillSeed) - 6 * valueNoise(u / 9, 3.5, hillSeed)) {
      // Aerial perspective: distant hills are hazy; nearer ground shows grass/vegetation texture.
      const depth = clamp01((v - horizon) / 90);
      if (v < horizon) {
        const haze = 0.45;
        r = hill[0] + (r - hill[0]) * haze;
        g = hill[1] + (g - hill[1]) * haze;
        bl = hill[2] + (bl - hill[2]) * haze;
      } else {
        const n = fbm(u / (6 + 10 * depth), v / (4 + 6 * depth), vegSeed, 3);
        const k = 1 + (n - 0.5) * 2 * vegContrast;
        const haze = 0.35 * (1 - depth);
        r = (grass[0] * k) * (1 - haze) + r * haze;
        g = (grass[1] * k) * (1 - haze) + g * haze;
        bl = (grass[2] * k) * (1 - haze) + bl * haze;
      }
    }
    setRgb(out, r, g, bl);
  };
  // Clutter: count grows with the knob.
  type Item = (canvas: Canvas) => void;
  const items: Item[] = [];
  const nItems = Math.round(b * 7 * rng.next() + b * 2);
  for (let i = 0; i < nItems; i++) {
    const kind = rng.int(0, 2);
    const x = rng.range(-40, SCENE + 40);
    const base = horizon + rng.range(-4, 10);
    if (kind === 0) {
      // A tree: a clump of dark green blobs on a trunk.
      const h = rng.range(18, 55);
      const w = h * rng.range(0.35, 0.6);
      const col: Rgb = jitterColour(rng, [0.16, 0.27, 0.13], 0.15);
      const blobs = [capsule(x, base, x, base - h * 0.4, 1.5)];
      for (let k = 0; k < 5; k++) blobs.push(circle(x + rng.signed() * w * 0.5, base - h * rng.range(0.4, 0.95), w * rng.range(0.35, 0.6)));
      const seed = rng.seed();
      const shape = union(...blobs);
      items.push((canvas) =>
        canvas.fill(shape, (u, v, out) => {
          const n = 0.75 + 0.5 * fbm(u / 4, v / 4, seed, 2) - 0.25 * clamp01((u - x) / w);
          setRgb(out, col[0] * n, col[1] * n, col[2] * n);
          out[3] = 0.85;
        }),
      );
    } else if (kind === 1) {
      // A distant pole / pylon with a crossbar.
      const h = rng.range(40, 110);
      const col: Rgb = jitterColour(rng, [0.35, 0.36, 0.38], 0.1);
      const shape = union(capsule(x, base, x, base - h, rng.range(0.8, 1.8)), capsule(x - h * 0.15, base - h * 0.9, x + h * 0.15, base - h * 0.9, 0.9));
      items.push((canvas) => canvas.fill(shape, (_u, _v, out) => { setRgb(out, col[0], col[1], col[2]); out[3] = 0.8; }));
    } else {
      // A low building.
      const w = rng.range(15, 45);
      const h = rng.range(8, 25);
      const col: Rgb = jitterColour(rng, [0.6, 0.58, 0.55], 0.15);
      const shape = box(x, base - h / 2, w / 2, h / 2);
      items.push((canvas) =>
        canvas.fill(shape, (u, _v, out) => {
          const k = u > x + w * 0.2 ? 0.8 : 1;
          setRgb(out, col[0] * k, col[1] * k, col[2] * k);
          out[3] = 0.75;
        }),
      );
    }
  }
  // `region`: where the background can show (scenes that cover most of the frame pass it, so the
  // hidden part is not shaded for nothing).
  return (canvas, region) => {
    if (region) canvas.fill(region, sky);
    else canvas.fillAll(sky);
    for (const item of items) item(canvas);
  };
}

// --- surface ------------------------------------------------------------------------------------

/**
 * Surface wear for one object: multiplicative grime noise plus rust/stain patches, both growing
 * with the surface knob. Call inside a shader after writing the base colour.
 */
export function buildWear(rng: Rng, surface: number, scale = 1): (u: number, v: number, out: Float32Array) => void {
  const seed = rng.seed();
  const rustSeed = rng.seed();
  const grime = 0.06 + 0.3 * surface;
  const rustAmount = surface * rng.range(0.3, 1);
  const rust: Rgb = jitterColour(rng, [0.46, 0.24, 0.1], 0.15);
  const threshold = 1 - 0.42 * rustAmount;
  return (u, v, out) => {
    const n = valueNoise(u / (9 * scale), v / (9 * scale), seed) * 0.6 + valueNoise(u / (2.5 * scale), v / (2.5 * scale), seed ^ 0x5bd1e995) * 0.4;
    const k = 1 + (n - 0.5) * grime;
    out[0] = out[0]! * k;
    out[1] = out[1]! * k;
    out[2] = out[2]! * k;
    if (rustAmount > 0.02) {
      const r = fbmAbove(u / (22 * scale), v / (22 * scale), rustSeed, 3, threshold);
      if (r > threshold) {
        const a = smoothstep(threshold, threshold + 0.08, r) * 0.85;
        const t = 0.75 + 0.5 * hash2(Math.floor(u * 1.7), Math.floor(v * 1.7), rustSeed);
        out[0] = out[0]! + (rust[0] * t - out[0]!) * a;
        out[1] = out[1]! + (rust[1] * t - out[1]!) * a;
        out[2] = out[2]! + (rust[2] * t - out[2]!) * a;
      }
    }
  };
}

// --- camera -------------------------------------------------------------------------------------

/** Exposure, white balance, vignetting and sensor grain; pixel-position hashed so twins agree. */
export interface Camera {
  gain: [number, number, number];
  vignette: number;
  grain: number;
  seed: number;
}

export function sampleCamera(rng: Rng): Camera {
  const exposure = 1 + rng.signed() * 0.08;
  const gain: [number, number, number] = [exposure * (1 + rng.signed() * 0.03), exposure, exposure * (1 + rng.signed() * 0.03)];
  return { gain, vignette: rng.range(0.1, 0.3), grain: rng.range(0.008, 0.02), seed: rng.seed() };
}

/** The final 8-bit RGB of a canvas seen through `camera`: shape [size, size, 3]. */
export function develop(canvas: Canvas, camera: Camera): Uint8Array {
  const { seed, grain } = camera;
  return canvas.toRgb8Camera(camera.gain, camera.vignette, (x, y) => (hash2(x, y, seed) - 0.5) * 2 * grain);
}

/** Points of a gentle catenary-like sag between (x0, y0) and (x1, y1). */
export function sagCurve(x0: number, y0: number, x1: number, y1: number, sag: number, n = 12): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    pts.push([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + sag * 4 * t * (1 - t)]);
  }
  return pts;
}
