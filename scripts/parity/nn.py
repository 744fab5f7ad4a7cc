#!/usr/bin/python3
"""PyTorch reference for the parity tests of our trainable layers and optimisers (engine/nn, engine/optim).

Usage: nn.py DIR. Reads DIR/spec.json, written by tests/nn/parity.test.ts, and writes its results under
DIR/out/ (float32 .npy files plus DIR/out/results.json). Everything runs on the CPU in float32 with
torch.set_num_threads(2). Sections of the spec:

  layers     one torch.nn module per case (torch's own class and kwargs), its state dict loaded STRICTLY
             from the case's .safetensors (written by our TypeScript in torch names and layouts), put in
             train or eval mode, run on "warmup" inputs first (without gradient; BatchNorm's running
             statistics move), then on the inputs; writes out.npy, the gradients of sum(out * R) with
             respect to every input (grad.input.<name>.npy) and parameter (grad.param.<name>.npy), the
             attention weights per head for MultiheadAttention (weights.npy), and every buffer after
             the forwards (buffer.<name>.npy; float64 so num_batches_tracked is exact).
  optim      torch.optim.Adam / AdamW / SGD over given parameters and parameter groups; for each of two
             steps sets p.grad from the given gradients (a missing gradient leaves p.grad None),
             optionally clip_grad_norm_, then step(); writes the parameters and the optimiser state
             tensors after each step (step<k>.param.<name>.npy, step<k>.<state>.<name>.npy) and the
             total norms (results.json).
  schedules  StepLR / MultiStepLR: the lr of each epoch, stepped with step() (chainable form) or with
             step(epoch) (closed form); results.json holds the exact doubles.
  roundtrip  the tiny composite net: strict load of our .safetensors, eval-mode forward on an input
             (roundtrip.out.npy) and torch's own state_dict() written back as .safetensors by this script.

Exits with status 3 when torch is missing (scripts/parity/reference.ts turns it into the install hint).
The .safetensors format is read and written here with json + numpy (no third-party package).
"""
import json
import os
import sys
import warnings

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover - reported to the caller, who tells the user what to do
    sys.stderr.write(f"nn.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)

from safetensors_np import read_safetensors, write_safetensors  # noqa: E402



def load(folder, name):
    return torch.from_numpy(np.load(os.path.join(folder, name)).astype(np.float32))


def save(folder, name, t, dtype=np.float32):
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, name), t.detach().cpu().numpy().astype(dtype))


class TinyNet(nn.Module):
    """Mirror of tests/nn/tiny-net.ts: conv s2 → BN → ReLU → convT s2 → BN → ReLU → bilinear (align_corners) → conv."""

    def __init__(self, up):
        super().__init__()
        self.up = up
        self.enc = nn.Sequential(nn.Conv2d(3, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.dec = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Conv2d(4, 3, 3, padding=1)

    def forward(self, x):
        h = self.enc(x)
        h = torch.relu(self.bn(self.dec(h)))
        h = F.interpolate(h, size=(self.up, self.up), mode="bilinear", align_corners=True)
        return self.head(h)


def build(case):
    kind = case["type"]
    kwargs = dict(case.get("kwargs", {}))
    if kind == "TinyNet":
        return TinyNet(**kwargs)
    if kind == "MultiheadAttention":
        kwargs["batch_first"] = True
    return getattr(nn, kind)(**kwargs)


def run_layer(root, out_root, case):
    folder = os.path.join(root, case["name"])
    out = os.path.join(out_root, case["name"])
    module = build(case)
    module.load_state_dict(read_safetensors(os.path.join(folder, case["state"])), strict=True)
    module.train(case["mode"] == "train")

    def call(tensors):
        if case["call"] == "mha":
            q, k, v = (tensors[n] for n in case["qkv"])
            mask = load(folder, case["mask"]) if case.get("mask") else None
            return module(q, k, v, attn_mask=mask, need_weights=True, average_attn_weights=False)
        (x,) = tensors.values()
        return module(x), None

    with torch.no_grad():
        for warm in case.get("warmup", []):
            call({k: load(folder, f) for k, f in warm.items()})
    inputs = {k: load(folder, f).requires_grad_(True) for k, f in case["inputs"].items()}
    y, weights = call(inputs)
    loss = (y * load(folder, case["r"])).sum()
    loss.backward()
    save(out, "out.npy", y)
    if weights is not None:
        save(out, "weights.npy", weights)
    for k, t in inputs.items():
        save(out, f"grad.input.{k}.npy", t.grad)
    for n, p in module.named_parameters():
        save(out, f"grad.param.{n}.npy", p.grad)
    for n, b in module.named_buffers():
        save(out, f"buffer.{n}.npy", b, np.float64)


def run_optim(root, out_root, spec):
    folder = os.path.join(root, "optim")
    results = {}
    for run in spec["runs"]:
        out = os.path.join(out_root, "optim", run["name"])
        params = {n: nn.Parameter(load(folder, f)) for n, f in spec["params"].items()}
        groups = []
        for g in run["groups"]:
            group = {k: v for k, v in g.items() if k != "params"}
            group["params"] = [params[n] for n in g["params"]]
            groups.append(group)
        kwargs = dict(run.get("kwargs", {}))
        if "betas" in kwargs:
            kwargs["betas"] = tuple(kwargs["betas"])
        # The single-tensor code path, as our TypeScript follows it.
        opt = getattr(torch.optim, run["type"])(groups, foreach=False, **kwargs)
        norms = []
        for k, grads in enumerate(spec["grads"], start=1):
            for n, p in params.items():
                p.grad = load(folder, grads[n]) if grads.get(n) else None
            if run.get("clip") is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), run["clip"])))
            opt.step()
            for n, p in params.items():
                save(out, f"step{k}.param.{n}.npy", p)
                for key, value in opt.state[p].items():
                    if torch.is_tensor(value) and value.numel() == p.numel():
                        save(out, f"step{k}.{key}.{n}.npy", value)
        results[run["name"]] = {"norms": norms, "steps": {n: float(opt.state[p]["step"]) for n, p in params.items() if "step" in opt.state[p]}}
    return results


def run_schedules(specs):
    results = {}
    for s in specs:
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=s["base_lr"])
        sched = getattr(torch.optim.lr_scheduler, s["type"])(opt, **s["kwargs"])
        lrs = [opt.param_groups[0]["lr"]]
        with warnings.catch_warnings():
            # step(epoch) is deprecated but is what UniAD calls; its closed form is what we compare.
            warnings.simplefilter("ignore")
            for epoch in range(1, s["epochs"]):
                opt.step()
                if s.get("closed_form"):
                    sched.step(epoch)
                else:
                    sched.step()
                lrs.append(opt.param_groups[0]["lr"])
        results[s["name"]] = lrs
    return results


def run_roundtrip(root, out_root, spec):
    folder = os.path.join(root, "roundtrip")
    out = os.path.join(out_root, "roundtrip")
    os.makedirs(out, exist_ok=True)
    model = TinyNet(**spec["kwargs"])
    model.load_state_dict(read_safetensors(os.path.join(folder, spec["state"])), strict=True)
    model.eval()
    with torch.no_grad():
        save(out, "out.npy", model(load(folder, spec["input"])))
    write_safetensors(os.path.join(out, "torch_state.safetensors"), model.state_dict())


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: nn.py DIR (DIR/spec.json written by tests/nn/parity.test.ts)")
    root = sys.argv[1]
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float32)
    with open(os.path.join(root, "spec.json")) as f:
        spec = json.load(f)
    out_root = os.path.join(root, "out")
    os.makedirs(out_root, exist_ok=True)
    results = {"torch": torch.__version__}
    for case in spec.get("layers", []):
        run_layer(root, out_root, case)
    if "optim" in spec:
        results["optim"] = run_optim(root, out_root, spec["optim"])
    if "schedules" in spec:
        results["schedules"] = run_schedules(spec["schedules"])
    if "roundtrip" in spec:
        run_roundtrip(root, out_root, spec["roundtrip"])
    with open(os.path.join(out_root, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
