// FastFlow against the plain-PyTorch reference (scripts/reference/fastflow.py: FrEIA 1779d1f's AllInOneBlock written
// in torch, stacked as gathierry's fastflow.py stacks it), ResNet18 widths (64, 128, 256 channels at 16², 8², 4²: a
// 64 px input), 8 flow steps with the subnets alternating 3×3 and 1×1 (the paper preset's pattern), batch 4. The
// TypeScript writes the seeded weights (with a random non-trivial LayerNorm affine, global scale and offset, so
// nothing sits at its identity) as .safetensors in the reference's names and torch layouts, and the features as .npy;
// the reference loads them STRICTLY. Compared: every LayerNorm's and block's output and log-determinant, each
// scale's z and summed log|J|, the loss and its parts, the gradient of every trainable parameter, the state dict
// after one Adam step with coupled weight decay (on our gradients: the step alone), the per-scale maps, the map and
// the scores after that step, each flow's inverse; and the permutation and the soft clamp on their own.
// PyTorch comes from Debian (scripts/install-torch.sh); without it these tests FAIL with that hint, never skip.
//
// Bars: forward tensors and maps max |ours − torch| / max |torch| ≤ 1e-4; log-determinants 5e-5; the loss relative
// 1e-5; gradients relative L2 ≤ 1e-4; after the Adam step ≤ 1e-5. Figures of the run are printed (console.info).
// The training features' seed: with seed 11 one ReLU pre-activation of scale 0's block 6 lies 4.2e-7 from zero,
// and wasm's convolution (XNNPACK's summation order) puts it on the other side than torch and tfjs' cpu backend
// do: that one kink moved block 6's subnet.0.weight gradient by 8.7e-3 (relative L2) and everything upstream by
// ~3e-4, while cpu matched torch to 9e-7 (and torch float32 matched float64 to 2e-6). A gradient is not defined
// at a kink; seed 12 has none that close, and the bar stays 1e-4.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { mulberry32 } from '../../src/main/core/engine/random';
import { loadSafetensors, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { resolveFastflowConfig, FASTFLOW_SCALES, fastflowParameterCount } from '../../src/main/core/methods/fastflow/config';
import { fastflowOptimizer } from '../../src/main/core/methods/fastflow/fit';
import { fastflowLoss } from '../../src/main/core/methods/fastflow/loss';
import { anomalyMaps } from '../../src/main/core/methods/fastflow/anomaly-map';
import { buildFastFlow, inversePermutation, permuteChannels, softClamp, type FastFlow } from '../../src/main/core/methods/fastflow/model';
import { runPython } from '../../scripts/parity/reference';
import { maxAbs, readNpy, relError, toTorch, type Arr } from '../autoencoder/helpers';
import { relL2 } from '../reverse-distillation/helpers';

const SCRIPT = fileURLToPath(new URL('../../scripts/reference/fastflow.py', import.meta.url));
const SIZE = 64;
const BATCH = 4;
const FWD_TOL = 1e-4;
/** A log-determinant sums 1k–4k soft-clamped log-scales that partly cancel: summation order alone moves it ~1e-6 of its size (worst seen 7.1e-6). */
const LOGDET_TOL = 5e-5;
const LOSS_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const OPT_TOL = 1e-5;

const { config } = resolveFastflowConfig('fast', { inputSize: SIZE, batchSize: BATCH, seed: 1234, conv3x3Only: false });
const fmt = (v: number): string => v.toExponential(2);
const figures: string[] = [];
let dir = '';

interface Level {
  data: Float32Array;
  shape: [number, number, number, number];
}

/** Backbone-shaped features, NHWC, uniform in [0, 2) (non-negative, as a ReLU's outputs), seeded. */
function randomFeatures(seed: number): Level[] {
  const rand = mulberry32(seed);
  const { channels, strides } = FASTFLOW_SCALES[config.backbone];
  return channels.map((c, i) => {
    const side = SIZE / strides[i]!;
    const shape: [number, number, number, number] = [BATCH, side, side, c];
    return { data: Float32Array.from({ length: BATCH * side * side * c }, () => 2 * rand()), shape };
  });
}

async function writeLevels(folder: string, levels: readonly Level[]): Promise<void> {
  await mkdir(folder, { recursive: true });
  await Promise.all(levels.map((l, i) => writeFile(join(folder, `feat.layer${i + 1}.npy`), encodeNpy(l.data, l.shape))));
}

/** The seeded model with every LayerNorm affine, global scale and global offset moved off its identity (seeded). */
function perturbedModel(): FastFlow {
  const model = buildFastFlow(config);
  const rand = mulberry32(99);
  tf.tidy(() => {
    for (const [name, v] of model.namedParameters()) {
      const u = () => Float32Array.from({ length: v.size }, () => rand() - 0.5);
      if (/^norms\.\d+\.weight$/.test(name)) v.assign(tf.add(1, tf.mul(0.5, tf.tensor(u(), v.shape))));
      else if (/^norms\.\d+\.bias$/.test(name)) v.assign(tf.mul(0.5, tf.tensor(u(), v.shape)));
      else if (name.endsWith('global_scale')) v.assign(tf.add(v, tf.tensor(u(), v.shape)));
      else if (name.endsWith('global_offset')) v.assign(tf.mul(0.2, tf.tensor(u(), v.shape)));
    }
  });
  return model;
}

const reference = (args: string[]) =>
  runPython([SCRIPT, ...args, '--backbone', config.backbone, '--size', String(SIZE), '--flow-steps', String(config.flowSteps), '--hidden-ratio', String(config.hiddenRatio), '--clamp', String(config.clamp), '--lr', String(config.learningRate), '--weight-decay', String(config.weightDecay), ...(config.conv3x3Only ? ['--conv3x3-only'] : [])], 600_000);

interface Ours {
  normed: Arr[];
  z: Arr[];
  logJac: Arr[];
  steps: { y: Arr; logJac: Arr }[][];
  loss: number;
  parts: number[];
  grads: Map<string, Arr>;
  after: Map<string, Arr>;
  scales: Arr[];
  map: Arr;
  score: Arr;
  inverse: Arr[];
  testNormed: Arr[];
}
let ours: Ours;

async function compare(what: string, mine: Arr, refFile: string, tol: number): Promise<number> {
  const ref = await readNpy(join(dir, 'ref', refFile));
  expect(mine.shape, `${what} shape`).toEqual(ref.shape);
  const err = relError(mine.data, ref.data);
  figures.push(`  ${what}: ${fmt(err)} (max |torch| ${maxAbs(ref.data).toPrecision(3)})`);
  expect.soft(err, `${what}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(tol);
  return err;
}

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'fastflow-parity-'));
  const train = randomFeatures(12);
  const test = randomFeatures(22);
  await writeLevels(join(dir, 'feats'), train);
  await writeLevels(join(dir, 'test-feats'), test);
  const model = perturbedModel();
  const optimizer = fastflowOptimizer(config, model);
  const x = train.map((l) => tf.tensor4d(l.data, l.shape));
  const xt = test.map((l) => tf.tensor4d(l.data, l.shape));
  try {
    await writeSafetensors(join(dir, 'init.safetensors'), model.stateDict());
    const o = { normed: [], z: [], logJac: [], steps: [], grads: new Map(), after: new Map(), scales: [], inverse: [], testNormed: [] } as unknown as Ours;
    model.train();
    let parts: number[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const outs = model.forward(x);
      outs.forEach((s) => {
        o.normed.push(toTorch(s.normed));
        o.z.push(toTorch(s.z));
        o.logJac.push(toTorch(s.logJac));
        o.steps.push(s.steps.map((st) => ({ y: toTorch(st.y), logJac: toTorch(st.logJac) })));
      });
      const out = fastflowLoss(outs);
      parts = Object.values(out.parts).map((p) => p.dataSync()[0]!);
      return out.loss;
    }, optimizer.variables());
    o.loss = (await value.data())[0]!;
    o.parts = parts;
    value.dispose();
    await mkdir(join(dir, 'ours-grads'), { recursive: true });
    for (const [name, v] of model.namedParameters()) {
      const g0 = grads[v.name];
      if (!g0) continue;
      // toTorchLayout gives torch's layout already (conv [O, I, kh, kw]; the rest as stored).
      const t = model.toTorchLayout(name, g0);
      const g = { data: new Float32Array(t.dataSync() as Float32Array), shape: [...t.shape] };
      t.dispose();
      o.grads.set(name, g);
      await writeFile(join(dir, 'ours-grads', `grad.${name}.npy`), encodeNpy(g.data, g.shape));
    }
    optimizer.step(grads);
    tf.dispose(grads);
    for (const [name, t] of model.stateDict()) o.after.set(name, { data: t.data as Float32Array, shape: t.shape });
    model.eval();
    tf.tidy(() => {
      const outs = model.forward(xt);
      const { maps, scores, scales } = anomalyMaps(outs.map((s) => s.z), SIZE);
      o.scales = scales.map((m) => toTorch(m));
      o.map = toTorch(maps);
      o.score = toTorch(scores);
      o.inverse = model.inverse(outs.map((s) => s.z)).map((t) => toTorch(t));
      o.testNormed = outs.map((s) => toTorch(s.normed));
    });
    ours = o;
    const common = ['step', '--weights', join(dir, 'init.safetensors'), '--features', join(dir, 'feats'), '--test-features', join(dir, 'test-feats')];
    await reference([...common, '--out', join(dir, 'ref'), '--grads-from', join(dir, 'ours-grads')]);
  } finally {
    tf.dispose([...x, ...xt]);
    optimizer.dispose();
    model.dispose();
  }
}, 600_000);

afterAll(async () => {
  if (figures.length) console.info(`FastFlow against the PyTorch reference (ResNet18 widths, 64 px, 8 steps 3×3/1×1, batch 4):\n${figures.join('\n')}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('FastFlow against the PyTorch reference', () => {
  it('has the reference state dict: names, order and parameter count', async () => {
    const model = buildFastFlow(config);
    try {
      const names = [...model.stateDict().keys()];
      expect(names.slice(0, 2)).toEqual(['norms.0.weight', 'norms.0.bias']);
      expect(names.slice(6, 14)).toEqual([
        'nf_flows.0.module_list.0.global_scale',
        'nf_flows.0.module_list.0.global_offset',
        'nf_flows.0.module_list.0.w_perm',
        'nf_flows.0.module_list.0.w_perm_inv',
        'nf_flows.0.module_list.0.subnet.0.weight',
        'nf_flows.0.module_list.0.subnet.0.bias',
        'nf_flows.0.module_list.0.subnet.2.weight',
        'nf_flows.0.module_list.0.subnet.2.bias',
      ]);
      expect(model.stateDict().get('nf_flows.0.module_list.1.subnet.0.weight')!.shape).toEqual([32, 32, 1, 1]);
      const trainable = model.namedParameters().filter(([, v]) => v.trainable);
      expect(trainable.reduce((a, [, v]) => a + v.size, 0)).toBe(fastflowParameterCount(config));
      // The reference loaded our file strictly and wrote back its whole state dict under the same names.
      for (const name of names) expect(ours.after.has(name), name).toBe(true);
      // γ starts at exactly 1 (FrEIA's SOFTPLUS init), so the unperturbed log-determinant of the global affine is 0.
      const gamma = tf.tidy(() => model.nfFlows.at(0).moduleList.at(0).scale().dataSync());
      expect(Math.max(...Array.from(gamma, (g) => Math.abs(g - 1)))).toBeLessThan(1e-6);
    } finally {
      model.dispose();
    }
  });

  it('every LayerNorm and block output, each block’s and each scale’s log-determinant', async () => {
    for (let i = 0; i < 3; i++) {
      await compare(`scale ${i} LayerNorm`, ours.normed[i]!, `normed.${i}.npy`, FWD_TOL);
      for (let k = 0; k < config.flowSteps; k++) {
        await compare(`scale ${i} block ${k} output`, ours.steps[i]![k]!.y, `z.${i}.${k}.npy`, FWD_TOL);
        await compare(`scale ${i} block ${k} log|J|`, ours.steps[i]![k]!.logJac, `logjac.${i}.${k}.npy`, LOGDET_TOL);
      }
      await compare(`scale ${i} z`, ours.z[i]!, `z.${i}.npy`, FWD_TOL);
      await compare(`scale ${i} log|J| (summed)`, ours.logJac[i]!, `logjac.${i}.npy`, LOGDET_TOL);
    }
  });

  it('the loss and its part per scale', async () => {
    const ref = JSON.parse(await readFile(join(dir, 'ref', 'results.json'), 'utf8')) as { loss: number; parts: number[] };
    const err = Math.abs(ours.loss - ref.loss) / Math.abs(ref.loss);
    figures.push(`  loss: ours ${ours.loss.toPrecision(9)}, torch ${ref.loss.toPrecision(9)}, relative ${fmt(err)}`);
    expect(err).toBeLessThanOrEqual(LOSS_TOL);
    ours.parts.forEach((p, i) => expect(Math.abs(p - ref.parts[i]!) / Math.abs(ref.parts[i]!), `part ${i}`).toBeLessThanOrEqual(LOSS_TOL));
  });

  it('the gradient of every trainable parameter (relative L2), none for w_perm / w_perm_inv', async () => {
    const trainable = ours.grads.size;
    expect(trainable).toBe(3 * 2 + 3 * config.flowSteps * 6);
    let worst = 0;
    let worstName = '';
    for (const [name, g] of ours.grads) {
      const ref = await readNpy(join(dir, 'ref', `grad.${name}.npy`));
      expect(g.shape, name).toEqual(ref.shape);
      const err = relL2(g.data, ref.data);
      if (err > worst) [worst, worstName] = [err, name];
      expect.soft(err, `grad ${name}: relative L2`).toBeLessThanOrEqual(GRAD_TOL);
    }
    figures.push(`  gradients: ${trainable} compared, worst relative L2 ${fmt(worst)} (${worstName})`);
    expect([...ours.grads.keys()].some((n) => n.includes('w_perm'))).toBe(false);
  });

  it('every tensor of the state dict after one Adam step (lr 1e-3, coupled weight decay 1e-5) on identical gradients', async () => {
    let worst = 0;
    for (const [name, t] of ours.after) {
      const ref = await readNpy(join(dir, 'ref', `after.${name}.npy`));
      const err = relError(t.data, ref.data);
      worst = Math.max(worst, err);
      expect.soft(err, `after ${name}`).toBeLessThanOrEqual(OPT_TOL);
    }
    figures.push(`  after the Adam step: worst ${fmt(worst)} over ${ours.after.size} tensors`);
  });

  it('eval mode after the step: per-scale maps, the map (align_corners=False), the scores, each flow’s inverse', async () => {
    for (let i = 0; i < 3; i++) await compare(`scale ${i} map`, ours.scales[i]!, `eval.scale${i}.npy`, FWD_TOL);
    await compare('anomaly map', ours.map, 'eval.map.npy', FWD_TOL);
    await compare('image scores (max)', ours.score, 'eval.score.npy', FWD_TOL);
    for (let i = 0; i < 3; i++) {
      await compare(`scale ${i} inverse of z`, ours.inverse[i]!, `eval.inverse.${i}.npy`, FWD_TOL);
      // …and it gives back the normalised features the flow started from.
      expect.soft(relError(ours.inverse[i]!.data, ours.testNormed[i]!.data), `scale ${i} inverse vs its input`).toBeLessThan(1e-5);
    }
  });

  it('a checkpoint saved as gathierry main.py saves it (after the reference\'s step), converted to .safetensors, loads strictly and maps the test features as torch does', async () => {
    const converted = join(dir, 'gathierry.safetensors');
    const { stdout } = await runPython([SCRIPT, 'convert', '--checkpoint', join(dir, 'ref', 'gathierry.pt'), '--save', converted]);
    expect(JSON.parse(stdout.trim())).toEqual({ tensors: ours.after.size, dropped: 1 });
    const { tensors, header } = await loadSafetensors(converted);
    expect(header.metadata['method']).toBe('fastflow');
    // Other weights first, so everything the model ends up with comes from the file.
    const model = buildFastFlow({ ...config, seed: config.seed + 1 });
    const xt = randomFeatures(22).map((l) => tf.tensor4d(l.data, l.shape));
    try {
      expect(model.loadStateDict(tensors, { source: converted })).toEqual({ missingKeys: [], unexpectedKeys: [] });
      model.eval();
      const [map, scores] = tf.tidy(() => {
        const { maps, scores: s } = anomalyMaps(model.forward(xt).map((o) => o.z), SIZE);
        return [toTorch(maps), toTorch(s)];
      });
      await compare('torch-stepped checkpoint, converted: anomaly map', map!, 'eval.map.npy', FWD_TOL);
      await compare('torch-stepped checkpoint, converted: image scores', scores!, 'eval.score.npy', FWD_TOL);
    } finally {
      tf.dispose(xt);
      model.dispose();
    }
  }, 120_000);

  it('the permutation (a gather with an inverse-gather gradient) and the soft clamp 2·tanh(a), each on its own, as FrEIA computes them', async () => {
    const model = buildFastFlow(config);
    const block = model.nfFlows.at(0).moduleList.at(0);
    const c = block.channels;
    const inverse = inversePermutation(block.permutation);
    const rand = mulberry32(5);
    const u = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (rand() - 0.5));
    const shape: [number, number, number, number] = [2, 5, 5, c];
    const px = tf.tensor4d(u(2 * 25 * c, 2), shape);
    const pr = tf.tensor4d(u(2 * 25 * c, 2), shape);
    const ca = tf.tensor4d(u(2 * 25 * c, 8), shape);
    const cr = tf.tensor4d(u(2 * 25 * c, 2), shape);
    try {
      await writeSafetensors(join(dir, 'checks.safetensors'), model.stateDict());
      const folder = join(dir, 'checks');
      await mkdir(folder, { recursive: true });
      for (const [name, t] of [['perm_x', px], ['perm_r', pr], ['clamp_a', ca], ['clamp_r', cr]] as const) {
        const a = toTorch(t);
        await writeFile(join(folder, `${name}.npy`), encodeNpy(a.data, a.shape));
      }
      await runPython([SCRIPT, 'checks', '--weights', join(dir, 'checks.safetensors'), '--checks', folder, '--out', join(dir, 'ref'), '--backbone', config.backbone, '--size', String(SIZE), '--flow-steps', String(config.flowSteps), '--hidden-ratio', String(config.hiddenRatio), '--clamp', String(config.clamp)]);
      const perm = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(permuteChannels(x as tf.Tensor4D, block.permutation, inverse), pr)));
      const clampGrad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(softClamp(x, config.clamp), cr)));
      // A permutation moves values without arithmetic: exact.
      expect(await compare('permutation', toTorch(permuteChannels(px, block.permutation, inverse)), 'check.perm.npy', 0)).toBe(0);
      expect(await compare('permutation gradient', toTorch(perm(px)), 'check.perm_grad.npy', 0)).toBe(0);
      await compare('soft clamp 2·tanh(a)', toTorch(softClamp(ca, config.clamp)), 'check.clamp.npy', 1e-6);
      await compare('soft clamp gradient', toTorch(clampGrad(ca)), 'check.clamp_grad.npy', 1e-5);
      // The clamp bounds the log-scale to ±clamp, and is not FrEIA ≥ ae74fd4's clamp·tanh(a/clamp).
      const s = softClamp(tf.tensor1d([-100, 1, 100]), 2).dataSync();
      expect(Math.abs(s[0]! + 2)).toBeLessThan(1e-6);
      expect(s[1]).toBeCloseTo(2 * Math.tanh(1), 6);
    } finally {
      tf.dispose([px, pr, ca, cr]);
      model.dispose();
    }
  }, 120_000);
});
