#!/usr/bin/python3
"""Reference features from torchvision for the parity tests of our TypeScript backbones.

Builds torchvision's model (resnet18 / wide_resnet50_2 / efficientnet_b4), or the TF-ported
tf_efficientnet_b4 of tf_efficientnet.py, with the given .safetensors weights (strict load: every
tensor name and shape must match the model's), runs one image through it
in eval mode and writes the requested layers' outputs (NCHW float32) as <out>/<layer>.npy plus
<out>/features.json ({layer: {shape, file, max_abs}}).

The image is a .png (RGB, 8 bit) or a .npy array [H, W, 3] (uint8 0..255 or float 0..1); it is
scaled to [0, 1] and normalised with the ImageNet mean/std, as the TypeScript side does.

With --bench N it instead times N forward passes of a batch (random input of --size) and prints
one JSON line {"images_per_s": ...} (bench/features.ts uses it), on --threads CPU threads.

efficientnet_b4 weights carry timm's names (our TypeScript side and timm/efficientnet_b4.ra2_in1k
use them); timm_to_torchvision() renames them by an explicit name mapping (not by shapes in order)
onto torchvision's `features.N.M.block.K...`, then loads strictly. Its layers are UniAD's levels:
layer1..layer5 = outputs of torchvision features[1], [2], [3], [5], [7] (timm stages 0, 1, 2, 4, 6;
strides 2, 4, 8, 16, 32; 24, 32, 56, 160, 448 channels). torchvision pads k//2 like timm's
non-"tf_" efficientnet_b4 and uses BN eps 1e-5, so the two networks compute the same function.

tf_efficientnet_b4 weights carry lukemelas EfficientNet-PyTorch names (UniAD's efficientnet-b4-6ed6700e.pth
converted, and our TypeScript side) and load as they are. Its layers are the outputs of flat blocks
1, 5, 9, 21, 31 (the same levels). --padding static|dynamic|symmetric and --bn-eps change its padding
rule and BN eps (tf_efficientnet.py), so a test can show that the real ones matter.

Runs with Debian's python3-torch (scripts/install-torch.sh). No third-party safetensors package is
needed: the format is read here with json + numpy.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import torch
    import torchvision
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"backbone.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

from safetensors_np import read_safetensors  # noqa: E402
from tf_efficientnet import TfEfficientNet  # noqa: E402

LAYERS = ("layer1", "layer2", "layer3", "layer4")
ARCH_LAYERS = {"resnet18": LAYERS, "wide_resnet50_2": LAYERS, "efficientnet_b4": LAYERS + ("layer5",), "tf_efficientnet_b4": LAYERS + ("layer5",)}
# efficientnet_b4: index into torchvision's model.features whose output each layer is.
EFFNET_LAYER_FEATURE = {"layer1": 1, "layer2": 2, "layer3": 3, "layer4": 5, "layer5": 7}
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def timm_to_torchvision(state):
    """Renames a timm efficientnet state dict to torchvision's names; refuses a name it does not know."""
    import re

    bn_fields = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
    rules = [
        (rf"^conv_stem\.weight$", "features.0.0.weight"),
        (rf"^bn1\.{bn_fields}$", r"features.0.1.\1"),
        (rf"^conv_head\.weight$", "features.8.0.weight"),
        (rf"^bn2\.{bn_fields}$", r"features.8.1.\1"),
        (r"^classifier\.(weight|bias)$", r"classifier.1.\1"),
    ]
    # Stage 0 (DepthwiseSeparable, no expansion): block.0 dw, block.1 SE, block.2 project.
    ds = {"conv_dw": "block.0.0", "bn1": "block.0.1", "se.conv_reduce": "block.1.fc1", "se.conv_expand": "block.1.fc2", "conv_pw": "block.2.0", "bn2": "block.2.1"}
    # Stages 1-6 (InvertedResidual): block.0 expand, block.1 dw, block.2 SE, block.3 project.
    ir = {"conv_pw": "block.0.0", "bn1": "block.0.1", "conv_dw": "block.1.0", "bn2": "block.1.1", "se.conv_reduce": "block.2.fc1", "se.conv_expand": "block.2.fc2", "conv_pwl": "block.3.0", "bn3": "block.3.1"}
    out = {}
    for name, tensor in state.items():
        new = None
        for pattern, repl in rules:
            if re.match(pattern, name):
                new = re.sub(pattern, repl, name)
                break
        if new is None:
            m = re.match(r"^blocks\.(\d+)\.(\d+)\.(.+)\.([a-z_]+)$", name)
            if m:
                stage, block, module, field = int(m[1]), m[2], m[3], m[4]
                table = ds if stage == 0 else ir
                if module in table:
                    new = f"features.{stage + 1}.{block}.{table[module]}.{field}"
        if new is None:
            raise SystemExit(f"backbone.py: tensor {name!r} has no torchvision efficientnet counterpart")
        out[new] = tensor
    return out


def build(arch, weights, padding="static", bn_eps=1e-3):
    if arch == "tf_efficientnet_b4":
        model = TfEfficientNet(padding=padding, eps=bn_eps)
    else:
        model = getattr(torchvision.models, arch)(weights=None)
    if weights:
        state = read_safetensors(weights)
        if arch.startswith("efficientnet"):
            state = timm_to_torchvision(state)
        model.load_state_dict(state, strict=True)
    return model.eval()


def load_image(path):
    if path.endswith(".npy"):
        img = np.load(path)
    else:
        from PIL import Image

        img = np.asarray(Image.open(path).convert("RGB"))
    if img.ndim != 3 or img.shape[2] != 3:
        raise SystemExit(f"backbone.py: {path}: expected an [H, W, 3] image, got shape {img.shape}")
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    x = (img - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def features(model, x, layers):
    """Runs the stem and layer1..N; returns {layer: NCHW tensor} for the requested ones."""
    out = {}
    if isinstance(model, TfEfficientNet):
        return model.features(x, layers)
    if isinstance(model, torchvision.models.EfficientNet):
        wanted = {EFFNET_LAYER_FEATURE[l]: l for l in layers}
        h = x
        for i in range(max(wanted) + 1):
            h = model.features[i](h)
            if i in wanted:
                out[wanted[i]] = h
        return out
    deepest = max(LAYERS.index(l) for l in layers)
    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    for i in range(deepest + 1):
        h = getattr(model, LAYERS[i])(h)
        if LAYERS[i] in layers:
            out[LAYERS[i]] = h
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(ARCH_LAYERS))
    ap.add_argument("--weights", help=".safetensors with torch names (omit for torchvision's random init)")
    ap.add_argument("--image", help=".png or .npy [H, W, 3]")
    ap.add_argument("--layers", default="layer1,layer2,layer3,layer4")
    ap.add_argument("--out", help="folder for <layer>.npy and features.json")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    ap.add_argument("--bench", type=int, default=0, help="time N forward passes instead")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--device", default="cpu", help="--bench only: cpu, cuda, cuda:1, ...")
    ap.add_argument("--padding", default="static", choices=["static", "dynamic", "symmetric"], help="tf_efficientnet_b4 only: padding rule (static: UniAD's)")
    ap.add_argument("--bn-eps", type=float, default=1e-3, help="tf_efficientnet_b4 only: BatchNorm eps (1e-3: UniAD's)")
    args = ap.parse_args()

    layers = [l.strip() for l in args.layers.split(",") if l.strip()]
    for l in layers:
        if l not in ARCH_LAYERS[args.arch]:
            raise SystemExit(f"backbone.py: unknown layer {l!r}; {args.arch}'s layers are {', '.join(ARCH_LAYERS[args.arch])}")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.arch != "tf_efficientnet_b4" and (args.padding != "static" or args.bn_eps != 1e-3):
        raise SystemExit("backbone.py: --padding and --bn-eps apply to tf_efficientnet_b4 only")
    model = build(args.arch, args.weights, args.padding, args.bn_eps)

    with torch.no_grad():
        if args.bench > 0:
            torch.manual_seed(0)
            device = torch.device(args.device)
            model = model.to(device)
            x = torch.rand(args.batch, 3, args.size, args.size).to(device)
            # On a GPU the calls only queue kernels: synchronise so the time is the work's.
            sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
            features(model, x, layers)  # warm-up
            sync()
            start = time.perf_counter()
            for _ in range(args.bench):
                features(model, x, layers)
            sync()
            seconds = time.perf_counter() - start
            name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
            print(json.dumps({"images_per_s": args.bench * args.batch / seconds, "threads": torch.get_num_threads(), "torch": torch.__version__, "device": name}))
            return
        if not args.image or not args.out:
            raise SystemExit("backbone.py: --image and --out are required (or --bench N)")
        feats = features(model, load_image(args.image), layers)

    os.makedirs(args.out, exist_ok=True)
    summary = {}
    for name, t in feats.items():
        arr = t.numpy().astype(np.float32)
        np.save(os.path.join(args.out, f"{name}.npy"), arr)
        summary[name] = {"shape": list(arr.shape), "file": f"{name}.npy", "max_abs": float(np.abs(arr).max())}
    with open(os.path.join(args.out, "features.json"), "w") as f:
        tf = {"padding": args.padding, "bn_eps": args.bn_eps} if args.arch == "tf_efficientnet_b4" else {}
        json.dump({"arch": args.arch, **tf, "torch": torch.__version__, "torchvision": torchvision.__version__, "layers": summary}, f, indent=1)


if __name__ == "__main__":
    main()
