// Shared by the TF.js import tests: the reference (TF.js's pure-JS CPU backend), layout
// conversion and the two pretrained fixtures shipped as devDependencies.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tensor } from '../../lib/tensor/tensor.js';

const require = createRequire(import.meta.url);

/** TF.js on its CPU backend (plain JS, deterministic). */
export async function tfjs(): Promise<typeof tf> {
  await tf.setBackend('cpu');
  await tf.ready();
  return tf;
}

/** A model.json object and its weights (all shards concatenated). */
export interface Fixture {
  modelJson: { modelTopology: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  weightData: Buffer;
}

/** Loads a fixture into TF.js through an in-memory IO handler. */
export async function tfLoad(f: Fixture): Promise<tf.LayersModel> {
  const t = await tfjs();
  const data = f.weightData.buffer.slice(f.weightData.byteOffset, f.weightData.byteOffset + f.weightData.byteLength) as ArrayBuffer;
  return t.loadLayersModel(
    t.io.fromMemory({
      modelTopology: f.modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      weightSpecs: f.modelJson.weightsManifest.flatMap((g) => g.weights),
      weightData: data,
    }),
  );
}

/** Runs a TF.js model on an NCHW convkit tensor; returns the output in convkit's layout. */
export async function tfPredict(model: tf.LayersModel, x: Tensor): Promise<Tensor> {
  const t = await tfjs();
  const nhwc = x.ndim === 4 ? x.permute([0, 2, 3, 1]) : x;
  const out = t.tidy(() => model.predict(t.tensor(nhwc.data, nhwc.shape.slice())) as tf.Tensor);
  const data = Float32Array.from(await out.data());
  const shape = out.shape.slice() as number[];
  out.dispose();
  const y = new Tensor(data, shape);
  return y.ndim === 4 ? y.permute([0, 3, 1, 2]) : y;
}

/** Runs a TF.js model up to the named layers; returns their outputs in convkit's layout. */
export async function tfPredictLayers(model: tf.LayersModel, x: Tensor, names: readonly string[]): Promise<Tensor[]> {
  const t = await tfjs();
  const sub = t.model({ inputs: model.inputs, outputs: names.map((n) => model.getLayer(n).output as tf.SymbolicTensor) });
  const nhwc = x.ndim === 4 ? x.permute([0, 2, 3, 1]) : x;
  const outs = t.tidy(() => {
    const r = sub.predict(t.tensor(nhwc.data, nhwc.shape.slice()));
    return Array.isArray(r) ? r : [r];
  });
  const result: Tensor[] = [];
  for (const out of outs) {
    const y = new Tensor(Float32Array.from(await out.data()), out.shape.slice() as number[]);
    out.dispose();
    result.push(y.ndim === 4 ? y.permute([0, 3, 1, 2]) : y);
  }
  return result;
}

/** The largest absolute difference of two same-shaped tensors. */
export function maxAbsDiff(a: Tensor, b: Tensor): number {
  if (a.shape.join() !== b.shape.join()) throw new Error(`shapes differ: [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`);
  let m = 0;
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

/** nsfwjs 4.4.0's MobileNetV2 (uint8-quantised, Keras 2.2.4). */
export async function nsfwMobileNetV2(): Promise<Fixture> {
  const pkg = require('nsfwjs/models/mobilenet_v2') as {
    MobileNetV2Model: { modelJson: () => Promise<{ default?: unknown }>; weightBundles: (() => Promise<{ default?: unknown }>)[] };
  };
  const m = pkg.MobileNetV2Model;
  const json = await m.modelJson();
  // Each weight bundle is a browserify module exporting one base64 string. Requiring it takes V8
  // ~20 s (a 3.5 MB minified bundle), so read the string straight from the file it loads.
  const entry = require.resolve('nsfwjs/models/mobilenet_v2');
  const root = entry.slice(0, entry.lastIndexOf('/dist/'));
  const shards = m.weightBundles.map((_, i) => {
    const text = readFileSync(join(root, 'dist', 'models', 'mobilenet_v2', `group1-shard${i + 1}of${m.weightBundles.length}.min.js`), 'utf8');
    const match = /\.exports="([A-Za-z0-9+/=]+)"/.exec(text);
    if (match === null) throw new Error('nsfwjs: no base64 weight string in the bundle');
    return Buffer.from(match[1]!, 'base64');
  });
  return { modelJson: (json.default ?? json) as Fixture['modelJson'], weightData: Buffer.concat(shards) };
}

/** The folder of @upscalerjs/default-model's model.json (a float32 RDN, Keras 2.10). */
export function upscalerModelPath(): string {
  // The package's exports map hides models/, so find it next to its entry point.
  const entry = require.resolve('@upscalerjs/default-model');
  return join(entry.slice(0, entry.lastIndexOf('/dist/')), 'models', 'model.json');
}

/** @upscalerjs/default-model as a fixture. */
export function upscalerFixture(): Fixture {
  const path = upscalerModelPath();
  const modelJson = JSON.parse(readFileSync(path, 'utf8')) as Fixture['modelJson'];
  const dir = path.slice(0, path.lastIndexOf('/') + 1);
  const weightData = Buffer.concat(modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(dir + p))));
  return { modelJson, weightData };
}

/** A deterministic pseudo-random tensor in [lo, hi). */
export function seededTensor(shape: number[], seed: number, lo = 0, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  }
  return new Tensor(data, shape);
}
