#!/usr/bin/python3
"""Plain-PyTorch reference of FastFlow (Yu et al. 2021) for tests/fastflow, written from the reference
implementation's description (gathierry/FastFlow@2cf1f2f fastflow.py, main.py, constants.py) and FrEIA@1779d1f's
AllInOneBlock (FrEIA/modules/all_in_one_block.py, FrEIA/framework/sequence_inn.py), as ../shared/METHODS.md
section 2 records them. FrEIA is not installed: its block is written here in plain torch. Not copied from either,
and not from the TypeScript.

  norms     per scale nn.LayerNorm([C, H, W], elementwise_affine=True) (`norms.<i>`);
  flows     per scale a SequenceINN (`nf_flows.<i>.module_list.<k>`) of AllInOneBlocks with the reference's
            subnet: Sequential(Conv2d(C1, int(C1 * hidden_ratio), k, padding="same"), ReLU, Conv2d(hidden, 2 * C2, k,
            padding="same")), k = 1 on odd steps unless --conv3x3-only; affine_clamping --clamp, permute_soft False,
            global affine SOFTPLUS with init 1. The block, as FrEIA 1779d1f computes it:
              x1, x2 = split(x, [C - C//2, C//2]); a = subnet(x1) * 0.1; s = clamp * tanh(a[:, :C2]); t = a[:, C2:]
              y = cat(x1, x2 * exp(s) + t); y = conv2d(y * scale + offset, w_perm), scale = 0.1 * softplus_0.5(global_scale)
              log|J| = sum_{C,H,W} s + H * W * sum(log scale)
            and SequenceINN sums the blocks' log|J| (log_det_jac = j + log_det_jac);
  loss      sum over scales of mean_batch(0.5 * sum_{C,H,W} z^2 - log|J|) (fastflow.py forward);
  map       per scale -exp(-0.5 * mean_C z^2) bilinear to the input size (align_corners=False), mean over scales
            (torch.stack(..., -1).mean(-1)); image score = max of the map (anomalib);
  optimiser torch.optim.Adam(parameters, lr, weight_decay) (coupled), eps 1e-8, single-tensor path; w_perm and
            w_perm_inv have requires_grad False, so no gradient and Adam skips them.

State dict names are the reference's without its frozen feature_extractor.*: norms.<i>.weight,
nf_flows.<i>.module_list.<k>.{global_scale, global_offset, w_perm, w_perm_inv, subnet.0.weight, ...}.

Modes (CPU, torch.set_num_threads(2); float32 unless --dtype float64):

  step   --weights W --features DIR --test-features DIR2 --out OUT [--grads-from G]
         Loads W strictly; in train mode runs the norms and flows on the features in DIR (feat.layer{1,2,3}.npy,
         NHWC as the lab holds them) and writes (NCHW)
           OUT/normed.<i>.npy, OUT/z.<i>.<k>.npy, OUT/logjac.<i>.<k>.npy   each LayerNorm's and block's output
           OUT/z.<i>.npy, OUT/logjac.<i>.npy                               each scale's z and summed log|J|
           OUT/grad.<name>.npy     every trainable parameter's gradient of the loss
           OUT/after.<name>.npy    every tensor of the state dict after one Adam step on those gradients (or on
                                   G/grad.<name>.npy, e.g. the lab's, to compare the step itself)
           OUT/results.json        {"loss", "parts"}
         then the eval-mode outputs on DIR2: OUT/eval.scale<i>.npy [B, S, S], OUT/eval.map.npy, OUT/eval.score.npy,
         and the inverse of every scale's flow applied to its z (OUT/eval.inverse.<i>.npy, NCHW).
  checks --weights W --checks DIR --out OUT   the permutation and the soft clamp on their own, for block 0 of
         scale 0: F.conv2d(X, w_perm) and its input gradient for sum(out * R) (X = DIR/perm_x.npy, R =
         DIR/perm_r.npy, NCHW), clamp * tanh(A) and its gradient for sum(out * R) (A = DIR/clamp_a.npy,
         R = DIR/clamp_r.npy): OUT/check.{perm,perm_grad,clamp,clamp_grad}.npy.
         Also OUT/gathierry.pt: the state after the step saved as gathierry main.py saves it (model_state_dict with
         a feature_extractor.* stand-in, optimizer_state_dict).
  convert --checkpoint X.pt --save X.safetensors   a gathierry checkpoint's norms.* and nf_flows.* as .safetensors,
         the frozen feature_extractor.* left out (the lab evaluates it with flowWeights and epochs=0).
  bench  training images/s of one step on cached features (norms, flows, loss, backward, Adam).

Options: --backbone resnet18|wide_resnet50_2 (channels) --size --flow-steps (8) --conv3x3-only --hidden-ratio (1.0)
--clamp (2.0) --lr (1e-3) --weight-decay (1e-5) --dtype float32|float64.
Exits with status 3 when torch is missing (scripts/parity/reference.ts turns that into the install hint).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"fastflow.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402

DTYPE = torch.float32
CHANNELS = {"resnet18": (64, 128, 256), "wide_resnet50_2": (256, 512, 1024)}
STRIDES = (4, 8, 16)


class AllInOneBlock(nn.Module):
    """FrEIA 1779d1f AllInOneBlock with permute_soft=False, SOFTPLUS global affine (init 1), no householder,
    no pre-permutation, unconditional. Attribute order = FrEIA's, so the state dict's order matches."""

    def __init__(self, channels, subnet, clamp):
        super().__init__()
        self.split1 = channels - channels // 2
        self.split2 = channels // 2
        self.clamp = clamp
        self.softplus = nn.Softplus(beta=0.5)
        global_scale = 2.0 * np.log(np.exp(0.5 * 10.0 * 1.0) - 1)
        self.global_scale = nn.Parameter(torch.ones(1, channels, 1, 1) * float(global_scale))
        self.global_offset = nn.Parameter(torch.zeros(1, channels, 1, 1))
        w = np.zeros((channels, channels))
        for i, j in enumerate(np.random.permutation(channels)):
            w[i, j] = 1.0
        self.w_perm = nn.Parameter(torch.FloatTensor(w).view(channels, channels, 1, 1), requires_grad=False)
        self.w_perm_inv = nn.Parameter(torch.FloatTensor(w.T).view(channels, channels, 1, 1), requires_grad=False)
        self.subnet = subnet

    def scale(self):
        return 0.1 * self.softplus(self.global_scale)

    def coupling(self, x1):
        a = self.subnet(x1) * 0.1
        return self.clamp * torch.tanh(a[:, : self.split2]), a[:, self.split2 :]

    def forward(self, x):
        x1, x2 = torch.split(x, [self.split1, self.split2], dim=1)
        s, t = self.coupling(x1)
        j2 = torch.sum(s, dim=(1, 2, 3))
        y = torch.cat((x1, x2 * torch.exp(s) + t), 1)
        scale = self.scale()
        y = F.conv2d(y * scale + self.global_offset, self.w_perm)
        n_pixels = y[0, :1].numel()
        return y, j2 + n_pixels * torch.sum(torch.log(scale))

    def inverse(self, y):
        u = (F.conv2d(y, self.w_perm_inv) - self.global_offset) / self.scale()
        x1, y2 = torch.split(u, [self.split1, self.split2], dim=1)
        s, t = self.coupling(x1)
        return torch.cat((x1, (y2 - t) * torch.exp(-s)), 1)


class Flow(nn.Module):
    """FrEIA's SequenceINN over AllInOneBlocks: `module_list`."""

    def __init__(self, channels, args):
        super().__init__()
        self.module_list = nn.ModuleList()
        for i in range(args.flow_steps):
            k = 1 if (i % 2 == 1 and not args.conv3x3_only) else 3
            c1, c2 = channels - channels // 2, channels // 2
            hidden = int(c1 * args.hidden_ratio)
            subnet = nn.Sequential(nn.Conv2d(c1, hidden, k, padding="same"), nn.ReLU(), nn.Conv2d(hidden, 2 * c2, k, padding="same"))
            self.module_list.append(AllInOneBlock(channels, subnet, args.clamp))

    def forward(self, x):
        log_det_jac = 0
        steps = []
        for block in self.module_list:
            x, j = block(x)
            log_det_jac = j + log_det_jac
            steps.append((x, j))
        return x, log_det_jac, steps

    def inverse(self, z):
        for block in reversed(self.module_list):
            z = block.inverse(z)
        return z


class FastFlowHead(nn.Module):
    """The trainable half of gathierry's FastFlow: norms + nf_flows (the backbone is frozen and outside)."""

    def __init__(self, args):
        super().__init__()
        chans = CHANNELS[args.backbone]
        self.norms = nn.ModuleList([nn.LayerNorm([c, args.size // s, args.size // s], elementwise_affine=True) for c, s in zip(chans, STRIDES)])
        self.nf_flows = nn.ModuleList([Flow(c, args) for c in chans])

    def forward(self, features):
        out = []
        for i, f in enumerate(features):
            normed = self.norms[i](f)
            z, logjac, steps = self.nf_flows[i](normed)
            out.append((normed, z, logjac, steps))
        return out


def fastflow_loss(outputs):
    loss = 0
    parts = []
    for _, z, logjac, _ in outputs:
        part = torch.mean(0.5 * torch.sum(z**2, dim=(1, 2, 3)) - logjac)
        parts.append(part)
        loss += part
    return loss, parts


def anomaly_map(zs, size):
    maps = []
    for z in zs:
        log_prob = -torch.mean(z**2, dim=1, keepdim=True) * 0.5
        maps.append(F.interpolate(-torch.exp(log_prob), size=[size, size], mode="bilinear", align_corners=False))
    scales = [m[:, 0] for m in maps]
    amap = torch.mean(torch.stack(maps, dim=-1), dim=-1)[:, 0]
    return amap, scales


def save(folder, name, t, dtype=None):
    if dtype is None:
        dtype = np.float64 if DTYPE == torch.float64 else np.float32
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(dtype))


def load_features(folder):
    return [torch.from_numpy(np.load(os.path.join(folder, f"feat.layer{i + 1}.npy")).astype(np.float64)).permute(0, 3, 1, 2).contiguous().to(DTYPE) for i in range(3)]


def make_optimizer(model, args):
    return torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay, eps=1e-8, foreach=False)


def mode_step(model, args):
    model.train()
    opt = make_optimizer(model, args)
    feats = load_features(args.features)
    outputs = model(feats)
    for i, (normed, z, logjac, steps) in enumerate(outputs):
        save(args.out, f"normed.{i}.npy", normed)
        save(args.out, f"z.{i}.npy", z)
        save(args.out, f"logjac.{i}.npy", logjac)
        for k, (y, j) in enumerate(steps):
            save(args.out, f"z.{i}.{k}.npy", y)
            save(args.out, f"logjac.{i}.{k}.npy", j)
    loss, parts = fastflow_loss(outputs)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for name, p in model.named_parameters():
        if p.grad is not None:
            save(args.out, f"grad.{name}.npy", p.grad)
    if args.grads_from:
        for name, p in model.named_parameters():
            if not p.requires_grad:
                continue
            g = torch.from_numpy(np.load(os.path.join(args.grads_from, f"grad.{name}.npy"))).to(DTYPE)
            if tuple(g.shape) != tuple(p.shape):
                raise SystemExit(f"--grads-from: grad.{name}.npy has shape {tuple(g.shape)}, the parameter {tuple(p.shape)}")
            p.grad = g
    opt.step()
    for name, t in model.state_dict().items():
        save(args.out, f"after.{name}.npy", t)
    # As gathierry main.py saves it: the whole FastFlow's state dict, frozen feature_extractor.* included (one
    # stand-in tensor here: the lab keeps the backbone apart), with the optimiser's.
    state = {"feature_extractor.conv1.weight": torch.zeros(64, 3, 7, 7), **model.state_dict()}
    torch.save({"epoch": 0, "model_state_dict": state, "optimizer_state_dict": opt.state_dict()}, os.path.join(args.out, "gathierry.pt"))
    model.eval()
    with torch.no_grad():
        test = load_features(args.test_features)
        outs = model(test)
        zs = [z for _, z, _, _ in outs]
        amap, scales = anomaly_map(zs, args.size)
        for i, m in enumerate(scales):
            save(args.out, f"eval.scale{i}.npy", m)
        save(args.out, "eval.map.npy", amap)
        save(args.out, "eval.score.npy", amap.amax(dim=(1, 2)))
        for i, (normed, z, _, _) in enumerate(outs):
            save(args.out, f"eval.inverse.{i}.npy", model.nf_flows[i].inverse(z))
    return {"loss": float(loss), "parts": [float(p) for p in parts]}


def mode_checks(model, args):
    block = model.nf_flows[0].module_list[0]

    def load(name):
        return torch.from_numpy(np.load(os.path.join(args.checks, name)).astype(np.float32)).to(DTYPE)

    x = load("perm_x.npy").requires_grad_(True)
    out = F.conv2d(x, block.w_perm)
    (out * load("perm_r.npy")).sum().backward()
    save(args.out, "check.perm.npy", out)
    save(args.out, "check.perm_grad.npy", x.grad)
    a = load("clamp_a.npy").requires_grad_(True)
    c = block.clamp * torch.tanh(a)
    (c * load("clamp_r.npy")).sum().backward()
    save(args.out, "check.clamp.npy", c)
    save(args.out, "check.clamp_grad.npy", a.grad)
    return {}


def mode_convert(args):
    """A gathierry checkpoint ({'model_state_dict': ...} or a bare state dict) -> .safetensors of norms.* and nf_flows.*
    (the frozen feature_extractor.* left out: the lab loads the backbone on its own)."""
    ckpt = torch.load(args.checkpoint, map_location="cpu")
    sd = ckpt.get("model_state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(sd, dict) or not any(k.startswith("nf_flows.") for k in sd):
        raise SystemExit(f"{args.checkpoint}: not a FastFlow checkpoint (expected a state dict with nf_flows.* tensors)")
    flat = {k: v.float() for k, v in sd.items() if k.startswith("norms.") or k.startswith("nf_flows.")}
    write_safetensors(args.save, flat, {"method": "fastflow", "converted_from": os.path.basename(args.checkpoint), "torch": torch.__version__})
    print(json.dumps({"tensors": len(flat), "dropped": len(sd) - len(flat)}))


def mode_bench(args):
    """Training images/s on cached features: norms, flows, loss, backward, Adam (the lab's step)."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    np.random.seed(0)
    model = FastFlowHead(args)
    model.train()
    opt = make_optimizer(model, args)
    feats = [torch.randn(args.batch_size, c, args.size // s, args.size // s) for c, s in zip(CHANNELS[args.backbone], STRIDES)]

    def step():
        loss, _ = fastflow_loss(model(feats))
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
    parser.add_argument("mode", choices=["step", "checks", "convert", "bench"])
    parser.add_argument("--weights", help="norms + nf_flows state dict (.safetensors), loaded strictly")
    parser.add_argument("--features", help="step: folder of feat.layer{1,2,3}.npy (NHWC)")
    parser.add_argument("--test-features", help="step: folder of the test images' features")
    parser.add_argument("--checks", help="checks: folder of perm_x, perm_r, clamp_a, clamp_r .npy")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--checkpoint", help="convert: a gathierry checkpoint (.pt)")
    parser.add_argument("--save", help="convert: the .safetensors to write")
    parser.add_argument("--grads-from", help="step: take the Adam step with the gradients in this folder")
    parser.add_argument("--backbone", choices=sorted(CHANNELS), default="resnet18")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--flow-steps", type=int, default=8)
    parser.add_argument("--conv3x3-only", action="store_true")
    parser.add_argument("--hidden-ratio", type=float, default=1.0)
    parser.add_argument("--clamp", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-5)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    if args.size % 16:
        parser.error("--size must be a multiple of 16")
    if args.mode == "bench":
        mode_bench(args)
        return
    if args.mode == "convert":
        if not args.checkpoint or not args.save:
            parser.error("convert needs --checkpoint and --save")
        mode_convert(args)
        return
    required = {"step": ("weights", "features", "test_features", "out"), "checks": ("weights", "checks", "out")}[args.mode]
    for r in required:
        if getattr(args, r) is None:
            parser.error(f"{args.mode} mode needs --{r.replace('_', '-')}")
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    model = FastFlowHead(args)
    model.load_state_dict(read_safetensors(args.weights), strict=True)
    model.to(DTYPE)
    results = {"torch": torch.__version__, "dtype": args.dtype}
    results.update({"step": mode_step, "checks": mode_checks}[args.mode](model, args))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
