/**
 * DRAEM's reconstructive sub-network (Zavrtanik et al., "DRAEM", ICCV 2021; official code
 * VitjanZ/DRAEM model_unet.py `ReconstructiveSubNetwork`) with the official module and parameter
 * names (`encoder.block1.0.weight`, `decoder.up1.1.weight`, `decoder.fin_out.0.weight`, …), so the
 * official state dict converted to .safetensors loads as it is.
 *
 * A U-Net shaped encoder/decoder WITHOUT copy skips: five blocks of two 3×3 conv + BN + ReLU
 * (widths w, 2w, 4w, 8w, 8w) with 2×2 max pooling between them, then four stages of a ×2 bilinear
 * upsampling (align_corners=True) + 3×3 conv + BN + ReLU and two more such convs, and a final 3×3
 * conv to the output channels. The U-Net Auto-Encoder baseline (MIAD A.2.5) uses it as its network
 * (METHODS.md section 4: without copy skips it cannot pass anomalies through) with an optional 1×1
 * bottleneck in the middle; DRAEM uses it as is.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, Lambda, Module, ReLU, Sequential } from '../../engine/nn/index';

/** conv3×3 (bias, as torch's default) → BN → ReLU. */
export function convBnRelu(cin: number, cout: number): [Conv2d, BatchNorm2d, ReLU] {
  return [new Conv2d(cin, cout, 3, { padding: 1 }), new BatchNorm2d(cout), new ReLU()];
}

/** Two conv-BN-ReLU units: Sequential indices 0..5 as in model_unet.py. */
export function doubleConv(cin: number, mid: number, cout: number): Sequential {
  return new Sequential(...convBnRelu(cin, mid), ...convBnRelu(mid, cout));
}

/** nn.MaxPool2d(2) on NHWC. */
export function maxPool2(): Lambda {
  return new Lambda((x) => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'), 'MaxPool2d');
}

/** nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True) on NHWC (differentiable in tfjs: METHODS 0.1 item 4). */
export function upsample2(): Lambda {
  return new Lambda((x) => {
    const [, h, w] = x.shape as [number, number, number, number];
    return tf.image.resizeBilinear(x as tf.Tensor4D, [2 * h, 2 * w], true);
  }, 'Upsample');
}

/** `EncoderReconstructive`: x [b, s, s, in] → b5 [b, s/16, s/16, 8w]. */
export class EncoderReconstructive extends Module {
  readonly block1: Sequential;
  readonly mp1: Sequential;
  readonly block2: Sequential;
  readonly mp2: Sequential;
  readonly block3: Sequential;
  readonly mp3: Sequential;
  readonly block4: Sequential;
  readonly mp4: Sequential;
  readonly block5: Sequential;

  constructor(inChannels: number, w: number) {
    super();
    this.block1 = this.registerModule('block1', doubleConv(inChannels, w, w));
    this.mp1 = this.registerModule('mp1', new Sequential(maxPool2()));
    this.block2 = this.registerModule('block2', doubleConv(w, 2 * w, 2 * w));
    this.mp2 = this.registerModule('mp2', new Sequential(maxPool2()));
    this.block3 = this.registerModule('block3', doubleConv(2 * w, 4 * w, 4 * w));
    this.mp3 = this.registerModule('mp3', new Sequential(maxPool2()));
    this.block4 = this.registerModule('block4', doubleConv(4 * w, 8 * w, 8 * w));
    this.mp4 = this.registerModule('mp4', new Sequential(maxPool2()));
    this.block5 = this.registerModule('block5', doubleConv(8 * w, 8 * w, 8 * w));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    // The official forward pools after block2 with mp3 (a typo there); both are MaxPool2d(2).
    const b1 = this.block1.forward(x);
    const b2 = this.block2.forward(this.mp1.forward(b1));
    const b3 = this.block3.forward(this.mp2.forward(b2));
    const b4 = this.block4.forward(this.mp3.forward(b3));
    return this.block5.forward(this.mp4.forward(b4)) as tf.Tensor4D;
  }
}

/** `DecoderReconstructive`: b5 [b, s/16, s/16, 8w] → [b, s, s, out] (no activation). */
export class DecoderReconstructive extends Module {
  readonly up1: Sequential;
  readonly db1: Sequential;
  readonly up2: Sequential;
  readonly db2: Sequential;
  readonly up3: Sequential;
  readonly db3: Sequential;
  readonly up4: Sequential;
  readonly db4: Sequential;
  readonly fin_out: Sequential;

  constructor(w: number, outChannels: number) {
    super();
    this.up1 = this.registerModule('up1', new Sequential(upsample2(), ...convBnRelu(8 * w, 8 * w)));
    this.db1 = this.registerModule('db1', doubleConv(8 * w, 8 * w, 4 * w));
    this.up2 = this.registerModule('up2', new Sequential(upsample2(), ...convBnRelu(4 * w, 4 * w)));
    this.db2 = this.registerModule('db2', doubleConv(4 * w, 4 * w, 2 * w));
    this.up3 = this.registerModule('up3', new Sequential(upsample2(), ...convBnRelu(2 * w, 2 * w)));
    this.db3 = this.registerModule('db3', doubleConv(2 * w, 2 * w, w));
    this.up4 = this.registerModule('up4', new Sequential(upsample2(), ...convBnRelu(w, w)));
    this.db4 = this.registerModule('db4', doubleConv(w, w, w));
    this.fin_out = this.registerModule('fin_out', new Sequential(new Conv2d(w, outChannels, 3, { padding: 1 })));
  }

  forward(b5: tf.Tensor4D): tf.Tensor4D {
    let h: tf.Tensor = b5;
    for (const m of [this.up1, this.db1, this.up2, this.db2, this.up3, this.db3, this.up4, this.db4, this.fin_out]) h = m.forward(h);
    return h as tf.Tensor4D;
  }
}
