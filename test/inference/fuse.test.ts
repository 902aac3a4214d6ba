// Inference-time fusion (lib/inference/fuse.ts): conv + batch norm (+ ReLU/ReLU6) folded on a traced
// sample. Reference: the same model unfused (the batch norms carry non-trivial running statistics
// and affine parameters so a wrong fold shows). Tolerance: 1e-5 of the largest output magnitude
// (the fold reassociates float32 products).
import { describe, expect, it } from 'vitest';
import * as F from '../../lib/functional/index.js';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { fuseForInference } from '../../lib/inference/fuse.js';
import * as models from '../../lib/models/index.js';
import { BatchNorm2d, Conv2d, ReLU } from '../../lib/nn/layers/index.js';
import { Module } from '../../lib/nn/module.js';
import { randn } from '../../lib/tensor/random.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { copyOf, inputDependence, perturbBatchNorms, relErr } from './fusion-helpers.js';

describe('fuseForInference', () => {
  it.each([
    ['resnet18', {}, [3, 48, 48], 20, 4],
    ['mobilenetV2', { widthMult: 0.5 }, [3, 48, 48], 52, 1],
    ['googlenet', { auxLogits: false }, [3, 48, 48], 57, 0],
    ['lenet5', {}, [1, 28, 28], 3, 0],
  ] as const)('%s: every conv+bn(+act) fused, outputs unchanged at another batch', (name, options, shape, count, blockedChains) => {
    const model = models.buildModel(name, options as Record<string, unknown>).eval();
    perturbBatchNorms(model, randn([2, ...shape], { seed: 21 }));
    const reference = copyOf(model);
    const r = fuseForInference(model, randn([1, ...shape]));
    expect(r).toEqual({ fused: count, reverted: false, blockedChains });
    expect(model.modules().filter((m) => m instanceof BatchNorm2d)).toHaveLength(0);
    const x = randn([3, ...shape]);
    const want = noGrad(() => (reference.forward as (t: Tensor) => Tensor)(x));
    expect(inputDependence(want)).toBeGreaterThan(0.1);  // the comparison below can see a wrong pixel
    const got = noGrad(() => (model.forward as (t: Tensor) => Tensor)(x));
    expect(relErr(want, got)).toBeLessThan(1e-5);
  });

  it('undoes everything when an op outside modules also reads the pre-activation tensor', () => {
    // conv → bn → relu, but forward also adds the conv's raw output: invisible to the trace.
    class Sneaky extends Module {
      readonly conv = this.registerModule('conv', new Conv2d(3, 4, 3, { padding: 1 }));
      readonly bn = this.registerModule('bn', new BatchNorm2d(4));
      readonly relu = this.registerModule('relu', new ReLU());
      forward(x: Tensor): Tensor {
        const c = this.conv.forward(x);
        return F.add(this.relu.forward(this.bn.forward(c)), c);
      }
    }
    const model = new Sneaky().eval();
    perturbBatchNorms(model);
    const x = randn([2, 3, 8, 8]);
    const before = noGrad(() => model.forward(x)).data.slice();
    const r = fuseForInference(model, randn([1, 3, 8, 8]));
    expect(r).toEqual({ fused: 0, reverted: true, blockedChains: 0 });
    expect(model.conv).toBeInstanceOf(Conv2d);
    expect(model.getModule('conv')).toBeInstanceOf(Conv2d);
    expect(model.getModule('bn')).toBeInstanceOf(BatchNorm2d);
    expect(Array.from(noGrad(() => model.forward(x)).data)).toEqual(Array.from(before));
  });
});
