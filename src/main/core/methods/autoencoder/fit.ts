/**
 * The U-Net Auto-Encoder on the method seam: its model (model.ts), loss (loss.ts), optimiser (torch
 * Adam with coupled weight decay, MIAD A.2.5) and map (anomaly-map.ts), trained by the shared
 * training loop (harness/trained-method.ts). Loaded only in the job process and by tests.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Adam } from '../../engine/optim/index';
import { trainedMethod } from '../harness/trained-method';
import { anomalyMaps } from './anomaly-map';
import { autoencoderCost, type AutoencoderConfig } from './config';
import { reconstructionLoss } from './loss';
import { buildAutoencoder, normalizeInput, type UnetAutoencoder } from './model';

export const autoencoderImplementation = trainedMethod<AutoencoderConfig, UnetAutoencoder>({
  name: 'autoencoder',
  build: buildAutoencoder,
  optimizer: (config, model) =>
    new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8, weightDecay: config.weightDecay }),
  loss(model, images, _step, config) {
    const x = normalizeInput(images, config);
    return { loss: reconstructionLoss(model.forward(x), x) };
  },
  predict(model, images, config) {
    const x = normalizeInput(images, config);
    const recon = model.forward(x);
    const { maps, scores } = anomalyMaps(recon, x, config.sigma);
    // The reconstruction back in [0, 1] for the run page.
    const reconstruction = tf.clipByValue(tf.add(tf.mul(recon, config.normStd), config.normMean), 0, 1) as tf.Tensor4D;
    return { maps, scores, extras: { reconstruction } };
  },
  mapMeta: (config) => ({ sigma: config.sigma, baseWidth: config.baseWidth, latentChannels: config.latentChannels }),
  cost: autoencoderCost,
});
