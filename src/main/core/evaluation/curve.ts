/**
 * Ranking metrics built incrementally while walking scores from the highest to the lowest distinct
 * value: AUROC (sklearn's roc_auc_score), F1-max with its threshold, AUPRO (the MVTec AD script's
 * definition) and down-sampled ROC / PR / PRO curves for charts.
 *
 * Why one accumulator for everything: image and pixel metrics, and every subset (overall, each defect
 * type against all normal images) are the same walk over one global order; the caller feeds counts
 * per distinct threshold and commits, and every metric is exact at that granularity.
 *
 * - AUROC: trapezoids between consecutive distinct thresholds, as sklearn's roc_curve + auc do
 *   (ties form one ROC step, i.e. count 1/2 per tied pair). Kept as Σ Δfp·(tp + tp_prev) in counts
 *   and divided by 2·P·N once at the end.
 * - F1-max: 2·tp / (tp + fp + P) at each distinct threshold (precision and recall folded, which is
 *   what sklearn's precision_recall_curve gives); on equal F1 the lowest threshold wins, as
 *   numpy's argmax over sklearn's increasing thresholds does.
 * - AUPRO: FPR = fp / (normal pixels), PRO = Σ over above-threshold region pixels of 1/|region|,
 *   divided by the number of regions; trapezoids while FPR ≤ limit, the point at the limit
 *   interpolated linearly, the area divided by the limit (not by the last FPR reached).
 */

/** Thrown when a metric is undefined for its input (one class absent, no ground-truth region). */
export class MetricUndefinedError extends Error {
  override name = 'MetricUndefinedError';
}

/** A chart curve; `thresholds[i]` is the score threshold (score ≥ t is anomalous) of point i, null for the start point. */
export interface Curve {
  x: number[];
  y: number[];
  thresholds: (number | null)[];
}

/** Points per axis the curves are sampled at (a point is kept each time a count moves by 1/SAMPLES of its total). */
export const CURVE_SAMPLES = 512;

export class RankAccumulator {
  /** Running counts at and above the current threshold; the caller adds to them, then commits. */
  tp = 0;
  fp = 0;
  /** Running Σ 1/|region| over above-threshold region pixels. */
  pro = 0;
  /** Set by callers that batch updates of many accumulators (see pixel-metrics). */
  dirty = false;

  private ptp = 0;
  private pfp = 0;
  private ppro = 0;
  private auc2 = 0;
  private proArea = 0;
  private proDone = false;
  private bestF1 = -1;
  private bestToken = Number.NaN;
  private readonly samples: number[] = [];
  private lastToken = Number.NaN;
  private nextTp: number;
  private nextFp: number;
  private nextPro: number;

  /**
   * @param positives total positive items (P)
   * @param negatives total negative items (N)
   * @param regions number of ground-truth regions (0 for image-level or when AUPRO is not wanted)
   * @param proLimit FPR limit of AUPRO (0.3 in the MVTec AD benchmark)
   */
  constructor(
    readonly positives: number,
    readonly negatives: number,
    readonly regions = 0,
    readonly proLimit = 0.3,
  ) {
    this.nextTp = positives / CURVE_SAMPLES;
    this.nextFp = negatives / CURVE_SAMPLES;
    this.nextPro = regions / CURVE_SAMPLES;
  }

  /**
   * Closes one distinct threshold. `token` identifies it (the score itself, or a float key the
   * caller converts later through `toThreshold` in the result functions).
   */
  commit(token: number): void {
    const tp = this.tp;
    const fp = this.fp;
    this.auc2 += (fp - this.pfp) * (tp + this.ptp);
    const f1 = (2 * tp) / (tp + fp + this.positives);
    if (f1 >= this.bestF1) {
      this.bestF1 = f1;
      this.bestToken = token;
    }
    if (!this.proDone && this.regions > 0) this.integratePro();
    this.ptp = tp;
    this.pfp = fp;
    this.ppro = this.pro;
    this.lastToken = token;
    if (tp >= this.nextTp || fp >= this.nextFp || this.pro >= this.nextPro) this.sample(token);
  }

  /**
   * `r` negative items, each alone at its own threshold, the lowest of them at `token`: the same as
   * r times `fp++; commit()`, in O(1). Between positives the PRO stays constant, so the ROC and PRO
   * areas of the run are rectangles; F1 only falls while fp grows, so it is not checked.
   */
  addNegatives(r: number, token: number): void {
    const tp = this.tp;
    const fp0 = this.fp;
    const fp = fp0 + r;
    this.fp = fp;
    this.auc2 += r * (tp + tp);
    if (!this.proDone && this.regions > 0) {
      const n = this.negatives;
      const limit = this.proLimit;
      const pro = Math.min(1, this.pro / this.regions);
      const fpr = fp / n;
      const pfpr = fp0 / n;
      if (fpr <= limit) this.proArea += (fpr - pfpr) * pro;
      else {
        // The interpolated point at the limit has the same PRO: the run is flat.
        if (pfpr < limit) this.proArea += (limit - pfpr) * pro;
        this.proDone = true;
      }
    }
    this.pfp = fp;
    this.lastToken = token;
    if (fp >= this.nextFp) this.sample(token);
  }

  /** One positive item alone at its threshold (weight `w` toward PRO): `tp++; pro += w; commit(token)`. */
  addPositive(token: number, w: number): void {
    const tp = this.tp + 1;
    this.tp = tp;
    this.pro += w;
    const f1 = (2 * tp) / (tp + this.fp + this.positives);
    if (f1 >= this.bestF1) {
      this.bestF1 = f1;
      this.bestToken = token;
    }
    // fp is unchanged, so neither the ROC nor the PRO area grows.
    this.ptp = tp;
    this.ppro = this.pro;
    this.lastToken = token;
    if (tp >= this.nextTp || this.pro >= this.nextPro) this.sample(token);
  }

  private sample(token: number): void {
    this.samples.push(token, this.tp, this.fp, this.pro);
    this.nextTp = this.tp + this.positives / CURVE_SAMPLES;
    this.nextFp = this.fp + this.negatives / CURVE_SAMPLES;
    this.nextPro = this.pro + this.regions / CURVE_SAMPLES;
  }

  private integratePro(): void {
    const n = this.negatives;
    const r = this.regions;
    const limit = this.proLimit;
    const fpr = this.fp / n;
    const pro = Math.min(1, this.pro / r);
    const pfpr = this.pfp / n;
    const ppro = Math.min(1, this.ppro / r);
    if (fpr <= limit) {
      this.proArea += (fpr - pfpr) * (pro + ppro) * 0.5;
    } else {
      if (pfpr < limit) {
        const yAt = ppro + ((pro - ppro) * (limit - pfpr)) / (fpr - pfpr);
        this.proArea += (limit - pfpr) * (ppro + yAt) * 0.5;
      }
      this.proDone = true;
    }
  }

  /** AUROC, or null when positives or negatives is 0. Call after the last commit. */
  auroc(): number | null {
    if (this.positives === 0 || this.negatives === 0) return null;
    return this.auc2 / (2 * this.positives * this.negatives);
  }

  /** F1-max and its threshold, or null when there is no positive. */
  f1(toThreshold: (token: number) => number = identity): { f1Max: number; threshold: number } | null {
    if (this.positives === 0 || !(this.bestF1 >= 0)) return null;
    return { f1Max: this.bestF1, threshold: toThreshold(this.bestToken) };
  }

  /** AUPRO up to the limit, divided by the limit; null without regions or normal items. */
  aupro(): number | null {
    if (this.regions === 0 || this.negatives === 0) return null;
    // The last distinct threshold always reaches FPR 1, so the limit has been crossed unless the
    // limit is ≥ 1; then the closing (1, 1) point of the MVTec curve closes the area.
    let area = this.proArea;
    if (!this.proDone && this.proLimit >= 1) {
      const pfpr = this.pfp / this.negatives;
      const ppro = Math.min(1, this.ppro / this.regions);
      area += (1 - pfpr) * (ppro + 1) * 0.5;
    }
    return area / this.proLimit;
  }

  /** ROC, PR and (with regions) PRO curves, down-sampled. Call after the last commit. */
  curves(toThreshold: (token: number) => number = identity): { roc: Curve | null; pr: Curve | null; pro: Curve | null } {
    const P = this.positives;
    const N = this.negatives;
    const R = this.regions;
    const points: number[] = this.samples.slice();
    const n = points.length;
    // The lowest threshold closes every curve; keep it even when the sampler did not fire there.
    if (n === 0 || points[n - 3] !== this.ptp || points[n - 2] !== this.pfp || points[n - 1] !== this.ppro) {
      points.push(this.lastToken, this.ptp, this.pfp, this.ppro);
    }
    const count = points.length / 4;
    const roc: Curve | null = P > 0 && N > 0 ? { x: [0], y: [0], thresholds: [null] } : null;
    const pr: Curve | null = P > 0 ? { x: [], y: [], thresholds: [] } : null;
    const pro: Curve | null = R > 0 && N > 0 ? { x: [0], y: [0], thresholds: [null] } : null;
    for (let i = 0; i < count; i++) {
      const token = points[4 * i]!;
      const tp = points[4 * i + 1]!;
      const fp = points[4 * i + 2]!;
      const ps = points[4 * i + 3]!;
      const th = toThreshold(token);
      if (roc) {
        roc.x.push(fp / N);
        roc.y.push(tp / P);
        roc.thresholds.push(th);
      }
      if (pr && tp + fp > 0) {
        pr.x.push(tp / P);
        pr.y.push(tp / (tp + fp));
        pr.thresholds.push(th);
      }
      if (pro) {
        pro.x.push(fp / N);
        pro.y.push(Math.min(1, ps / R));
        pro.thresholds.push(th);
      }
    }
    return { roc, pr, pro };
  }
}

function identity(x: number): number {
  return x;
}
