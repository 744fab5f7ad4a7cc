/**
 * Gradient clipping by the global L2 norm, as torch.nn.utils.clip_grad_norm_ (torch 1.13,
 * norm_type 2, error_if_nonfinite False): total = ‖(‖g₁‖, ‖g₂‖, …)‖ over every gradient present,
 * coefficient = clamp(max_norm / (total + 1e-6), max=1), every gradient multiplied by it (torch
 * multiplies even when the coefficient is 1, which changes nothing). UniAD clips with max_norm 0.1
 * (METHODS 0.1 item 5).
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';

/** Gradients as `tf.variableGrads` returns them (a record) or a Map; null/undefined entries are skipped. */
export type MutableGradients = Map<string, tf.Tensor | null | undefined> | Record<string, tf.Tensor | null | undefined>;

/**
 * Clips `grads` IN PLACE as torch's clip_grad_norm_: each gradient tensor in the container is
 * replaced by its scaled copy and the original is disposed (tfjs tensors are immutable, so the
 * container is what changes). Returns the total norm before clipping (a sync read of one scalar).
 */
export function clipGradNorm(grads: MutableGradients, maxNorm: number): number {
  if (!(maxNorm >= 0)) throw new LabError(`clipGradNorm: max_norm must be a non-negative number, got ${maxNorm}`, 'ValidationError');
  const entries: [string, tf.Tensor][] = [];
  const all = grads instanceof Map ? [...grads] : Object.entries(grads);
  for (const [k, g] of all) if (g) entries.push([k, g]);
  if (entries.length === 0) return 0;
  const [total, ...clipped] = tf.tidy(() => {
    // torch.norm(torch.stack([torch.norm(g, 2) for g in grads]), 2)
    const totalNorm = tf.norm(tf.stack(entries.map(([, g]) => tf.norm(g))));
    const coef = tf.minimum(tf.div(tf.scalar(maxNorm), tf.add(totalNorm, 1e-6)), 1);
    return [totalNorm, ...entries.map(([, g]) => tf.mul(g, coef))];
  });
  entries.forEach(([k, g], i) => {
    const c = clipped[i] as tf.Tensor;
    if (grads instanceof Map) grads.set(k, c);
    else grads[k] = c;
    g.dispose();
  });
  const value = (total as tf.Tensor).dataSync()[0] as number;
  (total as tf.Tensor).dispose();
  return value;
}
