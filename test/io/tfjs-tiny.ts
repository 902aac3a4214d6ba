// Small Keras-style models built with TF.js's own layers API and saved through an in-memory save
// handler, so their model.json is exactly what TF.js writes. Weights are seeded (BatchNormalization
// variances positive), so every layer does something measurable.
import type * as tfType from '@tensorflow/tfjs';
import { seededTensor, tfjs, type Fixture } from './tfjs-helpers.js';

type Tf = typeof tfType;

/** Gives every weight of `model` seeded values in [-0.5, 0.5) (variances in [0.5, 1.5)). */
function seedWeights(tf: Tf, model: tfType.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) => {
    const t = seededTensor(w.shape as number[], seed + 17 * i, -0.5, 0.5);
    if (w.name.includes('moving_variance')) for (let j = 0; j < t.size; j++) t.data[j] = t.data[j]! + 1;
    return tf.tensor(t.data, w.shape as number[]);
  });
  model.setWeights(values);
}

/** Saves a TF.js model to a model.json object plus its weight data. */
export async function saveToFixture(model: tfType.LayersModel): Promise<Fixture> {
  const tf = await tfjs();
  let saved: tfType.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = saved as unknown as tfType.io.ModelArtifacts;
  const data = a.weightData as ArrayBuffer;
  return {
    modelJson: {
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs ?? [] }],
    },
    weightData: Buffer.from(data),
  };
}

/**
 * A functional model over an 11 x 10 x 3 image touching every supported layer type: ZeroPadding2D
 * (asymmetric), Conv2D 'same' with stride 2 (odd total), dilated Conv2D, BatchNormalization, ReLU
 * (max_value 6), DepthwiseConv2D (multiplier 2, stride 2), SeparableConv2D, Conv2D with kernel 4
 * (odd total 3), Add (three inputs), Max/AveragePooling2D 'same' with partial windows,
 * Concatenate, UpSampling2D, Activation softmax, Flatten, Reshape, Dense (also on a rank-4 input),
 * Global pools, Dropout. Three outputs: class probabilities, an NCHW map and a dense map.
 */
export async function tinyFunctional(seed = 1): Promise<{ model: tfType.LayersModel; fixture: Fixture }> {
  const tf = await tfjs();
  const L = tf.layers;
  const sym = (x: unknown): tfType.SymbolicTensor => x as tfType.SymbolicTensor;
  const input = tf.input({ shape: [11, 10, 3], name: 'image' });
  const padded = sym(L.zeroPadding2d({ padding: [[1, 0], [0, 2]], name: 'pad' }).apply(input));
  const s2 = sym(L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'conv_s2' }).apply(padded));
  const bn = sym(L.batchNormalization({ name: 'bn' }).apply(s2));
  const r6 = sym(L.reLU({ maxValue: 6, name: 'relu6' }).apply(bn));
  const dil = sym(L.conv2d({ filters: 8, kernelSize: 3, dilationRate: 2, padding: 'same', useBias: false, name: 'dilated' }).apply(r6));
  const dw = sym(L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, strides: 2, padding: 'same', activation: 'relu6', name: 'dw' }).apply(dil));
  const sep = sym(L.separableConv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'tanh', name: 'sep' }).apply(dw));
  const k4 = sym(L.conv2d({ filters: 6, kernelSize: 4, padding: 'same', activation: 'sigmoid', name: 'k4' }).apply(dw));
  const k1 = sym(L.conv2d({ filters: 6, kernelSize: 1, name: 'k1' }).apply(dw));
  const sum = sym(L.add({ name: 'sum' }).apply([sep, k4, k1]));
  const mp = sym(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'maxpool' }).apply(sum));
  const ap = sym(L.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'avgpool' }).apply(sum));
  const cat = sym(L.concatenate({ axis: -1, name: 'cat' }).apply([mp, ap]));
  const up = sym(L.upSampling2d({ size: [2, 2], name: 'up' }).apply(cat));
  const soft = sym(L.activation({ activation: 'softmax', name: 'map_softmax' }).apply(up));
  const flat = sym(L.flatten({ name: 'flat' }).apply(soft));
  const reshaped = sym(L.reshape({ targetShape: [2, 8, 12], name: 'reshape' }).apply(flat));
  const conv1 = sym(L.conv2d({ filters: 3, kernelSize: [1, 3], padding: 'valid', name: 'conv_1x3' }).apply(reshaped));
  const flat2 = sym(L.flatten({ name: 'flat2' }).apply(conv1));
  const gap = sym(L.globalAveragePooling2d({ name: 'gap' }).apply(sum));
  const gmp = sym(L.globalMaxPooling2d({ name: 'gmp' }).apply(cat));
  const feats = sym(L.concatenate({ name: 'feats' }).apply([flat2, gap, gmp]));
  const hidden = sym(L.dense({ units: 16, activation: 'relu', name: 'hidden' }).apply(feats));
  const drop = sym(L.dropout({ rate: 0.3, name: 'drop' }).apply(hidden));
  const probs = sym(L.dense({ units: 4, activation: 'softmax', name: 'probs' }).apply(drop));
  const denseMap = sym(L.dense({ units: 5, name: 'dense_map' }).apply(up));
  const model = tf.model({ inputs: input, outputs: [probs, up, denseMap], name: 'tiny' });
  seedWeights(tf, model, seed);
  return { model, fixture: await saveToFixture(model) };
}

/** A Sequential model (no explicit InputLayer): Conv2D, MaxPooling2D, Flatten, Dense. */
export async function tinySequential(seed = 5): Promise<{ model: tfType.LayersModel; fixture: Fixture }> {
  const tf = await tfjs();
  const L = tf.layers;
  const model = tf.sequential({
    name: 'seq',
    layers: [
      L.conv2d({ inputShape: [7, 6, 2], filters: 4, kernelSize: 2, strides: 2, padding: 'same', activation: 'relu', name: 'c' }),
      L.maxPooling2d({ poolSize: 2, name: 'p' }),
      L.flatten({ name: 'f' }),
      L.dense({ units: 3, activation: 'sigmoid', name: 'd' }),
    ],
  });
  seedWeights(tf, model, seed);
  return { model, fixture: await saveToFixture(model) };
}
