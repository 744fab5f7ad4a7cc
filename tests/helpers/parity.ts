/**
 * Helpers the PyTorch parity tests share: torch's NCHW layout ↔ ours (NHWC), and the relative
 * error every parity bar is stated in (max |ours − ref| / max |ref|).
 */
import * as tf from '@tensorflow/tfjs-core';

/** torch layout → ours: rank-4 tensors are NCHW in torch and NHWC here; others are the same. */
export function fromTorch(data: Float32Array, shape: readonly number[]): tf.Tensor {
  const t = tf.tensor(data, [...shape], 'float32');
  if (shape.length !== 4) return t;
  const r = tf.transpose(t, [0, 2, 3, 1]);
  t.dispose();
  return r;
}

/** Ours → torch layout values (NHWC → NCHW for rank 4), with the torch shape. */
export function toTorch(t: tf.Tensor): { data: Float32Array; shape: number[] } {
  return tf.tidy(() => {
    const r = t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
    return { data: new Float32Array(r.dataSync() as Float32Array), shape: [...r.shape] };
  });
}

/** max |ours − ref| / max |ref| (ref all zero: max |ours|). */
export function relError(ours: ArrayLike<number>, ref: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs((ours[i] as number) - (ref[i] as number)));
    scale = Math.max(scale, Math.abs(ref[i] as number));
  }
  return scale > 0 ? diff / scale : diff;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}
