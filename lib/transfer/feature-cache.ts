/**
 * Feature caching for head training on a frozen backbone: {@link cacheFeatures} runs the backbone
 * once over a dataset and stores the penultimate features on disk, `<dir>/<key>/features.f32`
 * (float32, row-major [count, ...shape]) plus `index.json` (shape, count, classes, labels, each
 * sample's source and content hash). The {@link FeatureCache} it returns is a `Dataset` that reads
 * one row per `get()` with a positioned read, so the file is never loaded whole.
 *
 * The key is a SHA-256 of the backbone weights (bytes, names and shapes), the cut layer, the
 * preprocessing (canonical JSON) and the dataset's content (every source file's bytes, the files a
 * dataset's `spec()` names such as IDX/CIFAR label files, the sample sources, classes and sample
 * shape): a later run with the same inputs reuses the cache without running the backbone, and any
 * change lands in another directory. Caches are written to a temporary directory and renamed.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/grad-mode.js';
import type { Dataset, Sample } from '../data/types.js';
import { ArgumentError, FormatError, invalidArgument } from '../errors.js';
import { TfjsModel } from '../io/tfjs/model.js';
import { TfjsLayer } from '../io/tfjs/layers.js';
import { OnnxModel } from '../io/onnx/model.js';
import { Module } from '../nn/module.js';
import { zeros } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';
import { requestedMode } from './freeze.js';
import { findHead } from './head.js';

/** A backbone as a function: a batch [N, C, H, W] to features [N, ...]. */
export type BackboneFn = (x: Tensor) => Tensor;

/** A backbone given as a model and where to cut it. */
export interface BackboneSpec {
  model: Module;
  /** See {@link featureExtractor} (default: the input of the classifier head). */
  cut?: string;
}

/** Options of {@link cacheFeatures}. */
export interface CacheFeaturesOptions {
  /** The cache root; each key gets its own subdirectory. */
  dir: string;
  /** The preprocessing the dataset applies (any JSON value; part of the key). */
  preprocessKey: unknown;
  /** Samples per backbone forward (default 64). */
  batchSize?: number;
  /** The cut layer's name (part of the key; default the spec's `cut`, else `'head-input'`). */
  cut?: string;
  /**
   * The backbone weights hashed into the key. Required with a function backbone; with a model the
   * default is every parameter and buffer outside the classifier head.
   */
  weights?: ReadonlyArray<readonly [string, Tensor]> | Module;
  /** Called with progress lines. */
  log?: (line: string) => void;
}

/** `index.json` of a feature cache. */
export interface FeatureIndex {
  format: 'convkit-feature-cache';
  version: 1;
  key: string;
  /** The shape of one sample's features. */
  shape: number[];
  count: number;
  dtype: 'float32';
  classes: string[];
  labels: number[];
  /** Each sample's source (`file`, `file#index`) and the SHA-256 of that file's bytes. */
  samples: Array<{ source: string; hash: string }>;
  cut: string;
  backboneHash: string;
  preprocess: unknown;
  /** Seconds the backbone pass took when the cache was built. */
  buildSeconds: number;
  createdAt: string;
}

/** The JSON text of `value` with object keys sorted (so the key does not depend on key order). */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  }) ?? 'undefined';
}

/** SHA-256 of named tensors: names, shapes and float32 bytes, in order. */
export function hashWeights(weights: ReadonlyArray<readonly [string, Tensor]>): string {
  const h = createHash('sha256');
  for (const [name, t] of weights) {
    h.update(`${name}:${t.shape.join('x')};`);
    const d = t.data;
    h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

/** The parameters and buffers of `model` outside its classifier head (all of them when it has none). */
export function backboneWeights(model: Module): Array<[string, Tensor]> {
  let heads: string[] = [];
  try {
    const head = findHead(model);
    heads = [head.path, ...head.auxPaths];
  } catch {
    heads = [];
  }
  const outside = ([name]: [string, Tensor]): boolean => !heads.some((h) => name.startsWith(`${h}.`));
  return [...model.namedParameters(), ...model.namedBuffers()].filter(outside);
}

const fileHashes = new Map<string, { mtimeMs: number; size: number; hash: string }>();

/** SHA-256 of a file's bytes (memoised per path, size and mtime within the process). */
function hashFile(path: string): string {
  const st = statSync(path);
  const known = fileHashes.get(path);
  if (known !== undefined && known.mtimeMs === st.mtimeMs && known.size === st.size) return known.hash;
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
  fileHashes.set(path, { mtimeMs: st.mtimeMs, size: st.size, hash });
  return hash;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Each sample's source and content hash, plus a digest of the whole dataset. */
function hashDataset(dataset: Dataset): { samples: Array<{ source: string; hash: string }>; digest: string } {
  const h = createHash('sha256');
  h.update(canonicalJson({ length: dataset.length, classes: dataset.classes, sampleShape: dataset.sampleShape }));
  const samples: Array<{ source: string; hash: string }> = [];
  for (let i = 0; i < dataset.length; i++) {
    const source = dataset.source(i);
    const hashIdx = source.lastIndexOf('#');
    const file = isFile(source) ? source : hashIdx > 0 && isFile(source.slice(0, hashIdx)) ? source.slice(0, hashIdx) : null;
    const hash = file === null ? 'none' : hashFile(file);
    samples.push({ source, hash });
    h.update(`${source}\0${hash}\n`);
  }
  // Files named by the dataset's spec (IDX and CIFAR label files are not in the sample sources).
  const spec = (dataset as { spec?: () => unknown }).spec;
  if (typeof spec === 'function') {
    const s = spec.call(dataset) as Record<string, unknown>;
    for (const [k, v] of Object.entries(s ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
      const files = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
      for (const f of files) if (isFile(f)) h.update(`spec ${k} ${f}\0${hashFile(f)}\n`);
    }
  }
  return { samples, digest: h.digest('hex') };
}

class Stop {
  constructor(readonly value: Tensor) {}
}

/**
 * A function computing `model`'s features at a cut, in eval mode without gradients:
 * - no `cut`: the input of the classifier head (see `findHead`), the penultimate features;
 * - a TF.js model: the output of the Keras layer called `cut` (`'flatten_1'`);
 * - another module: the output of the module at dotted path `cut` (`'avgpool'`).
 * Zoo and TF.js models stop computing at the cut. An ONNX model's head input is found by feeding
 * an identity matrix as the head's weights (its graph is otherwise opaque).
 * @throws ArgumentError for an unknown cut, or a cut an ONNX model cannot give.
 */
export function featureExtractor(model: Module, cut?: string): BackboneFn {
  if (!(model instanceof Module)) throw invalidArgument('the model of featureExtractor()', 'a Module', model);
  const inner = extractorOf(model, cut);
  return (x) => {
    const modes = model.modules().map((m) => [m, requestedMode(m)] as const);
    model.eval();
    try {
      return inner(x);
    } finally {
      for (const [m, mode] of modes) m.training = mode;
    }
  };
}

function extractorOf(model: Module, cut: string | undefined): BackboneFn {
  if (cut !== undefined && model instanceof TfjsModel) {
    const input = model.inputNames[0]!;
    return (x) => noGrad(() => model.run({ [input]: x }, { outputs: [cut] })[cut]!);
  }
  if (model instanceof OnnxModel) {
    if (cut !== undefined) throw new ArgumentError(`featureExtractor: an ONNX model can only be cut at its head input (received cut '${cut}')`);
    const head = findHead(model);
    const eye = zeros([head.inFeatures, head.inFeatures]);
    for (let i = 0; i < head.inFeatures; i++) eye.data[i * head.inFeatures + i] = 1;
    const zero = zeros([head.inFeatures]);
    const hasBias = head.module.namedParameters().some(([n]) => n === 'bias');
    const input = model.inputs[0]!.name;
    return (x) => noGrad(() => {
      const feeds: Record<string, Tensor> = { [input]: x, [`${head.path}.weight`]: eye };
      if (hasBias) feeds[`${head.path}.bias`] = zero;
      return Object.values(model.run(feeds))[0]!;
    });
  }
  const target = cut === undefined ? findHead(model).module : model.getModule(cut);
  const method = target instanceof TfjsLayer && cut === undefined ? 'call' : 'forward';
  return (x) =>
    noGrad(() => {
      const own = Object.getOwnPropertyDescriptor(target, method);
      const original = (target as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!;
      (target as unknown as Record<string, unknown>)[method] = (...args: unknown[]): never => {
        if (cut === undefined) {
          const first = method === 'call' ? (args[0] as Tensor[])[0] : args[0];
          throw new Stop(first as Tensor);
        }
        throw new Stop(original.apply(target, args) as Tensor);
      };
      try {
        model.forward(x);
      } catch (err) {
        if (err instanceof Stop) return err.value;
        throw err;
      } finally {
        if (own === undefined) delete (target as unknown as Record<string, unknown>)[method];
        else Object.defineProperty(target, method, own);
      }
      throw new ArgumentError(`featureExtractor: the forward pass never reached '${cut ?? findHead(model).path}'`);
    });
}

/**
 * Cached features as a {@link Dataset}: `get(i)` reads row `i` of `features.f32` with a positioned
 * read. `sampleShape` is `[F, 1, 1]` for F features (`Dataset` samples are 3-d); a head trained on
 * it flattens first (see `FeatureHead`).
 */
export class FeatureCache implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly sampleShape: [number, number, number];
  /** The cache directory (`<dir>/<key>`). */
  readonly path: string;
  readonly index: FeatureIndex;
  /** True when this run reused an existing cache (the backbone did not run). */
  readonly hit: boolean;
  readonly #rowBytes: number;
  readonly #rowSize: number;
  #fd: number | null = null;

  /** @internal Use {@link cacheFeatures} or {@link FeatureCache.open}. */
  constructor(path: string, index: FeatureIndex, hit: boolean) {
    this.path = path;
    this.index = index;
    this.hit = hit;
    this.length = index.count;
    this.classes = index.classes;
    this.#rowSize = index.shape.reduce((a, b) => a * b, 1);
    this.#rowBytes = this.#rowSize * 4;
    this.sampleShape = [this.#rowSize, 1, 1];
  }

  /**
   * Opens the cache in `path` (a `<dir>/<key>` directory), checking that `features.f32` holds
   * exactly `count` rows.
   * @throws FormatError for a missing, malformed or truncated cache.
   */
  static open(path: string, hit = true): FeatureCache {
    let index: FeatureIndex;
    try {
      index = JSON.parse(readFileSync(join(path, 'index.json'), 'utf8')) as FeatureIndex;
    } catch (err) {
      throw new FormatError(`${path}: cannot read the feature cache index: ${(err as Error).message}`);
    }
    if (index.format !== 'convkit-feature-cache' || !Array.isArray(index.shape) || !Number.isInteger(index.count) || !Array.isArray(index.labels) || index.labels.length !== index.count) {
      throw new FormatError(`${path}/index.json: not a convkit feature cache index`);
    }
    const cache = new FeatureCache(path, index, hit);
    const size = statSync(join(path, 'features.f32')).size;
    if (size !== cache.length * cache.#rowBytes) {
      throw new FormatError(`${path}/features.f32: ${size} bytes, expected ${cache.length} rows of ${cache.#rowBytes} bytes`);
    }
    return cache;
  }

  /** Features of sample `index` (a positioned read of one row) and its label. */
  get(index: number): Sample {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new ArgumentError(`Expected a sample index in [0, ${this.length}) but received ${String(index)}`);
    }
    this.#fd ??= openSync(join(this.path, 'features.f32'), 'r');
    const buf = Buffer.allocUnsafe(this.#rowBytes);
    const n = readSync(this.#fd, buf, 0, this.#rowBytes, index * this.#rowBytes);
    if (n !== this.#rowBytes) throw new FormatError(`${this.path}/features.f32: short read at row ${index}`);
    const input = new Float32Array(this.#rowSize);
    new Uint8Array(input.buffer).set(buf);
    return { input, label: this.index.labels[index]! };
  }

  /** Every row at once, as a [count, ...shape] tensor (reads the whole file; for small caches). */
  all(): Tensor {
    const out = new Float32Array(this.length * this.#rowSize);
    for (let i = 0; i < this.length; i++) out.set(this.get(i).input, i * this.#rowSize);
    return new Tensor(out, [this.length, ...this.index.shape]);
  }

  /** The original sample's source. */
  source(index: number): string {
    return this.index.samples[index]?.source ?? `${this.path}#${index}`;
  }

  /** Closes the file descriptor (reopened on the next `get`). */
  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }
}

/** The cache key of a backbone, cut, preprocessing and dataset (see the module comment). */
export function featureCacheKey(parts: { backboneHash: string; cut: string; preprocessKey: unknown; dataDigest: string }): string {
  return createHash('sha256')
    .update(canonicalJson({ v: 1, backbone: parts.backboneHash, cut: parts.cut, preprocess: parts.preprocessKey ?? null, data: parts.dataDigest }))
    .digest('hex');
}

/**
 * Returns cached features of `dataset` through `backbone`, computing and storing them when no
 * cache with the same key exists in `options.dir` (see the module comment).
 * @throws ArgumentError for bad options (a function backbone without `weights`); whatever the
 *   dataset or backbone throw (a failed build leaves no cache behind).
 */
export async function cacheFeatures(backbone: BackboneFn | BackboneSpec, dataset: Dataset, options: CacheFeaturesOptions): Promise<FeatureCache> {
  if (typeof options !== 'object' || options === null || typeof options.dir !== 'string' || options.dir === '') {
    throw invalidArgument('options.dir of cacheFeatures()', 'a directory path', options?.dir);
  }
  if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || !Number.isInteger(dataset.length)) {
    throw invalidArgument('the dataset of cacheFeatures()', 'a Dataset', dataset);
  }
  const batchSize = options.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw invalidArgument('options.batchSize of cacheFeatures()', 'a positive integer', batchSize);
  const log = options.log ?? (() => {});
  let fn: BackboneFn;
  let model: Module | null = null;
  let cut: string;
  if (typeof backbone === 'function') {
    if (options.weights === undefined) {
      throw new ArgumentError('cacheFeatures: a function backbone needs options.weights (the tensors its output depends on) for the cache key');
    }
    fn = backbone;
    cut = options.cut ?? 'head-input';
  } else if (backbone !== null && typeof backbone === 'object' && backbone.model instanceof Module) {
    model = backbone.model;
    fn = featureExtractor(model, backbone.cut);
    cut = options.cut ?? backbone.cut ?? 'head-input';
  } else {
    throw invalidArgument('the backbone of cacheFeatures()', 'a function (x) => Tensor or { model, cut }', backbone);
  }
  const weights = options.weights instanceof Module ? backboneWeights(options.weights) : options.weights ?? backboneWeights(model!);
  const backboneHash = hashWeights(weights);
  const data = hashDataset(dataset);
  const key = featureCacheKey({ backboneHash, cut, preprocessKey: options.preprocessKey, dataDigest: data.digest });
  const final = join(options.dir, key);
  if (existsSync(join(final, 'index.json'))) {
    try {
      return FeatureCache.open(final, true);
    } catch (err) {
      log(`feature cache ${final} is damaged (${(err as Error).message}); rebuilding`);
      rmSync(final, { recursive: true, force: true });
    }
  }
  mkdirSync(options.dir, { recursive: true });
  const tmp = join(options.dir, `.tmp-${key.slice(0, 16)}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  const started = performance.now();
  const wasTraining = model?.training ?? false;
  model?.eval();
  let fd: number | null = openSync(join(tmp, 'features.f32'), 'w');
  try {
    const labels: number[] = [];
    let shape: number[] | null = null;
    const [c, h, w] = dataset.sampleShape;
    const sampleSize = c * h * w;
    for (let start = 0; start < dataset.length; start += batchSize) {
      const n = Math.min(batchSize, dataset.length - start);
      const input = new Float32Array(n * sampleSize);
      for (let i = 0; i < n; i++) {
        const s = await dataset.get(start + i);
        input.set(s.input, i * sampleSize);
        labels.push(s.label);
      }
      const out = fn(new Tensor(input, [n, c, h, w]));
      const rowShape = out.shape.slice(1);
      if (out.shape[0] !== n) throw new ArgumentError(`cacheFeatures: the backbone returned ${out.shape[0]} rows for a batch of ${n}`);
      if (shape === null) shape = rowShape;
      else if (shape.join() !== rowShape.join()) throw new ArgumentError(`cacheFeatures: the backbone's feature shape changed from [${shape}] to [${rowShape}]`);
      const d = out.data;
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
      log(`caching features: ${start + n}/${dataset.length}`);
    }
    closeSync(fd);
    fd = null;
    const index: FeatureIndex = {
      format: 'convkit-feature-cache',
      version: 1,
      key,
      shape: shape ?? [0],
      count: dataset.length,
      dtype: 'float32',
      classes: [...dataset.classes],
      labels,
      samples: data.samples,
      cut,
      backboneHash,
      preprocess: JSON.parse(canonicalJson(options.preprocessKey ?? null)) as unknown,
      buildSeconds: (performance.now() - started) / 1000,
      createdAt: new Date().toISOString(),
    };
    writeFileSync(join(tmp, 'index.json'), `${JSON.stringify(index)}\n`);
    try {
      renameSync(tmp, final);
    } catch (err) {
      // Another process finished the same cache first: use theirs.
      if (!existsSync(join(final, 'index.json'))) throw err;
      rmSync(tmp, { recursive: true, force: true });
      return FeatureCache.open(final, true);
    }
    return FeatureCache.open(final, false);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    if (model !== null && wasTraining) model.train();
  }
}

