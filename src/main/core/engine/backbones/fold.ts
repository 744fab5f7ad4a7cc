/**
 * Batch norm folded into the convolution before it, for inference, shared by every backbone:
 * w' = w · γ/√(var + ε), b' = β − mean · γ/√(var + ε), with torch's OIHW weights reordered for tfjs
 * (HWIO for a dense conv, [k, k, channels, 1] for a depthwise one). Plain JS, so no tensor is made
 * until the folded values are final.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import type { DecodedTensor } from '../safetensors';

/** torch's BatchNorm2d default, and timm's for these networks. */
const BN_EPS = 1e-5;

/** A float tensor's data by name; a missing or non-float tensor is refused with its name. */
export function floatData(tensors: Map<string, DecodedTensor>, name: string): Float32Array {
  const t = tensors.get(name);
  if (!t) throw new LabError(`weights: tensor '${name}' is missing`, 'ValidationError');
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new LabError(`weights: tensor '${name}' has dtype ${t.dtype}, expected a float tensor`, 'ValidationError');
}

export interface ConvBnSpec {
  /** The conv's name (the tensor is `${conv}.weight`) and its batch norm's. */
  conv: string;
  bn: string;
  cin: number;
  cout: number;
  k: number;
  /** groups = cin = cout: torch weight [cout, 1, k, k]. */
  depthwise?: boolean;
  /** The batch norm's ε; torch's 1e-5 when absent (lukemelas' TF port uses 1e-3). */
  eps?: number;
}

/**
 * The folded filter and bias of one conv + BN pair.
 * @returns filter [k, k, cin, cout] (dense) or [k, k, cout, 1] (depthwise); bias [cout]
 */
export function foldConvBn(u: ConvBnSpec, tensors: Map<string, DecodedTensor>): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  const w = floatData(tensors, `${u.conv}.weight`);
  const gamma = floatData(tensors, `${u.bn}.weight`);
  const beta = floatData(tensors, `${u.bn}.bias`);
  const mean = floatData(tensors, `${u.bn}.running_mean`);
  const variance = floatData(tensors, `${u.bn}.running_var`);
  const { cout, k } = u;
  const depthwise = u.depthwise === true;
  const eps = u.eps ?? BN_EPS;
  const cin = depthwise ? 1 : u.cin;
  const filter = new Float32Array(k * k * cin * cout);
  const bias = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    // Computed in float64 and rounded once, as close to torch's float32 BN as folding allows.
    const scale = (gamma[o] as number) / Math.sqrt((variance[o] as number) + eps);
    bias[o] = (beta[o] as number) - (mean[o] as number) * scale;
    for (let i = 0; i < cin; i++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          const v = (w[((o * cin + i) * k + y) * k + x] as number) * scale;
          // depthwise: tfjs wants [k, k, channels, multiplier 1], channel o at the third axis.
          if (depthwise) filter[(y * k + x) * cout + o] = v;
          else filter[((y * k + x) * cin + i) * cout + o] = v;
        }
      }
    }
  }
  const shape: [number, number, number, number] = depthwise ? [k, k, cout, 1] : [k, k, cin, cout];
  return { filter: tf.tensor4d(filter, shape), bias: tf.tensor1d(bias) };
}
