/**
 * A frozen feature extractor over the engine's ResNet backbones, shared by the methods that use
 * one (PatchCore here; RD's teacher, FastFlow later): builds the backbone from a `.safetensors`
 * file or seeded random weights, and maps images in [0, 1] to the requested layers' features.
 * Images are ImageNet-normalised first, as timm's feature extractors expect (anomalib does the
 * same in its transforms).
 *
 * `extractFiles` goes through the frozen-feature cache (engine/feature-cache.ts) when given one:
 * each image file is read once, hashed, and its layers come from the cache or, on a miss, from the
 * backbone (then stored). With a cache every returned feature is rounded through fp16, hits and
 * misses alike, so a run gives the same numbers whether its features were cached or not.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { buildBackbone, normalizeImageNet, randomWeights, type ResNetArch, type ResNetBackbone, type ResNetLayer } from '../../engine/backbones/index';
import { loadSafetensors, type DecodedTensor } from '../../engine/safetensors';
import { sha256File, sha256Hex, type FeatureCache, type FeatureKey, type FeatureLayer } from '../../engine/feature-cache';
import { readFile } from 'node:fs/promises';
import { loadImageRgb } from './images';

/** Where backbone weights come from: seeded random initialisation, or a `.safetensors` path. */
export type WeightsSource = 'random' | string;

/** Loads the tensors of `arch` from a file, or draws torchvision's initialisation with `seed`. */
export async function loadBackboneTensors(arch: ResNetArch, weights: WeightsSource, seed: number): Promise<Map<string, DecodedTensor>> {
  if (weights !== 'random') return (await loadSafetensors(weights)).tensors;
  const out = new Map<string, DecodedTensor>();
  for (const [name, t] of randomWeights(arch, seed)) out.set(name, { dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data });
  return out;
}

/**
 * How images become the extractor's input (sharp decode, sRGB, `fill` resize to the input size,
 * /255, ImageNet normalisation): part of every cache key, so a change here must change this id.
 */
export const PREPROCESS_ID = 'sharp-srgb-fill-div255-imagenet/1';

/** Where the extractor's weights came from, for cache keys. */
export interface WeightsIdentity {
  arch: string;
  /** 'random' or a `.safetensors` path; with `seed` for random ones. */
  weights: WeightsSource;
  seed: number;
}

/** What `extractFiles` did: how many images came from the cache and how many were computed. */
export interface ExtractionCounts {
  hits: number;
  misses: number;
}

export interface ExtractFilesOptions {
  /** The frozen-feature cache; none: every image goes through the backbone in float32. */
  cache?: FeatureCache | null;
  /** Decodes one image file to float32 [size, size, 3] in [0, 1] (uncached path; default loadImageRgb). */
  loadImage?: (path: string, size: number) => Promise<Float32Array>;
}

export class FeatureExtractor {
  private weightsHash: Promise<string> | null = null;

  private constructor(
    readonly backbone: ResNetBackbone,
    readonly layers: readonly ResNetLayer[],
    /** null for a wrapped backbone of unknown origin: such an extractor cannot use the cache. */
    readonly identity: WeightsIdentity | null,
  ) {}

  static async create(arch: ResNetArch, layers: readonly ResNetLayer[], weights: WeightsSource, seed = 0): Promise<FeatureExtractor> {
    if (layers.length === 0) throw new LabError('feature extractor: at least one layer is needed', 'ValidationError');
    return new FeatureExtractor(buildBackbone(arch, await loadBackboneTensors(arch, weights, seed)), layers, { arch, weights, seed });
  }

  /** Wraps an existing backbone (tests); the extractor then owns it. Pass `identity` to allow caching. */
  static fromBackbone(backbone: ResNetBackbone, layers: readonly ResNetLayer[], identity: WeightsIdentity | null = null): FeatureExtractor {
    return new FeatureExtractor(backbone, layers, identity);
  }

  /** 'random:<seed>' or the sha256 of the weights file (hashed once per extractor). */
  weightsId(): Promise<string> {
    const id = this.identity;
    if (!id) return Promise.reject(new LabError('feature extractor: weights of unknown origin cannot be cached'));
    if (id.weights === 'random') return Promise.resolve(`random:${id.seed}`);
    this.weightsHash ??= sha256File(id.weights);
    return this.weightsHash;
  }

  /** Channels of each requested layer, in `layers` order. */
  channels(): number[] {
    return this.layers.map((l) => this.backbone.channels[l]);
  }

  /**
   * @param images [batch, h, w, 3], values in [0, 1]
   * @returns each requested layer's features, [batch, h/stride, w/stride, channels]; the caller disposes them
   */
  extract(images: tf.Tensor4D): Record<string, tf.Tensor4D> {
    return tf.tidy(() => this.backbone.forward(normalizeImageNet(images), this.layers));
  }

  /**
   * Features of image files, through the cache when one is given.
   * @param paths image files, one batch
   * @param size input size: images are resized to [size, size]
   * @returns each requested layer's features [paths.length, h_l, w_l, c_l] (caller disposes) and
   *   the cache's hits and misses for this batch (0 and 0 without a cache)
   */
  async extractFiles(paths: readonly string[], size: number, options: ExtractFilesOptions = {}): Promise<{ features: Record<string, tf.Tensor4D>; counts: ExtractionCounts }> {
    if (paths.length === 0) throw new LabError('feature extractor: no images in the batch');
    const cache = options.cache ?? null;
    const load = options.loadImage ?? loadImageRgb;
    const plane = size * size * 3;
    if (!cache) {
      const pixels = new Float32Array(paths.length * plane);
      for (let i = 0; i < paths.length; i++) pixels.set(await load(paths[i]!, size), i * plane);
      const x = tf.tensor4d(pixels, [paths.length, size, size, 3]);
      try {
        return { features: this.extract(x), counts: { hits: 0, misses: 0 } };
      } finally {
        x.dispose();
      }
    }

    const base = { backbone: this.identity?.arch ?? '', weights: await this.weightsId(), inputSize: size, layers: [...this.layers], preprocess: PREPROCESS_ID };
    const keys: FeatureKey[] = [];
    const found: (FeatureLayer[] | null)[] = [];
    const missing: { index: number; bytes: Buffer }[] = [];
    for (let i = 0; i < paths.length; i++) {
      const bytes = await readFile(paths[i]!);
      const key: FeatureKey = { ...base, image: sha256Hex(bytes) };
      keys.push(key);
      const hit = await cache.get(key);
      found.push(hit);
      if (!hit) missing.push({ index: i, bytes });
    }
    if (missing.length > 0) {
      // Decoded from the very bytes that were hashed, so the key always names what was computed.
      const pixels = new Float32Array(missing.length * plane);
      for (let j = 0; j < missing.length; j++) pixels.set(await loadImageRgb(missing[j]!.bytes, size, paths[missing[j]!.index]!), j * plane);
      const x = tf.tensor4d(pixels, [missing.length, size, size, 3]);
      let computed: Record<string, tf.Tensor4D>;
      try {
        computed = this.extract(x);
      } finally {
        x.dispose();
      }
      try {
        const host: { name: string; shape: number[]; data: Float32Array }[] = [];
        for (const l of this.layers) {
          const t = computed[l]!;
          host.push({ name: l, shape: t.shape.slice(1), data: await t.data<'float32'>() });
        }
        for (let j = 0; j < missing.length; j++) {
          const layers = host.map((h) => {
            const n = h.shape.reduce((a, b) => a * b, 1);
            return { name: h.name, shape: h.shape, data: h.data.subarray(j * n, (j + 1) * n) };
          });
          found[missing[j]!.index] = await cache.put(keys[missing[j]!.index]!, layers);
        }
      } finally {
        tf.dispose(Object.values(computed));
      }
    }
    await cache.flush();

    const features: Record<string, tf.Tensor4D> = {};
    try {
      this.layers.forEach((l, li) => {
        const first = found[0]![li]!;
        const n = first.data.length;
        const joined = new Float32Array(paths.length * n);
        for (let i = 0; i < paths.length; i++) {
          const layer = found[i]![li]!;
          if (layer.name !== l || layer.data.length !== n) throw new LabError(`feature cache: entry of ${paths[i]} has layer ${layer.name} of ${layer.data.length} values, expected ${l} of ${n}`);
          joined.set(layer.data, i * n);
        }
        features[l] = tf.tensor4d(joined, [paths.length, first.shape[0]!, first.shape[1]!, first.shape[2]!]);
      });
    } catch (error) {
      tf.dispose(Object.values(features));
      throw error;
    }
    return { features, counts: { hits: paths.length - missing.length, misses: missing.length } };
  }

  dispose(): void {
    this.backbone.dispose();
  }
}
