/**
 * Optimisers, gradient clipping and lr schedules with torch.optim's arithmetic (issue 13):
 * Adam (coupled weight decay), AdamW (decoupled), SGD (momentum, Nesterov), clip_grad_norm_,
 * StepLR and MultiStepLR. A training step:
 *
 *   const opt = new Adam(model.namedParameters(), { lr: 1e-4, weightDecay: 5e-4 });
 *   const { value, grads } = tf.variableGrads(() => loss(model.forward(x)), opt.variables());
 *   clipGradNorm(grads, 0.1);            // optional, in place
 *   opt.step(grads);
 *   tf.dispose([value, ...Object.values(grads)]);
 *   applySchedule(opt, stepLR(800, 0.1), epoch);   // at each epoch's start
 */
export { Optimizer, Adam, AdamW, SGD } from './optimizers';
export type {
  NamedParameters,
  Gradients,
  ParamGroup,
  StateTensor,
  OptimizerState,
  LoadableOptimizerState,
  OptimizerKind,
  OptimizerParam,
  BaseHyper,
  AdamHyper,
  SgdHyper,
  GroupInfo,
  AdamOptions,
  SgdOptions,
} from './optimizers';
export { clipGradNorm } from './clip';
export type { MutableGradients } from './clip';
export { stepLR, multiStepLR, applySchedule } from './schedules';
export type { LrSchedule, ScheduleOptions } from './schedules';
