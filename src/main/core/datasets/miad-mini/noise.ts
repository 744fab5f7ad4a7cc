/**
 * Position-hashed noise for textures (sky, brushed metal, rust, vegetation, sensor grain).
 *
 * The noise is a pure function of (x, y, seed), never of a running generator, so the normal twin
 * and the defective render of one sample see the same texture everywhere the defect did not draw:
 * that is what makes "mask = pixels that differ" exact.
 */

/** Uniform in [0, 1) from integer lattice coordinates and a seed. */
export function hash2(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix | 0, 0x27d4eb2d) ^ Math.imul(iy | 0, 0x165667b1) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

// One fixed 256×256 lattice of random values; a seed selects an offset into it (wrapping). A table
// lookup is several times cheaper than hashing four lattice corners, and value noise is the hottest
// code of the generator. The period (256 lattice cells) is far larger than any texture spans.
const LATTICE = (() => {
  const t = new Float32Array(256 * 256);
  for (let j = 0; j < 256; j++) for (let i = 0; i < 256; i++) t[j * 256 + i] = hash2(i, j, 0x2545f491);
  return t;
})();

/** Smooth value noise in [0, 1) with unit lattice spacing. */
export function valueNoise(x: number, y: number, seed: number): number {
  const fx0 = Math.floor(x);
  const fy0 = Math.floor(y);
  let fx = x - fx0;
  let fy = y - fy0;
  fx = fx * fx * (3 - 2 * fx);
  fy = fy * fy * (3 - 2 * fy);
  const ix = (fx0 + (seed & 255)) & 255;
  const iy = (fy0 + ((seed >>> 8) & 255)) & 255;
  const ix1 = (ix + 1) & 255;
  const r0 = iy << 8;
  const r1 = ((iy + 1) & 255) << 8;
  const a = LATTICE[r0 + ix]!;
  const b = LATTICE[r0 + ix1]!;
  const c = LATTICE[r1 + ix]!;
  const d = LATTICE[r1 + ix1]!;
  const top = a + (b - a) * fx;
  const bottom = c + (d - c) * fx;
  return top + (bottom - top) * fy;
}

/** Fractal sum of `octaves` value-noise layers (each twice the frequency, half the weight), in [0, 1). */
export function fbm(x: number, y: number, seed: number, octaves = 3): number {
  let sum = 0;
  let amp = 0.5;
  let norm = 0;
  let f = 1;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, (seed + Math.imul(o, 0x3c6ef372)) | 0);
    norm += amp;
    amp *= 0.5;
    f *= 2.03;
  }
  return sum / norm;
}

/**
 * fbm(x, y, seed, octaves) when it exceeds `threshold`, else −1, stopping as soon as the octaves
 * left cannot lift the sum over the threshold. Thresholded masks (clouds, rust patches) cover little
 * of the image, so most pixels cost one octave instead of three.
 */
export function fbmAbove(x: number, y: number, seed: number, octaves: number, threshold: number): number {
  let norm = 0;
  for (let o = 0, a = 0.5; o < octaves; o++, a *= 0.5) norm += a;
  const target = threshold * norm;
  let sum = 0;
  let amp = 0.5;
  let left = norm;
  let f = 1;
  for (let o = 0; o < octaves; o++) {
    sum += amp * valueNoise(x * f, y * f, (seed + Math.imul(o, 0x3c6ef372)) | 0);
    left -= amp;
    if (sum + left <= target) return -1;
    amp *= 0.5;
    f *= 2.03;
  }
  return sum / norm;
}
