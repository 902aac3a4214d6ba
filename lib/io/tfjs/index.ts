/**
 * TF.js layers-model import: `model.json` (a Keras topology plus a weights manifest) and its
 * binary weight shards become a {@link TfjsModel}, an `nn.Module` on NCHW tensors that can be
 * evaluated, fine-tuned (BatchNormalization keeps running statistics) and saved like any other.
 *
 * ```ts
 * const model = await io.loadTfjsLayers('web_model/model.json');
 * model.eval();
 * const probs = model.forward(x); // x: [N, C, H, W]
 * const byName = model.run({ input_1: x }); // { dense_3: probs }
 * ```
 *
 * Supported layers: InputLayer, Conv2D (with groups and dilation), DepthwiseConv2D,
 * SeparableConv2D, Dense, BatchNormalization, Activation and the `activation` attribute (linear,
 * relu, relu6, sigmoid, tanh, softmax, swish), ReLU (max_value null or 6, negative_slope),
 * LeakyReLU, Softmax, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D,
 * ZeroPadding2D, UpSampling2D (nearest), Add, Concatenate, Reshape, Flatten, Dropout and
 * SpatialDropout2D, channels-last only. Topologies: Keras 2 / TF.js (`Model`, `Functional`,
 * `Sequential`) and Keras 3 inbound nodes. Weights: float32, int32, float16, and uint8/uint16
 * quantisation.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { FormatError, invalidArgument } from '../../errors.js';
import { buildTfjsModel, TfjsModel } from './model.js';
import type { JsonValue } from '../../nn/module.js';
import { isObject, parseModelJson, type WeightGroup } from './topology.js';
import { WeightStore } from './weights.js';

export { TfjsModel, type TfjsInput } from './model.js';
export { TfjsLayer, type TfjsActivation } from './layers.js';

/** Binary data: an ArrayBuffer, a Buffer or any typed-array view. */
export type BinaryData = ArrayBuffer | ArrayBufferView;

/** A TF.js model held in memory (what `tf.io.fromMemory` takes). */
export interface TfjsArtifacts {
  /** The model.json: its text or the parsed object (with `modelTopology` and `weightsManifest`). */
  modelJson: string | object;
  /**
   * The weights: every shard of every manifest group concatenated (TF.js's `weightData`), or a list
   * of shards in manifest order. Omit it for a model without weights.
   */
  weightData?: BinaryData | readonly BinaryData[];
  /** What error messages call the model (default `'<memory>'`). */
  name?: string;
}

function bytesOf(data: BinaryData, what: string): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw invalidArgument(what, 'an ArrayBuffer, a Buffer or a typed array', data);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function modelName(json: unknown): string {
  if (!isObject(json) || !isObject(json['modelTopology'])) return 'model';
  const topo = json['modelTopology'];
  const model = isObject(topo['model_config']) ? topo['model_config'] : topo;
  const config = model['config'];
  return isObject(config) && typeof config['name'] === 'string' ? config['name'] : 'model';
}

function fromParsed(jsonSource: unknown, bytes: Uint8Array, file: string): TfjsModel {
  const json = parseModelJson(jsonSource, file);
  const store = new WeightStore(json.manifest, bytes, file);
  let raw: unknown = jsonSource;
  if (typeof jsonSource === 'string') raw = JSON.parse(jsonSource) as unknown;
  return buildTfjsModel(json, store, file, modelName(raw), isObject(raw) ? ((raw['modelTopology'] ?? null) as JsonValue) : null);
}

/**
 * Imports a TF.js layers model held in memory (synchronous).
 * @throws FormatError for a corrupt model.json or weight data (naming the tensor and the byte
 *   lengths); ArgumentError listing every unsupported layer.
 */
export function tfjsLayersFromMemory(artifacts: TfjsArtifacts): TfjsModel {
  if (!isObject(artifacts)) throw invalidArgument('the artifacts of tfjsLayersFromMemory()', 'an object { modelJson, weightData }', artifacts);
  const name = artifacts.name ?? '<memory>';
  const data = artifacts.weightData;
  const parts = data === undefined ? [] : Array.isArray(data) ? data.map((d, i) => bytesOf(d as BinaryData, `weightData[${i}]`)) : [bytesOf(data as BinaryData, 'weightData')];
  const json = artifacts.modelJson;
  if (typeof json !== 'string' && !isObject(json)) throw invalidArgument('modelJson', 'the model.json text or object', json);
  return fromParsed(json, concat(parts), name);
}

/** Refuses shard paths that leave the model's folder (absolute paths, `..`, URLs). */
function shardPath(base: string, path: string, file: string): string {
  if (isAbsolute(path) || path.includes('://') || path.split(/[\\/]/).includes('..')) {
    throw new FormatError(`${file}: weight shard path '${path}' must be relative to the model's folder`);
  }
  // TF.js writes paths URL-encoded where needed.
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    decoded = path;
  }
  return join(base, decoded);
}

/**
 * Imports a TF.js layers model: `model.json` and the weight shards its manifest names (read from
 * the same folder), or an in-memory `{ modelJson, weightData }` (see {@link TfjsArtifacts}).
 * The result takes NCHW input and is in training mode, as every new convkit module; call `eval()`
 * for inference.
 * @throws FormatError for an unreadable, truncated or corrupt model.json or shard (naming the file,
 *   the tensor, and expected vs actual byte lengths); ArgumentError listing every unsupported layer.
 */
export async function loadTfjsLayers(source: string | TfjsArtifacts): Promise<TfjsModel> {
  if (typeof source !== 'string') return tfjsLayersFromMemory(source);
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (err) {
    throw new FormatError(`${source}: cannot read file: ${(err as Error).message}`);
  }
  const json = parseModelJson(text, source);
  const base = dirname(source);
  const paths = json.manifest.flatMap((g: WeightGroup) => g.paths.map((p) => shardPath(base, p, source)));
  const parts: Uint8Array[] = [];
  for (const p of paths) {
    try {
      parts.push(await readFile(p));
    } catch (err) {
      throw new FormatError(`${source}: cannot read weight shard ${p}: ${(err as Error).message}`);
    }
  }
  const store = new WeightStore(json.manifest, concat(parts), source);
  const raw = JSON.parse(text) as unknown;
  return buildTfjsModel(json, store, source, modelName(raw), isObject(raw) ? ((raw['modelTopology'] ?? null) as JsonValue) : null);
}
