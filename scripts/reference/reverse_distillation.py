#!/usr/bin/python3
"""Plain-PyTorch reference of Reverse Distillation (Deng & Li, CVPR 2022) for tests/reverse-distillation, written
from the paper, the official code's description (hq-deng/RD4AD@6554076: resnet.py BN_layer, de_resnet.py, main.py,
test.py) and anomalib v0.3.7's (reverse_distillation/{loss,anomaly_map}.py, components/bottleneck.py), as
../shared/METHODS.md section 1 records them. Not copied from either, and not from the TypeScript.

  teacher   torchvision resnet18 / wide_resnet50_2 (weights from a .safetensors, loaded strictly), eval mode,
            ImageNet-normalised input, outputs of layer1, layer2, layer3;
  bn        the one-class bottleneck (RD4AD BN_layer / anomalib OCBE): layer1 -> conv3x3 s2 -> BN -> ReLU -> conv3x3 s2
            -> BN -> ReLU; layer2 -> conv3x3 s2 -> BN -> ReLU; cat with layer3; then `bn_layer`, a ResNet layer of
            planes 512 (3 Bottlenecks with width_per_group --bottleneck-width, or 2 BasicBlocks for resnet18), first
            block stride 2. RD4AD also builds conv4 (1x1, 1024e -> 512e) + bn4 and never runs them (--conv4);
  decoder   RD4AD de_resnet: layers of planes 256, 128, 64 ([3, 4, 6] Bottlenecks with width_per_group 128, or
            [2, 2, 2] BasicBlocks), each layer's first block with a 2x2 stride-2 ConvTranspose2d in place of its
            strided conv (the 3x3 of a Bottleneck, conv1 of a BasicBlock) and as its shortcut (+ BN); returns
            [layer3 out, layer2 out, layer1 out] = the teacher's [layer1, layer2, layer3] shapes;
  loss      'flattened' (RD4AD main.py): sum over levels of mean_batch(1 - cos(a.view(B, -1), b.view(B, -1)));
            'per-pixel' (anomalib v0.3.7): sum over levels of mean(1 - cos along channels);
  map       per level 1 - F.cosine_similarity(teacher, student) (along channels), F.interpolate to the input size
            (bilinear, align_corners=True); added (RD4AD) or multiplied (anomalib); blurred with sigma 4:
            'symmetric' = scipy.ndimage.gaussian_filter (RD4AD test.py), 'reflect' = kornia gaussian_blur2d's
            33-tap kernel with torch reflect padding (anomalib); image score = max of the blurred map;
  optimiser torch.optim.Adam(decoder + bn parameters, lr, betas, eps 1e-8), single-tensor code path.

State dicts use the official names: RD4AD saves torch.save({'bn': bn.state_dict(), 'decoder': decoder.state_dict()});
flattened with a dot they are `bn.bn_layer.0.conv1.weight`, `decoder.layer1.0.upsample.0.weight`, ... (mode
`convert` does that flattening, from such a .pth to .safetensors).

Modes (CPU, torch.set_num_threads(2); float32 unless --dtype float64, which widens weights and inputs and writes
doubles: the exact answer float32 runs scatter around):

  step     --weights W --features DIR --test-features DIR2 --out OUT [--loss L] [--grads-from G]
           Loads W (bn.*, decoder.*) strictly; in train mode runs the bottleneck and student once on the teacher
           features in DIR (teacher.layer{1,2,3}.npy, NHWC as the lab holds them) and writes
             OUT/embedding.npy, OUT/student.layer{1,2,3}.npy   (NCHW)
             OUT/grad.flattened.<name>.npy, OUT/grad.per-pixel.<name>.npy   every parameter's gradient of each loss
             OUT/after.<name>.npy   every parameter and buffer after one Adam step on --loss's gradients (or on
                                    the gradients in G/grad.<name>.npy, e.g. the lab's, to compare the step itself)
             OUT/results.json       {"loss": {"flattened": .., "per-pixel": ..}, "parts": {...}}
           then the eval-mode outputs on DIR2 (below).
  train    --weights W --teacher T --images X.npy --steps N --batch-size B --save S.pth --test-images Y.npy --out OUT
           As RD4AD main.py: teacher (eval) -> bn -> decoder (train) -> --loss -> Adam, N steps on images [kB, (k+1)B)
           of X cyclically; saves {'bn': ..., 'decoder': ...} with torch.save as S, results.json {"losses": [...]},
           and the eval-mode outputs on the teacher features of Y.
  eval     --student S.safetensors --teacher T --test-images Y.npy --out OUT   eval-mode outputs of a converted checkpoint.
  convert  --checkpoint S.pth --save S.safetensors   flattens {'bn', 'decoder'} to one .safetensors (F32, I64).
  bench    training images/s of one step (teacher forward unless --cached, bn, decoder, loss, backward, Adam).

Eval-mode outputs: OUT/eval.level{1,2,3}.npy (each level's upsampled 1 - cos map [B, S, S]), OUT/eval.raw.{add,
multiply}.npy, OUT/eval.map.<combine>.<border>.npy and OUT/eval.score.<combine>.<border>.npy for border in
{reflect, symmetric} (sigma --sigma).

Options: --backbone resnet18|wide_resnet50_2 --bottleneck-width (64) --conv4 --loss flattened|per-pixel --lr --beta1
--beta2 --sigma (4) --size (the input side; from the features or images otherwise) --dtype float32|float64.
Exits with status 3 when torch is missing (scripts/parity/reference.ts turns that into the install hint).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"reverse_distillation.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

DTYPE = torch.float32
LEVELS = ("layer1", "layer2", "layer3")
COMBINES = ("add", "multiply")
BORDERS = ("reflect", "symmetric")


# --- .safetensors: the shared reader and writer (scripts/parity/safetensors_np.py) ---------------------------

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_np import read_safetensors  # noqa: E402
from safetensors_np import write_safetensors as write_safetensors_as_is  # noqa: E402


def write_safetensors(path, tensors, metadata=None):
    """The shared writer, with float64 tensors (the float64 reference's outputs) stored as float32, as the lab reads them."""
    write_safetensors_as_is(path, {k: (t.float() if t.dtype == torch.float64 else t) for k, t in tensors.items()}, metadata)


# --- the networks -------------------------------------------------------------------------------------------


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, kernel_size=1, stride=stride, bias=False)


def deconv2x2(cin, cout):
    return nn.ConvTranspose2d(cin, cout, kernel_size=2, stride=2, bias=False)


class BasicBlock(nn.Module):
    """torchvision's BasicBlock; `reverse` (the student) swaps the stride-2 conv1 for a 2x2 transposed conv."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, shortcut=None, base_width=64, reverse=False):
        super().__init__()
        if base_width != 64:
            raise ValueError("BasicBlock only supports base_width=64")
        self.conv1 = deconv2x2(inplanes, planes) if reverse and stride == 2 else conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        # The attribute name is the state dict's: 'downsample' in the bottleneck, 'upsample' in the student.
        self.shortcut_name = None
        if shortcut is not None:
            name, module = shortcut
            setattr(self, name, module)
            self.shortcut_name = name

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = getattr(self, self.shortcut_name)(x) if self.shortcut_name else x
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3x3); `reverse` swaps the stride-2 3x3 for a 2x2 transposed conv."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, shortcut=None, base_width=64, reverse=False):
        super().__init__()
        width = int(planes * (base_width / 64.0))
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = deconv2x2(width, width) if reverse and stride == 2 else conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut_name = None
        if shortcut is not None:
            name, module = shortcut
            setattr(self, name, module)
            self.shortcut_name = name

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = getattr(self, self.shortcut_name)(x) if self.shortcut_name else x
        return self.relu(out + identity)


def init_like_rd4ad(module):
    """RD4AD's init loop: nn.Conv2d Kaiming-normal (fan_out, relu), BN 1 / 0; ConvTranspose2d keeps torch's default."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


class OneClassBottleneck(nn.Module):
    """Multi-scale fusion + one-class embedding. Attribute order = RD4AD's (bn_layer first), so state dicts match."""

    def __init__(self, block, blocks, base_width=64, conv4=False):
        super().__init__()
        e = block.expansion
        c1, c2, c3 = 64 * e, 128 * e, 256 * e
        inplanes = 3 * c3
        layers = []
        for i in range(blocks):
            stride = 2 if i == 0 else 1
            shortcut = ("downsample", nn.Sequential(conv1x1(inplanes, 512 * e, stride), nn.BatchNorm2d(512 * e))) if i == 0 else None
            layers.append(block(inplanes, 512, stride, shortcut, base_width))
            inplanes = 512 * e
        self.bn_layer = nn.Sequential(*layers)
        self.conv1 = conv3x3(c1, c2, 2)
        self.bn1 = nn.BatchNorm2d(c2)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(c2, c3, 2)
        self.bn2 = nn.BatchNorm2d(c3)
        self.conv3 = conv3x3(c2, c3, 2)
        self.bn3 = nn.BatchNorm2d(c3)
        if conv4:
            self.conv4 = conv1x1(1024 * e, 512 * e)
            self.bn4 = nn.BatchNorm2d(512 * e)
        init_like_rd4ad(self)

    def forward(self, x):
        l1 = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x[0]))))))
        l2 = self.relu(self.bn3(self.conv3(x[1])))
        return self.bn_layer(torch.cat([l1, l2, x[2]], 1)).contiguous()


class ReverseResNet(nn.Module):
    def __init__(self, block, blocks, base_width=64):
        super().__init__()
        e = block.expansion
        inplanes = 512 * e
        for li, (planes, n) in enumerate(zip((256, 128, 64), blocks)):
            layers = []
            for i in range(n):
                stride = 2 if i == 0 else 1
                shortcut = ("upsample", nn.Sequential(deconv2x2(inplanes, planes * e), nn.BatchNorm2d(planes * e))) if i == 0 else None
                layers.append(block(inplanes, planes, stride, shortcut, base_width, reverse=True))
                inplanes = planes * e
            setattr(self, f"layer{li + 1}", nn.Sequential(*layers))
        init_like_rd4ad(self)

    def forward(self, x):
        a = self.layer1(x)
        b = self.layer2(a)
        c = self.layer3(b)
        return [c, b, a]


class Student(nn.Module):
    """bn + decoder in one module: its state_dict() is the official {'bn', 'decoder'} pair flattened with a dot."""

    def __init__(self, backbone, bottleneck_width, conv4):
        super().__init__()
        if backbone == "resnet18":
            self.bn = OneClassBottleneck(BasicBlock, 2, 64, conv4)
            self.decoder = ReverseResNet(BasicBlock, (2, 2, 2), 64)
        else:
            self.bn = OneClassBottleneck(Bottleneck, 3, bottleneck_width, conv4)
            self.decoder = ReverseResNet(Bottleneck, (3, 4, 6), 128)

    def forward(self, teacher):
        embedding = self.bn(teacher)
        return embedding, self.decoder(embedding)


class Teacher(nn.Module):
    """torchvision's ResNet up to layer3, eval mode, ImageNet normalisation inside."""

    def __init__(self, backbone, weights_path):
        super().__init__()
        net = getattr(torchvision.models, backbone)()
        net.load_state_dict(read_safetensors(weights_path), strict=True)
        self.net = net.eval()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, images):
        n = self.net
        x = (images - self.mean) / self.std
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        a = n.layer1(x)
        b = n.layer2(a)
        c = n.layer3(b)
        return [a, b, c]


# --- loss, map, blur ----------------------------------------------------------------------------------------


def rd_loss(teacher, student, kind):
    parts = []
    for t, s in zip(teacher, student):
        if kind == "flattened":
            cos = F.cosine_similarity(t.reshape(t.shape[0], -1), s.reshape(s.shape[0], -1))
        else:
            cos = F.cosine_similarity(t, s)
        parts.append(torch.mean(1 - cos))
    return sum(parts), parts


def kornia_blur(maps, sigma):
    """kornia gaussian_blur2d (kernel 2*int(4 sigma + 0.5) + 1, torch 'reflect' padding), separable; maps [b, h, w]."""
    radius = int(4 * sigma + 0.5)
    i = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * i * i / (sigma * sigma))
    k = torch.from_numpy(k / k.sum()).to(maps.dtype)
    x = F.pad(maps[:, None], (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return x[:, 0]


def scipy_blur(maps, sigma):
    """RD4AD test.py: scipy.ndimage.gaussian_filter(map, sigma) per image (truncate 4, mode 'reflect' = edge repeated)."""
    from scipy.ndimage import gaussian_filter

    arr = maps.detach().cpu().numpy()
    out = np.stack([gaussian_filter(a, sigma=sigma) for a in arr])
    return torch.from_numpy(out)


def level_maps(teacher, student, size):
    out = []
    for t, s in zip(teacher, student):
        d = (1 - F.cosine_similarity(t, s))[:, None]
        out.append(F.interpolate(d, size=(size, size), mode="bilinear", align_corners=True)[:, 0])
    return out


# --- modes --------------------------------------------------------------------------------------------------


def save(folder, name, t, dtype=None):
    if dtype is None:
        dtype = np.float64 if DTYPE == torch.float64 else np.float32
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(dtype))


def load_features(folder):
    """teacher.layer{1,2,3}.npy, NHWC -> NCHW tensors."""
    return [torch.from_numpy(np.load(os.path.join(folder, f"teacher.{l}.npy")).astype(np.float64)).permute(0, 3, 1, 2).contiguous().to(DTYPE) for l in LEVELS]


def load_images(path):
    return torch.from_numpy(np.load(path).astype(np.float32)).permute(0, 3, 1, 2).contiguous().to(DTYPE)


def make_optimizer(student, args):
    # RD4AD main.py: Adam(list(decoder.parameters()) + list(bn.parameters())); foreach=False is the single-tensor
    # path the lab's Adam follows operation by operation.
    params = list(student.decoder.parameters()) + list(student.bn.parameters())
    return torch.optim.Adam(params, lr=args.lr, betas=(args.beta1, args.beta2), eps=1e-8, foreach=False)


def write_eval(student, teacher_features, args):
    student.eval()
    with torch.no_grad():
        _, out = student(teacher_features)
        size = args.size
        levels = level_maps(teacher_features, out, size)
        for l, m in zip(LEVELS, levels):
            save(args.out, f"eval.{l}.npy", m)
        for combine in COMBINES:
            raw = levels[0] + levels[1] + levels[2] if combine == "add" else levels[0] * levels[1] * levels[2]
            save(args.out, f"eval.raw.{combine}.npy", raw)
            for border in BORDERS:
                maps = kornia_blur(raw, args.sigma) if border == "reflect" else scipy_blur(raw, args.sigma)
                save(args.out, f"eval.map.{combine}.{border}.npy", maps)
                save(args.out, f"eval.score.{combine}.{border}.npy", maps.amax(dim=(1, 2)))


def mode_step(student, args):
    student.train()
    opt = make_optimizer(student, args)
    feats = load_features(args.features)
    args.size = args.size or feats[0].shape[-1] * 4
    embedding, out = student(feats)
    save(args.out, "embedding.npy", embedding)
    for l, s in zip(LEVELS, out):
        save(args.out, f"student.{l}.npy", s)
    losses = {}
    parts = {}
    grads = {}
    for kind in ("flattened", "per-pixel"):
        opt.zero_grad(set_to_none=True)
        loss, ps = rd_loss(feats, out, kind)
        loss.backward(retain_graph=True)
        losses[kind] = float(loss)
        parts[kind] = [float(p) for p in ps]
        grads[kind] = {}
        for name, p in student.named_parameters():
            if p.grad is None:
                continue  # conv4/bn4: never run, no gradient (torch's Adam skips them)
            grads[kind][name] = p.grad.detach().clone()
            save(args.out, f"grad.{kind}.{name}.npy", p.grad)
    for name, p in student.named_parameters():
        if args.grads_from:
            path = os.path.join(args.grads_from, f"grad.{name}.npy")
            if not os.path.exists(path):
                p.grad = None
                continue
            g = torch.from_numpy(np.load(path)).to(DTYPE)
            if tuple(g.shape) != tuple(p.shape):
                raise SystemExit(f"--grads-from: {path} has shape {tuple(g.shape)}, parameter '{name}' has {tuple(p.shape)}")
            p.grad = g
        else:
            p.grad = grads[args.loss].get(name)
    opt.step()
    for name, t in student.state_dict().items():
        save(args.out, f"after.{name}.npy", t, np.float64 if name.endswith("num_batches_tracked") else None)
    write_eval(student, load_features(args.test_features), args)
    return {"loss": losses, "parts": parts}


def mode_train(student, args):
    teacher = Teacher(args.backbone, args.teacher).to(DTYPE)
    images = load_images(args.images)
    args.size = args.size or images.shape[-1]
    opt = make_optimizer(student, args)
    n = images.shape[0]
    b = args.batch_size
    losses = []
    for k in range(args.steps):
        student.train()
        idx = [(k * b + j) % n for j in range(b)]
        with torch.no_grad():
            feats = teacher(images[idx])
        _, out = student(feats)
        loss, _ = rd_loss(feats, out, args.loss)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    # As RD4AD main.py saves it.
    torch.save({"bn": student.bn.state_dict(), "decoder": student.decoder.state_dict()}, args.save)
    with torch.no_grad():
        write_eval(student, teacher(load_images(args.test_images)), args)
    return {"losses": losses}


def mode_eval(student, args):
    teacher = Teacher(args.backbone, args.teacher).to(DTYPE)
    images = load_images(args.test_images)
    args.size = args.size or images.shape[-1]
    with torch.no_grad():
        write_eval(student, teacher(images), args)
    return {}


def mode_convert(args):
    ckpt = torch.load(args.checkpoint, map_location="cpu")
    if not isinstance(ckpt, dict) or "bn" not in ckpt or "decoder" not in ckpt:
        raise SystemExit(f"{args.checkpoint}: not an RD4AD checkpoint (expected a dict with 'bn' and 'decoder' state dicts)")
    flat = {}
    for part in ("bn", "decoder"):
        for name, t in ckpt[part].items():
            flat[f"{part}.{name}"] = t
    write_safetensors(args.save, flat, {"method": "reverse_distillation", "converted_from": os.path.basename(args.checkpoint), "torch": torch.__version__})
    print(json.dumps({"tensors": len(flat)}))


def mode_bench(args):
    """Training images/s of the lab's step: teacher forward (unless --cached), bn, decoder, loss, backward, Adam."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    student = Student(args.backbone, args.bottleneck_width, args.conv4)
    student.train()
    opt = make_optimizer(student, args)
    teacher = getattr(torchvision.models, args.backbone)().eval()
    images = torch.rand(args.batch_size, 3, args.size, args.size)

    def features():
        with torch.no_grad():
            n = teacher
            x = n.maxpool(n.relu(n.bn1(n.conv1(images))))
            a = n.layer1(x)
            b = n.layer2(a)
            return [a, b, n.layer3(b)]

    cached = features()

    def step():
        feats = cached if args.cached else features()
        _, out = student(feats)
        loss, _ = rd_loss(feats, out, args.loss)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    seconds = time.perf_counter() - t0
    print(json.dumps({"images_per_s": args.iters * args.batch_size / seconds, "threads": args.threads, "torch": torch.__version__}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["step", "train", "eval", "convert", "bench"])
    parser.add_argument("--weights", help="initial bn + decoder state dict (.safetensors), loaded strictly")
    parser.add_argument("--student", help="eval mode: bn + decoder state dict (.safetensors), loaded strictly")
    parser.add_argument("--teacher", help="teacher weights (.safetensors, torchvision names)")
    parser.add_argument("--features", help="step mode: folder of teacher.layer{1,2,3}.npy (NHWC)")
    parser.add_argument("--test-features", help="step mode: folder of the test images' teacher features")
    parser.add_argument("--images", help="train mode: training images .npy NHWC in [0, 1]")
    parser.add_argument("--test-images", help="train/eval mode: test images .npy NHWC in [0, 1]")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--save", help="train: the .pth written as RD4AD does; convert: the .safetensors")
    parser.add_argument("--checkpoint", help="convert mode: the .pth to convert")
    parser.add_argument("--grads-from", help="step mode: take the Adam step with the gradients in this folder")
    parser.add_argument("--backbone", choices=["resnet18", "wide_resnet50_2"], default="resnet18")
    parser.add_argument("--bottleneck-width", type=int, default=64)
    parser.add_argument("--conv4", action="store_true", help="build RD4AD's unused conv4/bn4")
    parser.add_argument("--loss", choices=["flattened", "per-pixel"], default="flattened")
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--sigma", type=float, default=4.0)
    parser.add_argument("--size", type=int, default=0, help="input side (default: from the images, or 4x layer1's side)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--cached", action="store_true", help="bench: teacher features computed once (the feature cache)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    if args.mode == "bench":
        mode_bench(args)
        return
    if args.mode == "convert":
        if not args.checkpoint or not args.save:
            parser.error("convert needs --checkpoint and --save")
        mode_convert(args)
        return
    required = {"step": ("weights", "features", "test_features", "out"), "train": ("weights", "teacher", "images", "test_images", "save", "out"), "eval": ("student", "teacher", "test_images", "out")}[args.mode]
    for r in required:
        if getattr(args, r) is None:
            parser.error(f"{args.mode} mode needs --{r.replace('_', '-')}")
    if not math.isfinite(args.sigma) or args.sigma <= 0:
        parser.error("--sigma must be > 0")
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    student = Student(args.backbone, args.bottleneck_width, args.conv4)
    student.load_state_dict(read_safetensors(args.student if args.mode == "eval" else args.weights), strict=True)
    student.to(DTYPE)
    results = {"torch": torch.__version__, "dtype": args.dtype}
    results.update({"step": mode_step, "train": mode_train, "eval": mode_eval}[args.mode](student, args))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
