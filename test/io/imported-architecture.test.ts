// Imported graphs (OnnxModel, TfjsModel) as serialisable architectures: toJSON() holds the graph
// or topology without weight bytes, moduleFromJSON rebuilds the model with zero placeholders and
// loadStateDict fills them, so the rebuilt model computes exactly what the original does (the
// same float32 weights through the same ops: outputs are compared bit for bit). Replaced heads
// (replaceHead) travel in the architecture too, and convkit checkpoints of imported models load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { exportOnnx } from '../../lib/io/onnx/export.js';
import { loadOnnx, OnnxModel } from '../../lib/io/onnx/model.js';
import { decodeModel, encodeModel, int64 } from '../../lib/io/onnx/proto.js';
import { loadTfjsLayers, TfjsModel } from '../../lib/io/tfjs/index.js';
import { buildModel } from '../../lib/models/index.js';
import { moduleFromJSON, type Module, type ModuleJSON } from '../../lib/nn/module.js';
import { manualSeed, randn } from '../../lib/tensor/random.js';
import type { Tensor } from '../../lib/tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint } from '../../lib/train/checkpoint.js';
import { replaceHead } from '../../lib/transfer/head.js';
import { nsfwMobileNetV2 } from './tfjs-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'convkit-imported-arch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The architecture as it is stored in a checkpoint (through JSON text). */
function throughJson(model: Module): ModuleJSON {
  return JSON.parse(JSON.stringify(model.toJSON())) as ModuleJSON;
}

function rebuild(model: Module): Module {
  const copy = moduleFromJSON(throughJson(model));
  copy.loadStateDict(model.stateDict());
  return copy.eval();
}

function outputOf(model: Module, x: Tensor): number[] {
  return Array.from(noGrad(() => model.eval().forward(x) as Tensor).data);
}

function weightBytes(model: Module): number {
  let n = 0;
  for (const t of model.stateDict().values()) n += 4 * t.size;
  return n;
}

describe('OnnxModel architecture (toJSON / moduleFromJSON)', () => {
  it('round-trips the tiny PyTorch export bit for bit, without weight bytes in the JSON', () => {
    manualSeed(1);
    const model = loadOnnx('test/fixtures/onnx/tiny.onnx');
    const json = throughJson(model);
    expect(json.type).toBe('OnnxModel');
    expect(json.children).toBeUndefined();
    const copy = moduleFromJSON(json);
    expect(copy).toBeInstanceOf(OnnxModel);
    // Placeholders: the right names and shapes, all zero until the state dict is loaded.
    const shapes = (m: Module): [string, number[]][] => [...m.stateDict()].map(([k, t]) => [k, [...t.shape]]);
    expect(shapes(copy)).toEqual(shapes(model));
    expect([...copy.stateDict().values()].every((t) => t.data.every((v) => v === 0))).toBe(true);
    copy.loadStateDict(model.stateDict());
    const x = randn([2, 3, 8, 8]);
    expect(outputOf(copy, x)).toEqual(outputOf(model, x));
    // Rebuilding the rebuilt model gives the same architecture.
    expect(throughJson(copy)).toEqual(json);
  });

  it('refuses a state dict that lacks a stripped weight: the zero placeholders are never run by accident', () => {
    const model = loadOnnx('test/fixtures/onnx/tiny.onnx');
    const copy = moduleFromJSON(throughJson(model));
    const partial = new Map(model.stateDict());
    const [dropped] = partial.keys();
    partial.delete(dropped!);
    expect(() => copy.loadStateDict(partial)).toThrow(new RegExp(`missing.*${dropped!.replace(/[.]/g, '\\.')}`, 'i'));
  });

  it('keeps integer initializers (a Reshape shape) and Constant nodes in the architecture, and routes a MatMul ([in, out]) head', () => {
    manualSeed(9);
    const floats = (name: string, dims: number[]): object => ({ name, data_type: 1, dims, float_data: Array.from(randn(dims.length === 0 ? [1] : dims).data) });
    const graph = {
      node: [
        { op_type: 'Conv', input: ['x', 'conv.weight', 'conv.bias'], output: ['c'] },
        { op_type: 'Mul', input: ['c', 'scale'], output: ['m'] },
        { op_type: 'Constant', input: [], output: ['k'], attribute: [{ name: 'value', type: 4, t: { data_type: 1, dims: [1], float_data: [1.5] } }] },
        { op_type: 'Add', input: ['m', 'k'], output: ['a'] },
        { op_type: 'Reshape', input: ['a', 'shape'], output: ['r'] },
        { op_type: 'MatMul', input: ['r', 'head.weight'], output: ['mm'] },
        { op_type: 'Add', input: ['mm', 'head.bias'], output: ['y'] },
      ],
      initializer: [
        floats('conv.weight', [2, 1, 3, 3]),
        floats('conv.bias', [2]),
        floats('scale', []),
        { name: 'shape', data_type: 7, dims: [2], int64_data: [-1, 8] },
        floats('head.weight', [8, 3]),
        floats('head.bias', [3]),
      ],
      input: [{ name: 'x', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, { dim_value: 1 }, { dim_value: 4 }, { dim_value: 4 }] } } } }],
      output: [{ name: 'y', type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, { dim_value: 3 }] } } } }],
    };
    const model = loadOnnx(encodeModel({ ir_version: 7, opset_import: [{ domain: '', version: 13 }], graph }));
    expect([...model.stateDict().keys()].sort()).toEqual(['conv.bias', 'conv.weight', 'head.bias', 'head.weight', 'scale']);
    // The stored graph: float initializers without data, the int64 shape with its values.
    const stored = decodeModel(Buffer.from(model.toJSON().config['graph'] as string, 'base64'), 'test');
    const byName = new Map(stored.graph!.initializer.map((t) => [t.name, t]));
    expect(byName.get('shape')!.int64_data.map(int64)).toEqual([-1, 8]);
    for (const name of ['conv.weight', 'conv.bias', 'scale', 'head.weight', 'head.bias']) {
      const t = byName.get(name)!;
      expect([t.raw_data.length, t.float_data.length]).toEqual([0, 0]);
    }
    const x = randn([2, 1, 4, 4]);
    expect(outputOf(rebuild(model), x)).toEqual(outputOf(model, x));
    const linear = replaceHead(model, 5);
    expect(linear.weight.shape).toEqual([5, 8]);
    const y = outputOf(model, x);
    expect(y).toHaveLength(10);
    expect(outputOf(rebuild(model), x)).toEqual(y);
  });

  it('keeps a replaced head (and a second replacement) through the architecture', () => {
    manualSeed(2);
    const model = loadOnnx('test/fixtures/onnx/tiny.onnx');
    replaceHead(model, 5);
    const x = randn([2, 3, 8, 8]);
    const json = throughJson(model);
    expect((json.config['replaced'] as unknown as Record<string, ModuleJSON>)['fc']).toEqual({ type: 'Linear', config: { inFeatures: 64, outFeatures: 5, bias: true } });
    const copy = rebuild(model);
    expect(copy.stateDict().get('fc.weight')!.shape).toEqual([5, 64]);
    expect(outputOf(copy, x)).toEqual(outputOf(model, x));
    // The rebuilt head is the graph's head: changing its weights changes the output.
    const before = outputOf(copy, x);
    (copy.getModule('fc') as unknown as { weight: Tensor }).weight.data[0]! += 1;
    expect(outputOf(copy, x)).not.toEqual(before);
    replaceHead(model, 2);
    expect(outputOf(rebuild(model), x)).toEqual(outputOf(model, x));
    expect(outputOf(rebuild(model), x)).toHaveLength(4);
  });

  it('saves and loads a convkit checkpoint of an imported, head-replaced model', async () => {
    manualSeed(3);
    const model = loadOnnx('test/fixtures/onnx/tiny.onnx');
    replaceHead(model, 4);
    const file = await saveCheckpoint(join(root, 'tiny.safetensors'), { model, classes: ['a', 'b', 'c', 'd'] });
    const ckpt = await loadCheckpoint(file);
    expect(ckpt.model).toBeInstanceOf(OnnxModel);
    expect(ckpt.meta.classes).toEqual(['a', 'b', 'c', 'd']);
    const x = randn([2, 3, 8, 8]);
    expect(outputOf(ckpt.model, x)).toEqual(outputOf(model, x));
  });

  it('a ResNet-18 graph (convkit export, 11.7 M parameters) round-trips, and its JSON is far below its weight bytes', () => {
    manualSeed(4);
    const zoo = buildModel('resnet18', { numClasses: 10 }).eval();
    const { bytes } = exportOnnx(zoo, { inputShape: [3, 32, 32], verify: false });
    const model = loadOnnx(bytes);
    const text = JSON.stringify(model.toJSON());
    const weights = weightBytes(model);
    console.log(`ResNet-18 ONNX: architecture JSON ${text.length} bytes, weights ${weights} bytes`);
    expect(weights).toBeGreaterThan(40_000_000);
    expect(text.length).toBeLessThan(weights / 500);
    const x = randn([1, 3, 32, 32]);
    expect(outputOf(rebuild(model), x)).toEqual(outputOf(model, x));
  });
});

describe('TfjsModel architecture (toJSON / moduleFromJSON): nsfwjs MobileNetV2', () => {
  let model: TfjsModel;
  beforeAll(async () => {
    const fixture = await nsfwMobileNetV2();
    model = await loadTfjsLayers({ modelJson: fixture.modelJson, weightData: [fixture.weightData] });
  });

  it('round-trips bit for bit (dequantised float32 weights from the state dict), without weight bytes in the JSON', () => {
    manualSeed(5);
    const json = throughJson(model);
    expect(json.type).toBe('TfjsModel');
    const text = JSON.stringify(json);
    const weights = weightBytes(model);
    console.log(`nsfwjs MobileNetV2 TF.js: architecture JSON ${text.length} bytes, weights ${weights} bytes`);
    expect(text.length).toBeLessThan(weights / 20);
    const copy = moduleFromJSON(json);
    expect(copy).toBeInstanceOf(TfjsModel);
    expect([...copy.stateDict().keys()]).toEqual([...model.stateDict().keys()]);
    copy.loadStateDict(model.stateDict());
    const x = randn([1, 3, 224, 224]);
    expect(outputOf(copy, x)).toEqual(outputOf(model, x));
  });

  it('refuses a state dict that lacks a stripped weight', () => {
    const copy = moduleFromJSON(throughJson(model));
    const partial = new Map(model.stateDict());
    const dropped = [...partial.keys()][3]!;
    partial.delete(dropped);
    expect(() => copy.loadStateDict(partial)).toThrow(/missing/i);
  });

  it('keeps a replaced head through a checkpoint', async () => {
    manualSeed(6);
    replaceHead(model, 3);
    const x = randn([2, 3, 224, 224]);
    const expected = outputOf(model, x);
    expect(expected).toHaveLength(6);
    const file = await saveCheckpoint(join(root, 'nsfw.safetensors'), { model });
    const ckpt = await loadCheckpoint(file);
    expect(ckpt.model).toBeInstanceOf(TfjsModel);
    expect(ckpt.meta.architecture.config['replaced']).toEqual({ dense_3: { type: 'Linear', config: { inFeatures: 128, outFeatures: 3, bias: true } } });
    expect(outputOf(ckpt.model, x)).toEqual(expected);
  });
});
