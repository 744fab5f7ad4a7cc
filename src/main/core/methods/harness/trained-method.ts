/**
 * A trained method on the seam (method.ts) from what is its own: the model, its loss, its
 * optimiser and schedule, and its map and score rule. Training goes through the one training loop
 * (train-loop.ts); the final weights are saved as `model.safetensors` in the run folder with the
 * reference implementation's parameter names, so they load in PyTorch (and a PyTorch checkpoint
 * converted to .safetensors loads here); the predictor runs the model in eval mode on test images.
 *
 * By default a step's input is a batch of training images and the predictor's a batch of test
 * images. A method that learns from something made of them (RD's student learns the frozen
 * teacher's features, which go through the feature cache) supplies `inputs`: its own batch source
 * for training and its own test batches; the loop, checkpoints and predictor are the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { writeSafetensors } from '../../engine/safetensors';
import type { Module } from '../../engine/nn/index';
import { loadImageRgb } from '../components/images';
import type { ExtractionCounts } from '../components/feature-extractor';
import type { FitRequest, FittedMethod, MethodConfigBase, MethodImplementation, Prediction, Predictor, TrainingCost } from '../method';
import { TrainingImages, type BatchSource } from './image-source';
import { configDigest, trainLoop, type AnyOptimizer, type LossOutput, type StepInfo } from './train-loop';

/** The settings every trained method's config has beside the base ones. */
export interface TrainedConfigBase extends MethodConfigBase {
  epochs: number;
  /** Checkpoint every this many minutes of training (and on cancel). */
  checkpointMinutes: number;
  /** Also every this many steps; 0: by time only. */
  checkpointSteps: number;
}

/** Keys that steer a run but not what it learns: they may differ between a checkpoint and its resume. */
export const RUN_CONTROL_KEYS = ['checkpointMinutes', 'checkpointSteps', 'evalResolution'] as const;

// A type, not an interface, so tf.tidy accepts it as a TensorContainer.
export type PredictOutput = {
  /** [batch, size, size] */
  maps: tf.Tensor3D;
  /** [batch] */
  scores: tf.Tensor1D;
  /** Images for the run page, [batch, size, size, 3] in [0, 1]. */
  extras?: Record<string, tf.Tensor4D>;
};

/** A method's own inputs (TrainedMethodSpec.inputs): what its loss and its predictor take instead of images. */
export interface MethodInputs<X extends tf.TensorContainer> {
  /** The training inputs, one per training image, in `request.trainPaths` order. */
  train: BatchSource<X>;
  /** The inputs of a batch of test images (image files); the caller disposes them. */
  test(paths: readonly string[]): Promise<X>;
  /** Frozen-feature cache hits and misses (images) of training and of scoring so far; null when no cache is used. */
  cacheCounts(): { train: ExtractionCounts; test: ExtractionCounts } | null;
  /** Frees what the inputs hold (a frozen teacher); called when the fitted method is disposed. */
  dispose(): void;
}

/** The default input: images [batch, size, size, 3] in [0, 1]. */
function imageInputs(paths: readonly string[], size: number): MethodInputs<tf.Tensor4D> {
  return {
    train: new TrainingImages(paths, size),
    async test(testPaths) {
      const plane = size * size * 3;
      const pixels = new Float32Array(testPaths.length * plane);
      for (let i = 0; i < testPaths.length; i++) pixels.set(await loadImageRgb(testPaths[i]!, size), i * plane);
      return tf.tensor4d(pixels, [testPaths.length, size, size, 3]);
    },
    cacheCounts: () => null,
    dispose: () => undefined,
  };
}

export interface TrainedMethodSpec<C extends TrainedConfigBase, M extends Module, X extends tf.TensorContainer = tf.Tensor4D> {
  name: string;
  /**
   * The method's own training and test inputs, made from the request's images (and its backbone
   * weights and feature cache). Absent: the images themselves, [batch, size, size, 3] in [0, 1];
   * a spec whose X is not a Tensor4D must supply it.
   */
  inputs?(config: C, request: FitRequest<C>): Promise<MethodInputs<X>>;
  /** The model with its seeded initial weights. */
  build(config: C): M;
  optimizer(config: C, model: M): AnyOptimizer;
  /** The learning rate of each parameter group for an epoch (the schedule); absent: constant. */
  learningRate?(config: C, epoch: number): number[];
  /** Max global L2 norm of the gradients of each step (train-loop.ts `clipGradNorm`); absent or 0: no clipping. */
  clipGradNorm?(config: C): number;
  /** One step's loss (train mode) on one batch of inputs (images [batch, size, size, 3] in [0, 1] by default). */
  loss(model: M, inputs: X, step: StepInfo, config: C): LossOutput;
  /** Eval-mode maps, scores (the method's own rule) and extras of a batch of test inputs, inside a tidy scope. */
  predict(model: M, inputs: X, config: C): PredictOutput;
  /** Written into the map pack's header. */
  mapMeta(config: C): Record<string, unknown>;
  cost(config: C): TrainingCost;
}

function countParameters(model: Module): number {
  return model.parameters().reduce((a, p) => a + p.size, 0);
}

export function trainedMethod<C extends TrainedConfigBase, M extends Module, X extends tf.TensorContainer = tf.Tensor4D>(spec: TrainedMethodSpec<C, M, X>): MethodImplementation<C> {
  return {
    async fit(request: FitRequest<C>): Promise<FittedMethod> {
      const { config } = request;
      const t0 = performance.now();
      request.progress('building model', 0, 1);
      // Inputs first: a bad weights file of a frozen part is refused before the model is built.
      // Without an `inputs` hook X is the default Tensor4D (the spec's type says so).
      const inputs = spec.inputs ? await spec.inputs(config, request) : (imageInputs(request.trainPaths, config.inputSize) as unknown as MethodInputs<X>);
      let model: M | null = null;
      let optimizer: AnyOptimizer | null = null;
      try {
        model = spec.build(config);
        optimizer = spec.optimizer(config, model);
        const images = inputs.train;
        const buildSeconds = (performance.now() - t0) / 1000;
        const trained = await trainLoop<M, X>(
          {
            method: spec.name,
            configDigest: configDigest(config as unknown as Record<string, unknown>, RUN_CONTROL_KEYS),
            model,
            optimizer,
            images,
            epochs: config.epochs,
            batchSize: config.batchSize,
            seed: config.seed,
            ...(spec.learningRate ? { learningRate: (epoch: number) => spec.learningRate!(config, epoch) } : {}),
            ...(spec.clipGradNorm ? { clipGradNorm: spec.clipGradNorm(config) } : {}),
            loss: (m, x, step) => spec.loss(m, x, step, config),
            checkpointSeconds: config.checkpointMinutes * 60,
            checkpointSteps: config.checkpointSteps,
          },
          { progress: request.progress, signal: request.signal, job: request.job },
        );
        optimizer.dispose();
        optimizer = null;
        const modelFile = 'model.safetensors';
        await writeSafetensors(join(request.outDir, modelFile), model.stateDict(), { method: spec.name, preset: config.preset, steps: String(trained.steps) });
        const cost = spec.cost(config);
        const imagesPerSec = trained.seconds > 0 ? trained.images / trained.seconds : 0;
        const size = config.inputSize;
        const trainedModel = model;
        const trainCache = inputs.cacheCounts()?.train ?? null;
        const trainCacheCounts = trainCache ? { ...trainCache } : null;
        const predictor: Predictor = {
          mapSize: size,
          batchSize: config.batchSize,
          mapMeta: { preset: config.preset, inputSize: size, ...spec.mapMeta(config) },
          async predict(paths): Promise<Prediction> {
            const x = await inputs.test(paths);
            let out: PredictOutput;
            try {
              out = tf.tidy(() => spec.predict(trainedModel, x, config));
            } finally {
              tf.dispose(x);
            }
            try {
              const extras: Record<string, Float32Array> = {};
              for (const [name, t] of Object.entries(out.extras ?? {})) extras[name] = (await t.data()) as Float32Array;
              return { maps: (await out.maps.data()) as Float32Array, scores: Float64Array.from(await out.scores.data()), ...(out.extras ? { extras } : {}) };
            } finally {
              tf.dispose([out.maps, out.scores, ...Object.values(out.extras ?? {})]);
            }
          },
          dispose: () => undefined,
        };
        return {
          predictor,
          train: {
            epochs: trained.epochs,
            steps: trained.steps,
            batchSize: config.batchSize,
            finalLoss: trained.finalLoss,
            lastEpochLoss: trained.lastEpochLoss,
            resumedFromStep: trained.resumedFromStep,
            parameters: countParameters(model),
            imagesPerSec,
            gflopPerImage: cost.gflopPerImage,
            /** Effective training speed of this backend: what the cost estimate of the next run divides by. */
            trainGflops: imagesPerSec * cost.gflopPerImage,
            imageCacheBytes: images.bytes,
            tensors: trained.tensors,
            modelFile,
          },
          timings: { build: buildSeconds, train: trained.seconds },
          featureCache: trainCacheCounts,
          // The live counts: scoring adds to them after fit returns.
          testFeatureCache: inputs.cacheCounts()?.test ?? null,
          warnings:
            // afterFirstStep is -1 when no step ran (0 epochs: the given weights are only evaluated).
            trained.tensors.afterFirstStep >= 0 && trained.tensors.atEnd > trained.tensors.afterFirstStep
              ? [`tensors grew from ${trained.tensors.afterFirstStep} after the first step to ${trained.tensors.atEnd} at the end of training: a leak`]
              : [],
          dispose: () => {
            trainedModel.dispose();
            inputs.dispose();
          },
        };
      } catch (error) {
        optimizer?.dispose();
        model?.dispose();
        inputs.dispose();
        throw error;
      }
    },
  };
}
