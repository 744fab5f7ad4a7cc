/**
 * Anomaly maps from `.npy` files: predictions from PyTorch tools arrive as np.save() files. The
 * format itself is read and written by engine/npy.ts, the lab's one npy module; this adds the map
 * rule (float values, H×W after squeezing singleton axes).
 */
import { halfTable } from './float16';
import { NpyError, type NpyArray } from '../engine/npy';

export { parseNpy, encodeNpy, NpyError, type NpyArray, type NpyDtype } from '../engine/npy';

/** A 2-D float map: shape [height, width], row-major. */
export interface FloatMap {
  height: number;
  width: number;
  data: Float32Array;
}

/**
 * Reads an anomaly map: float16/float32 (float64 is accepted and rounded to float32), shape H×W
 * (singleton axes such as 1×H×W or H×W×1 are squeezed). Non-finite values are reported by the caller,
 * which knows the file name; this only decodes.
 */
export function npyToMap(arr: NpyArray): FloatMap {
  if (arr.dtype === 'uint8' || arr.dtype === 'bool') throw new NpyError(`expected float16 or float32 values, got ${arr.dtype}`);
  // Squeeze singleton axes from the outside (1×H×W, H×W×1) but keep two, so a 1×W row stays 1×W.
  const kept = arr.shape.slice();
  while (kept.length > 2 && kept[0] === 1) kept.shift();
  while (kept.length > 2 && kept[kept.length - 1] === 1) kept.pop();
  if (kept.length !== 2) throw new NpyError(`expected a 2-D map (H×W), got shape (${arr.shape.join(', ')})`);
  const [height, width] = kept as [number, number];
  let data: Float32Array;
  if (arr.dtype === 'float16') {
    const t = halfTable();
    const bits = arr.data as Uint16Array;
    data = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) data[i] = t[bits[i]!]!;
  } else if (arr.dtype === 'float64') {
    data = Float32Array.from(arr.data as Float64Array);
  } else {
    data = arr.data as Float32Array;
  }
  return { height, width, data };
}
