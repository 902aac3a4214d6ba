/**
 * {@link TfjsModel}: an imported TF.js layers model as a convkit `Module`. Each Keras layer is a
 * child module named after it (dots become underscores), so `parameters()`, `stateDict()`,
 * `train()`/`eval()` and `freeze()` work as for any convkit model; `forward` runs the layer graph
 * in the order Keras's inbound nodes define, on NCHW tensors.
 *
 * A `TfjsModel` is a registered module type: `toJSON()` holds the Keras topology and the specs
 * (name, shape) of the weights the layers read, never their bytes, so a convkit checkpoint of an
 * imported model rebuilds it with `moduleFromJSON` (zero float32 placeholders; quantised weights
 * come back dequantised from the state dict) before `loadStateDict` fills it. A layer replaced
 * after import (`replaceHead`'s new Linear) is called in the old layer's place and recorded in
 * `config.replaced`.
 */
import { ArgumentError, FormatError, ShapeError, invalidArgument } from '../../errors.js';
import { Module, moduleFromJSON, registerModuleType, type JsonValue, type ModuleJSON } from '../../nn/module.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { configReader, LAYER_TYPES, TfjsLayer, Unsupported } from './layers.js';
import { isObject, parseModelJson, type KerasLayer, type ModelJson, type TensorRef, type WeightSpec } from './topology.js';
import { WeightStore, type DecodedWeight } from './weights.js';

interface Step {
  /** The layer module, or null for an input. */
  layer: TfjsLayer | null;
  /** The child name the layer is registered under (set by the model). */
  child?: string;
  /** Keys of the tensors it reads. */
  inputs: string[];
  /** Key of the tensor it writes. */
  output: string;
}

/** One input of an imported model. */
export interface TfjsInput {
  /** The Keras InputLayer name (the key of {@link TfjsModel.run}'s feeds). */
  name: string;
  /** The expected shape in convkit's layout (`[N, C, H, W]` for images), null where any size goes. */
  shape: (number | null)[] | null;
}

const keyOf = (ref: TensorRef): string => `${ref.layer}\u0000${ref.node}`;

/** What a model was built from, minus the weight bytes (see {@link TfjsModel.config}). */
export interface TfjsSource {
  /** The model.json's `modelTopology`, as read. */
  modelTopology: JsonValue;
  /** The manifest entries the layers read, as float32 (their data is in the state dict). */
  weights: { name: string; shape: number[] }[];
}

/**
 * An imported TF.js layers model (see {@link loadTfjsLayers}). It takes and returns tensors in
 * convkit's layout: an image input Keras declares as `[N, H, W, C]` is given as `[N, C, H, W]`,
 * and 4-d outputs come back as `[N, C, H, W]`.
 */
export class TfjsModel extends Module {
  /** The model's inputs, in Keras's `input_layers` order (the order of `forward`'s arguments). */
  readonly inputs: readonly TfjsInput[];
  /** The output names (the Keras layer producing each), in `output_layers` order. */
  readonly outputNames: readonly string[];
  /** The Keras model name. */
  readonly modelName: string;
  readonly #steps: Step[];
  readonly #inputKeys: string[];
  readonly #outputKeys: string[];
  readonly #layers = new Map<string, TfjsLayer>();
  /** The layer each child name held at import (a different child there is a replacement). */
  readonly #imported = new Map<string, TfjsLayer>();
  readonly #source: TfjsSource | null;

  /** @internal Built by {@link buildTfjsModel}. */
  constructor(
    name: string,
    inputs: TfjsInput[],
    inputKeys: string[],
    outputNames: string[],
    outputKeys: string[],
    steps: Step[],
    source: TfjsSource | null = null,
  ) {
    super();
    this.#source = source;
    this.modelName = name;
    this.inputs = Object.freeze(inputs);
    this.outputNames = Object.freeze(outputNames);
    this.#inputKeys = inputKeys;
    this.#outputKeys = outputKeys;
    this.#steps = steps;
    const used = new Set<string>();
    const childOf = new Map<TfjsLayer, string>();
    for (const step of steps) {
      const layer = step.layer;
      if (layer === null) continue;
      if (!childOf.has(layer)) {
        let child = layer.layerName.replace(/\./g, '_');
        for (let i = 1; used.has(child); i++) child = `${layer.layerName.replace(/\./g, '_')}_${i}`;
        used.add(child);
        this.registerModule(child, layer);
        this.#layers.set(layer.layerName, layer);
        this.#imported.set(child, layer);
        childOf.set(layer, child);
      }
      step.child = childOf.get(layer)!;
    }
  }

  /** Layers replaced after import (a new classifier head), by child name. */
  replacedModules(): [string, Module][] {
    return this.namedChildren().filter(([name, m]) => this.#imported.get(name) !== m);
  }

  /**
   * The architecture: the model name, the Keras topology and the weight specs (no weight data;
   * see the module comment), and the architecture of every replaced layer (`replaced`).
   * @throws ArgumentError for a model built without its source (not through the importers).
   */
  override config(): { [key: string]: JsonValue } {
    if (this.#source === null) throw new ArgumentError(`TfjsModel '${this.modelName}' was built without its topology, so it cannot be serialised`);
    const replaced: { [name: string]: JsonValue } = {};
    for (const [name, m] of this.replacedModules()) replaced[name] = m.toJSON() as unknown as JsonValue;
    return {
      name: this.modelName,
      modelTopology: this.#source.modelTopology,
      weights: this.#source.weights.map((w) => ({ name: w.name, shape: [...w.shape] })),
      replaced,
    };
  }

  /** `{ type: 'TfjsModel', config }`: the imported layers are part of the topology, replaced ones are in `config.replaced`. */
  override toJSON(): ModuleJSON {
    return { type: 'TfjsModel', config: this.config() };
  }

  /** The input names, in `forward` order. */
  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  /** The imported layer called `name` (its Keras name), or undefined. */
  layer(name: string): TfjsLayer | undefined {
    return this.#layers.get(name);
  }

  /**
   * Runs the model on its inputs in `inputNames` order; returns its output (one-output models).
   * @throws ArgumentError for a model with several outputs (use {@link run} or {@link forwardAll});
   *   ShapeError for an input of the wrong shape.
   */
  forward(...inputs: Tensor[]): Tensor {
    if (this.#outputKeys.length !== 1) {
      throw new ArgumentError(`TfjsModel '${this.modelName}' has ${this.#outputKeys.length} outputs (${this.outputNames.join(', ')}); use run() or forwardAll()`);
    }
    return this.forwardAll(...inputs)[0]!;
  }

  /** Runs the model; returns every output, in `outputNames` order. */
  forwardAll(...inputs: Tensor[]): Tensor[] {
    const values = this.#execute(inputs);
    return this.#outputKeys.map((k) => values.get(k)!);
  }

  #execute(inputs: readonly Tensor[]): Map<string, Tensor> {
    if (inputs.length !== this.inputs.length) {
      throw new ArgumentError(`TfjsModel '${this.modelName}' takes ${this.inputs.length} input(s) (${this.inputNames.join(', ')}), received ${inputs.length}`);
    }
    const values = new Map<string, Tensor>();
    inputs.forEach((x, i) => values.set(this.#inputKeys[i]!, this.#checkInput(this.inputs[i]!, x)));
    for (const step of this.#steps) {
      if (step.layer === null) continue;
      const args = step.inputs.map((k) => values.get(k)!);
      const m = this.getChild(step.child!);
      // A replaced layer (a new head) is an ordinary module: called with the layer's inputs.
      values.set(step.output, m === step.layer || m instanceof TfjsLayer ? (m as TfjsLayer).call(args) : (m!.forward(...args) as Tensor));
    }
    return values;
  }

  /**
   * Runs the model on inputs given by name (`{ input_1: x }`); returns the outputs by name. With
   * `outputs`, returns those layers' results instead (intermediate activations, by Keras layer
   * name: the result of the layer's first call), in convkit's layout.
   * @throws ArgumentError for a missing or unknown input name, or an unknown output layer.
   */
  run(feeds: Readonly<Record<string, Tensor>>, options: { outputs?: readonly string[] } = {}): Record<string, Tensor> {
    if (feeds === null || typeof feeds !== 'object') throw invalidArgument('the feeds of run()', 'an object of tensors by input name', feeds);
    const unknown = Object.keys(feeds).filter((k) => !this.inputNames.includes(k));
    const missing = this.inputNames.filter((k) => !(k in feeds));
    if (unknown.length > 0 || missing.length > 0) {
      throw new ArgumentError(
        `TfjsModel.run: inputs are ${this.inputNames.join(', ')}` +
          (missing.length > 0 ? `; missing ${missing.join(', ')}` : '') +
          (unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : ''),
      );
    }
    const wanted = options.outputs ?? null;
    if (wanted !== null && (!Array.isArray(wanted) || !wanted.every((n) => typeof n === 'string'))) {
      throw invalidArgument('outputs of run()', 'a list of layer names', wanted);
    }
    const values = this.#execute(this.inputNames.map((n) => feeds[n]!));
    const result: Record<string, Tensor> = {};
    if (wanted === null) {
      this.outputNames.forEach((n, i) => (result[n] = values.get(this.#outputKeys[i]!)!));
      return result;
    }
    for (const name of wanted) {
      const value = values.get(keyOf({ layer: name, node: 0, tensor: 0 }));
      if (value === undefined) throw new ArgumentError(`TfjsModel.run: no layer '${name}' on the path to the model's outputs`);
      result[name] = value;
    }
    return result;
  }

  #checkInput(input: TfjsInput, x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument(`input '${input.name}'`, 'a Tensor', x);
    const want = input.shape;
    if (want !== null && (x.ndim !== want.length || want.some((d, i) => d !== null && d !== x.shape[i]))) {
      const text = `[${want.map((d) => (d === null ? '?' : d)).join(', ')}]`;
      throw new ShapeError(`TfjsModel '${this.modelName}': input '${input.name}' must have shape ${text} (NCHW), received ${formatShape(x.shape)}`);
    }
    return x;
  }
}

/** Keras's `batch_input_shape` (channels last) in convkit's layout. */
function inputShape(layer: KerasLayer, file: string): (number | null)[] | null {
  const s = layer.config['batch_input_shape'] ?? layer.config['batch_shape'];
  if (s === undefined || s === null) return null;
  if (!Array.isArray(s) || s.length === 0 || s.length > 8 || !s.every((d) => d === null || (Number.isInteger(d) && d >= 0))) {
    throw new FormatError(`${file}: input layer '${layer.name}': batch_input_shape must be a list of integers or nulls, received ${JSON.stringify(s).slice(0, 80)}`);
  }
  const dims = s as (number | null)[];
  return dims.length < 3 ? dims : [dims[0]!, dims[dims.length - 1]!, ...dims.slice(1, -1)];
}

/**
 * Builds the model: checks every layer (all unsupported layers and features are reported in one
 * ArgumentError), orders the calls, then fetches and converts the weights.
 */
export function buildTfjsModel(json: ModelJson, store: WeightStore, file: string, name: string, modelTopology: JsonValue = null): TfjsModel {
  const { topology } = json;
  const byName = new Map(topology.layers.map((l) => [l.name, l]));

  // 1. Configs: every unsupported layer or feature, all at once.
  const parsed = new Map<string, unknown>();
  const unsupported: string[] = [];
  for (const layer of topology.layers) {
    if (layer.className === 'InputLayer') continue;
    const type = LAYER_TYPES.get(layer.className);
    if (type === undefined) {
      unsupported.push(`${layer.className} '${layer.name}'`);
      continue;
    }
    try {
      parsed.set(layer.name, type.parse(configReader(layer, file), layer));
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      unsupported.push(`${layer.className} '${layer.name}' (${err.message})`);
    }
  }
  if (unsupported.length > 0) {
    throw new ArgumentError(
      `${file}: ${unsupported.length} unsupported layer(s): ${unsupported.join(', ')}. Supported: InputLayer, ${[...LAYER_TYPES.keys()].join(', ')}`,
    );
  }

  // 2. The graph: every call reachable from the outputs, inputs first.
  const checkRef = (ref: TensorRef, where: string): KerasLayer => {
    const layer = byName.get(ref.layer);
    if (layer === undefined) throw new FormatError(`${file}: ${where} refers to layer '${ref.layer}', which the model does not have`);
    const calls = layer.className === 'InputLayer' ? 1 : layer.calls.length;
    if (ref.node >= calls) throw new FormatError(`${file}: ${where} refers to call ${ref.node} of layer '${ref.layer}', which has ${calls}`);
    if (ref.tensor !== 0) throw new FormatError(`${file}: ${where} refers to output ${ref.tensor} of layer '${ref.layer}', which has one output`);
    return layer;
  };
  const inputs = topology.inputs.map((ref, i) => {
    const layer = checkRef(ref, `input_layers[${i}]`);
    if (layer.className !== 'InputLayer') throw new ArgumentError(`${file}: model input '${layer.name}' is a ${layer.className}, not an InputLayer (nested models are not supported)`);
    return layer;
  });
  const order: { layer: KerasLayer; node: number }[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (ref: TensorRef, where: string, depth: number): void => {
    const layer = checkRef(ref, where);
    const key = keyOf(ref);
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting') throw new FormatError(`${file}: the layer graph has a cycle through layer '${layer.name}'`);
    if (depth > 5_000) throw new FormatError(`${file}: the layer graph is more than 5000 layers deep`);
    state.set(key, 'visiting');
    if (layer.className === 'InputLayer') {
      if (!inputs.includes(layer)) throw new ArgumentError(`${file}: input layer '${layer.name}' is used but is not one of the model's input_layers`);
    } else {
      const call = layer.calls[ref.node]!;
      for (const [j, r] of call.entries()) visit(r, `inbound node ${ref.node} of layer '${layer.name}' (input ${j})`, depth + 1);
    }
    state.set(key, 'done');
    order.push({ layer, node: ref.node });
  };
  topology.outputs.forEach((ref, i) => visit(ref, `output_layers[${i}]`, 0));

  // 3. Modules and weights, one module per Keras layer however often it is called.
  const modules = new Map<string, TfjsLayer>();
  const steps: Step[] = [];
  const read = new Map<string, number[]>();
  // The weights the layers read, for config() (a manifest may list more).
  const recording: WeightReader = {
    find: (layer, weight) => store.find(layer, weight),
    shapeOf: (n) => store.shapeOf(n),
    decode: (n) => {
      const w = store.decode(n);
      if (!read.has(n)) read.set(n, w.shape.slice());
      return w;
    },
  };
  for (const { layer, node } of order) {
    const output = keyOf({ layer: layer.name, node, tensor: 0 });
    if (layer.className === 'InputLayer') {
      steps.push({ layer: null, inputs: [], output });
      continue;
    }
    let module = modules.get(layer.name);
    if (module === undefined) {
      module = buildLayer(layer, parsed.get(layer.name), recording, file);
      modules.set(layer.name, module);
    }
    const call = layer.calls[node]!;
    if (!module.merges && call.length !== 1) {
      throw new FormatError(`${file}: layer '${layer.name}' (${layer.className}) takes one input, but inbound node ${node} gives it ${call.length}`);
    }
    steps.push({ layer: module, inputs: call.map(keyOf), output });
  }
  const shapes = inputs.map((l) => ({ name: l.name, shape: inputShape(l, file) }));
  return new TfjsModel(
    name,
    shapes,
    topology.inputs.map(keyOf),
    topology.outputs.map((r) => r.layer),
    topology.outputs.map(keyOf),
    steps,
    modelTopology === null ? null : { modelTopology, weights: [...read].map(([n, shape]) => ({ name: n, shape })) },
  );
}

/**
 * Rebuilds a {@link TfjsModel} from its `config()`: the topology with zero float32 weights of the
 * recorded shapes (load them with `loadStateDict`), then the replaced layers. In training mode, as
 * the importers return it.
 */
function tfjsModelFromConfig(config: { [key: string]: JsonValue }): TfjsModel {
  const file = 'TfjsModel architecture';
  const specs = config['weights'] ?? [];
  if (!Array.isArray(specs)) throw invalidArgument(`config.weights of a ${file}`, 'a list of { name, shape }', specs);
  const weights: WeightSpec[] = specs.map((s) => {
    if (!isObject(s) || typeof s['name'] !== 'string' || !Array.isArray(s['shape'])) throw invalidArgument(`an entry of config.weights of a ${file}`, '{ name, shape }', s);
    return { name: s['name'], shape: s['shape'] as number[], dtype: 'float32' };
  });
  const json = parseModelJson({ modelTopology: config['modelTopology'], weightsManifest: [{ paths: ['placeholder'], weights }] }, file);
  const bytes = 4 * weights.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const store = new WeightStore(json.manifest, new Uint8Array(bytes), file);
  const name = typeof config['name'] === 'string' ? config['name'] : 'model';
  const model = buildTfjsModel(json, store, file, name, config['modelTopology'] ?? null);
  const replaced = config['replaced'] ?? {};
  if (!isObject(replaced)) throw invalidArgument(`config.replaced of a ${file}`, 'an object of module architectures by layer', replaced);
  for (const [child, arch] of Object.entries(replaced)) model.setChild(child, moduleFromJSON(arch as unknown as ModuleJSON));
  return model;
}

registerModuleType('TfjsModel', TfjsModel, tfjsModelFromConfig);

/** What building a layer reads from a {@link WeightStore}. */
type WeightReader = Pick<WeightStore, 'find' | 'shapeOf' | 'decode'>;

function buildLayer(layer: KerasLayer, parsed: unknown, store: WeightReader, file: string): TfjsLayer {
  const where = `${file}: layer '${layer.name}' (${layer.className})`;
  const get = (weight: string, expected: readonly (number | null)[]): DecodedWeight => {
    const name = store.find(layer.name, weight);
    if (name === undefined) throw new FormatError(`${where} needs weight '${layer.name}/${weight}', which the weights manifest lacks`);
    const shape = store.shapeOf(name)!;
    if (shape.length !== expected.length || expected.some((d, i) => d !== null && d !== shape[i])) {
      const want = `[${expected.map((d) => (d === null ? '?' : d)).join(', ')}]`;
      throw new FormatError(`${where}: weight '${name}' has shape [${shape.join(', ')}] but the layer config implies ${want}`);
    }
    return store.decode(name);
  };
  let module: TfjsLayer;
  try {
    module = LAYER_TYPES.get(layer.className)!.build(layer, parsed, get);
  } catch (err) {
    // Builders name the layer; add the file where they did not.
    if (err instanceof FormatError && !err.message.startsWith(file)) throw new FormatError(`${file}: ${err.message}`);
    throw err;
  }
  // Keras's `trainable: false` (frozen layers) maps to frozen parameters.
  if (layer.config['trainable'] === false) module.freeze();
  return module;
}
