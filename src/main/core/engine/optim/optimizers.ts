/**
 * Adam, AdamW and SGD with torch.optim's arithmetic: torch 1.13's single-tensor (foreach=False,
 * capturable=False, differentiable=False) code paths `_single_tensor_adam`, `_single_tensor_adamw`,
 * `_single_tensor_sgd`, with the float operations in torch's order (scalars such as the bias
 * corrections and the step size are computed in double, as Python floats, and applied in float32).
 * Not supported: amsgrad, maximize, foreach/fused kernels, sparse gradients.
 *
 * tfjs' own optimisers differ (Adam's epsilon defaults to 1e-7 and sits elsewhere, no weight decay,
 * no AdamW: METHODS 0.1 item 5), hence these.
 *
 * Parameters come with names (Module.namedParameters()), optionally in groups with their own lr and
 * weight decay (torch's param_groups). `step(grads)` takes `tf.variableGrads(...).grads` (keyed by
 * tfjs variable name) or a map keyed by parameter name; a parameter with no gradient (absent or
 * null) is skipped as torch skips `p.grad is None`: its state and its step count stay as they are.
 * Keys that name no parameter of the optimiser are ignored (gradients of other variables). The
 * gradients are not disposed: the caller owns them.
 *
 * State for checkpoints (`state()` / `loadState()`): step count per parameter, lr per group and the
 * per-parameter tensors `exp_avg.<name>`, `exp_avg_sq.<name>` (Adam, AdamW) or
 * `momentum_buffer.<name>` (SGD with momentum), in the parameter's tfjs layout. A restored optimiser
 * continues bit-identically.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';

/** Named parameters, as `Module.namedParameters()` returns them. */
export type NamedParameters = Iterable<readonly [string, tf.Variable]>;

/** Gradients by tfjs variable name (`tf.variableGrads`) or by parameter name. */
export type Gradients = ReadonlyMap<string, tf.Tensor | null | undefined> | Readonly<Record<string, tf.Tensor | null | undefined>>;

/** One parameter group: its parameters and any hyperparameters that differ from the optimiser's defaults. */
export type ParamGroup<H> = { params: NamedParameters } & Partial<H>;

export interface StateTensor {
  /** The parameter's shape in tfjs layout. */
  shape: number[];
  data: Float32Array;
}

export interface OptimizerState {
  kind: OptimizerKind;
  /** lr of each group, in group order. */
  groups: { lr: number }[];
  /** Steps taken per parameter name (torch's per-parameter `state[p]['step']`); absent = never stepped. */
  steps: Record<string, number>;
  /** `<slot>.<param name>`, e.g. `exp_avg.enc.0.weight`. */
  tensors: Map<string, StateTensor>;
}

/**
 * What `loadState` accepts: an OptimizerState, or the same with its tensors as read back from a
 * checkpoint (e.g. `loadSafetensors(path).tensors`; they must be float32).
 */
export interface LoadableOptimizerState {
  kind: OptimizerKind;
  groups: readonly { lr: number }[];
  steps: Readonly<Record<string, number>>;
  tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: ArrayBufferView }>;
}

export type OptimizerKind = 'Adam' | 'AdamW' | 'SGD';

export interface BaseHyper {
  lr: number;
  weightDecay: number;
}

export interface AdamHyper extends BaseHyper {
  betas: [number, number];
  eps: number;
}

export interface SgdHyper extends BaseHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

/** A parameter as the optimiser tracks it. */
export interface OptimizerParam {
  name: string;
  variable: tf.Variable;
  group: number;
  step: number;
  slots: Map<string, tf.Variable>;
}

export interface GroupInfo<H> {
  /** Parameter names, in the order given. */
  names: string[];
  /** The current hyperparameters (lr changes with setLr). */
  hyper: H;
  /** The lr the group was built with (torch's `initial_lr`), the base of schedules. */
  initialLr: number;
}

function checkHyper(kind: OptimizerKind, h: BaseHyper & Partial<AdamHyper & SgdHyper>): void {
  const bad = (what: string, v: unknown): never => {
    throw new LabError(`${kind}: invalid ${what}: ${JSON.stringify(v)}`, 'ValidationError');
  };
  if (!(h.lr >= 0)) bad('learning rate', h.lr);
  if (!(h.weightDecay >= 0)) bad('weight_decay value', h.weightDecay);
  if (h.eps !== undefined && !(h.eps >= 0)) bad('epsilon value', h.eps);
  if (h.betas !== undefined && !h.betas.every((b) => b >= 0 && b < 1)) bad('beta parameters', h.betas);
  if (h.momentum !== undefined && !(h.momentum >= 0)) bad('momentum value', h.momentum);
  if (h.nesterov && (!(h.momentum! > 0) || h.dampening !== 0)) bad('Nesterov momentum (it requires a momentum and zero dampening)', { momentum: h.momentum, dampening: h.dampening });
}

export abstract class Optimizer<H extends BaseHyper> {
  abstract readonly kind: OptimizerKind;
  readonly #groups: GroupInfo<H>[] = [];
  readonly #params: OptimizerParam[] = [];
  readonly #byName = new Map<string, OptimizerParam>();

  protected constructor(params: NamedParameters | ParamGroup<H>[], defaults: H) {
    const list = [...(params as Iterable<unknown>)];
    const groups: ParamGroup<H>[] =
      list.length > 0 && !Array.isArray(list[0]) ? (list as ParamGroup<H>[]) : [{ params: list as [string, tf.Variable][] } as unknown as ParamGroup<H>];
    groups.forEach((g, gi) => {
      const { params: gp, ...overrides } = g;
      const hyper = { ...defaults, ...(overrides as unknown as Partial<H>) } as H;
      const names: string[] = [];
      for (const [name, variable] of gp) {
        if (this.#byName.has(name)) throw new LabError(`optimizer: parameter '${name}' appears in more than one parameter group (or twice)`, 'ValidationError');
        if (variable.dtype !== 'float32') throw new LabError(`optimizer: parameter '${name}' is ${variable.dtype}, not float32`, 'ValidationError');
        const p: OptimizerParam = { name, variable, group: gi, step: 0, slots: new Map() };
        this.#params.push(p);
        this.#byName.set(name, p);
        names.push(name);
      }
      this.#groups.push({ names, hyper, initialLr: hyper.lr });
    });
    if (this.#params.length === 0) throw new LabError('optimizer got an empty parameter list', 'ValidationError');
  }

  /** Checks every group's hyperparameters (subclass constructors call it once `kind` is set). */
  protected validate(): void {
    for (const g of this.#groups) checkHyper(this.kind, g.hyper);
  }

  /** The slots this optimiser keeps per parameter (for state validation). */
  protected abstract readonly slotNames: readonly string[];

  /**
   * One update of `p` by gradient `g`, inside the step's tf.tidy: assign the new values to
   * `p.variable` and the slots (created with `slot()`).
   */
  protected abstract update(p: OptimizerParam, g: tf.Tensor, hyper: H): void;

  /** A per-parameter state tensor (created on first use from `init`, as torch's lazy state). */
  protected slot(p: OptimizerParam, name: string, init: () => tf.Tensor): tf.Variable {
    let v = p.slots.get(name);
    if (!v) {
      v = tf.variable(init(), false);
      p.slots.set(name, v);
    }
    return v;
  }

  get groups(): readonly GroupInfo<H>[] {
    return this.#groups;
  }

  /** The parameters in optimiser order: pass them as `tf.variableGrads(f, optimizer.variables())`. */
  variables(): tf.Variable[] {
    return this.#params.map((p) => p.variable);
  }

  lr(group = 0): number {
    return this.#group(group).hyper.lr;
  }

  /** Sets the lr of one group, or of every group when `group` is omitted. */
  setLr(lr: number, group?: number): void {
    if (!(lr >= 0)) throw new LabError(`${this.kind}: invalid learning rate: ${lr}`, 'ValidationError');
    for (const g of group === undefined ? this.#groups : [this.#group(group)]) g.hyper.lr = lr;
  }

  initialLr(group = 0): number {
    return this.#group(group).initialLr;
  }

  #group(i: number): GroupInfo<H> {
    const g = this.#groups[i];
    if (!g) throw new LabError(`${this.kind}: no parameter group ${i} (there are ${this.#groups.length})`, 'ValidationError');
    return g;
  }

  #gradFor(grads: Gradients, p: OptimizerParam): tf.Tensor | null {
    const get = (k: string): tf.Tensor | null | undefined => (grads instanceof Map ? grads.get(k) : (grads as Record<string, tf.Tensor | null | undefined>)[k]);
    return get(p.variable.name) ?? get(p.name) ?? null;
  }

  /** One optimisation step (torch's `optimizer.step()` after `backward()`). */
  step(grads: Gradients): void {
    const work: [OptimizerParam, tf.Tensor][] = [];
    for (const p of this.#params) {
      const g = this.#gradFor(grads, p);
      if (!g) continue;
      if (g.shape.length !== p.variable.shape.length || g.shape.some((d, i) => d !== p.variable.shape[i])) {
        throw new LabError(`${this.kind}: gradient of '${p.name}' has shape [${g.shape.join(', ')}] but the parameter has [${p.variable.shape.join(', ')}]`, 'ValidationError');
      }
      work.push([p, g]);
    }
    // One tidy per parameter: a scope around all of them would keep every parameter's temporaries
    // (~8 tensors of its size) alive until the last, ~3 GB for RD's 92 M parameters (past the wasm heap).
    for (const [p, g] of work) {
      p.step += 1;
      tf.tidy(() => this.update(p, g, this.#groups[p.group]!.hyper));
    }
  }

  /** A copy of the optimiser's state for a checkpoint. */
  state(): OptimizerState {
    const steps: Record<string, number> = {};
    const tensors = new Map<string, StateTensor>();
    for (const p of this.#params) {
      if (p.step > 0) steps[p.name] = p.step;
      for (const [slot, v] of p.slots) tensors.set(`${slot}.${p.name}`, { shape: [...v.shape], data: new Float32Array(v.dataSync() as Float32Array) });
    }
    return { kind: this.kind, groups: this.#groups.map((g) => ({ lr: g.hyper.lr })), steps, tensors };
  }

  /**
   * Restores a state saved by `state()` of an optimiser of the same kind over parameters of the
   * same names and shapes. Everything is checked first; a refused state changes nothing.
   */
  loadState(state: LoadableOptimizerState, source = 'optimizer state'): void {
    const problems: string[] = [];
    if (state.kind !== this.kind) problems.push(`it is a ${state.kind} state, this optimizer is ${this.kind}`);
    if (state.groups.length !== this.#groups.length) problems.push(`it has ${state.groups.length} parameter groups, this optimizer has ${this.#groups.length}`);
    state.groups.forEach((g, i) => {
      if (!(g.lr >= 0)) problems.push(`group ${i} has an invalid lr ${JSON.stringify(g.lr)}`);
    });
    for (const [name, step] of Object.entries(state.steps)) {
      if (!this.#byName.has(name)) problems.push(`it has a step count for '${name}', which is not a parameter of this optimizer`);
      else if (!Number.isSafeInteger(step) || step < 0) problems.push(`step count of '${name}' is not a non-negative integer: ${JSON.stringify(step)}`);
    }
    const plan = new Map<OptimizerParam, Map<string, StateTensor>>();
    if (!(state.tensors instanceof Map)) problems.push('its tensors are not a Map of name → { shape, data }');
    const entries: [string, { readonly shape: readonly number[]; readonly data: ArrayBufferView }][] = state.tensors instanceof Map ? [...state.tensors] : [];
    for (const [key, t] of entries) {
      const slot = this.slotNames.find((s) => key.startsWith(`${s}.`));
      const name = slot ? key.slice(slot.length + 1) : '';
      const p = this.#byName.get(name);
      if (!slot || !p) {
        problems.push(`unexpected tensor '${key}' (expected ${this.slotNames.map((s) => `${s}.<parameter>`).join(' or ')} for a parameter of this optimizer)`);
        continue;
      }
      const shape = p.variable.shape;
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        problems.push(`tensor '${key}' has shape [${t.shape.join(', ')}] but parameter '${name}' has [${shape.join(', ')}]`);
        continue;
      }
      if (!(t.data instanceof Float32Array) || t.data.length !== p.variable.size) {
        problems.push(`tensor '${key}' does not hold ${p.variable.size} float32 values`);
        continue;
      }
      if (!plan.has(p)) plan.set(p, new Map());
      plan.get(p)!.set(slot, { shape: [...t.shape], data: t.data });
    }
    problems.push(...this.checkStateConsistency(state.steps, plan));
    if (problems.length) {
      throw new LabError(`${source}: cannot restore the ${this.kind} state (nothing was restored): ${problems.slice(0, 12).join('; ')}${problems.length > 12 ? `; and ${problems.length - 12} more` : ''}`, 'ValidationError');
    }
    state.groups.forEach((g, i) => {
      this.#groups[i]!.hyper.lr = g.lr;
    });
    for (const p of this.#params) {
      p.step = state.steps[p.name] ?? 0;
      for (const v of p.slots.values()) v.dispose();
      p.slots.clear();
      for (const [slot, t] of plan.get(p) ?? []) p.slots.set(slot, tf.variable(tf.tensor(t.data, t.shape, 'float32'), false));
    }
  }

  /** Problems with a state's completeness (e.g. Adam: a stepped parameter needs both moments). */
  protected checkStateConsistency(steps: Readonly<Record<string, number>>, plan: ReadonlyMap<OptimizerParam, ReadonlyMap<string, StateTensor>>): string[] {
    const problems: string[] = [];
    for (const p of this.#params) {
      const stepped = (steps[p.name] ?? 0) > 0;
      const have = plan.get(p);
      for (const s of this.slotNames) {
        if (stepped && this.requiredSlot(s) && !have?.has(s)) problems.push(`tensor '${s}.${p.name}' is missing (the parameter has taken ${steps[p.name]} steps)`);
        if (!stepped && have?.has(s)) problems.push(`tensor '${s}.${p.name}' is present but the parameter has taken no step`);
      }
    }
    return problems;
  }

  /** Whether a stepped parameter must have slot `s` (SGD's momentum buffer exists only with momentum). */
  protected requiredSlot(_s: string): boolean {
    return true;
  }

  /** Disposes the optimiser's state tensors (not the parameters). */
  dispose(): void {
    for (const p of this.#params) {
      for (const v of p.slots.values()) v.dispose();
      p.slots.clear();
    }
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** `_single_tensor_adam` / `_single_tensor_adamw` (amsgrad off), operation by operation. */
abstract class AdamBase extends Optimizer<AdamHyper> {
  protected readonly slotNames = ['exp_avg', 'exp_avg_sq'] as const;

  protected constructor(
    params: NamedParameters | ParamGroup<AdamHyper>[],
    options: AdamOptions,
    defaultWeightDecay: number,
    private readonly decoupled: boolean,
  ) {
    super(params, { lr: options.lr ?? 1e-3, betas: options.betas ?? [0.9, 0.999], eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? defaultWeightDecay });
  }

  protected update(p: OptimizerParam, grad: tf.Tensor, h: AdamHyper): void {
    const [beta1, beta2] = h.betas;
    const param = p.variable;
    let g = grad;
    if (this.decoupled) {
      // AdamW: param.mul_(1 - lr * weight_decay)
      if (h.weightDecay !== 0) param.assign(tf.mul(param, 1 - h.lr * h.weightDecay));
    } else if (h.weightDecay !== 0) {
      // Adam: grad = grad.add(param, alpha=weight_decay)
      g = tf.add(g, tf.mul(param, h.weightDecay));
    }
    const expAvg = this.slot(p, 'exp_avg', () => tf.zerosLike(param));
    const expAvgSq = this.slot(p, 'exp_avg_sq', () => tf.zerosLike(param));
    // exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
    const m = tf.add(tf.mul(expAvg, beta1), tf.mul(g, 1 - beta1));
    // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2): v + value·g·g, left to right
    const v = tf.add(tf.mul(expAvgSq, beta2), tf.mul(tf.mul(g, 1 - beta2), g));
    expAvg.assign(m);
    expAvgSq.assign(v);
    // Python floats (double) as torch, applied in float32.
    const biasCorrection1 = 1 - beta1 ** p.step;
    const biasCorrection2 = 1 - beta2 ** p.step;
    const stepSize = h.lr / biasCorrection1;
    const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
    // denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), h.eps);
    // param.addcdiv_(exp_avg, denom, value=-step_size): p + value·m/denom, left to right
    param.assign(tf.add(param, tf.div(tf.mul(m, -stepSize), denom)));
  }
}

/**
 * torch.optim.Adam (defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0). Weight decay is
 * COUPLED (L2 added to the gradient before the moments, g ← g + wd·p), as torch's Adam.
 */
export class Adam extends AdamBase {
  readonly kind: OptimizerKind = 'Adam';

  constructor(params: NamedParameters | ParamGroup<AdamHyper>[], options: AdamOptions = {}) {
    super(params, options, 0, false);
    this.validate();
  }
}

/**
 * torch.optim.AdamW (defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2): DECOUPLED
 * weight decay, p ← p·(1 − lr·wd) before the Adam update.
 */
export class AdamW extends AdamBase {
  readonly kind: OptimizerKind = 'AdamW';

  constructor(params: NamedParameters | ParamGroup<AdamHyper>[], options: AdamOptions = {}) {
    super(params, options, 1e-2, true);
    this.validate();
  }
}

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD (lr required; momentum 0, dampening 0, weight_decay 0 (coupled), nesterov false).
 * Momentum buffer as torch: the first step's buffer is the (decayed) gradient itself, later ones
 * buf ← momentum·buf + (1 − dampening)·g; Nesterov uses g + momentum·buf.
 */
export class SGD extends Optimizer<SgdHyper> {
  readonly kind: OptimizerKind = 'SGD';
  protected readonly slotNames = ['momentum_buffer'] as const;

  constructor(params: NamedParameters | ParamGroup<SgdHyper>[], options: SgdOptions) {
    super(params, { lr: options.lr, momentum: options.momentum ?? 0, dampening: options.dampening ?? 0, weightDecay: options.weightDecay ?? 0, nesterov: options.nesterov ?? false });
    this.validate();
  }

  protected override requiredSlot(): boolean {
    // A momentum buffer exists only in groups with momentum; a state without one is still valid.
    return false;
  }

  protected update(p: OptimizerParam, grad: tf.Tensor, h: SgdHyper): void {
    const param = p.variable;
    let dp = grad;
    // d_p = d_p.add(param, alpha=weight_decay)
    if (h.weightDecay !== 0) dp = tf.add(dp, tf.mul(param, h.weightDecay));
    if (h.momentum !== 0) {
      const existing = p.slots.get('momentum_buffer');
      let buf: tf.Tensor;
      if (!existing) {
        // buf = torch.clone(d_p).detach()
        buf = dp;
        this.slot(p, 'momentum_buffer', () => tf.clone(dp));
      } else {
        // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
        buf = tf.add(tf.mul(existing, h.momentum), tf.mul(dp, 1 - h.dampening));
        existing.assign(buf);
      }
      // nesterov: d_p = d_p.add(buf, alpha=momentum); else d_p = buf
      dp = h.nesterov ? tf.add(dp, tf.mul(buf, h.momentum)) : buf;
    }
    // param.add_(d_p, alpha=-lr)
    param.assign(tf.add(param, tf.mul(dp, -h.lr)));
  }
}
