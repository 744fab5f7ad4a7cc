/**
 * The bookkeeping of torch.nn.Module (torch 1.13 `torch/nn/modules/module.py`) for tfjs: a module
 * registers parameters, buffers and child modules in insertion order (torch's `_parameters`,
 * `_buffers`, `_modules`), so the dotted names and the order of `namedParameters()` and
 * `stateDict()` are exactly torch's (`down1.0.weight`, `bn.running_mean`,
 * `layers.3.self_attn.in_proj_weight`), and a checkpoint of the reference code converted to
 * `.safetensors` loads as it is (DESIGN 2a).
 *
 * Tensors are NHWC in tfjs, so each parameter lives as a `tf.Variable` in the layout tfjs' ops want
 * and is converted to torch's layout only when a state dict is saved or loaded:
 *   - 'conv':   tfjs [kh, kw, I, O] ↔ torch Conv2d [O, I, kh, kw]; the same permutation maps tfjs'
 *               conv2dTranspose filter [kh, kw, O, I] ↔ torch ConvTranspose2d [I, O, kh, kw];
 *   - 'linear': tfjs [in, out] (for `tf.matMul(x, W)`) ↔ torch [out, in];
 *   - 'same':   everything else (biases, norms, embeddings, buffers).
 *
 * A freshly constructed module holds zeros: `initialize(seed)` fills every tensor from its
 * initialiser (torch's defaults unless a model changed them with `setInit`), or `loadStateDict`
 * loads one. Forward passes are plain synchronous tensor functions: call them inside `tf.tidy` or
 * `tf.variableGrads`. Buffers (BatchNorm's running statistics) are non-trainable variables that
 * forward passes may assign, which never enters a gradient.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LabError } from '../../../../shared/errors';
import { seedFor } from '../random';
import type { DecodedTensor, TensorToWrite } from '../safetensors';
import type { Initializer } from './init';

/** How a tensor's tfjs layout maps to torch's (see the file comment). */
export type Layout = 'same' | 'linear' | 'conv';

/** tfjs → torch permutations, and their inverses. */
const TO_TORCH: Record<Layout, number[] | null> = { same: null, linear: [1, 0], conv: [3, 2, 0, 1] };
const TO_TFJS: Record<Layout, number[] | null> = { same: null, linear: [1, 0], conv: [2, 3, 1, 0] };

export interface TensorSpec {
  /** The shape in TORCH's layout, as the state dict holds it. */
  shape: number[];
  init: Initializer;
  /** Default 'same'. */
  layout?: Layout;
}

export interface BufferSpec extends TensorSpec {
  /** 'int64' is kept as an int32 variable and saved as I64 (torch's `num_batches_tracked`). Default 'float32'. */
  dtype?: 'float32' | 'int64';
}

interface Slot {
  variable: tf.Variable;
  torchShape: number[];
  layout: Layout;
  init: Initializer;
  integer: boolean;
}

export interface LoadStateDictOptions {
  /** As torch: refuse missing and unexpected tensors (default true). Shape mismatches are always refused. */
  strict?: boolean;
  /** Names the file in error messages. */
  source?: string;
}

/** torch's `_IncompatibleKeys`: what a non-strict load skipped. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Any module whose forward takes and returns one tensor (what Sequential chains). */
export type UnaryModule = Module & { forward(x: tf.Tensor): tf.Tensor };

function permute(shape: readonly number[], perm: number[] | null): number[] {
  return perm ? perm.map((i) => shape[i] as number) : [...shape];
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

const NAME = /^[A-Za-z0-9_]+$/;

/** At most this many problems are spelled out in one error message. */
const MAX_LISTED = 12;

export abstract class Module {
  /** torch's `training` flag; change it with train()/eval(), which recurse. */
  training = true;
  readonly #params = new Map<string, Slot>();
  readonly #buffers = new Map<string, Slot>();
  readonly #modules = new Map<string, Module>();

  #checkName(name: string): void {
    if (!NAME.test(name)) throw new LabError(`invalid module attribute name '${name}' (letters, digits and '_' only; torch forbids '.')`, 'ValidationError');
    if (this.#params.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new LabError(`attribute '${name}' is already registered on ${this.constructor.name}`, 'ValidationError');
    }
  }

  #makeSlot(spec: BufferSpec, trainable: boolean): Slot {
    const layout = spec.layout ?? 'same';
    const integer = spec.dtype === 'int64';
    const tfShape = permute(spec.shape, TO_TFJS[layout]);
    // Unnamed: tfjs names variables globally, and two models with the same dotted names must coexist.
    const variable = tf.tidy(() => tf.variable(tf.zeros(tfShape, integer ? 'int32' : 'float32'), trainable));
    return { variable, torchShape: [...spec.shape], layout, init: spec.init, integer };
  }

  /** torch's `register_parameter` (Parameter in `_parameters`): a trainable variable in the tfjs layout. */
  registerParameter(name: string, spec: TensorSpec): tf.Variable {
    this.#checkName(name);
    const slot = this.#makeSlot(spec, true);
    this.#params.set(name, slot);
    return slot.variable;
  }

  /** torch's `register_buffer` (persistent): a non-trainable variable saved in the state dict. */
  registerBuffer(name: string, spec: BufferSpec): tf.Variable {
    this.#checkName(name);
    const slot = this.#makeSlot(spec, false);
    this.#buffers.set(name, slot);
    return slot.variable;
  }

  /** torch's `add_module` / attribute assignment of a Module; returns it for `this.x = this.registerModule('x', …)`. */
  registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName(name);
    this.#modules.set(name, module);
    return module;
  }

  /** Replaces the initialiser of this module's own parameter or buffer `name` (before `initialize`). */
  setInit(name: string, init: Initializer): this {
    const slot = this.#params.get(name) ?? this.#buffers.get(name);
    if (!slot) throw new LabError(`${this.constructor.name} has no parameter or buffer '${name}'`, 'ValidationError');
    slot.init = init;
    return this;
  }

  /** Every parameter and buffer in state-dict order (own parameters, own buffers, then children: torch's `_save_to_state_dict`). */
  #slots(prefix: string, out: [string, Slot][] = []): [string, Slot][] {
    for (const [n, s] of this.#params) out.push([prefix + n, s]);
    for (const [n, s] of this.#buffers) out.push([prefix + n, s]);
    for (const [n, m] of this.#modules) m.#slots(`${prefix}${n}.`, out);
    return out;
  }

  #paramSlots(prefix: string, out: [string, Slot][] = []): [string, Slot][] {
    for (const [n, s] of this.#params) out.push([prefix + n, s]);
    for (const [n, m] of this.#modules) m.#paramSlots(`${prefix}${n}.`, out);
    return out;
  }

  #bufferSlots(prefix: string, out: [string, Slot][] = []): [string, Slot][] {
    for (const [n, s] of this.#buffers) out.push([prefix + n, s]);
    for (const [n, m] of this.#modules) m.#bufferSlots(`${prefix}${n}.`, out);
    return out;
  }

  /** torch's `named_parameters()`: every parameter (trainable or frozen), in torch's order, with dotted names. */
  namedParameters(): [string, tf.Variable][] {
    return this.#paramSlots('').map(([n, s]) => [n, s.variable]);
  }

  parameters(): tf.Variable[] {
    return this.#paramSlots('').map(([, s]) => s.variable);
  }

  /** The parameters `tf.variableGrads` should differentiate: those with `trainable` set (torch's requires_grad). */
  trainableParameters(): tf.Variable[] {
    return this.parameters().filter((v) => v.trainable);
  }

  /** torch's `named_buffers()`. */
  namedBuffers(): [string, tf.Variable][] {
    return this.#bufferSlots('').map(([n, s]) => [n, s.variable]);
  }

  /** torch's `named_modules()`: this module as '' and every descendant, pre-order. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, m] of this.#modules) out.push(...m.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** torch's `named_children()`. */
  namedChildren(): [string, Module][] {
    return [...this.#modules];
  }

  /** torch's `train(mode)`: sets `training` here and in every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.#modules.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** torch's `requires_grad_(flag)`: marks every parameter trainable or frozen. */
  requiresGrad(flag = true): this {
    for (const [, s] of this.#paramSlots('')) s.variable.trainable = flag;
    return this;
  }

  /**
   * Fills every parameter and buffer from its initialiser, each seeded by `seedFor(seed, dottedName)`:
   * the same seed gives the same weights on every backend and whatever the construction order.
   */
  initialize(seed: number): this {
    for (const [name, slot] of this.#slots('')) {
      const values = slot.init(slot.torchShape, seedFor(seed, name));
      const expected = slot.torchShape.reduce((a, b) => a * b, 1);
      if (values.length !== expected) throw new LabError(`initialiser of '${name}' returned ${values.length} values for shape ${shapeText(slot.torchShape)}`, 'LabError');
      Module.#assign(slot, values);
    }
    return this;
  }

  static #assign(slot: Slot, torchValues: Float32Array | Int32Array): void {
    tf.tidy(() => {
      const perm = TO_TFJS[slot.layout];
      const t = tf.tensor(torchValues, slot.torchShape, slot.integer ? 'int32' : 'float32');
      slot.variable.assign(perm ? tf.transpose(t, perm) : t);
    });
  }

  /**
   * torch's `state_dict()`: every parameter and buffer in torch's order, names and layouts, as
   * `encodeSafetensors`/`writeSafetensors` take them (float F32, integer buffers I64). Copies.
   */
  stateDict(): Map<string, TensorToWrite> {
    const out = new Map<string, TensorToWrite>();
    for (const [name, slot] of this.#slots('')) {
      const perm = TO_TORCH[slot.layout];
      // Read outside tf.tidy: tidy walks whatever its function returns looking for tensors, element
      // by element for a typed array (~1.5 µs each: 155 s for RD's 92 M parameters).
      const permuted = perm ? tf.transpose(slot.variable, perm) : null;
      let values: ReturnType<tf.Tensor['dataSync']>;
      try {
        values = (permuted ?? slot.variable).dataSync();
      } finally {
        permuted?.dispose();
      }
      if (slot.integer) out.set(name, { dtype: 'I64', shape: [...slot.torchShape], data: BigInt64Array.from(values as Int32Array, (v) => BigInt(v)) });
      else out.set(name, { dtype: 'F32', shape: [...slot.torchShape], data: new Float32Array(values as Float32Array) });
    }
    return out;
  }

  /**
   * torch's `load_state_dict`: takes torch names and layouts (e.g. `loadSafetensors(path).tensors`).
   * Everything is checked before anything is assigned, so a refused state dict changes nothing: a
   * shape or dtype mismatch is always refused; missing and unexpected tensors are refused when
   * `strict` (default), else skipped and reported as torch does.
   */
  loadStateDict(tensors: ReadonlyMap<string, DecodedTensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const source = options.source ?? 'state dict';
    const slots = this.#slots('');
    const known = new Set(slots.map(([n]) => n));
    const problems: string[] = [];
    const missingKeys: string[] = [];
    const plan: [Slot, Float32Array | Int32Array][] = [];
    for (const [name, slot] of slots) {
      const t = tensors.get(name);
      const want = `${slot.integer ? 'I64' : 'F32'} ${shapeText(slot.torchShape)}`;
      if (!t) {
        missingKeys.push(name);
        if (strict) problems.push(`tensor '${name}' is missing (the model expects ${want})`);
        continue;
      }
      if (t.shape.length !== slot.torchShape.length || t.shape.some((d, i) => d !== slot.torchShape[i])) {
        problems.push(`tensor '${name}' has shape ${shapeText(t.shape)} but the model expects ${shapeText(slot.torchShape)}`);
        continue;
      }
      if (slot.integer) {
        if (t.data instanceof Float32Array || t.data instanceof Float64Array) {
          problems.push(`tensor '${name}' has dtype ${t.dtype} but the model expects an integer tensor (${want})`);
          continue;
        }
        plan.push([slot, Int32Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v))]);
      } else {
        if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
          problems.push(`tensor '${name}' has dtype ${t.dtype} but the model expects a float tensor (${want})`);
          continue;
        }
        plan.push([slot, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data)]);
      }
    }
    const unexpectedKeys = [...tensors.keys()].filter((n) => !known.has(n));
    if (strict) for (const n of unexpectedKeys) problems.push(`unexpected tensor '${n}' (the model has no parameter or buffer of that name)`);
    if (problems.length) {
      const listed = problems.slice(0, MAX_LISTED).join('; ');
      const more = problems.length > MAX_LISTED ? `; and ${problems.length - MAX_LISTED} more` : '';
      throw new LabError(`${source}: cannot load the state dict into ${this.constructor.name} (nothing was loaded): ${listed}${more}`, 'ValidationError');
    }
    for (const [slot, values] of plan) Module.#assign(slot, values);
    return { missingKeys, unexpectedKeys };
  }

  /**
   * Converts `t`, shaped like parameter or buffer `name` in the tfjs layout (the tensor itself, its
   * gradient, an optimiser moment), to torch's layout. A new tensor; the caller disposes it.
   */
  toTorchLayout(name: string, t: tf.Tensor): tf.Tensor {
    const slot = this.#slots('').find(([n]) => n === name)?.[1];
    if (!slot) throw new LabError(`${this.constructor.name} has no parameter or buffer '${name}'`, 'ValidationError');
    const perm = TO_TORCH[slot.layout];
    return perm ? tf.transpose(t, perm) : tf.clone(t);
  }

  /** Disposes every variable of this module and its descendants. */
  dispose(): void {
    for (const [, slot] of this.#slots('')) slot.variable.dispose();
  }
}

/**
 * torch's nn.ModuleList: children named '0', '1', … in the order given, so names come out as
 * `layers.3.self_attn.in_proj_weight`. It has no forward; iterate it.
 */
export class ModuleList<M extends Module = Module> extends Module implements Iterable<M> {
  readonly #items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    this.registerModule(String(this.#items.length), module);
    this.#items.push(module);
    return this;
  }

  at(index: number): M {
    const m = this.#items[index];
    if (!m) throw new LabError(`ModuleList index ${index} is out of range (length ${this.#items.length})`, 'ValidationError');
    return m;
  }

  get length(): number {
    return this.#items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }
}

/**
 * torch's nn.Sequential: children named '0', '1', …, each applied to the previous one's output.
 * Parameterless steps (ReLU, pooling) take an index too in torch, so they are modules here as well
 * (layers.ts: ReLU, Lambda), or the indices of the following layers would not match torch's.
 */
export class Sequential extends Module {
  readonly #items: UnaryModule[] = [];

  constructor(...modules: UnaryModule[]) {
    super();
    for (const m of modules) {
      this.registerModule(String(this.#items.length), m);
      this.#items.push(m);
    }
  }

  at(index: number): UnaryModule {
    const m = this.#items[index];
    if (!m) throw new LabError(`Sequential index ${index} is out of range (length ${this.#items.length})`, 'ValidationError');
    return m;
  }

  get length(): number {
    return this.#items.length;
  }

  forward(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (const m of this.#items) h = m.forward(h);
    return h;
  }
}
