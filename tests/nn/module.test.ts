// engine/nn without PyTorch: torch's names and order, layout conversion, seeded initialisation with
// torch's default distributions, refusals of a mismatched state dict (naming the tensor, both shapes
// and the file, loading nothing), BatchNorm's running statistics under tf.variableGrads, and dropout
// masks that a restored Rng reproduces.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { decodeSafetensors, encodeSafetensors, type DecodedTensor } from '../../src/main/core/engine/safetensors';
import { LabError } from '../../src/shared/errors';
import {
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  MultiheadAttention,
  ReLU,
  Rng,
  Sequential,
  init,
} from '../../src/main/core/engine/nn';
import { TinyNet } from './tiny-net';

beforeAll(async () => {
  await initBackend('wasm');
});

function decoded(m: Module): Map<string, DecodedTensor> {
  return decodeSafetensors(encodeSafetensors(m.stateDict()), 'checkpoint.safetensors').tensors;
}

function values(v: tf.Tensor): Float32Array {
  return new Float32Array(v.dataSync() as Float32Array);
}

/** A transformer-ish stack to check ModuleList names: layers.N.self_attn.*, layers.N.norm1.*. */
class EncoderLayer extends Module {
  readonly selfAttn = this.registerModule('self_attn', new MultiheadAttention(8, 2));
  readonly linear1 = this.registerModule('linear1', new Linear(8, 16));
  readonly norm1 = this.registerModule('norm1', new LayerNorm(8));
}

describe('names and order as torch state_dict()', () => {
  it('TinyNet: own params, own buffers, then children; Sequential indices count the ReLU', () => {
    const net = new TinyNet(13);
    try {
      const bn = (p: string): string[] => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((n) => `${p}.${n}`);
      expect([...net.stateDict().keys()]).toEqual([
        'enc.0.weight',
        'enc.0.bias',
        ...bn('enc.1'),
        'dec.weight',
        'dec.bias',
        ...bn('bn'),
        'head.weight',
        'head.bias',
      ]);
      expect(net.namedParameters().map(([n]) => n)).toEqual(['enc.0.weight', 'enc.0.bias', 'enc.1.weight', 'enc.1.bias', 'dec.weight', 'dec.bias', 'bn.weight', 'bn.bias', 'head.weight', 'head.bias']);
      expect(net.namedBuffers().map(([n]) => n)).toEqual([...bn('enc.1').slice(2), ...bn('bn').slice(2)]);
      expect(net.namedModules().map(([n]) => n)).toEqual(['', 'enc', 'enc.0', 'enc.1', 'enc.2', 'dec', 'bn', 'head']);
    } finally {
      net.dispose();
    }
  });

  it('ModuleList children are 0, 1, …; MultiheadAttention keeps in_proj_* before out_proj.*', () => {
    const layers = new ModuleList([new EncoderLayer(), new EncoderLayer()]);
    try {
      const names = [...layers.stateDict().keys()];
      expect(names.slice(0, 8)).toEqual([
        '0.self_attn.in_proj_weight',
        '0.self_attn.in_proj_bias',
        '0.self_attn.out_proj.weight',
        '0.self_attn.out_proj.bias',
        '0.linear1.weight',
        '0.linear1.bias',
        '0.norm1.weight',
        '0.norm1.bias',
      ]);
      expect(names).toContain('1.self_attn.in_proj_weight');
      expect(layers.length).toBe(2);
      expect([...layers].length).toBe(2);
      expect(() => layers.at(2)).toThrow(/out of range/);
    } finally {
      layers.dispose();
    }
  });

  it('refuses a duplicate or dotted attribute name', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerModule('a', new ReLU());
        this.registerModule(name, new ReLU());
      }
    }
    expect(() => new Bad('a')).toThrow(/already registered/);
    expect(() => new Bad('b.c')).toThrow(/invalid module attribute name/);
  });
});

describe('layouts: tfjs variables ↔ torch tensors', () => {
  it('conv [kh,kw,I,O] ↔ [O,I,kh,kw], conv-transpose [kh,kw,O,I] ↔ [I,O,kh,kw], linear [in,out] ↔ [out,in], MHA in_proj [E,3E] ↔ [3E,E]', () => {
    const conv = new Conv2d(3, 5, [2, 4]);
    const convT = new ConvTranspose2d(3, 5, [2, 4]);
    const fc = new Linear(6, 4);
    const mha = new MultiheadAttention(8, 2);
    try {
      expect(conv.weight.shape).toEqual([2, 4, 3, 5]);
      expect(conv.stateDict().get('weight')!.shape).toEqual([5, 3, 2, 4]);
      expect(convT.weight.shape).toEqual([2, 4, 5, 3]);
      expect(convT.stateDict().get('weight')!.shape).toEqual([3, 5, 2, 4]);
      expect(fc.weight.shape).toEqual([6, 4]);
      expect(fc.stateDict().get('weight')!.shape).toEqual([4, 6]);
      expect(mha.inProjWeight.shape).toEqual([8, 24]);
      expect(mha.stateDict().get('in_proj_weight')!.shape).toEqual([24, 8]);
      // An element lands where torch has it: torch W[o, i, y, x] = ours W[y, x, i, o].
      conv.initialize(3);
      const torch = conv.stateDict().get('weight')!.data as Float32Array;
      const ours = values(conv.weight);
      const [o, i, y, x] = [4, 1, 1, 3];
      expect(ours[((y * 4 + x) * 3 + i) * 5 + o]).toBe(torch[((o * 3 + i) * 2 + y) * 4 + x]);
      // Round trip through safetensors restores the variables bit for bit.
      const again = new Conv2d(3, 5, [2, 4]);
      again.loadStateDict(decoded(conv));
      expect(values(again.weight)).toEqual(ours);
      again.dispose();
      const bn = new BatchNorm2d(3);
      expect(bn.stateDict().get('num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
      bn.dispose();
    } finally {
      [conv, convT, fc, mha].forEach((m) => m.dispose());
    }
  });

  it('toTorchLayout converts a gradient shaped like a parameter', () => {
    const conv = new Conv2d(2, 3, 3).initialize(1);
    try {
      const t = conv.toTorchLayout('weight', conv.weight);
      expect(t.shape).toEqual([3, 2, 3, 3]);
      expect(values(t)).toEqual(conv.stateDict().get('weight')!.data);
      t.dispose();
      expect(() => conv.toTorchLayout('nope', conv.weight)).toThrow(/no parameter or buffer 'nope'/);
    } finally {
      conv.dispose();
    }
  });
});

describe('seeded initialisation with torch’s defaults', () => {
  const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

  it('the same seed gives the same weights, another seed other weights, whatever the construction', () => {
    const a = new TinyNet(13).initialize(42);
    const b = new TinyNet(13).initialize(42);
    const c = new TinyNet(13).initialize(43);
    try {
      for (const [[n, va], [, vb], [, vc]] of a.namedParameters().map((p, i) => [p, b.namedParameters()[i]!, c.namedParameters()[i]!] as const)) {
        expect(values(vb), n).toEqual(values(va));
        if (!n.startsWith('enc.1') && !n.startsWith('bn.')) expect(values(vc), n).not.toEqual(values(va));
      }
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('Conv/Linear U(±1/√fan_in); ConvTranspose fan_in = out·k·k as torch; BN 1/0 and running 0/1; MHA xavier and zero biases', () => {
    const conv = new Conv2d(8, 16, 3).initialize(1);
    const convT = new ConvTranspose2d(2, 32, 3).initialize(1);
    const fc = new Linear(50, 10).initialize(1);
    const bn = new BatchNorm2d(4).initialize(1);
    const mha = new MultiheadAttention(16, 4).initialize(1);
    try {
      const b1 = 1 / Math.sqrt(8 * 9);
      expect(maxAbs(values(conv.weight))).toBeLessThanOrEqual(b1);
      expect(maxAbs(values(conv.weight))).toBeGreaterThan(0.9 * b1);
      expect(maxAbs(values(conv.bias!))).toBeLessThanOrEqual(b1);
      // torch: fan_in of ConvTranspose2d(2, 32, 3) = weight.size(1)·9 = 288, not 2·9.
      const bT = 1 / Math.sqrt(32 * 9);
      expect(maxAbs(values(convT.weight))).toBeLessThanOrEqual(bT);
      expect(maxAbs(values(convT.weight))).toBeGreaterThan(0.9 * bT);
      expect(maxAbs(values(convT.bias!))).toBeLessThanOrEqual(bT);
      expect(maxAbs(values(fc.weight))).toBeLessThanOrEqual(1 / Math.sqrt(50));
      expect([...values(bn.weight!)]).toEqual([1, 1, 1, 1]);
      expect([...values(bn.bias!)]).toEqual([0, 0, 0, 0]);
      expect([...values(bn.runningMean!)]).toEqual([0, 0, 0, 0]);
      expect([...values(bn.runningVar!)]).toEqual([1, 1, 1, 1]);
      const xavier = Math.sqrt(6 / (16 + 48));
      expect(maxAbs(values(mha.inProjWeight))).toBeLessThanOrEqual(xavier);
      expect(maxAbs(values(mha.inProjWeight))).toBeGreaterThan(0.9 * xavier);
      expect(maxAbs(values(mha.inProjBias!))).toBe(0);
      expect(maxAbs(values(mha.outProj.bias!))).toBe(0);
      expect(maxAbs(values(mha.outProj.weight))).toBeGreaterThan(0);
    } finally {
      [conv, convT, fc, bn, mha].forEach((m) => m.dispose());
    }
  });

  it('helpers: kaimingNormal(fan_out, relu), xavierUniform, normal, constant, and setInit before initialize', () => {
    const shape = [64, 32, 3, 3];
    const k = init.kaimingNormal({ mode: 'fan_out', nonlinearity: 'relu' })(shape, 5);
    const std = Math.sqrt(k.reduce((s, v) => s + v * v, 0) / k.length);
    expect(std / (Math.sqrt(2) / Math.sqrt(64 * 9))).toBeCloseTo(1, 1);
    expect(maxAbs(init.xavierUniform(2)(shape, 5))).toBeLessThanOrEqual(2 * Math.sqrt(6 / (32 * 9 + 64 * 9)));
    const n = init.normal(3, 0.5)([10000], 9);
    expect(n.reduce((s, v) => s + v, 0) / n.length).toBeCloseTo(3, 1);
    expect([...init.constant(0.25)([3], 0)]).toEqual([0.25, 0.25, 0.25]);
    expect(() => init.fans([5])).toThrow(/fewer than 2 dimensions/);
    const fc = new Linear(4, 3);
    fc.setInit('bias', init.constant(7)).initialize(1);
    expect([...values(fc.bias!)]).toEqual([7, 7, 7]);
    expect(() => fc.setInit('nope', init.zeros)).toThrow(/no parameter or buffer 'nope'/);
    fc.dispose();
  });
});

describe('loadStateDict refuses a mismatched state dict, naming the tensor, both shapes and the file', () => {
  const source = '/ckpt/model.safetensors';

  function refusal(mutate: (t: Map<string, DecodedTensor>) => void, options: { strict?: boolean } = {}): { error: unknown; net: TinyNet; before: Float32Array } {
    const net = new TinyNet(13).initialize(1);
    const other = new TinyNet(13).initialize(2);
    const tensors = decoded(other);
    other.dispose();
    mutate(tensors);
    const before = values(net.head.weight);
    let error: unknown;
    try {
      net.loadStateDict(tensors, { source, ...options });
    } catch (e) {
      error = e;
    }
    return { error, net, before };
  }

  function expectRefused(r: ReturnType<typeof refusal>, pattern: RegExp): void {
    try {
      expect(r.error).toBeInstanceOf(LabError);
      expect((r.error as LabError).name).toBe('ValidationError');
      expect((r.error as Error).message).toMatch(/^\/ckpt\/model\.safetensors: cannot load the state dict into TinyNet \(nothing was loaded\)/);
      expect((r.error as Error).message).toMatch(pattern);
      // Nothing was assigned, not even the tensors that matched.
      expect(values(r.net.head.weight)).toEqual(r.before);
    } finally {
      r.net.dispose();
    }
  }

  it('wrong shape', () => {
    expectRefused(
      refusal((t) => {
        const w = t.get('dec.weight')!;
        t.set('dec.weight', { ...w, shape: [4, 6, 3, 3] });
      }),
      /tensor 'dec\.weight' has shape \[4, 6, 3, 3\] but the model expects \[6, 4, 3, 3\]/,
    );
  });

  it('missing tensor', () => {
    expectRefused(
      refusal((t) => t.delete('bn.running_var')),
      /tensor 'bn\.running_var' is missing \(the model expects F32 \[4\]\)/,
    );
  });

  it('unexpected tensor', () => {
    expectRefused(
      refusal((t) => t.set('head.extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) })),
      /unexpected tensor 'head\.extra' \(the model has no parameter or buffer of that name\)/,
    );
  });

  it('integer data for a float tensor, and a float num_batches_tracked', () => {
    expectRefused(
      refusal((t) => {
        t.set('head.bias', { dtype: 'I64', shape: [3], data: new BigInt64Array(3) });
        t.set('bn.num_batches_tracked', { dtype: 'F32', shape: [], data: new Float32Array(1) });
      }),
      /tensor 'bn\.num_batches_tracked' has dtype F32 but the model expects an integer tensor \(I64 \[\]\); tensor 'head\.bias' has dtype I64 but the model expects a float tensor \(F32 \[3\]\)/,
    );
  });

  it('strict: false skips missing and unexpected tensors as torch does, and reports them', () => {
    const net = new TinyNet(13).initialize(1);
    const other = new TinyNet(13).initialize(2);
    const tensors = decoded(other);
    tensors.delete('head.bias');
    tensors.set('extra', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    try {
      const keep = values(net.head.bias!);
      const result = net.loadStateDict(tensors, { strict: false });
      expect(result).toEqual({ missingKeys: ['head.bias'], unexpectedKeys: ['extra'] });
      expect(values(net.head.weight)).toEqual(values(other.head.weight));
      expect(values(net.head.bias!)).toEqual(keep);
      // A shape mismatch is refused even when not strict.
      tensors.set('head.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
      expect(() => net.loadStateDict(tensors, { strict: false })).toThrow(/'head\.weight' has shape \[1\]/);
    } finally {
      net.dispose();
      other.dispose();
    }
  });
});

describe('modes and BatchNorm running statistics', () => {
  it('train()/eval() recurse; requiresGrad(false) freezes every parameter', () => {
    const net = new TinyNet(13);
    try {
      net.eval();
      expect(net.namedModules().every(([, m]) => !m.training)).toBe(true);
      net.train();
      expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
      net.requiresGrad(false);
      expect(net.trainableParameters()).toEqual([]);
      net.requiresGrad(true);
      expect(net.trainableParameters().length).toBe(10);
    } finally {
      net.dispose();
    }
  });

  it('updates the running statistics inside tf.variableGrads without entering the gradient or leaking', () => {
    const bn = new BatchNorm2d(3).initialize(0);
    const conv = new Conv2d(2, 3, 1).initialize(0);
    const x = tf.randomNormal([4, 3, 3, 2], 0, 1, 'float32', 1);
    try {
      const grads1 = tf.variableGrads(() => tf.sum(tf.square(bn.forward(conv.forward(x as tf.Tensor4D)))), [...conv.parameters(), ...bn.parameters()]);
      expect(Object.keys(grads1.grads)).toHaveLength(4);
      tf.dispose([grads1.value, ...Object.values(grads1.grads)]);
      const before = tf.memory().numTensors;
      const grads2 = tf.variableGrads(() => tf.sum(tf.square(bn.forward(conv.forward(x as tf.Tensor4D)))), [...conv.parameters(), ...bn.parameters()]);
      tf.dispose([grads2.value, ...Object.values(grads2.grads)]);
      tf.tidy(() => {
        bn.forward(conv.forward(x as tf.Tensor4D));
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(bn.numBatchesTracked!.dataSync()[0]).toBe(3);
      // Expected after 3 updates with the same batch: rm = (1 − 0.9³)·mean, rv = 0.9³ + (1 − 0.9³)·unbiased var.
      const h = conv.forward(x as tf.Tensor4D);
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const n = 4 * 3 * 3;
      const f = 1 - 0.9 ** 3;
      const rm = values(bn.runningMean!);
      const rv = values(bn.runningVar!);
      values(mean).forEach((m, i) => expect(rm[i]).toBeCloseTo(f * m, 6));
      values(variance).forEach((v, i) => expect(rv[i]).toBeCloseTo(0.9 ** 3 + (f * v * n) / (n - 1), 6));
      tf.dispose([h, mean, variance]);
      // Eval mode reads them and changes nothing.
      bn.eval();
      tf.tidy(() => {
        bn.forward(conv.forward(x as tf.Tensor4D));
      });
      expect(bn.numBatchesTracked!.dataSync()[0]).toBe(3);
      expect(values(bn.runningMean!)).toEqual(rm);
    } finally {
      x.dispose();
      bn.dispose();
      conv.dispose();
    }
  });

  it('refuses a one-value-per-channel batch in training, as torch', () => {
    const bn = new BatchNorm2d(2);
    try {
      expect(() => tf.tidy(() => bn.forward(tf.zeros([1, 1, 1, 2])))).toThrow(/more than 1 value per channel/);
    } finally {
      bn.dispose();
    }
  });
});

describe('dropout and the seeded Rng', () => {
  it('eval: identity; training: zeros with probability p, survivors scaled by 1/(1−p)', () => {
    const rng = new Rng(7);
    const drop = new Dropout(0.25, rng);
    const x = tf.ones([100, 100]);
    try {
      drop.eval();
      expect(drop.forward(x)).toBe(x);
      drop.train();
      const y = drop.forward(x);
      const v = values(y);
      const zeros = v.filter((e) => e === 0).length / v.length;
      expect(zeros).toBeGreaterThan(0.23);
      expect(zeros).toBeLessThan(0.27);
      expect(v.every((e) => e === 0 || Math.abs(e - 1 / 0.75) < 1e-6)).toBe(true);
      y.dispose();
      expect(values(tf.tidy(() => new Dropout(1, rng).forward(x)))).toEqual(new Float32Array(10000));
      expect(() => new Dropout(0.5).forward(x)).toThrow(/needs an Rng/);
      expect(() => new Dropout(1.5)).toThrow(/between 0 and 1/);
    } finally {
      x.dispose();
    }
  });

  it('a restored Rng state draws the same masks as an uninterrupted run', () => {
    const x = tf.ones([8, 16]);
    const masks = (rng: Rng, n: number): Float32Array[] => {
      const drop = new Dropout(0.5, rng);
      return Array.from({ length: n }, () => tf.tidy(() => values(drop.forward(x))));
    };
    try {
      const straight = masks(new Rng(123), 5);
      const first = new Rng(123);
      masks(first, 3);
      const saved = JSON.parse(JSON.stringify(first.state())) as ReturnType<Rng['state']>;
      expect(saved).toEqual({ seed: 123, draws: 3 });
      const resumed = new Rng(999);
      resumed.setState(saved);
      expect(masks(resumed, 2)).toEqual(straight.slice(3));
      expect(straight[0]).not.toEqual(straight[1]);
      expect(() => resumed.setState({ seed: 1, draws: -1 })).toThrow(/invalid random-generator state/);
    } finally {
      x.dispose();
    }
  });

  it('MultiheadAttention drops attention weights in training only, reproducibly', () => {
    const run = (state: { seed: number; draws: number }, training: boolean): Float32Array => {
      const rng = new Rng(0);
      rng.setState(state);
      const mha = new MultiheadAttention(8, 2, { dropout: 0.5, rng }).initialize(3).train(training);
      const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 4) as tf.Tensor3D;
      const w = tf.tidy(() => values(mha.forwardWithWeights(x, x, x).weights));
      x.dispose();
      mha.dispose();
      return w;
    };
    const a = run({ seed: 5, draws: 0 }, true);
    expect(run({ seed: 5, draws: 0 }, true)).toEqual(a);
    expect(a.filter((v) => v === 0).length).toBeGreaterThan(10);
    const evalW = run({ seed: 5, draws: 0 }, false);
    expect(evalW.filter((v) => v === 0).length).toBe(0);
    expect(() => new MultiheadAttention(8, 3)).toThrow(/divisible/);
    const noRng = new MultiheadAttention(8, 2, { dropout: 0.1 });
    const x = tf.zeros([1, 2, 8]) as tf.Tensor3D;
    expect(() => tf.tidy(() => noRng.forward(x, x, x))).toThrow(/needs an Rng/);
    x.dispose();
    noRng.dispose();
  });
});

describe('other layers', () => {
  it('Sequential chains its children; Embedding gathers rows and has a gradient (UnsortedSegmentSum on wasm)', () => {
    const seq = new Sequential(new Linear(4, 3), new ReLU(), new Linear(3, 2));
    const emb = new Embedding(5, 3).initialize(1);
    try {
      seq.initialize(1);
      expect([...seq.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
      const y = tf.tidy(() => seq.forward(tf.ones([6, 4])));
      expect(y.shape).toEqual([6, 2]);
      y.dispose();
      const idx = tf.tensor1d([0, 3, 3], 'int32');
      const { value, grads } = tf.variableGrads(() => tf.sum(emb.forward(idx)), [emb.weight]);
      expect([...values(grads[emb.weight.name]!)]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 2, 2, 2, 0, 0, 0]);
      tf.dispose([value, idx, ...Object.values(grads)]);
    } finally {
      seq.dispose();
      emb.dispose();
    }
  });

  it('ConvTranspose2d output size (h−1)·s − 2p + k + op and torch’s output_padding < stride rule', () => {
    const ct = new ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 });
    try {
      expect(ct.outputSize(5, 7)).toEqual([10, 14]);
      const y = tf.tidy(() => ct.forward(tf.zeros([1, 5, 7, 2])));
      expect(y.shape).toEqual([1, 10, 14, 3]);
      y.dispose();
      expect(() => new ConvTranspose2d(2, 3, 3, { stride: 2, outputPadding: 2 })).toThrow(/output_padding must be smaller than stride/);
    } finally {
      ct.dispose();
    }
  });
});
