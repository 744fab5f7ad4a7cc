/**
 * A trained method on the seam (method.ts) from what is its own: the model, its loss, its
 * optimiser and schedule, and its map and score rule. Training goes through the one training loop
 * (train-loop.ts); the final weights are saved as `model.safetensors` in the run folder with the
 * reference implementation's parameter names, so they load in PyTorch (and a PyTorch checkpoint
 * converted to .safetensors loads here); the predictor runs the model in eval mode on test images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { writeSafetensors } from '../../engine/safetensors';
import type { Module } from '../../engine/nn/index';
import { loadImageRgb } from '../components/images';
import type { FitRequest, FittedMethod, MethodConfigBase, MethodImplementation, Prediction, Predictor, TrainingCost } from '../method';
import { TrainingImages } from './image-source';
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

export interface TrainedMethodSpec<C extends TrainedConfigBase, M extends Module> {
  name: string;
  /** The model with its seeded initial weights. */
  build(config: C): M;
  optimizer(config: C, model: M): AnyOptimizer;
  /** The learning rate of each parameter group for an epoch (the schedule); absent: constant. */
  learningRate?(config: C, epoch: number): number[];
  /** One step's loss (train mode), images [batch, size, size, 3] in [0, 1]. */
  loss(model: M, images: tf.Tensor4D, step: StepInfo, config: C): LossOutput;
  /** Eval-mode maps, scores (the method's own rule) and extras, inside a tidy scope. */
  predict(model: M, images: tf.Tensor4D, config: C): PredictOutput;
  /** Written into the map pack's header. */
  mapMeta(config: C): Record<string, unknown>;
  cost(config: C): TrainingCost;
}

function countParameters(model: Module): number {
  return model.parameters().reduce((a, p) => a + p.size, 0);
}

export function trainedMethod<C extends TrainedConfigBase, M extends Module>(spec: TrainedMethodSpec<C, M>): MethodImplementation<C> {
  return {
    async fit(request: FitRequest<C>): Promise<FittedMethod> {
      const { config } = request;
      const t0 = performance.now();
      request.progress('building model', 0, 1);
      const model = spec.build(config);
      let optimizer: AnyOptimizer | null = null;
      try {
        optimizer = spec.optimizer(config, model);
        const images = new TrainingImages(request.trainPaths, config.inputSize);
        const buildSeconds = (performance.now() - t0) / 1000;
        const trained = await trainLoop(
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
        const predictor: Predictor = {
          mapSize: size,
          batchSize: config.batchSize,
          mapMeta: { preset: config.preset, inputSize: size, ...spec.mapMeta(config) },
          async predict(paths): Promise<Prediction> {
            const plane = size * size * 3;
            const pixels = new Float32Array(paths.length * plane);
            for (let i = 0; i < paths.length; i++) pixels.set(await loadImageRgb(paths[i]!, size), i * plane);
            const out = tf.tidy(() => spec.predict(model, tf.tensor4d(pixels, [paths.length, size, size, 3]), config));
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
          warnings:
            trained.tensors.atEnd > trained.tensors.afterFirstStep
              ? [`tensors grew from ${trained.tensors.afterFirstStep} after the first step to ${trained.tensors.atEnd} at the end of training: a leak`]
              : [],
          dispose: () => model.dispose(),
        };
      } catch (error) {
        optimizer?.dispose();
        model.dispose();
        throw error;
      }
    },
  };
}
