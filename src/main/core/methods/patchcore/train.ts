/**
 * PatchCore's "training": one pass over the training images that builds the memory bank
 * (anomalib's PatchcoreModel in training mode + `subsample_embedding`), reorganised so that the
 * whole training set fits, not just the 2,000 images the MIAD paper could afford (A.2.2):
 *
 *   1. stream: each batch's patch embeddings [B·h·w, C] go to a float16 row store (memory or a
 *      temp file, half-row-store.ts) and, projected on the device to the coreset's few dims
 *      (coreset.ts), into a handful of large projected tensors. No float32 copy of all features
 *      ever exists: at MIAD scale the float32 features are 48 GB, the fp16 store 24 GB (on disk),
 *      the projected rows 4 GB (128 dims).
 *   2. select: greedy k-center on the projected rows picks ⌊N · ratio⌋ rows (anomalib's int()).
 *   3. gather: the picked rows are read back from the fp16 store as float32: the memory bank.
 *
 * The projection is drawn once N (= images × patches per image) is known from the first batch,
 * since the JL dims depend on it, exactly as anomalib fits its projection on all N rows.
 * Cancellation is checked between batches and every few hundred coreset picks.
 *
 * With a frozen-feature cache (deps.featureCache) the backbone's layer features of each image come
 * from the workspace cache when an earlier run computed them (engine/feature-cache.ts), rounded
 * through fp16 whether they were cached or not; `embedFiles` is that step, shared with scoring.
 */
import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { LabError } from '../../../../shared/errors';
import { abortError, greedyKCenter, jlMinDim, sparseRandomProjection, type GreedyOptions } from '../components/coreset';
import { greedyKCenterPruned } from '../components/coreset-pruned';
import { assertWasmHeadroom } from '../../engine/wasm-heap';
import { createHalfRowStore, diskFreeBytes, type HalfRowStore } from '../components/half-row-store';
import type { FeatureCache } from '../../engine/feature-cache';
import type { ExtractionCounts } from '../components/feature-extractor';
import type { PatchCoreConfig } from './config';
import { patchEmbedding, type PatchCoreModel } from './model';

export interface TrainContext {
  progress(phase: string, step: number, total: number): void;
  signal?: AbortSignal;
}

export interface TrainDeps {
  /**
   * Decodes one image to float32 [size, size, 3] in [0, 1]. Without a feature cache only: with one,
   * images are decoded by loadImageRgb from the very bytes whose hash keys their entry.
   */
  loadImage(path: string, size: number): Promise<Float32Array>;
  /** Folder for the temp file of a file-backed feature store. */
  tmpDir: string;
  /** Where greedy selection runs; default: host on the wasm and cpu backends, else device. */
  coresetOn?: 'host' | 'device';
  /** The frozen-feature cache; absent: features are computed in float32 every time. */
  featureCache?: FeatureCache | null;
  /** Greedy selection on the host (default `greedyKCenterPruned`); bench/patchcore-scale.ts bounds its time with this. */
  hostGreedy?: (chunks: readonly Float32Array[], dims: number, count: number, options: GreedyOptions) => Promise<Int32Array>;
  /** Free bytes on the disk of a folder (default: statfs); checked before a file store is started. */
  freeBytes?: (dir: string) => Promise<number>;
}

/** Room left on the disk beside a file store, for the run's maps and the rest of the system. */
const DISK_MARGIN_BYTES = 2 ** 30;

/**
 * Patch embeddings of image files, the layer features coming through the cache when one is given.
 * @param paths one batch of image files
 * @param counts incremented by the cache's hits and misses
 * @returns [paths.length, size/8, size/8, model.width]; the caller disposes it
 */
export async function embedFiles(
  model: PatchCoreModel,
  paths: readonly string[],
  size: number,
  options: { loadImage?: (path: string, size: number) => Promise<Float32Array>; featureCache?: FeatureCache | null },
  counts?: ExtractionCounts,
): Promise<tf.Tensor4D> {
  const extractor = model.extractor;
  const { features, counts: batch } = await extractor.extractFiles(paths, size, { cache: options.featureCache ?? null, ...(options.loadImage ? { loadImage: options.loadImage } : {}) });
  try {
    if (counts) {
      counts.hits += batch.hits;
      counts.misses += batch.misses;
    }
    return patchEmbedding(extractor.layers.map((l) => features[l]!));
  } finally {
    tf.dispose(Object.values(features));
  }
}

export interface MemoryBankResult {
  /** The memory bank, [rows, width] row-major float32 (values rounded through float16). */
  bank: Float32Array;
  rows: number;
  width: number;
  /** Patches of the training set (N) and the patch grid of one image. */
  patches: number;
  grid: { h: number; w: number };
  projectionDims: number;
  /** Coreset row indices into the N training patches, in the order picked. */
  coreset: Int32Array;
  store: { where: 'memory' | 'file'; bytes: number };
  /** Seconds per phase. */
  seconds: { embed: number; coreset: number; gather: number };
  /** Largest resident set size sampled during the pass, bytes. */
  peakRssBytes: number;
  /** The frozen-feature cache's hits and misses over the training images; null without a cache. */
  featureCache: ExtractionCounts | null;
}

/** Rows per projected tensor: 2^20 rows × 128 dims is 512 MiB. */
const PROJECTED_CHUNK_ROWS = 1 << 20;

/**
 * @param paths training images, in the order they are streamed
 */
export async function trainMemoryBank(model: PatchCoreModel, paths: readonly string[], config: PatchCoreConfig, ctx: TrainContext, deps: TrainDeps): Promise<MemoryBankResult> {
  if (paths.length === 0) throw new LabError('PatchCore: no training images', 'ValidationError');
  const size = config.inputSize;
  const width = model.width;
  const t0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const sampleRss = () => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  };

  let store: HalfRowStore | null = null;
  let projection: tf.Tensor2D | null = null;
  let projectedDims = 0;
  let grid = { h: 0, w: 0 };
  let total = 0;
  // wasm and cpu: projected rows and the greedy loop on the host (see coreset.ts and coreset-pruned.ts for why);
  // other backends: on the device.
  const onHost = deps.coresetOn === 'host' || (deps.coresetOn !== 'device' && ['wasm', 'cpu'].includes(tf.getBackend()));
  const chunks: tf.Tensor2D[] = [];
  const hostChunks: Float32Array[] = [];
  let pending: tf.Tensor2D[] = [];
  let pendingRows = 0;
  const cacheCounts: ExtractionCounts = { hits: 0, misses: 0 };
  const flushPending = async () => {
    if (pending.length === 0) return;
    const joined = pending.length === 1 ? pending[0]! : (tf.concat(pending, 0) as tf.Tensor2D);
    if (pending.length > 1) tf.dispose(pending);
    pending = [];
    pendingRows = 0;
    if (onHost) {
      try {
        hostChunks.push(await joined.data<'float32'>());
      } finally {
        joined.dispose();
      }
    } else chunks.push(joined);
  };

  try {
    ctx.progress('embedding', 0, paths.length);
    for (let start = 0; start < paths.length; start += config.batchSize) {
      if (ctx.signal?.aborted) throw abortError(ctx.signal);
      const batch = paths.slice(start, start + config.batchSize);
      let flat: tf.Tensor2D;
      let emb: tf.Tensor4D | null = null;
      try {
        emb = await embedFiles(model, batch, size, { loadImage: deps.loadImage, featureCache: deps.featureCache ?? null }, cacheCounts);
        if (!store) {
          grid = { h: emb.shape[1], w: emb.shape[2] };
          total = paths.length * grid.h * grid.w;
          const estimate = total * width * 2;
          const where = config.featureStore === 'auto' ? (estimate <= config.memoryStoreMiB * 2 ** 20 ? 'memory' : 'file') : config.featureStore;
          if (where === 'file') {
            // Fail now, with the figures, rather than hours later on a full disk.
            const free = await (deps.freeBytes ?? diskFreeBytes)(deps.tmpDir);
            if (free < estimate + DISK_MARGIN_BYTES) {
              const gib = (b: number) => (b / 2 ** 30).toFixed(1);
              throw new LabError(
                `PatchCore: the fp16 features of ${paths.length} training images need ${gib(estimate)} GiB (+${gib(DISK_MARGIN_BYTES)} GiB margin) in ${deps.tmpDir}, ` +
                  `whose disk has ${gib(free)} GiB free. Free some space, or use the paper preset (2,000 images).`,
                'ValidationError',
              );
            }
          }
          store = await createHalfRowStore(width, where, join(deps.tmpDir, `patchcore-features-${process.pid}-${Date.now()}.f16`));
          projectedDims = config.projectionDims === 'jl' ? jlMinDim(total, config.projectionEps) : config.projectionDims;
          projection = tf.tensor2d(sparseRandomProjection(width, projectedDims, config.seed ^ 0x5eed), [width, projectedDims]);
        }
        flat = tf.reshape(emb, [-1, width]) as tf.Tensor2D;
      } finally {
        emb?.dispose();
      }
      try {
        const projected = tf.matMul(flat, projection!) as tf.Tensor2D;
        pending.push(projected);
        pendingRows += projected.shape[0];
        // On the host path each batch comes down at once, so the wasm heap (which never shrinks)
        // does not grow by a chunk of projected rows.
        if (onHost || pendingRows >= PROJECTED_CHUNK_ROWS) await flushPending();
        await store!.append(await flat.data<'float32'>());
      } finally {
        flat.dispose();
      }
      sampleRss();
      assertWasmHeadroom('PatchCore training');
      ctx.progress('embedding', Math.min(paths.length, start + batch.length), paths.length);
    }
    await flushPending();
    const t1 = performance.now();

    const count = Math.max(1, Math.floor(total * config.coresetRatio));
    let coreset: Int32Array;
    if (config.coresetRatio >= 1) {
      coreset = Int32Array.from({ length: total }, (_, i) => i);
    } else {
      const greedy = {
        seed: config.seed,
        signal: ctx.signal,
        onProgress: (picked: number, of: number) => {
          sampleRss();
          ctx.progress('coreset', picked, of);
        },
      };
      // Host: the pruned greedy (same picks as the plain loop, a fraction of the distances), free to
      // reorder the projected rows in place since nothing reads them afterwards.
      const hostGreedy = deps.hostGreedy ?? ((c: readonly Float32Array[], d: number, k: number, o: GreedyOptions) => greedyKCenterPruned(c, d, k, { ...o, reorder: true }));
      coreset = onHost ? await hostGreedy(hostChunks, projectedDims, count, greedy) : await greedyKCenter(chunks, count, greedy);
    }
    tf.dispose(chunks);
    chunks.length = 0;
    hostChunks.length = 0;
    const t2 = performance.now();
    ctx.progress('memory bank', 0, 1);
    const bank = await store!.gather(coreset);
    sampleRss();
    ctx.progress('memory bank', 1, 1);
    const t3 = performance.now();
    return {
      bank,
      rows: coreset.length,
      width,
      patches: total,
      grid,
      projectionDims: projectedDims,
      coreset,
      store: { where: store!.where, bytes: store!.bytes },
      seconds: { embed: (t1 - t0) / 1000, coreset: (t2 - t1) / 1000, gather: (t3 - t2) / 1000 },
      peakRssBytes: peakRss,
      featureCache: deps.featureCache ? cacheCounts : null,
    };
  } finally {
    tf.dispose(pending);
    tf.dispose(chunks);
    projection?.dispose();
    await store?.close();
  }
}
