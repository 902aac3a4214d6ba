// Losses through the public API: finite-difference gradient checks for every loss and option
// (inputs kept away from the smooth L1 kinks), PyTorch's edge cases (every target ignored, empty
// batches, unbatched input), and the errors, by exact text.
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, ShapeError, Tensor, gradcheck, rand, randn, tensor } from '../../lib/index.js';

function expectGradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradcheck(fn, inputs);
  expect(r.mismatches, `worst ${r.worst}`).toEqual([]);
  expect(r.ok).toBe(true);
}

/** Rows of probabilities (softmax of random logits) in a [n, c] tensor. */
function probabilities(n: number, c: number, seed: number): Tensor {
  return F.softmax(randn([n, c], { seed }), { dim: 1 });
}

describe('crossEntropy', () => {
  const w = tensor([0.5, 1, 2, 1.5, 0.75]);

  it('passes gradient checks for every option', () => {
    const x = randn([4, 5], { seed: 1 }).requiresGrad_();
    const t = tensor([0, 3, 1, 4]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expectGradcheck((a) => F.crossEntropy(a, t, { reduction }), [x]);
      expectGradcheck((a) => F.crossEntropy(a, [0, -100, 2, 4], { reduction, weight: w, labelSmoothing: 0.2 }), [x]);
    }
    expectGradcheck((a) => F.crossEntropy(a, Int32Array.of(1, 1, 2, 1), { ignoreIndex: 1, labelSmoothing: 0.1 }), [x]);
    // Spatial input with per-pixel targets.
    const xs = randn([2, 3, 2, 2], { seed: 2 }).requiresGrad_();
    const ts = tensor([[[0, 1], [2, -100]], [[1, 1], [0, 2]]]);
    expectGradcheck((a) => F.crossEntropy(a, ts, { weight: tensor([1, 2, 0.5]), labelSmoothing: 0.3 }), [xs]);
  });

  it('differentiates probability targets with respect to both arguments', () => {
    const x = randn([3, 4], { seed: 3 }).requiresGrad_();
    const p = probabilities(3, 4, 4).detach().requiresGrad_();
    expectGradcheck((a, b) => F.crossEntropy(a, b), [x, p]);
    expectGradcheck((a, b) => F.crossEntropy(a, b, { reduction: 'none', labelSmoothing: 0.25, weight: tensor([1, 2, 3, 4]) }), [x, p]);
  });

  it('uses the weights of the kept targets as the mean denominator', () => {
    const x = tensor([[2, 0, 0], [0, 2, 0], [0, 0, 2]]);
    const weight = tensor([1, 2, 4]);
    const none = F.crossEntropy(x, [0, 1, 2], { weight, reduction: 'none' });
    const nll = Math.log(2 + Math.exp(2)) - 2;
    expect([...none.data].map((v) => +v.toFixed(5))).toEqual([1, 2, 4].map((k) => +(k * nll).toFixed(5)));
    expect(F.crossEntropy(x, [0, 1, 2], { weight }).item()).toBeCloseTo(nll, 6); // (1 + 2 + 4) nll / 7
    expect(F.crossEntropy(x, [0, -100, 2], { weight }).item()).toBeCloseTo(nll, 6); // (1 + 4) nll / 5
    expect(F.crossEntropy(x, [0, 1, 2], { weight, reduction: 'sum' }).item()).toBeCloseTo(7 * nll, 5);
  });

  it('returns NaN for a mean over no targets, with a zero gradient (as PyTorch)', () => {
    const x = randn([3, 4], { seed: 5 }).requiresGrad_();
    const y = F.crossEntropy(x, [-100, -100, -100]);
    expect(Number.isNaN(y.item())).toBe(true);
    y.backward();
    expect([...x.grad!.data].every((v) => v === 0)).toBe(true);
    expect(F.crossEntropy(x, [-100, -100, -100], { reduction: 'sum' }).item()).toBe(0);
    expect(Number.isNaN(F.crossEntropy(new Tensor(new Float32Array(0), [0, 4]), []).item())).toBe(true);
  });

  it('accepts an unbatched [C] input with a 0-d target', () => {
    const x = tensor([1, 2, 3]);
    const y = F.crossEntropy(x, tensor(2), { reduction: 'none' });
    expect(y.shape).toEqual([]);
    expect(y.item()).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3, 6);
  });

  it('names an out-of-range class index and the number of classes', () => {
    const x = randn([3, 5], { seed: 6 });
    expect(() => F.crossEntropy(x, [0, 5, 1])).toThrow(ArgumentError);
    expect(() => F.crossEntropy(x, [0, 5, 1])).toThrow(
      'crossEntropy: class index 5 at target[1] is out of range for 5 classes (expected 0 to 4, or ignoreIndex -100)',
    );
    expect(() => F.crossEntropy(x, Int32Array.of(0, 1, -1))).toThrow(
      'crossEntropy: class index -1 at target[2] is out of range for 5 classes (expected 0 to 4, or ignoreIndex -100)',
    );
    const xs = randn([2, 3, 2, 2], { seed: 7 });
    const ts = tensor([[[0, 1], [2, 0]], [[1, 1], [7, 2]]]);
    expect(() => F.crossEntropy(xs, ts)).toThrow(
      'crossEntropy: class index 7 at target[1, 1, 0] is out of range for 3 classes (expected 0 to 2, or ignoreIndex -100)',
    );
    expect(() => F.crossEntropy(x, tensor([0, 1.5, 2]))).toThrow(
      'Expected an integer class index for target[1] of crossEntropy() but received 1.5 of type number',
    );
  });

  it('names both shapes when the target does not fit', () => {
    const x = randn([3, 5], { seed: 8 });
    expect(() => F.crossEntropy(x, randn([3, 4], { seed: 9 }))).toThrow(ShapeError);
    expect(() => F.crossEntropy(x, randn([3, 4], { seed: 9 }))).toThrow(
      'crossEntropy: target shape [3, 4] fits neither class indices (shape [3]) nor class probabilities (shape [3, 5]) for input shape [3, 5]',
    );
    expect(() => F.crossEntropy(x, [0, 1])).toThrow(
      'crossEntropy: target has 2 class indices but the input of shape [3, 5] has 3 positions',
    );
    expect(() => F.crossEntropy(x, [0, 1, 2], { weight: tensor([1, 2]) })).toThrow(
      'crossEntropy: weight must have shape [5] (one value per class), got [2]',
    );
    expect(() => F.crossEntropy(tensor(1), [0])).toThrow(
      'crossEntropy: the input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got shape []',
    );
  });

  it('validates its options', () => {
    const x = randn([2, 3], { seed: 10 });
    expect(() => F.crossEntropy(x, [0, 1], { reduction: 'avg' as never })).toThrow(
      "Expected 'mean', 'sum' or 'none' for reduction of crossEntropy() but received 'avg' of type string",
    );
    expect(() => F.crossEntropy(x, [0, 1], { labelSmoothing: 1.5 })).toThrow(
      'Expected a number in [0, 1] for labelSmoothing of crossEntropy() but received 1.5 of type number',
    );
    expect(() => F.crossEntropy(x, [0, 1], { ignoreIndex: 0.5 })).toThrow(
      'Expected a 32-bit integer for ignoreIndex of crossEntropy() but received 0.5 of type number',
    );
    expect(() => F.crossEntropy(x, [0, 1], { label_smoothing: 0.1 } as never)).toThrow(
      "crossEntropy: unknown option 'label_smoothing' (expected weight, ignoreIndex, reduction, labelSmoothing)",
    );
    expect(() => F.crossEntropy(x, probabilities(2, 3, 11), { ignoreIndex: 0 })).toThrow(
      'crossEntropy: ignoreIndex 0 is not supported with class-probability targets (as in PyTorch, only a negative ignoreIndex, which matches no class, is accepted)',
    );
    expect(() => F.crossEntropy(x, 'cat' as never)).toThrow(
      "Expected a Tensor, an Int32Array or an array of class indices for the target of crossEntropy() but received 'cat' of type string",
    );
  });
});

describe('nllLoss', () => {
  it('passes gradient checks and picks -weight[t] * input[t]', () => {
    const x = randn([4, 3], { seed: 12 }).requiresGrad_();
    const weight = tensor([1, 3, 0.5]);
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expectGradcheck((a) => F.nllLoss(a, [2, 0, -100, 1], { weight, reduction }), [x]);
    }
    const y = F.nllLoss(tensor([[-1, -2, -3]]), [1], { weight, reduction: 'none' });
    expect(y.item()).toBe(6);
  });

  it('reports an out-of-range target', () => {
    expect(() => F.nllLoss(randn([2, 3], { seed: 13 }), [3, 0], { ignoreIndex: 3 })).not.toThrow();
    expect(() => F.nllLoss(randn([2, 3], { seed: 13 }), [3, 0])).toThrow(
      'nllLoss: class index 3 at target[0] is out of range for 3 classes (expected 0 to 2, or ignoreIndex -100)',
    );
  });
});

describe('pointwise losses', () => {
  it('pass gradient checks for input and target', () => {
    const x = randn([3, 4], { seed: 14 }).requiresGrad_();
    const t = randn([3, 4], { seed: 15 }).requiresGrad_();
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      expectGradcheck((a, b) => F.mseLoss(a, b, { reduction }), [x, t]);
    }
    // Smooth L1: |x - t| kept away from beta (and from 0 for beta = 0).
    const xs = tensor([[0.1, 2.5, -1.7, 0.4], [3, -0.3, 0.8, -2.2]]).requiresGrad_();
    const ts = tensor([[0.7, 0.2, -0.2, -0.1], [1.5, 0.9, 0.3, 0.1]]).requiresGrad_();
    for (const beta of [1, 0.25, 0]) {
      expectGradcheck((a, b) => F.smoothL1Loss(a, b, { beta }), [xs, ts]);
    }
    const u = rand([3, 4], { seed: 16 }).requiresGrad_();
    expectGradcheck((a, b) => F.binaryCrossEntropyWithLogits(a, b), [x, u]);
    expectGradcheck(
      (a, b) => F.binaryCrossEntropyWithLogits(a, b, { weight: tensor([[1], [2], [0.5]]), posWeight: tensor([1, 3, 0.5, 2]), reduction: 'sum' }),
      [x, u],
    );
  });

  it('smooth L1 with beta 0 is the L1 loss', () => {
    const x = tensor([1, -2, 0.5]);
    const t = tensor([0, 0, 0.5]);
    expect(F.smoothL1Loss(x, t, { beta: 0, reduction: 'none' }).toArray()).toEqual([1, 2, 0]);
    expect(F.smoothL1Loss(x, t, { reduction: 'none' }).toArray()).toEqual([0.5, 1.5, 0]);
  });

  it('BCE with logits is finite for huge logits', () => {
    const y = F.binaryCrossEntropyWithLogits(tensor([100, -100, 0]), tensor([0, 1, 1]), { reduction: 'none' });
    expect(y.data[0]).toBe(100);
    expect(y.data[1]).toBe(100);
    expect(y.data[2]).toBeCloseTo(Math.log(2), 6);
  });

  it('name both shapes when they differ and check their options', () => {
    expect(() => F.mseLoss(randn([2, 3], { seed: 17 }), randn([3], { seed: 18 }))).toThrow(
      'mseLoss: input shape [2, 3] and target shape [3] differ',
    );
    expect(() => F.smoothL1Loss(tensor([1]), tensor([1]), { beta: -1 })).toThrow(
      'Expected a finite number >= 0 for beta of smoothL1Loss() but received -1 of type number',
    );
    expect(() => F.binaryCrossEntropyWithLogits(randn([2, 3], { seed: 19 }), rand([2, 3], { seed: 20 }), { posWeight: tensor([1, 2]) })).toThrow(
      'binaryCrossEntropyWithLogits: posWeight of shape [2] does not broadcast to the input shape [2, 3]',
    );
    expect(() => F.mseLoss(tensor([1]), [1] as never)).toThrow(
      'Expected a Tensor for the target of mseLoss() but received [1] of type array',
    );
    expect(() => F.mseLoss(tensor([]), tensor([])).item()).not.toThrow();
    expect(Number.isNaN(F.mseLoss(tensor([]), tensor([])).item())).toBe(true);
  });
});
