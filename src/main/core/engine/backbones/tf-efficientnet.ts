/**
 * `tf_efficientnet_b4`: the TF-ported EfficientNet-B4 (Tan & Le, ICML 2019) that UniAD (You et al.,
 * NeurIPS 2022) was trained on — lukemelas' EfficientNet-PyTorch with the weights
 * `efficientnet-b4-6ed6700e.pth` (METHODS.md 5.1, 5.7; section 7 item 5). The network is the one of
 * efficientnet.ts (same blocks, channels, repeats, parameter shapes and count, and the same layers
 * layer1..layer5 = flat blocks 1, 5, 9, 21, 31, UNIAD_LAYERS = 272 channels), built by that file's
 * code; this file holds what differs from timm's `efficientnet_b4`:
 *
 *   - BatchNorm ε 1e-3 (lukemelas `efficientnet()`: batch_norm_epsilon=1e-3), not torch's 1e-5.
 *   - TF 'same' padding as *static* padding (lukemelas Conv2dStaticSamePadding): each conv's padding
 *     is computed once, for the image size the network is built for — 380 for B4
 *     (`efficientnet_params`), tracked conv by conv as ⌈size / stride⌉ — and applied unchanged to
 *     whatever size comes in, here UniAD's 224. Per axis: total = max((⌈n/s⌉ − 1)·s + k − n, 0),
 *     `before` = ⌊total/2⌋, `after` = the rest; the same on both axes (the built size is square).
 *     1×1 convs are never padded.
 *   - Parameter names: lukemelas' (below), not timm's.
 *
 * The padding of every conv with k > 1, as built for 380, against TF's dynamic 'same' at 224 and
 * timm's symmetric k//2 (each (before, after), on both axes; a block is `_blocks.N`, flat index N):
 *
 *   conv                          k  s  built for  static (used)  TF at 224 (input)  timm
 *   _conv_stem                    3  2  380        (0, 1)         (0, 1) (224)       (1, 1)
 *   _blocks.0–1  depthwise        3  1  190        (1, 1)         (1, 1)             (1, 1)
 *   _blocks.2    depthwise        3  2  190        (0, 1)         (0, 1) (112)       (1, 1)
 *   _blocks.3–5  depthwise        3  1  95         (1, 1)         (1, 1)             (1, 1)
 *   _blocks.6    depthwise        5  2  95         (2, 2)         (1, 2) (56)        (2, 2)
 *   _blocks.7–9  depthwise        5  1  48         (2, 2)         (2, 2)             (2, 2)
 *   _blocks.10   depthwise        3  2  48         (0, 1)         (0, 1) (28)        (1, 1)
 *   _blocks.11–15 depthwise       3  1  24         (1, 1)         (1, 1)             (1, 1)
 *   _blocks.16–21 depthwise       5  1  24         (2, 2)         (2, 2)             (2, 2)
 *   _blocks.22   depthwise        5  2  24         (1, 2)         (1, 2) (14)        (2, 2)
 *   _blocks.23–29 depthwise       5  1  12         (2, 2)         (2, 2)             (2, 2)
 *   _blocks.30–31 depthwise       3  1  12         (1, 1)         (1, 1)             (1, 1)
 *
 * So four convs pad asymmetrically — the stem and the stride-2 depthwise convs of blocks 2 and 10
 * (0, 1), block 22 (1, 2) — which is where this network differs from timm's; and one, block 6's
 * stride-2 5×5 (the first block of timm's stage 2, which sees 56² for a 224 input), pads (2, 2) where TF proper
 * pads (1, 2): the whole 28² map, and all after it, shifted by one input pixel against TF. Stride-1
 * convs pad (k−1)/2 on both sides whatever the size. At 224 every output is still ⌈n/stride⌉ (112,
 * 56, 28, 14, 7); at other sizes it is ⌊(n + before + after − k)/s⌋ + 1, e.g. 32 (not 33) after the
 * stem of a 65-pixel side, as lukemelas' model gives.
 *
 * Naming: the weights a user brings are UniAD's `efficientnet-b4-6ed6700e.pth` converted to
 * .safetensors, so the names are lukemelas' as they stand in that file: `_conv_stem.weight`, `_bn0.*`;
 * per flat block N `_blocks.N._expand_conv.weight` + `_bn0.*` (absent in blocks 0–1, expansion 1),
 * `_blocks.N._depthwise_conv.weight` + `_bn1.*`, `_blocks.N._se_reduce.{weight,bias}`,
 * `_blocks.N._se_expand.{weight,bias}`, `_blocks.N._project_conv.weight` + `_bn2.*`; then
 * `_conv_head.weight` + `_bn1.*` and `_fc.{weight,bias}` (optional: features never use them). timm's
 * names are not accepted: timm's `tf_efficientnet_b4` and its PyTorch-style `efficientnet_b4` share
 * them, shapes and all, so a file with timm names cannot tell which network it belongs to, while
 * lukemelas' names can only be the TF port. Such a file is refused with a message saying so.
 */
import type { ConvUnitNames, EfficientNetNaming } from './efficientnet';

/** lukemelas' BatchNorm ε for every EfficientNet. */
export const TF_BN_EPS = 1e-3;

/** The image size lukemelas builds B4 for (`efficientnet_params('efficientnet-b4')`), from which every static pad is computed. */
export const TF_B4_BUILT_FOR = 380;

/**
 * TF 'same' padding of one axis of size `n` for a k×k conv of stride `s`, as lukemelas computes it
 * (Conv2dStaticSamePadding with dilation 1): [before, after].
 */
export function sameStaticPadding(n: number, k: number, s: number): [number, number] {
  const total = Math.max((Math.ceil(n / s) - 1) * s + k - n, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

function unit(conv: string, bn: string): ConvUnitNames {
  return { conv, bn };
}

/** lukemelas EfficientNet-PyTorch's module names (flat block numbering). */
export const LUKEMELAS_NAMING: EfficientNetNaming = {
  style: 'lukemelas',
  stem: unit('_conv_stem', '_bn0'),
  head: unit('_conv_head', '_bn1'),
  classifier: '_fc',
  block(_stage, _index, flat, expanded) {
    const p = `_blocks.${flat}`;
    return {
      expand: expanded ? unit(`${p}._expand_conv`, `${p}._bn0`) : null,
      dw: unit(`${p}._depthwise_conv`, `${p}._bn1`),
      seReduce: `${p}._se_reduce`,
      seExpand: `${p}._se_expand`,
      project: unit(`${p}._project_conv`, `${p}._bn2`),
    };
  },
};
