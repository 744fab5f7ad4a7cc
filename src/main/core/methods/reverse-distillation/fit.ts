/**
 * Reverse Distillation on the method seam: the frozen teacher (components/feature-extractor.ts,
 * layers 1–3, ImageNet-normalised, BN folded) supplies the inputs, through the workspace's
 * frozen-feature cache when there is one (the teacher sees un-augmented images, so its features are
 * the same every epoch: computed once, METHODS 0.1 item 9); the bottleneck and student (model.ts)
 * train on them with RD's loss (loss.ts) and torch's Adam, through the shared training loop
 * (harness/trained-method.ts); the predictor maps the teacher and student features of test images
 * to RD's anomaly map (anomaly-map.ts) and shows each level's 1 − cos map beside it. Loaded only in
 * the job process and by tests.
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
import { RD_BACKBONES, RD_PRESETS, rdCost, resolveRdConfig, type ReverseDistillationConfig } from './config';
import { rdLoss } from './loss';
import { buildReverseDistillation, type ReverseDistillation } from './model';

/** The teacher layers RD distils (RD4AD resnet.py returns layer1..3). */
export const TEACHER_LAYERS: readonly ResNetLayer[] = ['layer1', 'layer2', 'layer3'];

/**
 * Refuses a teacher weights file that does not fit the config's backbone before anything is built,
 * saying what it holds instead when we can tell (the other backbone, or an RD student checkpoint).
 */
export async function checkTeacherWeights(path: string, config: Pick<ReverseDistillationConfig, 'backbone' | 'preset'>): Promise<void> {
  const header = await readSafetensorsHeader(path);
  const problems = checkArchitecture(config.backbone, header.tensors);
  if (problems.length === 0) return;
  const names = [...header.tensors.keys()];
  let hint = '';
  const other = RD_BACKBONES.find((b) => b !== config.backbone && checkArchitecture(b, header.tensors).length === 0);
  if (other) hint = ` The file holds ${other} weights: choose a preset with that teacher${other === 'resnet18' ? ' (fast)' : ' (paper, official)'} or set backbone=${other}.`;
  else if (names.some((n) => n.startsWith('decoder.')) && names.some((n) => n.startsWith('bn.'))) {
    hint = ' It holds a Reverse Distillation student (bn.*, decoder.*), not teacher weights.';
  } else if (header.metadata['method']) hint = ` It is a ${header.metadata['method']} checkpoint, not teacher weights.`;
  const listed = problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : '');
  throw new LabError(`teacher weights ${path} do not fit ${config.backbone}, the teacher of preset ${config.preset}: ${listed}.${hint}`, 'ValidationError');
}

type Architecture = Pick<ReverseDistillationConfig, 'backbone' | 'bottleneckWidth' | 'bottleneckConv4'>;

/** What a bn.* / decoder.* state dict was built as, read from its shapes. */
function checkpointArchitecture(tensors: ReadonlyMap<string, { shape: number[] }>): Architecture {
  const wide = tensors.has('decoder.layer1.0.conv3.weight');
  // A bottleneck block's conv1 is [width, 3·1024, 1, 1] with width = 512 · width_per_group / 64.
  const conv1 = tensors.get('bn.bn_layer.0.conv1.weight')?.shape[0] ?? 512;
  return { backbone: wide ? 'wide_resnet50_2' : 'resnet18', bottleneckWidth: wide ? (conv1 * 64) / 512 : 64, bottleneckConv4: tensors.has('bn.conv4.weight') };
}

function describeArchitecture(a: Architecture): string {
  return `${a.backbone}, bottleneck width ${a.bottleneckWidth}, ${a.bottleneckConv4 ? 'with' : 'without'} RD4AD's conv4`;
}

/**
 * Refuses `config.studentWeights` when it is not an RD checkpoint of this run's variant, saying what
 * the file holds and which preset or settings build that. Reads the header only: it runs before the
 * teacher and the model are built.
 */
export async function checkStudentWeights(config: ReverseDistillationConfig): Promise<void> {
  const path = config.studentWeights;
  const header = await methodWeightsHeader('studentWeights', path, 'Reverse Distillation checkpoint', ['bn', 'decoder']);
  const found = checkpointArchitecture(header.tensors);
  const wanted: Architecture = config;
  const keys = (['backbone', 'bottleneckWidth', 'bottleneckConv4'] as const).filter((k) => found[k] !== wanted[k]);
  if (keys.length === 0) return;
  const matching = RD_PRESETS.find((p) => {
    const c = resolveRdConfig(p).config;
    return p !== config.preset && c.backbone === found.backbone && c.bottleneckWidth === found.bottleneckWidth && c.bottleneckConv4 === found.bottleneckConv4;
  });
  const fix = `${matching ? `choose preset ${matching}, or ` : ''}set ${keys.map((k) => `${k}=${String(found[k])}`).join(', ')}`;
  const saved = header.metadata['preset'] ? ` (saved by a ${header.metadata['preset']} run)` : '';
  throw new LabError(`studentWeights ${path} holds ${describeArchitecture(found)}${saved}, but this run (preset ${config.preset}) builds ${describeArchitecture(wanted)}: ${fix}`, 'ValidationError');
}

/** The model of a config: seeded, then loaded from its studentWeights when it names some (strictly: any other mismatch is refused by name). */
export function buildModel(config: ReverseDistillationConfig): ReverseDistillation {
  return buildWithWeights(() => buildReverseDistillation(config), config.studentWeights);
}

/**
 * The teacher's features of the training images (the batch source) and of test images
 * (harness/backbone-inputs.ts: through the feature cache when there is one), once both weights
 * files are checked.
 */
export async function teacherInputs(config: ReverseDistillationConfig, request: FitRequest<ReverseDistillationConfig>): Promise<MethodInputs<tf.Tensor4D[]>> {
  // Both files are checked before anything is built: the teacher and a wide model take seconds.
  if (config.studentWeights) await checkStudentWeights(config);
  if (request.weights !== 'random') await checkTeacherWeights(request.weights, config);
  return backboneInputs({ arch: config.backbone, layers: TEACHER_LAYERS, weights: request.weights, seed: config.seed, inputSize: config.inputSize, trainPaths: request.trainPaths, featureCache: request.featureCache });
}

export const reverseDistillationImplementation = trainedMethod<ReverseDistillationConfig, ReverseDistillation, tf.Tensor4D[]>({
  name: 'reverse_distillation',
  inputs: teacherInputs,
  build: buildModel,
  // RD4AD main.py: Adam over decoder and bottleneck, no weight decay; torch's eps.
  optimizer: (config, model) => new Adam(model.namedParameters(), { lr: config.learningRate, betas: [config.beta1, config.beta2], eps: 1e-8 }),
  loss(model, teacher, _step, config) {
    const { student } = model.forward(teacher);
    return rdLoss(teacher, student, config.loss);
  },
  predict(model, teacher, config) {
    const { student } = model.forward(teacher);
    const { maps, scores, levels } = anomalyMaps(teacher, student, config.inputSize, config);
    // Each level's 1 − cos map for the run page, as heat pictures (each scaled to its own maximum).
    const extras = Object.fromEntries(levels.map((l, i) => [TEACHER_LAYERS[i]!, heatRgb(l)]));
    return { maps, scores, extras };
  },
  mapMeta: (config) => ({
    backbone: config.backbone,
    bottleneckWidth: config.bottleneckWidth,
    loss: config.loss,
    mapCombine: config.mapCombine,
    sigma: config.sigma,
    blurBorder: config.blurBorder,
  }),
  cost: rdCost,
});
