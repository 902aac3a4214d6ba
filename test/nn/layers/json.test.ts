// toJSON -> moduleFromJSON round trip for every built-in layer, with non-default options: the rebuilt
// module has the same class, the same config, the same parameter and buffer names and shapes, and
// survives a JSON.stringify/parse (configs are plain JSON: no undefined, no typed arrays).
import { describe, expect, it } from 'vitest';
import * as layers from '../../../lib/nn/layers/index.js';
import { Module, moduleFromJSON, registeredModuleTypes, type ModuleJSON } from '../../../lib/nn/module.js';

const {
  AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d,
  AvgPool1d, AvgPool2d, AvgPool3d, BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv1d, Conv2d, Conv3d, Dropout, Dropout2d,
  Embedding, Flatten, GELU, Identity, LSTM, LeakyReLU, Linear, LocalResponseNorm, LogSoftmax, MaxPool1d, MaxPool2d,
  MaxPool3d, ReLU, ReLU6, Sequential, Sigmoid, Softmax, Tanh,
} = layers;

const examples: [string, () => Module][] = [
  ['Conv1d', () => new Conv1d(300, 100, 3, { padding: 1 })],
  ['Conv2d', () => new Conv2d(8, 16, [3, 5], { stride: [2, 1], padding: [1, 2], dilation: 2, groups: 4, bias: false })],
  ['Conv2d', () => new Conv2d(3, 6, 4, { padding: 'same' })],
  ['Conv3d', () => new Conv3d(3, 8, [3, 3, 3], { stride: [1, 2, 2], padding: 'valid' })],
  ['Linear', () => new Linear(12, 7, { bias: false })],
  ['MaxPool1d', () => new MaxPool1d(3, { stride: 2, padding: 1 })],
  ['MaxPool2d', () => new MaxPool2d(3, { stride: 2, padding: 1, dilation: 1, ceilMode: true })],
  ['MaxPool3d', () => new MaxPool3d([1, 2, 2])],
  ['AvgPool1d', () => new AvgPool1d(4, { countIncludePad: false })],
  ['AvgPool2d', () => new AvgPool2d(3, { stride: 1, padding: 1, ceilMode: true, divisorOverride: 5 })],
  ['AvgPool3d', () => new AvgPool3d(2, { stride: [1, 2, 2] })],
  ['AdaptiveAvgPool1d', () => new AdaptiveAvgPool1d(5)],
  ['AdaptiveAvgPool2d', () => new AdaptiveAvgPool2d([7, null])],
  ['AdaptiveAvgPool3d', () => new AdaptiveAvgPool3d([1, 1, 1])],
  ['AdaptiveMaxPool1d', () => new AdaptiveMaxPool1d(1)],
  ['AdaptiveMaxPool2d', () => new AdaptiveMaxPool2d(2)],
  ['AdaptiveMaxPool3d', () => new AdaptiveMaxPool3d([2, 3, 4])],
  ['ReLU', () => new ReLU()],
  ['LeakyReLU', () => new LeakyReLU({ negativeSlope: 0.2 })],
  ['ReLU6', () => new ReLU6()],
  ['Sigmoid', () => new Sigmoid()],
  ['Tanh', () => new Tanh()],
  ['GELU', () => new GELU({ approximate: 'tanh' })],
  ['Softmax', () => new Softmax({ dim: -1 })],
  ['LogSoftmax', () => new LogSoftmax({ dim: 1 })],
  ['Identity', () => new Identity()],
  ['BatchNorm1d', () => new BatchNorm1d(10, { momentum: null, eps: 1e-3 })],
  ['BatchNorm2d', () => new BatchNorm2d(64, { affine: false })],
  ['BatchNorm3d', () => new BatchNorm3d(4, { trackRunningStats: false, momentum: 0.01 })],
  ['LocalResponseNorm', () => new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 })],
  ['Dropout', () => new Dropout(0.3)],
  ['Dropout2d', () => new Dropout2d(0.2)],
  ['Flatten', () => new Flatten({ startDim: 0, endDim: 2 })],
  ['Embedding', () => new Embedding(100, 16, { paddingIdx: 0 })],
  ['Embedding', () => new Embedding(100, 16)],
  ['LSTM', () => new LSTM(10, 20, { numLayers: 2, bias: false, batchFirst: true, dropout: 0.25, bidirectional: true })],
  ['Sequential', () => new Sequential(new Conv2d(1, 6, 5), new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(6 * 12 * 12, 10))],
  ['Sequential', () => new Sequential(new Sequential(new Linear(4, 4), new Tanh()), new Sequential(), new Linear(4, 2))],
];

const shapes = (m: Module): [string, readonly number[]][] => [...m.stateDict()].map(([k, t]) => [k, t.shape]);

describe('toJSON / moduleFromJSON round trip', () => {
  it('every built-in layer class is registered under its PyTorch name', () => {
    const types = registeredModuleTypes();
    for (const [name, value] of Object.entries(layers)) {
      if (typeof value === 'function' && value.prototype instanceof Module) expect(types, name).toContain(name);
    }
    const covered = new Set(examples.map(([name]) => name));
    for (const [name, value] of Object.entries(layers)) {
      if (typeof value === 'function' && value.prototype instanceof Module) expect(covered.has(name), `example for ${name}`).toBe(true);
    }
  });

  for (const [name, make] of examples) {
    it(`${name}: ${make().describe()}`, () => {
      const m = make();
      const json = m.toJSON();
      expect(json.type).toBe(name);
      const text = JSON.stringify(json);
      const parsed = JSON.parse(text) as ModuleJSON;
      expect(parsed).toEqual(json); // plain JSON: nothing lost in a string round trip
      const rebuilt = moduleFromJSON(parsed);
      expect(rebuilt.constructor).toBe(m.constructor);
      expect(rebuilt.config()).toEqual(m.config());
      expect(JSON.stringify(rebuilt.toJSON())).toBe(text);
      expect(rebuilt.describe()).toBe(m.describe());
      expect(shapes(rebuilt)).toEqual(shapes(m));
      expect(rebuilt.namedParameters().map(([k]) => k)).toEqual(m.namedParameters().map(([k]) => k));
      // Weights are fresh but load back by name.
      rebuilt.loadStateDict(m.stateDict());
      for (const [k, t] of rebuilt.stateDict()) expect(t.data, k).toEqual(m.stateDict().get(k)!.data);
    });
  }

  it('a Sequential with a replaced child rebuilds the replacement', () => {
    const model = new Sequential(new Linear(8, 4), new ReLU(), new Linear(4, 3));
    model.setChild('2', new Sequential(new Dropout(0.1), new Linear(4, 5)));
    const rebuilt = moduleFromJSON(JSON.parse(JSON.stringify(model.toJSON())) as ModuleJSON) as InstanceType<typeof Sequential>;
    expect(rebuilt.at(2)).toBeInstanceOf(Sequential);
    expect([...rebuilt.stateDict().keys()]).toEqual(['0.weight', '0.bias', '2.1.weight', '2.1.bias']);
  });

  it('rejects a Sequential whose children are not numbered in order', () => {
    const json: ModuleJSON = { type: 'Sequential', config: {}, children: { a: new ReLU().toJSON() } };
    expect(() => moduleFromJSON(json)).toThrow("Sequential: children must be named '0', '1', ... in order, found 'a' at position 0");
  });
});
