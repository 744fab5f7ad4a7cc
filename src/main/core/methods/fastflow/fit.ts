/**
 * FastFlow on the method seam: the frozen backbone (layers 1–3, ImageNet-normalised) supplies the
 * inputs through the workspace's frozen-feature cache (harness/backbone-inputs.ts); the LayerNorms
 * and flows (model.ts) train on them with the negative log-likelihood (loss.ts) and torch's Adam
 * with coupled weight decay, through the shared training loop (harness/trained-method.ts); the
 * predictor maps the test images' z to FastFlow's anomaly map (anomaly-map.ts) and shows each
 * scale's map beside it. Loaded only in the job process and by tests.
 */
import { buildWithWeights, methodWeightsHeader } from '../components/method-weights';
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { checkArchitecture, type ResNetLayer } from '../../engine/backbones/index';
import { Adam } from '../../engine/optim/index';
import { readSafetensorsHeader } from '../../engine/safetensors';
import { heatRgb } from '../components/heat-rgb';
import type { FitRequest } from '../method';
import { backboneInputs } from '../harness/backbone-inputs';
import { trainedMethod, type MethodInputs } from '../harness/trained-method';
import { anomalyMaps } from './anomaly-map';
import { FASTFLOW_BACKBONES, FASTFLOW_SCALES, fastflowCost, type FastflowConfig } from './config';
import { fastflowLoss, SCALE_NAMES } from './loss';
import { buildFastFlow, type FastFlow } from './model';

/** timm features_only out_indices [1, 2, 3] of a ResNet: layer1..3. */
export const FASTFLOW_LAYERS: readonly ResNetLayer[] = ['layer1', 'layer2', 'layer3'];

/** Refuses backbone weights that do not fit the config's backbone, saying what the file holds when we can tell. */
export async function checkBackboneWeights(path: string, config: Pick<FastflowConfig, 'backbone' | 'preset'>): Promise<void> {
  const header = await readSafetensorsHeader(path);
  const problems = checkArchitecture(config.backbone, header.tensors);
  if (problems.length === 0) return;
  const names = [...header.tensors.keys()];
  let hint = '';
  const other = FASTFLOW_BACKBONES.find((b) => b !== config.backbone && checkArchitecture(b, header.tensors).length === 0);
  if (other) hint = ` The file holds ${other} weights: choose the ${other === 'resnet18' ? 'fast' : 'paper'} preset or set backbone=${other}.`;
  else if (names.some((n) => n.startsWith('nf_flows.'))) hint = ' It holds FastFlow flows (norms.*, nf_flows.*), not backbone weights: pass it as flowWeights.';
  else if (header.metadata['method']) hint = ` It is a ${header.metadata['method']} checkpoint, not backbone weights.`;
  const listed = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
  throw new LabError(`backbone weights ${path} do not fit ${config.backbone}, the backbone of preset ${config.preset}: ${listed}.${hint}`, 'ValidationError');
}

/**
 * Refuses `config.flowWeights` when it is not a FastFlow state dict of this run's shapes, saying what
 * it holds: another method's checkpoint, or FastFlow flows of another backbone or input size.
 */
export async function checkFlowWeights(config: FastflowConfig): Promise<void> {
  const path = config.flowWeights;
  const header = await methodWeightsHeader('flowWeights', path, 'FastFlow checkpoint', ['norms', 'nf_flows']);
  // norms.0.weight is [C1, s/4, s/4]: the backbone and the input size it was trained at.
  const shape = header.tensors.get('norms.0.weight')?.shape ?? [];
  const backbone = FASTFLOW_BACKBONES.find((b) => FASTFLOW_SCALES[b].channels[0] === shape[0]);
  const size = (shape[1] ?? 0) * 4;
  if (backbone && (backbone !== config.backbone || size !== config.inputSize)) {
    throw new LabError(
      `flowWeights ${path} holds FastFlow flows for ${backbone} at ${size} px, but this run (preset ${config.preset}) builds them for ${config.backbone} at ${config.inputSize} px: set backbone=${backbone} and inputSize=${size}`,
      'ValidationError',
    );
  }
}

/** The model of a config: seeded, then loaded from its flowWeights when it names some (strictly). */
export function buildModel(config: FastflowConfig): FastFlow {
  return buildWithWeights(() => buildFastFlow(config), config.flowWeights);
}

/** The backbone's layer1..3 features of the training and test images, once the weights files are checked. */
export async function fastflowInputs(config: FastflowConfig, request: FitRequest<FastflowConfig>): Promise<MethodInputs<tf.Tensor4D[]>> {
  if (config.flowWeights) await checkFlowWeights(config);
  if (request.weights !== 'random') await checkBackboneWeights(request.weights, config);
  return backboneInputs({ arch: config.backbone, layers: FASTFLOW_LAYERS, weights: request.weights, seed: config.seed, inputSize: config.inputSize, trainPaths: request.trainPaths, featureCache: request.featureCache });
}

/**
 * The Adam of gathierry main.py `build_optimizer`: Adam(model.parameters(), lr, weight_decay), coupled
 * decay, torch's eps; w_perm and w_perm_inv (requires_grad False, never a gradient) are left out as
 * torch's Adam skips them.
 */
export function fastflowOptimizer(config: FastflowConfig, model: FastFlow): Adam {
  return new Adam(
    model.namedParameters().filter(([, v]) => v.trainable),
    { lr: config.learningRate, weightDecay: config.weightDecay, eps: 1e-8 },
  );
}

export const fastflowImplementation = trainedMethod<FastflowConfig, FastFlow, tf.Tensor4D[]>({
  name: 'fastflow',
  inputs: fastflowInputs,
  build: buildModel,
  optimizer: fastflowOptimizer,
  loss(model, features) {
    return fastflowLoss(model.forward(features));
  },
  predict(model, features, config) {
    const zs = model.forward(features).map((o) => o.z);
    const { maps, scores, scales } = anomalyMaps(zs, config.inputSize);
    // Each scale's map for the run page as a heat picture of 1 − likelihood (map + 1 ≥ 0), scaled to its own maximum.
    const extras = Object.fromEntries(scales.map((m, i) => [SCALE_NAMES[i]!, heatRgb(tf.add(m, 1) as tf.Tensor3D)]));
    return { maps, scores, extras };
  },
  mapMeta: (config) => ({ backbone: config.backbone, flowSteps: config.flowSteps, conv3x3Only: config.conv3x3Only, hiddenRatio: config.hiddenRatio, clamp: config.clamp }),
  cost: fastflowCost,
});
