// The channel-blocked chains fuseForInference puts in a model (lib/inference/blocked/): the fused
// and blocked model against an untouched copy of itself (whose layers are checked against PyTorch
// elsewhere), at batch sizes other than the traced sample's, inside and outside a BufferArena.
// Tolerance: 1e-5 of the largest output magnitude for a few layers (folding and blocking
// reassociate float32 sums), 2e-4 through a whole MobileNetV2 or ResNet, whose batch norms are
// calibrated on a sample so that its activations keep their scale to the last layer (measured:
// 1.4e-5 to 4.4e-5); the tests check that their outputs depend on the input, so a wrong pixel shows.
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { ShapeError } from '../../lib/errors.js';
import { BlockedChain, compileModules } from '../../lib/inference/blocked/blocked-chain.js';
import { fuseForInference } from '../../lib/inference/fuse.js';
import * as models from '../../lib/models/index.js';
import { BatchNorm2d, Conv2d, MaxPool2d, ReLU6, Sequential } from '../../lib/nn/layers/index.js';
import { Module } from '../../lib/nn/module.js';
import { BufferArena } from '../../lib/tensor/buffer-arena.js';
import { randn } from '../../lib/tensor/random.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { copyOf, inputDependence, perturbBatchNorms, relErr } from './fusion-helpers.js';

/** Whole models: ~50 layers of float32 rounding on live activations. */
const DEEP_TOLERANCE = 2e-4;

const forward = (m: Module, x: Tensor): Tensor => noGrad(() => (m.forward as (t: Tensor) => Tensor)(x));

function convBnRelu6(inC: number, outC: number, kernel: number, stride = 1, groups = 1): Module[] {
  return [new Conv2d(inC, outC, kernel, { stride, padding: kernel >> 1, groups, bias: false }), new BatchNorm2d(outC), new ReLU6()];
}

class Wrapper extends Module {
  readonly body: Sequential;
  constructor(body: Sequential) {
    super();
    this.body = this.registerModule('body', body);
  }
  forward(x: Tensor): Tensor {
    return this.body.forward(x);
  }
}

describe('blocked inference chains', () => {
  it('MobileNetV2: features run as one blocked chain, outputs unchanged at other batch sizes and input sizes', () => {
    const model = models.mobilenetV2({ numClasses: 10 }).eval();
    perturbBatchNorms(model, randn([2, 3, 64, 80], { seed: 9 }));
    const reference = copyOf(model);
    const r = fuseForInference(model, randn([1, 3, 64, 80], { seed: 1 }));
    expect(r.blockedChains).toBe(1);
    expect(model.getModule('features')).toBeInstanceOf(BlockedChain);
    expect(model.getModule('features').describe()).toMatch(/52 convolutions in NCHW16c, 17 inverted residual blocks fused/);
    for (const shape of [[3, 3, 64, 80], [1, 3, 33, 47]]) {
      const x = randn(shape, { seed: 2 });
      const want = forward(reference, x);
      if (shape[0]! > 1) expect(inputDependence(want)).toBeGreaterThan(0.1);  // the comparison can see a wrong pixel
      expect(relErr(want, forward(model, x)), `input ${shape.join('x')}`).toBeLessThan(DEEP_TOLERANCE);
    }
  });

  it('ResNet-18 and ResNet-50: each stage a chain; small planes run blocked, large ones on the replaced stage', () => {
    for (const [name, chains, layer4In] of [['resnet18', 4, 256], ['resnet50', 4, 1024]] as const) {
      const model = models.buildModel(name, { numClasses: 10 }).eval();
      perturbBatchNorms(model, randn([2, 3, 40, 40], { seed: 14 }));
      const reference = copyOf(model);
      const r = fuseForInference(model, randn([1, 3, 40, 40], { seed: 11 }));
      expect(r.blockedChains, name).toBe(chains);
      const layer1 = model.getModule('layer1') as BlockedChain;
      expect(layer1).toBeInstanceOf(BlockedChain);
      // layer1's 3x3 layers see the input at 1/4 scale: 56x56 at 224 is past MAX_DENSE_POSITIONS.
      expect(layer1.runsBlocked([2, 64, 10, 10])).toBe(true);
      expect(layer1.runsBlocked([1, 64, 56, 56])).toBe(false);
      expect((model.getModule('layer4') as BlockedChain).runsBlocked([1, layer4In, 14, 14])).toBe(true);
      const x = randn([2, 3, 40, 40], { seed: 12 });
      const want = forward(reference, x);
      expect(inputDependence(want), name).toBeGreaterThan(0.1);
      expect(relErr(want, forward(model, x)), name).toBeLessThan(DEEP_TOLERANCE);
    }
    const model = models.resnet18({ numClasses: 10 }).eval();
    perturbBatchNorms(model, randn([2, 3, 64, 64], { seed: 15 }));
    const reference = copyOf(model);
    fuseForInference(model, randn([1, 3, 64, 64], { seed: 13 }));
    // 160x160: layer1 (40x40 x 2 images = 3,200 positions) on the plain path, the rest blocked.
    const x = randn([2, 3, 160, 160], { seed: 14 });
    expect((model.getModule('layer1') as BlockedChain).runsBlocked([2, 64, 40, 40])).toBe(false);
    expect((model.getModule('layer2') as BlockedChain).runsBlocked([2, 64, 40, 40])).toBe(true);
    expect(relErr(forward(reference, x), forward(model, x))).toBeLessThan(DEEP_TOLERANCE);
  });

  it('a wrong channel count is a ShapeError naming the layer, as on the plain path', () => {
    const model = models.mobilenetV2({ numClasses: 10, widthMult: 0.5 }).eval();
    expect(fuseForInference(model, randn([1, 3, 32, 32], { seed: 15 })).blockedChains).toBe(1);
    expect(() => forward(model, randn([1, 4, 32, 32], { seed: 16 }))).toThrow(ShapeError);
    expect(() => forward(model, randn([1, 4, 32, 32], { seed: 16 }))).toThrow(/conv2d: input \[1, 4, 32, 32\] has 4 channels/);
  });

  it('reuses buffers across arena runs without changing results', () => {
    const model = models.mobilenetV2({ numClasses: 10, widthMult: 0.5 }).eval();
    perturbBatchNorms(model, randn([2, 3, 40, 40], { seed: 5 }));
    const reference = copyOf(model);
    fuseForInference(model, randn([1, 3, 40, 40], { seed: 3 }));
    const arena = new BufferArena();
    const a = randn([2, 3, 40, 40], { seed: 4 });
    const b = randn([2, 3, 40, 40], { seed: 5 });
    const first = arena.run(() => forward(model, a)).data.slice();
    const second = arena.run(() => forward(model, b)).data.slice();
    const again = arena.run(() => forward(model, a)).data.slice();
    expect(Array.from(again)).toEqual(Array.from(first));
    expect(relErr(forward(reference, b), { data: second, shape: [2, 10], size: second.length } as unknown as Tensor)).toBeLessThan(DEEP_TOLERANCE);
  });

  it('MobileNetV2: the fused inverted residual blocks give bit for bit the output of their layers run one by one', () => {
    const model = models.mobilenetV2({ numClasses: 10 }).eval();
    perturbBatchNorms(model, randn([2, 3, 64, 64], { seed: 8 }));
    fuseForInference(model, randn([1, 3, 64, 64], { seed: 3 }));
    const chain = model.getModule('features') as BlockedChain;
    const steps = compileModules(chain.replaced.children(), { fuseBlocks: false });
    expect(steps).not.toBeNull();
    const unfused = new BlockedChain(steps!, chain.replaced, 'features');
    expect(unfused.describe()).not.toMatch(/fused/);
    // Batch 3 (each image's rows split over the threads) at an odd size, batch 4 at 112, and planes
    // down to 1x1, 2 rows high or 1 column wide.
    for (const shape of [[3, 3, 75, 61], [4, 3, 112, 112], [1, 3, 1, 1], [3, 3, 2, 300], [1, 3, 700, 9]]) {
      const x = randn(shape, { seed: 4 });
      const got = forward(chain, x);
      expect(Array.from(got.data), `input ${shape.join('x')}`).toEqual(Array.from(forward(unfused, x).data));
      expect(got.data.some((v) => v !== 0)).toBe(true);
    }
  });

  it('a batch whose early activations overflow the cache runs its leading steps in sub-batches, results unchanged', () => {
    const model = models.mobilenetV2({ numClasses: 10 }).eval();
    perturbBatchNorms(model, randn([2, 3, 64, 64], { seed: 10 }));
    const reference = copyOf(model);
    fuseForInference(model, randn([1, 3, 64, 64], { seed: 6 }));
    const chain = model.getModule('features') as BlockedChain;
    // At 224, 96 x 112 x 112 floats (4.8 MB) per image: sub-batches of 4 to the first 28x28 output
    // (the stem and 4 blocks).
    expect(chain.subBatches([10, 3, 224, 224])).toEqual({ steps: 5, size: 4 });
    expect(chain.subBatches([4, 3, 224, 224])).toBeNull();  // the whole batch fits
    expect(chain.subBatches([256, 3, 32, 32])).toBeNull();  // small planes: calls would cost more
    const x = randn([10, 3, 224, 224], { seed: 7 });
    const arena = new BufferArena();
    const features = arena.run(() => forward(chain, x));
    expect(Array.from(arena.run(() => forward(chain, x)).data)).toEqual(Array.from(features.data));
    // Sub-batches of 4, 4 and 2 images against each image alone (a batch of 1 has no sub-batches):
    // the kernels sum each output in the same order whatever the batch, so bit for bit.
    const per = 3 * 224 * 224;
    const out = 1280 * 7 * 7;
    for (let i = 0; i < 10; i++) {
      const alone = forward(chain, new Tensor(x.data.slice(i * per, (i + 1) * per), [1, 3, 224, 224]));
      expect(Array.from(alone.data), `image ${i}`).toEqual(Array.from(features.data.subarray(i * out, (i + 1) * out)));
    }
    expect(relErr(forward(reference, x), forward(model, x))).toBeLessThan(DEEP_TOLERANCE);
  });

  it('a chain whose input has more than 4 channels starts with a reorder; strided, depthwise and 3x3 layers', () => {
    const body = new Sequential(
      ...convBnRelu6(8, 24, 3, 2),
      ...convBnRelu6(24, 24, 3, 1, 24),
      ...convBnRelu6(24, 40, 1),
      ...convBnRelu6(40, 40, 5, 2, 40),
      ...convBnRelu6(40, 20, 3),
    );
    const model = new Wrapper(body).eval();
    perturbBatchNorms(model);
    const x = randn([2, 8, 19, 23], { seed: 7 });
    const want = forward(model, x);
    expect(fuseForInference(model, randn([1, 8, 19, 23], { seed: 6 })).blockedChains).toBe(1);
    expect(relErr(want, forward(model, x))).toBeLessThan(1e-5);
  });

  it('leaves a sequence with a layer that has no blocked form on its plain path', () => {
    const body = new Sequential(...convBnRelu6(3, 16, 3), ...convBnRelu6(16, 16, 3), new MaxPool2d(2), ...convBnRelu6(16, 16, 3));
    const model = new Wrapper(body).eval();
    const r = fuseForInference(model, randn([1, 3, 16, 16], { seed: 8 }));
    expect(r.fused).toBe(3);
    expect(r.blockedChains).toBe(0);
    expect(model.getModule('body')).toBeInstanceOf(Sequential);
  });

  it('leaves a sequence of fewer than three convolutions plain', () => {
    const model = new Wrapper(new Sequential(...convBnRelu6(3, 16, 3), ...convBnRelu6(16, 16, 3))).eval();
    expect(fuseForInference(model, randn([1, 3, 16, 16], { seed: 9 })).blockedChains).toBe(0);
  });
});
