/**
 * The training loop on its own (methods/harness/train-loop.ts), with a tiny real model on the wasm
 * backend: seeded data order, no tensor growth over 100 steps, a NaN loss stopping the run with the
 * step named, checkpoints refused when they come from another method or configuration, and a run
 * resumed from a checkpoint ending bit-identical to an uninterrupted one. The job-level path (real
 * processes, SIGKILL, runs:resume) is tests/training/resume.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/main/core/engine/backends';
import { BatchNorm2d, Conv2d, Module, ReLU, Sequential } from '../../src/main/core/engine/nn/index';
import { Adam } from '../../src/main/core/engine/optim/index';
import { encodeSafetensors } from '../../src/main/core/engine/safetensors';
import { configDigest, epochOrder, trainLoop, type TrainSpec } from '../../src/main/core/methods/harness/train-loop';
import type { TrainingImages } from '../../src/main/core/methods/harness/image-source';
import type { CheckpointData, JobContext } from '../../src/main/core/jobs/kinds';
import { mulberry32 } from '../../src/main/core/engine/random';

beforeAll(async () => {
  await initBackend('wasm');
});

class Tiny extends Module {
  readonly net = this.registerModule('net', new Sequential(new Conv2d(3, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new Conv2d(4, 3, 3, { padding: 1 })));
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return this.net.forward(x) as tf.Tensor4D;
  }
}

/** Images in memory standing in for decoded files (the loop only asks for batches); `poison` turns one image into NaNs. */
function memoryImages(n: number, size: number, poison?: number): TrainingImages {
  const rand = mulberry32(5);
  const data = Float32Array.from({ length: n * size * size * 3 }, () => rand());
  if (poison !== undefined) data.fill(Number.NaN, poison * size * size * 3, (poison + 1) * size * size * 3);
  return {
    length: n,
    size,
    bytes: 0,
    batch: async (indices: readonly number[]) => {
      const plane = size * size * 3;
      const out = new Float32Array(indices.length * plane);
      indices.forEach((i, k) => out.set(data.subarray(i * plane, (i + 1) * plane), k * plane));
      return tf.tensor4d(out, [indices.length, size, size, 3]);
    },
  } as unknown as TrainingImages;
}

function spec(model: Tiny, images: TrainingImages, epochs: number, extra: Partial<TrainSpec<Tiny>> = {}): TrainSpec<Tiny> {
  return {
    method: 'tiny',
    configDigest: 'abc',
    model,
    optimizer: new Adam(model.namedParameters(), { lr: 1e-2, weightDecay: 5e-4 }),
    images,
    epochs,
    batchSize: 4,
    seed: 3,
    loss: (m, x) => ({ loss: tf.mean(tf.squaredDifference(m.forward(x), x)), parts: { abs: tf.mean(tf.abs(tf.sub(m.forward(x), x))) } }),
    checkpointSeconds: 3600,
    checkpointSteps: 0,
    ...extra,
  };
}

/** A JobContext that keeps checkpoints and series in memory. */
function memoryJob(resume: CheckpointData | null = null) {
  const checkpoints: CheckpointData[] = [];
  const series: [string, number, number][] = [];
  const job = {
    checkpoint: async (d: CheckpointData) => void checkpoints.push(d),
    resumeState: async () => resume,
    series: (name: string, step: number, value: number) => void series.push([name, step, value]),
  } as unknown as JobContext;
  return { job, checkpoints, series };
}

function weights(model: Module): Uint8Array {
  return encodeSafetensors(model.stateDict());
}

const quiet = { progress: () => undefined };

describe('train loop', () => {
  it('visits the images in a seeded permutation per epoch', () => {
    const a = epochOrder(10, 1, 0);
    expect([...a].sort((x, y) => x - y)).toEqual([...Array(10).keys()]);
    expect(epochOrder(10, 1, 0)).toEqual(a);
    expect(epochOrder(10, 1, 1)).not.toEqual(a);
    expect(epochOrder(10, 2, 0)).not.toEqual(a);
  });

  it('leaks no tensor over 100 steps and reports loss parts as series', async () => {
    const model = new Tiny().initialize(1);
    const s = spec(model, memoryImages(8, 8), 50);
    const { job, series } = memoryJob();
    const result = await trainLoop(s, { ...quiet, job });
    expect(result.steps).toBe(100);
    expect(result.tensors.atEnd).toBe(result.tensors.afterFirstStep);
    expect(series.filter(([n]) => n === 'loss')).toHaveLength(100);
    expect(series.filter(([n]) => n === 'loss/abs')).toHaveLength(100);
    expect(series.filter(([n]) => n === 'epoch_loss')).toHaveLength(50);
    expect(model.training).toBe(false);
    s.optimizer.dispose();
    model.dispose();
  });

  it('stops on a NaN loss, naming the step, epoch and batch', async () => {
    const model = new Tiny().initialize(1);
    // Image 5 is NaN; the batch that holds it is the first step whose loss is NaN.
    const order = epochOrder(8, 3, 0);
    const batch = Math.floor(order.indexOf(5) / 4);
    const s = spec(model, memoryImages(8, 8, 5), 2);
    const before = tf.memory().numTensors;
    await expect(trainLoop(s, quiet)).rejects.toThrow(new RegExp(`training diverged: the loss is NaN at step ${batch + 1} of 4 \\(epoch 1, batch ${batch + 1}\\)`));
    s.optimizer.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('resumes from a checkpoint mid-epoch and ends with the same weights as an uninterrupted run', async () => {
    const straight = new Tiny().initialize(7);
    const a = spec(straight, memoryImages(10, 8), 3);
    await trainLoop(a, quiet);

    // The same run, checkpointing every 2 steps; it is "killed" by an abort after step 5.
    const first = new Tiny().initialize(7);
    const ac = new AbortController();
    const b = spec(first, memoryImages(10, 8), 3, { checkpointSteps: 2 });
    const mem = memoryJob();
    await expect(
      trainLoop(b, {
        progress: (_p, step) => {
          if (step === 5) ac.abort(new Error('stop'));
        },
        signal: ac.signal,
        job: mem.job,
      }),
    ).rejects.toThrow('stop');
    // Checkpoints at steps 2 and 4, and one on cancel at 5.
    expect(mem.checkpoints.map((c) => c.step)).toEqual([2, 4, 5]);

    // A new process: fresh model and optimiser, restored from the step-4 checkpoint (a kill loses step 5).
    const second = new Tiny().initialize(99);
    const c = spec(second, memoryImages(10, 8), 3, { checkpointSteps: 2 });
    const resumed = await trainLoop(c, { ...quiet, job: memoryJob(mem.checkpoints[1]!).job });
    expect(resumed.resumedFromStep).toBe(4);
    expect(resumed.steps).toBe(9);
    expect(weights(second)).toEqual(weights(straight));
    for (const m of [straight, first, second]) m.dispose();
    for (const o of [a, b, c]) o.optimizer.dispose();
  });

  it('refuses a checkpoint of another method or configuration, and one without weights', async () => {
    const model = new Tiny().initialize(1);
    const s = spec(model, memoryImages(8, 8), 1, { checkpointSteps: 1 });
    const mem = memoryJob();
    await trainLoop(s, { ...quiet, job: mem.job });
    const checkpoint = mem.checkpoints[0]!;
    const other = (patch: Record<string, unknown>, blobs = checkpoint.blobs): CheckpointData => ({ ...checkpoint, state: { ...(checkpoint.state as object), ...patch }, blobs });
    const fresh = () => spec(new Tiny().initialize(1), memoryImages(8, 8), 1);
    await expect(trainLoop(fresh(), { ...quiet, job: memoryJob(other({ method: 'draem' })).job })).rejects.toThrow(/cannot resume: its checkpoint was written by method "draem", this run trains tiny/);
    await expect(trainLoop(fresh(), { ...quiet, job: memoryJob(other({ configDigest: 'zzz' })).job })).rejects.toThrow(/written with another configuration \(digest zzz, this run's abc\)/);
    await expect(trainLoop(fresh(), { ...quiet, job: memoryJob(other({}, {})).job })).rejects.toThrow(/its checkpoint has no model.safetensors/);
    await expect(trainLoop(fresh(), { ...quiet, job: memoryJob(other({ format: 'x' })).job })).rejects.toThrow(/not a training checkpoint of this version/);
    // A checkpoint whose model has other shapes (another width) is refused by the state-dict check.
    const wide = new Sequential(new Conv2d(3, 8, 3, { padding: 1 }));
    const widened = other({}, { ...checkpoint.blobs, 'model.safetensors': encodeSafetensors(new Map([...wide.stateDict()].map(([k, v]) => [`net.${k}`, v]))) });
    await expect(trainLoop(fresh(), { ...quiet, job: memoryJob(widened).job })).rejects.toThrow(/net.0.weight' has shape \[8, 3, 3, 3\] but the model expects \[4, 3, 3, 3\]/);
    wide.dispose();
    model.dispose();
  });

  it('digests a config without its run-control keys, key order aside', () => {
    expect(configDigest({ a: 1, b: 2, checkpointMinutes: 5 }, ['checkpointMinutes'])).toBe(configDigest({ b: 2, a: 1, checkpointMinutes: 9 }, ['checkpointMinutes']));
    expect(configDigest({ a: 1, b: 3 }, [])).not.toBe(configDigest({ a: 1, b: 2 }, []));
  });
});
