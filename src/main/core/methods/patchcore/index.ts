/** PatchCore (Roth et al., CVPR 2022) with anomalib's semantics: see model.ts, train.ts, score.ts, anomaly-map.ts, config.ts, method.ts. */
export { PatchCoreModel, patchEmbedding } from './model';
export { trainMemoryBank, type MemoryBankResult, type TrainContext, type TrainDeps } from './train';
export { scoreEmbedding, type BatchScores } from './score';
export { anomalyMap } from './anomaly-map';
export {
  PATCHCORE_PRESETS,
  patchCoreOverridesSchema,
  resolvePatchCoreConfig,
  type PatchCoreConfig,
  type PatchCoreOverrides,
  type PatchCorePreset,
  type ResolvedPatchCoreConfig,
  type ValueSource,
} from './config';
export { patchcoreMethod } from './method';
export { runPatchCore, type RunPatchCoreOptions, type RunPatchCoreContext, type RunPatchCoreResult, type PatchCoreScope, type PatchCoreImage } from './pipeline';
