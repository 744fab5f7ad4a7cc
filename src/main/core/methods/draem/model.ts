/**
 * DRAEM's two networks (official code VitjanZ/DRAEM model_unet.py): the reconstructive
 * sub-network (components/unet-reconstructive.ts, `ReconstructiveSubNetwork`: `encoder.*`,
 * `decoder.*`) maps an image with synthetic anomalies back to the clean image; the discriminative
 * sub-network (components/unet-discriminative.ts, `DiscriminativeSubNetwork`: `encoder_segment.*`,
 * `decoder_segment.*`) sees the reconstruction beside the input and segments the anomalies.
 *
 * One module holds both under their official names: the official code saves them as two state
 * dicts (`<run>.pckl`, `<run>_seg.pckl`) whose names do not overlap, so this module's state dict is
 * exactly their union, and both converted to .safetensors load into it (`loadStateDict` with
 * `strict: false` per file, or merged). Initialisation is train_DRAEM.py's `weights_init`: every
 * conv weight N(0, 0.02), every BatchNorm weight N(1, 0.02) and bias 0; conv biases keep torch's
 * default U(±1/√fan_in). Seeded per tensor name (nn/module.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, Module, init } from '../../engine/nn/index';
import { DecoderReconstructive, EncoderReconstructive } from '../components/unet-reconstructive';
import { DecoderDiscriminative, EncoderDiscriminative } from '../components/unet-discriminative';
import type { DraemConfig } from './config';

export class DraemModel extends Module {
  readonly encoder: EncoderReconstructive;
  readonly decoder: DecoderReconstructive;
  readonly encoder_segment: EncoderDiscriminative;
  readonly decoder_segment: DecoderDiscriminative;

  constructor(readonly options: Pick<DraemConfig, 'reconstructiveWidth' | 'discriminativeWidth'>) {
    super();
    this.encoder = this.registerModule('encoder', new EncoderReconstructive(3, options.reconstructiveWidth));
    this.decoder = this.registerModule('decoder', new DecoderReconstructive(options.reconstructiveWidth, 3));
    this.encoder_segment = this.registerModule('encoder_segment', new EncoderDiscriminative(6, options.discriminativeWidth));
    this.decoder_segment = this.registerModule('decoder_segment', new DecoderDiscriminative(options.discriminativeWidth, 2));
    // train_DRAEM.py weights_init (applied with model.apply to every submodule).
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) m.setInit('weight', init.normal(0, 0.02));
      else if (m instanceof BatchNorm2d) m.setInit('weight', init.normal(1, 0.02)).setInit('bias', init.zeros);
    }
  }

  /** The reconstructive sub-network: x [b, s, s, 3] (network channel order) → reconstruction [b, s, s, 3]. */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    return this.decoder.forward(this.encoder.forward(x));
  }

  /** The discriminative sub-network: [b, s, s, 6] = cat(reconstruction, input) → logits [b, s, s, 2]. */
  segment(joined: tf.Tensor4D): tf.Tensor4D {
    return this.decoder_segment.forward(this.encoder_segment.forward(joined));
  }

  /**
   * Both, as train_DRAEM.py chains them: rec = model(aug); seg = model_seg(cat(rec, aug)). In training the
   * segmentation loss reaches the reconstructive network through rec (no detach); test_DRAEM.py detaches,
   * which changes nothing in a forward pass.
   * @param x [b, s, s, 3] in [0, 1], network channel order
   * @returns reconstruction [b, s, s, 3], logits [b, s, s, 2]
   */
  forward(x: tf.Tensor4D): { reconstruction: tf.Tensor4D; logits: tf.Tensor4D } {
    const reconstruction = this.reconstruct(x);
    const logits = this.segment(tf.concat([reconstruction, x], 3));
    return { reconstruction, logits };
  }

  /** Parameters of the reconstructive and of the discriminative network: train_DRAEM.py's two Adam groups. */
  parameterGroups(): { reconstructive: [string, tf.Variable][]; discriminative: [string, tf.Variable][] } {
    const all = this.namedParameters();
    return {
      reconstructive: all.filter(([n]) => n.startsWith('encoder.') || n.startsWith('decoder.')),
      discriminative: all.filter(([n]) => n.startsWith('encoder_segment.') || n.startsWith('decoder_segment.')),
    };
  }
}

/** The model of a config with its seeded initial weights. */
export function buildDraem(config: Pick<DraemConfig, 'reconstructiveWidth' | 'discriminativeWidth' | 'seed'>): DraemModel {
  return new DraemModel(config).initialize(config.seed);
}

/** images [b, s, s, 3] RGB → the network's channel order (cv2's BGR for 'bgr'). */
export function toNetworkOrder(images: tf.Tensor4D, order: DraemConfig['channelOrder']): tf.Tensor4D {
  return order === 'bgr' ? tf.reverse(images, 3) : images;
}
