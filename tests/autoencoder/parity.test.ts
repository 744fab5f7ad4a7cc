// The U-Net Auto-Encoder (methods/autoencoder) against a plain-PyTorch reference written from the same
// design (scripts/reference/autoencoder.py): TypeScript writes the seeded initial weights as
// .safetensors (torch names and layouts) and the images as .npy, the reference loads the weights
// STRICTLY into its own torch modules and writes its outputs as .npy. Errors are per tensor,
// max |ours − ref| / max |ref|. wasm backend, base width 8, bottleneck 4, 64×64, batch 4, Adam lr 1e-2
// with coupled weight decay 5e-4. PyTorch comes from Debian (scripts/install-torch.sh); without it
// these tests FAIL with that hint, they never skip.
//
// Why the train-mode gradients are judged against a float64 run as well: in train mode the 24
// BatchNorms normalise with batch statistics, and the float32 gradient of this net is then only
// determined to ~1e-2: torch's own float32 gradients differ from its float64 ones by 3e-3 (median) to
// 1e-2 (worst tensor) on these weights and images (in eval mode, where the BNs are affine maps, the
// same gradients agree to 3e-6). No float32 implementation can meet a 1e-4 bar against another float32
// one there. So the reference also runs in float64 (the exact answer both float32 runs scatter
// around), and each of our gradients must be as close to it as torch's float32 one is, within a factor
// F32_FACTOR (or within 1e-4). Conv biases followed by a train-mode BN have an analytically zero
// gradient (the BN subtracts the mean): both sides hold rounding noise there, required to be ≤ 1e-4 of
// that conv's weight gradient. The Adam step is compared on identical gradients (the reference steps
// with ours): an element whose gradient is below that noise flips its first Adam update (≈ ±lr) in
// torch float32 vs float64 alike.
//
// BatchNorm2d's batch statistics are summed in two levels (nn/layers.ts batchMoments): with
// tf.moments' one float32 pass on wasm they carried 3e-6 relative error and the train reconstruction
// ended 4.2e-4 from float64; now it is 7.1e-5 from float64, as torch float32 is (6.7e-5).
//
// Figures (wasm, this machine; max |ours − torch| / max |torch| unless said otherwise):
//   train reconstruction        ours vs torch32 9.0e-5, ours vs torch64 7.1e-5, torch32 vs torch64 6.7e-5
//   loss                        ours vs torch32 3.8e-6
//   gradients (74 non-zero)     ours vs torch32 ≤ 9.7e-3; ours vs torch64 ≤ 1.33 × torch32's own error
//                               (torch32 vs torch64 up to 9.8e-3); the output conv fin_out ≤ 1.8e-5
//   zero gradients (24 biases)  max |ours| ≤ 3.1e-6 of the conv's weight gradient
//   after one Adam step         parameters ≤ 9.7e-7, running statistics ≤ 4.6e-6, num_batches_tracked exact
//   eval after the step         reconstruction 1.7e-6, maps and scores σ 0 / σ 4 ≤ 2.5e-7
//   torch-trained (3 steps)     loaded strictly; eval reconstruction 3.7e-7, maps and scores ≤ 3.1e-7
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { loadSafetensors, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { BatchNorm2d, Conv2d, Sequential } from '../../src/main/core/engine/nn/index';
import { Adam } from '../../src/main/core/engine/optim/index';
import { resolveAutoencoderConfig, type AutoencoderConfig } from '../../src/main/core/methods/autoencoder/config';
import { buildAutoencoder, normalizeInput, UnetAutoencoder } from '../../src/main/core/methods/autoencoder/model';
import { reconstructionLoss } from '../../src/main/core/methods/autoencoder/loss';
import { anomalyMaps } from '../../src/main/core/methods/autoencoder/anomaly-map';
import { maxAbs, randomImages, readNpy, relError, runAutoencoderReference, toTorch, writeImages, type Arr } from './helpers';
import { compareTrain as compareTrainRuns } from '../helpers/parity';

const SIZE = 64;
const BATCH = 4;
const SIGMAS = [0, 4];
/** Forward and gradients (and everything in eval mode). */
const FWD_TOL = 1e-4;
/** The Adam step and the BN running statistics. */
const OPT_TOL = 1e-5;
/** Train mode: ours may be this many times farther from torch float64 than torch float32 is. */
const F32_FACTOR = 4;
/** Mode 'train': the reference trains this many steps itself, on TRAIN_IMAGES images, with this lr. */
const REF_STEPS = 3;
const TRAIN_IMAGES = 8;
const REF_LR = 1e-3;

const { config } = resolveAutoencoderConfig('fast', {
  inputSize: SIZE,
  batchSize: BATCH,
  baseWidth: 8,
  latentChannels: 4,
  outputActivation: 'tanh',
  learningRate: 1e-2,
  weightDecay: 5e-4,
  seed: 1234,
});

function referenceArgs(c: AutoencoderConfig, lr: number): string[] {
  return [
    '--base-width', String(c.baseWidth),
    '--latent', String(c.latentChannels),
    '--activation', c.outputActivation,
    '--lr', String(lr),
    '--beta1', String(c.beta1),
    '--beta2', String(c.beta2),
    '--weight-decay', String(c.weightDecay),
    '--norm-mean', String(c.normMean),
    '--norm-std', String(c.normStd),
    '--sigmas', SIGMAS.join(','),
  ];
}

let dir = '';
const figures: string[] = [];
const trainImages = randomImages(TRAIN_IMAGES, SIZE, 11);
const stepImages = trainImages.slice(0, BATCH * SIZE * SIZE * 3);
const testImages = randomImages(BATCH, SIZE, 22);

const fmt = (v: number): string => v.toExponential(2);

interface EvalOutputs {
  recon: Arr;
  maps: Map<number, Arr>;
  scores: Map<number, Arr>;
}

/** Eval-mode reconstruction, maps and scores of `model` on the test images, in torch's layout. */
function evaluate(model: UnetAutoencoder): EvalOutputs {
  model.eval();
  const out: EvalOutputs = { recon: { data: new Float32Array(0), shape: [] }, maps: new Map(), scores: new Map() };
  tf.tidy(() => {
    const x = normalizeInput(tf.tensor4d(testImages, [BATCH, SIZE, SIZE, 3]), config);
    const recon = model.forward(x);
    out.recon = toTorch(recon);
    for (const s of SIGMAS) {
      const { maps, scores } = anomalyMaps(recon, x, s);
      out.maps.set(s, toTorch(maps));
      out.scores.set(s, toTorch(scores));
    }
  });
  return out;
}

/** Compares one tensor with the reference's file, records its figure, and checks the bar. */
async function compare(what: string, ours: Arr, refPath: string, tol: number): Promise<number> {
  const ref = await readNpy(refPath);
  expect(ours.shape, `${what} shape`).toEqual(ref.shape);
  const err = relError(ours.data, ref.data);
  figures.push(`  ${what}: ${fmt(err)} (max |torch| ${maxAbs(ref.data).toPrecision(3)})`);
  expect.soft(err, `${what}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(tol);
  return err;
}

async function compareEval(prefix: string, ours: EvalOutputs, refDir: string): Promise<void> {
  await compare(`${prefix} eval reconstruction`, ours.recon, join(refDir, 'eval.recon.npy'), FWD_TOL);
  for (const s of SIGMAS) {
    await compare(`${prefix} eval maps σ ${s}`, ours.maps.get(s)!, join(refDir, `eval.map.s${s}.npy`), FWD_TOL);
    await compare(`${prefix} eval scores σ ${s}`, ours.scores.get(s)!, join(refDir, `eval.score.s${s}.npy`), FWD_TOL);
  }
}

/** A train-mode quantity against torch float32 and float64 (tests/helpers/parity.ts; the file comment says why). */
const compareTrain = (what: string, ours: Arr, file: string) => compareTrainRuns(what, ours, file, { dir, tol: FWD_TOL, factor: F32_FACTOR, figures });

// --- one training step (reference mode 'step', in float32 and in float64) -----------------------------------

interface StepResults {
  recon: Arr;
  loss: number;
  grads: Map<string, Arr>;
  after: Map<string, Arr>;
  eval: EvalOutputs;
  /** Biases of convs followed by a BatchNorm2d (analytically zero gradient in train mode) → that conv's weight. */
  zeroGradBiases: Map<string, string>;
}
let step: StepResults | undefined;

/** The conv biases whose train-mode gradient is analytically zero: a Conv2d directly followed by a BatchNorm2d. */
function biasesBeforeBatchNorm(model: UnetAutoencoder): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof Sequential)) continue;
    for (let i = 0; i + 1 < m.length; i++) {
      if (m.at(i) instanceof Conv2d && m.at(i + 1) instanceof BatchNorm2d && (m.at(i) as Conv2d).bias) out.set(`${name}.${i}.bias`, `${name}.${i}.weight`);
    }
  }
  return out;
}

async function runStep(): Promise<StepResults> {
  const model = buildAutoencoder(config);
  const optimizer = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8, weightDecay: config.weightDecay });
  try {
    await writeSafetensors(join(dir, 'init.safetensors'), model.stateDict());
    await writeImages(join(dir, 'step.npy'), stepImages, BATCH, SIZE);
    await writeImages(join(dir, 'test.npy'), testImages, BATCH, SIZE);
    const common = ['step', '--weights', join(dir, 'init.safetensors'), '--train', join(dir, 'step.npy'), '--test', join(dir, 'test.npy'), ...referenceArgs(config, config.learningRate)];
    // The float64 run goes while we compute ours; the float32 one needs our gradients (--grads-from).
    const ref64 = runAutoencoderReference([...common, '--out', join(dir, 'step64'), '--dtype', 'float64']);
    ref64.catch(() => undefined);

    // As the training loop (harness/train-loop.ts) with fit.ts's loss does it.
    model.train();
    const x = tf.tensor4d(stepImages, [BATCH, SIZE, SIZE, 3]);
    let recon: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const xn = normalizeInput(x, config);
      const r = model.forward(xn);
      recon = tf.keep(r);
      return reconstructionLoss(r, xn);
    }, optimizer.variables());
    const loss = (await value.data())[0]!;
    const ourGrads = new Map<string, Arr>();
    await mkdir(join(dir, 'ours-grads'), { recursive: true });
    for (const [name, v] of model.namedParameters()) {
      const g = model.toTorchLayout(name, grads[v.name]!);
      const a = { data: new Float32Array(g.dataSync() as Float32Array), shape: [...g.shape] };
      g.dispose();
      ourGrads.set(name, a);
      await writeFile(join(dir, 'ours-grads', `grad.${name}.npy`), encodeNpy(a.data, a.shape));
    }
    const ref32 = runAutoencoderReference([...common, '--out', join(dir, 'step32'), '--grads-from', join(dir, 'ours-grads')]);
    ref32.catch(() => undefined);
    const ourRecon = toTorch(recon!);
    optimizer.step(grads);
    tf.dispose([value, x, recon!, ...Object.values(grads)]);
    const after = new Map<string, Arr>();
    for (const [name, t] of model.stateDict()) {
      after.set(name, { data: t.data instanceof BigInt64Array ? Float64Array.from(t.data, (v) => Number(v)) : t.data, shape: t.shape });
    }
    const result: StepResults = { recon: ourRecon, loss, grads: ourGrads, after, eval: evaluate(model), zeroGradBiases: biasesBeforeBatchNorm(model) };
    await Promise.all([ref64, ref32]);
    return result;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'ae-parity-'));
}, 120_000);

afterAll(async () => {
  if (figures.length) console.info(`autoencoder parity, max |ours − ref| / max |ref| per tensor:\n${figures.join('\n')}`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('U-Net Auto-Encoder against the PyTorch reference (base width 8, bottleneck 4, 64×64, batch 4, one training step)', () => {
  beforeAll(async () => {
    step = await runStep();
  }, 180_000);

  it('train-mode reconstruction and MSE loss', async () => {
    const [t32, t64] = await Promise.all([readNpy(join(dir, 'step32', 'recon.npy')), readNpy(join(dir, 'step64', 'recon.npy'))]);
    expect(step!.recon.shape).toEqual(t32.shape);
    const vs32 = relError(step!.recon.data, t32.data);
    figures.push(
      `  train reconstruction: ours vs torch32 ${fmt(vs32)}, ours vs torch64 ${fmt(relError(step!.recon.data, t64.data))}, torch32 vs torch64 ${fmt(relError(t32.data, t64.data))}`,
    );
    expect(vs32, 'train reconstruction: max |ours − torch| / max |torch|').toBeLessThanOrEqual(FWD_TOL);
    const read = async (d: string) => (JSON.parse(await readFile(join(dir, d, 'results.json'), 'utf8')) as { loss: number }).loss;
    const [l32, l64] = await Promise.all([read('step32'), read('step64')]);
    const err = Math.abs(step!.loss - l32) / Math.abs(l32);
    figures.push(`  loss: ours vs torch32 ${fmt(err)}, ours vs torch64 ${fmt(Math.abs(step!.loss - l64) / l64)} (torch ${l32.toPrecision(7)}, ours ${step!.loss.toPrecision(7)})`);
    expect(err, 'loss: |ours − torch| / |torch|').toBeLessThanOrEqual(FWD_TOL);
  });

  // Tracks the known issue: passes (so this fails) once BatchNorm2d's training statistics on wasm are as
  // precise as torch's (measured with two-level sums: 1.0e-4 vs float64, inside this bar). Then make it an it().
  it('train-mode reconstruction as close to torch float64 as torch float32 is (two-level BatchNorm statistics)', async () => {
    const [t32, t64] = await Promise.all([readNpy(join(dir, 'step32', 'recon.npy')), readNpy(join(dir, 'step64', 'recon.npy'))]);
    expect(relError(step!.recon.data, t64.data)).toBeLessThanOrEqual(Math.max(FWD_TOL, F32_FACTOR * relError(t32.data, t64.data)));
  });

  it('the gradient of every parameter (tf.variableGrads as the training loop, torch layout by state-dict name)', async () => {
    const names = [...step!.grads.keys()];
    expect(names.length, 'parameters').toBe(98);
    const zero = step!.zeroGradBiases;
    expect(zero.size, 'conv biases followed by a BatchNorm2d').toBe(24);
    let worst32 = 0;
    let worstRatio = 0;
    let worstZero = 0;
    for (const name of names) {
      const ours = step!.grads.get(name)!;
      if (zero.has(name)) {
        // Analytically zero: rounding noise only, on both sides, small against the conv's weight gradient.
        const [t32, w64] = await Promise.all([readNpy(join(dir, 'step32', `grad.${name}.npy`)), readNpy(join(dir, 'step64', `grad.${zero.get(name)!}.npy`))]);
        const scale = maxAbs(w64.data);
        const ratio = maxAbs(ours.data) / scale;
        worstZero = Math.max(worstZero, ratio);
        figures.push(`  grad ${name} (analytically 0): max |ours| ${fmt(maxAbs(ours.data))}, max |torch32| ${fmt(maxAbs(t32.data))}; ${fmt(ratio)} of the weight's gradient`);
        expect.soft(ratio, `grad ${name}: max |ours| / max |weight gradient|`).toBeLessThanOrEqual(FWD_TOL);
        expect.soft(maxAbs(t32.data) / scale, `grad ${name}: max |torch32| / max |weight gradient|`).toBeLessThanOrEqual(FWD_TOL);
        continue;
      }
      const { vs32, vs64, floor } = await compareTrain(`grad ${name}`, ours, `grad.${name}.npy`);
      worst32 = Math.max(worst32, vs32);
      worstRatio = Math.max(worstRatio, vs64 / Math.max(floor, FWD_TOL / F32_FACTOR));
    }
    figures.push(
      `  gradients: ${names.length - zero.size} compared, worst ours vs torch32 ${fmt(worst32)}, worst (ours vs torch64) / (torch32 vs torch64) ${worstRatio.toFixed(2)} (bar ${F32_FACTOR}); ` +
        `${zero.size} analytically zero, worst ${fmt(worstZero)} of the weight gradient`,
    );
  });

  it('every parameter and BN buffer after one Adam step (lr 1e-2, coupled weight decay 5e-4), on identical gradients', async () => {
    const names = [...step!.after.keys()];
    expect(names.length, 'state-dict entries').toBe(98 + 3 * 24);
    let worst = 0;
    let tracked = 0;
    for (const name of names) {
      const ours = step!.after.get(name)!;
      if (name.endsWith('num_batches_tracked')) {
        const ref = await readNpy(join(dir, 'step32', `after.${name}.npy`));
        expect(ours.shape, `${name} shape`).toEqual(ref.shape);
        expect(ours.data[0], `${name}: exact`).toBe(ref.data[0]);
        expect(ours.data[0]).toBe(1);
        tracked++;
        continue;
      }
      worst = Math.max(worst, await compare(`after step ${name}`, ours, join(dir, 'step32', `after.${name}.npy`), OPT_TOL));
    }
    expect(tracked).toBe(24);
    figures.push(`  after the Adam step: worst ${fmt(worst)} over ${names.length - tracked} parameters and running statistics; num_batches_tracked exact (${tracked})`);
  });

  it('eval-mode reconstruction, maps and scores (σ 0 and σ 4) after the step', async () => {
    await compareEval('after one step:', step!.eval, join(dir, 'step32'));
  });
});

describe('a checkpoint trained by the reference PyTorch code and converted to .safetensors', () => {
  it(`loads into UnetAutoencoder (strict) and gives the reference's eval outputs after ${REF_STEPS} reference steps`, async () => {
    const trainedPath = join(dir, 'torch-trained.safetensors');
    const refDir = join(dir, 'trained');
    const init = buildAutoencoder(config);
    await writeSafetensors(join(dir, 'init-train.safetensors'), init.stateDict());
    init.dispose();
    await writeImages(join(dir, 'train.npy'), trainImages, TRAIN_IMAGES, SIZE);
    await writeImages(join(dir, 'test.npy'), testImages, BATCH, SIZE);
    await runAutoencoderReference([
      'train',
      '--weights', join(dir, 'init-train.safetensors'),
      '--train', join(dir, 'train.npy'),
      '--test', join(dir, 'test.npy'),
      '--out', refDir,
      '--steps', String(REF_STEPS),
      '--batch-size', String(BATCH),
      '--save', trainedPath,
      ...referenceArgs(config, REF_LR),
    ]);
    const { tensors, header } = await loadSafetensors(trainedPath);
    // A model with other weights, so everything it ends up with comes from the file.
    const model = new UnetAutoencoder(config).initialize(config.seed + 1);
    try {
      expect([...header.tensors.keys()], 'torch state_dict names and order').toEqual([...model.stateDict().keys()]);
      expect(model.loadStateDict(tensors, { source: trainedPath })).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const state = model.stateDict();
      for (const [name, t] of state) {
        if (name.endsWith('num_batches_tracked')) expect(Number((t.data as BigInt64Array)[0]), name).toBe(REF_STEPS);
        else expect(t.data, name).toEqual(tensors.get(name)!.data);
      }
      await compareEval(`torch-trained (${REF_STEPS} steps):`, evaluate(model), refDir);
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('refuses a state dict of another base width, naming a tensor and both shapes, and loads nothing', async () => {
    const other = new UnetAutoencoder({ ...config, baseWidth: 4 }).initialize(5);
    const path = join(dir, 'width4.safetensors');
    await writeSafetensors(path, other.stateDict());
    other.dispose();
    const { tensors } = await loadSafetensors(path);
    const model = buildAutoencoder(config);
    try {
      const before = model.stateDict();
      expect(() => model.loadStateDict(tensors, { source: path })).toThrow(/tensor 'encoder\.block1\.0\.weight' has shape \[4, 3, 3, 3\] but the model expects \[8, 3, 3, 3\]/);
      for (const [name, t] of model.stateDict()) expect(t.data, `${name} unchanged`).toEqual(before.get(name)!.data);
    } finally {
      model.dispose();
    }
  });
});
