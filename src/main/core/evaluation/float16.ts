/**
 * IEEE 754 half-precision conversions (Node 20 has no Float16Array / Math.f16round).
 *
 * Encoding rounds to nearest, ties to even, and overflows to ±Infinity exactly as numpy's
 * npy_floatbits_to_halfbits does, so maps written here and by numpy's astype(np.float16) agree bit
 * for bit. Decoding goes through a 65,536-entry table built on first use.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
let table: Float32Array | null = null;

/** The float32 value of every half bit pattern, shape [65536]. */
export function halfTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 31) t[h] = mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else t[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  table = t;
  return t;
}

/** Decodes half bit patterns (shape [n]) into float32 values (shape [n]). */
export function halfToFloat32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const t = halfTable();
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

/** The half bit pattern of a number (rounded to float32 first, then to half, ties to even). */
export function float32ToHalfBits(value: number): number {
  F32[0] = value;
  const f = U32[0]!;
  const sign = (f >>> 16) & 0x8000;
  const fExp = f & 0x7f800000;
  if (fExp >= 0x47800000) {
    if (fExp === 0x7f800000 && (f & 0x007fffff) !== 0) {
      let ret = 0x7c00 + ((f & 0x007fffff) >>> 13);
      if (ret === 0x7c00) ret++;
      return sign + ret;
    }
    return sign + 0x7c00;
  }
  if (fExp <= 0x38000000) {
    if (fExp < 0x33000000) return sign;
    const e = fExp >>> 23;
    let sig = 0x00800000 + (f & 0x007fffff);
    sig >>>= 113 - e;
    // The shift may drop up to 11 set bits; a tie is only a tie when they were all zero.
    if ((sig & 0x3fff) !== 0x1000 || (f & 0x7ff) !== 0) sig += 0x1000;
    return sign + (sig >>> 13);
  }
  const hExp = (fExp - 0x38000000) >>> 13;
  let sig = f & 0x007fffff;
  if ((sig & 0x3fff) !== 0x1000) sig += 0x1000;
  // A carry out of the significand bumps the exponent (possibly to Infinity), which is right.
  return (sign + hExp + (sig >>> 13)) & 0xffff;
}

/** Encodes values (shape [n]) as half bit patterns (shape [n]). */
export function float32ToHalf(values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = float32ToHalfBits(values[i]!);
  return out;
}
