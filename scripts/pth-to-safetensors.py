#!/usr/bin/python3
"""Converts a PyTorch checkpoint (.pth) of plain tensors to .safetensors, keeping every name, so the
lab can import weights that are published only as .pth, e.g. UniAD's backbone
efficientnet-b4-6ed6700e.pth (lukemelas EfficientNet-PyTorch) for tf_efficientnet_b4:

    /usr/bin/python3 scripts/pth-to-safetensors.py efficientnet-b4-6ed6700e.pth b4.safetensors
    miad-lab weights import --workspace W --id tf_efficientnet_b4.lukemelas b4.safetensors

The file is read with torch.load(weights_only=True): tensors only, no code from the pickle runs.
A checkpoint that wraps its state dict ({"state_dict": {...}} or {"model": {...}}) is unwrapped.
Tensors are written as float32 (float16/bfloat16 widened) or int64, in the file's order.
Needs Debian's python3-torch (scripts/install-torch.sh).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "parity"))

try:
    import torch
except ImportError as exc:  # pragma: no cover - reported to the user
    sys.stderr.write(f"pth-to-safetensors.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

from safetensors_np import write_safetensors  # noqa: E402


def state_dict_of(obj, path):
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not obj:
        raise SystemExit(f"pth-to-safetensors.py: {path} holds no state dict (got {type(obj).__name__})")
    out = {}
    for name, t in obj.items():
        if not isinstance(t, torch.Tensor):
            raise SystemExit(f"pth-to-safetensors.py: {path}: entry {name!r} is a {type(t).__name__}, not a tensor")
        if t.is_floating_point():
            t = t.float()
        elif t.dtype in (torch.int32, torch.int64, torch.uint8, torch.int8, torch.int16):
            t = t.long()
        else:
            raise SystemExit(f"pth-to-safetensors.py: {path}: tensor {name!r} has dtype {t.dtype}, which is not converted")
        out[name] = t
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pth", help="the .pth checkpoint")
    ap.add_argument("out", help="the .safetensors file to write")
    args = ap.parse_args()
    if os.path.exists(args.out):
        raise SystemExit(f"pth-to-safetensors.py: {args.out} exists; choose another name")
    try:
        obj = torch.load(args.pth, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        raise SystemExit(f"pth-to-safetensors.py: cannot read {args.pth} as a PyTorch checkpoint of tensors: {exc}")
    tensors = state_dict_of(obj, args.pth)
    tmp = args.out + ".part"
    write_safetensors(tmp, tensors, {"format": "pt", "converted_from": os.path.basename(args.pth)})
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(tensors)} tensors from {args.pth}")


if __name__ == "__main__":
    main()
