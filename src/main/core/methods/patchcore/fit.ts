/**
 * PatchCore on the method seam (method.ts): one pass over the training images builds the memory
 * bank (train.ts), and the predictor scores test images against it (score.ts, anomaly-map.ts):
 * 1-NN patch distances, the paper's re-weighted image score, the σ-blurred map at the input size.
 * Loaded only inside the job process (and by tests): it pulls in tfjs.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { assertWasmHeadroom } from '../../engine/wasm-heap';
import { loadImageRgb } from '../components/images';
import { MemoryBank } from '../components/nearest-neighbour';
import type { ExtractionCounts } from '../components/feature-extractor';
import type { FitRequest, FittedMethod, MethodImplementation, Predictor } from '../method';
import { anomalyMap } from './anomaly-map';
import type { PatchCoreConfig } from './config';
import { PatchCoreModel } from './model';
import { scoreEmbedding } from './score';
import { embedFiles, trainMemoryBank } from './train';

async function fit(request: FitRequest<PatchCoreConfig>): Promise<FittedMethod> {
  const { config, progress } = request;
  const featureCache = request.featureCache;
  const t = performance.now();
  progress('loading weights', 0, 1);
  const model = await PatchCoreModel.create(config, request.weights);
  const modelSeconds = (performance.now() - t) / 1000;
  let bank: MemoryBank | null = null;
  try {
    const trained = await trainMemoryBank(model, request.trainPaths, config, { progress, ...(request.signal ? { signal: request.signal } : {}) }, { loadImage: loadImageRgb, tmpDir: request.outDir, featureCache });
    bank = new MemoryBank(trained.bank, trained.width);
    trained.bank = new Float32Array(0); // the bank holds it now (as tensors, or as the host array itself)
    const memoryBank = bank;
    const size = config.inputSize;
    const testCache: ExtractionCounts = { hits: 0, misses: 0 };
    const predictor: Predictor = {
      mapSize: size,
      batchSize: config.batchSize,
      mapMeta: { preset: config.preset, inputSize: size, sigma: config.sigma },
      async predict(paths) {
        const emb: tf.Tensor4D = await embedFiles(model, paths, size, { loadImage: loadImageRgb, featureCache }, testCache);
        assertWasmHeadroom('PatchCore scoring');
        let scored: Awaited<ReturnType<typeof scoreEmbedding>>;
        try {
          scored = await scoreEmbedding(emb, memoryBank, config.numNeighbors);
        } finally {
          emb.dispose();
        }
        const cells = scored.h * scored.w;
        const maps = new Float32Array(paths.length * size * size);
        const scores = new Float64Array(paths.length);
        for (let i = 0; i < paths.length; i++) {
          maps.set(anomalyMap(scored.patchScores.subarray(i * cells, (i + 1) * cells), scored.h, scored.w, size, config.sigma), i * size * size);
          scores[i] = scored.imageScores[i]!;
        }
        return { maps, scores };
      },
      dispose: () => memoryBank.dispose(),
    };
    return {
      predictor,
      train: {
        patches: trained.patches,
        grid: trained.grid,
        memoryBankRows: trained.rows,
        projectionDims: trained.projectionDims,
        bankResidence: bank.residence,
        featureStore: trained.store,
        peakRssBytes: trained.peakRssBytes,
      },
      timings: { model: modelSeconds, embed: trained.seconds.embed, coreset: trained.seconds.coreset, gather: trained.seconds.gather },
      featureCache: trained.featureCache,
      testFeatureCache: featureCache ? testCache : null,
      warnings: [],
      dispose: () => model.dispose(),
    };
  } catch (error) {
    bank?.dispose();
    model.dispose();
    throw error;
  }
}

export const patchcoreImplementation: MethodImplementation<PatchCoreConfig> = { fit };
