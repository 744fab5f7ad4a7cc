/** Building blocks shared by the methods: feature extraction, local averaging, coreset, nearest neighbours, row storage. */
export { FeatureExtractor, loadBackboneTensors, type WeightsSource } from './feature-extractor';
export { localAverage3x3 } from './local-average';
export { jlMinDim, sparseRandomProjection, greedyKCenter, abortError, type GreedyOptions } from './coreset';
export { MemoryBank, type MemoryBankOptions } from './nearest-neighbour';
export { createHalfRowStore, type HalfRowStore } from './half-row-store';
export { loadImageRgb } from './images';
