// engine/optim without PyTorch: no tensor leak over 100 forward+backward+clip+step iterations of
// the tiny net, a checkpointed and resumed run (weights, optimiser state and Rng through
// safetensors/JSON) that continues bit-identically, refusals of a mismatched optimiser state,
// parameter groups, lr setting and schedules, and clipping below the threshold.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { decodeSafetensors, encodeSafetensors } from '../../src/main/core/engine/safetensors';
import { Dropout, Linear, Module, Rng, type RngState } from '../../src/main/core/engine/nn';
import { Adam, AdamW, SGD, applySchedule, clipGradNorm, multiStepLR, stepLR, type Optimizer, type BaseHyper, type OptimizerKind } from '../../src/main/core/engine/optim';
import { TinyNet } from './tiny-net';
import { randn, fromTorch } from './helpers';

beforeAll(async () => {
  await initBackend('wasm');
});

function values(v: tf.Tensor): Float32Array {
  return new Float32Array(v.dataSync() as Float32Array);
}

describe('no tensor leak', () => {
  it('100 iterations of forward (train-mode BN) + backward + clipGradNorm + Adam step keep tf.memory() constant', () => {
    const net = new TinyNet(13).initialize(1);
    const opt = new Adam(net.namedParameters(), { lr: 1e-2, weightDecay: 5e-4 });
    const x = fromTorch(randn([2, 3, 12, 12], 3), [2, 3, 12, 12]) as tf.Tensor4D;
    const target = fromTorch(randn([2, 3, 13, 13], 4), [2, 3, 13, 13]);
    const losses: number[] = [];
    const iteration = (): void => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(net.forward(x), target)) as tf.Scalar, opt.variables());
      clipGradNorm(grads, 1.0);
      opt.step(grads);
      losses.push(value.dataSync()[0] as number);
      tf.dispose([value, ...Object.values(grads)]);
    };
    try {
      iteration(); // creates the optimiser state
      const { numTensors, numBytes } = tf.memory();
      for (let i = 1; i < 100; i++) iteration();
      expect(tf.memory().numTensors).toBe(numTensors);
      expect(tf.memory().numBytes).toBe(numBytes);
      expect(losses[99]).toBeLessThan(losses[0]! * 0.8);
      expect(net.bn.numBatchesTracked!.dataSync()[0]).toBe(100);
    } finally {
      tf.dispose([x, target]);
      opt.dispose();
      net.dispose();
    }
  }, 120_000);

  it('SGD with Nesterov momentum and AdamW: no leak either', () => {
    const net = new TinyNet(9).initialize(2);
    const x = fromTorch(randn([2, 3, 8, 8], 3), [2, 3, 8, 8]) as tf.Tensor4D;
    try {
      for (const opt of [new SGD(net.namedParameters(), { lr: 0.01, momentum: 0.9, nesterov: true }), new AdamW(net.namedParameters())] as Optimizer<BaseHyper>[]) {
        const iteration = (): void => {
          const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(net.forward(x))) as tf.Scalar, opt.variables());
          opt.step(grads);
          tf.dispose([value, ...Object.values(grads)]);
        };
        iteration();
        const n = tf.memory().numTensors;
        for (let i = 0; i < 20; i++) iteration();
        expect(tf.memory().numTensors).toBe(n);
        opt.dispose();
      }
    } finally {
      x.dispose();
      net.dispose();
    }
  }, 60_000);
});

/** Linear → Dropout → Linear, so a resumed run also depends on the dropout masks. */
class DropNet extends Module {
  readonly fc1: Linear;
  readonly drop: Dropout;
  readonly fc2: Linear;

  constructor(rng: Rng) {
    super();
    this.fc1 = this.registerModule('fc1', new Linear(6, 16));
    this.drop = this.registerModule('drop', new Dropout(0.3, rng));
    this.fc2 = this.registerModule('fc2', new Linear(16, 2));
  }

  forward(x: tf.Tensor2D): tf.Tensor2D {
    return this.fc2.forward(this.drop.forward(tf.relu(this.fc1.forward(x))));
  }
}

interface Checkpoint {
  weights: Uint8Array;
  optimizer: Uint8Array;
  meta: string;
}

describe('checkpoint and resume', () => {
  const x = (): tf.Tensor2D => tf.tensor2d(randn([8, 6], 11), [8, 6]);
  const y = (): tf.Tensor2D => tf.tensor2d(randn([8, 2], 12), [8, 2]);

  function train(net: DropNet, opt: Optimizer<BaseHyper>, steps: number, firstEpoch: number): void {
    const xs = x();
    const ys = y();
    for (let s = 0; s < steps; s++) {
      applySchedule(opt, stepLR(2, 0.5), firstEpoch + s);
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.squaredDifference(net.forward(xs), ys)) as tf.Scalar, opt.variables());
      clipGradNorm(grads, 0.5);
      opt.step(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    tf.dispose([xs, ys]);
  }

  function build(seed: number, rngSeed: number, kind: 'Adam' | 'AdamW' | 'SGD'): { net: DropNet; opt: Optimizer<BaseHyper>; rng: Rng } {
    const rng = new Rng(rngSeed);
    const net = new DropNet(rng).initialize(seed);
    const groups = [
      { params: net.fc1.namedParameters().map(([n, v]) => [`fc1.${n}`, v] as [string, tf.Variable]), weightDecay: 1e-2 },
      { params: net.fc2.namedParameters().map(([n, v]) => [`fc2.${n}`, v] as [string, tf.Variable]), lr: 3e-3, weightDecay: 0 },
    ];
    const opt = (kind === 'Adam' ? new Adam(groups, { lr: 1e-2 }) : kind === 'AdamW' ? new AdamW(groups, { lr: 1e-2 }) : new SGD(groups, { lr: 1e-2, momentum: 0.9 })) as unknown as Optimizer<BaseHyper>;
    return { net, opt, rng };
  }

  function save(net: DropNet, opt: Optimizer<BaseHyper>, rng: Rng): Checkpoint {
    const state = opt.state();
    return {
      weights: encodeSafetensors(net.stateDict()),
      optimizer: encodeSafetensors(state.tensors),
      meta: JSON.stringify({ kind: state.kind, groups: state.groups, steps: state.steps, rng: rng.state() }),
    };
  }

  function restore(ckpt: Checkpoint, net: DropNet, opt: Optimizer<BaseHyper>, rng: Rng): void {
    const meta = JSON.parse(ckpt.meta) as { kind: OptimizerKind; groups: { lr: number }[]; steps: Record<string, number>; rng: RngState };
    net.loadStateDict(decodeSafetensors(ckpt.weights, 'weights.safetensors').tensors, { source: 'weights.safetensors' });
    opt.loadState({ ...meta, tensors: decodeSafetensors(ckpt.optimizer, 'optimizer.safetensors').tensors }, 'optimizer.safetensors');
    rng.setState(meta.rng);
  }

  for (const kind of ['Adam', 'AdamW', 'SGD'] as const) {
    it(`${kind}: 3 steps, checkpoint, fresh objects, restore, 3 more = 6 uninterrupted steps, bit for bit`, () => {
      const straight = build(1, 77, kind);
      train(straight.net, straight.opt, 6, 0);

      const first = build(1, 77, kind);
      train(first.net, first.opt, 3, 0);
      const ckpt = save(first.net, first.opt, first.rng);
      first.opt.dispose();
      first.net.dispose();

      // Other seeds: everything must come from the checkpoint.
      const resumed = build(5, 5, kind);
      restore(ckpt, resumed.net, resumed.opt, resumed.rng);
      train(resumed.net, resumed.opt, 3, 3);
      try {
        for (const [[n, a], [, b]] of straight.net.namedParameters().map((p, i) => [p, resumed.net.namedParameters()[i]!] as const)) {
          expect(values(b), n).toEqual(values(a));
        }
        expect(resumed.opt.state().steps).toEqual(straight.opt.state().steps);
        expect(resumed.opt.lr(0)).toBe(straight.opt.lr(0));
        expect(resumed.rng.state()).toEqual(straight.rng.state());
      } finally {
        for (const r of [straight, resumed]) {
          r.opt.dispose();
          r.net.dispose();
        }
      }
    });
  }
});

describe('loadState refuses a mismatched state, naming what is wrong, and restores nothing', () => {
  function setup(): { a: tf.Variable; b: tf.Variable; opt: Adam } {
    const a = tf.variable(tf.ones([2, 3]));
    const b = tf.variable(tf.ones([4]));
    const opt = new Adam([
      ['a', a],
      ['b', b],
    ]);
    const g = { a: tf.ones([2, 3]), b: tf.ones([4]) };
    opt.step(g);
    tf.dispose(Object.values(g));
    return { a, b, opt };
  }

  it('wrong kind, unknown parameter, wrong shape, missing moment', () => {
    const { a, b, opt } = setup();
    try {
      const good = opt.state();
      const refused = (mutate: (s: ReturnType<Adam['state']>) => void, pattern: RegExp): void => {
        const s = opt.state();
        mutate(s);
        expect(() => opt.loadState(s, 'ckpt/optimizer.safetensors')).toThrow(pattern);
        expect(opt.state().tensors.get('exp_avg.a')!.data).toEqual(good.tensors.get('exp_avg.a')!.data);
      };
      refused((s) => (s.kind = 'SGD'), /ckpt\/optimizer\.safetensors: cannot restore the Adam state \(nothing was restored\): it is a SGD state/);
      refused((s) => s.tensors.set('exp_avg.c', { shape: [1], data: new Float32Array(1) }), /unexpected tensor 'exp_avg\.c'/);
      refused((s) => s.tensors.set('momentum_buffer.a', { shape: [2, 3], data: new Float32Array(6) }), /unexpected tensor 'momentum_buffer\.a'/);
      refused((s) => s.tensors.set('exp_avg.a', { shape: [3, 2], data: new Float32Array(6) }), /tensor 'exp_avg\.a' has shape \[3, 2\] but parameter 'a' has \[2, 3\]/);
      refused((s) => s.tensors.delete('exp_avg_sq.b'), /tensor 'exp_avg_sq\.b' is missing \(the parameter has taken 1 steps\)/);
      refused((s) => (s.steps.zzz = 1), /step count for 'zzz'/);
      refused((s) => s.groups.push({ lr: 1 }), /it has 2 parameter groups, this optimizer has 1/);
      opt.loadState(good);
      expect(opt.state().steps).toEqual({ a: 1, b: 1 });
    } finally {
      opt.dispose();
      tf.dispose([a, b]);
    }
  });
});

describe('groups, lr and gradients', () => {
  it('per-group lr and weight decay; setLr; schedules from each group’s initial lr', () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([2]));
    const opt = new SGD(
      [
        { params: [['a', a]], lr: 0.1, weightDecay: 0.5 },
        { params: [['b', b]], lr: 0.2 },
      ],
      { lr: 1 },
    );
    try {
      expect([opt.lr(0), opt.lr(1)]).toEqual([0.1, 0.2]);
      const g = new Map([['a', tf.zeros([2])], ['b', tf.zeros([2])]]);
      opt.step(g);
      tf.dispose([...g.values()]);
      // a: p − lr·wd·p = 1 − 0.1·0.5 = 0.95; b has no weight decay.
      expect(values(a)[0]).toBeCloseTo(0.95, 7);
      expect(values(b)[0]).toBe(1);
      expect(applySchedule(opt, multiStepLR([2], 0.1), 3)).toEqual([0.1 * 0.1, 0.2 * 0.1]);
      opt.setLr(0.5);
      expect([opt.lr(0), opt.lr(1)]).toEqual([0.5, 0.5]);
      expect(opt.initialLr(1)).toBe(0.2);
      expect(() => opt.lr(2)).toThrow(/no parameter group 2/);
    } finally {
      tf.dispose([a, b]);
    }
  });

  it('takes tf.variableGrads output (keyed by variable name) and skips parameters without gradient', () => {
    const used = tf.variable(tf.ones([3]));
    const unused = tf.variable(tf.ones([3]));
    const opt = new Adam([
      ['used', used],
      ['unused', unused],
    ]);
    try {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(used)), [used, unused]);
      expect(Object.keys(grads)).toEqual([used.name]);
      opt.step(grads);
      tf.dispose([value, ...Object.values(grads)]);
      expect(opt.state().steps).toEqual({ used: 1 });
      expect([...opt.state().tensors.keys()]).toEqual(['exp_avg.used', 'exp_avg_sq.used']);
      expect(values(unused)).toEqual(new Float32Array([1, 1, 1]));
      expect(values(used)[0]).toBeCloseTo(1 - 1e-3, 6);
      const wrong = new Map([['used', tf.ones([4])]]);
      expect(() => opt.step(wrong)).toThrow(/gradient of 'used' has shape \[4\] but the parameter has \[3\]/);
      tf.dispose([...wrong.values()]);
    } finally {
      opt.dispose();
      tf.dispose([used, unused]);
    }
  });

  it('refuses duplicate parameters, an empty list and torch’s invalid hyperparameters', () => {
    const v = tf.variable(tf.ones([1]));
    try {
      expect(() => new Adam([{ params: [['v', v]] }, { params: [['v', v]] }])).toThrow(/more than one parameter group/);
      expect(() => new Adam([])).toThrow(/empty parameter list/);
      expect(() => new SGD([['v', v]], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(/Nesterov/);
      expect(() => new Adam([['v', v]], { betas: [1, 0.999] })).toThrow(/beta parameters/);
      expect(() => new AdamW([['v', v]], { lr: -1 })).toThrow(/learning rate/);
    } finally {
      v.dispose();
    }
  });

  it('clipGradNorm: returns the global norm, scales only when above max_norm, skips null entries', () => {
    const grads: Record<string, tf.Tensor | null> = { a: tf.tensor1d([3, 0]), b: tf.tensor1d([0, 4]), c: null };
    const before = grads.a!;
    expect(clipGradNorm(grads, 10)).toBeCloseTo(5, 6);
    expect(before.isDisposed).toBe(true);
    expect(values(grads.a!)[0]).toBeCloseTo(3, 5);
    expect(clipGradNorm(grads, 1)).toBeCloseTo(5, 5);
    expect(values(grads.a!)[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(values(grads.b!)[1]).toBeCloseTo(4 / (5 + 1e-6), 6);
    expect(grads.c).toBeNull();
    tf.dispose([grads.a!, grads.b!]);
    expect(clipGradNorm({}, 1)).toBe(0);
  });
});
