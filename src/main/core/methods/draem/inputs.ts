/**
 * DRAEM's training batches: normal images turned into (augmented input, clean target, mask) by the
 * anomaly synthesis (synthesis.ts), as the harness's batch source (harness/image-source.ts
 * `BatchSource`), synthesised AHEAD of the training step so it does not starve it.
 *
 * Ahead: when the loop takes batch k, the source already knows batch k + 1 (the loop's seeded epoch
 * order, train-loop.ts `epochOrder`) and starts synthesising it on the next turn of the event loop.
 * On a GPU backend that turn comes while the loop awaits the step's loss from the device, so the
 * synthesis (CPU) overlaps the step (GPU); decoding images and DTD textures (sharp, libuv threads)
 * overlaps on every backend. On wasm and cpu the step itself holds the JS thread, so synthesis adds
 * its own time: measured in bench/draem-synthesis.ts, and counted here (`stats`: time spent
 * synthesising, and time the loop waited for a batch that was not ready).
 *
 * Every sample's randomness is a pure function of (seed, global step, position in the batch), so a
 * resumed run synthesises exactly what an uninterrupted one did: the source starts counting at the
 * step of the checkpoint the run resumes from (JobContext.resumeState's `step`, the loop's global
 * step). Were the loop ever to ask for other indices than the predicted ones, the prefetched batch
 * is dropped and the asked one synthesised, still seeded by the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from '../../engine/random';
import type { TextureSource } from '../components/anomaly-source';
import { loadImageBytes } from '../components/images';
import { IMAGE_CACHE_BYTES, type BatchSource } from '../harness/image-source';
import { epochOrder } from '../harness/train-loop';
import { drawSynthesis, sampleSeed, synthesize, type SynthesisSettings } from './synthesis';

/** One synthesised batch, on the CPU until the loop takes it. */
interface Synthesised {
  augmented: Float32Array;
  image: Float32Array;
  mask: Float32Array;
}

export interface SynthesisStats {
  samples: number;
  /** Seconds spent synthesising (decoding included). */
  seconds: number;
  /** Seconds `batch()` waited for a batch that was not synthesised yet (the starvation). */
  waitSeconds: number;
  /** Batches that were ready (prefetched) when the loop asked for them. */
  prefetchHits: number;
  batches: number;
}

export interface SynthesisBatchOptions {
  paths: readonly string[];
  size: number;
  textures: TextureSource;
  settings: SynthesisSettings;
  /** The run's seed: the epoch order's and the synthesis'. */
  seed: number;
  batchSize: number;
  epochs: number;
  /** The global step of the first batch asked for (the resumed checkpoint's, else 0). */
  startStep: number;
  cacheBytes?: number;
}

export class SynthesisBatches implements BatchSource<tf.Tensor4D[]> {
  private readonly cached: (Uint8Array | null)[];
  private cachedBytes = 0;
  private step: number;
  private pending: { step: number; indices: readonly number[]; promise: Promise<Synthesised> } | null = null;
  private orderOf: { epoch: number; order: number[] } | null = null;
  readonly stats: SynthesisStats = { samples: 0, seconds: 0, waitSeconds: 0, prefetchHits: 0, batches: 0 };

  constructor(private readonly options: SynthesisBatchOptions) {
    this.cached = options.paths.map(() => null);
    this.step = options.startStep;
  }

  get length(): number {
    return this.options.paths.length;
  }

  get bytes(): number {
    return this.cachedBytes;
  }

  private get perEpoch(): number {
    return Math.ceil(this.options.paths.length / this.options.batchSize);
  }

  private async image(index: number): Promise<Uint8Array> {
    const hit = this.cached[index];
    if (hit) return hit;
    const bytes = await loadImageBytes(this.options.paths[index]!, this.options.size);
    if (this.cachedBytes + bytes.length <= (this.options.cacheBytes ?? IMAGE_CACHE_BYTES)) {
      this.cached[index] = bytes;
      this.cachedBytes += bytes.length;
    }
    return bytes;
  }

  /** The indices the loop will ask for at global step `step` (its seeded epoch order). */
  predictedIndices(step: number): number[] {
    const epoch = Math.floor(step / this.perEpoch);
    const b = step % this.perEpoch;
    if (this.orderOf?.epoch !== epoch) this.orderOf = { epoch, order: epochOrder(this.options.paths.length, this.options.seed, epoch) };
    return this.orderOf.order.slice(b * this.options.batchSize, (b + 1) * this.options.batchSize);
  }

  /** Synthesises the batch of global step `step` for images `indices`. */
  async synthesise(step: number, indices: readonly number[]): Promise<Synthesised> {
    const { size, textures, settings, seed } = this.options;
    const t0 = performance.now();
    const plane = size * size * 3;
    const out: Synthesised = {
      augmented: new Float32Array(indices.length * plane),
      image: new Float32Array(indices.length * plane),
      mask: new Float32Array(indices.length * size * size),
    };
    for (let j = 0; j < indices.length; j++) {
      const draws = drawSynthesis(mulberry32(sampleSeed(seed, step, j)), settings, textures.count);
      const [normal, texture] = await Promise.all([this.image(indices[j]!), textures.texture(draws.textureIndex)]);
      const s = synthesize(normal, texture, size, draws, settings);
      out.augmented.set(s.augmented, j * plane);
      out.image.set(s.image, j * plane);
      out.mask.set(s.mask, j * size * size);
    }
    this.stats.samples += indices.length;
    this.stats.seconds += (performance.now() - t0) / 1000;
    return out;
  }

  private prefetch(step: number): void {
    if (step >= this.perEpoch * this.options.epochs) return;
    const indices = this.predictedIndices(step);
    // On the next turn of the event loop: on a GPU backend, while the loop awaits the step's loss.
    const promise = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.synthesise(step, indices));
    // A failure surfaces when the batch is asked for; never as an unhandled rejection meanwhile.
    promise.catch(() => undefined);
    this.pending = { step, indices, promise };
  }

  /**
   * The batch of the next global step: [augmented, image, mask] as [b, s, s, 3], [b, s, s, 3],
   * [b, s, s, 1] float32 in [0, 1] (RGB); the caller disposes them.
   */
  async batch(indices: readonly number[]): Promise<tf.Tensor4D[]> {
    const step = this.step++;
    const pending = this.pending;
    this.pending = null;
    const t0 = performance.now();
    let data: Synthesised;
    if (pending && pending.step === step && pending.indices.length === indices.length && pending.indices.every((v, i) => v === indices[i])) {
      data = await pending.promise;
      this.stats.prefetchHits++;
    } else {
      data = await this.synthesise(step, indices);
    }
    this.stats.waitSeconds += (performance.now() - t0) / 1000;
    this.stats.batches++;
    this.prefetch(step + 1);
    const { size } = this.options;
    const n = indices.length;
    return [tf.tensor4d(data.augmented, [n, size, size, 3]), tf.tensor4d(data.image, [n, size, size, 3]), tf.tensor4d(data.mask, [n, size, size, 1])];
  }
}
