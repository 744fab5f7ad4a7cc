/**
 * UniAD on the method seam: the frozen EfficientNet-b4 and MFCN neck (features.ts) supply
 * feature_align, through the workspace's frozen-feature cache when there is one; the reconstruction
 * (model.ts) trains on it with feature jittering, dropout, the feature MSE (loss.ts), AdamW with
 * decoupled weight decay, clipping by global norm and a step schedule, through the shared training
 * loop (harness/trained-method.ts); the predictor maps test images to UniAD's map and score
 * (anomaly-map.ts). A unified run gives it the training images of every scenario of the run.
 * Loaded only in the job process and by tests.
 */
import { buildWithWeights, methodWeightsHeader } from '../components/method-weights';
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { mulberry32, normalArray, seedFor } from '../../engine/random';
import { AdamW, stepLR } from '../../engine/optim/index';
import type { ExtractionCounts } from '../components/feature-extractor';
import type { FitRequest } from '../method';
import type { StepInfo } from '../harness/train-loop';
import { trainedMethod, type MethodInputs } from '../harness/trained-method';
import { anomalyMaps } from './anomaly-map';
import { uniadCost, type UniadConfig } from './config';
import { UniadFeatures } from './features';
import { featureMseLoss } from './loss';
import { buildUniad, type Uniad } from './model';

const ARCH_KEYS = ['inputSize', 'hiddenDim', 'heads', 'encoderLayers', 'decoderLayers', 'feedforward'] as const;

function describe(a: Pick<UniadConfig, (typeof ARCH_KEYS)[number]>): string {
  return `${a.encoderLayers} + ${a.decoderLayers} layers, hidden ${a.hiddenDim}, ${a.heads} heads, FFN ${a.feedforward}, ${a.inputSize / 16}×${a.inputSize / 16} tokens`;
}

/**
 * Refuses `config.modelWeights` when it is not a UniAD reconstruction of this run's size, saying what
 * the file holds. Reads the header only, before the backbone and the model are built.
 */
export async function checkModelWeights(config: UniadConfig): Promise<void> {
  const path = config.modelWeights;
  const header = await methodWeightsHeader('modelWeights', path, 'UniAD reconstruction', ['input_proj', 'transformer.decoder']);
  const t = header.tensors;
  const count = (prefix: string) => new Set([...t.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split('.')[0])).size;
  const hidden = t.get('input_proj.weight')!.shape[0]!;
  const found = {
    hiddenDim: hidden,
    inputSize: (t.get('pos_embed.row_embed.weight')?.shape[0] ?? 0) * 16,
    encoderLayers: count('transformer.encoder.layers.'),
    decoderLayers: count('transformer.decoder.layers.'),
    feedforward: t.get('transformer.decoder.layers.0.linear1.weight')?.shape[0] ?? 0,
    heads: config.heads,
  };
  const keys = ARCH_KEYS.filter((k) => found[k] !== config[k]);
  if (keys.length === 0) return;
  const saved = header.metadata['preset'] ? ` (saved by a ${header.metadata['preset']} run)` : '';
  throw new LabError(`modelWeights ${path} holds a UniAD of ${describe(found)}${saved}, but this run (preset ${config.preset}) builds ${describe(config)}: set ${keys.map((k) => `${k}=${found[k]}`).join(', ')}`, 'ValidationError');
}

/** The model of a config: seeded, then loaded from modelWeights when it names some (strictly). */
export function buildModel(config: UniadConfig): Uniad {
  return buildWithWeights(() => buildUniad(config), config.modelWeights);
}

/**
 * feature_align of the training images (the batch source) and of test images. With a cache,
 * features come from it; without one the backbone runs on every batch.
 */
export async function uniadInputs(config: UniadConfig, request: FitRequest<UniadConfig>): Promise<MethodInputs<tf.Tensor4D>> {
  if (config.modelWeights) await checkModelWeights(config);
  const features = await UniadFeatures.create(config.backbone, request.weights, config.seed);
  const cache = request.featureCache;
  const paths = request.trainPaths;
  const counts: { train: ExtractionCounts; test: ExtractionCounts } = { train: { hits: 0, misses: 0 }, test: { hits: 0, misses: 0 } };
  return {
    train: {
      length: paths.length,
      bytes: 0,
      batch: (indices) =>
        features.files(
          indices.map((i) => paths[i]!),
          config.inputSize,
          cache,
          counts.train,
        ),
    },
    test: (files) => features.files(files, config.inputSize, cache, counts.test),
    cacheCounts: () => (cache ? counts : null),
    dispose: () => features.dispose(),
  };
}

/** The step's standard-normal jitter noise of `shape` [b, h, w, C], seeded from the step. */
export function jitterNoise(shape: readonly number[], stepSeed: number): tf.Tensor4D {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor4d(normalArray(n, seedFor(stepSeed, 'jitter-noise')), shape as [number, number, number, number]);
}

/**
 * One training step's loss: dropout masks reseeded from the step (a resumed run draws what an
 * uninterrupted one draws), jitter with probability jitterProb and noise, both from the step's seed.
 */
export function uniadTrainLoss(model: Uniad, align: tf.Tensor4D, step: Pick<StepInfo, 'seed'>, config: Pick<UniadConfig, 'jitterScale' | 'jitterProb'>): tf.Scalar {
  model.rng.setState({ seed: step.seed, draws: 0 });
  // The official add_jitter: `if random.uniform(0, 1) <= prob`.
  const jitter = config.jitterScale > 0 && mulberry32(seedFor(step.seed, 'jitter-prob'))() <= config.jitterProb;
  const rec = model.forward(align, jitter ? { jitterNoise: jitterNoise(align.shape, step.seed), jitterScale: config.jitterScale } : {});
  return featureMseLoss(rec, align);
}

export const uniadImplementation = trainedMethod<UniadConfig, Uniad, tf.Tensor4D>({
  name: 'uniad',
  inputs: uniadInputs,
  build: buildModel,
  // tools/train_val.py: AdamW over the non-frozen (reconstruction) parameters, torch's eps 1e-8.
  optimizer: (config, model) => new AdamW(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8, weightDecay: config.weightDecay }),
  // StepLR stepped per epoch as `scheduler.step(epoch)` (train_val.py): the closed form.
  learningRate: (config, epoch) => [stepLR(config.lrStepEpochs, config.lrGamma, { closedForm: true })(config.learningRate, epoch)],
  clipGradNorm: (config) => config.clipMaxNorm,
  loss: (model, align, step, config) => ({ loss: uniadTrainLoss(model, align, step, config) }),
  predict(model, align, config) {
    const rec = model.forward(align);
    const { maps, scores } = anomalyMaps(rec, align, config.scorePool);
    return { maps, scores };
  },
  mapMeta: (config) => ({
    backbone: config.backbone,
    hiddenDim: config.hiddenDim,
    layers: [config.encoderLayers, config.decoderLayers],
    neighborSize: config.neighborSize,
    scorePool: config.scorePool,
  }),
  cost: uniadCost,
});
