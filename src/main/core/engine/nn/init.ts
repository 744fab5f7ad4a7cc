/**
 * Weight initialisers as torch.nn.init defines them (torch 1.13 `torch/nn/init.py`): the same
 * distributions, gains and fan computations, drawn from our seeded generators (engine/random.ts)
 * instead of torch's, so one seed gives the same weights on every tfjs backend (not torch's
 * numbers: its generator is not reproduced).
 *
 * An initialiser receives the tensor's shape in TORCH's layout (conv [O, I, kh, kw], conv-transpose
 * [I, O, kh, kw], linear [out, in]) because torch computes fans from that layout: fan_in =
 * size(1)·receptive field, fan_out = size(0)·receptive field. It returns the values in that layout
 * too; Module converts them to the tfjs layout. The seed is `seedFor(modelSeed, tensorName)`
 * (Module.initialize), so a tensor's values depend on its name, never on construction order.
 */
import { LabError } from '../../../../shared/errors';
import { mulberry32, normalArray } from '../random';

/** Returns `numel(shape)` values in torch's layout for a tensor of torch-layout `shape`. */
export type Initializer = (shape: readonly number[], seed: number) => Float32Array;

export type Nonlinearity = 'linear' | 'conv2d' | 'conv_transpose2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fan_in' | 'fan_out';

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** torch.nn.init.calculate_gain. `param` is leaky_relu's negative slope (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv2d':
    case 'conv_transpose2d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu':
      return 3.0 / 4;
  }
}

/** torch.nn.init._calculate_fan_in_and_fan_out on a torch-layout shape. */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new LabError(`fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape [${shape.join(', ')}])`, 'ValidationError');
  }
  const receptive = numel(shape.slice(2));
  return { fanIn: (shape[1] as number) * receptive, fanOut: (shape[0] as number) * receptive };
}

function fan(shape: readonly number[], mode: FanMode): number {
  const f = fans(shape);
  return mode === 'fan_in' ? f.fanIn : f.fanOut;
}

/** Every value `value` (torch.nn.init.constant_). */
export function constant(value: number): Initializer {
  return (shape) => new Float32Array(numel(shape)).fill(value);
}

export const zeros: Initializer = constant(0);
export const ones: Initializer = constant(1);

/** U(low, high) (torch.nn.init.uniform_, default U(0, 1)). */
export function uniform(low = 0, high = 1): Initializer {
  return (shape, seed) => {
    const rand = mulberry32(seed);
    const out = new Float32Array(numel(shape));
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * rand();
    return out;
  };
}

/** N(mean, std²) (torch.nn.init.normal_, default N(0, 1)). */
export function normal(mean = 0, std = 1): Initializer {
  return (shape, seed) => {
    const out = normalArray(numel(shape), seed, std);
    if (mean !== 0) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + mean;
    return out;
  };
}

export interface KaimingOptions {
  /** leaky_relu's negative slope (torch's `a`, default 0). */
  a?: number;
  /** Default 'fan_in' as torch. */
  mode?: FanMode;
  /** Default 'leaky_relu' as torch. */
  nonlinearity?: Nonlinearity;
}

/** torch.nn.init.kaiming_uniform_: U(±√3·gain/√fan). */
export function kaimingUniform({ a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Initializer {
  return (shape, seed) => {
    const std = calculateGain(nonlinearity, a) / Math.sqrt(fan(shape, mode));
    const bound = Math.sqrt(3.0) * std;
    return uniform(-bound, bound)(shape, seed);
  };
}

/** torch.nn.init.kaiming_normal_: N(0, (gain/√fan)²); e.g. `kaimingNormal({ mode: 'fan_out', nonlinearity: 'relu' })` as torchvision's ResNets. */
export function kaimingNormal({ a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: KaimingOptions = {}): Initializer {
  return (shape, seed) => normal(0, calculateGain(nonlinearity, a) / Math.sqrt(fan(shape, mode)))(shape, seed);
}

/** torch.nn.init.xavier_uniform_: U(±gain·√(6/(fan_in + fan_out))). */
export function xavierUniform(gain = 1): Initializer {
  return (shape, seed) => {
    const { fanIn, fanOut } = fans(shape);
    const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
    const bound = Math.sqrt(3.0) * std;
    return uniform(-bound, bound)(shape, seed);
  };
}

/** torch.nn.init.xavier_normal_: N(0, gain²·2/(fan_in + fan_out)). */
export function xavierNormal(gain = 1): Initializer {
  return (shape, seed) => {
    const { fanIn, fanOut } = fans(shape);
    return normal(0, gain * Math.sqrt(2.0 / (fanIn + fanOut)))(shape, seed);
  };
}

/**
 * The default weight of torch's Conv*d and Linear (`reset_parameters`): kaiming_uniform_(a=√5),
 * which works out to U(±1/√fan_in) with fan_in from the torch-layout weight.
 */
export const torchDefaultWeight: Initializer = kaimingUniform({ a: Math.sqrt(5) });

/** The default bias of torch's Conv*d and Linear: U(±1/√fan_in), fan_in of the layer's WEIGHT. */
export function torchDefaultBias(fanIn: number): Initializer {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(-bound, bound);
}
