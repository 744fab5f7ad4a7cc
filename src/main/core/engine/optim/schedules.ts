/**
 * Learning-rate schedules as pure functions of the epoch, giving exactly the lr torch.optim's
 * schedulers (torch 1.13 `torch/optim/lr_scheduler.py`) set for that epoch:
 *   - default: the scheduler stepped once per epoch with `scheduler.step()` (the chainable form:
 *     each step multiplies the previous lr, so the double rounding is torch's);
 *   - `closedForm: true`: the scheduler stepped as `scheduler.step(epoch)` (UniAD's train_val.py),
 *     which uses `_get_closed_form_lr`: base·γ^k computed at once (may differ from the chainable
 *     value in the last bit).
 * Epoch 0 is the lr right after construction; epoch e is the lr after e steps, i.e. the lr of the
 * e-th epoch (0-based) when step() runs at each epoch's end.
 */
import { LabError } from '../../../../shared/errors';
import type { BaseHyper, Optimizer } from './optimizers';

/** lr for `epoch` (≥ 0) given the group's initial lr. */
export type LrSchedule = (baseLr: number, epoch: number) => number;

export interface ScheduleOptions {
  /** Follow torch's `step(epoch)` closed form instead of per-epoch `step()` (see the file comment). */
  closedForm?: boolean;
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new LabError(`schedule: epoch must be a non-negative integer, got ${epoch}`, 'ValidationError');
}

/** torch.optim.lr_scheduler.StepLR(step_size, gamma=0.1): lr = base·γ^⌊epoch/step_size⌋. */
export function stepLR(stepSize: number, gamma = 0.1, options: ScheduleOptions = {}): LrSchedule {
  if (!Number.isSafeInteger(stepSize) || stepSize < 1) throw new LabError(`StepLR: step_size must be a positive integer, got ${stepSize}`, 'ValidationError');
  return (baseLr, epoch) => {
    checkEpoch(epoch);
    if (options.closedForm) return baseLr * gamma ** Math.floor(epoch / stepSize);
    let lr = baseLr;
    // get_lr(): unchanged at epoch 0 and between steps, × γ whenever last_epoch % step_size == 0.
    for (let e = 1; e <= epoch; e++) if (e % stepSize === 0) lr = lr * gamma;
    return lr;
  };
}

/**
 * torch.optim.lr_scheduler.MultiStepLR(milestones, gamma=0.1): lr = base·γ^(number of milestones
 * ≤ epoch); a milestone listed twice counts twice (torch keeps a Counter).
 */
export function multiStepLR(milestones: readonly number[], gamma = 0.1, options: ScheduleOptions = {}): LrSchedule {
  if (!milestones.every((m) => Number.isSafeInteger(m) && m >= 0)) throw new LabError(`MultiStepLR: milestones must be non-negative integers, got ${JSON.stringify(milestones)}`, 'ValidationError');
  const counts = new Map<number, number>();
  for (const m of milestones) counts.set(m, (counts.get(m) ?? 0) + 1);
  const sorted = [...milestones].sort((a, b) => a - b);
  return (baseLr, epoch) => {
    checkEpoch(epoch);
    if (options.closedForm) return baseLr * gamma ** sorted.filter((m) => m <= epoch).length;
    let lr = baseLr;
    // get_lr() runs from last_epoch 0 (the constructor's initial step): × γ^count at each milestone.
    for (let e = 0; e <= epoch; e++) {
      const c = counts.get(e);
      if (c) lr = lr * gamma ** c;
    }
    return lr;
  };
}

/** Sets every group's lr to `schedule(group's initial lr, epoch)`; returns the lrs set. */
export function applySchedule<H extends BaseHyper>(optimizer: Optimizer<H>, schedule: LrSchedule, epoch: number): number[] {
  return optimizer.groups.map((_, i) => {
    const lr = schedule(optimizer.initialLr(i), epoch);
    optimizer.setLr(lr, i);
    return lr;
  });
}
