/**
 * The U-Net Auto-Encoder of MIAD A.2.5 (our design, METHODS.md section 4; the paper publishes no
 * code): DRAEM's reconstructive sub-network (components/unet-reconstructive.ts: a U-Net without
 * copy skips, so it cannot pass an anomaly straight through) with an optional 1×1 bottleneck at
 * 1/16 of the input, which squeezes the code to `latentChannels` channels and back, and a tanh
 * onto the [-1, 1] range of the normalised input. Parameter names: `encoder.*` and `decoder.*` as
 * DRAEM's, `bottleneck.0/1/3/4` for the bottleneck's convs and batch norms; the PyTorch
 * reference (scripts/reference/autoencoder.py) builds the same modules. Weights start from torch's
 * default initialisation, seeded.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BatchNorm2d, Conv2d, Module, ReLU, Sequential } from '../../engine/nn/index';
import { DecoderReconstructive, EncoderReconstructive } from '../components/unet-reconstructive';
import type { AutoencoderConfig } from './config';

export class UnetAutoencoder extends Module {
  readonly encoder: EncoderReconstructive;
  readonly bottleneck: Sequential | null;
  readonly decoder: DecoderReconstructive;

  constructor(readonly options: Pick<AutoencoderConfig, 'baseWidth' | 'latentChannels' | 'outputActivation'>) {
    super();
    const w = options.baseWidth;
    const latent = options.latentChannels;
    this.encoder = this.registerModule('encoder', new EncoderReconstructive(3, w));
    this.bottleneck =
      latent > 0
        ? this.registerModule('bottleneck', new Sequential(new Conv2d(8 * w, latent, 1), new BatchNorm2d(latent), new ReLU(), new Conv2d(latent, 8 * w, 1), new BatchNorm2d(8 * w), new ReLU()))
        : null;
    this.decoder = this.registerModule('decoder', new DecoderReconstructive(w, 3));
  }

  /** x [batch, s, s, 3] normalised → reconstruction [batch, s, s, 3] in the same space (s a multiple of 16). */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let code = this.encoder.forward(x);
    if (this.bottleneck) code = this.bottleneck.forward(code) as tf.Tensor4D;
    const out = this.decoder.forward(code);
    return this.options.outputActivation === 'tanh' ? tf.tanh(out) : out;
  }
}

/** The model of a config with its seeded initial weights. */
export function buildAutoencoder(config: AutoencoderConfig): UnetAutoencoder {
  return new UnetAutoencoder(config).initialize(config.seed);
}

/** images [batch, s, s, 3] in [0, 1] → (x − mean) / std. */
export function normalizeInput(images: tf.Tensor4D, config: Pick<AutoencoderConfig, 'normMean' | 'normStd'>): tf.Tensor4D {
  return tf.div(tf.sub(images, config.normMean), config.normStd);
}
