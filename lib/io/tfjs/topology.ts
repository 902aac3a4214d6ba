/**
 * The TF.js layers-model `model.json`: its topology (a Keras `Functional`/`Model` or `Sequential`
 * config) parsed into a flat list of layers with their calls, and the weights manifest. Every
 * malformed field is a FormatError naming the file and the layer; nothing here allocates tensors.
 *
 * Two spellings of a layer's inputs are read:
 * - Keras 2 / TF.js: `inbound_nodes: [[[layerName, nodeIndex, tensorIndex, kwargs], ...], ...]`
 *   (one inner list per call of the layer);
 * - Keras 3: `inbound_nodes: [{ args: [...], kwargs: {...} }]`, where each input tensor is an
 *   object `{ class_name: '__keras_tensor__', config: { keras_history: [layer, node, tensor] } }`.
 */
import { FormatError } from '../../errors.js';

/** A JSON object as read from the file. */
export type JsonObject = { [key: string]: unknown };

/** One tensor a layer call reads: the output `tensor` of call `node` of layer `layer`. */
export interface TensorRef {
  layer: string;
  node: number;
  tensor: number;
}

/** One layer of the topology, its config unparsed. */
export interface KerasLayer {
  /** The layer's name (unique in the model). */
  name: string;
  /** The Keras class name (`Conv2D`, `BatchNormalization`, ...). */
  className: string;
  /** The layer's config object. */
  config: JsonObject;
  /** One list of input tensors per call of the layer (InputLayer: none). */
  calls: TensorRef[][];
}

/** A parsed topology: the layers in file order, and the model's inputs and outputs. */
export interface KerasTopology {
  layers: KerasLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
}

/** One entry of the weights manifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  /** Present for quantised weights: stored as `dtype` (uint8, uint16, float16), dequantised to float32. */
  quantization?: { dtype: string; min?: number; scale?: number };
}

/** One group of the manifest: shard paths (concatenated in order) and the weights they hold. */
export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** The two parts of a model.json that matter for import. */
export interface ModelJson {
  topology: KerasTopology;
  manifest: WeightGroup[];
}

/** Most layers, dims and calls accepted anywhere in a file (keeps hostile files cheap to reject). */
const MAX_LAYERS = 100_000;
const MAX_DIM = 2 ** 31 - 1;

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/** Parses model.json text (or takes an already-parsed object) and checks its structure. */
export function parseModelJson(source: string | unknown, file: string): ModelJson {
  let json: unknown = source;
  if (typeof source === 'string') {
    try {
      json = JSON.parse(source);
    } catch (err) {
      throw new FormatError(`${file}: not valid JSON (${(err as Error).message}); is the file truncated?`);
    }
  }
  if (!isObject(json)) throw new FormatError(`${file}: expected a JSON object with modelTopology and weightsManifest, received ${describe(json)}`);
  const topologyJson = json['modelTopology'];
  if (!isObject(topologyJson)) {
    throw new FormatError(`${file}: modelTopology is missing or not an object (is this a TF.js layers model? graph models are not supported)`);
  }
  const manifest = parseManifest(json['weightsManifest'], file);
  return { topology: parseTopology(topologyJson, file), manifest };
}

function parseManifest(value: unknown, file: string): WeightGroup[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FormatError(`${file}: weightsManifest must be an array of groups, received ${describe(value)}`);
  return value.map((group, g) => {
    if (!isObject(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights'])) {
      throw new FormatError(`${file}: weightsManifest[${g}] must be an object with 'paths' and 'weights' arrays`);
    }
    const paths = group['paths'].map((p, i) => {
      if (typeof p !== 'string' || p.length === 0) throw new FormatError(`${file}: weightsManifest[${g}].paths[${i}] must be a file name, received ${describe(p)}`);
      return p;
    });
    const weights = group['weights'].map((w, i) => parseWeightSpec(w, `${file}: weightsManifest[${g}].weights[${i}]`));
    return { paths, weights };
  });
}

function parseWeightSpec(w: unknown, where: string): WeightSpec {
  if (!isObject(w)) throw new FormatError(`${where} must be an object, received ${describe(w)}`);
  const name = w['name'];
  if (typeof name !== 'string' || name.length === 0) throw new FormatError(`${where}: name must be a non-empty string, received ${describe(name)}`);
  const shape = w['shape'];
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_DIM)) {
    throw new FormatError(`${where} ('${name}'): shape must be a list of at most 8 non-negative integers, received ${describe(shape)}`);
  }
  const dtype = w['dtype'] ?? 'float32';
  if (typeof dtype !== 'string') throw new FormatError(`${where} ('${name}'): dtype must be a string, received ${describe(dtype)}`);
  const spec: WeightSpec = { name, shape: shape as number[], dtype };
  const q = w['quantization'];
  if (q !== undefined && q !== null) {
    if (!isObject(q) || typeof q['dtype'] !== 'string') throw new FormatError(`${where} ('${name}'): quantization must be an object with a dtype, received ${describe(q)}`);
    const min = q['min'];
    const scale = q['scale'];
    if (q['dtype'] !== 'float16' && !(typeof min === 'number' && Number.isFinite(min) && typeof scale === 'number' && Number.isFinite(scale))) {
      throw new FormatError(`${where} ('${name}'): ${q['dtype']} quantization needs finite min and scale, received ${describe(q)}`);
    }
    spec.quantization = { dtype: q['dtype'] };
    if (typeof min === 'number') spec.quantization.min = min;
    if (typeof scale === 'number') spec.quantization.scale = scale;
  }
  return spec;
}

function parseTopology(topologyJson: JsonObject, file: string): KerasTopology {
  // model.json from tensorflowjs_converter wraps the Keras config in `model_config`; TF.js's own
  // save() writes it directly.
  const model = isObject(topologyJson['model_config']) ? topologyJson['model_config'] : topologyJson;
  const className = model['class_name'];
  const config = model['config'];
  if (className === 'Sequential') return parseSequential(config, file);
  if (className === 'Model' || className === 'Functional') return parseFunctional(config, file);
  throw new FormatError(`${file}: modelTopology class_name must be 'Sequential', 'Model' or 'Functional', received ${describe(className)}`);
}

function layerHeader(value: unknown, index: number, file: string): { name: string; className: string; config: JsonObject; raw: JsonObject } {
  if (!isObject(value)) throw new FormatError(`${file}: layers[${index}] must be an object, received ${describe(value)}`);
  const className = value['class_name'];
  const config = value['config'];
  if (typeof className !== 'string' || className.length === 0) throw new FormatError(`${file}: layers[${index}].class_name must be a string, received ${describe(className)}`);
  if (!isObject(config)) throw new FormatError(`${file}: layers[${index}] (${className}).config must be an object, received ${describe(config)}`);
  const name = value['name'] ?? config['name'];
  if (typeof name !== 'string' || name.length === 0) throw new FormatError(`${file}: layers[${index}] (${className}) has no name`);
  return { name, className, config, raw: value };
}

function checkLayerCount(layers: unknown, file: string): unknown[] {
  if (!Array.isArray(layers)) throw new FormatError(`${file}: the model config has no 'layers' array`);
  if (layers.length > MAX_LAYERS) throw new FormatError(`${file}: ${layers.length} layers is more than the ${MAX_LAYERS} accepted`);
  return layers;
}

function parseSequential(config: unknown, file: string): KerasTopology {
  const list = checkLayerCount(Array.isArray(config) ? config : isObject(config) ? config['layers'] : undefined, file);
  const layers: KerasLayer[] = [];
  const names = new Set<string>();
  let previous: string | null = null;
  list.forEach((value, index) => {
    const { name, className, config: layerConfig } = layerHeader(value, index, file);
    if (names.has(name)) throw new FormatError(`${file}: two layers are named '${name}'`);
    names.add(name);
    if (previous === null && className !== 'InputLayer') {
      // TF.js names the implicit input of a Sequential model after its first layer.
      const inputName = `${name}_input`;
      const shape = layerConfig['batch_input_shape'] ?? layerConfig['batch_shape'];
      layers.push({ name: inputName, className: 'InputLayer', config: { name: inputName, batch_input_shape: shape ?? null }, calls: [] });
      names.add(inputName);
      previous = inputName;
    }
    const calls = previous === null ? [] : [[{ layer: previous, node: 0, tensor: 0 }]];
    layers.push({ name, className, config: layerConfig, calls });
    previous = name;
  });
  if (layers.length === 0 || previous === null) throw new FormatError(`${file}: the Sequential model has no layers`);
  return { layers, inputs: [{ layer: layers[0]!.name, node: 0, tensor: 0 }], outputs: [{ layer: previous, node: 0, tensor: 0 }] };
}

function parseRef(value: unknown, where: string): TensorRef {
  if (!Array.isArray(value) || value.length < 1 || typeof value[0] !== 'string') {
    throw new FormatError(`${where}: expected [layerName, nodeIndex, tensorIndex], received ${describe(value)}`);
  }
  const node = value[1] ?? 0;
  const tensor = value[2] ?? 0;
  if (!Number.isInteger(node) || node < 0 || node > MAX_LAYERS || !Number.isInteger(tensor) || tensor < 0 || tensor > MAX_LAYERS) {
    throw new FormatError(`${where}: node and tensor indices must be small non-negative integers, received ${describe(value)}`);
  }
  return { layer: value[0], node: node as number, tensor: tensor as number };
}

/** The tensors a Keras 3 call reads: every `__keras_tensor__` inside its args, in order. */
function keras3Refs(value: unknown, where: string, out: TensorRef[], depth = 0): void {
  if (depth > 16) throw new FormatError(`${where}: call arguments nested too deeply`);
  if (Array.isArray(value)) {
    for (const v of value) keras3Refs(v, where, out, depth + 1);
  } else if (isObject(value)) {
    if (value['class_name'] === '__keras_tensor__') {
      const cfg = value['config'];
      out.push(parseRef(isObject(cfg) ? cfg['keras_history'] : undefined, where));
    } else if (value['class_name'] === undefined) {
      // A plain dict argument (rare): its values may hold tensors.
      for (const v of Object.values(value)) keras3Refs(v, where, out, depth + 1);
    }
  }
}

function parseCalls(inbound: unknown, where: string): TensorRef[][] {
  if (inbound === undefined || inbound === null) return [];
  if (!Array.isArray(inbound)) throw new FormatError(`${where}: inbound_nodes must be an array, received ${describe(inbound)}`);
  if (inbound.length > MAX_LAYERS) throw new FormatError(`${where}: too many inbound nodes (${inbound.length})`);
  return inbound.map((node, i) => {
    const at = `${where}: inbound_nodes[${i}]`;
    if (isObject(node)) {
      const refs: TensorRef[] = [];
      keras3Refs(node['args'], at, refs);
      if (refs.length === 0) throw new FormatError(`${at}: a call without input tensors`);
      return refs;
    }
    if (!Array.isArray(node) || node.length === 0 || node.length > MAX_LAYERS) {
      throw new FormatError(`${at}: expected a non-empty list of [layerName, nodeIndex, tensorIndex, kwargs], received ${describe(node)}`);
    }
    return node.map((ref, j) => parseRef(ref, `${at}[${j}]`));
  });
}

/** `[[name, 0, 0], ...]`, or Keras 3's single `[name, 0, 0]` for one tensor. */
function parseEndpoints(value: unknown, what: string, file: string): TensorRef[] {
  if (!Array.isArray(value) || value.length === 0) throw new FormatError(`${file}: ${what} must be a non-empty list, received ${describe(value)}`);
  const list = typeof value[0] === 'string' ? [value] : value;
  return list.map((ref, i) => parseRef(ref, `${file}: ${what}[${i}]`));
}

function parseFunctional(config: unknown, file: string): KerasTopology {
  if (!isObject(config)) throw new FormatError(`${file}: the model config must be an object, received ${describe(config)}`);
  const list = checkLayerCount(config['layers'], file);
  const names = new Set<string>();
  const layers = list.map((value, index): KerasLayer => {
    const { name, className, config: layerConfig, raw } = layerHeader(value, index, file);
    if (names.has(name)) throw new FormatError(`${file}: two layers are named '${name}'`);
    names.add(name);
    return { name, className, config: layerConfig, calls: parseCalls(raw['inbound_nodes'], `${file}: layer '${name}' (${className})`) };
  });
  const inputs = parseEndpoints(config['input_layers'], 'input_layers', file);
  const outputs = parseEndpoints(config['output_layers'], 'output_layers', file);
  return { layers, inputs, outputs };
}
