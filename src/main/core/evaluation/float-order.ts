/**
 * Order-preserving integer keys for float32 scores.
 *
 * Exact pixel metrics over 164 M pixels cannot afford float64 copies or comparison sorts, so scores
 * are ranked by their float32 bit patterns turned into uint32 keys whose unsigned order is the
 * numeric order (the classic radix-sort trick: flip the sign bit of positives, all bits of
 * negatives). -0 is folded onto +0 first, because numpy (and so sklearn) treats them as one
 * threshold. NaN has no place in an order; callers reject it before ranking.
 */

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The sortable key of a float32 given as its raw bit pattern (uint32). */
export function keyFromBits(bits: number): number {
  if (bits === 0x80000000) return 0x80000000; // -0 ranks as +0
  return bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
}

/** The sortable key of a number rounded to float32. */
export function floatKey(value: number): number {
  F32[0] = value;
  return keyFromBits(U32[0]!);
}

/** The float32 value (as a JS number) a key stands for. */
export function keyToFloat(key: number): number {
  U32[0] = key & 0x80000000 ? (key & 0x7fffffff) >>> 0 : ~key >>> 0;
  return F32[0]!;
}

/** True when a float32 bit pattern is NaN or ±Infinity (exponent bits all ones). */
export function bitsNonFinite(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000;
}
