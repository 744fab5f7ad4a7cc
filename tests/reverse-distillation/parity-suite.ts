// The Reverse Distillation parity suite, run by parity.test.ts (ResNet18 widths, CI) and
// parity-wide.test.ts (WideResNet50-2 widths, slow): the lab's bottleneck, student, losses, gradients,
// Adam step, maps, blurs and scores against the plain-PyTorch reference written from the paper and the
// official code (scripts/reference/reverse_distillation.py). TypeScript writes the seeded initial
// weights as .safetensors (official names, torch layouts) and teacher-shaped features as .npy; the
// reference loads the weights STRICTLY into its own torch modules. Eval-mode errors are per tensor,
// max |ours − ref| / max |ref| (bar 1e-4). PyTorch comes from Debian (scripts/install-torch.sh);
// without it these tests FAIL with that hint, they never skip.
//
// Train mode (the student's maps and every gradient): the bar is relative L2 against torch float32,
// ‖ours − torch32‖ / ‖torch32‖ < 1e-4. The ResNet18 widths meet it for every tensor. At the
// WideResNet50-2 widths no float32 implementation can: a dozen train-mode BatchNorms, several
// normalising 16 values per channel (the 2×2 bottleneck of a 64 px batch of 4), leave torch float32's
// own gradients 1e-2..2e-2 (relative L2) from torch float64's. So the reference also runs in float64
// and, where torch float32 misses 1e-4 itself, ours must be as close to float64 as torch float32 is,
// within the suite's f32Factor (the Auto-Encoder's parity test judges its 24 BatchNorms the same way).
// The Adam step is compared on identical gradients (the reference steps with ours, --grads-from):
// parameters to 1e-5; BN running statistics, which come from the train-mode forward, to 1e-4.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { randomWeights } from '../../src/main/core/engine/backbones/index';
import { encodeNpy } from '../../src/main/core/engine/npy';
import { loadSafetensors, writeSafetensors } from '../../src/main/core/engine/safetensors';
import { Adam } from '../../src/main/core/engine/optim/index';
import { FeatureExtractor } from '../../src/main/core/methods/components/feature-extractor';
import { resolveRdConfig, type ReverseDistillationConfig } from '../../src/main/core/methods/reverse-distillation/config';
import { anomalyMaps, combineLevels, levelMaps } from '../../src/main/core/methods/reverse-distillation/anomaly-map';
import { gaussianBlurMaps } from '../../src/main/core/methods/components/gaussian-blur';
import { rdLoss } from '../../src/main/core/methods/reverse-distillation/loss';
import { buildReverseDistillation, ReverseDistillation } from '../../src/main/core/methods/reverse-distillation/model';
import { TEACHER_LAYERS } from '../../src/main/core/methods/reverse-distillation/fit';
import { archArgs, maxAbs, randomFeatures, randomImages, readNpy, relError, relL2, runRdReference, toTorch, writeFeatures, writeImages, type Arr, type LevelData } from './helpers';

const SIZE = 64;
const BATCH = 4;
/** Forward (and everything in eval mode) and gradients. */
const FWD_TOL = 1e-4;
/** The Adam step and the BN running statistics, on identical gradients. */
const OPT_TOL = 1e-5;
/** Mode 'train': the reference trains this many steps itself through the teacher. */
const REF_STEPS = 3;
const TRAIN_IMAGES = 8;
const LOSSES = ['flattened', 'per-pixel'] as const;
const COMBINES = ['add', 'multiply'] as const;
const BORDERS = ['reflect', 'symmetric'] as const;

export interface ParitySuite {
  title: string;
  /** Preset and overrides of the model under test (input side and batch are set here). */
  preset: string;
  overrides: Partial<ReverseDistillationConfig>;
  /** Parameters and state-dict entries the model must have (a check that the architecture is the one meant). */
  expectParameters: number;
  /** Also train with the reference through a torchvision teacher, convert its .pth and evaluate it here. */
  torchTrained: boolean;
  /** Train mode, where torch float32 itself misses 1e-4: ours may be this many times farther from torch float64 than torch float32 is. */
  f32Factor: number;
  timeoutMs: number;
}

const fmt = (v: number): string => v.toExponential(2);

export function rdParitySuite(suite: ParitySuite): void {
  const F32_FACTOR = suite.f32Factor;
  const { config } = resolveRdConfig(suite.preset, { inputSize: SIZE, batchSize: BATCH, seed: 1234, ...suite.overrides });
  const trainFeatures = randomFeatures(config, BATCH, SIZE, 11);
  const testFeatures = randomFeatures(config, BATCH, SIZE, 22);
  let dir = '';
  const figures: string[] = [];

  const tensors = (levels: readonly LevelData[]): tf.Tensor4D[] => levels.map((l) => tf.tensor4d(l.data, l.shape));

  async function compare(what: string, ours: Arr, refPath: string, tol: number): Promise<number> {
    const ref = await readNpy(refPath);
    expect(ours.shape, `${what} shape`).toEqual(ref.shape);
    const err = relError(ours.data, ref.data);
    figures.push(`  ${what}: ${fmt(err)} (max |torch| ${maxAbs(ref.data).toPrecision(3)})`);
    expect.soft(err, `${what}: max |ours − torch| / max |torch|`).toBeLessThanOrEqual(tol);
    return err;
  }

  /**
   * A train-mode quantity. The bar is relative L2 ‖ours − torch32‖ / ‖torch32‖ < 1e-4 (the issue's);
   * where torch float32 is itself farther than that from the exact (float64) answer, as in the
   * WideResNet50-2 widths' gradients (section comment at the top), ours must instead be as close to
   * float64 as torch float32 is, within F32_FACTOR (relative L2 both). Max-abs errors are reported.
   */
  async function compareTrain(what: string, ours: Arr, file: string): Promise<{ vs32: number; vs64: number; floor: number; l2: number; l2vs64: number; l2floor: number }> {
    const [t32, t64] = await Promise.all([readNpy(join(dir, 'step32', file)), readNpy(join(dir, 'step64', file))]);
    expect(ours.shape, `${what} shape`).toEqual(t32.shape);
    const vs32 = relError(ours.data, t32.data);
    const vs64 = relError(ours.data, t64.data);
    const floor = relError(t32.data, t64.data);
    const l2 = relL2(ours.data, t32.data);
    const l2vs64 = relL2(ours.data, t64.data);
    const l2floor = relL2(t32.data, t64.data);
    figures.push(`  ${what}: rel L2 vs torch32 ${fmt(l2)}, vs torch64 ${fmt(l2vs64)}, torch32 vs torch64 ${fmt(l2floor)}; max-abs vs torch32 ${fmt(vs32)}, vs torch64 ${fmt(vs64)}, torch32 vs torch64 ${fmt(floor)}`);
    const ok = l2 < FWD_TOL || l2vs64 <= F32_FACTOR * l2floor;
    expect.soft(ok, `${what}: rel L2 vs torch32 ${fmt(l2)} (bar ${FWD_TOL}); vs torch64 ${fmt(l2vs64)}, torch32's own ${fmt(l2floor)} (bar ×${F32_FACTOR})`).toBe(true);
    return { vs32, vs64, floor, l2, l2vs64, l2floor };
  }

  interface EvalOutputs {
    levels: Arr[];
    raw: Map<string, Arr>;
    maps: Map<string, Arr>;
    scores: Map<string, Arr>;
  }

  /** Eval-mode outputs of `model` on teacher features, in torch's layout, as the predictor computes them. */
  function evaluate(model: ReverseDistillation, teacher: tf.Tensor4D[], size: number): EvalOutputs {
    model.eval();
    const out: EvalOutputs = { levels: [], raw: new Map(), maps: new Map(), scores: new Map() };
    tf.tidy(() => {
      const { student } = model.forward(teacher);
      const levels = levelMaps(teacher, student, size);
      out.levels = levels.map((l) => toTorch(l));
      for (const combine of COMBINES) {
        out.raw.set(combine, toTorch(combineLevels(levels, combine)));
        for (const border of BORDERS) {
          const { maps, scores } = anomalyMaps(teacher, student, size, { mapCombine: combine, sigma: config.sigma, blurBorder: border });
          out.maps.set(`${combine}.${border}`, toTorch(maps));
          out.scores.set(`${combine}.${border}`, toTorch(scores));
        }
      }
    });
    return out;
  }

  async function compareEval(prefix: string, ours: EvalOutputs, refDir: string): Promise<void> {
    for (let i = 0; i < 3; i++) await compare(`${prefix} level ${i + 1} map`, ours.levels[i]!, join(refDir, `eval.layer${i + 1}.npy`), FWD_TOL);
    for (const combine of COMBINES) {
      await compare(`${prefix} ${combine} map (unblurred)`, ours.raw.get(combine)!, join(refDir, `eval.raw.${combine}.npy`), FWD_TOL);
      for (const border of BORDERS) {
        await compare(`${prefix} ${combine} map, σ ${config.sigma} ${border} blur`, ours.maps.get(`${combine}.${border}`)!, join(refDir, `eval.map.${combine}.${border}.npy`), FWD_TOL);
        await compare(`${prefix} ${combine} ${border} image scores (max)`, ours.scores.get(`${combine}.${border}`)!, join(refDir, `eval.score.${combine}.${border}.npy`), FWD_TOL);
      }
    }
  }

  interface StepResults {
    embedding: Arr;
    student: Arr[];
    losses: Record<string, { loss: number; parts: number[] }>;
    grads: Record<string, Map<string, Arr>>;
    after: Map<string, Arr>;
    /** Every parameter's name, and those without a gradient. */
    parameters: string[];
    unused: string[];
    eval: EvalOutputs;
  }
  let step: StepResults | undefined;

  /** One training step as the training loop takes it, with both losses' gradients (two identical models: a train-mode forward moves BN statistics). */
  async function runStep(): Promise<StepResults> {
    const model = buildReverseDistillation(config);
    const twin = buildReverseDistillation(config);
    const optimizer = new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8 });
    const teacher = tensors(trainFeatures);
    const testTeacher = tensors(testFeatures);
    try {
      await writeSafetensors(join(dir, 'init.safetensors'), model.stateDict());
      await mkdir(join(dir, 'feats'), { recursive: true });
      await mkdir(join(dir, 'test-feats'), { recursive: true });
      await writeFeatures(join(dir, 'feats'), trainFeatures);
      await writeFeatures(join(dir, 'test-feats'), testFeatures);
      const common = ['step', '--weights', join(dir, 'init.safetensors'), '--features', join(dir, 'feats'), '--test-features', join(dir, 'test-feats'), '--loss', config.loss, '--lr', String(config.learningRate), '--beta1', String(config.beta1), '--beta2', String(config.beta2), '--sigma', String(config.sigma), ...archArgs(config)];
      const ref64 = runRdReference([...common, '--out', join(dir, 'step64'), '--dtype', 'float64']);
      ref64.catch(() => undefined);

      const results: StepResults = { embedding: { data: new Float32Array(0), shape: [] }, student: [], losses: {}, grads: {}, after: new Map(), parameters: model.namedParameters().map(([n]) => n), unused: [], eval: { levels: [], raw: new Map(), maps: new Map(), scores: new Map() } };
      let stepGrads: tf.NamedTensorMap = {};
      for (const kind of LOSSES) {
        const m = kind === config.loss ? model : twin;
        m.train();
        let parts: number[] = [];
        const { value, grads } = tf.variableGrads(() => {
          const { embedding, student } = m.forward(teacher);
          if (m === model) {
            results.embedding = toTorch(embedding);
            results.student = student.map((s) => toTorch(s));
          }
          const out = rdLoss(teacher, student, kind);
          parts = Object.values(out.parts).map((p) => p.dataSync()[0]!);
          return out.loss;
        }, m.trainableParameters());
        results.losses[kind] = { loss: (await value.data())[0]!, parts };
        const named = new Map<string, Arr>();
        const dirName = join(dir, `ours-grads-${kind}`);
        await mkdir(dirName, { recursive: true });
        for (const [name, v] of m.namedParameters()) {
          const g0 = grads[v.name];
          if (!g0) {
            if (m === model) results.unused.push(name);
            continue;
          }
          const g = m.toTorchLayout(name, g0);
          const a = { data: new Float32Array(g.dataSync() as Float32Array), shape: [...g.shape] };
          g.dispose();
          named.set(name, a);
          await writeFile(join(dirName, `grad.${name}.npy`), encodeNpy(a.data, a.shape));
        }
        results.grads[kind] = named;
        value.dispose();
        if (m === model) stepGrads = grads;
        else tf.dispose(grads);
      }
      const ref32 = runRdReference([...common, '--out', join(dir, 'step32'), '--grads-from', join(dir, `ours-grads-${config.loss}`)]);
      ref32.catch(() => undefined);
      optimizer.step(stepGrads);
      tf.dispose(stepGrads);
      for (const [name, t] of model.stateDict()) {
        results.after.set(name, { data: t.data instanceof BigInt64Array ? Float64Array.from(t.data, (v) => Number(v)) : t.data, shape: t.shape });
      }
      results.eval = evaluate(model, testTeacher, SIZE);
      await Promise.all([ref64, ref32]);
      return results;
    } finally {
      tf.dispose([...teacher, ...testTeacher]);
      optimizer.dispose();
      model.dispose();
      twin.dispose();
    }
  }

  beforeAll(async () => {
    await initBackend('wasm');
    dir = await mkdtemp(join(tmpdir(), 'rd-parity-'));
    step = await runStep();
  }, suite.timeoutMs);

  afterAll(async () => {
    if (figures.length) console.info(`${suite.title}, max |ours − ref| / max |ref| per tensor:\n${figures.join('\n')}`);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe(suite.title, () => {
    it('has the official state dict: names, order and parameter count', async () => {
      const model = new ReverseDistillation(config);
      try {
        const names = [...model.stateDict().keys()];
        expect(model.parameters().reduce((a, p) => a + p.size, 0)).toBe(suite.expectParameters);
        expect(names.every((n) => n.startsWith('bn.') || n.startsWith('decoder.'))).toBe(true);
        expect(names).toContain('decoder.layer1.0.upsample.0.weight');
        expect(names.includes('bn.conv4.weight')).toBe(config.bottleneckConv4);
        // The reference built its modules from the same description and loaded our file strictly; its
        // state dict after the step has exactly our names.
        const theirs = (await readdir(join(dir, 'step32'))).filter((f) => f.startsWith('after.')).map((f) => f.slice('after.'.length, -'.npy'.length));
        expect(theirs.sort()).toEqual([...names].sort());
      } finally {
        model.dispose();
      }
    });

    it('train mode: the bottleneck embedding and the three student maps', async () => {
      await compareTrain('train bottleneck embedding', step!.embedding, 'embedding.npy');
      for (let i = 0; i < 3; i++) await compareTrain(`train student level ${i + 1}`, step!.student[i]!, `student.layer${i + 1}.npy`);
    });

    it('both losses (flattened and per-pixel) and their parts per level', async () => {
      const read = async (d: string) => JSON.parse(await readFile(join(dir, d, 'results.json'), 'utf8')) as { loss: Record<string, number>; parts: Record<string, number[]> };
      const [r32, r64] = await Promise.all([read('step32'), read('step64')]);
      for (const kind of LOSSES) {
        const ours = step!.losses[kind]!;
        const vs32 = Math.abs(ours.loss - r32.loss[kind]!) / Math.abs(r32.loss[kind]!);
        const vs64 = Math.abs(ours.loss - r64.loss[kind]!) / Math.abs(r64.loss[kind]!);
        const floor = Math.abs(r32.loss[kind]! - r64.loss[kind]!) / Math.abs(r64.loss[kind]!);
        figures.push(`  loss ${kind}: ours ${ours.loss.toPrecision(8)}, torch32 ${r32.loss[kind]!.toPrecision(8)}; ours vs torch32 ${fmt(vs32)}, vs torch64 ${fmt(vs64)} (torch32 vs 64 ${fmt(floor)})`);
        expect.soft(vs64, `loss ${kind} vs torch float64`).toBeLessThanOrEqual(Math.max(FWD_TOL, F32_FACTOR * floor));
        ours.parts.forEach((p, i) => expect.soft(Math.abs(p - r64.parts[kind]![i]!), `loss ${kind} level ${i + 1}`).toBeLessThanOrEqual(Math.max(FWD_TOL, F32_FACTOR * Math.abs(r32.parts[kind]![i]! - r64.parts[kind]![i]!)) * Math.abs(r64.parts[kind]![i]!)));
      }
    });

    it('the gradient of every parameter for both losses (tf.variableGrads as the training loop, torch layout by state-dict name)', async () => {
      for (const kind of LOSSES) {
        const grads = step!.grads[kind]!;
        expect(grads.size, `${kind}: parameters with a gradient`).toBe(step!.parameters.length - step!.unused.length);
        let worst32 = 0;
        let worstL2 = 0;
        let worstFloor = 0;
        let worstRatio = 0;
        for (const [name, ours] of grads) {
          const { vs32, l2, l2vs64, l2floor } = await compareTrain(`grad (${kind}) ${name}`, ours, `grad.${kind}.${name}.npy`);
          worst32 = Math.max(worst32, vs32);
          worstL2 = Math.max(worstL2, l2);
          worstFloor = Math.max(worstFloor, l2floor);
          worstRatio = Math.max(worstRatio, l2vs64 / Math.max(l2floor, FWD_TOL / F32_FACTOR));
        }
        figures.push(
          `  gradients (${kind}): ${grads.size} compared, worst rel L2 vs torch32 ${fmt(worstL2)} (bar 1e-4), worst torch32 vs torch64 ${fmt(worstFloor)}, ` +
            `worst rel L2 (ours vs torch64) / max(torch32 vs torch64, ${fmt(FWD_TOL / F32_FACTOR)}) ${worstRatio.toFixed(2)} (bar ${F32_FACTOR}); worst max-abs vs torch32 ${fmt(worst32)}`,
        );
      }
      // RD4AD's conv4/bn4 are never run: no gradient in either framework.
      expect(step!.unused).toEqual(config.bottleneckConv4 ? ['bn.conv4.weight', 'bn.bn4.weight', 'bn.bn4.bias'] : []);
    });

    it(`every parameter and BN buffer after one Adam step (lr ${config.learningRate}, betas ${config.beta1}/${config.beta2}), on identical gradients`, async () => {
      let worst = 0;
      let worstRunning = 0;
      let tracked = 0;
      for (const [name, ours] of step!.after) {
        if (name.endsWith('num_batches_tracked')) {
          const ref = await readNpy(join(dir, 'step32', `after.${name}.npy`));
          expect(ours.data[0], `${name}: exact`).toBe(ref.data[0]);
          // conv4/bn4 never run: their counter stays 0, as torch's.
          expect(ours.data[0], name).toBe(name.startsWith('bn.bn4.') ? 0 : 1);
          tracked++;
          continue;
        }
        // Parameters moved by identical gradients: the optimiser's arithmetic alone. Running statistics
        // come from the train-mode forward's batch statistics: the forward's bar.
        const running = /running_(mean|var)$/.test(name);
        const err = await compare(`after step ${name}`, ours, join(dir, 'step32', `after.${name}.npy`), running ? FWD_TOL : OPT_TOL);
        if (running) worstRunning = Math.max(worstRunning, err);
        else worst = Math.max(worst, err);
      }
      figures.push(`  after the Adam step: parameters worst ${fmt(worst)} (bar ${OPT_TOL}), running statistics worst ${fmt(worstRunning)} (bar ${FWD_TOL}); num_batches_tracked exact (${tracked})`);
    });

    it('eval mode after the step: per-level maps, added and multiplied maps, both blurs, image scores', async () => {
      await compareEval('after one step:', step!.eval, join(dir, 'step32'));
    });

    it('the blur on a known map: σ 4 with the torch-reflect and the scipy edge-repeating borders differ only near the border', () => {
      // A 64×64 ramp: the two borders agree in the interior (≥ 16 px from the edge) and not at it.
      const ramp = tf.tensor3d(Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 64) / 63), [1, 64, 64]);
      const [a, b] = BORDERS.map((border) => gaussianBlurMaps(ramp, 4, border).dataSync());
      const at = (m: Float32Array | Int32Array | Uint8Array, y: number, x: number) => m[y * 64 + x]!;
      expect(Math.abs(at(a!, 32, 32) - at(b!, 32, 32))).toBeLessThan(1e-6);
      expect(Math.abs(at(a!, 32, 0) - at(b!, 32, 0))).toBeGreaterThan(1e-3);
      ramp.dispose();
    });

    if (suite.torchTrained) {
      it(`a checkpoint trained by the reference (${REF_STEPS} steps through a torchvision teacher), saved as RD4AD does and converted to .safetensors, loads and evaluates as the lab's predictor does`, async () => {
        const teacherPath = join(dir, 'teacher.safetensors');
        await writeSafetensors(teacherPath, randomWeights(config.backbone, 77, { randomBatchNorm: true }));
        const init = buildReverseDistillation(config);
        await writeSafetensors(join(dir, 'init-train.safetensors'), init.stateDict());
        init.dispose();
        const trainImages = randomImages(TRAIN_IMAGES, SIZE, 31);
        const testImages = randomImages(BATCH, SIZE, 32);
        await writeImages(join(dir, 'train.npy'), trainImages, TRAIN_IMAGES, SIZE);
        await writeImages(join(dir, 'test.npy'), testImages, BATCH, SIZE);
        const pth = join(dir, 'official.pth');
        const converted = join(dir, 'official.safetensors');
        await runRdReference(['train', '--weights', join(dir, 'init-train.safetensors'), '--teacher', teacherPath, '--images', join(dir, 'train.npy'), '--test-images', join(dir, 'test.npy'), '--steps', String(REF_STEPS), '--batch-size', String(BATCH), '--save', pth, '--out', join(dir, 'trained'), '--loss', config.loss, ...archArgs(config)]);
        await runRdReference(['convert', '--checkpoint', pth, '--save', converted]);
        const { tensors, header } = await loadSafetensors(converted);
        expect(header.metadata['method']).toBe('reverse_distillation');
        // A model with other weights, so everything it ends up with comes from the file.
        const model = new ReverseDistillation(config).initialize(config.seed + 1);
        const teacher = await FeatureExtractor.create(config.backbone, TEACHER_LAYERS, teacherPath);
        const x = tf.tensor4d(testImages, [BATCH, SIZE, SIZE, 3]);
        try {
          expect(model.loadStateDict(tensors, { source: converted })).toEqual({ missingKeys: [], unexpectedKeys: [] });
          for (const [name, t] of model.stateDict()) {
            if (name.endsWith('num_batches_tracked')) expect(Number((t.data as BigInt64Array)[0]), name).toBe(name.startsWith('bn.bn4.') ? 0 : REF_STEPS);
          }
          const feats = teacher.extract(x);
          const levels = TEACHER_LAYERS.map((l) => feats[l]!);
          try {
            await compareEval(`torch-trained (${REF_STEPS} steps), through the teacher:`, evaluate(model, levels, SIZE), join(dir, 'trained'));
          } finally {
            tf.dispose(levels);
          }
        } finally {
          x.dispose();
          teacher.dispose();
          model.dispose();
        }
      }, suite.timeoutMs);
    }
  });
}
