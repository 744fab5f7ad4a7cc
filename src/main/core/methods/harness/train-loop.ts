/**
 * The training loop every trained method runs (DESIGN section 2a; issue 13 item 4), written once:
 *
 * - seeded data order: epoch e visits the training images in a permutation drawn from
 *   seedFor(seed, `epoch-${e}`), and every per-step random draw (augmentation, dropout) is seeded
 *   from the global step, so a run's randomness is a pure function of (seed, position): nothing
 *   but the position has to be checkpointed for a resumed run to draw what an uninterrupted one
 *   draws;
 * - epochs × batches, each step's math inside `tf.variableGrads` (a tidy scope), gradients and the
 *   loss disposed after the optimiser step; the learning rate is set per epoch from the method's
 *   schedule;
 * - progress with the loss, images/s and ETA; the loss series (and its parts) stored with the run
 *   and charted live; the epoch's mean loss as a series of its own (at the epoch's last step);
 * - checkpoints (weights with buffers, optimiser state, position, the epoch's running loss) every
 *   few minutes or steps, and when the run is cancelled; a resumed run continues from the exact
 *   batch and ends with the same weights as an uninterrupted one on the same backend;
 * - a NaN or infinite loss stops the run with an error that names the step;
 * - no early stopping and no checkpoint choice: the weights after the last epoch are the model
 *   (METHODS.md section 7: no test data ever picks an epoch).
 *
 * The method supplies the model, its loss and its optimiser through `TrainSpec`; the loop knows
 * nothing of any method.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { LabError } from '../../../../shared/errors';
import { mulberry32, seedFor } from '../../engine/random';
import { decodeSafetensors, encodeSafetensors, type DecodedTensor } from '../../engine/safetensors';
import type { Module } from '../../engine/nn/index';
import { clipGradNorm, type Optimizer, type OptimizerState } from '../../engine/optim/index';
import type { CheckpointData, JobContext } from '../../jobs/kinds';
import { abortError } from '../components/coreset';
import type { ProgressFn } from '../method';
import type { BatchSource } from './image-source';

/** The checkpoint format this loop writes and reads; bumped when its meaning changes. */
export const TRAIN_CHECKPOINT_FORMAT = 'miad-train/1';

/** Where a step is: passed to the method's loss so its randomness can be seeded from it. */
export interface StepInfo {
  epoch: number;
  /** Steps done before this one, over the whole run. */
  globalStep: number;
  /** A seed for this step's random draws (augmentation, dropout, noise): seedFor(seed, step). */
  seed: number;
}

export interface LossOutput {
  /** The scalar the gradients are taken of. */
  loss: tf.Scalar;
  /** Its named parts (e.g. DRAEM's l2, ssim and focal terms), stored as series `loss/<name>`. */
  parts?: Record<string, tf.Scalar>;
}

// Optimisers of every hyperparameter type go through the loop alike: it only steps them, sets their
// learning rates and saves their state.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOptimizer = Optimizer<any>;

/**
 * What the loop trains. `X` is what one step's loss takes: by default a batch of images
 * [batch, size, size, 3] in [0, 1]; a method with its own inputs (trained-method.ts `inputs`) gives
 * another tensor container (RD: the teacher's three feature maps).
 */
export interface TrainSpec<M extends Module, X extends tf.TensorContainer = tf.Tensor4D> {
  /** The method's name, written into checkpoints (a checkpoint of another method is refused). */
  method: string;
  /** Digest of the settings that shape the model and its training; a checkpoint with another is refused. */
  configDigest: string;
  model: M;
  optimizer: AnyOptimizer;
  images: BatchSource<X>;
  epochs: number;
  batchSize: number;
  seed: number;
  /** The learning rate of each parameter group for an epoch (the schedule); absent: the optimiser's own, constant. */
  learningRate?: (epoch: number) => number[];
  /**
   * Clip the gradients by their global L2 norm before each optimiser step (torch's
   * clip_grad_norm_, engine/optim/clip.ts; UniAD: 0.1); absent or 0: no clipping. The norm before
   * clipping is stored as the series `grad_norm`.
   */
  clipGradNorm?: number;
  /**
   * One step's loss, in train mode. Runs inside tf.variableGrads; every tensor it makes but does not
   * return is freed by that scope.
   * @param images one batch of `images` (by default [batch, size, size, 3] in [0, 1]); the loop disposes it
   */
  loss(model: M, images: X, step: StepInfo): LossOutput;
  /** Checkpoint every this many seconds of training (and on cancel). */
  checkpointSeconds: number;
  /** Also checkpoint every this many steps (0: only by time); tests use it to checkpoint at known steps. */
  checkpointSteps: number;
}

export interface TrainContext {
  progress: ProgressFn;
  signal?: AbortSignal | undefined;
  /** Checkpoints, resume and series: absent in direct calls (tests), which then train straight through. */
  job?: JobContext | undefined;
}

export interface TrainResult {
  epochs: number;
  steps: number;
  /** Loss of the last step, and the mean of the last epoch's steps. */
  finalLoss: number;
  lastEpochLoss: number;
  /** The step the run resumed from (0 for a fresh start). */
  resumedFromStep: number;
  /** Images stepped through by this process, and the seconds it spent training. */
  images: number;
  seconds: number;
  /** Tensors alive after the first step against after the last: equal unless something leaks. */
  tensors: { afterFirstStep: number; atEnd: number };
}

/** sha256 of a config's JSON with keys sorted, without the keys that only steer the run (not the model). */
export function configDigest(config: Record<string, unknown>, runControlKeys: readonly string[]): string {
  const keys = Object.keys(config)
    .filter((k) => !runControlKeys.includes(k))
    .sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, config[k]])))
    .digest('hex')
    .slice(0, 16);
}

/** The visiting order of epoch `epoch`: a seeded permutation of 0..n-1. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seedFor(seed, `epoch-${epoch}`));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

interface LoopState {
  format: string;
  method: string;
  configDigest: string;
  /** The next step to run: epoch and batch within it. */
  epoch: number;
  batch: number;
  globalStep: number;
  epochLossSum: number;
  epochLossCount: number;
  lastLoss: number;
  optimizer: unknown;
}

async function saveCheckpoint<M extends Module, X extends tf.TensorContainer>(spec: TrainSpec<M, X>, job: JobContext, state: Omit<LoopState, 'format' | 'method' | 'configDigest' | 'optimizer'>): Promise<void> {
  const { tensors, ...meta } = spec.optimizer.state();
  const data: CheckpointData = {
    step: state.globalStep,
    state: { format: TRAIN_CHECKPOINT_FORMAT, method: spec.method, configDigest: spec.configDigest, ...state, optimizer: meta } satisfies LoopState,
    blobs: {
      'model.safetensors': encodeSafetensors(spec.model.stateDict(), { method: spec.method, format: TRAIN_CHECKPOINT_FORMAT }),
      'optimizer.safetensors': encodeSafetensors(
        new Map([...tensors].map(([name, t]) => [name, { dtype: 'F32' as const, shape: t.shape, data: t.data }])),
        { method: spec.method, format: TRAIN_CHECKPOINT_FORMAT },
      ),
    },
  };
  await job.checkpoint(data);
}

function refuse(message: string): LabError {
  return new LabError(`cannot resume: ${message}`, 'ValidationError');
}

/** Loads a checkpoint into the model and optimiser; returns the position to continue from. */
function restore<M extends Module, X extends tf.TensorContainer>(spec: TrainSpec<M, X>, checkpoint: CheckpointData): LoopState {
  const s = checkpoint.state as Partial<LoopState> | null;
  if (!s || s.format !== TRAIN_CHECKPOINT_FORMAT) throw refuse(`its checkpoint is not a training checkpoint of this version (format ${JSON.stringify(s?.format ?? null)}, expected ${TRAIN_CHECKPOINT_FORMAT})`);
  if (s.method !== spec.method) throw refuse(`its checkpoint was written by method ${JSON.stringify(s.method)}, this run trains ${spec.method}`);
  if (s.configDigest !== spec.configDigest) throw refuse(`its checkpoint was written with another configuration (digest ${s.configDigest}, this run's ${spec.configDigest})`);
  const blob = (name: string): Map<string, DecodedTensor> => {
    const bytes = checkpoint.blobs?.[name];
    if (!bytes) throw refuse(`its checkpoint has no ${name}`);
    return decodeSafetensors(bytes, `checkpoint ${name}`).tensors;
  };
  const model = blob('model.safetensors');
  const moments = blob('optimizer.safetensors');
  const meta = s.optimizer as Omit<OptimizerState, 'tensors'> | null | undefined;
  if (!meta || typeof meta !== 'object') throw refuse('its checkpoint has no optimiser state');
  const tensors = new Map([...moments].map(([name, t]) => [name, { shape: t.shape, data: t.data as Float32Array }]));
  spec.model.loadStateDict(model, { strict: true, source: 'checkpoint model.safetensors' });
  spec.optimizer.loadState({ ...meta, tensors }, 'checkpoint optimizer.safetensors');
  return s as LoopState;
}

/**
 * Trains `spec.model` in place.
 * @returns facts of the training; the model is left in eval mode
 */
export async function trainLoop<M extends Module, X extends tf.TensorContainer = tf.Tensor4D>(spec: TrainSpec<M, X>, ctx: TrainContext): Promise<TrainResult> {
  const n = spec.images.length;
  if (n === 0) throw new LabError(`${spec.method}: no training images`, 'ValidationError');
  const perEpoch = Math.ceil(n / spec.batchSize);
  const totalSteps = perEpoch * spec.epochs;
  const trainables = spec.optimizer.variables();
  const job = ctx.job;

  let position: LoopState = {
    format: TRAIN_CHECKPOINT_FORMAT,
    method: spec.method,
    configDigest: spec.configDigest,
    epoch: 0,
    batch: 0,
    globalStep: 0,
    epochLossSum: 0,
    epochLossCount: 0,
    lastLoss: Number.NaN,
    optimizer: null,
  };
  const checkpoint = job ? await job.resumeState() : null;
  if (checkpoint) position = restore(spec, checkpoint);
  const resumedFromStep = position.globalStep;

  spec.model.train();
  const started = performance.now();
  let lastCheckpoint = started;
  let images = 0;
  let afterFirstStep = -1;
  const save = async () => {
    if (!job) return;
    const { epoch, batch, globalStep, epochLossSum, epochLossCount, lastLoss } = position;
    await saveCheckpoint(spec, job, { epoch, batch, globalStep, epochLossSum, epochLossCount, lastLoss });
    lastCheckpoint = performance.now();
  };

  let lastEpochLoss = Number.NaN;
  ctx.progress('training', position.globalStep, totalSteps);
  while (position.epoch < spec.epochs) {
    const epoch = position.epoch;
    if (spec.learningRate) spec.learningRate(epoch).forEach((lr, group) => spec.optimizer.setLr(lr, group));
    const order = epochOrder(n, spec.seed, epoch);
    while (position.batch < perEpoch) {
      // A step whose images are cached awaits only promises that resolve at once (microtasks), so
      // without this the event loop would never turn during training: progress messages would sit
      // unsent and a cancel request unread until the last epoch.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (ctx.signal?.aborted) {
        // The work since the last checkpoint is kept: a cancelled run resumes from here.
        await save();
        throw abortError(ctx.signal);
      }
      const indices = order.slice(position.batch * spec.batchSize, (position.batch + 1) * spec.batchSize);
      const x = await spec.images.batch(indices);
      const step: StepInfo = { epoch, globalStep: position.globalStep, seed: seedFor(spec.seed, `step-${position.globalStep}`) };
      let parts: Record<string, tf.Scalar> = {};
      let loss: number;
      try {
        const { value, grads } = tf.variableGrads(() => {
          const out = spec.loss(spec.model, x, step);
          parts = out.parts ? Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, tf.keep(v)])) : {};
          return out.loss;
        }, trainables);
        try {
          loss = (await value.data())[0]!;
          if (!Number.isFinite(loss)) {
            throw new LabError(
              `training diverged: the loss is ${loss} at step ${position.globalStep + 1} of ${totalSteps} (epoch ${epoch + 1}, batch ${position.batch + 1}); ` +
                'the run stops here. Lower the learning rate, or check the training images.',
            );
          }
          if (spec.clipGradNorm) {
            const norm = clipGradNorm(grads, spec.clipGradNorm);
            job?.series('grad_norm', position.globalStep + 1, norm);
          }
          spec.optimizer.step(grads);
        } finally {
          value.dispose();
          tf.dispose(grads);
        }
      } catch (error) {
        tf.dispose(Object.values(parts));
        throw error;
      } finally {
        tf.dispose(x);
      }
      const partValues: [string, number][] = [];
      for (const [name, t] of Object.entries(parts)) {
        partValues.push([name, (await t.data())[0]!]);
        t.dispose();
      }
      images += indices.length;
      position = {
        ...position,
        batch: position.batch + 1,
        globalStep: position.globalStep + 1,
        epochLossSum: position.epochLossSum + loss,
        epochLossCount: position.epochLossCount + 1,
        lastLoss: loss,
      };
      if (afterFirstStep < 0) afterFirstStep = tf.memory().numTensors;
      job?.series('loss', position.globalStep, loss);
      for (const [name, v] of partValues) if (Number.isFinite(v)) job?.series(`loss/${name}`, position.globalStep, v);
      ctx.progress('training', position.globalStep, totalSteps, { loss, images });
      const byTime = performance.now() - lastCheckpoint >= spec.checkpointSeconds * 1000;
      const bySteps = spec.checkpointSteps > 0 && position.globalStep % spec.checkpointSteps === 0;
      const last = position.globalStep === totalSteps;
      if ((byTime || bySteps) && !last) await save();
    }
    lastEpochLoss = position.epochLossSum / Math.max(1, position.epochLossCount);
    // Plotted on the step axis beside the per-step loss: the point sits at the epoch's last step.
    job?.series('epoch_loss', position.globalStep, lastEpochLoss);
    position = { ...position, epoch: epoch + 1, batch: 0, epochLossSum: 0, epochLossCount: 0 };
  }
  spec.model.eval();
  return {
    epochs: spec.epochs,
    steps: position.globalStep,
    finalLoss: position.lastLoss,
    lastEpochLoss,
    resumedFromStep,
    images,
    seconds: (performance.now() - started) / 1000,
    tensors: { afterFirstStep, atEnd: tf.memory().numTensors },
  };
}
