/**
 * 2-D Perlin noise as DRAEM draws its anomaly shapes (Zavrtanik et al., ICCV 2021; official code
 * VitjanZ/DRAEM perlin.py `rand_perlin_2d_np`), and as the procedural textures (textures.ts) build
 * their stains and marbling from it. Pure arithmetic in float64, no tensors: the synthesis runs in
 * plain JS beside training, and the main process renders previews with it.
 *
 * The official formula: a lattice of res0 × res1 cells over the image, a random unit gradient
 * (cos a, sin a) at each of the (res0 + 1) × (res1 + 1) lattice points, the dot products of the
 * four corner gradients with the pixel's offsets from those corners, blended with the quintic fade
 * 6t⁵ − 15t⁴ + 10t³ and scaled by √2. The random angles are an argument here (`angles`), so a test
 * can hand the same lattice to the official numpy code and compare the noise to 1e-6; the callers
 * draw them from their seeded generator (`perlinAngles`).
 */
import { LabError } from '../../../../shared/errors';

/** The official fade curve (perlin.py `fade`). */
function fade(t: number): number {
  return 6 * t ** 5 - 15 * t ** 4 + 10 * t ** 3;
}

/** perlin.py `lerp_np`: (y − x)·w + x, in that order (the same rounding). */
function lerp(x: number, y: number, w: number): number {
  return (y - x) * w + x;
}

/**
 * `rand_perlin_2d_np((height, width), (res0, res1))` with the gradient angles given.
 * @param angles [(res0 + 1) × (res1 + 1)] row-major, radians (the official 2π·U[0, 1))
 * @returns [height × width] row-major noise, roughly in [−1, 1]
 */
export function perlinNoise(height: number, width: number, res0: number, res1: number, angles: Float64Array): Float64Array {
  if (!(Number.isInteger(res0) && Number.isInteger(res1) && res0 >= 1 && res1 >= 1)) throw new LabError(`Perlin noise: lattice ${res0} × ${res1} must be positive integers`, 'ValidationError');
  // The official code tiles each cell's gradients `shape // res` times: the lattice must divide the image.
  if (height % res0 !== 0 || width % res1 !== 0) throw new LabError(`Perlin noise: lattice ${res0} × ${res1} does not divide the ${height} × ${width} image`, 'ValidationError');
  const g = res1 + 1;
  if (angles.length !== (res0 + 1) * g) throw new LabError(`Perlin noise: ${angles.length} angles for a ${res0 + 1} × ${g} lattice`, 'ValidationError');
  const cos = angles.map(Math.cos);
  const sin = angles.map(Math.sin);
  // np.mgrid[0:res0:delta0, 0:res1:delta1] % 1: the pixel's position inside its cell, in cell units.
  const delta0 = res0 / height;
  const delta1 = res1 / width;
  const d0 = height / res0;
  const d1 = width / res1;
  const out = new Float64Array(height * width);
  for (let i = 0; i < height; i++) {
    const y = (i * delta0) % 1;
    const ty = fade(y);
    const ci = Math.floor(i / d0);
    for (let j = 0; j < width; j++) {
      const x = (j * delta1) % 1;
      const tx = fade(x);
      const cj = Math.floor(j / d1);
      const k00 = ci * g + cj;
      const k10 = k00 + g;
      const k01 = k00 + 1;
      const k11 = k10 + 1;
      // dot(grad, shift): (grid0 + s0)·g_cos + (grid1 + s1)·g_sin, as perlin.py's `dot` sums the stack.
      const n00 = y * cos[k00]! + x * sin[k00]!;
      const n10 = (y - 1) * cos[k10]! + x * sin[k10]!;
      const n01 = y * cos[k01]! + (x - 1) * sin[k01]!;
      const n11 = (y - 1) * cos[k11]! + (x - 1) * sin[k11]!;
      out[i * width + j] = Math.SQRT2 * lerp(lerp(n00, n10, ty), lerp(n01, n11, ty), tx);
    }
  }
  return out;
}

/** Gradient angles for a res0 × res1 lattice: 2π·U[0, 1) from `rand`, as `2 * math.pi * np.random.rand(...)`. */
export function perlinAngles(res0: number, res1: number, rand: () => number): Float64Array {
  const out = new Float64Array((res0 + 1) * (res1 + 1));
  for (let i = 0; i < out.length; i++) out[i] = 2 * Math.PI * rand();
  return out;
}

/**
 * Fractal noise: `octaves` layers of Perlin noise, each at twice the lattice and `persistence`
 * times the amplitude of the one before (perlin.py `generate_fractal_noise_2d`), angles drawn from
 * `rand`. The finest lattice must still divide the image.
 * @returns [height × width]
 */
export function fractalNoise(height: number, width: number, res0: number, res1: number, octaves: number, persistence: number, rand: () => number): Float64Array {
  const out = new Float64Array(height * width);
  let frequency = 1;
  let amplitude = 1;
  for (let o = 0; o < octaves; o++) {
    const r0 = frequency * res0;
    const r1 = frequency * res1;
    const layer = perlinNoise(height, width, r0, r1, perlinAngles(r0, r1, rand));
    for (let i = 0; i < out.length; i++) out[i]! += amplitude * layer[i]!;
    frequency *= 2;
    amplitude *= persistence;
  }
  return out;
}
