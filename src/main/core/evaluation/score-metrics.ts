/**
 * Ranking metrics over a modest number of scores (image level: one score per test image), exact
 * against sklearn: roc_auc_score, precision_recall_curve's F1-max, and the curves for charts.
 *
 * Scores are compared as JS numbers (float64), so image scores read from a scores.json keep their
 * full precision; equal scores form one threshold, as numpy's np.diff does in sklearn.
 */
import { MetricUndefinedError, RankAccumulator, type Curve } from './curve';

/** Metrics of one set of scores against binary labels (one level, one subset). */
export interface ScoreMetrics {
  positives: number;
  negatives: number;
  /** null when there is no positive or no negative. */
  auroc: number | null;
  /** null when there is no positive. */
  f1Max: number | null;
  /** Score threshold of f1Max: items with score ≥ it are called anomalous. */
  f1Threshold: number | null;
  roc: Curve | null;
  pr: Curve | null;
}

/**
 * Metrics of `scores` against `labels`.
 * @param scores one finite number per item, shape [n]
 * @param labels truthy (or > 0) for anomalous, shape [n]
 * @param include optional mask of the items to use (shape [n]); the rest are ignored
 */
export function scoreMetrics(
  scores: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  include?: ArrayLike<boolean | number>,
): ScoreMetrics {
  if (scores.length !== labels.length) {
    throw new RangeError(`scores and labels differ in length: ${scores.length} vs ${labels.length}`);
  }
  const idx: number[] = [];
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    if (include && !include[i]) continue;
    const s = scores[i]!;
    if (!Number.isFinite(s)) throw new RangeError(`score ${i} is not finite (${s})`);
    idx.push(i);
    if (isPositive(labels[i]!)) positives++;
  }
  const negatives = idx.length - positives;
  // Descending by score; ties stay together whatever their order, which is all the walk needs.
  idx.sort((a, b) => scores[b]! - scores[a]!);
  const acc = new RankAccumulator(positives, negatives);
  for (let k = 0; k < idx.length; ) {
    const value = scores[idx[k]!]!;
    while (k < idx.length && scores[idx[k]!]! === value) {
      if (isPositive(labels[idx[k]!]!)) acc.tp++;
      else acc.fp++;
      k++;
    }
    acc.commit(value);
  }
  const f1 = acc.f1();
  const { roc, pr } = acc.curves();
  return {
    positives,
    negatives,
    auroc: acc.auroc(),
    f1Max: f1?.f1Max ?? null,
    f1Threshold: f1?.threshold ?? null,
    roc,
    pr,
  };
}

/** sklearn.metrics.roc_auc_score for binary labels; throws MetricUndefinedError with one class only. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const m = scoreMetrics(scores, labels);
  if (m.auroc === null) {
    throw new MetricUndefinedError(
      `AUROC is undefined: the labels hold ${m.positives} anomalous and ${m.negatives} normal items; both classes are needed`,
    );
  }
  return m.auroc;
}

/** The best F1 over all thresholds and that threshold; throws MetricUndefinedError without positives. */
export function f1Max(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): { f1Max: number; threshold: number } {
  const m = scoreMetrics(scores, labels);
  if (m.f1Max === null || m.f1Threshold === null) {
    throw new MetricUndefinedError('F1-max is undefined: the labels hold no anomalous item');
  }
  return { f1Max: m.f1Max, threshold: m.f1Threshold };
}

function isPositive(label: number | boolean): boolean {
  return label === true || (typeof label === 'number' && label > 0);
}
