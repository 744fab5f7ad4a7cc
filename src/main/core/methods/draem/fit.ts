/**
 * DRAEM on the method seam: the anomaly synthesis feeds the shared training loop
 * (harness/trained-method.ts) through the method's own inputs (inputs.ts: synthesised ahead of each
 * step, from the run's DTD folder or procedural textures); the two sub-networks (model.ts) train
 * with L2 + SSIM + focal (loss.ts, each term a live series `loss/l2`, `loss/ssim`, `loss/focal`) and
 * torch's Adam in train_DRAEM.py's two parameter groups with its MultiStepLR; the predictor maps
 * test images to the discriminative network's anomaly probability and the 21×21-averaged maximum
 * (anomaly-map.ts), and shows the reconstruction beside them. The anomaly source is written to the
 * run folder (`synthesis.json`) with the synthesis' throughput. Loaded only in the job process and
 * by tests.
 */
import { buildWithWeights, methodWeightsHeader } from '../components/method-weights';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileSync } from 'node:fs';
import { LabError } from '../../../../shared/errors';
import { join } from 'node:path';
import { Adam, multiStepLR } from '../../engine/optim/index';
import { openTextureSource } from '../components/anomaly-source';
import type { FitRequest } from '../method';
import { trainedMethod, type MethodInputs } from '../harness/trained-method';
import { loadImageRgb } from '../components/images';
import { anomalyMaps } from './anomaly-map';
import { draemCost, lrMilestones, type DraemConfig } from './config';
import { SynthesisBatches } from './inputs';
import { draemLoss } from './loss';
import { buildDraem, toNetworkOrder, type DraemModel } from './model';

/** Where the run's record of its anomaly source and synthesis goes, in the run folder. */
export const SYNTHESIS_RECORD = 'synthesis.json';

/** The four official top-level modules: model_unet.py ReconstructiveSubNetwork (encoder, decoder) and DiscriminativeSubNetwork (encoder_segment, decoder_segment). */
const DRAEM_MODULES = ['encoder', 'decoder', 'encoder_segment', 'decoder_segment'] as const;

/**
 * Refuses `config.modelWeights` when it is not a DRAEM checkpoint of this run's widths, saying what
 * the file holds (the method that wrote it, the widths it was built with) and what to set. Reads the
 * header only: it runs before anything is built or synthesised.
 */
export async function checkModelWeights(config: DraemConfig): Promise<void> {
  const path = config.modelWeights;
  const header = await methodWeightsHeader('modelWeights', path, 'DRAEM checkpoint', DRAEM_MODULES, "DRAEM's are encoder.*, decoder.* of the reconstructive and encoder_segment.*, decoder_segment.* of the discriminative network");
  // The first convolution of each network is [width, in, 3, 3] (torch layout).
  const found = {
    reconstructiveWidth: header.tensors.get('encoder.block1.0.weight')?.shape[0],
    discriminativeWidth: header.tensors.get('encoder_segment.block1.0.weight')?.shape[0],
  };
  const keys = (['reconstructiveWidth', 'discriminativeWidth'] as const).filter((k) => found[k] !== undefined && found[k] !== config[k]);
  if (keys.length === 0) return;
  const saved = header.metadata['preset'] ? ` (saved by a ${header.metadata['preset']} run)` : '';
  throw new LabError(
    `modelWeights ${path} holds widths ${found.reconstructiveWidth} (reconstructive) and ${found.discriminativeWidth} (discriminative)${saved}, but this run (preset ${config.preset}) builds ${config.reconstructiveWidth} and ${config.discriminativeWidth}: set ${keys.map((k) => `${k}=${found[k]}`).join(', ')}`,
    'ValidationError',
  );
}

/** The model of a config: seeded, then loaded from its modelWeights when it names some (strictly: any other mismatch is refused by name). */
export function buildModel(config: DraemConfig): DraemModel {
  return buildWithWeights(() => buildDraem(config), config.modelWeights);
}

/**
 * The synthesised training batches and the plain test images ([images] as a one-element list, so
 * both share the spec's input type).
 */
async function draemInputs(config: DraemConfig, request: FitRequest<DraemConfig>): Promise<MethodInputs<tf.Tensor4D[]>> {
  if (config.modelWeights) await checkModelWeights(config);
  const textures = await openTextureSource({ dir: config.anomalySourceDir, size: config.inputSize, seed: config.textureSeed, pool: config.proceduralTextures });
  // The resumed checkpoint's global step: the synthesis of step k is seeded by k (inputs.ts).
  const resumed = request.job ? await request.job.resumeState() : null;
  const train = new SynthesisBatches({
    paths: request.trainPaths,
    size: config.inputSize,
    textures,
    settings: config,
    seed: config.seed,
    batchSize: config.batchSize,
    epochs: config.epochs,
    startStep: resumed?.step ?? 0,
  });
  // Written at the start (the source) and again when the method is disposed (with the counts);
  // synchronously, as dispose() is.
  const record = (): void => {
    const s = train.stats;
    const body = {
      anomalySource: textures.describe(),
      synthesis: { ...s, samplesPerSecond: s.seconds > 0 ? s.samples / s.seconds : null },
    };
    writeFileSync(join(request.outDir, SYNTHESIS_RECORD), `${JSON.stringify(body, null, 1)}\n`);
  };
  const source = textures.describe();
  request.progress('anomaly source', 0, 1, {
    message:
      source.kind === 'folder'
        ? `anomaly textures from ${source.dir}: ${source.usable} images${source.grayscale ? ` (${source.grayscale} grey, expanded to RGB)` : ''}${source.skippedCount ? `, ${source.skippedCount} unreadable skipped` : ''}`
        : `procedural anomaly textures, seed ${source.seed} (no DTD folder given)`,
  });
  record();
  const size = config.inputSize;
  return {
    train,
    async test(paths) {
      const plane = size * size * 3;
      const pixels = new Float32Array(paths.length * plane);
      for (let i = 0; i < paths.length; i++) pixels.set(await loadImageRgb(paths[i]!, size), i * plane);
      return [tf.tensor4d(pixels, [paths.length, size, size, 3])];
    },
    cacheCounts: () => null,
    dispose: () => {
      // The record with the synthesis' final counts; a failure to write it must not fail the run's cleanup.
      try {
        record();
      } catch {
        // The run folder may be gone (a deleted run); the record is a courtesy.
      }
    },
  };
}

export const draemImplementation = trainedMethod<DraemConfig, DraemModel, tf.Tensor4D[]>({
  name: 'draem',
  inputs: draemInputs,
  build: buildModel,
  // train_DRAEM.py: Adam([{model params, lr}, {model_seg params, lr}]), torch's betas and eps.
  optimizer(config, model) {
    const groups = model.parameterGroups();
    return new Adam([{ params: groups.reconstructive }, { params: groups.discriminative }], { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8 });
  },
  learningRate(config, epoch) {
    const lr = multiStepLR(lrMilestones(config), config.lrGamma)(config.learningRate, epoch);
    return [lr, lr];
  },
  loss(model, [augmented, image, mask], _step, config) {
    const { loss, parts } = draemLoss(model, toNetworkOrder(augmented!, config.channelOrder), toNetworkOrder(image!, config.channelOrder), mask!);
    return { loss, parts };
  },
  predict(model, [images], config) {
    const x = toNetworkOrder(images!, config.channelOrder);
    const { reconstruction, logits } = model.forward(x);
    const { maps, scores } = anomalyMaps(logits, config.scoreWindow);
    // The reconstruction for the run page, back in RGB.
    return { maps, scores, extras: { reconstruction: tf.clipByValue(toNetworkOrder(reconstruction, config.channelOrder), 0, 1) as tf.Tensor4D } };
  },
  mapMeta: (config) => ({
    reconstructiveWidth: config.reconstructiveWidth,
    discriminativeWidth: config.discriminativeWidth,
    channelOrder: config.channelOrder,
    scoreWindow: config.scoreWindow,
    anomalySource: config.anomalySourceDir === '' ? `procedural (seed ${config.textureSeed})` : config.anomalySourceDir,
  }),
  cost: draemCost,
});
