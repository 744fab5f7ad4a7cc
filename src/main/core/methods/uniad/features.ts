/**
 * UniAD's frozen features (zhiyuanyou/UniAD models/backbones/efficientnet, models/necks/mfcn.py):
 * EfficientNet-b4 stages 1–4 (strides 2, 4, 8, 16; 24 + 32 + 56 + 160 channels) of the
 * ImageNet-normalised image, each resized to stride 16 with UpsamplingBilinear2d
 * (align_corners=True, here DOWNsampling, no antialias) and concatenated: `feature_align`,
 * [batch, s/16, s/16, 272].
 *
 * Training and test images are never augmented, so feature_align of an image is the same every
 * epoch and every run with the same backbone, weights and size: it goes through the workspace's
 * frozen-feature cache (engine/feature-cache.ts) as ONE entry per image, the neck's output
 * (53 k values at 224 px instead of the 476 k of the four levels). With a cache every feature is
 * rounded through fp16, hits and misses alike, so a run gives the same numbers either way.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { LabError } from '../../../../shared/errors';
import { buildBackbone, checkArchitecture, isBuiltArch, normalizeImageNet, randomWeights, UNIAD_LAYERS, type Backbone, type BuiltArch } from '../../engine/backbones/index';
import { sha256File, sha256Hex, type FeatureCache, type FeatureKey } from '../../engine/feature-cache';
import { loadSafetensors, readSafetensorsHeader, type DecodedTensor } from '../../engine/safetensors';
import { PREPROCESS_ID, type ExtractionCounts } from '../components/feature-extractor';
import { loadImageRgb } from '../components/images';
import { UNIAD_BACKBONES, UNIAD_FEATURE_CHANNELS, type UniadBackbone } from './config';

/** The cache's name for the neck's output (one "layer" per entry). */
export const MFCN_LAYER = 'mfcn16(layer1,layer2,layer3,layer4)';

/**
 * The MFCN neck: each level [b, h_l, w_l, c_l] resized (bilinear, align corners) to [side, side]
 * and concatenated along channels → [b, side, side, Σ c_l].
 */
export function mfcn(levels: readonly tf.Tensor4D[], side: number): tf.Tensor4D {
  return tf.tidy(() => tf.concat(levels.map((l) => (l.shape[1] === side && l.shape[2] === side ? l : tf.image.resizeBilinear(l, [side, side], true))), -1));
}

/** The engine's architecture of a UniAD backbone name; refuses one this engine does not build. */
function built(backbone: UniadBackbone): BuiltArch {
  if (!isBuiltArch(backbone)) throw new LabError(`UniAD: the engine does not build ${backbone}; use efficientnet_b4`, 'ValidationError');
  return backbone;
}

/**
 * Refuses a backbone weights file that does not fit `arch` before anything is built, saying what
 * it holds when we can tell (another EfficientNet variant, or a UniAD reconstruction).
 */
export async function checkBackboneWeights(path: string, backbone: UniadBackbone): Promise<void> {
  const arch = built(backbone);
  const header = await readSafetensorsHeader(path);
  const problems = checkArchitecture(arch, header.tensors);
  if (problems.length === 0) return;
  const names = [...header.tensors.keys()];
  let hint = '';
  const other = UNIAD_BACKBONES.find((b) => b !== arch && isBuiltArch(b) && checkArchitecture(b, header.tensors).length === 0);
  if (other) hint = ` The file holds ${other} weights: set backbone=${other}.`;
  else if (names.some((n) => n.startsWith('transformer.'))) hint = ' It holds a UniAD reconstruction (transformer.*), not backbone weights: give it as modelWeights.';
  else if (header.metadata['method']) hint = ` It is a ${header.metadata['method']} checkpoint, not backbone weights.`;
  const listed = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
  throw new LabError(`backbone weights ${path} do not fit ${arch}: ${listed}.${hint}`, 'ValidationError');
}

export class UniadFeatures {
  private weightsHash: Promise<string> | null = null;

  private constructor(
    readonly backbone: Backbone,
    readonly arch: UniadBackbone,
    readonly weights: 'random' | string,
    readonly seed: number,
  ) {}

  static async create(backbone: UniadBackbone, weights: 'random' | string, seed: number): Promise<UniadFeatures> {
    const arch = built(backbone);
    let tensors: Map<string, DecodedTensor>;
    if (weights === 'random') {
      tensors = new Map();
      for (const [name, t] of randomWeights(arch, seed)) tensors.set(name, { dtype: t.dtype ?? 'F32', shape: t.shape, data: t.data });
    } else {
      await checkBackboneWeights(weights, backbone);
      tensors = (await loadSafetensors(weights)).tensors;
    }
    return new UniadFeatures(buildBackbone(arch, tensors), backbone, weights, seed);
  }

  /** images [b, s, s, 3] in [0, 1] → feature_align [b, s/16, s/16, 272]. */
  align(images: tf.Tensor4D): tf.Tensor4D {
    const side = Math.ceil(images.shape[1] / 16);
    return tf.tidy(() => {
      const f = this.backbone.forward(normalizeImageNet(images), UNIAD_LAYERS);
      const out = mfcn(
        UNIAD_LAYERS.map((l) => f[l]!),
        side,
      );
      if (out.shape[3] !== UNIAD_FEATURE_CHANNELS) throw new LabError(`UniAD: ${this.arch} stages 1–4 give ${out.shape[3]} channels, expected ${UNIAD_FEATURE_CHANNELS}`);
      return out;
    });
  }

  private weightsId(): Promise<string> {
    if (this.weights === 'random') return Promise.resolve(`random:${this.seed}`);
    this.weightsHash ??= sha256File(this.weights);
    return this.weightsHash;
  }

  /**
   * feature_align of image files, through the cache when one is given.
   * @returns [paths.length, s/16, s/16, 272] (the caller disposes it); `counts` gets the cache's hits and misses
   */
  async files(paths: readonly string[], size: number, cache: FeatureCache | null, counts: ExtractionCounts): Promise<tf.Tensor4D> {
    if (paths.length === 0) throw new LabError('UniAD features: no images in the batch');
    const plane = size * size * 3;
    const decode = async (items: { bytes: Uint8Array | string; label: string }[]): Promise<tf.Tensor4D> => {
      const pixels = new Float32Array(items.length * plane);
      for (let i = 0; i < items.length; i++) pixels.set(await loadImageRgb(items[i]!.bytes, size, items[i]!.label), i * plane);
      const x = tf.tensor4d(pixels, [items.length, size, size, 3]);
      try {
        return this.align(x);
      } finally {
        x.dispose();
      }
    };
    if (!cache) return decode(paths.map((p) => ({ bytes: p, label: p })));

    const base = { backbone: this.arch, weights: await this.weightsId(), inputSize: size, layers: [MFCN_LAYER], preprocess: PREPROCESS_ID };
    const found: (Float32Array | null)[] = [];
    const keys: FeatureKey[] = [];
    const missing: { index: number; bytes: Uint8Array }[] = [];
    for (let i = 0; i < paths.length; i++) {
      const bytes = await readFile(paths[i]!);
      const key: FeatureKey = { ...base, image: sha256Hex(bytes) };
      keys.push(key);
      const hit = await cache.get(key);
      found.push(hit ? hit[0]!.data : null);
      if (!hit) missing.push({ index: i, bytes });
    }
    const side = Math.ceil(size / 16);
    const n = side * side * UNIAD_FEATURE_CHANNELS;
    if (missing.length > 0) {
      // Decoded from the very bytes that were hashed, so the key always names what was computed.
      const computed = await decode(missing.map((m) => ({ bytes: m.bytes, label: paths[m.index]! })));
      try {
        const data = await computed.data<'float32'>();
        for (let j = 0; j < missing.length; j++) {
          const i = missing[j]!.index;
          const stored = await cache.put(keys[i]!, [{ name: MFCN_LAYER, shape: [side, side, UNIAD_FEATURE_CHANNELS], data: data.subarray(j * n, (j + 1) * n) }]);
          found[i] = stored[0]!.data;
        }
      } finally {
        computed.dispose();
      }
    }
    await cache.flush();
    const joined = new Float32Array(paths.length * n);
    for (let i = 0; i < paths.length; i++) {
      const f = found[i]!;
      if (f.length !== n) throw new LabError(`feature cache: entry of ${paths[i]} has ${f.length} values, expected ${n}`);
      joined.set(f, i * n);
    }
    counts.hits += paths.length - missing.length;
    counts.misses += missing.length;
    return tf.tensor4d(joined, [paths.length, side, side, UNIAD_FEATURE_CHANNELS]);
  }

  dispose(): void {
    this.backbone.dispose();
  }
}
