/**
 * A minimal anti-aliased rasteriser over a Float32Array, driven by signed distance functions.
 *
 * Scenes are drawn in a fixed 256×256 "scene unit" frame; a similarity transform (the viewpoint
 * knob: rotation, scale, translation) maps scene units to pixels. Every fill walks the pixels of its
 * shape's bounding box, maps each pixel centre back into scene units, and takes coverage from the
 * shape's signed distance (half a pixel either side of the edge), which gives cheap, exact-enough
 * anti-aliasing at any rotation. Shaders also receive scene coordinates, so textures stay glued to
 * objects when the view moves. No canvas package: plain typed arrays, fast in V8.
 */

/** Side of the scene frame in scene units; scenes are authored for this size. */
export const SCENE = 256;

/** Axis-aligned bounds in scene units: [u0, v0, u1, v1]. */
export type Bounds = readonly [number, number, number, number];

/** Signed distance in scene units at (u, v): negative inside, positive outside. */
export type Sdf = (u: number, v: number) => number;

export interface Shape {
  sdf: Sdf;
  bounds: Bounds;
}

/**
 * Writes the colour at scene point (u, v) into out[0..2] (linear 0..1 RGB) and may lower out[3]
 * (alpha, preset to 1) for translucent paint such as stains and shadows.
 */
export type Shader = (u: number, v: number, out: Float32Array) => void;

/** Scene→pixel map: px = cx + s·(cos θ·(u−128) − sin θ·(v−128)) + tx, likewise for py. */
export interface View {
  /** Rotation in radians. */
  angle: number;
  /** Zoom factor on top of size/256. */
  zoom: number;
  /** Translation in scene units (applied after rotation and zoom). */
  tx: number;
  ty: number;
}

/** The whole plane; fills with it skip the distance test. */
export const EVERYWHERE: Shape = { sdf: () => -1e9, bounds: [-1e6, -1e6, 1e6, 1e6] };

export const IDENTITY_VIEW: View = { angle: 0, zoom: 1, tx: 0, ty: 0 };

export interface FillOptions {
  /** Width in pixels of the edge ramp (1 = crisp anti-aliasing; larger = soft edges, e.g. shadows). */
  soft?: number;
  /** Multiplies the shader's alpha. */
  opacity?: number;
}

export class Canvas {
  /** Interleaved RGB, row-major, floats nominally in [0, 1]: shape [size, size, 3]. */
  readonly rgb: Float32Array;
  /** Pixels per scene unit. */
  readonly scale: number;
  // Forward map coefficients (scene → pixel) and inverse (pixel → scene).
  private readonly fa: number;
  private readonly fb: number;
  private readonly fc: number;
  private readonly fd: number;
  private readonly fe: number;
  private readonly ff: number;
  private readonly ia: number;
  private readonly ib: number;
  private readonly ic: number;
  private readonly id: number;
  private readonly ie: number;
  private readonly iF: number;
  private readonly out = new Float32Array(4);

  constructor(
    readonly size: number,
    view: View = IDENTITY_VIEW,
  ) {
    this.rgb = new Float32Array(size * size * 3);
    const s = (size / SCENE) * view.zoom;
    this.scale = s;
    const cos = Math.cos(view.angle) * s;
    const sin = Math.sin(view.angle) * s;
    const half = SCENE / 2;
    const c = size / 2;
    // px = fa·u + fb·v + fc ; py = fd·u + fe·v + ff
    this.fa = cos;
    this.fb = -sin;
    this.fc = c + (view.tx * size) / SCENE - cos * half + sin * half;
    this.fd = sin;
    this.fe = cos;
    this.ff = c + (view.ty * size) / SCENE - sin * half - cos * half;
    const det = this.fa * this.fe - this.fb * this.fd;
    this.ia = this.fe / det;
    this.ib = -this.fb / det;
    this.id = -this.fd / det;
    this.ie = this.fa / det;
    this.ic = -(this.ia * this.fc + this.ib * this.ff);
    this.iF = -(this.id * this.fc + this.ie * this.ff);
  }

  /** Scene point → pixel coordinates. */
  toPixel(u: number, v: number): [number, number] {
    return [this.fa * u + this.fb * v + this.fc, this.fd * u + this.fe * v + this.ff];
  }

  /** Pixel coordinates → scene point. */
  toScene(x: number, y: number): [number, number] {
    return [this.ia * x + this.ib * y + this.ic, this.id * x + this.ie * y + this.iF];
  }

  /** Paints every pixel with `shade` (backgrounds: defined over the whole plane). */
  fillAll(shade: Shader): void {
    this.fillRect(0, 0, this.size, this.size, null, shade, 1, 1);
  }

  /** Paints `shape` with `shade`, anti-aliased on its edge. */
  fill(shape: Shape, shade: Shader, options: FillOptions = {}): void {
    if (shape === EVERYWHERE) {
      this.fillRect(0, 0, this.size, this.size, null, shade, 1, options.opacity ?? 1);
      return;
    }
    const soft = Math.max(1, options.soft ?? 1);
    const [u0, v0, u1, v1] = shape.bounds;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const [u, v] of [[u0, v0], [u1, v0], [u0, v1], [u1, v1]] as const) {
      const [x, y] = this.toPixel(u, v);
      x0 = Math.min(x0, x); x1 = Math.max(x1, x);
      y0 = Math.min(y0, y); y1 = Math.max(y1, y);
    }
    const pad = soft + 1;
    const xs = Math.max(0, Math.floor(x0 - pad));
    const ys = Math.max(0, Math.floor(y0 - pad));
    const xe = Math.min(this.size, Math.ceil(x1 + pad));
    const ye = Math.min(this.size, Math.ceil(y1 + pad));
    if (xs >= xe || ys >= ye) return;
    this.fillRect(xs, ys, xe, ye, shape.sdf, shade, soft, options.opacity ?? 1);
  }

  private fillRect(xs: number, ys: number, xe: number, ye: number, sdf: Sdf | null, shade: Shader, soft: number, opacity: number): void {
    const { rgb, out, size, scale } = this;
    const k = scale / soft;
    for (let y = ys; y < ye; y++) {
      const py = y + 0.5;
      let u = this.ia * (xs + 0.5) + this.ib * py + this.ic;
      let v = this.id * (xs + 0.5) + this.ie * py + this.iF;
      let i = (y * size + xs) * 3;
      for (let x = xs; x < xe; x++, u += this.ia, v += this.id, i += 3) {
        let cov = 1;
        if (sdf !== null) {
          cov = 0.5 - sdf(u, v) * k;
          if (cov <= 0) continue;
          if (cov > 1) cov = 1;
        }
        out[3] = 1;
        shade(u, v, out);
        const a = cov * out[3]! * opacity;
        if (a <= 0) continue;
        if (a >= 1) {
          rgb[i] = out[0]!;
          rgb[i + 1] = out[1]!;
          rgb[i + 2] = out[2]!;
        } else {
          rgb[i] = rgb[i]! + (out[0]! - rgb[i]!) * a;
          rgb[i + 1] = rgb[i + 1]! + (out[1]! - rgb[i + 1]!) * a;
          rgb[i + 2] = rgb[i + 2]! + (out[2]! - rgb[i + 2]!) * a;
        }
      }
    }
  }

  /**
   * Rounds to 8-bit RGB, shape [size, size, 3], through a camera model in the same pass:
   * per-channel gain (exposure × white balance), radial vignetting, and additive grain from
   * `grain(x, y)` (pixel-position hashed so twins agree).
   */
  toRgb8Camera(gain: readonly [number, number, number], vignette: number, grain: (x: number, y: number) => number): Uint8Array {
    const { rgb, size } = this;
    const out = new Uint8Array(rgb.length);
    const c = size / 2;
    const inv = 1 / (c * c * 2);
    for (let y = 0, i = 0; y < size; y++) {
      const dy = y + 0.5 - c;
      for (let x = 0; x < size; x++, i += 3) {
        const dx = x + 0.5 - c;
        const g = (1 - vignette * (dx * dx + dy * dy) * inv) * 255;
        const n = grain(x, y) * 255 + 0.5;
        let v = rgb[i]! * gain[0] * g + n;
        out[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
        v = rgb[i + 1]! * gain[1] * g + n;
        out[i + 1] = v <= 0 ? 0 : v >= 255 ? 255 : v;
        v = rgb[i + 2]! * gain[2] * g + n;
        out[i + 2] = v <= 0 ? 0 : v >= 255 ? 255 : v;
      }
    }
    return out;
  }

  /** Rounds to 8-bit RGB: shape [size, size, 3]. */
  toRgb8(): Uint8Array {
    const n = this.rgb.length;
    const out = new Uint8Array(n);
    const src = this.rgb;
    for (let i = 0; i < n; i++) {
      const v = src[i]! * 255 + 0.5;
      out[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
    }
    return out;
  }
}
