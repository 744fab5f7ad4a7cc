/**
 * Seeded pseudo-random numbers for weight initialisation and tests. tfjs' own seeded ops differ
 * between backends and versions; a plain JS generator gives the same weights everywhere, so a
 * random-init run is reproducible and the parity test can hand identical weights to PyTorch.
 */

/** mulberry32: a small, fast 32-bit generator; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Standard normal samples (Marsaglia's polar method over mulberry32), `n` of them, scaled by
 * `std`. The polar method avoids sin/cos, which matters for the 69 M weights of wide_resnet50_2.
 */
export function normalArray(n: number, seed: number, std = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  let i = 0;
  while (i < n) {
    const u = 2 * rand() - 1;
    const v = 2 * rand() - 1;
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const f = Math.sqrt((-2 * Math.log(s)) / s) * std;
    out[i++] = u * f;
    if (i < n) out[i++] = v * f;
  }
  return out;
}

/** Derives a per-tensor seed from a run seed and a tensor name (FNV-1a), so order never matters. */
export function seedFor(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
