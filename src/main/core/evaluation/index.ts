/**
 * Evaluation: exact ranking metrics (AUROC as sklearn, AUPRO as the MVTec AD script, F1-max), the
 * post-processing every method shares, .npy I/O, the .amap anomaly-map format, and the evaluation
 * of a folder of predictions. One import point for the rest of the core.
 */
export { MetricUndefinedError, CURVE_SAMPLES, type Curve } from './curve';
export { scoreMetrics, rocAuc, f1Max, type ScoreMetrics } from './score-metrics';
export { pixelMetrics, pixelAuroc, aupro, type PixelSet, type PixelSubset, type PixelMetrics, type PixelMetricsOptions } from './pixel-metrics';
export { labelComponents, type Components } from './components';
export {
  gaussianBlur,
  gaussianKernel,
  resizeBilinear,
  resizeNearest,
  MapStats,
  runDisplayScale,
  sharedDisplayScale,
  normalizeForDisplay,
  type BlurPadding,
  type DisplayScale,
} from './post-process';
export { parseNpy, npyToMap, encodeNpy, NpyError, type NpyArray, type NpyDtype, type FloatMap } from './npy';
export { float32ToHalf, float32ToHalfBits, halfToFloat32 } from './float16';
export { MapPackWriter, MapPackReader, MapPackError, type MapPackEntry, type MapPackIndex } from './map-pack';
export {
  evaluatePredictions,
  evaluateScopes,
  meanMetrics,
  EvaluationInputError,
  type EvaluatePredictionsOptions,
  type EvaluationResult,
  type EvaluationScope,
  type MetricSet,
  type ScopedTestSet,
} from './evaluate-predictions';
