/**
 * `loadOnnx` and `OnnxModel`: an ONNX graph as a trainable convkit {@link Module}.
 *
 * Initializers that feed the weights of Conv, Gemm, MatMul and BatchNormalization become
 * parameters, batch norm running statistics and other float initializers become buffers, both
 * registered under names derived from the initializer names (`layer1.0.conv1.weight` keeps its
 * dots as module paths; other characters become `_`), so `stateDict()` reads like PyTorch's.
 * Integer initializers (shapes, axes) stay constants. Every operator runs on convkit's
 * differentiable ops, so an imported model can be trained further.
 *
 * An `OnnxModel` is a registered module type: `toJSON()` holds the graph without the weight bytes
 * (the `ModelProto` re-encoded with every parameter and buffer initializer reduced to its name,
 * dims and data type, base64; integer constants such as Reshape shapes keep their values), so a
 * convkit checkpoint of an imported model rebuilds it with `moduleFromJSON` (zero placeholders of
 * the right shapes) and fills the weights from its state dict. Children replaced after import
 * (a new classifier head, see `replaceHead`) are recorded too: the graph reads a parameter or
 * buffer initializer through whatever module now sits at its path (`fc.weight` from the Linear at
 * `fc`, transposed where the graph keeps the weight as [in, out]).
 */
import { readFileSync } from 'node:fs';
import { ArgumentError, FormatError, ShapeError, invalidArgument } from '../../errors.js';
import { Module, moduleFromJSON, registerModuleType, type JsonValue, type ModuleJSON } from '../../nn/module.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { OPERATORS, type Kernel, type RunContext } from './ops.js';
import {
  IntTensor,
  decodeModel,
  decodeTensorProto,
  encodeModel,
  int64,
  isIntType,
  tensorFromProto,
  type GraphMsg,
  type ModelMsg,
  type TensorProtoMsg,
  type ValueInfoMsg,
  type Value,
} from './proto.js';

/** A graph input or output: its name, ONNX element type and declared shape (null for a symbolic dim). */
export interface OnnxValueInfo {
  name: string;
  /** The ONNX `TensorProto.DataType` (1 = float, 7 = int64). */
  elemType: number;
  /** Declared dimensions; null where the file names the dimension (`batch`) or leaves it out. Undefined when no shape is declared. */
  shape: (number | null)[] | undefined;
}

interface CompiledNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  kernel: Kernel;
}

/** A float initializer registered as a parameter or buffer. */
interface WeightInit {
  /** The initializer name the graph reads. */
  name: string;
  /** Its dotted state-dict path (`layer1.0.conv1.weight`, or flat `fc_weight`). */
  path: string;
  kind: 'parameter' | 'buffer';
  tensor: Tensor;
  /** The graph keeps this weight as [in, out] (MatMul, Gemm without transB): a replacing Linear's [out, in] weight is transposed. */
  transposed: boolean;
}

/** Holds the parameters and buffers under one dotted prefix of the initializer names. */
class OnnxParameterGroup extends Module {
  readonly #registry: Set<Module>;

  /** @internal `registry` collects every group of one model. */
  constructor(registry: Set<Module>) {
    super();
    this.#registry = registry;
    registry.add(this);
  }

  /** @internal */
  add(kind: 'parameter' | 'buffer', name: string, t: Tensor): void {
    if (kind === 'parameter') this.registerParameter(name, t);
    else this.registerBuffer(name, t);
  }

  /** @internal */
  addGroup(name: string): OnnxParameterGroup {
    return this.registerModule(name, new OnnxParameterGroup(this.#registry));
  }

  forward(): never {
    throw new ArgumentError('this module only holds parameters of an ONNX model; call the OnnxModel itself');
  }

  override describe(): string {
    return 'OnnxParameterGroup';
  }
}

function sanitise(segment: string): string {
  const s = segment.replace(/[^A-Za-z0-9_]/g, '_');
  return s.length === 0 ? '_' : s;
}

function valueInfo(v: ValueInfoMsg): OnnxValueInfo {
  const tt = v.type?.tensor_type ?? null;
  return {
    name: v.name,
    elemType: tt?.elem_type ?? 1,
    shape: tt?.shape == null ? undefined : tt.shape.dim.map((d) => (d.dim_param === '' && int64(d.dim_value) > 0 ? int64(d.dim_value) : null)),
  };
}

/**
 * An imported ONNX model. `forward(...inputs)` takes the graph inputs in order and returns the
 * output (or an array of outputs); `run({ name: tensor })` returns every output by name. Loaded in
 * evaluation mode: call `train()` to train it further (batch norm then uses batch statistics and
 * updates its running statistics with ONNX's momentum convention, dropout becomes active).
 */
export class OnnxModel extends Module {
  /** The graph inputs the caller feeds (those without an initializer), in order. */
  readonly inputs: readonly OnnxValueInfo[];
  /** The graph outputs, in order. */
  readonly outputs: readonly OnnxValueInfo[];
  /** The opset of the default ONNX domain. */
  readonly opset: number;
  /** Who wrote the file (`pytorch 1.13.0`), from the model's producer fields. */
  readonly producer: string;
  readonly #constants = new Map<string, Value>();
  readonly #nodes: CompiledNode[];
  readonly #buffers = new Set<Tensor>();
  /** How many nodes read each value (outputs count too), to free intermediates while running. */
  readonly #uses = new Map<string, number>();
  /** Parameter and buffer initializers, in registration order. */
  readonly #weights: WeightInit[] = [];
  /** The parameter groups this model created (anything else at their places was put there later). */
  readonly #groups = new Set<Module>();
  /** The ModelProto without parameter/buffer data (see the module comment). */
  readonly #skeleton: Uint8Array;
  /** Names of the initializers whose data the skeleton leaves out. */
  readonly #stripped: string[] = [];

  /**
   * @internal Use {@link loadOnnx}. `placeholders` names initializers whose data was stripped
   * (a rebuilt architecture): they become zero tensors of their dims, to be filled by `loadStateDict`.
   */
  constructor(model: ModelMsg, source: string, placeholders?: ReadonlySet<string>) {
    super();
    const graph = model.graph;
    if (graph === null) throw new FormatError(`${source}: the model has no graph`);
    const opsetEntry = model.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
    this.opset = opsetEntry === undefined ? 1 : int64(opsetEntry.version);
    this.producer = `${model.producer_name} ${model.producer_version}`.trim();

    // Check the operators first, so one error lists every unsupported node.
    const problems: string[] = [];
    for (const node of graph.node) {
      const label = `${node.op_type} '${node.name}'`;
      if (node.domain !== '' && node.domain !== 'ai.onnx') problems.push(`${label} (domain '${node.domain}')`);
      else if (OPERATORS[node.op_type] === undefined) problems.push(label);
    }
    if (problems.length > 0) {
      throw new ArgumentError(`${source}: unsupported ONNX operators (opset ${this.opset}): ${problems.join(', ')}`);
    }

    const initializers = new Map<string, Value>();
    for (const t of graph.initializer) {
      initializers.set(t.name, placeholders?.has(t.name) === true ? placeholderOf(t, source) : tensorFromProto(t, source));
    }
    this.inputs = graph.input.filter((v) => !initializers.has(v.name)).map(valueInfo);
    this.outputs = graph.output.map(valueInfo);
    if (this.outputs.length === 0) throw new FormatError(`${source}: the graph declares no outputs`);
    this.#registerInitializers(graph, initializers);

    const nodes = graph.node.map((node, i) => {
      const name = node.name === '' ? `#${i}` : node.name;
      const spec = { node, opset: this.opset, label: `${node.op_type} '${name}'`, source };
      return { opType: node.op_type, name, inputs: node.input.slice(), outputs: node.output.slice(), kernel: OPERATORS[node.op_type]!(spec) };
    });
    this.#nodes = this.#sort(nodes, source);
    for (const n of this.#nodes) for (const i of n.inputs) if (i !== '') this.#uses.set(i, (this.#uses.get(i) ?? 0) + 1);
    for (const o of this.outputs) this.#uses.set(o.name, (this.#uses.get(o.name) ?? 0) + 1);
    this.#skeleton = this.#encodeSkeleton(model, graph, initializers);
    this.eval();
  }

  /** The model re-encoded with the data of every float (parameter or buffer) initializer left out. */
  #encodeSkeleton(model: ModelMsg, graph: GraphMsg, initializers: Map<string, Value>): Uint8Array {
    const initializer: object[] = graph.initializer.map((t) => {
      if (!(initializers.get(t.name) instanceof Tensor)) return t;
      this.#stripped.push(t.name);
      return { name: t.name, dims: t.dims, data_type: t.data_type };
    });
    return encodeModel({
      ir_version: model.ir_version,
      producer_name: model.producer_name,
      producer_version: model.producer_version,
      opset_import: model.opset_import,
      graph: { node: graph.node, name: graph.name, initializer, input: graph.input, output: graph.output },
    });
  }

  #registerInitializers(graph: GraphMsg, initializers: Map<string, Value>): void {
    const roles = new Map<string, 'parameter' | 'buffer'>();
    const weightInputs: Record<string, number[]> = { Conv: [1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], BatchNormalization: [1, 2] };
    for (const node of graph.node) {
      for (const i of weightInputs[node.op_type] ?? []) {
        const name = node.input[i];
        if (name !== undefined && initializers.get(name) instanceof Tensor) roles.set(name, 'parameter');
      }
    }
    // Weights the graph multiplies as [in, out]: MatMul's B, Gemm's B without transB.
    const inOut = new Set<string>();
    for (const node of graph.node) {
      const b = node.input[1];
      if (b === undefined) continue;
      if (node.op_type === 'MatMul') inOut.add(b);
      if (node.op_type === 'Gemm' && int64(node.attribute.find((a) => a.name === 'transB')?.i ?? 0) !== 1) inOut.add(b);
    }
    const taken = new Set<string>();
    for (const [name, value] of initializers) {
      if (!(value instanceof Tensor)) {
        this.#constants.set(name, value);
        continue;
      }
      const kind = roles.get(name) ?? 'buffer';
      if (kind === 'buffer') this.#buffers.add(value);
      this.#constants.set(name, value);
      const path = this.#place(kind, name, value, taken);
      this.#weights.push({ name, path, kind, tensor: value, transposed: inOut.has(name) });
    }
  }

  /** Registers `t` under the dotted path of `name`, or flat (dots to `_`) when the path collides. Returns the path. */
  #place(kind: 'parameter' | 'buffer', name: string, t: Tensor, taken: Set<string>): string {
    const parts = name.split('.').map(sanitise);
    const path = parts.join('.');
    const fits = (): boolean => {
      if (taken.has(path)) return false;
      for (let i = 1; i < parts.length; i++) if (taken.has(parts.slice(0, i).join('.'))) return false;
      for (const p of taken) if (p.startsWith(`${path}.`)) return false;
      return true;
    };
    if (parts.length > 1 && fits()) {
      let group: Module = this;
      for (let i = 0; i < parts.length - 1; i++) {
        group = group.getChild(parts[i]!) ?? (group === this ? this.#addGroup(parts[i]!) : (group as OnnxParameterGroup).addGroup(parts[i]!));
      }
      (group as OnnxParameterGroup).add(kind, parts[parts.length - 1]!, t);
      taken.add(path);
      return path;
    }
    let flat = parts.join('_');
    for (let k = 2; taken.has(flat) || [...taken].some((p) => p.startsWith(`${flat}.`)); k++) flat = `${parts.join('_')}_${k}`;
    if (kind === 'parameter') this.registerParameter(flat, t);
    else this.registerBuffer(flat, t);
    taken.add(flat);
    return flat;
  }

  #addGroup(name: string): OnnxParameterGroup {
    return this.registerModule(name, new OnnxParameterGroup(this.#groups));
  }

  /**
   * The tensor the graph reads for weight `w`: its own, unless a module put in place of one of
   * its parameter groups (a replaced head) now holds the state-dict path; then that module's
   * tensor (null when it has none by that name, and the original stays in use).
   */
  #resolve(w: WeightInit): Tensor | null {
    const parts = w.path.split('.');
    let module: Module = this;
    for (let i = 0; i < parts.length - 1; i++) {
      const child = module.getChild(parts[i]!);
      if (child === undefined) return null;
      if (!this.#groups.has(child)) {
        const rest = parts.slice(i + 1).join('.');
        const found = [...child.namedParameters(), ...child.namedBuffers()].find(([n]) => n === rest)?.[1];
        if (found === undefined) return null;
        return w.transposed && found.ndim === 2 ? found.transpose(0, 1) : found;
      }
      module = child;
    }
    return null;
  }

  /** Modules put in place of this model's parameter groups (or inside them), by dotted path. */
  replacedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const visit = (module: Module, prefix: string): void => {
      for (const [name, child] of module.namedChildren()) {
        const path = prefix === '' ? name : `${prefix}.${name}`;
        if (this.#groups.has(child)) visit(child, path);
        else out.push([path, child]);
      }
    };
    visit(this, '');
    return out;
  }

  /**
   * The architecture: the graph without weight data, base64 (`graph`), the names of the
   * initializers left out (`placeholders`), the producer and opset (informational), and the
   * architecture of every replaced module by path (`replaced`).
   */
  override config(): { [key: string]: JsonValue } {
    const replaced: { [path: string]: JsonValue } = {};
    for (const [path, m] of this.replacedModules()) replaced[path] = m.toJSON() as unknown as JsonValue;
    return {
      producer: this.producer,
      opset: this.opset,
      placeholders: [...this.#stripped],
      graph: Buffer.from(this.#skeleton.buffer, this.#skeleton.byteOffset, this.#skeleton.byteLength).toString('base64'),
      replaced,
    };
  }

  /** `{ type: 'OnnxModel', config }`: the parameter groups are part of the graph, replaced modules are in `config.replaced`. */
  override toJSON(): ModuleJSON {
    return { type: 'OnnxModel', config: this.config() };
  }

  /** The nodes in an order where every input is ready (files are usually sorted already). */
  #sort(nodes: CompiledNode[], source: string): CompiledNode[] {
    const ready = new Set<string>([...this.#constants.keys(), ...this.inputs.map((i) => i.name), '']);
    const out: CompiledNode[] = [];
    let pending = nodes;
    while (pending.length > 0) {
      const next: CompiledNode[] = [];
      for (const n of pending) {
        if (n.inputs.every((i) => ready.has(i))) {
          out.push(n);
          for (const o of n.outputs) ready.add(o);
        } else next.push(n);
      }
      if (next.length === pending.length) {
        const n = next[0]!;
        const missing = n.inputs.filter((i) => !ready.has(i));
        throw new FormatError(`${source}: ${n.opType} '${n.name}' reads ${missing.map((m) => `'${m}'`).join(', ')}, which no node, input or initializer provides (or the graph has a cycle)`);
      }
      pending = next;
    }
    for (const o of this.outputs) {
      if (o.name === '' || !ready.has(o.name)) throw new FormatError(`${source}: the graph output '${o.name}' is not produced by any node, input or initializer`);
    }
    return out;
  }

  /**
   * Runs the graph on its inputs in graph-input order. Returns the single output, or an array for
   * several outputs. Integer inputs (declared int64 and so on) are read from the tensor's values.
   * @throws ArgumentError for a wrong number of inputs; ShapeError for an input whose rank or fixed dimensions differ from the declared ones.
   */
  forward(...inputs: Tensor[]): Tensor | Tensor[] {
    if (inputs.length !== this.inputs.length) {
      throw new ArgumentError(
        `OnnxModel.forward: expected ${this.inputs.length} input(s) (${this.inputs.map((i) => i.name).join(', ')}), received ${inputs.length}`,
      );
    }
    const feeds: Record<string, Tensor> = {};
    this.inputs.forEach((info, i) => (feeds[info.name] = inputs[i]!));
    const result = this.run(feeds);
    const outs = this.outputs.map((o) => result[o.name]!);
    return outs.length === 1 ? outs[0]! : outs;
  }

  /**
   * Runs the graph with inputs by name and returns every graph output by name. A feed may also
   * replace an initializer (weights fed as inputs).
   * @throws ArgumentError for a missing or unknown input name.
   */
  run(feeds: Readonly<Record<string, Tensor>>): Record<string, Tensor> {
    if (typeof feeds !== 'object' || feeds === null) throw invalidArgument('the feeds of OnnxModel.run()', 'an object of tensors by input name', feeds);
    const values = new Map<string, Value>(this.#constants);
    let replacedBuffers: Set<Tensor> | null = null;
    for (const w of this.#weights) {
      const t = this.#resolve(w);
      if (t === null) continue;
      values.set(w.name, t);
      if (w.kind === 'buffer') (replacedBuffers ??= new Set()).add(t);
    }
    const infos = new Map(this.inputs.map((i) => [i.name, i]));
    for (const [name, t] of Object.entries(feeds)) {
      if (!(t instanceof Tensor)) throw invalidArgument(`input '${name}' of OnnxModel.run()`, 'a Tensor', t);
      const info = infos.get(name);
      if (info === undefined && !this.#constants.has(name)) {
        throw new ArgumentError(`OnnxModel.run: '${name}' is not an input of the model (inputs: ${[...infos.keys()].join(', ')})`);
      }
      if (info !== undefined) this.#checkInput(info, t);
      const constant = this.#constants.get(name);
      const asInt = info !== undefined ? isIntType(info.elemType) : constant instanceof IntTensor;
      values.set(name, asInt ? new IntTensor(Array.from(t.data, Math.round), t.shape, info?.elemType ?? 7) : t);
    }
    for (const info of this.inputs) if (!values.has(info.name)) throw new ArgumentError(`OnnxModel.run: the input '${info.name}' is missing`);

    const uses = new Map(this.#uses);
    const ctx: RunContext = { training: this.training, isBuffer: (t) => this.#buffers.has(t) || replacedBuffers?.has(t) === true };
    for (const node of this.#nodes) {
      const args = node.inputs.map((i) => (i === '' ? undefined : values.get(i)));
      const results = node.kernel(args, ctx);
      node.outputs.forEach((o, i) => {
        if (o === '') return;
        const v = results[i];
        if (v === undefined) throw new ArgumentError(`${node.opType} '${node.name}': output ${i} ('${o}') is not supported`);
        values.set(o, v);
      });
      for (const i of node.inputs) {
        const left = (uses.get(i) ?? 0) - 1;
        uses.set(i, left);
        if (left <= 0 && !this.#constants.has(i)) values.delete(i);
      }
    }
    const out: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const v = values.get(o.name);
      if (v === undefined) throw new ArgumentError(`OnnxModel.run: the graph output '${o.name}' was not computed`);
      out[o.name] = v instanceof Tensor ? v : v.toTensor();
    }
    return out;
  }

  #checkInput(info: OnnxValueInfo, t: Tensor): void {
    if (info.shape === undefined) return;
    const ok = t.ndim === info.shape.length && info.shape.every((d, i) => d === null || d === t.shape[i]);
    if (!ok) {
      throw new ShapeError(
        `OnnxModel: input '${info.name}' has shape ${formatShape(t.shape)} but the model declares ${formatShape(info.shape.map((d) => d ?? '?'))}`,
      );
    }
  }

  override describe(): string {
    return 'OnnxModel';
  }
}

/** A zero tensor of a stripped initializer's dims (see the module comment). */
function placeholderOf(t: TensorProtoMsg, source: string): Tensor {
  const dims = t.dims.map(int64);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0) || dims.reduce((a, b) => a * b, 1) > 2 ** 31 - 1) {
    throw new FormatError(`${source}: placeholder '${t.name}' has invalid dims ${formatShape(dims)}`);
  }
  return new Tensor(new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
}

/**
 * Rebuilds an {@link OnnxModel} from its `config()`: zero placeholders for the stripped weights
 * (load them with `loadStateDict`), then the replaced modules. In evaluation mode, as `loadOnnx`.
 */
function onnxModelFromConfig(config: { [key: string]: JsonValue }): OnnxModel {
  const source = 'OnnxModel architecture';
  const graph = config['graph'];
  if (typeof graph !== 'string') throw invalidArgument(`config.graph of an ${source}`, 'a base64 ModelProto', graph);
  const placeholders = config['placeholders'] ?? [];
  if (!Array.isArray(placeholders) || !placeholders.every((p) => typeof p === 'string')) {
    throw invalidArgument(`config.placeholders of an ${source}`, 'a list of initializer names', placeholders);
  }
  const model = new OnnxModel(decodeModel(Buffer.from(graph, 'base64'), source), source, new Set(placeholders as string[]));
  const replaced = config['replaced'] ?? {};
  if (typeof replaced !== 'object' || replaced === null || Array.isArray(replaced)) {
    throw invalidArgument(`config.replaced of an ${source}`, 'an object of module architectures by path', replaced);
  }
  for (const [path, json] of Object.entries(replaced)) model.replaceModule(path, moduleFromJSON(json as unknown as ModuleJSON));
  return model.eval();
}

registerModuleType('OnnxModel', OnnxModel, onnxModelFromConfig);

function readSource(pathOrBuffer: string | Uint8Array, what: string): { bytes: Uint8Array; source: string } {
  if (typeof pathOrBuffer === 'string') {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(pathOrBuffer);
    } catch (err) {
      throw new ArgumentError(`${what}: cannot read '${pathOrBuffer}' (${(err as Error).message})`);
    }
    return { bytes, source: pathOrBuffer };
  }
  if (pathOrBuffer instanceof Uint8Array) return { bytes: pathOrBuffer, source: '<buffer>' };
  throw invalidArgument(`the file of ${what}`, 'a path or a Uint8Array/Buffer', pathOrBuffer);
}

/**
 * Loads an ONNX model (a `.onnx` path or its bytes) as a trainable {@link OnnxModel}, in
 * evaluation mode. Every operator is checked before anything runs.
 * @throws FormatError for a corrupt or truncated file (naming it and what is wrong) or tensor data
 *   whose length does not match its dims; ArgumentError listing every unsupported operator by
 *   type and node name, or for external data.
 */
export function loadOnnx(pathOrBuffer: string | Uint8Array): OnnxModel {
  const { bytes, source } = readSource(pathOrBuffer, 'loadOnnx');
  return new OnnxModel(decodeModel(bytes, source), source);
}

/**
 * Reads a serialized ONNX `TensorProto` (the `input_0.pb` files of ONNX's test data) as a float32
 * tensor; integer and boolean tensors are converted (exact below 2^24).
 * @throws FormatError for corrupt bytes or data that does not match the dims.
 */
export function loadOnnxTensor(pathOrBuffer: string | Uint8Array): Tensor {
  const { bytes, source } = readSource(pathOrBuffer, 'loadOnnxTensor');
  const v = tensorFromProto(decodeTensorProto(bytes, source), source);
  return v instanceof Tensor ? v : v.toTensor();
}
