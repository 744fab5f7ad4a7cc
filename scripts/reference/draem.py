#!/usr/bin/python3
"""Plain-PyTorch / numpy reference of MIAD Lab's DRAEM (methods/draem, components/{perlin,image-augment,
ssim,focal,unet-discriminative}.ts), for tests/draem/*.test.ts and bench/draem-train.ts. Written from the
official code's definitions (VitjanZ/DRAEM@2dbf673: model_unet.py, loss.py, perlin.py, data_loader.py,
train_DRAEM.py, test_DRAEM.py) and from Pillow / skimage, not from the TypeScript:

  networks  ReconstructiveSubNetwork (encoder, decoder: a U-Net without skips, widths w..8w) and
            DiscriminativeSubNetwork (encoder_segment, decoder_segment: six blocks, five skip concatenations,
            2 output logits), held as the four attributes of one module, so the state dict is the union of
            the official two (no name overlaps);
  loss      F.mse_loss(rec, target) + (1 - ssim(rec, target)) + focal(softmax(seg), mask), loss.py's SSIM
            (11x11 Gaussian sigma 1.5, depthwise conv, zero padding 5, L from the FIRST argument) and FocalLoss
            (gamma 2, alpha ones, smooth 1e-5), weights 1;
  optimiser torch.optim.Adam([{reconstructive params}, {discriminative params}], lr, betas, eps=1e-8), the
            single-tensor code path;
  map       softmax(seg)[:, 1]; score = max of avg_pool2d(map, 21, stride 1, padding 10) (count_include_pad);
  synthesis perlin.py rand_perlin_2d_np with GIVEN gradient angles, the noise rotated with
            skimage.transform.rotate(noise, -degrees, order=1, mode='constant', cval=0) (imgaug's Affine
            rotation about ((w-1)/2, (h-1)/2): imgaug turns the other way round, hence the minus), thresholded,
            and data_loader.py's blend with a given beta.

Modes (CPU, torch.set_num_threads(2)):

  draem.py synth   --image I.npy (uint8 HxWx3) --texture T.npy (uint8 HxWx3, already augmented)
                   --angles A.npy --res0 R --res1 R --rotation DEG --beta B --threshold 0.5 --out DIR
      DIR/noise.npy (float64, unrotated), DIR/mask.npy (float64 0/1), DIR/augmented.npy (float32 HxWx3),
      DIR/image.npy (the float32 image / 255).
  draem.py augment --image I.npy (uint8 HxWx3) --out DIR
      Pillow's ImageEnhance.Sharpness at factors 0, 0.37, 1, 1.63, 2, ImageOps.posterize at 1..8 bits,
      ImageOps.solarize at thresholds 32, 77, 128, ImageOps.invert, ImageOps.autocontrast at cutoffs 0, 3, 20,
      ImageOps.equalize, imgaug's gamma LUT at 0.5, 0.83, 1.7, 2.0 (numpy float32, as contrast.py), and
      skimage.transform.rotate(image / 255, -degrees, order=1) at 0, 17.5, -44, 90: DIR/<op>.<arg>.npy.
  draem.py losses  --a A.npy --b B.npy --logits S.npy --mask M.npy --out DIR [--dtype float64]
      (NHWC inputs) ssim(a, b) and d ssim / d a; focal(softmax(logits), mask) and d focal / d logits:
      DIR/results.json, DIR/grad_ssim_a.npy (NHWC), DIR/grad_focal_logits.npy (NHWC).
  draem.py step    --weights W.safetensors --augmented X.npy --target Y.npy --mask M.npy --test T.npy
                   --rec-width R --seg-width S --out DIR [--grads-from G] [--save S.safetensors] [--dtype float64]
      Loads W STRICTLY, one training step in train mode on (X, Y, M) (NHWC, the networks' channel order):
        DIR/rec.npy, DIR/seg.npy        train-mode reconstruction and logits (NCHW)
        DIR/grad.<name>.npy             every parameter's gradient
        DIR/after.<name>.npy            every parameter and buffer after one Adam step (with --grads-from G:
                                        stepped with the gradients G/grad.<name>.npy instead of its own)
        DIR/results.json                {"loss", "l2", "ssim", "focal"}
        DIR/eval.rec.npy, DIR/eval.map.npy, DIR/eval.score.npy   eval mode on T after the step
      and with --save the state dict after the step (.safetensors, torch names).
 draem.py evalgrad --weights W.safetensors --augmented X.npy --target Y.npy --mask M.npy --rec-width R --seg-width S
                   --out DIR [--dtype float64]
      The same loss in EVAL mode (every BatchNorm an affine map with W's running statistics), its gradient:
      DIR/evalgrad.<name>.npy, DIR/results.json {"loss"}.
  draem.py bench   --size S --rec-width R --seg-width S --batch-size B --threads N --iters K
      Training images/s of the same step (forward, the three losses, backward, Adam), random weights and
      inputs; prints one JSON line.

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
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"draem.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_np import read_safetensors, write_safetensors  # noqa: E402

DTYPE = torch.float32


# --- networks (model_unet.py) -------------------------------------------------------------------------------


def conv_bn_relu(cin, cout):
    return [nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def double_conv(cin, mid, cout):
    return nn.Sequential(*conv_bn_relu(cin, mid), *conv_bn_relu(mid, cout))


def up_block(cin, cout):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), *conv_bn_relu(cin, cout))


class EncoderReconstructive(nn.Module):
    def __init__(self, in_channels, w):
        super().__init__()
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
        b2 = self.block2(self.mp1(b1))
        b3 = self.block3(self.mp2(b2))
        b4 = self.block4(self.mp3(b3))
        return self.block5(self.mp4(b4))


class DecoderReconstructive(nn.Module):
    def __init__(self, w, out_channels):
        super().__init__()
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


class EncoderDiscriminative(nn.Module):
    def __init__(self, in_channels, w):
        super().__init__()
        self.block1 = double_conv(in_channels, w, w)
        self.mp1 = nn.Sequential(nn.MaxPool2d(2))
        self.block2 = double_conv(w, 2 * w, 2 * w)
        self.mp2 = nn.Sequential(nn.MaxPool2d(2))
        self.block3 = double_conv(2 * w, 4 * w, 4 * w)
        self.mp3 = nn.Sequential(nn.MaxPool2d(2))
        self.block4 = double_conv(4 * w, 8 * w, 8 * w)
        self.mp4 = nn.Sequential(nn.MaxPool2d(2))
        self.block5 = double_conv(8 * w, 8 * w, 8 * w)
        self.mp5 = nn.Sequential(nn.MaxPool2d(2))
        self.block6 = double_conv(8 * w, 8 * w, 8 * w)

    def forward(self, x):
        b1 = self.block1(x)
        b2 = self.block2(self.mp1(b1))
        b3 = self.block3(self.mp2(b2))
        b4 = self.block4(self.mp3(b3))
        b5 = self.block5(self.mp4(b4))
        b6 = self.block6(self.mp5(b5))
        return b1, b2, b3, b4, b5, b6


class DecoderDiscriminative(nn.Module):
    def __init__(self, w, out_channels):
        super().__init__()
        self.up_b = up_block(8 * w, 8 * w)
        self.db_b = double_conv(16 * w, 8 * w, 8 * w)
        self.up1 = up_block(8 * w, 4 * w)
        self.db1 = double_conv(12 * w, 4 * w, 4 * w)
        self.up2 = up_block(4 * w, 2 * w)
        self.db2 = double_conv(6 * w, 2 * w, 2 * w)
        self.up3 = up_block(2 * w, w)
        self.db3 = double_conv(3 * w, w, w)
        self.up4 = up_block(w, w)
        self.db4 = double_conv(2 * w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, out_channels, kernel_size=3, padding=1))

    def forward(self, b1, b2, b3, b4, b5, b6):
        h = self.db_b(torch.cat((self.up_b(b6), b5), dim=1))
        h = self.db1(torch.cat((self.up1(h), b4), dim=1))
        h = self.db2(torch.cat((self.up2(h), b3), dim=1))
        h = self.db3(torch.cat((self.up3(h), b2), dim=1))
        h = self.db4(torch.cat((self.up4(h), b1), dim=1))
        return self.fin_out(h)


class Draem(nn.Module):
    """ReconstructiveSubNetwork's `encoder`/`decoder` and DiscriminativeSubNetwork's `encoder_segment`/`decoder_segment`."""

    def __init__(self, rec_width, seg_width):
        super().__init__()
        self.encoder = EncoderReconstructive(3, rec_width)
        self.decoder = DecoderReconstructive(rec_width, 3)
        self.encoder_segment = EncoderDiscriminative(6, seg_width)
        self.decoder_segment = DecoderDiscriminative(seg_width, 2)

    def forward(self, x):
        rec = self.decoder(self.encoder(x))
        seg = self.decoder_segment(*self.encoder_segment(torch.cat((rec, x), dim=1)))
        return rec, seg

    def groups(self):
        rec = [p for n, p in self.named_parameters() if n.startswith(("encoder.", "decoder."))]
        seg = [p for n, p in self.named_parameters() if n.startswith(("encoder_segment.", "decoder_segment."))]
        return rec, seg


def weights_init(m):
    """train_DRAEM.py weights_init."""
    name = m.__class__.__name__
    if name.find("Conv") != -1:
        m.weight.data.normal_(0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        m.weight.data.normal_(1.0, 0.02)
        m.bias.data.fill_(0)


# --- losses (loss.py) ------------------------------------------------------------------------------------------


def gaussian_window(size=11, sigma=1.5):
    g = torch.tensor([math.exp(-((x - size // 2) ** 2) / float(2 * sigma**2)) for x in range(size)], dtype=torch.float32)
    g = g / g.sum()
    return g.to(DTYPE)


def ssim(img1, img2, window_size=11):
    """loss.py ssim(..., size_average=True) with its data-dependent L; the window a depthwise 11x11 conv."""
    max_val = 255 if torch.max(img1) > 128 else 1
    min_val = -1 if torch.min(img1) < -0.5 else 0
    L = max_val - min_val
    pad = window_size // 2
    channel = img1.shape[1]
    g = gaussian_window(window_size)
    window = (g[:, None] @ g[None, :]).expand(channel, 1, window_size, window_size).contiguous()
    mu1 = F.conv2d(img1, window, padding=pad, groups=channel)
    mu2 = F.conv2d(img2, window, padding=pad, groups=channel)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    sigma1_sq = F.conv2d(img1 * img1, window, padding=pad, groups=channel) - mu1_sq
    sigma2_sq = F.conv2d(img2 * img2, window, padding=pad, groups=channel) - mu2_sq
    sigma12 = F.conv2d(img1 * img2, window, padding=pad, groups=channel) - mu1_mu2
    c1 = (0.01 * L) ** 2
    c2 = (0.03 * L) ** 2
    v1 = 2.0 * sigma12 + c2
    v2 = sigma1_sq + sigma2_sq + c2
    ssim_map = ((2 * mu1_mu2 + c1) * v1) / ((mu1_sq + mu2_sq + c1) * v2)
    return ssim_map.mean()


def focal(probs, target, gamma=2, smooth=1e-5):
    """loss.py FocalLoss()(probs, target): alpha ones, label smoothing by clamping, mean."""
    n, c = probs.shape[:2]
    logit = probs.reshape(n, c, -1).permute(0, 2, 1).reshape(-1, c)
    idx = target.reshape(-1, 1).long()
    one_hot = torch.zeros(idx.shape[0], c, dtype=probs.dtype).scatter_(1, idx, 1)
    one_hot = torch.clamp(one_hot, smooth / (c - 1), 1.0 - smooth)
    pt = (one_hot * logit).sum(1) + smooth
    return (-1 * torch.pow(1 - pt, gamma) * pt.log()).mean()


# --- synthesis (perlin.py, data_loader.py) -------------------------------------------------------------------


def rand_perlin_2d_np_given(shape, res, angles):
    """perlin.py rand_perlin_2d_np with the gradient angles given instead of 2*pi*np.random.rand."""
    fade = lambda t: 6 * t**5 - 15 * t**4 + 10 * t**3  # noqa: E731
    delta = (res[0] / shape[0], res[1] / shape[1])
    d = (shape[0] // res[0], shape[1] // res[1])
    grid = np.mgrid[0 : res[0] : delta[0], 0 : res[1] : delta[1]].transpose(1, 2, 0) % 1
    gradients = np.stack((np.cos(angles), np.sin(angles)), axis=-1)

    def tile(s1, s2):
        return np.repeat(np.repeat(gradients[s1[0] : s1[1], s2[0] : s2[1]], d[0], axis=0), d[1], axis=1)

    def dot(grad, shift):
        g = np.stack((grid[: shape[0], : shape[1], 0] + shift[0], grid[: shape[0], : shape[1], 1] + shift[1]), axis=-1)
        return (g * grad[: shape[0], : shape[1]]).sum(axis=-1)

    lerp = lambda x, y, w: (y - x) * w + x  # noqa: E731
    n00 = dot(tile([0, -1], [0, -1]), [0, 0])
    n10 = dot(tile([1, None], [0, -1]), [-1, 0])
    n01 = dot(tile([0, -1], [1, None]), [0, -1])
    n11 = dot(tile([1, None], [1, None]), [-1, -1])
    t = fade(grid[: shape[0], : shape[1]])
    return math.sqrt(2) * lerp(lerp(n00, n10, t[..., 0]), lerp(n01, n11, t[..., 0]), t[..., 1])


def rotate_like_imgaug(arr, degrees):
    from skimage.transform import rotate

    if degrees == 0:
        return arr.astype(np.float64)
    return rotate(arr, -degrees, order=1, mode="constant", cval=0, preserve_range=True)


def synth_case(image_u8, texture, angles, res0, res1, rotation, beta, threshold, out):
    # float32 on disk (the .npy writer of the tests); the official angles are float64, so widen.
    angles = angles.astype(np.float64)
    h, w = image_u8.shape[:2]
    noise = rand_perlin_2d_np_given((h, w), (res0, res1), angles)
    rotated = rotate_like_imgaug(noise, rotation)
    perlin_thr = np.where(rotated > threshold, np.ones_like(rotated), np.zeros_like(rotated))
    perlin_thr = np.expand_dims(perlin_thr, axis=2)
    image = image_u8.astype(np.float32) / 255.0
    # data_loader.py augment_image, the anomalous branch:
    img_thr = texture.astype(np.float32) * perlin_thr / 255.0
    augmented = image * (1 - perlin_thr) + (1 - beta) * img_thr + beta * image * perlin_thr
    augmented = augmented.astype(np.float32)
    msk = perlin_thr.astype(np.float32)
    augmented = msk * augmented + (1 - msk) * image
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "noise.npy"), noise)
    np.save(os.path.join(out, "mask.npy"), perlin_thr[..., 0])
    np.save(os.path.join(out, "augmented.npy"), augmented.astype(np.float32))
    np.save(os.path.join(out, "image.npy"), image)


def mode_synth(args):
    """One case from the flags, or with --cases a JSON list of {angles, res0, res1, rotation, beta, out} (one process for all)."""
    image_u8 = np.load(args.image)
    texture = np.load(args.texture)
    if args.cases:
        with open(args.cases) as f:
            cases = json.load(f)
        for c in cases:
            synth_case(image_u8, texture, np.load(c["angles"]), c["res0"], c["res1"], c["rotation"], c["beta"], args.threshold, c["out"])
        return
    synth_case(image_u8, texture, np.load(args.angles), args.res0, args.res1, args.rotation, args.beta, args.threshold, args.out)


def mode_augment(args):
    from PIL import Image, ImageEnhance, ImageOps

    img = np.load(args.image)
    p = Image.fromarray(img)
    out = lambda name, a: np.save(os.path.join(args.out, f"{name}.npy"), np.asarray(a))  # noqa: E731
    for f in (0, 0.37, 1, 1.63, 2):
        out(f"sharpness.{f:g}", ImageEnhance.Sharpness(p).enhance(f))
    for b in range(1, 9):
        out(f"posterize.{b}", ImageOps.posterize(p, b))
    for t in (32, 77, 128):
        out(f"solarize.{t}", ImageOps.solarize(p, t))
    out("invert.0", ImageOps.invert(p))
    for c in (0, 3, 20):
        out(f"autocontrast.{c}", ImageOps.autocontrast(p, c))
    out("equalize.0", ImageOps.equalize(p))
    for g in (0.5, 0.83, 1.7, 2.0):
        value_range = np.linspace(0, 1.0, num=256, dtype=np.float32)
        table = np.clip(0 + (value_range ** np.float32(g)) * 255, 0, 255).astype(np.uint8)
        out(f"gamma.{g:g}", table[img])
    for deg in (0, 17.5, -44, 90):
        out(f"rotate.{deg:g}", rotate_like_imgaug(img / 255.0, deg))


def nhwc(path):
    return torch.from_numpy(np.load(path)).permute(0, 3, 1, 2).contiguous().to(DTYPE)


def save(folder, name, t, dtype=None):
    if dtype is None:
        dtype = np.float64 if DTYPE == torch.float64 else np.float32
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(dtype))


def mode_losses(args):
    a = nhwc(args.a).requires_grad_(True)
    b = nhwc(args.b)
    s = ssim(a, b)
    (ga,) = torch.autograd.grad(s, a)
    logits = nhwc(args.logits).requires_grad_(True)
    mask = nhwc(args.mask)
    fl = focal(torch.softmax(logits, dim=1), mask)
    (gl,) = torch.autograd.grad(fl, logits)
    save(args.out, "grad_ssim_a.npy", ga.permute(0, 2, 3, 1))
    save(args.out, "grad_focal_logits.npy", gl.permute(0, 2, 3, 1))
    return {"ssim": float(s), "ssim_loss": float(1 - s), "focal": float(fl)}


def eval_outputs(model, x):
    model.eval()
    with torch.no_grad():
        rec = model.decoder(model.encoder(x))
        seg = model.decoder_segment(*model.encoder_segment(torch.cat((rec.detach(), x), dim=1)))
        sm = torch.softmax(seg, dim=1)
        maps = sm[:, 1]
        scores = F.avg_pool2d(sm[:, 1:], 21, stride=1, padding=10).amax(dim=(1, 2, 3))
    return rec, maps, scores


def make_optimizer(model, lr, betas):
    rec, seg = model.groups()
    return torch.optim.Adam([{"params": rec, "lr": lr}, {"params": seg, "lr": lr}], betas=betas, eps=1e-8, foreach=False)


def mode_evalgrad(model, args):
    """The loss's gradient in eval mode: every BatchNorm an affine map with the running statistics of W."""
    x, y, m = nhwc(args.augmented), nhwc(args.target), nhwc(args.mask)
    model.eval()
    model.zero_grad(set_to_none=True)
    rec, seg = model(x)
    loss = F.mse_loss(rec, y) + (1.0 - ssim(rec, y)) + focal(torch.softmax(seg, dim=1), m)
    loss.backward()
    for name, p in model.named_parameters():
        save(args.out, f"evalgrad.{name}.npy", p.grad)
    return {"loss": float(loss)}


def mode_step(model, args):
    x, y, m = nhwc(args.augmented), nhwc(args.target), nhwc(args.mask)
    model.train()
    opt = make_optimizer(model, args.lr, (args.beta1, args.beta2))
    opt.zero_grad(set_to_none=True)
    rec, seg = model(x)
    l2 = F.mse_loss(rec, y)
    ssim_loss = 1.0 - ssim(rec, y)
    focal_loss = focal(torch.softmax(seg, dim=1), m)
    loss = l2 + ssim_loss + focal_loss
    loss.backward()
    save(args.out, "rec.npy", rec)
    save(args.out, "seg.npy", seg)
    for name, p in model.named_parameters():
        save(args.out, f"grad.{name}.npy", p.grad)
    if args.grads_from:
        for name, p in model.named_parameters():
            g = torch.from_numpy(np.load(os.path.join(args.grads_from, f"grad.{name}.npy"))).to(DTYPE)
            if tuple(g.shape) != tuple(p.shape):
                raise SystemExit(f"--grads-from: grad.{name}.npy has shape {tuple(g.shape)}, parameter has {tuple(p.shape)}")
            p.grad = g
    opt.step()
    for name, t in model.state_dict().items():
        save(args.out, f"after.{name}.npy", t, np.float64 if name.endswith("num_batches_tracked") else None)
    rec_e, maps, scores = eval_outputs(model, nhwc(args.test))
    save(args.out, "eval.rec.npy", rec_e)
    save(args.out, "eval.map.npy", maps)
    save(args.out, "eval.score.npy", scores)
    if args.save:
        write_safetensors(args.save, model.state_dict(), {"method": "draem", "trained_by": "scripts/reference/draem.py", "torch": torch.__version__})
    return {"loss": float(loss), "l2": float(l2), "ssim": float(ssim_loss), "focal": float(focal_loss)}


def mode_bench(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Draem(args.rec_width, args.seg_width)
    model.apply(weights_init)
    model.train()
    opt = make_optimizer(model, 1e-4, (0.9, 0.999))
    b, s = args.batch_size, args.size
    x = torch.rand(b, 3, s, s)
    y = torch.rand(b, 3, s, s)
    m = (torch.rand(b, 1, s, s) > 0.7).float()

    def step():
        opt.zero_grad()
        rec, seg = model(x)
        loss = F.mse_loss(rec, y) + (1 - ssim(rec, y)) + focal(torch.softmax(seg, dim=1), m)
        loss.backward()
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    seconds = time.perf_counter() - t0
    print(json.dumps({"images_per_s": args.iters * b / seconds, "threads": args.threads, "torch": torch.__version__}))


def mode_bench_synth(args):
    """Samples/s of the official synthesis' mask and blend (data_loader.py augment_image with
    perlin.py rand_perlin_2d_np, the noise rotated by skimage as imgaug's Affine would: imgaug is not
    installed here, so its texture augmenters are left out), one thread, at --size."""
    from skimage.transform import rotate

    rng = np.random.default_rng(0)
    s = args.size
    image = rng.random((s, s, 3), dtype=np.float32)
    texture = (rng.random((s, s, 3)) * 255).astype(np.uint8)

    def sample():
        res0, res1 = 2 ** int(rng.integers(0, 6)), 2 ** int(rng.integers(0, 6))
        noise = rand_perlin_2d_np_given((s, s), (res0, res1), 2 * math.pi * rng.random((res0 + 1, res1 + 1)))
        noise = rotate(noise, float(rng.uniform(-90, 90)), order=1, mode="constant", cval=0, preserve_range=True)
        perlin_thr = np.expand_dims(np.where(noise > 0.5, np.ones_like(noise), np.zeros_like(noise)), axis=2)
        img_thr = texture.astype(np.float32) * perlin_thr / 255.0
        beta = float(rng.random()) * 0.8
        augmented = (image * (1 - perlin_thr) + (1 - beta) * img_thr + beta * image * perlin_thr).astype(np.float32)
        msk = perlin_thr.astype(np.float32)
        return msk * augmented + (1 - msk) * image

    sample()
    n = args.iters
    t0 = time.perf_counter()
    for _ in range(n):
        sample()
    seconds = time.perf_counter() - t0
    print(json.dumps({"samples_per_s": n / seconds, "size": s, "numpy": np.__version__}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["synth", "augment", "losses", "step", "evalgrad", "bench", "bench-synth"])
    parser.add_argument("--out")
    parser.add_argument("--image")
    parser.add_argument("--texture")
    parser.add_argument("--angles")
    parser.add_argument("--cases")
    parser.add_argument("--res0", type=int)
    parser.add_argument("--res1", type=int)
    parser.add_argument("--rotation", type=float, default=0.0)
    parser.add_argument("--beta", type=float)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--a")
    parser.add_argument("--b")
    parser.add_argument("--logits")
    parser.add_argument("--mask")
    parser.add_argument("--weights")
    parser.add_argument("--augmented")
    parser.add_argument("--target")
    parser.add_argument("--test")
    parser.add_argument("--rec-width", type=int, default=8)
    parser.add_argument("--seg-width", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--beta1", type=float, default=0.9)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--grads-from")
    parser.add_argument("--save")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=3)
    args = parser.parse_args()
    if args.mode == "bench":
        mode_bench(args)
        return
    if args.mode == "bench-synth":
        mode_bench_synth(args)
        return
    global DTYPE
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    results = {"torch": torch.__version__, "dtype": args.dtype}
    if args.mode == "synth":
        mode_synth(args)
    elif args.mode == "augment":
        mode_augment(args)
    elif args.mode == "losses":
        results.update(mode_losses(args))
    else:
        model = Draem(args.rec_width, args.seg_width)
        model.load_state_dict(read_safetensors(args.weights), strict=True)
        model.to(DTYPE)
        results.update(mode_evalgrad(model, args) if args.mode == "evalgrad" else mode_step(model, args))
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
