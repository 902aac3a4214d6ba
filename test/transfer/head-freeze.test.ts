import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../lib/errors.js';
import { loadOnnx } from '../../lib/io/onnx/model.js';
import { buildModel, modelNames } from '../../lib/models/index.js';
import { BatchNorm2d, Conv2d, Linear, ReLU, Sequential } from '../../lib/nn/layers/index.js';
import { SGD } from '../../lib/optim/sgd.js';
import { crossEntropy } from '../../lib/functional/loss.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { randn } from '../../lib/tensor/random.js';
import { backboneParamGroups, featureExtractor, findHead, freezeBackbone, replaceHead, unfreezeSchedule } from '../../lib/transfer/index.js';
import type { FitContext } from '../../lib/train/callbacks.js';

const EXPECTED: Record<string, string> = {
  lenet5: 'classifier', alexnet: 'classifier', zfnet: 'classifier', vgg11: 'classifier', vgg16: 'classifier',
  resnet18: 'fc', resnet34: 'fc', resnet50: 'fc', googlenet: 'fc', mobilenetV2: 'classifier', cifarNet: 'classifier',
};

describe('findHead / replaceHead on the zoo', () => {
  for (const name of modelNames()) {
    it(`${name}: finds the head and replaces it with a Linear of the same in-features`, () => {
      const model = buildModel(name, { numClasses: 7 });
      const head = findHead(model);
      expect(head.path === EXPECTED[name] || head.path.startsWith(`${EXPECTED[name]}.`)).toBe(true);
      expect(head.module).toBeInstanceOf(Linear);
      expect(head.outFeatures).toBe(7);
      const linear = replaceHead(model, 3);
      expect(model.getModule(head.path)).toBe(linear);
      expect(linear.inFeatures).toBe(head.inFeatures);
      expect(findHead(model).outFeatures).toBe(3);
      if (name === 'googlenet') expect((model.getModule('aux1.fc2') as Linear).outFeatures).toBe(3);
    });
  }

  it('runs a replaced MobileNetV2 head end to end', () => {
    const model = buildModel('mobilenetV2', { numClasses: 10 }).eval();
    replaceHead(model, 4);
    expect(model.forward(randn([1, 3, 32, 32])).shape).toEqual([1, 4]);
  });

  it('refuses a model without a head, and bad class counts', () => {
    const model = new Sequential(new Conv2d(3, 4, 3), new ReLU());
    expect(() => findHead(model)).toThrow(ArgumentError);
    expect(() => findHead(model)).toThrow(/no classifier head/);
    expect(() => replaceHead(buildModel('lenet5'), 0)).toThrow(ArgumentError);
  });
});

describe('findHead / replaceHead on an ONNX model', () => {
  it('finds the last Gemm parameter group and routes the graph through the new head', () => {
    const model = loadOnnx('test/fixtures/onnx/tiny.onnx');
    const head = findHead(model);
    expect(head).toMatchObject({ path: 'fc', inFeatures: 64, outFeatures: 3, kind: 'onnx' });
    const x = randn([2, 3, 8, 8]);
    const linear = replaceHead(model, 5);
    const y = model.forward(x) as Tensor;
    expect(y.shape).toEqual([2, 5]);
    // The new head's parameters are the model's, and gradients reach them.
    expect(model.stateDict().get('fc.weight')!.shape).toEqual([5, 64]);
    crossEntropy(y, new Int32Array([1, 4])).backward();
    expect(linear.weight.grad).not.toBeNull();
    // The head input (via an identity head fed to the graph) reproduces the output through the new head.
    const features = featureExtractor(model)(x);
    expect(features.shape).toEqual([2, 64]);
    const viaHead = linear.forward(features);
    const direct = model.forward(x) as Tensor;
    for (let i = 0; i < 10; i++) expect(viaHead.data[i]!).toBeCloseTo(direct.data[i]!, 4);
    // Replacing again reroutes to the newest head.
    replaceHead(model, 2);
    expect((model.forward(x) as Tensor).shape).toEqual([2, 2]);
  });
});

describe('freezeBackbone', () => {
  it('freezes everything but the head by default, and before `until` otherwise', () => {
    const model = buildModel('resnet18', { numClasses: 4 });
    const all = freezeBackbone(model);
    expect(all.trainable).toEqual(['fc.weight', 'fc.bias']);
    const until = freezeBackbone(model, { until: 'layer4' });
    expect(until.trainable.every((n) => n.startsWith('layer4.') || n.startsWith('fc.'))).toBe(true);
    expect(until.trainable.some((n) => n.startsWith('layer4.'))).toBe(true);
    expect(until.frozen.some((n) => n.startsWith('layer3.'))).toBe(true);
    expect(() => freezeBackbone(model, { until: 'layer9' })).toThrow(ArgumentError);
  });

  it('keeps frozen batch norm in eval mode through train(): running stats do not move in a training step', () => {
    const model = new Sequential(new Conv2d(3, 4, 3), new BatchNorm2d(4), new ReLU(), new Conv2d(4, 4, 3), new BatchNorm2d(4));
    const net = new Sequential(model, new Linear(4 * 4 * 4, 2));
    freezeBackbone(net, { until: '0.3' }); // first conv+bn frozen, second conv+bn trainable
    net.train();
    const bn1 = model.getModule('1') as BatchNorm2d;
    const bn2 = model.getModule('4') as BatchNorm2d;
    expect(bn1.training).toBe(false);
    expect(bn2.training).toBe(true);
    const mean1 = bn1.runningMean!.data.slice();
    const mean2 = bn2.runningMean!.data.slice();
    const opt = new SGD(net.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });
    const x = randn([4, 3, 8, 8]).mul(3).add(1);
    const logits = (net.getModule('1') as Linear).forward((model.forward(x) as Tensor).reshape([4, -1]));
    crossEntropy(logits, new Int32Array([0, 1, 0, 1])).backward();
    opt.step();
    expect(Array.from(bn1.runningMean!.data)).toEqual(Array.from(mean1));
    expect(Array.from(bn2.runningMean!.data)).not.toEqual(Array.from(mean2));
    // Extracting features (eval inside) leaves the requested modes as they were.
    featureExtractor(net, '0')(x);
    expect([bn1.training, bn2.training, net.training]).toEqual([false, true, true]);
    // Unfreezing brings it back under train().
    bn1.unfreeze();
    expect(bn1.training).toBe(true);
    net.eval();
    expect(bn1.training).toBe(false);
  });
});

describe('parameter groups and gradual unfreezing', () => {
  it('gives the backbone a lower learning rate', () => {
    const model = buildModel('resnet18', { numClasses: 4 });
    const groups = backboneParamGroups(model, { lr: 0.1 });
    const opt = new SGD(groups, { lr: 0.1 });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([expect.closeTo(0.01, 12), 0.1]);
    expect(opt.paramGroups[1]!.params).toEqual(model.getModule('fc').parameters());
    expect(opt.paramGroups[0]!.params.length + 2).toBe(model.parameters().length);
    expect(backboneParamGroups(model, { lr: 1, backboneLrScale: 0.5 })[0]!.lr).toBe(0.5);
  });

  it('unfreezes stage by stage at the given epochs and adds new params at the backbone lr', async () => {
    const model = buildModel('resnet18', { numClasses: 4 });
    freezeBackbone(model);
    const opt = new SGD(model.getModule('fc').parameters(), { lr: 0.1 });
    const cb = unfreezeSchedule({ stages: [{ epoch: 1, modules: 'layer4' }, { epoch: 2, modules: ['layer3'] }], lr: 0.01 });
    const ctx = { model, optimizer: opt, position: { epoch: 0, batch: 0 }, log: () => {} } as unknown as FitContext;
    await cb.onTrainBegin!(ctx);
    expect(model.getModule('layer4').parameters().every((p) => !p.requiresGrad)).toBe(true);
    await cb.onEpochEnd!(ctx, { epoch: 0 } as never);
    expect(model.getModule('layer4').parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(model.getModule('layer3').parameters().every((p) => !p.requiresGrad)).toBe(true);
    expect(opt.paramGroups).toHaveLength(2);
    expect(opt.paramGroups[1]!.lr).toBe(0.01);
    await cb.onEpochEnd!(ctx, { epoch: 1 } as never);
    expect(model.getModule('layer3').parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(cb.unfrozen).toEqual(['layer4', 'layer3']);
    // With backboneParamGroups, nothing is added.
    const m2 = buildModel('resnet18', { numClasses: 4 });
    freezeBackbone(m2);
    const opt2 = new SGD(backboneParamGroups(m2, { lr: 0.1 }), { lr: 0.1 });
    const cb2 = unfreezeSchedule({ stages: [{ epoch: 0, modules: 'layer4' }] });
    await cb2.onTrainBegin!({ model: m2, optimizer: opt2, position: { epoch: 0, batch: 0 }, log: () => {} } as unknown as FitContext);
    expect(opt2.paramGroups).toHaveLength(2);
    expect(m2.getModule('layer4').parameters().every((p) => p.requiresGrad)).toBe(true);
  });
});
