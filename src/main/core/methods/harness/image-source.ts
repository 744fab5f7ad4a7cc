/**
 * The training images of a trained method, decoded once: every epoch reads the same images at the
 * same size, so they are kept as 8-bit RGB in memory (a 10,000-image MIAD scenario at 256² is
 * 1.97 GB) up to a cap, and the images past the cap are decoded again each time they are drawn.
 * Batches come out as float32 tensors in [0, 1], the value loadImageRgb gives, so cached and
 * decoded images are the same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadImageBytes } from '../components/images';

/** Default cap of the decoded-image cache: 2 GiB ('ours'). */
export const IMAGE_CACHE_BYTES = 2 * 1024 ** 3;

/**
 * What the training loop draws its batches from: the training images (TrainingImages), or a
 * method's own inputs made from them (RD: the frozen teacher's features, through the feature cache).
 * `X` is a tensor or a container of tensors; the loop disposes each batch after its step.
 */
export interface BatchSource<X extends tf.TensorContainer = tf.Tensor4D> {
  /** Training samples (images) one epoch visits. */
  readonly length: number;
  /** Bytes held in memory by the source's own cache (reported in the run's summary). */
  readonly bytes: number;
  /** The inputs of the samples at `indices`, in that order; the caller disposes them. */
  batch(indices: readonly number[]): Promise<X>;
}

export class TrainingImages implements BatchSource<tf.Tensor4D> {
  private readonly cached: (Uint8Array | null)[];
  private cachedBytes = 0;

  constructor(
    readonly paths: readonly string[],
    readonly size: number,
    private readonly capBytes = IMAGE_CACHE_BYTES,
  ) {
    this.cached = paths.map(() => null);
  }

  get length(): number {
    return this.paths.length;
  }

  /** Bytes held by the cache. */
  get bytes(): number {
    return this.cachedBytes;
  }

  private async image(index: number): Promise<Uint8Array> {
    const hit = this.cached[index];
    if (hit) return hit;
    const bytes = await loadImageBytes(this.paths[index]!, this.size);
    if (this.cachedBytes + bytes.length <= this.capBytes) {
      this.cached[index] = bytes;
      this.cachedBytes += bytes.length;
    }
    return bytes;
  }

  /**
   * The images at `indices`, in that order.
   * @returns [indices.length, size, size, 3] float32 in [0, 1]; the caller disposes it
   */
  async batch(indices: readonly number[]): Promise<tf.Tensor4D> {
    const plane = this.size * this.size * 3;
    const out = new Float32Array(indices.length * plane);
    for (let i = 0; i < indices.length; i++) {
      const bytes = await this.image(indices[i]!);
      for (let j = 0; j < plane; j++) out[i * plane + j] = bytes[j]! / 255;
    }
    return tf.tensor4d(out, [indices.length, this.size, this.size, 3]);
  }
}
