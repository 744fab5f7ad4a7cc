#!/usr/bin/python3
"""Plain-PyTorch reference of MIAD Lab's U-Net Auto-Encoder (MIAD A.2.5; design in METHODS.md section 4),
for tests/autoencoder/parity.test.ts. Written from the design, not from the TypeScript:

  network   DRAEM's reconstructive sub-network (VitjanZ/DRAEM model_unet.py `EncoderReconstructive` /
            `DecoderReconstructive`: a U-Net without copy skips; same module names, so the state-dict
            names are DRAEM's), an optional 1x1 bottleneck at 1/16 of the input
            nn.Sequential(Conv2d(8w, L, 1), BatchNorm2d(L), ReLU, Conv2d(L, 8w, 1), BatchNorm2d(8w), ReLU)
            between them, and a tanh on the output (or none);
  input     images NHWC in [0, 1] -> NCHW, (x - mean) / std with mean = std = 0.5;
  loss      F.mse_loss(reconstruction, normalised input) (reduction 'mean');
  map       mean over the channels of the squared error, then (sigma > 0) a Gaussian blur with the kernel of
            evaluation/post-process.ts `gaussianKernel` (radius round(4 sigma): 33 taps at sigma 4, normalised
            to sum 1) and torch 'reflect' padding, as kornia's gaussian_blur2d / anomalib's GaussianBlur2d;
  score     the map's maximum;
  optimiser torch.optim.Adam(lr, betas, eps=1e-8, weight_decay) (coupled L2), single-tensor code path.

Modes (on the CPU in float32 unless --dtype float64, torch.set_num_threads(2)):

  autoencoder.py step  --weights W.safetensors --train X.npy --test T.npy --out DIR [--grads-from G] [options]
      Loads W STRICTLY, runs ONE training step on X in train mode and writes
        DIR/recon.npy                 the train-mode reconstruction (NCHW, normalised space)
        DIR/grad.<name>.npy           every parameter's gradient (state-dict name, torch layout)
        DIR/after.<name>.npy          every parameter and buffer after one Adam step
                                      (num_batches_tracked as float64, exact)
        DIR/results.json              {"torch": version, "loss": the loss as a double}
      then the eval-mode outputs on T (see below). With --grads-from G the Adam step uses the gradients
      in G/grad.<name>.npy (one per parameter, torch layout: e.g. the TypeScript side's) instead of its own,
      so the optimiser step is compared on identical gradients (the train-mode gradients of a deep
      BatchNorm network are only determined to ~1e-2 relative in float32: compare --dtype float64).
  autoencoder.py train --weights W.safetensors --train X.npy --steps N --batch-size B --save S.safetensors
                       --test T.npy --out DIR [options]
      Loads W STRICTLY and trains N steps itself (step k on images [kB, (k+1)B) of X, cyclically), then
      saves its state dict as S (.safetensors written here with numpy: F32 tensors, I64
      num_batches_tracked), and writes results.json ({"losses": [...]}) and the eval-mode outputs on T.
  Eval-mode outputs on T (both modes, after the training):
        DIR/eval.recon.npy            reconstruction (NCHW)
        DIR/eval.map.s<sigma>.npy     maps [batch, H, W] for every --sigmas value
        DIR/eval.score.s<sigma>.npy   scores [batch]

Options: --base-width (8) --latent (0: no bottleneck) --activation tanh|none --lr --beta1 --beta2
--weight-decay --norm-mean --norm-std --sigmas 0,4 --dtype float32|float64 (float64: the weights and images
are widened and everything runs and is written in double: the exact answer the float32 runs scatter around).

Exits with status 3 when torch is missing (scripts/parity/reference.ts turns that into the install hint).
No safetensors package is needed: the format is read and written with json + numpy.
"""
import argparse
import json
import time
import math
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"autoencoder.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402



# --- the network ------------------------------------------------------------------------------------------


def conv_bn_relu(cin, cout):
    """3x3 conv (padding 1, bias) -> BatchNorm2d -> ReLU: three Sequential indices, as model_unet.py."""
    return [nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def double_conv(cin, mid, cout):
    return nn.Sequential(*conv_bn_relu(cin, mid), *conv_bn_relu(mid, cout))


def up_block(cin, cout):
    """x2 bilinear upsampling (align_corners=True), then conv-BN-ReLU: `up1`..`up4` of model_unet.py."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), *conv_bn_relu(cin, cout))


class EncoderReconstructive(nn.Module):
    """DRAEM's encoder: five double-conv blocks (w, 2w, 4w, 8w, 8w) with 2x2 max pooling between them."""

    def __init__(self, in_channels, base_width):
        super().__init__()
        w = base_width
        self.block1 = double_conv(in_channels, w, w)
        self.mp1 = nn.Sequential(nn.MaxPool2d(2))
        self.block2 = double_conv(w, 2 * w, 2 * w)
        self.mp2 = nn.Sequential(nn.MaxPool2d(2))
        self.block3 = double_conv(2 * w, 4 * w, 4 * w)
        self.mp3 = nn.Sequential(nn.MaxPool2d(2))
        self.block4 = double_conv(4 * w, 8 * w, 8 * w)
        self.mp4 = nn.Sequential(nn.MaxPool2d(2))
        self.block5 = double_conv(8 * w, 8 * w, 8 * w)

    def forward(self, x):
        b1 = self.block1(x)
        # model_unet.py pools after block2 with self.mp3 (a slip); both are the same MaxPool2d(2).
        b2 = self.block2(self.mp1(b1))
        b3 = self.block3(self.mp3(b2))
        b4 = self.block4(self.mp3(b3))
        return self.block5(self.mp4(b4))


class DecoderReconstructive(nn.Module):
    """DRAEM's decoder: four (upsample + conv-BN-ReLU, double conv) stages, then a 3x3 conv to the output."""

    def __init__(self, base_width, out_channels=1):
        super().__init__()
        w = base_width
        self.up1 = up_block(8 * w, 8 * w)
        self.db1 = double_conv(8 * w, 8 * w, 4 * w)
        self.up2 = up_block(4 * w, 4 * w)
        self.db2 = double_conv(4 * w, 4 * w, 2 * w)
        self.up3 = up_block(2 * w, 2 * w)
        self.db3 = double_conv(2 * w, 2 * w, w)
        self.up4 = up_block(w, w)
        self.db4 = double_conv(w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, out_channels, kernel_size=3, padding=1))

    def forward(self, b5):
        h = self.db1(self.up1(b5))
        h = self.db2(self.up2(h))
        h = self.db3(self.up3(h))
        h = self.db4(self.up4(h))
        return self.fin_out(h)


class UnetAutoencoder(nn.Module):
    def __init__(self, base_width, latent_channels=0, activation="tanh"):
        super().__init__()
        w = base_width
        self.encoder = EncoderReconstructive(3, w)
        if latent_channels > 0:
            L = latent_channels
            self.bottleneck = nn.Sequential(
                nn.Conv2d(8 * w, L, kernel_size=1), nn.BatchNorm2d(L), nn.ReLU(inplace=True),
                nn.Conv2d(L, 8 * w, kernel_size=1), nn.BatchNorm2d(8 * w), nn.ReLU(inplace=True),
            )
        else:
            self.bottleneck = None
        self.decoder = DecoderReconstructive(w, out_channels=3)
        self.activation = activation

    def forward(self, x):
        code = self.encoder(x)
        if self.bottleneck is not None:
            code = self.bottleneck(code)
        out = self.decoder(code)
        return torch.tanh(out) if self.activation == "tanh" else out


# --- input, loss, map, score --------------------------------------------------------------------------------


def load_images(path, mean, std):
    """.npy NHWC in [0, 1] -> normalised NCHW (float32, or float64 with --dtype float64)."""
    x = torch.from_numpy(np.load(path).astype(np.float32)).permute(0, 3, 1, 2).contiguous().to(DTYPE)
    return (x - mean) / std


def gaussian_kernel(sigma):
    """evaluation/post-process.ts gaussianKernel: radius trunc(4 sigma + 0.5), exp(-i^2 / 2 sigma^2), sum 1 (in double)."""
    radius = int(4 * sigma + 0.5)
    i = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * i * i / (sigma * sigma))
    return torch.from_numpy(k / k.sum()).to(DTYPE)


def gaussian_blur(maps, sigma):
    """maps [b, h, w] -> blurred, 'reflect' padding (edge not repeated), separable: along H, then along W."""
    k = gaussian_kernel(sigma)
    r = (k.numel() - 1) // 2
    x = F.pad(maps[:, None], (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return x[:, 0]


def anomaly_maps(recon, x, sigma):
    raw = ((recon - x) ** 2).mean(dim=1)
    maps = gaussian_blur(raw, sigma) if sigma > 0 else raw
    return maps, maps.amax(dim=(1, 2))


def sigma_tag(s):
    return f"{s:g}"


# --- modes --------------------------------------------------------------------------------------------------


DTYPE = torch.float32


def save(folder, name, t, dtype=None):
    if dtype is None:
        dtype = np.float64 if DTYPE == torch.float64 else np.float32
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(dtype))


def make_optimizer(model, args):
    # foreach=False: the single-tensor code path, which our TypeScript Adam follows operation by operation.
    return torch.optim.Adam(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=1e-8, weight_decay=args.weight_decay, foreach=False)


def write_eval(model, args):
    model.eval()
    x = load_images(args.test, args.norm_mean, args.norm_std)
    with torch.no_grad():
        recon = model(x)
        save(args.out, "eval.recon.npy", recon)
        for s in args.sigmas:
            maps, scores = anomaly_maps(recon, x, s)
            save(args.out, f"eval.map.s{sigma_tag(s)}.npy", maps)
            save(args.out, f"eval.score.s{sigma_tag(s)}.npy", scores)


def mode_step(model, args):
    model.train()
    opt = make_optimizer(model, args)
    x = load_images(args.train, args.norm_mean, args.norm_std)
    opt.zero_grad(set_to_none=True)
    recon = model(x)
    loss = F.mse_loss(recon, x)
    loss.backward()
    save(args.out, "recon.npy", recon)
    for name, p in model.named_parameters():
        save(args.out, f"grad.{name}.npy", p.grad)
    if args.grads_from:
        for name, p in model.named_parameters():
            path = os.path.join(args.grads_from, f"grad.{name}.npy")
            if not os.path.exists(path):
                raise SystemExit(f"--grads-from: {path} is missing (every parameter needs its gradient)")
            g = torch.from_numpy(np.load(path)).to(DTYPE)
            if tuple(g.shape) != tuple(p.shape):
                raise SystemExit(f"--grads-from: {path} has shape {tuple(g.shape)}, parameter '{name}' has {tuple(p.shape)}")
            p.grad = g
    opt.step()
    for name, t in model.state_dict().items():
        save(args.out, f"after.{name}.npy", t, np.float64 if name.endswith("num_batches_tracked") else None)
    return {"loss": float(loss)}


def mode_train(model, args):
    model.train()
    opt = make_optimizer(model, args)
    images = np.load(args.train).astype(np.float32)
    n = images.shape[0]
    b = args.batch_size
    losses = []
    for k in range(args.steps):
        idx = [(k * b + j) % n for j in range(b)]
        x = (torch.from_numpy(images[idx]).permute(0, 3, 1, 2).contiguous().to(DTYPE) - args.norm_mean) / args.norm_std
        opt.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    meta = {"method": "autoencoder", "trained_by": "scripts/reference/autoencoder.py", "steps": args.steps, "torch": torch.__version__}
    write_safetensors(args.save, model.state_dict(), meta)
    return {"losses": losses}


def mode_bench(args):
    """Training images/s of the same step the lab runs (forward, MSE, backward, Adam with coupled
    weight decay), random init and random images, on --threads CPU threads; prints one JSON line."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = UnetAutoencoder(args.base_width, args.latent, args.activation)
    model.train()
    opt = make_optimizer(model, args)
    x = torch.rand(args.batch_size, 3, args.size, args.size) * 2 - 1

    def step():
        opt.zero_grad()
        loss = F.mse_loss(model(x), x)
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
    parser.add_argument("mode", choices=["step", "train", "bench"])
    parser.add_argument("--weights", help="initial state dict (.safetensors, torch names and layouts), loaded strictly")
    parser.add_argument("--train", help="training images, .npy NHWC float in [0, 1]")
    parser.add_argument("--test", help="test images for the eval-mode outputs, .npy NHWC in [0, 1]")
    parser.add_argument("--out", help="output folder")
    parser.add_argument("--size", type=int, default=64, help="bench mode: input size")
    parser.add_argument("--threads", type=int, default=2, help="bench mode: torch threads")
    parser.add_argument("--iters", type=int, default=3, help="bench mode: timed training steps (after one warm-up step)")
    parser.add_argument("--base-width", type=int, default=8)
    parser.add_argument("--latent", type=int, default=0)
    parser.add_argument("--activation", choices=["tanh", "none"], default="tanh")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--norm-mean", type=float, default=0.5)
    parser.add_argument("--norm-std", type=float, default=0.5)
    parser.add_argument("--sigmas", default="0,4", help="comma-separated Gaussian sigmas of the maps (0: raw)")
    parser.add_argument("--steps", type=int, default=3, help="train mode: number of Adam steps")
    parser.add_argument("--batch-size", type=int, default=4, help="train mode: images per step")
    parser.add_argument("--save", help="train mode: where the trained state dict goes (.safetensors)")
    parser.add_argument("--grads-from", help="step mode: take the Adam step with the gradients in this folder (grad.<name>.npy)")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = parser.parse_args()
    if args.mode == "bench":
        mode_bench(args)
        return
    for required in ("weights", "train", "test", "out"):
        if getattr(args, required) is None:
            parser.error(f"{args.mode} mode needs --{required}")
    args.sigmas = [float(s) for s in args.sigmas.split(",") if s.strip()]
    if args.mode == "train" and not args.save:
        parser.error("train mode needs --save")
    if any(not math.isfinite(s) or s < 0 for s in args.sigmas):
        parser.error("sigmas must be finite and >= 0")

    if args.mode == "train" and args.grads_from:
        parser.error("--grads-from is for step mode")
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float32)
    os.makedirs(args.out, exist_ok=True)
    model = UnetAutoencoder(args.base_width, args.latent, args.activation)
    model.load_state_dict(read_safetensors(args.weights), strict=True)
    model.to(DTYPE)
    results = {"torch": torch.__version__, "dtype": args.dtype}
    results.update(mode_step(model, args) if args.mode == "step" else mode_train(model, args))
    write_eval(model, args)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
