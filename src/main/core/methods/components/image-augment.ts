/**
 * The ten image augmenters DRAEM applies to its anomaly textures (official code VitjanZ/DRAEM
 * data_loader.py `MVTecDRAEMTrainDataset.augmenters`, imgaug 0.4), and the rotation it applies to
 * normal images and to the Perlin noise, reproduced from their definitions on 8-bit RGB in plain
 * JS (imgaug is a Python library; the lab's synthesis runs beside training without tensors):
 *
 *   gamma          iaa.GammaContrast((0.5, 2.0), per_channel=True): a gamma U(0.5, 2) per channel,
 *                  LUT 255·(v/255)^γ in float32, truncated (contrast.py `adjust_contrast_gamma`);
 *   brightness     iaa.MultiplyAndAddToBrightness(mul=(0.8, 1.2), add=(-30, 30)): into a colour
 *                  space with a brightness channel, ×mul (LUT, truncated) and +add (saturating), in
 *                  random order, back. imgaug picks among YCrCb, HSV, HLS, Lab, Luv and YUV; we pick
 *                  among YCrCb, HSV and YUV, whose conversions are closed forms (Lab / Luv need the
 *                  sRGB curve and white point; the effect, a brighter or darker texture, is the same);
 *   sharpness      iaa.pillike.EnhanceSharpness(): PIL ImageEnhance.Sharpness with a factor U(0, 2):
 *                  blend of the image with its 3×3 SMOOTH filtering [[1,1,1],[1,5,1],[1,1,1]]/13
 *                  (border pixels kept), PIL's rounding and clipping;
 *   hueSaturation  iaa.AddToHueAndSaturation((-50, 50), per_channel=True): integers v_h, v_s in
 *                  [−50, 50]; OpenCV HSV (hue in [0, 180)), hue += trunc(v_h/255·180) mod 180,
 *                  saturation += v_s clipped;
 *   solarize       iaa.Solarize(0.5, threshold=(32, 128)): with probability 0.5, every value ≥ a
 *                  threshold U(32, 128) becomes 255 − v;
 *   posterize      iaa.Posterize(): keep the top b bits, b in {1..8} (= PIL ImageOps.posterize);
 *   invert         iaa.Invert(): 255 − v;
 *   autocontrast   iaa.pillike.Autocontrast(): PIL ImageOps.autocontrast per channel with a cutoff
 *                  in {0..20} percent;
 *   equalize       iaa.pillike.Equalize(): PIL ImageOps.equalize per channel;
 *   rotate         iaa.Affine(rotate=(-45, 45)): rotation about the image centre ((w−1)/2, (h−1)/2),
 *                  bilinear, zeros outside (imgaug's defaults order 1, mode 'constant', cval 0).
 *
 * Bit-exact with PIL where PIL defines the operation (tests compare sharpness, posterize, solarize,
 * invert, autocontrast and equalize with Pillow, and the float rotation with skimage's
 * `transform.rotate`). Not bit-exact with imgaug where imgaug goes through OpenCV's fixed-point
 * kernels (cv2.warpAffine's 1/32-pixel bilinear, cv2.cvtColor's integer HSV tables): ours are the
 * exact float formulas, rounded, which differ by at most one grey level.
 *
 * Each augmenter is split into a draw (its random parameters, from a seeded generator, kept so a
 * sample can say what was done to it) and a pure apply.
 */
import { LabError } from '../../../../shared/errors';

export const AUGMENTERS = ['gamma', 'brightness', 'sharpness', 'hueSaturation', 'solarize', 'posterize', 'invert', 'autocontrast', 'equalize', 'rotate'] as const;
export type AugmenterName = (typeof AUGMENTERS)[number];

/** One augmenter with its drawn parameters. */
export type AugmentStep =
  | { name: 'gamma'; gammas: [number, number, number] }
  | { name: 'brightness'; space: 'YCrCb' | 'HSV' | 'YUV'; mul: number; add: number; mulFirst: boolean }
  | { name: 'sharpness'; factor: number }
  | { name: 'hueSaturation'; hue: number; saturation: number }
  | { name: 'solarize'; apply: boolean; threshold: number }
  | { name: 'posterize'; bits: number }
  | { name: 'invert' }
  | { name: 'autocontrast'; cutoff: number }
  | { name: 'equalize' }
  | { name: 'rotate'; degrees: number };

/** U(lo, hi) from rand. */
function uniform(rand: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/** An integer in [lo, hi] (both inclusive: imgaug's DiscreteUniform for an int tuple). */
function discrete(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** The random parameters of augmenter `name`, with the official code's ranges. */
export function drawAugmentStep(name: AugmenterName, rand: () => number, rotateDegrees = 45): AugmentStep {
  switch (name) {
    case 'gamma':
      return { name, gammas: [uniform(rand, 0.5, 2), uniform(rand, 0.5, 2), uniform(rand, 0.5, 2)] };
    case 'brightness': {
      const spaces = ['YCrCb', 'HSV', 'YUV'] as const;
      return { name, space: spaces[discrete(rand, 0, 2)]!, mul: uniform(rand, 0.8, 1.2), add: discrete(rand, -30, 30), mulFirst: rand() < 0.5 };
    }
    case 'sharpness':
      return { name, factor: uniform(rand, 0, 2) };
    case 'hueSaturation':
      return { name, hue: discrete(rand, -50, 50), saturation: discrete(rand, -50, 50) };
    case 'solarize':
      return { name, apply: rand() < 0.5, threshold: uniform(rand, 32, 128) };
    case 'posterize':
      return { name, bits: discrete(rand, 1, 8) };
    case 'invert':
      return { name };
    case 'autocontrast':
      return { name, cutoff: discrete(rand, 0, 20) };
    case 'equalize':
      return { name };
    case 'rotate':
      return { name, degrees: uniform(rand, -rotateDegrees, rotateDegrees) };
  }
}

/**
 * `count` distinct augmenters in random order (np.random.choice(10, 3, replace=False)), each with
 * its parameters drawn.
 */
export function drawAugmentSteps(count: number, rand: () => number, names: readonly AugmenterName[] = AUGMENTERS, rotateDegrees = 45): AugmentStep[] {
  if (count > names.length) throw new LabError(`cannot pick ${count} distinct augmenters out of ${names.length}`, 'ValidationError');
  const pool = [...names];
  const out: AugmentStep[] = [];
  for (let k = 0; k < count; k++) {
    const i = Math.floor(rand() * pool.length);
    const [name] = pool.splice(i, 1);
    out.push(drawAugmentStep(name!, rand, rotateDegrees));
  }
  return out;
}

/** Applies the steps in order to an 8-bit RGB image [h × w × 3]; returns a new image. */
export function applyAugmentSteps(image: Uint8Array, height: number, width: number, steps: readonly AugmentStep[]): Uint8Array {
  let out = image;
  for (const step of steps) out = applyAugmentStep(out, height, width, step);
  return out === image ? new Uint8Array(image) : out;
}

/** One step; returns a new image [h × w × 3]. */
export function applyAugmentStep(image: Uint8Array, height: number, width: number, step: AugmentStep): Uint8Array {
  if (image.length !== height * width * 3) throw new LabError(`augment: ${image.length} values for a ${height} × ${width} RGB image`, 'ValidationError');
  switch (step.name) {
    case 'gamma':
      return perChannelLut(image, step.gammas.map(gammaLut) as [Uint8Array, Uint8Array, Uint8Array]);
    case 'brightness':
      return brightness(image, step.space, step.mul, step.add, step.mulFirst);
    case 'sharpness':
      return enhanceSharpness(image, height, width, step.factor);
    case 'hueSaturation':
      return addHueSaturation(image, step.hue, step.saturation);
    case 'solarize':
      return step.apply ? lut(image, solarizeLut(step.threshold)) : new Uint8Array(image);
    case 'posterize':
      return lut(image, posterizeLut(step.bits));
    case 'invert':
      return lut(image, solarizeLut(0));
    case 'autocontrast':
      return autocontrast(image, step.cutoff);
    case 'equalize':
      return equalize(image);
    case 'rotate':
      return rotateUint8(image, height, width, 3, step.degrees);
  }
}

// --- look-up tables -------------------------------------------------------------------------------------

function lut(image: Uint8Array, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) out[i] = table[image[i]!]!;
  return out;
}

function perChannelLut(image: Uint8Array, tables: readonly [Uint8Array, Uint8Array, Uint8Array]): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i += 3) {
    out[i] = tables[0][image[i]!]!;
    out[i + 1] = tables[1][image[i + 1]!]!;
    out[i + 2] = tables[2][image[i + 2]!]!;
  }
  return out;
}

/** imgaug `adjust_contrast_gamma` for uint8: clip(255·linspace(0, 1, 256, float32)^γ).astype(uint8). */
export function gammaLut(gamma: number): Uint8Array {
  const g = Math.fround(gamma);
  const table = new Uint8Array(256);
  for (let v = 0; v < 256; v++) {
    const x = Math.fround(v / 255);
    const y = Math.fround(Math.fround(Math.fround(x ** g) * 255));
    table[v] = Math.min(255, Math.max(0, Math.trunc(y)));
  }
  return table;
}

/** PIL ImageOps.solarize / imgaug Invert(threshold=t): v ≥ t → 255 − v (t = 0 inverts everything). */
export function solarizeLut(threshold: number): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, v) => (v >= threshold ? 255 - v : v));
}

/** PIL ImageOps.posterize: v & ~(2^(8 − bits) − 1). */
export function posterizeLut(bits: number): Uint8Array {
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return Uint8Array.from({ length: 256 }, (_, v) => v & mask);
}

// --- PIL's histogram operations ---------------------------------------------------------------------

function histograms(image: Uint8Array): [number[], number[], number[]] {
  const h: [number[], number[], number[]] = [new Array<number>(256).fill(0), new Array<number>(256).fill(0), new Array<number>(256).fill(0)];
  for (let i = 0; i < image.length; i += 3) {
    h[0][image[i]!]!++;
    h[1][image[i + 1]!]!++;
    h[2][image[i + 2]!]!++;
  }
  return h;
}

/** PIL ImageOps.autocontrast(image, cutoff) (Pillow 9.4), band by band. */
export function autocontrast(image: Uint8Array, cutoff: number): Uint8Array {
  const tables = histograms(image).map((hist) => {
    const h = [...hist];
    if (cutoff) {
      let n = 0;
      for (let ix = 0; ix < 256; ix++) n += h[ix]!;
      let cut = Math.floor((n * cutoff) / 100);
      for (let lo = 0; lo < 256; lo++) {
        if (cut > h[lo]!) {
          cut -= h[lo]!;
          h[lo] = 0;
        } else {
          h[lo]! -= cut;
          cut = 0;
        }
        if (cut <= 0) break;
      }
      cut = Math.floor((n * cutoff) / 100);
      for (let hi = 255; hi >= 0; hi--) {
        if (cut > h[hi]!) {
          cut -= h[hi]!;
          h[hi] = 0;
        } else {
          h[hi]! -= cut;
          cut = 0;
        }
        if (cut <= 0) break;
      }
    }
    let lo = 0;
    while (lo < 255 && !h[lo]) lo++;
    let hi = 255;
    while (hi > 0 && !h[hi]) hi--;
    const table = new Uint8Array(256);
    if (hi <= lo) {
      for (let ix = 0; ix < 256; ix++) table[ix] = ix;
    } else {
      const scale = 255.0 / (hi - lo);
      const offset = -lo * scale;
      for (let ix = 0; ix < 256; ix++) table[ix] = Math.min(255, Math.max(0, Math.trunc(ix * scale + offset)));
    }
    return table;
  });
  return perChannelLut(image, tables as [Uint8Array, Uint8Array, Uint8Array]);
}

/** PIL ImageOps.equalize(image) (Pillow 9.4), band by band. */
export function equalize(image: Uint8Array): Uint8Array {
  const tables = histograms(image).map((h) => {
    const table = Uint8Array.from({ length: 256 }, (_, v) => v);
    const used = h.filter((c) => c > 0);
    if (used.length <= 1) return table;
    const step = Math.floor((used.reduce((a, b) => a + b, 0) - used[used.length - 1]!) / 255);
    if (!step) return table;
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      // PIL's lut holds n // step, which may pass 255; its _lut clips when it builds the 8-bit table.
      table[i] = Math.min(255, Math.floor(n / step));
      n += h[i]!;
    }
    return table;
  });
  return perChannelLut(image, tables as [Uint8Array, Uint8Array, Uint8Array]);
}

// --- PIL ImageEnhance.Sharpness -------------------------------------------------------------------------

/**
 * PIL ImageEnhance.Sharpness(image).enhance(factor) (Pillow 9.4): degenerate = image.filter(SMOOTH)
 * (ImagingFilter3x3: the kernel [[1,1,1],[1,5,1],[1,1,1]]/13 in float, +0.5 and truncated, the
 * first and last rows and columns copied), then Image.blend(degenerate, image, factor):
 * trunc(d + factor·(v − d)) in float32, clipped to [0, 255] when factor lies outside [0, 1].
 */
export function enhanceSharpness(image: Uint8Array, height: number, width: number, factor: number): Uint8Array {
  const smooth = new Uint8Array(image);
  const k = [1 / 13, 1 / 13, 1 / 13, 1 / 13, 5 / 13, 1 / 13, 1 / 13, 1 / 13, 1 / 13].map(Math.fround);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) s = Math.fround(s + Math.fround(image[((y + dy) * width + x + dx) * 3 + c]! * k[(dy + 1) * 3 + dx + 1]!));
        }
        const v = Math.fround(s + 0.5);
        smooth[(y * width + x) * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
      }
    }
  }
  const out = new Uint8Array(image.length);
  const a = Math.fround(factor);
  const inside = a >= 0 && a <= 1;
  for (let i = 0; i < image.length; i++) {
    const d = smooth[i]!;
    // Blend.c computes in C float: int + float·int.
    const t = Math.fround(d + Math.fround(a * (image[i]! - d)));
    out[i] = inside ? Math.trunc(t) : t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
  }
  return out;
}

// --- colour spaces -----------------------------------------------------------------------------------

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
}

/** OpenCV's RGB → HSV for 8-bit images (H in [0, 180), S and V in [0, 255]), in float, rounded. */
function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const v = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const diff = v - min;
  const s = v === 0 ? 0 : Math.round((255 * diff) / v);
  let h = 0;
  if (diff > 0) {
    if (v === r) h = (60 * (g - b)) / diff;
    else if (v === g) h = 120 + (60 * (b - r)) / diff;
    else h = 240 + (60 * (r - g)) / diff;
    if (h < 0) h += 360;
  }
  return [Math.round(h / 2) % 180, s, v];
}

/** OpenCV's HSV → RGB for 8-bit images (hue ×2 in degrees, S and V / 255), rounded. */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const hh = ((h * 2) % 360) / 60;
  const ss = s / 255;
  const vv = v / 255;
  const i = Math.floor(hh);
  const f = hh - i;
  const p = vv * (1 - ss);
  const q = vv * (1 - ss * f);
  const t = vv * (1 - ss * (1 - f));
  const [r, g, b] = [
    [vv, t, p],
    [q, vv, p],
    [p, vv, t],
    [p, q, vv],
    [t, p, vv],
    [vv, p, q],
  ][i % 6]!;
  return [clip8(r! * 255), clip8(g! * 255), clip8(b! * 255)];
}

/** AddToHueAndSaturation: hue shift trunc(value/255·180) in OpenCV hue units, mod 180; saturation clipped. */
export function addHueSaturation(image: Uint8Array, hueValue: number, saturationValue: number): Uint8Array {
  const dh = Math.trunc(Math.fround(Math.fround(hueValue / 255) * 180));
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i += 3) {
    const [h, s, v] = rgbToHsv(image[i]!, image[i + 1]!, image[i + 2]!);
    const rgb = hsvToRgb((((h + dh) % 180) + 180) % 180, Math.min(255, Math.max(0, s + saturationValue)), v);
    out[i] = rgb[0];
    out[i + 1] = rgb[1];
    out[i + 2] = rgb[2];
  }
  return out;
}

/** imgaug Multiply (uint8 LUT: clip(v·mul) truncated) and Add (saturating), in the given order. */
function brightnessValue(v: number, mul: number, add: number, mulFirst: boolean): number {
  const m = (x: number): number => Math.min(255, Math.max(0, Math.trunc(Math.fround(x * Math.fround(mul)))));
  const a = (x: number): number => Math.min(255, Math.max(0, x + add));
  return mulFirst ? a(m(v)) : m(a(v));
}

/** MultiplyAndAddToBrightness in one colour space: its brightness channel changed, the chroma kept. */
export function brightness(image: Uint8Array, space: 'YCrCb' | 'HSV' | 'YUV', mul: number, add: number, mulFirst: boolean): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i += 3) {
    const r = image[i]!;
    const g = image[i + 1]!;
    const b = image[i + 2]!;
    let rgb: [number, number, number];
    if (space === 'HSV') {
      const [h, s, v] = rgbToHsv(r, g, b);
      rgb = hsvToRgb(h, s, brightnessValue(v, mul, add, mulFirst));
    } else {
      // OpenCV's YCrCb (Cr = (R − Y)·0.713 + 128, Cb = (B − Y)·0.564 + 128) and YUV (U = (B − Y)·0.492,
      // V = (R − Y)·0.877) with the luma Y = 0.299 R + 0.587 G + 0.114 B, each rounded to 8 bits.
      const y = clip8(0.299 * r + 0.587 * g + 0.114 * b);
      const [kr, kb, ir, igr, igb, ib] = space === 'YCrCb' ? [0.713, 0.564, 1.403, 0.714, 0.344, 1.773] : [0.877, 0.492, 1.14, 0.581, 0.395, 2.032];
      const cr = clip8((r - y) * kr + 128) - 128;
      const cb = clip8((b - y) * kb + 128) - 128;
      const y2 = brightnessValue(y, mul, add, mulFirst);
      rgb = [clip8(y2 + ir * cr), clip8(y2 - igr * cr - igb * cb), clip8(y2 + ib * cb)];
    }
    out[i] = rgb[0];
    out[i + 1] = rgb[1];
    out[i + 2] = rgb[2];
  }
  return out;
}

// --- rotation --------------------------------------------------------------------------------------------

/**
 * Rotation by `degrees` about the centre ((w−1)/2, (h−1)/2), bilinear, zero outside, as imgaug's
 * Affine(rotate=…) with its defaults: output pixel p samples the input at c + R(−a)(p − c). The
 * same as skimage.transform.rotate(image, −degrees, order=1, mode='constant', cval=0), whose
 * bilinear formula (floor / ceil corners, zeros outside) this follows term by term.
 * @param src [h × w × channels] row-major
 * @returns [h × w × channels], float64
 */
export function rotateBilinear(src: ArrayLike<number>, height: number, width: number, channels: number, degrees: number): Float64Array {
  const out = new Float64Array(height * width * channels);
  if (degrees === 0) {
    for (let i = 0; i < out.length; i++) out[i] = src[i]!;
    return out;
  }
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cx = width / 2 - 0.5;
  const cy = height / 2 - 0.5;
  const at = (r: number, c: number, ch: number): number => (r < 0 || c < 0 || r >= height || c >= width ? 0 : src[(r * width + c) * channels + ch]!);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const dx = x - cx;
      const dy = y - cy;
      const c = cx + cos * dx + sin * dy;
      const r = cy - sin * dx + cos * dy;
      const minr = Math.floor(r);
      const minc = Math.floor(c);
      const maxr = Math.ceil(r);
      const maxc = Math.ceil(c);
      const dr = r - minr;
      const dc = c - minc;
      for (let ch = 0; ch < channels; ch++) {
        const top = (1 - dc) * at(minr, minc, ch) + dc * at(minr, maxc, ch);
        const bottom = (1 - dc) * at(maxr, minc, ch) + dc * at(maxr, maxc, ch);
        out[(y * width + x) * channels + ch] = (1 - dr) * top + dr * bottom;
      }
    }
  }
  return out;
}

/** rotateBilinear on 8-bit values, rounded. */
export function rotateUint8(src: Uint8Array, height: number, width: number, channels: number, degrees: number): Uint8Array {
  const f = rotateBilinear(src, height, width, channels, degrees);
  const out = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = clip8(f[i]!);
  return out;
}
