/**
 * The {@link Optimizer} base class: parameter groups, per-parameter state, `step()`, `zeroGrad()` and
 * a PyTorch-shaped state dict for resuming. The update rules live in the subclasses (sgd.ts, adam.ts,
 * ...), each a loop over one parameter's `data` and its gradient's `data`.
 */
import { enableGrad } from '../autograd/grad-mode.js';
import { ArgumentError, ShapeError, describeValue, invalidArgument } from '../errors.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { camelCase, checkNumber } from './check.js';

/** The options every optimiser has in each parameter group. */
export interface GroupOptions {
  /** Learning rate (schedulers write it). */
  lr: number;
  /** Weight decay: an L2 penalty added to the gradient (AdamW: decoupled, applied to the weights). */
  weightDecay: number;
}

/**
 * Bookkeeping that learning-rate schedulers store on parameter groups, as PyTorch's do
 * (`initial_lr`, `max_lr`, ...). Saved and restored with the optimiser's state dict.
 */
export interface SchedulerGroupFields {
  /** The lr a scheduler started from (set by the first scheduler built on the optimiser). */
  initialLr?: number;
  /** `OneCycleLR`: the peak lr. */
  maxLr?: number;
  /** `OneCycleLR`: the final lr. */
  minLr?: number;
  /** `OneCycleLR`: the momentum (or beta1) at the start and end of the cycle. */
  maxMomentum?: number;
  /** `OneCycleLR`: the momentum (or beta1) at the peak lr. */
  baseMomentum?: number;
}

/**
 * A parameter group as the optimiser holds it in {@link Optimizer.paramGroups}: its tensors and
 * every option, resolved (the group's own values, else the optimiser's defaults). Options are
 * plain, mutable fields: a scheduler writes `group.lr`, fine-tuning code may change
 * `group.weightDecay` between steps.
 */
export type ParamGroup<O extends GroupOptions = GroupOptions> = O & SchedulerGroupFields & { params: Tensor[] };

/**
 * A parameter group as passed to an optimiser's constructor or {@link Optimizer.addParamGroup}: its
 * tensors and any options that differ from the optimiser's defaults, e.g.
 * `{ params: backbone.parameters(), lr: 1e-4 }`.
 */
export type ParamGroupInput<O extends GroupOptions = GroupOptions> = Partial<O> &
  SchedulerGroupFields & { params: Iterable<Tensor> | Tensor };

/** What an optimiser's constructor accepts: tensors (one group) or parameter groups. */
export type OptimizerParams<O extends GroupOptions = GroupOptions> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** One entry of a parameter's optimiser state: a buffer the size of the parameter, or a count. */
export type StateValue = Float32Array | number;

/** The optimiser state of one parameter (`{ step: 3, expAvg: Float32Array, ... }`). */
export type ParamState = Record<string, StateValue>;

/** What each state key of an optimiser holds: a parameter-sized buffer or a step count. */
export type StateSpec = Readonly<Record<string, 'buffer' | 'count'>>;

/** A parameter group in a state dict: its options, and its parameters as indices. */
export type SavedParamGroup<O extends GroupOptions = GroupOptions> = O & SchedulerGroupFields & { params: number[] };

/**
 * An optimiser's state dict, structured as PyTorch's: `state` maps a parameter's index (its position
 * when the groups' parameters are listed in order) to its state, and `paramGroups` holds each group's
 * options with `params` as those indices. Buffers are copies (Float32Array); everything else is
 * JSON. Note that `JSON.stringify` writes a Float32Array as an object of indices: store the buffers
 * as tensors (safetensors) or convert them with `Array.from`; {@link Optimizer.loadStateDict}
 * accepts number arrays.
 */
export interface OptimizerStateDict<O extends GroupOptions = GroupOptions> {
  state: Record<number, ParamState>;
  paramGroups: Array<SavedParamGroup<O>>;
}

/**
 * What {@link Optimizer.loadStateDict} accepts besides an {@link OptimizerStateDict}: the same
 * structure with buffers that may be number arrays (as after a JSON round trip).
 */
export interface OptimizerStateDictLike {
  state: Readonly<Record<string | number, Readonly<Record<string, Float32Array | readonly number[] | number>>>>;
  paramGroups: ReadonlyArray<{ readonly params: readonly number[] }>;
}

/** Options of {@link Optimizer.zeroGrad}. */
export interface ZeroGradOptions {
  /**
   * Set each gradient to null (default true) rather than filling it with zeros. A parameter whose
   * gradient is null is skipped by `step()`; one with a zero gradient is still updated (momentum,
   * weight decay).
   */
  setToNone?: boolean;
}

/** Copies a group's options (not `params`), so saved or merged groups never share arrays (`betas`). */
function copyOptions(group: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(group)) {
    if (key === 'params' || value === undefined) continue;
    out[key] = Array.isArray(value) ? value.slice() : value;
  }
  return out;
}

/** Copies one parameter's state (buffers are cloned). */
function copyState(state: ParamState): ParamState {
  const out: ParamState = {};
  for (const [key, value] of Object.entries(state)) out[key] = value instanceof Float32Array ? value.slice() : value;
  return out;
}

/**
 * Returns the buffer `key` of `state`, creating it (`size` elements, filled with `fill`) if absent.
 * Buffers are created lazily so that options switched on mid-training (amsgrad, momentum) work.
 */
export function stateBuffer(state: ParamState, key: string, size: number, fill = 0): Float32Array {
  const value = state[key];
  if (value instanceof Float32Array) return value;
  const buffer = new Float32Array(size);
  if (fill !== 0) buffer.fill(fill);
  state[key] = buffer;
  return buffer;
}

/** Increments the count `key` of `state` (0 when absent) and returns the new value. */
export function incrementCount(state: ParamState, key = 'step'): number {
  const value = state[key];
  const next = (typeof value === 'number' ? value : 0) + 1;
  state[key] = next;
  return next;
}

/**
 * The base of every optimiser, with PyTorch's `torch.optim.Optimizer` semantics.
 *
 * - **Parameter groups.** The constructor takes tensors (one group) or groups
 *   (`[{ params: backbone, lr: 1e-4 }, { params: head }]`); each group's missing options come from
 *   the optimiser's defaults. A tensor may be in one group only.
 * - **Step.** {@link step} updates, in place on `param.data`, every parameter that has a gradient
 *   and `requiresGrad`; the others (frozen, or without a gradient this step) are skipped and get no
 *   state.
 * - **State.** {@link state} maps each parameter that was ever stepped to its buffers and counts;
 *   {@link stateDict} / {@link loadStateDict} save and restore it with the groups' options, for
 *   resuming training.
 *
 * Subclasses implement {@link checkOptions}, {@link stateSpec} and {@link updateParam}.
 *
 * Differs from PyTorch: a parameter with `requiresGrad === false` is skipped even if it has a
 * gradient (PyTorch steps any parameter whose `.grad` is set); duplicate tensors within a group are
 * an error (PyTorch warns); every group's options are validated (PyTorch checks the constructor's
 * defaults only); `zeroGrad()` sets gradients to null by default (as PyTorch 2.0 does, 1.13 zeroes).
 */
export abstract class Optimizer<O extends GroupOptions = GroupOptions> {
  /** The options given to the constructor, used where a group does not set its own (frozen). */
  readonly defaults: Readonly<Partial<O>>;
  /**
   * The parameter groups, options resolved. Mutable: schedulers write `lr`; code may change any
   * option between steps. {@link loadStateDict} replaces the group objects.
   */
  paramGroups: Array<ParamGroup<O>> = [];
  /** Per-parameter state, created at a parameter's first update. */
  readonly state: Map<Tensor, ParamState> = new Map();

  /**
   * @param params tensors to optimise (one group), or parameter groups.
   * @param defaults each option's default for groups that do not set it (`lr` may be absent only if
   *   every group sets it).
   * @throws ArgumentError for an empty parameter list, a non-tensor or non-leaf parameter, a tensor
   *   in two groups, or an invalid option.
   */
  constructor(params: OptimizerParams<O>, defaults: Partial<O>) {
    const clean = copyOptions(defaults as Record<string, unknown>) as Partial<O>;
    this.checkOptions(clean);
    this.defaults = Object.freeze(clean);
    if (params instanceof Tensor) {
      throw new ArgumentError(
        `params argument given to the optimizer should be an iterable of Tensors or parameter groups, but got a Tensor (wrap it: [tensor])`,
      );
    }
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw invalidArgument(`the params of ${this.constructor.name}`, 'an iterable of Tensors or parameter groups', params);
    }
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw new ArgumentError('optimizer got an empty parameter list');
    const groups = list[0] instanceof Tensor ? [{ params: list }] : list;
    for (const group of groups) this.addParamGroup(group as ParamGroupInput<O>);
  }

  /**
   * Validates options: a group's resolved options, or the (partial) defaults. Range errors read as
   * PyTorch's (`Invalid learning rate: -1`).
   * @throws ArgumentError for an invalid value.
   */
  protected abstract checkOptions(options: Partial<O>): void;

  /** The state keys this optimiser keeps per parameter, for validating loaded state dicts. */
  protected abstract stateSpec(): StateSpec;

  /**
   * Updates one parameter in place from its gradient.
   * @param param the parameter's data.
   * @param grad its gradient's data (same length).
   * @param state its state (an empty object at its first update).
   * @param group its group's resolved options.
   */
  protected abstract updateParam(param: Float32Array, grad: Float32Array, state: ParamState, group: ParamGroup<O>): void;

  /**
   * Adds a parameter group, e.g. layers unfrozen during fine-tuning. Options it does not set come
   * from {@link defaults}.
   * @throws ArgumentError when a tensor is already in a group, or for an invalid option.
   */
  addParamGroup(paramGroup: ParamGroupInput<O>): void {
    const where = `parameter group ${this.paramGroups.length}`;
    if (typeof paramGroup !== 'object' || paramGroup === null || paramGroup instanceof Tensor || Array.isArray(paramGroup)) {
      throw invalidArgument(where, 'an object with a params list', paramGroup);
    }
    const raw = (paramGroup as { params?: unknown }).params;
    let params: unknown[];
    if (raw instanceof Tensor) params = [raw];
    else if (raw !== null && typeof raw === 'object' && typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') {
      params = [...(raw as Iterable<unknown>)];
    } else throw invalidArgument(`params of ${where}`, 'a Tensor or an iterable of Tensors', raw);
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new ArgumentError(`optimizer can only optimize Tensors, but one of the params is ${describeValue(p)}`);
      if (!p.isLeaf) throw new ArgumentError("can't optimize a non-leaf Tensor");
    }
    const tensors = params as Tensor[];
    if (new Set(tensors).size !== tensors.length) {
      throw new ArgumentError('optimizer contains a parameter group with duplicate parameters');
    }
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (tensors.includes(p)) throw new ArgumentError('some parameters appear in more than one parameter group');
      }
    }
    const known = Object.keys(this.defaults);
    for (const key of Object.keys(paramGroup)) {
      const camel = camelCase(key);
      if (camel !== key && (known.includes(camel) || camel === 'initialLr')) {
        throw new ArgumentError(`Unknown option '${key}' in ${where}; did you mean '${camel}'?`);
      }
    }
    const group = { ...copyOptions(this.defaults as Record<string, unknown>), ...copyOptions(paramGroup as Record<string, unknown>) };
    this.checkGroup(group, where);
    this.paramGroups.push({ ...group, params: tensors } as ParamGroup<O>);
  }

  /** Checks a resolved group's options (lr present, then the subclass's checks). */
  private checkGroup(group: Record<string, unknown>, where: string): void {
    if (group['lr'] === undefined) {
      throw new ArgumentError(`${where} didn't specify a value of required optimization parameter lr`);
    }
    this.checkOptions(group as Partial<O>);
  }

  /**
   * Performs one optimisation step: updates every parameter that has a gradient and `requiresGrad`.
   * @param closure optional: re-evaluates the model and returns the loss (run with gradient
   *   recording on, before the update); its result is returned.
   * @throws ShapeError when a gradient's size differs from its parameter's.
   */
  step<L = undefined>(closure?: () => L): L | undefined {
    let loss: L | undefined;
    if (closure !== undefined) {
      if (typeof closure !== 'function') throw invalidArgument('the closure of step()', 'a function', closure);
      loss = enableGrad(closure);
    }
    let index = 0;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        const grad = p.grad;
        if (grad !== null && p.requiresGrad) {
          if (grad.size !== p.size) {
            throw new ShapeError(
              `${this.constructor.name}.step: the gradient of parameter ${index} has shape ${formatShape(grad.shape)} ` +
                `but the parameter has shape ${formatShape(p.shape)}`,
            );
          }
          let state = this.state.get(p);
          if (state === undefined) {
            state = {};
            this.state.set(p, state);
          }
          this.updateParam(p.data, grad.data, state, group);
        }
        index++;
      }
    }
    return loss;
  }

  /** Clears the gradients of every parameter: to null (default) or, with `setToNone: false`, to zeros in place. */
  zeroGrad(options: ZeroGradOptions = {}): void {
    const setToNone = options.setToNone ?? true;
    if (typeof setToNone !== 'boolean') throw invalidArgument('setToNone of zeroGrad()', 'a boolean', setToNone);
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else p.grad.data.fill(0);
      }
    }
  }

  /**
   * The optimiser's state, as PyTorch structures it (see {@link OptimizerStateDict}): copies, so
   * later steps do not change it.
   */
  stateDict(): OptimizerStateDict<O> {
    const indices = new Map<Tensor, number>();
    let next = 0;
    const paramGroups = this.paramGroups.map((group) => {
      const saved = copyOptions(group as unknown as Record<string, unknown>);
      saved['params'] = group.params.map((p) => {
        indices.set(p, next);
        return next++;
      });
      return saved as unknown as SavedParamGroup<O>;
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = indices.get(p);
      if (i !== undefined) state[i] = copyState(s);
    }
    return { state, paramGroups };
  }

  /**
   * Restores a state dict from {@link stateDict} (of an optimiser of the same type over parameters of
   * the same shapes, grouped the same way): the groups' options and every parameter's state, copied.
   * Everything is validated before anything changes.
   * @throws ArgumentError when the number of groups or of parameters in a group differs, for state of
   *   an unknown parameter or key, or for an invalid option.
   * @throws ShapeError when a state buffer's size differs from its parameter's.
   */
  loadStateDict(stateDict: OptimizerStateDict<O> | OptimizerStateDictLike): void {
    const name = this.constructor.name;
    if (typeof stateDict !== 'object' || stateDict === null) {
      throw invalidArgument(`the state dict of ${name}.loadStateDict()`, 'an object with state and paramGroups', stateDict);
    }
    const saved: OptimizerStateDictLike['paramGroups'] = stateDict.paramGroups;
    if (!Array.isArray(saved)) throw invalidArgument('paramGroups of the loaded state dict', 'an array', saved);
    if (typeof stateDict.state !== 'object' || stateDict.state === null) {
      throw invalidArgument('state of the loaded state dict', 'an object', stateDict.state);
    }
    if (saved.length !== this.paramGroups.length) {
      throw new ArgumentError(
        `loaded state dict has ${saved.length} parameter group${saved.length === 1 ? '' : 's'} ` +
          `but the optimizer has ${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    const groups = saved.map((savedGroup, g) => {
      const own = this.paramGroups[g]!;
      if (typeof savedGroup !== 'object' || savedGroup === null || !Array.isArray(savedGroup.params)) {
        throw invalidArgument(`parameter group ${g} of the loaded state dict`, 'an object with a params array', savedGroup);
      }
      if (savedGroup.params.length !== own.params.length) {
        throw new ArgumentError(
          `loaded state dict contains a parameter group that doesn't match the size of optimizer's group: ` +
            `group ${g} has ${savedGroup.params.length} parameters in the state dict but ${own.params.length} in the optimizer`,
        );
      }
      savedGroup.params.forEach((index: number, k: number) => {
        if (!Number.isInteger(index)) throw invalidArgument(`params[${k}] of parameter group ${g} of the loaded state dict`, 'an integer', index);
        byIndex.set(index, own.params[k]!);
      });
      const group = { ...copyOptions(this.defaults as Record<string, unknown>), ...copyOptions(savedGroup) };
      this.checkGroup(group, `parameter group ${g} of the loaded state dict`);
      return { ...group, params: own.params } as ParamGroup<O>;
    });
    const spec = this.stateSpec();
    const state = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const param = byIndex.get(Number(key));
      if (param === undefined) {
        throw new ArgumentError(`loaded state dict has state for parameter ${key}, which is in none of its parameter groups`);
      }
      if (typeof entry !== 'object' || entry === null) throw invalidArgument(`the state of parameter ${key}`, 'an object', entry);
      const restored: ParamState = {};
      for (const [field, value] of Object.entries(entry)) {
        const kind = spec[field];
        if (kind === undefined) {
          throw new ArgumentError(
            `loaded state dict has unknown state '${field}' for parameter ${key}; ${name} keeps ${Object.keys(spec).join(', ')}`,
          );
        }
        if (kind === 'count') {
          if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
            throw invalidArgument(`state '${field}' of parameter ${key}`, 'a non-negative integer', value);
          }
          restored[field] = value;
          continue;
        }
        if (!(value instanceof Float32Array) && !Array.isArray(value)) {
          throw invalidArgument(`state '${field}' of parameter ${key}`, 'a Float32Array or an array of numbers', value);
        }
        if (value.length !== param.size) {
          throw new ShapeError(
            `loaded state dict has state '${field}' of parameter ${key} with ${value.length} elements, ` +
              `but the parameter has shape ${formatShape(param.shape)} (${param.size} elements)`,
          );
        }
        if (Array.isArray(value)) value.forEach((v, i) => checkNumber(v, `element ${i} of state '${field}' of parameter ${key}`));
        restored[field] = Float32Array.from(value);
      }
      state.set(param, restored);
    }
    this.paramGroups = groups;
    this.state.clear();
    for (const [p, s] of state) this.state.set(p, s);
  }
}
