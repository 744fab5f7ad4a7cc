"""The TF-ported EfficientNet-B4 that UniAD uses (lukemelas EfficientNet-PyTorch, weights
efficientnet-b4-6ed6700e.pth), written again in plain torch as the reference for our
tf_efficientnet_b4 (src/main/core/engine/backbones/tf-efficientnet.ts).

Its module names are lukemelas' (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv`, `_bn0`, `_depthwise_conv`,
`_bn1`, `_se_reduce`, `_se_expand`, `_project_conv`, `_bn2`, `_conv_head`, `_bn1`, `_fc`), so the
official checkpoint converted to .safetensors loads strictly by name. What sets it apart from timm's
and torchvision's efficientnet_b4:
  - BatchNorm eps 1e-3 (lukemelas `efficientnet()`: batch_norm_epsilon=1e-3);
  - TF 'same' padding as *static* padding: each conv's pad is computed once, for the image size the
    network was built for (380 for B4, the size tracked conv by conv as ceil(size / stride)), and
    applied as it is to whatever size comes in (Conv2dStaticSamePadding). Padding (before, after) on
    each spatial axis: total = max((ceil(n/s) - 1)·s + k - n, 0), before = total // 2.
Eval only: drop connect is the identity, swish is x·sigmoid(x).

`padding` chooses the rule, so a parity test can show that the choice matters:
  "static"    the above (the default; what UniAD runs);
  "dynamic"   TF 'same' computed from the actual input (Conv2dDynamicSamePadding);
  "symmetric" k // 2 on both sides (timm's and torchvision's efficientnet_b4).
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

# B0's stages: kernel, stride of the first block, expansion, output channels, repeats.
B0_STAGES = [(3, 1, 1, 16, 1), (3, 2, 6, 24, 2), (5, 2, 6, 40, 2), (3, 2, 6, 80, 3), (5, 1, 6, 112, 3), (5, 2, 6, 192, 4), (3, 1, 6, 320, 1)]
B4 = {"width": 1.4, "depth": 1.8, "image_size": 380}
# Flat block index whose output each layer is (UniAD's outblocks for B4: [1, 5, 9, 21, 31]).
LAYER_BLOCK = {"layer1": 1, "layer2": 5, "layer3": 9, "layer4": 21, "layer5": 31}


def round_channels(c, width):
    v = c * width
    r = max(8, int(v + 4) // 8 * 8)
    return r + 8 if r < 0.9 * v else r


def same_pad(n, k, s):
    """TF 'same' padding of one axis of size n: (before, after)."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


class PaddedConv(nn.Conv2d):
    """A bias-free (unless asked) conv whose padding follows one of the three rules."""

    def __init__(self, cin, cout, k, stride=1, groups=1, bias=False, built_for=None, padding="static"):
        super().__init__(cin, cout, k, stride=stride, padding=0, groups=groups, bias=bias)
        self.rule = padding
        self.static = same_pad(built_for, k, stride) if built_for is not None else (0, 0)

    def pads(self, h, w):
        k, s = self.kernel_size[0], self.stride[0]
        if self.rule == "static":
            return self.static, self.static
        if self.rule == "dynamic":
            return same_pad(h, k, s), same_pad(w, k, s)
        return (k // 2, k // 2), (k // 2, k // 2)

    def forward(self, x):
        (t, b), (l, r) = self.pads(x.shape[2], x.shape[3])
        if t or b or l or r:
            x = F.pad(x, [l, r, t, b])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class MBConv(nn.Module):
    def __init__(self, cin, cout, k, stride, expand, size, eps, padding):
        super().__init__()
        mid = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = PaddedConv(cin, mid, 1, padding=padding)
            self._bn0 = nn.BatchNorm2d(mid, eps=eps)
        self._depthwise_conv = PaddedConv(mid, mid, k, stride, groups=mid, built_for=size, padding=padding)
        self._bn1 = nn.BatchNorm2d(mid, eps=eps)
        squeezed = max(1, int(cin * 0.25))
        self._se_reduce = nn.Conv2d(mid, squeezed, 1)
        self._se_expand = nn.Conv2d(squeezed, mid, 1)
        self._project_conv = PaddedConv(mid, cout, 1, padding=padding)
        self._bn2 = nn.BatchNorm2d(cout, eps=eps)
        self.skip = stride == 1 and cin == cout

    def forward(self, inputs):
        x = inputs
        if self.expand:
            x = F.silu(self._bn0(self._expand_conv(x)))
        x = F.silu(self._bn1(self._depthwise_conv(x)))
        s = F.silu(self._se_reduce(F.adaptive_avg_pool2d(x, 1)))
        x = torch.sigmoid(self._se_expand(s)) * x
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.skip else x


class TfEfficientNet(nn.Module):
    def __init__(self, padding="static", eps=1e-3, cfg=B4):
        super().__init__()
        width, depth, size = cfg["width"], cfg["depth"], cfg["image_size"]
        stem = round_channels(32, width)
        self._conv_stem = PaddedConv(3, stem, 3, 2, built_for=size, padding=padding)
        self._bn0 = nn.BatchNorm2d(stem, eps=eps)
        size = math.ceil(size / 2)
        blocks = []
        cin = stem
        for k, stride, expand, out, repeats in B0_STAGES:
            out = round_channels(out, width)
            for i in range(math.ceil(repeats * depth)):
                s = stride if i == 0 else 1
                blocks.append(MBConv(cin, out, k, s, expand, size, eps, padding))
                size = math.ceil(size / s)
                cin = out
        self._blocks = nn.ModuleList(blocks)
        head = round_channels(1280, width)
        self._conv_head = PaddedConv(cin, head, 1, padding=padding)
        self._bn1 = nn.BatchNorm2d(head, eps=eps)
        self._fc = nn.Linear(head, 1000)

    def features(self, x, layers):
        """{layer: NCHW} for the requested layers, running only as deep as needed."""
        wanted = {LAYER_BLOCK[l]: l for l in layers}
        out = {}
        h = F.silu(self._bn0(self._conv_stem(x)))
        for i, block in enumerate(self._blocks[: max(wanted) + 1]):
            h = block(h)
            if i in wanted:
                out[wanted[i]] = h
        return out

    def static_pads(self):
        """[(name, kernel, stride, (before, after))] of every conv with a kernel above 1."""
        rows = [("_conv_stem", 3, 2, self._conv_stem.static)]
        for i, b in enumerate(self._blocks):
            c = b._depthwise_conv
            rows.append((f"_blocks.{i}._depthwise_conv", c.kernel_size[0], c.stride[0], c.static))
        return rows
