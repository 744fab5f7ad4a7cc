/**
 * DRAEM's discriminative sub-network (Zavrtanik et al., "DRAEM", ICCV 2021; official code
 * VitjanZ/DRAEM model_unet.py `DiscriminativeSubNetwork`) with the official module and parameter
 * names (`encoder_segment.block1.0.weight`, `decoder_segment.db_b.3.weight`,
 * `decoder_segment.fin_out.0.weight`, …), so the official `*_seg.pckl` state dict converted to
 * .safetensors loads as it is.
 *
 * A true U-Net: six blocks of two 3×3 conv + BN + ReLU (widths w, 2w, 4w, 8w, 8w, 8w) with 2×2 max
 * pooling between them (1/32 at the bottom), then five stages of a ×2 bilinear upsampling
 * (align_corners=True) + 3×3 conv + BN + ReLU, a channel concatenation with the encoder block of
 * that resolution (the copy skips the reconstructive network lacks) and two conv-BN-ReLU, and a
 * final 3×3 conv to the output logits (2 in DRAEM: normal, anomalous).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Conv2d, Module, Sequential } from '../../engine/nn/index';
import { convBnRelu, doubleConv, maxPool2, upsample2 } from './unet-reconstructive';

/** model_unet.py's `nn.Sequential(nn.MaxPool2d(2))` (mp1..mp5). */
function pooling(): Sequential {
  return new Sequential(maxPool2());
}

/** `EncoderDiscriminative`: x [b, s, s, in] → b1..b6 at 1, 1/2, …, 1/32 of s (widths w, 2w, 4w, 8w, 8w, 8w). */
export class EncoderDiscriminative extends Module {
  readonly block1: Sequential;
  readonly mp1: Sequential;
  readonly block2: Sequential;
  readonly mp2: Sequential;
  readonly block3: Sequential;
  readonly mp3: Sequential;
  readonly block4: Sequential;
  readonly mp4: Sequential;
  readonly block5: Sequential;
  readonly mp5: Sequential;
  readonly block6: Sequential;

  constructor(inChannels: number, w: number) {
    super();
    this.block1 = this.registerModule('block1', doubleConv(inChannels, w, w));
    this.mp1 = this.registerModule('mp1', pooling());
    this.block2 = this.registerModule('block2', doubleConv(w, 2 * w, 2 * w));
    this.mp2 = this.registerModule('mp2', pooling());
    this.block3 = this.registerModule('block3', doubleConv(2 * w, 4 * w, 4 * w));
    this.mp3 = this.registerModule('mp3', pooling());
    this.block4 = this.registerModule('block4', doubleConv(4 * w, 8 * w, 8 * w));
    this.mp4 = this.registerModule('mp4', pooling());
    this.block5 = this.registerModule('block5', doubleConv(8 * w, 8 * w, 8 * w));
    this.mp5 = this.registerModule('mp5', pooling());
    this.block6 = this.registerModule('block6', doubleConv(8 * w, 8 * w, 8 * w));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D[] {
    // The official forward pools after block2 with mp3 (as in the reconstructive encoder); all are MaxPool2d(2).
    const b1 = this.block1.forward(x) as tf.Tensor4D;
    const b2 = this.block2.forward(this.mp1.forward(b1)) as tf.Tensor4D;
    const b3 = this.block3.forward(this.mp3.forward(b2)) as tf.Tensor4D;
    const b4 = this.block4.forward(this.mp3.forward(b3)) as tf.Tensor4D;
    const b5 = this.block5.forward(this.mp4.forward(b4)) as tf.Tensor4D;
    const b6 = this.block6.forward(this.mp5.forward(b5)) as tf.Tensor4D;
    return [b1, b2, b3, b4, b5, b6];
  }
}

/** `DecoderDiscriminative`: b1..b6 → [b, s, s, out] logits (no activation). */
export class DecoderDiscriminative extends Module {
  readonly up_b: Sequential;
  readonly db_b: Sequential;
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
    this.up_b = this.registerModule('up_b', new Sequential(upsample2(), ...convBnRelu(8 * w, 8 * w)));
    this.db_b = this.registerModule('db_b', doubleConv(16 * w, 8 * w, 8 * w));
    this.up1 = this.registerModule('up1', new Sequential(upsample2(), ...convBnRelu(8 * w, 4 * w)));
    this.db1 = this.registerModule('db1', doubleConv(12 * w, 4 * w, 4 * w));
    this.up2 = this.registerModule('up2', new Sequential(upsample2(), ...convBnRelu(4 * w, 2 * w)));
    this.db2 = this.registerModule('db2', doubleConv(6 * w, 2 * w, 2 * w));
    this.up3 = this.registerModule('up3', new Sequential(upsample2(), ...convBnRelu(2 * w, w)));
    this.db3 = this.registerModule('db3', doubleConv(3 * w, w, w));
    this.up4 = this.registerModule('up4', new Sequential(upsample2(), ...convBnRelu(w, w)));
    this.db4 = this.registerModule('db4', doubleConv(2 * w, w, w));
    this.fin_out = this.registerModule('fin_out', new Sequential(new Conv2d(w, outChannels, 3, { padding: 1 })));
  }

  forward([b1, b2, b3, b4, b5, b6]: tf.Tensor4D[]): tf.Tensor4D {
    // torch.cat((up, skip), dim=1): the upsampled path first, then the encoder's block (NHWC: axis 3).
    const stage = (up: Sequential, db: Sequential, x: tf.Tensor, skip: tf.Tensor4D): tf.Tensor => db.forward(tf.concat([up.forward(x) as tf.Tensor4D, skip], 3));
    let h = stage(this.up_b, this.db_b, b6!, b5!);
    h = stage(this.up1, this.db1, h, b4!);
    h = stage(this.up2, this.db2, h, b3!);
    h = stage(this.up3, this.db3, h, b2!);
    h = stage(this.up4, this.db4, h, b1!);
    return this.fin_out.forward(h) as tf.Tensor4D;
  }
}
