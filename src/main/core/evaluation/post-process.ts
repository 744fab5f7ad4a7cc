/**
 * Post-processing shared by every method: Gaussian smoothing of anomaly maps, resizing maps
 * (bilinear) and masks (nearest), and normalisation of maps for display.
 *
 * Which conventions, and why:
 * - Gaussian blur follows anomalib (GaussianBlur2d, what the benchmark methods' maps go through):
 *   kernel radius int(4σ + 0.5) (so 33 taps at σ 4, the same radius as scipy.ndimage.gaussian_filter's
 *   truncate=4.0), weights exp(-x²/2σ²) normalised to sum 1, and torch's 'reflect' padding, which
 *   mirrors about the edge pixel without repeating it (d c b | a b c d | c b a). That padding is
 *   scipy's mode='mirror', NOT scipy's mode='reflect' (which repeats the edge pixel); both are offered.
 * - Bilinear resize matches torch.nn.functional.interpolate(mode='bilinear', align_corners=False,
 *   antialias=False): half-pixel centres, source coordinate (dst + 0.5)·in/out − 0.5 clamped at 0,
 *   neighbours clamped at the last pixel. Downscaling does not antialias, like torch's default.
 * - Nearest resize (for masks) matches torch's mode='nearest': source index floor(dst·in/out).
 */

export type BlurPadding = 'torch-reflect' | 'scipy-reflect';

/** Gaussian kernel of anomalib / scipy (truncate 4σ), shape [2r + 1], summing to 1. */
export function gaussianKernel(sigma: number): Float64Array {
  if (!(sigma > 0)) throw new RangeError(`sigma must be > 0, got ${sigma}`);
  const radius = Math.trunc(4 * sigma + 0.5);
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma));
    k[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / sum;
  return k;
}

/**
 * Index into [0, n) for a padded position, mirroring repeatedly (so it works for any radius, as
 * scipy does; torch refuses pads ≥ n, where we agree with scipy's 'mirror' / 'reflect').
 */
function reflectIndex(i: number, n: number, padding: BlurPadding): number {
  if (n === 1) return 0;
  if (padding === 'torch-reflect') {
    const period = 2 * n - 2;
    let m = i % period;
    if (m < 0) m += period;
    return m < n ? m : period - m;
  }
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * Separable Gaussian blur of one map.
 * @param map shape [height, width], row-major
 * @returns a new Float32Array, shape [height, width]
 */
export function gaussianBlur(
  map: Float32Array,
  width: number,
  height: number,
  sigma = 4,
  padding: BlurPadding = 'torch-reflect',
): Float32Array {
  if (map.length !== width * height) throw new RangeError(`map holds ${map.length} values, expected ${height}×${width}`);
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  // Horizontal then vertical pass, accumulating in float64 and storing float32 in between, as a
  // float32 torch conv2d would (one rounding per pass).
  const tmp = new Float32Array(map.length);
  const out = new Float32Array(map.length);
  const xIdx = new Int32Array(width + 2 * r);
  for (let i = 0; i < xIdx.length; i++) xIdx[i] = reflectIndex(i - r, width, padding);
  const yIdx = new Int32Array(height + 2 * r);
  for (let i = 0; i < yIdx.length; i++) yIdx[i] = reflectIndex(i - r, height, padding);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += k[t]! * map[row + xIdx[x + t]!]!;
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = 0; t < k.length; t++) acc += k[t]! * tmp[yIdx[y + t]! * width + x]!;
      out[y * width + x] = acc;
    }
  }
  return out;
}

/**
 * Bilinear resize as torch's F.interpolate(mode='bilinear', align_corners=False).
 * @param src shape [inH, inW]
 * @returns shape [outH, outW]
 */
export function resizeBilinear(src: Float32Array, inW: number, inH: number, outW: number, outH: number): Float32Array {
  if (src.length !== inW * inH) throw new RangeError(`map holds ${src.length} values, expected ${inH}×${inW}`);
  const out = new Float32Array(outW * outH);
  if (inW === outW && inH === outH) {
    out.set(src);
    return out;
  }
  const sx = inW / outW;
  const sy = inH / outH;
  const x0s = new Int32Array(outW);
  const x1s = new Int32Array(outW);
  const lxs = new Float64Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    const x0 = Math.min(Math.floor(fx), inW - 1);
    x0s[x] = x0;
    x1s[x] = Math.min(x0 + 1, inW - 1);
    lxs[x] = fx - x0;
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), inH - 1);
    const y1 = Math.min(y0 + 1, inH - 1);
    const ly = fy - y0;
    const r0 = y0 * inW;
    const r1 = y1 * inW;
    for (let x = 0; x < outW; x++) {
      const lx = lxs[x]!;
      const a = src[r0 + x0s[x]!]!;
      const b = src[r0 + x1s[x]!]!;
      const c = src[r1 + x0s[x]!]!;
      const d = src[r1 + x1s[x]!]!;
      out[y * outW + x] = (1 - ly) * ((1 - lx) * a + lx * b) + ly * ((1 - lx) * c + lx * d);
    }
  }
  return out;
}

/**
 * Nearest-neighbour resize as torch's F.interpolate(mode='nearest'): source index floor(dst·in/out).
 * @param src shape [inH, inW]
 * @returns shape [outH, outW]
 */
export function resizeNearest<T extends Uint8Array | Float32Array>(src: T, inW: number, inH: number, outW: number, outH: number): T {
  if (src.length !== inW * inH) throw new RangeError(`image holds ${src.length} values, expected ${inH}×${inW}`);
  const out = new (src.constructor as new (n: number) => T)(outW * outH);
  const xs = new Int32Array(outW);
  for (let x = 0; x < outW; x++) xs[x] = Math.min(Math.floor((x * inW) / outW), inW - 1);
  for (let y = 0; y < outH; y++) {
    const sy = Math.min(Math.floor((y * inH) / outH), inH - 1);
    for (let x = 0; x < outW; x++) out[y * outW + x] = src[sy * inW + xs[x]!]!;
  }
  return out;
}

// --- display normalisation -----------------------------------------------------------------------

/** How map values become display intensities in [0, 1]: (v − lo) / (hi − lo), clipped. */
export interface DisplayScale {
  lo: number;
  hi: number;
}

/** Running min / max over maps, without holding them. */
export class MapStats {
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  count = 0;

  /** Adds one map (any shape); non-finite values are ignored. */
  add(map: ArrayLike<number>): this {
    for (let i = 0; i < map.length; i++) {
      const v = map[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      this.count++;
    }
    return this;
  }
}

/**
 * A run's own display scale: its min and max, or — as anomalib normalises — centred on a threshold
 * (e.g. the image F1 threshold) so that the threshold shows at mid-grey: lo/hi = t ∓ (max − min) / 2.
 */
export function runDisplayScale(stats: MapStats, threshold?: number): DisplayScale {
  if (stats.count === 0) throw new RangeError('no finite map value to scale');
  if (threshold === undefined) return { lo: stats.min, hi: stats.max > stats.min ? stats.max : stats.min + 1 };
  const half = (stats.max - stats.min) / 2 || 0.5;
  return { lo: threshold - half, hi: threshold + half };
}

/** One scale for several runs compared side by side: the union of their ranges. */
export function sharedDisplayScale(scales: DisplayScale[]): DisplayScale {
  if (scales.length === 0) throw new RangeError('no scale to share');
  const lo = Math.min(...scales.map((s) => s.lo));
  const hi = Math.max(...scales.map((s) => s.hi));
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

/** Display intensities of a map, shape [n] → [n] in [0, 1]. */
export function normalizeForDisplay(map: ArrayLike<number>, scale: DisplayScale, out = new Float32Array(map.length)): Float32Array {
  const span = scale.hi - scale.lo || 1;
  for (let i = 0; i < map.length; i++) {
    const v = (map[i]! - scale.lo) / span;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}
