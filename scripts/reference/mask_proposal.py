#!/usr/bin/env python3
"""Reference of the mask proposed from an anomaly map (src/main/core/annotate/mask-proposal.ts).

  mask_proposal.py MAPS.npy OUT.npy --threshold T --min-area A [--no-fill]

MAPS is float32 [n, h, w]; OUT is uint8 [n, h, w], 255 on the proposal. Per map:
  1. foreground = map >= T;
  2. scipy.ndimage.label with a 3x3 structure of ones (8-connected); components of fewer than A
     pixels are dropped;
  3. scipy.ndimage.binary_fill_holes (its default cross structure: background is 4-connected).
"""
import argparse
import sys

try:
    import numpy as np
    from scipy.ndimage import binary_fill_holes, label
except ImportError as error:
    print(f"missing-packages: {error}", file=sys.stderr)
    sys.exit(3)


def propose(m, threshold, min_area, fill):
    # In float64, as the lab compares a float32 value against a double threshold.
    fg = m.astype(np.float64) >= threshold
    labels, count = label(fg, structure=np.ones((3, 3), dtype=bool))
    if count > 0 and min_area > 1:
        sizes = np.bincount(labels.ravel(), minlength=count + 1)
        keep = sizes >= min_area
        keep[0] = False
        fg = keep[labels]
    if fill:
        fg = binary_fill_holes(fg)
    return np.where(fg, 255, 0).astype(np.uint8)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("maps")
    parser.add_argument("out")
    parser.add_argument("--threshold", type=float, required=True)
    parser.add_argument("--min-area", type=int, default=0)
    parser.add_argument("--no-fill", action="store_true")
    args = parser.parse_args()
    maps = np.load(args.maps).astype(np.float32)
    out = np.stack([propose(m, args.threshold, args.min_area, not args.no_fill) for m in maps])
    np.save(args.out, out)


if __name__ == "__main__":
    main()
