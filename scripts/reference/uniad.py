#!/usr/bin/python3
"""Plain-PyTorch reference of UniAD's reconstruction (You et al., NeurIPS 2022) for tests/uniad, written from the
paper and the official code's description (zhiyuanyou/UniAD@a5b9d9d models/reconstructions/uniad.py,
utils/criterion_helper.py, utils/eval_helper.py, tools/train_val.py) as ../shared/METHODS.md section 5 records it,
with torch's own nn.MultiheadAttention, nn.LayerNorm, nn.Linear and nn.Embedding. Not copied from the official
code, and not from the TypeScript.

  tokens     feature_align [B, C, H, W] -> (H W) x B x C; optional jitter: tokens + noise * (|token|_2 / C) * scale,
             the noise passed in (--noise), not drawn;
  model      input_proj Linear(C, d); learned positions cat(col_embed[w], row_embed[h]) (d/2 each), added to queries
             and keys of every attention; encoder layers (post-norm): src = LN1(src + MHA(src+pos, src+pos, src, mask));
             src = LN2(src + W2 relu(W1 src)); decoder layers with their own query table learned_embed [HW, d]:
             tgt = LN1(q + MHA(q+pos, memory+pos, memory, mask)); tgt = LN2(tgt + MHA(tgt+pos, out+pos, out, mask));
             tgt = LN3(tgt + FFN(tgt)); `out` is the previous decoder layer's output (the first: memory); a final
             decoder LayerNorm; output_proj Linear(d, C). Dropout is 0 here (parity runs without it).
  mask       [HW, HW]: -inf where the key lies in the query's k x k neighbourhood (clipped at the borders), else 0,
             on [encoder, decoder attention 1, decoder attention 2] as --mask says;
  loss       mean((rec - align)^2) (FeatureMSELoss);
  map        sqrt(sum_c (rec - align)^2), nn.UpsamplingBilinear2d(scale_factor=16) (align_corners=True);
  score      max of F.avg_pool2d(map, pool, stride 1) (EvalImageMax);
  optimiser  clip_grad_norm_(params, clip) then torch.optim.AdamW(lr, betas, eps 1e-8, weight_decay) one step.

Mode `step` (CPU, torch.set_num_threads(2), float32 unless --dtype float64):
  --weights W.safetensors (the lab's initial state dict, official names) --features DIR (align.npy NHWC, optional
  noise.npy NHWC, test.npy NHWC) --config CFG.json --out OUT
  writes OUT/rec.npy (NHWC), OUT/map.npy [B, 16H, 16W], OUT/score.npy [B], OUT/grad.<name>.npy (torch layout),
  OUT/after.<name>.npy (after clipping + one AdamW step), OUT/eval.map.npy, OUT/eval.score.npy (eval mode on
  test.npy, no jitter) and OUT/results.json {"loss", "total_norm", "parameters"}.
Mode `bench`: training images/s of the reconstruction on random cached features (forward, loss, backward, clip,
  AdamW), --config CFG.json --batch-size B --steps N --threads T; prints JSON.

Exits with status 3 when torch is missing (scripts/parity/reference.ts turns that into the install hint).
"""
import argparse
import json
import math
import os
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    sys.exit(3)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parity"))
from safetensors_np import read_safetensors  # noqa: E402

DTYPE = torch.float32


def neighbour_mask(h, w, k):
    allowed = torch.ones(h, w, h, w)
    half = k // 2
    for i in range(h):
        for j in range(w):
            allowed[i, j, max(i - half, 0) : min(i + half + 1, h), max(j - half, 0) : min(j + half + 1, w)] = 0
    allowed = allowed.view(h * w, h * w)
    return torch.zeros(h * w, h * w).masked_fill(allowed == 0, float("-inf")).to(DTYPE)


class PosEmbed(nn.Module):
    def __init__(self, h, w, half):
        super().__init__()
        self.h, self.w = h, w
        self.row_embed = nn.Embedding(h, half)
        self.col_embed = nn.Embedding(w, half)

    def forward(self):
        x = self.col_embed.weight.unsqueeze(0).expand(self.h, self.w, -1)
        y = self.row_embed.weight.unsqueeze(1).expand(self.h, self.w, -1)
        return torch.cat([x, y], dim=-1).reshape(self.h * self.w, -1)


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=0.0)
        self.linear1 = nn.Linear(d, ff)
        self.linear2 = nn.Linear(ff, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)

    def forward(self, src, pos, mask):
        q = src + pos
        src = self.norm1(src + self.self_attn(q, q, src, attn_mask=mask)[0])
        return self.norm2(src + self.linear2(F.relu(self.linear1(src))))


class DecoderLayer(nn.Module):
    def __init__(self, tokens, d, heads, ff):
        super().__init__()
        self.learned_embed = nn.Embedding(tokens, d)
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=0.0)
        self.multihead_attn = nn.MultiheadAttention(d, heads, dropout=0.0)
        self.linear1 = nn.Linear(d, ff)
        self.linear2 = nn.Linear(ff, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)

    def forward(self, out, memory, pos, mask1, mask2):
        b = memory.shape[1]
        q = self.learned_embed.weight.unsqueeze(1).expand(-1, b, -1)
        tgt = self.norm1(q + self.self_attn(q + pos, memory + pos, memory, attn_mask=mask1)[0])
        tgt = self.norm2(tgt + self.multihead_attn(tgt + pos, out + pos, out, attn_mask=mask2)[0])
        return self.norm3(tgt + self.linear2(F.relu(self.linear1(tgt))))


class Holder(nn.Module):
    pass


class UniAD(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        side = cfg["inputSize"] // 16
        d, C = cfg["hiddenDim"], cfg["channels"]
        self.side, self.C = side, C
        self.pos_embed = PosEmbed(side, side, d // 2)
        self.transformer = Holder()
        self.transformer.encoder = Holder()
        self.transformer.encoder.layers = nn.ModuleList([EncoderLayer(d, cfg["heads"], cfg["feedforward"]) for _ in range(cfg["encoderLayers"])])
        self.transformer.decoder = Holder()
        self.transformer.decoder.layers = nn.ModuleList(
            [DecoderLayer(side * side, d, cfg["heads"], cfg["feedforward"]) for _ in range(cfg["decoderLayers"])]
        )
        self.transformer.decoder.norm = nn.LayerNorm(d)
        self.input_proj = nn.Linear(C, d)
        self.output_proj = nn.Linear(d, C)
        use = cfg["neighborSize"] > 0
        m = neighbour_mask(side, side, cfg["neighborSize"]) if use else None
        self.masks = [m if (use and flag) else None for flag in cfg["neighborMask"]]

    def forward(self, align, noise=None, scale=0.0):
        """align [B, C, H, W] -> rec [B, C, H, W]."""
        b = align.shape[0]
        tokens = align.flatten(2).permute(2, 0, 1)  # (H W) x B x C
        if noise is not None:
            norms = tokens.norm(dim=2).unsqueeze(2) / self.C
            tokens = tokens + noise.flatten(2).permute(2, 0, 1) * norms * scale
        src = self.input_proj(tokens)
        pos = self.pos_embed().unsqueeze(1).expand(-1, b, -1)
        memory = src
        for layer in self.transformer.encoder.layers:
            memory = layer(memory, pos, self.masks[0])
        out = memory
        for layer in self.transformer.decoder.layers:
            out = layer(out, memory, pos, self.masks[1], self.masks[2])
        out = self.transformer.decoder.norm(out)
        rec = self.output_proj(out)  # (H W) x B x C
        return rec.permute(1, 2, 0).reshape(b, self.C, self.side, self.side)


def maps_and_scores(rec, align, pool):
    pred = torch.sqrt(torch.sum((rec - align) ** 2, dim=1, keepdim=True))
    up = nn.UpsamplingBilinear2d(scale_factor=16)(pred)
    score = F.avg_pool2d(up, pool, stride=1).flatten(1).max(dim=1).values
    return up[:, 0], score


def nhwc_to_nchw(path):
    return torch.from_numpy(np.load(path).astype(np.float64)).permute(0, 3, 1, 2).contiguous().to(DTYPE)


def save(folder, name, t):
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(np.float64 if DTYPE == torch.float64 else np.float32))


def step(args, cfg):
    model = UniAD(cfg).to(DTYPE)
    tensors = read_safetensors(args.weights)
    model.load_state_dict({k: v.to(DTYPE) for k, v in tensors.items()}, strict=True)
    align = nhwc_to_nchw(os.path.join(args.features, "align.npy"))
    noise_path = os.path.join(args.features, "noise.npy")
    noise = nhwc_to_nchw(noise_path) if os.path.exists(noise_path) else None
    model.train()
    rec = model(align, noise, cfg["jitterScale"])
    loss = torch.mean((rec - align) ** 2)
    loss.backward()
    out = args.out
    os.makedirs(out, exist_ok=True)
    save(out, "rec.npy", rec.permute(0, 2, 3, 1))
    with torch.no_grad():
        m, s = maps_and_scores(rec, align, cfg["scorePool"])
    save(out, "map.npy", m)
    save(out, "score.npy", s)
    names = [n for n, _ in model.named_parameters()]
    for n, p in model.named_parameters():
        save(out, f"grad.{n}.npy", p.grad)
    params = [p for _, p in model.named_parameters()]
    total = torch.nn.utils.clip_grad_norm_(params, cfg["clipMaxNorm"]) if cfg["clipMaxNorm"] > 0 else torch.tensor(0.0)
    opt = torch.optim.AdamW(params, lr=cfg["learningRate"], betas=(cfg["beta1"], cfg["beta2"]), eps=1e-8, weight_decay=cfg["weightDecay"])
    opt.step()
    for n, p in model.named_parameters():
        save(out, f"after.{n}.npy", p)
    model.eval()
    test = nhwc_to_nchw(os.path.join(args.features, "test.npy"))
    with torch.no_grad():
        m, s = maps_and_scores(model(test), test, cfg["scorePool"])
    save(out, "eval.map.npy", m)
    save(out, "eval.score.npy", s)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"loss": loss.item(), "total_norm": float(total), "parameters": names, "count": sum(p.numel() for p in params)}, f)


def bench(args, cfg):
    torch.manual_seed(0)
    model = UniAD(cfg)
    model.train()
    side = cfg["inputSize"] // 16
    b = args.batch_size
    align = torch.rand(b, cfg["channels"], side, side)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    times = []
    for i in range(args.steps + 1):
        t = time.perf_counter()
        noise = torch.randn_like(align)
        rec = model(align, noise, cfg["jitterScale"])
        loss = torch.mean((rec - align) ** 2)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        if i > 0:
            times.append(time.perf_counter() - t)
    per = sum(times) / len(times)
    print(json.dumps({"imagesPerSec": b / per, "secondsPerStep": per, "threads": torch.get_num_threads(), "torch": torch.__version__}))


def main():
    global DTYPE
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["step", "bench"])
    p.add_argument("--weights")
    p.add_argument("--features")
    p.add_argument("--config", required=True)
    p.add_argument("--out")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    DTYPE = torch.float64 if args.dtype == "float64" else torch.float32
    with open(args.config) as f:
        cfg = json.load(f)
    cfg.setdefault("channels", 272)
    if args.mode == "step":
        step(args, cfg)
    else:
        bench(args, cfg)


if __name__ == "__main__":
    main()
