/**
 * "Check the training set" (issue 19): the k-fold check as the lab runs it (checks/train-check-job.ts:
 * each fold's PatchCore bank from the other folds, backbone features through the frozen-feature
 * cache, so extracted once per image for all folds) against the naive way, training the same model
 * on each fold from scratch (features extracted again for every fold: about k passes of the backbone
 * over every image instead of one). Same images, folds, seed and backend, measured in the same run;
 * prints training images checked per second of each and the ratio, and how far the scores agree
 * (the cached path rounds features through fp16, as every cached run does).
 *
 *   npx tsx bench/train-check.ts [--backend wasm] [--train 60] [--size 64] [--input 128] [--folds 5] [--arch resnet18]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateMiadMini } from '../src/main/core/datasets/miad-mini/generate';
import { listImageNames } from '../src/main/core/datasets/layout';
import { initBackend } from '../src/main/core/engine/backends';
import { FeatureCache } from '../src/main/core/engine/feature-cache';
import { kFoldScores } from '../src/main/core/checks/train-check-job';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    train: { type: 'string', default: '60' },
    size: { type: 'string', default: '64' },
    input: { type: 'string', default: '128' },
    folds: { type: 'string', default: '5' },
    arch: { type: 'string', default: 'resnet18' },
  },
});

const root = await mkdtemp(join(tmpdir(), 'bench-train-check-'));
try {
  const backend = await initBackend(values.backend);
  const scenario = 'nut_and_bolt';
  await generateMiadMini({ outDir: join(root, 'data'), scenarios: [scenario], train: Number(values.train), test: 2, size: Number(values.size), seed: 1 });
  const good = join(root, 'data', scenario, 'train', 'good');
  const paths = listImageNames(good).map((n) => join(good, n));
  const folds = Number(values.folds);
  const common = {
    method: 'patchcore',
    preset: 'fast',
    overrides: { arch: values.arch as 'resnet18' | 'wide_resnet50_2', inputSize: Number(values.input), batchSize: 16 },
    weights: 'random' as const,
    folds,
    seed: 0,
    progress: () => undefined,
  };
  console.log(`train-check bench: ${paths.length} training images (${values.size} px, input ${values.input}), ${folds} folds, PatchCore fast on a random ${values.arch}, backend ${backend.name}`);

  // The lab's check: a fresh (empty) feature cache, filled by fold 1 and read by the others.
  const cache = await FeatureCache.open(join(root, 'cache'));
  let t0 = performance.now();
  const ours = await kFoldScores(paths, { ...common, featureCache: cache, outDir: join(root, 'ours') });
  const oursSeconds = (performance.now() - t0) / 1000;
  await cache.close();

  // Naive: every fold trains from scratch, extracting every image's features again.
  t0 = performance.now();
  const naive = await kFoldScores(paths, { ...common, featureCache: null, outDir: join(root, 'naive') });
  const naiveSeconds = (performance.now() - t0) / 1000;

  let worst = 0;
  for (let i = 0; i < paths.length; i++) worst = Math.max(worst, Math.abs(ours.scores[i]! - naive.scores[i]!) / Math.max(1e-9, Math.abs(naive.scores[i]!)));
  const rate = (s: number) => paths.length / s;
  console.log(`  k-fold, features cached once  ${oursSeconds.toFixed(1).padStart(7)} s  ${rate(oursSeconds).toFixed(2).padStart(7)} img/s  (backbone passes: ${ours.featureCache!.misses} extracted, ${ours.featureCache!.hits} from the cache)`);
  console.log(`  naive, features per fold      ${naiveSeconds.toFixed(1).padStart(7)} s  ${rate(naiveSeconds).toFixed(2).padStart(7)} img/s  (backbone passes: about ${folds} × ${paths.length})`);
  console.log(`  ratio (ours / naive images/s): ${(naiveSeconds / oursSeconds).toFixed(2)}x; largest relative score difference ${worst.toExponential(2)} (fp16 cached features)`);
} finally {
  await rm(root, { recursive: true, force: true });
}
