// Our trainable layers (engine/nn) and optimisers (engine/optim) against PyTorch on the same seeded
// weights: TypeScript writes each case's state dict as .safetensors (torch names and layouts) and its
// inputs as .npy, scripts/parity/nn.py builds torch's own modules, loads the state dict STRICTLY and
// writes outputs, gradients of sum(out · R), buffers and optimiser states back as .npy. Compared
// relative to each tensor's max |torch|: forward and gradients to 1e-5 (fp32), optimiser states to
// 1e-6, lr schedules exactly. PyTorch comes from Debian (scripts/install-torch.sh); without it every
// test here FAILS with that hint, it never skips.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { encodeNpy, decodeNpy } from '../../src/main/core/engine/npy';
import { loadSafetensors, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { seedFor } from '../../src/main/core/engine/random';
import { BatchNorm2d, Conv2d, ConvTranspose2d, LayerNorm, Linear, MultiheadAttention, init, type Module } from '../../src/main/core/engine/nn';
import { Adam, AdamW, SGD, clipGradNorm, multiStepLR, stepLR, type Optimizer, type BaseHyper, type LrSchedule } from '../../src/main/core/engine/optim';
import { runNnReference } from '../../scripts/parity/nn';
import { TinyNet } from './tiny-net';
import { fromTorch, randn, relError, toTorch } from './helpers';

const FWD_TOL = 1e-5;
const OPT_TOL = 1e-6;

type Arr = { data: Float32Array; shape: number[] };
type Mode = 'train' | 'eval';

interface Built {
  module: Module;
  /** inputs in our layout → output (and MHA's per-head weights). */
  forward(inputs: Record<string, tf.Tensor>, mask?: tf.Tensor2D): { out: tf.Tensor; weights?: tf.Tensor };
}

interface LayerCase {
  name: string;
  /** torch.nn class (or 'TinyNet' of nn.py) and its kwargs in torch's names. */
  type: string;
  kwargs: Record<string, unknown>;
  build(): Built;
  /** Input shapes in torch's layout (NCHW for images). */
  inputs: Record<string, number[]>;
  /** MHA: which inputs are query, key, value (a repeated name passes the same tensor). */
  qkv?: [string, string, string];
  /** MHA: an additive mask [lq, lk]. */
  mask?: Float32Array;
  maskShape?: [number, number];
  /** Extra train/eval forwards before the measured one (BatchNorm running statistics). */
  warmup?: number;
  /**
   * Gradients that are mathematically zero in training mode (the bias of a conv followed by a
   * training-mode BatchNorm, which removes any per-channel constant): both sides hold rounding noise,
   * so they are compared to the case's largest parameter gradient instead of to themselves.
   */
  zeroInTrain?: string[];
}

function unary(module: Module & { forward(x: tf.Tensor4D): tf.Tensor }): Built {
  return { module, forward: (inputs) => ({ out: module.forward(Object.values(inputs)[0] as tf.Tensor4D) }) };
}

function randomNorm<M extends Module>(m: M, affine = true): M {
  if (affine) m.setInit('weight', init.uniform(0.5, 1.5)).setInit('bias', init.uniform(-0.5, 0.5));
  return m;
}

function randomBn(m: BatchNorm2d): BatchNorm2d {
  randomNorm(m, m.weight !== null);
  return m.setInit('running_mean', init.uniform(-0.5, 0.5)).setInit('running_var', init.uniform(0.5, 2));
}

/** A mask [lq, lk] blocking (−inf or −1e9) the keys where (i + 2j) % 3 == 0, never a whole row. */
function blockMask(lq: number, lk: number, value: number): Float32Array {
  const m = new Float32Array(lq * lk);
  for (let i = 0; i < lq; i++) for (let j = 0; j < lk; j++) if ((i + 2 * j) % 3 === 0) m[i * lk + j] = value;
  return m;
}

type BaseCase = Omit<LayerCase, 'name'> & { id: string };
type Case = LayerCase & { mode: Mode };
const BASE_CASES: BaseCase[] = [];
function layer(id: string, c: Omit<LayerCase, 'name'>): void {
  BASE_CASES.push({ id, ...c });
}

layer('conv_s2p1_odd', {
  type: 'Conv2d',
  kwargs: { in_channels: 3, out_channels: 5, kernel_size: 3, stride: 2, padding: 1 },
  build: () => unary(new Conv2d(3, 5, 3, { stride: 2, padding: 1 })),
  inputs: { x: [2, 3, 9, 9] },
});
layer('conv_s2p1_even', {
  type: 'Conv2d',
  kwargs: { in_channels: 3, out_channels: 5, kernel_size: 3, stride: 2, padding: 1 },
  build: () => unary(new Conv2d(3, 5, 3, { stride: 2, padding: 1 })),
  inputs: { x: [2, 3, 8, 8] },
});
layer('conv_rect_nobias', {
  type: 'Conv2d',
  kwargs: { in_channels: 4, out_channels: 6, kernel_size: [3, 5], stride: [1, 2], padding: [1, 2], bias: false },
  build: () => unary(new Conv2d(4, 6, [3, 5], { stride: [1, 2], padding: [1, 2], bias: false })),
  inputs: { x: [2, 4, 7, 10] },
});
layer('convT_s2p1op1', {
  type: 'ConvTranspose2d',
  kwargs: { in_channels: 4, out_channels: 3, kernel_size: 3, stride: 2, padding: 1, output_padding: 1 },
  build: () => unary(new ConvTranspose2d(4, 3, 3, { stride: 2, padding: 1, outputPadding: 1 })),
  inputs: { x: [2, 4, 5, 6] },
});
layer('convT_k2s2', {
  type: 'ConvTranspose2d',
  kwargs: { in_channels: 4, out_channels: 3, kernel_size: 2, stride: 2 },
  build: () => unary(new ConvTranspose2d(4, 3, 2, { stride: 2 })),
  inputs: { x: [2, 4, 5, 5] },
});
layer('convT_op_beyond_p', {
  type: 'ConvTranspose2d',
  kwargs: { in_channels: 3, out_channels: 2, kernel_size: 3, stride: 2, padding: 0, output_padding: 1, bias: false },
  build: () => unary(new ConvTranspose2d(3, 2, 3, { stride: 2, padding: 0, outputPadding: 1, bias: false })),
  inputs: { x: [2, 3, 4, 5] },
});
layer('bn', {
  type: 'BatchNorm2d',
  kwargs: { num_features: 5 },
  build: () => unary(randomBn(new BatchNorm2d(5))),
  inputs: { x: [3, 5, 4, 4] },
  warmup: 1,
});
layer('bn_noaffine_m03', {
  type: 'BatchNorm2d',
  kwargs: { num_features: 4, eps: 1e-3, momentum: 0.3, affine: false },
  build: () => unary(randomBn(new BatchNorm2d(4, { eps: 1e-3, momentum: 0.3, affine: false }))),
  inputs: { x: [2, 4, 3, 5] },
  warmup: 1,
});
layer('layernorm', {
  type: 'LayerNorm',
  kwargs: { normalized_shape: 6 },
  build: () => unary(randomNorm(new LayerNorm(6))),
  inputs: { x: [2, 5, 6] },
});
layer('linear_3d', {
  type: 'Linear',
  kwargs: { in_features: 6, out_features: 4 },
  build: () => unary(new Linear(6, 4)),
  inputs: { x: [2, 5, 6] },
});
layer('linear_2d_nobias', {
  type: 'Linear',
  kwargs: { in_features: 7, out_features: 3, bias: false },
  build: () => unary(new Linear(7, 3, { bias: false })),
  inputs: { x: [4, 7] },
});

function mha(embed: number, heads: number): Built {
  const module = new MultiheadAttention(embed, heads);
  // Non-zero biases so their gradients and the bias paths are compared too.
  module.setInit('in_proj_bias', init.uniform(-0.3, 0.3));
  module.outProj.setInit('bias', init.uniform(-0.3, 0.3));
  return {
    module,
    forward: (inputs, mask) => {
      const t = (n: string): tf.Tensor3D => inputs[n] as tf.Tensor3D;
      const names = Object.keys(inputs);
      const [q, k, v] = names.length === 1 ? [t(names[0]!), t(names[0]!), t(names[0]!)] : [t('query'), t('kv'), t('kv')];
      const { output, weights } = module.forwardWithWeights(q, k, v, mask ? { attnMask: mask } : {});
      return { out: output, weights };
    },
  };
}

layer('mha_self', {
  type: 'MultiheadAttention',
  kwargs: { embed_dim: 8, num_heads: 2 },
  build: () => mha(8, 2),
  inputs: { x: [2, 5, 8] },
  qkv: ['x', 'x', 'x'],
});
layer('mha_self_mask_1e9', {
  type: 'MultiheadAttention',
  kwargs: { embed_dim: 8, num_heads: 4 },
  build: () => mha(8, 4),
  inputs: { x: [2, 6, 8] },
  qkv: ['x', 'x', 'x'],
  mask: blockMask(6, 6, -1e9),
  maskShape: [6, 6],
});
layer('mha_cross_mask_inf', {
  type: 'MultiheadAttention',
  kwargs: { embed_dim: 8, num_heads: 2 },
  build: () => mha(8, 2),
  inputs: { query: [2, 4, 8], kv: [2, 7, 8] },
  qkv: ['query', 'kv', 'kv'],
  mask: blockMask(4, 7, -Infinity),
  maskShape: [4, 7],
});
layer('tinynet', {
  type: 'TinyNet',
  kwargs: { up: 13 },
  build: () => unary(new TinyNet(13).randomizeNorms()),
  inputs: { x: [2, 3, 12, 12] },
  warmup: 1,
  zeroInTrain: ['grad.param.enc.0.bias', 'grad.param.dec.bias'],
});

const CASES: Case[] = BASE_CASES.flatMap((c) => (['train', 'eval'] as Mode[]).map((mode) => ({ ...c, name: `${c.id}.${mode}`, mode })));

let dir = '';
const ours = new Map<string, Map<string, Arr>>();

async function writeNpy(path: string, a: Arr): Promise<void> {
  await writeFile(path, encodeNpy(a.data, a.shape));
}

async function readNpy(path: string): Promise<{ data: Float32Array | Float64Array; shape: number[] }> {
  const { data, shape } = decodeNpy(new Uint8Array(await readFile(path)), path);
  return { data: data as Float32Array | Float64Array, shape };
}

/** Runs one layer case here (in a fresh module) and writes what nn.py needs; returns its spec entry. */
async function prepareLayer(c: Case, index: number): Promise<Record<string, unknown>> {
  const folder = join(dir, c.name);
  await mkdir(folder, { recursive: true });
  const seed = seedFor(2024, c.name);
  const built = c.build();
  const m = built.module.initialize(seed);
  m.train(c.mode === 'train');
  await writeSafetensors(join(folder, 'state.safetensors'), m.stateDict());
  const spec: Record<string, unknown> = { name: c.name, type: c.type, kwargs: c.kwargs, mode: c.mode, state: 'state.safetensors', call: c.qkv ? 'mha' : 'unary' };
  if (c.qkv) spec.qkv = c.qkv;
  const mask = c.mask && c.maskShape ? tf.tensor2d(c.mask, c.maskShape) : undefined;
  if (c.mask && c.maskShape) {
    await writeNpy(join(folder, 'mask.npy'), { data: c.mask, shape: c.maskShape });
    spec.mask = 'mask.npy';
  }
  const warmup: Record<string, string>[] = [];
  for (let w = 0; w < (c.warmup ?? 0); w++) {
    const files: Record<string, string> = {};
    const inputs: Record<string, tf.Tensor> = {};
    for (const [n, shape] of Object.entries(c.inputs)) {
      const data = randn(shape, seed + 1000 + w * 10 + n.length, 1.5);
      files[n] = `warmup${w}.${n}.npy`;
      await writeNpy(join(folder, files[n]), { data, shape });
      inputs[n] = fromTorch(data, shape);
    }
    tf.tidy(() => {
      built.forward(inputs, mask);
    });
    tf.dispose(Object.values(inputs));
    warmup.push(files);
  }
  spec.warmup = warmup;
  const inputFiles: Record<string, string> = {};
  const vars: Record<string, tf.Variable> = {};
  for (const [n, shape] of Object.entries(c.inputs)) {
    // Inputs off zero mean (+0.3) so BatchNorm's batch statistics differ from the running ones.
    const data = randn(shape, seed + index + n.length, 1.2).map((v) => v + 0.3);
    inputFiles[n] = `input.${n}.npy`;
    await writeNpy(join(folder, inputFiles[n]), { data, shape });
    const t = fromTorch(data, shape);
    vars[n] = tf.variable(t, true);
    t.dispose();
  }
  spec.inputs = inputFiles;
  const results = new Map<string, Arr>();
  let rTorch: Arr | undefined;
  let out: tf.Tensor | undefined;
  let weights: tf.Tensor | undefined;
  const params = m.namedParameters();
  const { value, grads } = tf.variableGrads(() => {
    const y = built.forward(vars, mask);
    out = tf.keep(y.out);
    if (y.weights) weights = tf.keep(y.weights);
    const shapeT = toTorch(y.out).shape;
    rTorch = { data: randn(shapeT, seed + 77), shape: shapeT };
    const r = fromTorch(rTorch.data, rTorch.shape);
    return tf.sum(tf.mul(y.out, r));
  }, [...Object.values(vars), ...params.map(([, v]) => v)]);
  await writeNpy(join(folder, 'r.npy'), rTorch!);
  spec.r = 'r.npy';
  results.set('out', toTorch(out!));
  // Attention weights are [batch, heads, lq, lk] in both (not an image: no NHWC transpose).
  if (weights) results.set('weights', { data: new Float32Array(weights.dataSync() as Float32Array), shape: [...weights.shape] });
  for (const [n, v] of Object.entries(vars)) results.set(`grad.input.${n}`, toTorch(grads[v.name]!));
  for (const [n, v] of params) {
    const g = m.toTorchLayout(n, grads[v.name]!);
    results.set(`grad.param.${n}`, { data: new Float32Array(g.dataSync() as Float32Array), shape: [...g.shape] });
    g.dispose();
  }
  const state = m.stateDict();
  for (const [n] of m.namedBuffers()) {
    const t = state.get(n)!;
    results.set(`buffer.${n}`, { data: Float32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v)), shape: t.shape });
  }
  ours.set(c.name, results);
  tf.dispose([value, out!, ...(weights ? [weights] : []), ...Object.values(grads).filter((g): g is tf.Tensor => g !== null), ...Object.values(vars)]);
  mask?.dispose();
  m.dispose();
  return spec;
}

// --- optimisers ------------------------------------------------------------------------------------

const OPT_PARAMS: Record<string, number[]> = { 'conv.weight': [4, 3, 3, 3], 'conv.bias': [4], 'fc.weight': [5, 6], 'fc.bias': [5], frozen: [3] };
/** Step 1: every parameter but 'frozen' and 'fc.bias' has a gradient; step 2: 'fc.bias' too (its state starts late). */
const OPT_GRADS: string[][] = [
  ['conv.weight', 'conv.bias', 'fc.weight'],
  ['conv.weight', 'conv.bias', 'fc.weight', 'fc.bias'],
];

interface OptRun {
  name: string;
  type: 'Adam' | 'AdamW' | 'SGD';
  kwargs: Record<string, unknown>;
  groups: { params: string[]; lr?: number; weight_decay?: number }[];
  clip: number | null;
}

const OPT_RUNS: OptRun[] = [
  {
    name: 'adam_coupled_wd_clip',
    type: 'Adam',
    kwargs: { betas: [0.9, 0.999], eps: 1e-8 },
    groups: [
      { params: ['conv.weight', 'conv.bias'], lr: 1e-2, weight_decay: 1e-2 },
      { params: ['fc.weight', 'fc.bias', 'frozen'], lr: 5e-3, weight_decay: 0 },
    ],
    clip: 1.0,
  },
  { name: 'adam_ae', type: 'Adam', kwargs: { lr: 1e-4, weight_decay: 5e-4 }, groups: [{ params: Object.keys(OPT_PARAMS) }], clip: null },
  {
    name: 'adamw_clip',
    type: 'AdamW',
    kwargs: { lr: 1e-2, betas: [0.8, 0.99], eps: 1e-6 },
    groups: [
      { params: ['conv.weight', 'fc.weight'], weight_decay: 1e-2 },
      { params: ['conv.bias', 'fc.bias', 'frozen'], lr: 1e-3, weight_decay: 1e-4 },
    ],
    clip: 0.1,
  },
  { name: 'sgd_momentum_clip', type: 'SGD', kwargs: { lr: 0.1, momentum: 0.9, dampening: 0.1, weight_decay: 1e-3 }, groups: [{ params: Object.keys(OPT_PARAMS) }], clip: 5.0 },
  { name: 'sgd_nesterov', type: 'SGD', kwargs: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1e-4 }, groups: [{ params: Object.keys(OPT_PARAMS) }], clip: null },
  { name: 'sgd_plain', type: 'SGD', kwargs: { lr: 0.1 }, groups: [{ params: Object.keys(OPT_PARAMS) }], clip: null },
];

function makeOptimizer(run: OptRun, vars: Map<string, tf.Variable>): Optimizer<BaseHyper> {
  const camel = (o: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_(\w)/g, (_, ch: string) => ch.toUpperCase()), v]));
  const groups = run.groups.map(({ params, ...rest }) => ({ params: params.map((n) => [n, vars.get(n)!] as [string, tf.Variable]), ...camel(rest) }));
  const opts = camel(run.kwargs);
  if (run.type === 'Adam') return new Adam(groups, opts) as unknown as Optimizer<BaseHyper>;
  if (run.type === 'AdamW') return new AdamW(groups, opts) as unknown as Optimizer<BaseHyper>;
  return new SGD(groups, opts as { lr: number }) as unknown as Optimizer<BaseHyper>;
}

const ourNorms = new Map<string, number[]>();
const ourSteps = new Map<string, Record<string, number>>();

async function prepareOptim(): Promise<Record<string, unknown>> {
  const folder = join(dir, 'optim');
  await mkdir(folder, { recursive: true });
  const initial = new Map<string, Arr>();
  const params: Record<string, string> = {};
  for (const [n, shape] of Object.entries(OPT_PARAMS)) {
    initial.set(n, { data: randn(shape, seedFor(7, n), 0.5), shape });
    params[n] = `param.${n}.npy`;
    await writeNpy(join(folder, params[n]), initial.get(n)!);
  }
  const gradData: Map<string, Arr>[] = [];
  const gradFiles: Record<string, string>[] = [];
  for (const [k, names] of OPT_GRADS.entries()) {
    const files: Record<string, string> = {};
    const step = new Map<string, Arr>();
    for (const n of names) {
      const shape = OPT_PARAMS[n]!;
      // Mixed magnitudes (some tiny) so eps and the clipping coefficient matter.
      const data = randn(shape, seedFor(100 + k, n), n === 'conv.bias' ? 1e-6 : 1);
      step.set(n, { data, shape });
      files[n] = `grad${k + 1}.${n}.npy`;
      await writeNpy(join(folder, files[n]), { data, shape });
    }
    gradData.push(step);
    gradFiles.push(files);
  }
  for (const run of OPT_RUNS) {
    const vars = new Map([...initial].map(([n, a]) => [n, tf.variable(tf.tensor(a.data, a.shape), true)] as [string, tf.Variable]));
    const opt = makeOptimizer(run, vars);
    const norms: number[] = [];
    for (const [k, step] of gradData.entries()) {
      const grads = new Map<string, tf.Tensor | null>([...step].map(([n, a]) => [n, tf.tensor(a.data, a.shape)]));
      if (run.clip !== null) norms.push(clipGradNorm(grads, run.clip));
      opt.step(grads);
      tf.dispose([...grads.values()].filter((g): g is tf.Tensor => g !== null));
      const results = new Map<string, Arr>();
      for (const [n, v] of vars) results.set(`step${k + 1}.param.${n}`, { data: new Float32Array(v.dataSync() as Float32Array), shape: [...v.shape] });
      for (const [key, t] of opt.state().tensors) results.set(`step${k + 1}.${key}`, t);
      ours.set(`optim/${run.name}/step${k + 1}`, results);
    }
    ourNorms.set(run.name, norms);
    ourSteps.set(run.name, opt.state().steps);
    opt.dispose();
    tf.dispose([...vars.values()]);
  }
  return { params, grads: gradFiles, runs: OPT_RUNS };
}

// --- schedules -------------------------------------------------------------------------------------

interface SchedCase {
  name: string;
  type: 'StepLR' | 'MultiStepLR';
  kwargs: Record<string, unknown>;
  base_lr: number;
  epochs: number;
  closed_form: boolean;
  ours: LrSchedule;
}

const SCHEDULES: SchedCase[] = [
  { name: 'step3', type: 'StepLR', kwargs: { step_size: 3, gamma: 0.1 }, base_lr: 0.1, epochs: 12, closed_form: false, ours: stepLR(3, 0.1) },
  { name: 'step3_closed', type: 'StepLR', kwargs: { step_size: 3, gamma: 0.1 }, base_lr: 0.1, epochs: 12, closed_form: true, ours: stepLR(3, 0.1, { closedForm: true }) },
  { name: 'step4_g07', type: 'StepLR', kwargs: { step_size: 4, gamma: 0.7 }, base_lr: 3e-4, epochs: 12, closed_form: false, ours: stepLR(4, 0.7) },
  { name: 'multistep', type: 'MultiStepLR', kwargs: { milestones: [2, 5, 5, 9], gamma: 0.1 }, base_lr: 1e-3, epochs: 12, closed_form: false, ours: multiStepLR([2, 5, 5, 9], 0.1) },
  { name: 'multistep_closed', type: 'MultiStepLR', kwargs: { milestones: [2, 5, 5, 9], gamma: 0.1 }, base_lr: 1e-3, epochs: 12, closed_form: true, ours: multiStepLR([2, 5, 5, 9], 0.1, { closedForm: true }) },
  { name: 'multistep_zero', type: 'MultiStepLR', kwargs: { milestones: [0, 3, 7], gamma: 0.3 }, base_lr: 0.05, epochs: 12, closed_form: false, ours: multiStepLR([0, 3, 7], 0.3) },
];

// --- state-dict round trip ---------------------------------------------------------------------------

let roundtripOurs: Arr | undefined;
let roundtripKeys: string[] = [];

async function prepareRoundtrip(): Promise<Record<string, unknown>> {
  const folder = join(dir, 'roundtrip');
  await mkdir(folder, { recursive: true });
  const net = new TinyNet(13).randomizeNorms().initialize(31);
  // One training-mode forward so the running statistics and num_batches_tracked are not the initial ones.
  tf.tidy(() => {
    net.forward(fromTorch(randn([2, 3, 12, 12], 5), [2, 3, 12, 12]) as tf.Tensor4D);
  });
  net.eval();
  const state = net.stateDict();
  roundtripKeys = [...state.keys()];
  await writeSafetensors(join(folder, 'state.safetensors'), state);
  const x = randn([2, 3, 12, 12], 6);
  await writeNpy(join(folder, 'input.npy'), { data: x, shape: [2, 3, 12, 12] });
  roundtripOurs = tf.tidy(() => toTorch(net.forward(fromTorch(x, [2, 3, 12, 12]) as tf.Tensor4D)));
  net.dispose();
  return { state: 'state.safetensors', input: 'input.npy', kwargs: { up: 13 } };
}

// --- run everything once, then compare ---------------------------------------------------------------

const figures: string[] = [];
/** Why the reference could not run (e.g. torch missing): every test then fails with it, none is skipped. */
let setupError: unknown;

beforeAll(async () => {
  try {
    await initBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'nn-parity-'));
    const layers: Record<string, unknown>[] = [];
    for (const [i, c] of CASES.entries()) layers.push(await prepareLayer(c, i));
    const optim = await prepareOptim();
    const roundtrip = await prepareRoundtrip();
    const schedules = SCHEDULES.map(({ ours: _ours, ...s }) => s);
    await writeFile(join(dir, 'spec.json'), JSON.stringify({ layers, optim, schedules, roundtrip }, null, 1));
    await runNnReference(dir);
  } catch (error) {
    setupError = error;
  }
}, 600_000);

function ready(): void {
  if (setupError) throw setupError;
}

afterAll(async () => {
  if (figures.length) console.info(`nn parity, max |ours − torch| / max |torch|:\n${figures.join('\n')}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Compares every .npy nn.py wrote for `key` (a folder under out/) with ours; returns the worst error.
 * Tensors named in `zero` are scaled by the largest max |torch| of the other gradients (see zeroInTrain).
 */
async function compareFolder(key: string, folder: string, tol: number, prefix = '', zero: string[] = []): Promise<number> {
  const mine = ours.get(key);
  expect(mine, `our results for ${key}`).toBeDefined();
  const files = (await readdir(folder)).filter((f) => f.endsWith('.npy') && f.startsWith(prefix));
  expect(files.length, `torch results for ${key}`).toBeGreaterThan(0);
  const theirs = new Set(files.map((f) => f.slice(0, -4)));
  expect([...mine!.keys()].filter((k) => !theirs.has(k)), `${key}: tensors we have and torch does not`).toEqual([]);
  let worst = 0;
  const parts: string[] = [];
  const refs = new Map<string, { data: Float32Array | Float64Array; shape: number[] }>();
  for (const f of files) refs.set(f.slice(0, -4), await readNpy(join(folder, f)));
  const maxAbs = (a: ArrayLike<number>): number => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
    return m;
  };
  const gradScale = Math.max(...[...refs].filter(([n]) => n.startsWith('grad.param.') && !zero.includes(n)).map(([, r]) => maxAbs(r.data)), 0);
  for (const [name, ref] of refs) {
    const ourArr = mine!.get(name);
    expect(ourArr, `${key}: ours has no ${name}`).toBeDefined();
    expect(ourArr!.shape, `${key} ${name} shape`).toEqual(ref.shape);
    let err: number;
    if (name.endsWith('num_batches_tracked')) err = Math.abs((ourArr!.data[0] as number) - (ref.data[0] as number));
    else if (zero.includes(name)) err = Math.max(maxAbs(ourArr!.data), maxAbs(ref.data)) / gradScale;
    else err = relError(ourArr!.data, ref.data);
    parts.push(`${name} ${err.toExponential(1)}${zero.includes(name) ? ' (zero, vs largest grad)' : ''}`);
    expect(err, `${key} ${name}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(name.endsWith('num_batches_tracked') ? 0 : tol);
    worst = Math.max(worst, err);
  }
  figures.push(`  ${key}: worst ${worst.toExponential(2)} (${parts.join(', ')})`);
  return worst;
}

describe('nn layers against torch.nn (forward, gradients of every parameter and input, buffers)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      ready();
      await compareFolder(c.name, join(dir, 'out', c.name), FWD_TOL, '', c.mode === 'train' ? (c.zeroInTrain ?? []) : []);
      if (c.mask) {
        // Blocked keys get exactly zero weight, in ours and in torch's.
        const w = ours.get(c.name)!.get('weights')!;
        const ref = await readNpy(join(dir, 'out', c.name, 'weights.npy'));
        const [lq, lk] = c.maskShape!;
        let blocked = 0;
        for (let i = 0; i < w.data.length; i++) {
          const q = Math.floor(i / lk) % lq;
          const k = i % lk;
          if (c.mask[q * lk + k] !== 0) {
            blocked++;
            expect(w.data[i], `${c.name}: weight of blocked key ${k} for query ${q}`).toBe(0);
            expect(ref.data[i]).toBe(0);
          }
        }
        expect(blocked).toBeGreaterThan(0);
      }
    });
  }
});

describe('optimisers against torch.optim (two steps, clip_grad_norm_ first, parameter groups, a parameter without gradient)', () => {
  for (const run of OPT_RUNS) {
    it(run.name, async () => {
      ready();
      const results = JSON.parse(await readFile(join(dir, 'out', 'results.json'), 'utf8')) as { optim: Record<string, { norms: number[]; steps: Record<string, number> }> };
      const theirs = results.optim[run.name]!;
      const norms = ourNorms.get(run.name)!;
      expect(norms.length).toBe(theirs.norms.length);
      const normErrors = norms.map((n, i) => Math.abs(n - theirs.norms[i]!) / theirs.norms[i]!);
      if (norms.length) figures.push(`  optim/${run.name} clip_grad_norm_ total norms (${theirs.norms.map((n) => n.toPrecision(4)).join(', ')}): ${normErrors.map((e) => e.toExponential(1)).join(', ')}`);
      normErrors.forEach((e, i) => expect(e, `${run.name} total norm at step ${i + 1}`).toBeLessThanOrEqual(OPT_TOL));
      if (run.type !== 'SGD') expect(ourSteps.get(run.name)).toEqual(theirs.steps);
      for (const k of [1, 2]) await compareFolder(`optim/${run.name}/step${k}`, join(dir, 'out', 'optim', run.name), OPT_TOL, `step${k}.`);
    });
  }
});

describe('lr schedules against torch.optim.lr_scheduler (12 epochs, exact)', () => {
  for (const s of SCHEDULES) {
    it(s.name, async () => {
      ready();
      const results = JSON.parse(await readFile(join(dir, 'out', 'results.json'), 'utf8')) as { schedules: Record<string, number[]> };
      const mine = Array.from({ length: s.epochs }, (_, e) => s.ours(s.base_lr, e));
      expect(mine).toEqual(results.schedules[s.name]);
    });
  }
});

describe('state dict round trip: ours → safetensors → torch (strict) → torch state_dict → ours', () => {
  it('loads torch’s own state dict and gives the same forward output', async () => {
    ready();
    const { tensors, header } = await loadSafetensors(join(dir, 'out', 'roundtrip', 'torch_state.safetensors'));
    expect([...header.tensors.keys()], 'torch state_dict names and order').toEqual(roundtripKeys);
    const net = new TinyNet(13).initialize(999).eval();
    try {
      net.loadStateDict(tensors, { source: 'torch_state.safetensors' });
      const x = randn([2, 3, 12, 12], 6);
      const again = tf.tidy(() => toTorch(net.forward(fromTorch(x, [2, 3, 12, 12]) as tf.Tensor4D)));
      expect(relError(again.data, roundtripOurs!.data), 'ours before and after the round trip').toBe(0);
      const ref = await readNpy(join(dir, 'out', 'roundtrip', 'out.npy'));
      const err = relError(again.data, ref.data);
      figures.push(`  roundtrip tinynet eval output vs torch: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(FWD_TOL);
    } finally {
      net.dispose();
    }
  });
});
