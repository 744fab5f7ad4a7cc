/**
 * Signed distance shapes (scene units) and their combinators, after Inigo Quilez's 2D distance
 * functions. Each returns a Shape: the distance function plus scene-space bounds, so the rasteriser
 * only visits the pixels that can be covered. Intersections and differences make clipping free
 * (a crack confined to one disc, a paint stripe confined to a nut face).
 */
import type { Bounds, Shape } from './raster';

export type Point = readonly [number, number];

/** √(x² + y²). Math.hypot is several times slower in V8 and this runs per pixel. */
export function hyp(x: number, y: number): number {
  return Math.sqrt(x * x + y * y);
}

function boundsOf(points: readonly Point[], pad = 0): Bounds {
  let u0 = Infinity, v0 = Infinity, u1 = -Infinity, v1 = -Infinity;
  for (const [u, v] of points) {
    if (u < u0) u0 = u;
    if (u > u1) u1 = u;
    if (v < v0) v0 = v;
    if (v > v1) v1 = v;
  }
  return [u0 - pad, v0 - pad, u1 + pad, v1 + pad];
}

export function circle(cx: number, cy: number, r: number): Shape {
  return {
    sdf: (u, v) => hyp(u - cx, v - cy) - r,
    bounds: [cx - r, cy - r, cx + r, cy + r],
  };
}

/** Ring of radius r and half-thickness t. */
export function ring(cx: number, cy: number, r: number, t: number): Shape {
  return {
    sdf: (u, v) => Math.abs(hyp(u - cx, v - cy) - r) - t,
    bounds: [cx - r - t, cy - r - t, cx + r + t, cy + r + t],
  };
}

function segDist(u: number, v: number, ax: number, ay: number, bx: number, by: number): number {
  const pax = u - ax, pay = v - ay, bax = bx - ax, bay = by - ay;
  const l2 = bax * bax + bay * bay;
  let h = l2 > 0 ? (pax * bax + pay * bay) / l2 : 0;
  h = h < 0 ? 0 : h > 1 ? 1 : h;
  return hyp(pax - bax * h, pay - bay * h);
}

/** Segment a→b with round caps, radius r. */
export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Shape {
  return {
    sdf: (u, v) => segDist(u, v, ax, ay, bx, by) - r,
    bounds: boundsOf([[ax, ay], [bx, by]], r),
  };
}

/** Open polyline through `points`, radius r (cracks, wires). */
export function polyline(points: readonly Point[], r: number): Shape {
  const n = points.length;
  const xs = Float64Array.from(points, (p) => p[0]);
  const ys = Float64Array.from(points, (p) => p[1]);
  return {
    sdf: (u, v) => {
      let d = Infinity;
      for (let i = 0; i + 1 < n; i++) {
        const e = segDist(u, v, xs[i]!, ys[i]!, xs[i + 1]!, ys[i + 1]!);
        if (e < d) d = e;
      }
      return d - r;
    },
    bounds: boundsOf(points, r),
  };
}

/** Closed simple polygon (any winding). */
export function polygon(points: readonly Point[]): Shape {
  const n = points.length;
  const xs = Float64Array.from(points, (p) => p[0]);
  const ys = Float64Array.from(points, (p) => p[1]);
  return {
    sdf: (u, v) => {
      let d = (u - xs[0]!) ** 2 + (v - ys[0]!) ** 2;
      let s = 1;
      for (let i = 0, j = n - 1; i < n; j = i, i++) {
        const ex = xs[j]! - xs[i]!, ey = ys[j]! - ys[i]!;
        const wx = u - xs[i]!, wy = v - ys[i]!;
        const l2 = ex * ex + ey * ey;
        let h = l2 > 0 ? (wx * ex + wy * ey) / l2 : 0;
        h = h < 0 ? 0 : h > 1 ? 1 : h;
        const bx = wx - ex * h, by = wy - ey * h;
        const dd = bx * bx + by * by;
        if (dd < d) d = dd;
        const c1 = v >= ys[i]!, c2 = v < ys[j]!, c3 = ex * wy > ey * wx;
        if ((c1 && c2 && c3) || (!c1 && !c2 && !c3)) s = -s;
      }
      return s * Math.sqrt(d);
    },
    bounds: boundsOf(points),
  };
}

/** Rotated rectangle of half-extents (hw, hh), corner radius `round`. */
export function box(cx: number, cy: number, hw: number, hh: number, angle = 0, round = 0): Shape {
  const c = Math.cos(angle), s = Math.sin(angle);
  const ext = Math.abs(c) * hw + Math.abs(s) * hh;
  const exv = Math.abs(s) * hw + Math.abs(c) * hh;
  const bw = hw - round, bh = hh - round;
  return {
    sdf: (u, v) => {
      const du = u - cx, dv = v - cy;
      const lx = Math.abs(c * du + s * dv) - bw;
      const ly = Math.abs(-s * du + c * dv) - bh;
      const ox = lx > 0 ? lx : 0, oy = ly > 0 ? ly : 0;
      return hyp(ox, oy) + Math.min(Math.max(lx, ly), 0) - round;
    },
    bounds: [cx - ext, cy - exv, cx + ext, cy + exv],
  };
}

/** Rotated ellipse with semi-axes a (along `angle`) and b; approximate distance, exact sign. */
export function ellipse(cx: number, cy: number, a: number, b: number, angle = 0): Shape {
  const c = Math.cos(angle), s = Math.sin(angle);
  const ext = hyp(c * a, s * b);
  const exv = hyp(s * a, c * b);
  return {
    sdf: (u, v) => {
      const du = u - cx, dv = v - cy;
      const x = c * du + s * dv, y = -s * du + c * dv;
      const k0 = hyp(x / a, y / b);
      const k1 = hyp(x / (a * a), y / (b * b));
      return k1 > 0 ? (k0 * (k0 - 1)) / k1 : -Math.min(a, b);
    },
    bounds: [cx - ext, cy - exv, cx + ext, cy + exv],
  };
}

/** Vertices of a regular polygon (circumradius r, first vertex at `angle`). */
export function regularPolygonPoints(cx: number, cy: number, r: number, sides: number, angle = 0): Point[] {
  const out: Point[] = [];
  for (let i = 0; i < sides; i++) {
    const a = angle + (i * 2 * Math.PI) / sides;
    out.push([cx + r * Math.cos(a), cy + r * Math.sin(a)]);
  }
  return out;
}

/** Convex hull (Andrew's monotone chain), counter-clockwise. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  if (pts.length < 3) return pts;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = pts.length - 1; i >= 0; i--) {
    const p = pts[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  upper.pop();
  lower.pop();
  return lower.concat(upper);
}

export function union(...shapes: Shape[]): Shape {
  return {
    sdf: (u, v) => {
      let d = Infinity;
      for (const s of shapes) {
        const e = s.sdf(u, v);
        if (e < d) d = e;
      }
      return d;
    },
    bounds: [
      Math.min(...shapes.map((s) => s.bounds[0])),
      Math.min(...shapes.map((s) => s.bounds[1])),
      Math.max(...shapes.map((s) => s.bounds[2])),
      Math.max(...shapes.map((s) => s.bounds[3])),
    ],
  };
}

/** Blobby union (polynomial smooth minimum, blend radius k): weld spatter, droppings. */
export function smoothUnion(k: number, ...shapes: Shape[]): Shape {
  const base = union(...shapes);
  return {
    sdf: (u, v) => {
      let d = Infinity;
      for (const s of shapes) {
        const e = s.sdf(u, v);
        if (d === Infinity) {
          d = e;
          continue;
        }
        const h = Math.max(k - Math.abs(d - e), 0) / k;
        d = Math.min(d, e) - h * h * k * 0.25;
      }
      return d;
    },
    bounds: [base.bounds[0] - k, base.bounds[1] - k, base.bounds[2] + k, base.bounds[3] + k],
  };
}

export function intersect(a: Shape, b: Shape): Shape {
  return {
    sdf: (u, v) => Math.max(a.sdf(u, v), b.sdf(u, v)),
    bounds: [
      Math.max(a.bounds[0], b.bounds[0]),
      Math.max(a.bounds[1], b.bounds[1]),
      Math.min(a.bounds[2], b.bounds[2]),
      Math.min(a.bounds[3], b.bounds[3]),
    ],
  };
}

/** a minus b. */
export function subtract(a: Shape, b: Shape): Shape {
  return { sdf: (u, v) => Math.max(a.sdf(u, v), -b.sdf(u, v)), bounds: a.bounds };
}

/** Moves a shape by (dx, dy). */
export function translate(shape: Shape, dx: number, dy: number): Shape {
  const [u0, v0, u1, v1] = shape.bounds;
  return { sdf: (u, v) => shape.sdf(u - dx, v - dy), bounds: [u0 + dx, v0 + dy, u1 + dx, v1 + dy] };
}

/** Grows (r > 0) or shrinks a shape by r. */
export function inflate(shape: Shape, r: number): Shape {
  const [u0, v0, u1, v1] = shape.bounds;
  return { sdf: (u, v) => shape.sdf(u, v) - r, bounds: [u0 - r, v0 - r, u1 + r, v1 + r] };
}

/**
 * A jagged crack path: a random walk from `start` heading `angle`, `steps` steps of `step` units,
 * turning by up to ±`wiggle` radians each step. `rand` returns uniforms in [0, 1).
 */
export function jaggedPath(start: Point, angle: number, steps: number, step: number, wiggle: number, rand: () => number): Point[] {
  const pts: Point[] = [start];
  let [x, y] = start;
  let a = angle;
  for (let i = 0; i < steps; i++) {
    a += (rand() * 2 - 1) * wiggle;
    const l = step * (0.6 + 0.8 * rand());
    x += Math.cos(a) * l;
    y += Math.sin(a) * l;
    pts.push([x, y]);
    // Pull back towards the main heading so cracks run rather than curl.
    a += (angle - a) * 0.35;
  }
  return pts;
}
