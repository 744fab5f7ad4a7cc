/**
 * The inputs of a method that learns from a frozen ResNet backbone's features (RD's student,
 * FastFlow's flows): the features of the training images (the batch source) and of test images,
 * as trained-method.ts's `inputs` hook takes them. With the workspace's frozen-feature cache the
 * features come from it (fp16-rounded, hits and misses alike: the backbone sees un-augmented
 * images, so its features are the same every epoch, METHODS 0.1 item 9); without one the backbone
 * runs on every batch, on images decoded once and kept in memory (image-source.ts).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ResNetArch, ResNetLayer } from '../../engine/backbones/index';
import type { FeatureCache } from '../../engine/feature-cache';
import { FeatureExtractor, type ExtractionCounts, type WeightsSource } from '../components/feature-extractor';
import { TrainingImages } from './image-source';
import type { MethodInputs } from './trained-method';

export interface BackboneInputsRequest {
  arch: ResNetArch;
  /** The layers handed to the method, in this order. */
  layers: readonly ResNetLayer[];
  /** 'random' (seeded by `seed`) or a `.safetensors` path, already checked against `arch`. */
  weights: WeightsSource;
  seed: number;
  inputSize: number;
  trainPaths: readonly string[];
  featureCache: FeatureCache | null;
}

/** The backbone's features [batch, h_l, w_l, c_l] of each of `layers`, for training and test batches. */
export async function backboneInputs(request: BackboneInputsRequest): Promise<MethodInputs<tf.Tensor4D[]>> {
  const backbone = await FeatureExtractor.create(request.arch, request.layers, request.weights, request.seed);
  const { featureCache: cache, inputSize: size, trainPaths: paths, layers } = request;
  const counts = { train: { hits: 0, misses: 0 }, test: { hits: 0, misses: 0 } };
  const images = cache ? null : new TrainingImages(paths, size);
  const levels = (f: Record<string, tf.Tensor4D>): tf.Tensor4D[] => layers.map((l) => f[l]!);
  const fromFiles = async (files: readonly string[], into: ExtractionCounts): Promise<tf.Tensor4D[]> => {
    const { features, counts: c } = await backbone.extractFiles(files, size, { cache });
    into.hits += c.hits;
    into.misses += c.misses;
    return levels(features);
  };
  return {
    train: {
      length: paths.length,
      get bytes() {
        return images?.bytes ?? 0;
      },
      async batch(indices) {
        if (!images) return fromFiles(indices.map((i) => paths[i]!), counts.train);
        const x = await images.batch(indices);
        try {
          return levels(backbone.extract(x));
        } finally {
          x.dispose();
        }
      },
    },
    test: (files) => fromFiles(files, counts.test),
    cacheCounts: () => (cache ? counts : null),
    dispose: () => backbone.dispose(),
  };
}
