/**
 * Procedural textures for DRAEM's anomaly synthesis when the user has no DTD (the Describable
 * Textures Dataset the official code reads: 5,640 photographs under research-purpose terms, a
 * download the lab cannot make for them). METHODS.md 3.5 option 3: a seeded generator, no I/O, no
 * licence question. Each texture is a scalar field of one of six families, pushed through a random
 * colour ramp and sprinkled with fine grain:
 *
 *   fractal    fractal Perlin noise (stains, rust, mottled paint);
 *   cells      Worley / cellular noise, nearest-point distance or the F2 − F1 crack network;
 *   stripes    warped sinusoidal gratings (brushed metal, fabric, wood grain);
 *   checker    rotated checkerboards and grids with noisy edges (tiles, mesh);
 *   scratches  line segments of random width and brightness over a noisy ground;
 *   marble     sin(x + turbulence): veined stone.
 *
 * The same seed gives the same texture everywhere (mulberry32 and the float64 Perlin of perlin.ts),
 * so a run records only the texture seed. These are not DTD: they are weaker and less varied than
 * photographs, and a run says which source it used.
 */
import { LabError } from '../../../../shared/errors';
import { mulberry32 } from '../../engine/random';
import { fractalNoise } from './perlin';

export const TEXTURE_FAMILIES = ['fractal', 'cells', 'stripes', 'checker', 'scratches', 'marble'] as const;
export type TextureFamily = (typeof TEXTURE_FAMILIES)[number];

/** The largest power of two (≤ limit) that divides n: Perlin lattices must divide the image. */
function pow2Dividing(n: number, limit: number): number {
  let p = 1;
  while (p * 2 <= limit && n % (p * 2) === 0) p *= 2;
  return p;
}

/** Fractal noise normalised to [0, 1], coarsest lattice `res` (a power of two dividing size). */
function fractal01(size: number, res: number, rand: () => number): Float64Array {
  const finest = pow2Dividing(size, size);
  let octaves = 1;
  while (octaves < 5 && res * 2 ** octaves <= Math.min(finest, size / 2)) octaves++;
  return normalise(fractalNoise(size, size, res, res, octaves, 0.5, rand));
}

function normalise(f: Float64Array): Float64Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of f) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  for (let i = 0; i < f.length; i++) f[i] = (f[i]! - lo) / span;
  return f;
}

function cells(size: number, rand: () => number): Float64Array {
  const n = 4 + Math.floor(rand() * 40);
  const px = Array.from({ length: n }, () => rand() * size);
  const py = Array.from({ length: n }, () => rand() * size);
  const cracks = rand() < 0.5;
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let d1 = Infinity;
      let d2 = Infinity;
      for (let k = 0; k < n; k++) {
        // Toroidal distance: the texture tiles without seams, as photographs of surfaces nearly do.
        const dx = Math.min(Math.abs(x - px[k]!), size - Math.abs(x - px[k]!));
        const dy = Math.min(Math.abs(y - py[k]!), size - Math.abs(y - py[k]!));
        const d = Math.hypot(dx, dy);
        if (d < d1) {
          d2 = d1;
          d1 = d;
        } else if (d < d2) d2 = d;
      }
      out[y * size + x] = cracks ? Math.min(1, (d2 - d1) / (size / 16)) : d1;
    }
  }
  return normalise(out);
}

function stripes(size: number, rand: () => number): Float64Array {
  const theta = rand() * Math.PI;
  const freq = (2 + rand() * 14) / size;
  const warp = rand() * 3;
  const noise = fractal01(size, Math.min(4, pow2Dividing(size, 4)), rand);
  const sharp = rand() < 0.4;
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x * Math.cos(theta) + y * Math.sin(theta);
      const s = Math.sin(2 * Math.PI * freq * u + warp * 2 * Math.PI * noise[y * size + x]!);
      out[y * size + x] = sharp ? (s > 0 ? 1 : 0) : 0.5 + 0.5 * s;
    }
  }
  return out;
}

function checker(size: number, rand: () => number): Float64Array {
  const theta = rand() * Math.PI;
  const period = size / (2 + Math.floor(rand() * 10));
  const grid = rand() < 0.4;
  const line = 0.08 + rand() * 0.15;
  const noise = fractal01(size, Math.min(8, pow2Dividing(size, 8)), rand);
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = (x * Math.cos(theta) + y * Math.sin(theta)) / period + 0.15 * noise[y * size + x]!;
      const v = (-x * Math.sin(theta) + y * Math.cos(theta)) / period;
      const fu = u - Math.floor(u);
      const fv = v - Math.floor(v);
      out[y * size + x] = grid ? (fu < line || fv < line ? 1 : 0) : (Math.floor(u) + Math.floor(v)) & 1;
    }
  }
  return out;
}

function scratches(size: number, rand: () => number): Float64Array {
  const out = fractal01(size, Math.min(2, pow2Dividing(size, 2)), rand);
  for (let i = 0; i < out.length; i++) out[i] = 0.3 + 0.4 * out[i]!;
  const count = 3 + Math.floor(rand() * 25);
  for (let k = 0; k < count; k++) {
    const x0 = rand() * size;
    const y0 = rand() * size;
    const angle = rand() * Math.PI * 2;
    const length = (0.2 + rand() * 0.8) * size;
    const width = 0.5 + rand() * 2.5;
    const value = rand() < 0.5 ? 0 : 1;
    const steps = Math.ceil(length);
    for (let s = 0; s <= steps; s++) {
      const cx = x0 + Math.cos(angle) * s;
      const cy = y0 + Math.sin(angle) * s;
      const r = Math.ceil(width);
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const x = Math.round(cx + dx);
          const y = Math.round(cy + dy);
          if (x < 0 || y < 0 || x >= size || y >= size || Math.hypot(dx, dy) > width) continue;
          out[y * size + x] = value;
        }
      }
    }
  }
  return out;
}

function marble(size: number, rand: () => number): Float64Array {
  const noise = fractal01(size, Math.min(2, pow2Dividing(size, 2)), rand);
  const freq = (1 + rand() * 6) / size;
  const turbulence = 2 + rand() * 8;
  const theta = rand() * Math.PI;
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x * Math.cos(theta) + y * Math.sin(theta);
      out[y * size + x] = Math.abs(Math.sin(2 * Math.PI * freq * u + turbulence * noise[y * size + x]!));
    }
  }
  return out;
}

/** Piecewise-linear colour ramp over 2–4 random RGB stops. */
function colourRamp(rand: () => number): (t: number) => [number, number, number] {
  const stops = 2 + Math.floor(rand() * 3);
  const colours = Array.from({ length: stops }, () => [rand() * 255, rand() * 255, rand() * 255] as const);
  return (t) => {
    const x = Math.min(Math.max(t, 0), 1) * (stops - 1);
    const i = Math.min(stops - 2, Math.floor(x));
    const f = x - i;
    const a = colours[i]!;
    const b = colours[i + 1]!;
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  };
}

/**
 * One texture.
 * @param size the side (any positive integer; Perlin lattices adapt to its powers of two)
 * @param family one of TEXTURE_FAMILIES, or drawn from the seed when absent
 * @returns 8-bit RGB [size × size × 3]
 */
export function proceduralTexture(size: number, seed: number, family?: TextureFamily): Uint8Array {
  if (!Number.isInteger(size) || size < 2) throw new LabError(`procedural texture: size ${size} must be an integer ≥ 2`, 'ValidationError');
  const rand = mulberry32(seed);
  const kind = family ?? TEXTURE_FAMILIES[Math.floor(rand() * TEXTURE_FAMILIES.length)]!;
  let field: Float64Array;
  switch (kind) {
    case 'fractal':
      field = fractal01(size, pow2Dividing(size, 2 ** Math.floor(rand() * 4)), rand);
      break;
    case 'cells':
      field = cells(size, rand);
      break;
    case 'stripes':
      field = stripes(size, rand);
      break;
    case 'checker':
      field = checker(size, rand);
      break;
    case 'scratches':
      field = scratches(size, rand);
      break;
    case 'marble':
      field = marble(size, rand);
      break;
  }
  const ramp = colourRamp(rand);
  const grain = rand() * 24;
  const out = new Uint8Array(size * size * 3);
  for (let p = 0; p < size * size; p++) {
    const [r, g, b] = ramp(field[p]!);
    const n = (rand() - 0.5) * grain;
    out[p * 3] = Math.min(255, Math.max(0, Math.round(r + n)));
    out[p * 3 + 1] = Math.min(255, Math.max(0, Math.round(g + n)));
    out[p * 3 + 2] = Math.min(255, Math.max(0, Math.round(b + n)));
  }
  return out;
}
