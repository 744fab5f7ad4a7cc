/**
 * The seeded random source of training-time randomness (dropout masks, UniAD's feature jitter):
 * what torch keeps in its global generator, made explicit so a checkpoint can save it.
 *
 * torch draws dropout masks from the global CPU/CUDA generator, whose state a training script
 * saves with `torch.get_rng_state()`; a resumed run then draws the same masks as an uninterrupted
 * one. Here the same guarantee comes from a counter: draw number k uses the generator
 * `mulberry32(seedFor(seed, 'draw k'))` (engine/random.ts), so the whole state is `{ seed, draws }`,
 * a resumed run that restores it continues the same sequence, and the values do not depend on
 * the tfjs backend or version (tfjs' own seeded ops are not promised to stay the same). The masks
 * are not torch's masks (torch's Philox/MT19937 streams are not reproduced); parity tests run
 * dropout layers in eval mode or with p = 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { mulberry32, normalArray, seedFor } from '../random';

/** Everything needed to continue a sequence of draws: save it in a checkpoint as JSON. */
export interface RngState {
  seed: number;
  /** How many draws were made so far. */
  draws: number;
}

export class Rng {
  #seed: number;
  #draws = 0;

  constructor(seed: number) {
    this.#seed = seed >>> 0;
  }

  state(): RngState {
    return { seed: this.#seed, draws: this.#draws };
  }

  setState(state: RngState): void {
    if (!Number.isSafeInteger(state.seed) || !Number.isSafeInteger(state.draws) || state.draws < 0) {
      throw new LabError(`invalid random-generator state ${JSON.stringify(state)}: seed and draws must be non-negative integers`, 'ValidationError');
    }
    this.#seed = state.seed >>> 0;
    this.#draws = state.draws;
  }

  /** A fresh 32-bit seed for one draw; advances the state by one. */
  nextSeed(): number {
    return seedFor(this.#seed, `draw ${this.#draws++}`);
  }

  /** `n` floats uniform in [0, 1) (one draw). */
  uniform(n: number): Float32Array {
    const rand = mulberry32(this.nextSeed());
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = rand();
    return out;
  }

  /** `n` standard-normal floats times `std` (one draw), e.g. UniAD's jitter noise. */
  normal(n: number, std = 1): Float32Array {
    return normalArray(n, this.nextSeed(), std);
  }

  /**
   * A dropout mask of `shape` as torch's `F.dropout(x, p, training=True)` applies it: each element
   * kept with probability 1 − p and scaled by 1/(1 − p), else 0 (all zeros when p = 1). One draw.
   */
  dropoutMask(shape: number[], p: number): tf.Tensor {
    if (!(p >= 0 && p <= 1)) throw new LabError(`dropout probability has to be between 0 and 1, but got ${p}`, 'ValidationError');
    const n = shape.reduce((a, b) => a * b, 1);
    const rand = mulberry32(this.nextSeed());
    const keep = p === 1 ? 0 : 1 / (1 - p);
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) mask[i] = rand() < p ? 0 : keep;
    return tf.tensor(mask, shape, 'float32');
  }
}
