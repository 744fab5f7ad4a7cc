#!/usr/bin/env python3
"""Reference post-processing for MIAD Lab's parity tests.

  post_process.py blur IN.npy OUT.npy --sigma 4 --mode mirror|reflect
      scipy.ndimage.gaussian_filter(truncate=4.0). mode='mirror' is torch's 'reflect' padding (what
      anomalib's GaussianBlur2d uses); mode='reflect' repeats the edge pixel.
  post_process.py resize IN.npy OUT.npy --height H --width W
      bilinear with torch's F.interpolate(align_corners=False) coordinates, evaluated by
      scipy.ndimage.map_coordinates(order=1, mode='nearest'): source = (dst + 0.5) * in/out - 0.5,
      clamped at 0 (torch clamps negative source coordinates; edge replication gives the same value).
"""
import argparse
import sys

try:
    import numpy as np
    from scipy.ndimage import gaussian_filter, map_coordinates
except ImportError as error:
    print(f"missing-packages: {error}", file=sys.stderr)
    sys.exit(3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("op", choices=["blur", "resize"])
    parser.add_argument("src")
    parser.add_argument("dst")
    parser.add_argument("--sigma", type=float, default=4.0)
    parser.add_argument("--mode", default="mirror")
    parser.add_argument("--height", type=int)
    parser.add_argument("--width", type=int)
    args = parser.parse_args()
    src = np.load(args.src).astype(np.float64)
    if args.op == "blur":
        out = gaussian_filter(src, sigma=args.sigma, mode=args.mode, truncate=4.0)
    else:
        h, w = src.shape
        ys = np.maximum((np.arange(args.height) + 0.5) * h / args.height - 0.5, 0)
        xs = np.maximum((np.arange(args.width) + 0.5) * w / args.width - 0.5, 0)
        grid = np.meshgrid(ys, xs, indexing="ij")
        out = map_coordinates(src, grid, order=1, mode="nearest")
    np.save(args.dst, out.astype(np.float64))


if __name__ == "__main__":
    main()
