/**
 * PatchCore's anomaly map, as anomalib's AnomalyMapGenerator: the patch-score grid upsampled to the
 * input size with F.interpolate's default mode, 'nearest' (not bilinear), then a Gaussian blur with
 * σ 4 (kernel 2·int(4σ + 0.5) + 1 = 33 taps, reflect padding). Both steps reuse the evaluation
 * module's torch-exact resize and blur.
 */
import { gaussianBlur, resizeNearest } from '../../evaluation/index';

/**
 * @param patchScores one image's patch scores, shape [h, w]
 * @returns the map, shape [size, size]
 */
export function anomalyMap(patchScores: Float32Array, h: number, w: number, size: number, sigma = 4): Float32Array {
  return gaussianBlur(resizeNearest(patchScores, w, h, size, size), size, size, sigma, 'torch-reflect');
}
