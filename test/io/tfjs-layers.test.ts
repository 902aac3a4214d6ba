// TF.js layers import, layer by layer: small models built and saved by TF.js itself (every
// supported layer type, 'same' padding with odd totals and stride 2, quantised weights, Sequential
// and Keras 3 topologies) checked against TF.js's own outputs, and a fine-tuning smoke test.
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import * as F from '../../lib/functional/index.js';
import { loadTfjsLayers, tfjsLayersFromMemory, type TfjsModel } from '../../lib/io/tfjs/index.js';
import { tfPadding } from '../../lib/io/tfjs/layers.js';
import { SGD } from '../../lib/optim/sgd.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { maxAbsDiff, seededTensor, tfjs, tfLoad, type Fixture } from './tfjs-helpers.js';
import { tinyFunctional, tinySequential } from './tfjs-tiny.js';
import type * as tfType from '@tensorflow/tfjs';

const TOL = 1e-5;

/** TF.js's outputs for an NCHW batch, in convkit's layout. */
async function reference(model: tfType.LayersModel, x: Tensor): Promise<Tensor[]> {
  const tf = await tfjs();
  const nhwc = x.permute([0, 2, 3, 1]);
  const outs = tf.tidy(() => {
    const r = model.predict(tf.tensor(nhwc.data, nhwc.shape.slice()));
    return Array.isArray(r) ? r : [r];
  });
  return Promise.all(
    outs.map(async (o) => {
      const y = new Tensor(Float32Array.from(await o.data()), o.shape.slice() as number[]);
      o.dispose();
      return y.ndim === 4 ? y.permute([0, 3, 1, 2]) : y;
    }),
  );
}

function compare(ours: Tensor[], theirs: Tensor[]): number[] {
  expect(ours.map((t) => t.shape)).toEqual(theirs.map((t) => t.shape));
  return ours.map((t, i) => maxAbsDiff(t, theirs[i]!));
}

/** Rewrites old-style inbound nodes in the Keras 3 form. */
function toKeras3(f: Fixture): Fixture {
  const json = JSON.parse(JSON.stringify(f.modelJson)) as { modelTopology: { config: { layers: { inbound_nodes: unknown[] }[]; input_layers: unknown[][]; output_layers: unknown[][] } } };
  const cfg = json.modelTopology.config;
  const tensor = (ref: unknown[]): unknown => ({ class_name: '__keras_tensor__', config: { shape: [], dtype: 'float32', keras_history: ref.slice(0, 3) } });
  for (const layer of cfg.layers) {
    layer.inbound_nodes = (layer.inbound_nodes as unknown[][][]).map((node) => ({
      args: node.length === 1 ? [tensor(node[0]!)] : [node.map(tensor)],
      kwargs: {},
    }));
  }
  return { modelJson: json as unknown as Fixture['modelJson'], weightData: f.weightData };
}

/** Stores every float32 weight as uint8 (min/scale) or float16, as tensorflowjs_converter does. */
function quantise(f: Fixture, dtype: 'uint8' | 'float16'): Fixture {
  const specs = f.modelJson.weightsManifest[0]!.weights;
  const src = new Float32Array(f.weightData.buffer.slice(f.weightData.byteOffset, f.weightData.byteOffset + f.weightData.byteLength));
  const parts: Buffer[] = [];
  let offset = 0;
  const weights = specs.map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = src.subarray(offset, offset + n);
    offset += n;
    if (dtype === 'float16') {
      const out = Buffer.alloc(2 * n);
      values.forEach((v, i) => out.writeUInt16LE(toHalf(v), 2 * i));
      parts.push(out);
      return { ...spec, quantization: { dtype: 'float16' as const } };
    }
    let min = Math.min(...values);
    const max = Math.max(...values);
    min = Math.min(min, 0);
    const scale = (Math.max(max, 0) - min) / 255 || 1;
    parts.push(Buffer.from(values.map((v) => Math.round((v - min) / scale))));
    return { ...spec, quantization: { dtype: 'uint8' as const, min, scale } };
  });
  return { modelJson: { ...f.modelJson, weightsManifest: [{ paths: ['q.bin'], weights }] }, weightData: Buffer.concat(parts) };
}

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | Math.round(mant / 8192);
}

describe('TF same padding', () => {
  it.each([
    // [size, kernel, stride, dilation, [before, after]]
    [8, 3, 2, 1, [0, 1]],
    [7, 3, 2, 1, [1, 1]],
    [5, 4, 1, 1, [1, 2]],
    [6, 3, 1, 2, [2, 2]],
    [3, 2, 2, 1, [0, 1]],
    [1, 5, 3, 1, [2, 2]],
  ] as const)('size %i, kernel %i, stride %i, dilation %i: pads %j (extra at the end)', (size, k, s, d, want) => {
    expect(tfPadding('same', size, k, s, d)).toEqual(want);
  });
});

describe('a TF.js-built model touching every supported layer', () => {
  let model: TfjsModel;
  let tf: tfType.LayersModel;
  let fixture: Fixture;
  const x = seededTensor([2, 3, 11, 10], 11, -1, 1);

  it('matches TF.js on all three outputs (NCHW in and out)', async () => {
    ({ model: tf, fixture } = await tinyFunctional());
    model = tfjsLayersFromMemory({ modelJson: JSON.stringify(fixture.modelJson), weightData: fixture.weightData }).eval();
    expect(model.inputs).toEqual([{ name: 'image', shape: [null, 3, 11, 10] }]);
    expect(model.outputNames).toEqual(['probs', 'up', 'dense_map']);
    const classes = new Set(model.modules().map((m) => m.describe().split('(')[0]));
    for (const c of ['ZeroPadding2D', 'Conv2D', 'BatchNormalization', 'ReLU', 'DepthwiseConv2D', 'SeparableConv2D', 'Add', 'MaxPooling2D', 'AveragePooling2D', 'Concatenate', 'UpSampling2D', 'Activation', 'Flatten', 'Reshape', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Dense', 'Dropout']) {
      expect(classes).toContain(c);
    }
    const diffs = compare(model.forwardAll(x), await reference(tf, x));
    console.log(`tiny functional max |convkit - TF.js| per output (probs, up, dense_map): ${diffs.map((d) => d.toExponential(2)).join(', ')}`);
    for (const d of diffs) expect(d).toBeLessThan(TOL);
  });

  it('runs by input and output names, and intermediate layers', () => {
    const out = model.run({ image: x });
    expect(Object.keys(out)).toEqual(['probs', 'up', 'dense_map']);
    expect(out['probs']!.data).toEqual(model.forwardAll(x)[0]!.data);
    const mid = model.run({ image: x }, { outputs: ['sep', 'maxpool'] });
    expect(mid['sep']!.shape).toEqual([2, 6, 3, 3]);
    expect(mid['maxpool']!.shape).toEqual([2, 6, 2, 2]);
    expect(() => model.run({ img: x })).toThrow(/inputs are image; missing image; unknown img/);
    expect(() => model.forward(x)).toThrow(ArgumentError);
    expect(() => model.forwardAll(seededTensor([2, 11, 10, 3], 1))).toThrow(/input 'image' must have shape \[\?, 3, 11, 10\] \(NCHW\)/);
  });

  it('accepts the weights as one ArrayBuffer (TF.js weightData) or a list of shards', () => {
    const w = fixture.weightData;
    const buffer = w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) as ArrayBuffer;
    const half = Math.floor(w.length / 2);
    const a = model.forwardAll(x);
    for (const weightData of [buffer, [w.subarray(0, half), w.subarray(half)]]) {
      const m = tfjsLayersFromMemory({ modelJson: fixture.modelJson, weightData }).eval();
      m.forwardAll(x).forEach((t, i) => expect(t.data).toEqual(a[i]!.data));
    }
  });

  it('a BatchNormalization frozen in Keras (trainable: false) keeps its running statistics in training mode', () => {
    const json = JSON.parse(JSON.stringify(fixture.modelJson)) as { modelTopology: { config: { layers: { name: string; config: Record<string, unknown> }[] } } };
    json.modelTopology.config.layers.find((l) => l.name === 'bn')!.config['trainable'] = false;
    const m = tfjsLayersFromMemory({ modelJson: json, weightData: fixture.weightData }).train();
    const bn = m.layer('bn')!;
    expect(bn.parameters().every((p) => !p.requiresGrad)).toBe(true);
    const before = Float32Array.from(m.stateDict().get('bn.running_mean')!.data);
    const normed = m.run({ image: x }, { outputs: ['bn'] })['bn']!;
    expect(m.stateDict().get('bn.running_mean')!.data).toEqual(before);
    expect(maxAbsDiff(normed, model.run({ image: x }, { outputs: ['bn'] })['bn']!)).toBe(0);
    bn.unfreeze(); // trainable again: batch statistics, running statistics updated
    m.run({ image: x }, { outputs: ['bn'] });
    expect(maxAbsDiff(m.stateDict().get('bn.running_mean')!, new Tensor(before))).toBeGreaterThan(0);
  });

  it('reads Keras 3 inbound nodes identically', async () => {
    const k3 = tfjsLayersFromMemory(toKeras3(fixture)).eval();
    const a = model.forwardAll(x);
    k3.forwardAll(x).forEach((t, i) => expect(t.data).toEqual(a[i]!.data));
  });

  it.each(['uint8', 'float16'] as const)('dequantises %s weights exactly as TF.js', async (dtype) => {
    const q = quantise(fixture, dtype);
    const ours = tfjsLayersFromMemory(q).eval();
    const diffs = compare(ours.forwardAll(x), await reference(await tfLoad(q), x));
    console.log(`tiny functional, ${dtype} weights: max |convkit - TF.js| ${diffs.map((d) => d.toExponential(2)).join(', ')}`);
    for (const d of diffs) expect(d).toBeLessThan(TOL);
  });

  it('fine-tunes: gradients reach the imported parameters and the loss decreases', () => {
    const m = tfjsLayersFromMemory(fixture).train();
    m.layer('drop')!.eval(); // a fixed batch and a deterministic loss
    const target = new Tensor(new Float32Array([1, 0, 0, 0, 0, 0, 1, 0]), [2, 4]);
    const optimiser = new SGD(m.parameters(), { lr: 0.02 });
    const losses: number[] = [];
    for (let step = 0; step < 5; step++) {
      optimiser.zeroGrad();
      const [probs, , denseMap] = m.forwardAll(x) as [Tensor, Tensor, Tensor];
      const loss = F.add(F.mseLoss(probs, target), F.mseLoss(denseMap, new Tensor(new Float32Array(denseMap.size), denseMap.shape)));
      loss.backward();
      if (step === 0) {
        for (const [name, p] of m.namedParameters()) expect(p.grad, name).not.toBeNull();
        expect(m.namedParameters().map(([n]) => n)).toEqual(expect.arrayContaining(['bn.weight', 'dw.weight', 'sep.pointwise', 'probs.bias']));
      }
      losses.push(loss.data[0]!);
      optimiser.step();
    }
    console.log(`fine-tuning losses: ${losses.map((l) => l.toFixed(5)).join(' -> ')}`);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    // Batch norm ran on batch statistics and moved its running mean away from the imported one.
    const imported = tfjsLayersFromMemory(fixture);
    expect(maxAbsDiff(m.stateDict().get('bn.running_mean')!, imported.stateDict().get('bn.running_mean')!)).toBeGreaterThan(0);
  });
});

describe('a TF.js Sequential model (implicit input layer)', () => {
  it('matches TF.js, loaded from model.json on disk', async () => {
    const { model: tf, fixture } = await tinySequential();
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'convkit-tfjs-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify(fixture.modelJson));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), fixture.weightData);
    const model = (await loadTfjsLayers(join(dir, 'model.json'))).eval();
    expect(model.inputNames).toEqual(['c_input']);
    const x = seededTensor([3, 2, 7, 6], 3, -1, 1);
    const diffs = compare([model.forward(x)], await reference(tf, x));
    expect(diffs[0]).toBeLessThan(TOL);
  });
});

describe('unsupported layers', () => {
  it('lists every unsupported layer and feature in one ArgumentError', async () => {
    const { fixture } = await tinySequential();
    const json = JSON.parse(JSON.stringify(fixture.modelJson)) as { modelTopology: { config: { layers: { class_name: string; config: Record<string, unknown> }[] } } };
    const layers = json.modelTopology.config.layers;
    layers[0]!.config['data_format'] = 'channels_first';
    layers[2]!.class_name = 'LSTM';
    layers[3]!.config['activation'] = 'gelu_approximate';
    let err: unknown;
    try {
      tfjsLayersFromMemory({ modelJson: json, weightData: fixture.weightData });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as Error).message).toMatch(/3 unsupported layer\(s\): Conv2D 'c' \(data_format 'channels_first'\), LSTM 'f', Dense 'd' \(activation 'gelu_approximate'\)/);
  });
});
