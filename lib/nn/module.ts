/**
 * `Module`: the base of every layer and model. It holds three ordered, named collections, as
 * PyTorch's `nn.Module` does:
 *
 * - **parameters**: tensors the optimiser trains (`weight`, `bias`); `requiresGrad` is their
 *   `trainable` flag, toggled per parameter or on a whole subtree with {@link Module.freeze};
 * - **buffers**: state that is saved but not trained (batch norm's `running_mean`);
 * - **child modules**, whose names join into PyTorch's dotted paths (`layer1.0.bn1.running_mean`),
 *   so a torchvision state dict maps onto a convkit model by name.
 *
 * A subclass registers what it owns in its constructor and writes `forward` as ordinary
 * TypeScript: branches, residual additions and several outputs need no graph language.
 *
 * ```ts
 * class Block extends Module {
 *   readonly conv = this.registerModule('conv', new Conv2d(64, 64, 3, { padding: 1 }));
 *   forward(x: Tensor): Tensor { return F.relu(F.add(this.conv.forward(x), x)); }
 * }
 * ```
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A state dict: dotted names to tensors, in registration order (what `stateDict()` returns). */
export type StateDict = Map<string, Tensor>;

/** What {@link Module.loadStateDict} accepts: a Map or a plain object of tensors. */
export type StateDictLike = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

/** What {@link Module.loadStateDict} reports (with `strict: false`; strict loads throw instead). */
export interface LoadStateDictResult {
  /** Names the model has that the state dict lacks. */
  missingKeys: string[];
  /** Names in the state dict that the model does not have. */
  unexpectedKeys: string[];
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Throw when keys are missing or unexpected (default true). Shapes must always match. */
  strict?: boolean;
}

/** A JSON value, as module configs are made of. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The serialised architecture of a module: its registered type, its config and its children. */
export interface ModuleJSON {
  /** The name the module's class was registered under (see {@link registerModuleType}). */
  type: string;
  /** The constructor arguments, as the class's `config()` returns them. */
  config: { [key: string]: JsonValue };
  /** The architecture of each child, by name. */
  children?: { [name: string]: ModuleJSON };
}

/**
 * Builds a module of one registered type from its config. Containers whose children are their
 * configuration (`Sequential`) read them from `json.children`.
 */
export type ModuleFactory = (config: { [key: string]: JsonValue }, json: ModuleJSON) => Module;

interface ModuleType {
  name: string;
  create: ModuleFactory;
}

const typesByName = new Map<string, ModuleType>();
const typesByClass = new Map<Function, ModuleType>();

/**
 * Registers a module class for {@link Module.toJSON} / {@link moduleFromJSON} under `name`, with
 * the factory that rebuilds it from `config()`. Every built-in layer and zoo model is registered;
 * custom modules register themselves the same way to be restorable from a checkpoint.
 * @throws ArgumentError when `name` is taken by another class.
 */
export function registerModuleType<M extends Module>(
  name: string,
  cls: abstract new (...args: never[]) => M,
  create: ModuleFactory,
): void {
  if (typeof name !== 'string' || name.length === 0) throw invalidArgument('the name of registerModuleType()', 'a non-empty string', name);
  const existing = typesByName.get(name);
  if (existing !== undefined && typesByClass.get(cls) !== existing) {
    throw new ArgumentError(`registerModuleType: the name '${name}' is already registered by another module class`);
  }
  const entry = { name, create };
  typesByName.set(name, entry);
  typesByClass.set(cls, entry);
}

/** The names of every registered module type (layers, zoo models, custom modules). */
export function registeredModuleTypes(): string[] {
  return [...typesByName.keys()];
}

/**
 * Rebuilds a module from its {@link ModuleJSON}: the type's factory builds it from `config`, then
 * every child whose serialised form differs from what the factory built (a replaced classifier
 * head, say) is rebuilt from the JSON and swapped in. Weights are fresh: load them afterwards
 * with `loadStateDict`.
 * @throws ArgumentError for an unregistered type or a malformed description.
 */
export function moduleFromJSON(json: ModuleJSON): Module {
  if (json === null || typeof json !== 'object' || typeof json.type !== 'string') {
    throw invalidArgument('the architecture given to moduleFromJSON()', 'an object with a string `type`', json);
  }
  const entry = typesByName.get(json.type);
  if (entry === undefined) {
    throw new ArgumentError(
      `moduleFromJSON: unknown module type '${json.type}'; register custom modules with registerModuleType() before loading`,
    );
  }
  const module = entry.create(json.config ?? {}, json);
  for (const [name, childJson] of Object.entries(json.children ?? {})) {
    const current = module.getChild(name);
    if (current !== undefined && sameArchitecture(current.toJSON(), childJson)) continue;
    module.setChild(name, moduleFromJSON(childJson));
  }
  return module;
}

function sameArchitecture(a: ModuleJSON, b: ModuleJSON): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('.')) {
    throw invalidArgument(`the name of a ${what}`, 'a non-empty string without dots', name);
  }
  return name;
}

/** The base class of layers and models; see the module comment. */
export abstract class Module {
  #predictFingerprint: number | undefined;
  /** True in training mode (dropout active, batch norm on batch statistics); see {@link eval}. */
  training = true;
  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #children = new Map<string, Module>();

  /**
   * Runs the module. Subclasses define it with precise types; call it directly
   * (`model.forward(x)`). Through a plain `Module` reference it takes and returns `any`, as a
   * PyTorch module's `__call__` does.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  abstract forward(...inputs: any[]): any;

  /**
   * The constructor arguments of this module as JSON, from which its registered factory rebuilds
   * it. Layers return their options; the default is `{}` (no arguments).
   */
  config(): { [key: string]: JsonValue } {
    return {};
  }

  /** A short description for `summary()` and printing (default: the registered type name). */
  describe(): string {
    return typesByClass.get(this.constructor)?.name ?? this.constructor.name;
  }

  /**
   * Registers (or replaces) parameter `name`. The tensor must be a leaf; it is marked
   * `requiresGrad` (trainable). `null` declares an absent optional parameter (`bias: false`).
   * Returns the tensor, so a subclass can write `readonly weight = this.registerParameter(...)`.
   */
  protected registerParameter<T extends Tensor | null>(name: string, value: T): T {
    checkName(name, 'parameter');
    if (value !== null) {
      if (!(value instanceof Tensor)) throw invalidArgument(`parameter '${name}'`, 'a Tensor or null', value);
      if (!value.isLeaf) throw new ArgumentError(`parameter '${name}' must be a leaf tensor (use detach())`);
      value.requiresGrad = true;
    }
    if (this.#buffers.has(name) || this.#children.has(name)) {
      throw new ArgumentError(`'${name}' is already a buffer or child module of this ${this.describe()}`);
    }
    this.#parameters.set(name, value);
    return value;
  }

  /** Registers (or replaces) buffer `name`: saved in the state dict, never trained. */
  protected registerBuffer<T extends Tensor | null>(name: string, value: T): T {
    checkName(name, 'buffer');
    if (value !== null && !(value instanceof Tensor)) throw invalidArgument(`buffer '${name}'`, 'a Tensor or null', value);
    if (this.#parameters.has(name) || this.#children.has(name)) {
      throw new ArgumentError(`'${name}' is already a parameter or child module of this ${this.describe()}`);
    }
    this.#buffers.set(name, value);
    return value;
  }

  /** Registers child module `name`; its parameters appear under `name.`. Returns the child. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    checkName(name, 'child module');
    if (!(module instanceof Module)) throw invalidArgument(`child module '${name}'`, 'a Module', module);
    if (this.#parameters.has(name) || this.#buffers.has(name)) {
      throw new ArgumentError(`'${name}' is already a parameter or buffer of this ${this.describe()}`);
    }
    this.#children.set(name, module);
    return module;
  }

  /** The direct child called `name`, or undefined. */
  getChild(name: string): Module | undefined {
    return this.#children.get(name);
  }

  /**
   * Replaces the existing direct child `name` (transfer learning: a new classifier head). The
   * subclass's `forward` must reach the child through {@link getChild} or {@link onChildReplaced}
   * must update its field; built-in models do both.
   * @throws ArgumentError when there is no such child.
   */
  setChild(name: string, module: Module): void {
    if (!this.#children.has(name)) {
      throw new ArgumentError(`setChild: this ${this.describe()} has no child '${name}' (children: ${[...this.#children.keys()].join(', ')})`);
    }
    if (!(module instanceof Module)) throw invalidArgument(`child module '${name}'`, 'a Module', module);
    this.#children.set(name, module);
    this.onChildReplaced(name, module);
  }

  /**
   * Called after {@link setChild} replaced a child; subclasses that keep children in fields
   * update the field here. The default updates an own property of the same name, if any.
   */
  protected onChildReplaced(name: string, module: Module): void {
    if (Object.prototype.hasOwnProperty.call(this, name)) {
      (this as unknown as Record<string, unknown>)[name] = module;
    }
  }

  /**
   * The module at a dotted path below this one (`'layer1.0.conv1'`), or this module for `''`.
   * @throws ArgumentError when the path does not exist.
   */
  getModule(path: string): Module {
    if (typeof path !== 'string') throw invalidArgument('the path of getModule()', 'a dotted string', path);
    let module: Module = this;
    if (path === '') return module;
    for (const part of path.split('.')) {
      const child = module.#children.get(part);
      if (child === undefined) throw new ArgumentError(`getModule: no module at '${path}' (missing '${part}')`);
      module = child;
    }
    return module;
  }

  /**
   * Replaces the module at a dotted path (`model.replaceModule('fc', new Linear(512, 5))`).
   * @throws ArgumentError when the path does not exist.
   */
  replaceModule(path: string, module: Module): void {
    const cut = path.lastIndexOf('.');
    const parent = cut < 0 ? this : this.getModule(path.slice(0, cut));
    parent.setChild(path.slice(cut + 1), module);
  }

  /** Direct children with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.#children.entries()];
  }

  /** Direct children, in registration order. */
  children(): Module[] {
    return [...this.#children.values()];
  }

  /** This module and every module below it, depth first, with dotted names (this one is `''`). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (module: Module, name: string): void => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([name, module]);
      for (const [childName, child] of module.#children) visit(child, name === '' ? childName : `${name}.${childName}`);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every module below it, depth first. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * Every parameter with its dotted name (`features.0.weight`), depth first in registration
   * order; a tensor shared by two modules is listed once, under its first name (as PyTorch).
   */
  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#parameters, true);
  }

  /** Every parameter (each shared tensor once), in {@link namedParameters} order. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Every buffer with its dotted name (`bn1.running_mean`). */
  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers, true);
  }

  /** Every buffer. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  #collect(pick: (m: Module) => Map<string, Tensor | null>, dedupe: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, module] of this.namedModules()) {
      for (const [name, tensor] of pick(module)) {
        if (tensor === null || (dedupe && seen.has(tensor))) continue;
        seen.add(tensor);
        out.push([prefix === '' ? name : `${prefix}.${name}`, tensor]);
      }
    }
    return out;
  }

  /** The number of parameter elements (each shared tensor once); `trainableOnly` skips frozen ones. */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!options.trainableOnly || p.requiresGrad) n += p.size;
    return n;
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (per module: its parameters, then
   * its buffers, then its children). The tensors share memory with the model (detached views,
   * as PyTorch's `state_dict()`): copy them to snapshot.
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    const visit = (module: Module, prefix: string): void => {
      for (const [name, t] of module.#parameters) if (t !== null) out.set(prefix + name, t.detach());
      for (const [name, t] of module.#buffers) if (t !== null) out.set(prefix + name, t.detach());
      for (const [name, child] of module.#children) visit(child, `${prefix}${name}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies tensors from `state` into this model's parameters and buffers by name (in place, so
   * references held by optimisers stay valid). Shapes must match exactly. With `strict` (the
   * default) missing or unexpected keys throw, listing them all; otherwise they are reported.
   * @throws ShapeError for a shape mismatch (naming the key), ArgumentError for key mismatches.
   */
  loadStateDict(state: StateDictLike, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const entries: [string, Tensor][] =
      state instanceof Map ? [...(state as ReadonlyMap<string, Tensor>).entries()] : Object.entries(state as Record<string, Tensor>);
    const incoming = new Map(entries);
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !incoming.has(k));
    const unexpectedKeys = [...incoming.keys()].filter((k) => !own.has(k));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      const parts: string[] = [];
      if (missingKeys.length > 0) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length > 0) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      throw new ArgumentError(`loadStateDict: the state dict does not match this ${this.describe()} (${parts.join('; ')})`);
    }
    // Check every shape before copying anything, so a failed load leaves the model untouched.
    for (const [key, target] of own) {
      const source = incoming.get(key);
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) throw invalidArgument(`state dict entry '${key}'`, 'a Tensor', source);
      if (source.size !== target.size || source.ndim !== target.ndim || source.shape.some((d, i) => d !== target.shape[i])) {
        throw new ShapeError(
          `loadStateDict: '${key}' has shape ${formatShape(source.shape)} in the state dict but ${formatShape(target.shape)} in the model`,
        );
      }
    }
    for (const [key, target] of own) {
      const source = incoming.get(key);
      if (source !== undefined && source.data !== target.data) target.data.set(source.data);
    }
    return { missingKeys, unexpectedKeys };
  }

  /**
   * The model's output (logits) for `input` ([N, ...]), computed in a worker thread so the event
   * loop stays free (see `inference.predict`). The worker holds a snapshot of the weights; a new
   * snapshot is taken when a fingerprint of the parameters and buffers (16 sampled values of each)
   * has changed since the last call, so training between calls is seen. A hand edit of a few
   * weights can escape the fingerprint: call `inference.releasePredictor(model)` after one.
   */
  async predict(input: Tensor): Promise<Tensor> {
    const inference = await import('../inference/predict.js');
    const fingerprint = weightFingerprint(this);
    if (this.#predictFingerprint !== undefined && this.#predictFingerprint !== fingerprint) await inference.releasePredictor(this);
    this.#predictFingerprint = fingerprint;
    return inference.predict(this, input);
  }

  /** Sets training mode on this module and every module below it; returns this module. */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw invalidArgument('the mode of train()', 'a boolean', mode);
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Inference mode (dropout off, batch norm on running statistics) for the whole subtree. */
  eval(): this {
    return this.train(false);
  }

  /** Marks every parameter of this subtree frozen (`requiresGrad = false`): no gradient, no update. */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  /** Marks every parameter of this subtree trainable again. */
  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** Calls `fn` on every module of the subtree, children before parents (as PyTorch); returns this. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.#children.values()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Resets the gradients of every parameter (to null). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * The architecture as JSON: registered type, config, and children (so replaced children are
   * restored too). Rebuild it with {@link moduleFromJSON}.
   * @throws ArgumentError when this module's class or a child's is not registered.
   */
  toJSON(): ModuleJSON {
    const entry = typesByClass.get(this.constructor);
    if (entry === undefined) {
      throw new ArgumentError(
        `toJSON: module class ${this.constructor.name} is not registered; call registerModuleType('${this.constructor.name}', ${this.constructor.name}, config => new ${this.constructor.name}(config))`,
      );
    }
    const json: ModuleJSON = { type: entry.name, config: this.config() };
    if (this.#children.size > 0) {
      json.children = {};
      for (const [name, child] of this.#children) json.children[name] = child.toJSON();
    }
    return json;
  }
}

/** FNV-1a over the bits of 16 evenly spaced values of every parameter and buffer (see Module.predict). */
function weightFingerprint(model: Module): number {
  const bits = new Uint32Array(1);
  const view = new Float32Array(bits.buffer);
  let h = 0x811c9dc5;
  for (const t of [...model.parameters(), ...model.buffers()]) {
    const d = t.data;
    const step = Math.max(1, Math.floor(d.length / 16));
    for (let i = 0; i < d.length; i += step) {
      view[0] = d[i]!;
      h = Math.imul(h ^ bits[0]!, 0x01000193) >>> 0;
    }
    h = Math.imul(h ^ d.length, 0x01000193) >>> 0;
  }
  return h;
}
