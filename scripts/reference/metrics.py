#!/usr/bin/env python3
"""Reference metrics for MIAD Lab's parity tests and bench/metrics.ts.

Reads a folder of .npy inputs and prints one JSON document:
  maps.npy          float32 [n, h, w]   anomaly maps
  masks.npy         uint8   [n, h, w]   ground truth, > 0 anomalous
  image_scores.npy  float64 [n]         (optional; default: per-map max)
  subsets.npy       bool    [s, n]      (optional; default: one subset of every image)
Options: --pro-limit 0.3, --no-pixel (image metrics only).

AUROC is sklearn.metrics.roc_auc_score; F1-max from sklearn's precision_recall_curve; AUPRO is written
from the MVTec AD evaluation script's definition (compute_pro + trapezoid with interpolation at the
limit, divided by the limit), with 8-connected regions from scipy.ndimage.label and a 3x3 structure
of ones. One deliberate difference from the official script: it casts the FPRs to float32 to save
memory; this reference keeps float64, the definition rather than its rounding (difference ~1e-7).
"""
import argparse
import json
import math
import os
import sys
import time
from bisect import bisect

try:
    import numpy as np
    from scipy.ndimage import label
    from sklearn.metrics import precision_recall_curve, roc_auc_score
except ImportError as error:  # the TypeScript test turns this into "run scripts/install-test-deps.sh"
    print(json.dumps({"error": "missing-packages", "message": str(error)}))
    sys.exit(3)


def f1_max(y_true, y_score):
    if not np.any(y_true):
        raise ValueError("F1 is undefined without a positive")
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    f1 = np.nan_to_num(f1[:-1], nan=0.0)
    k = int(np.argmax(f1))
    return float(f1[k]), float(thresholds[k])


def compute_pro(anomaly_maps, ground_truth_maps):
    """MVTec AD's compute_pro, float64 throughout."""
    structure = np.ones((3, 3), dtype=int)
    num_ok_pixels = 0
    num_gt_regions = 0
    shape = anomaly_maps.shape
    fp_changes = np.zeros(shape, dtype=np.uint32)
    pro_changes = np.zeros(shape, dtype=np.float64)
    for gt_ind, gt_map in enumerate(ground_truth_maps):
        labeled, n_components = label(gt_map > 0, structure)
        num_gt_regions += n_components
        ok_mask = labeled == 0
        num_ok_pixels += np.sum(ok_mask)
        fp_changes[gt_ind, ok_mask] = 1
        for k in range(n_components):
            region_mask = labeled == (k + 1)
            pro_changes[gt_ind, region_mask] = 1.0 / np.sum(region_mask)
    flat = anomaly_maps.ravel()
    order = np.argsort(flat)[::-1]
    sorted_scores = flat[order]
    fprs = np.cumsum(fp_changes.ravel()[order], dtype=np.float64) / num_ok_pixels
    pros = np.cumsum(pro_changes.ravel()[order]) / num_gt_regions
    keep = np.append(np.diff(sorted_scores) != 0, np.True_)
    fprs = np.clip(fprs[keep], None, 1.0)
    pros = np.clip(pros[keep], None, 1.0)
    return np.concatenate(([0.0], fprs, [1.0])), np.concatenate(([0.0], pros, [1.0])), num_gt_regions


def trapezoid(x, y, x_max):
    """MVTec AD's trapezoid(): the area under y(x) up to x_max, interpolating the point at x_max."""
    correction = 0.0
    if x_max not in x:
        ins = bisect(x, x_max)
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    x = x[mask]
    y = y[mask]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def guarded(fn):
    try:
        return fn()
    except (ValueError, ZeroDivisionError, AssertionError, FloatingPointError) as error:
        return {"undefined": str(error)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--pro-limit", type=float, default=0.3)
    parser.add_argument("--no-pixel", action="store_true")
    args = parser.parse_args()
    folder = args.folder
    maps = np.load(os.path.join(folder, "maps.npy"))
    masks = np.load(os.path.join(folder, "masks.npy"))
    n = maps.shape[0]
    path = os.path.join(folder, "image_scores.npy")
    image_scores = np.load(path) if os.path.exists(path) else maps.reshape(n, -1).max(axis=1).astype(np.float64)
    image_labels = (masks.reshape(n, -1) > 0).any(axis=1).astype(np.uint8)
    path = os.path.join(folder, "subsets.npy")
    subsets = np.load(path) if os.path.exists(path) else np.ones((1, n), dtype=bool)
    started = time.perf_counter()
    results = []
    for flags in subsets:
        idx = np.nonzero(flags)[0]
        out = {}
        y, s = image_labels[idx], image_scores[idx]
        out["image_auroc"] = guarded(lambda: float(roc_auc_score(y, s)))
        out["image_f1"] = guarded(lambda: list(f1_max(y, s)))
        if not args.no_pixel:
            m = maps[idx]
            g = masks[idx]
            gt = (g > 0).ravel().astype(np.uint8)
            out["pixel_auroc"] = guarded(lambda: float(roc_auc_score(gt, m.ravel())))
            out["pixel_f1"] = guarded(lambda: list(f1_max(gt, m.ravel())))

            def pro():
                fprs, pros, regions = compute_pro(m, g)
                if regions == 0:
                    raise ValueError("no ground-truth region")
                return {"aupro": trapezoid(fprs, pros, args.pro_limit) / args.pro_limit, "regions": int(regions)}

            with np.errstate(invalid="raise", divide="raise"):
                out["pro"] = guarded(pro)
        results.append(out)
    print(json.dumps({"subsets": results, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
