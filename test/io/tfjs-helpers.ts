// Shared by the TF.js import tests: the reference (TF.js's pure-JS CPU backend), layout
// conversion and the two pretrained fixtures shipped as devDependencies.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Tensor } from '../../lib/tensor/tensor.js';
import { nsfwjsArtifacts } from '../../scripts/nsfwjs-artifacts.mjs';

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

/** nsfwjs 4.4.0's MobileNetV2 (uint8-quantised, Keras 2.2.4); see scripts/nsfwjs-artifacts.mjs. */
export async function nsfwMobileNetV2(): Promise<Fixture> {
  const { modelJson, weightData } = await nsfwjsArtifacts();
  return { modelJson: modelJson as Fixture['modelJson'], weightData };
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
