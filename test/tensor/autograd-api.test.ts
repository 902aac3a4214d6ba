/**
 * The differentiable surface of the tensor library that the golden and gradcheck suites do not pin
 * down: creation with `{ requiresGrad }`, the unary ops and expand (values, edge cases, errors), the
 * tie and NaN rules of max's gradient, and the new root exports.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../lib/index.js';
import {
  ArgumentError, ShapeError, Tensor, arange, describeValue, expand, full, max, mean, ones, pow, rand, randn, sum, tensor,
  zeros,
} from '../../lib/index.js';

function grad(t: Tensor): number[] {
  expect(t.grad).not.toBeNull();
  return [...(t.grad as Tensor).data];
}

describe('creating tensors that require grad', () => {
  it('every creation function takes { requiresGrad } and keeps its old signatures', () => {
    expect(tensor([1, 2], { requiresGrad: true }).requiresGrad).toBe(true);
    const shaped = tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
    expect(shaped.shape).toEqual([2, 2]);
    expect(shaped.requiresGrad).toBe(true);
    expect(tensor([1, 2], [2]).requiresGrad).toBe(false);
    expect(zeros([2, 3], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(zeros(2, 3).shape).toEqual([2, 3]);
    expect(ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(full([2], 7, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(arange(3, { requiresGrad: true }).requiresGrad).toBe(true);
    expect(arange(1, 3, { requiresGrad: true }).toArray()).toEqual([1, 2]);
    expect(arange(0, 6, 2, { requiresGrad: true }).toArray()).toEqual([0, 2, 4]);
    expect(rand([2], { seed: 1, requiresGrad: true }).requiresGrad).toBe(true);
    expect(randn([2], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(randn([2], { seed: 3 }).requiresGrad).toBe(false);
  });

  it('a bad requiresGrad is an ArgumentError', () => {
    expect(() => zeros([2], { requiresGrad: 'yes' as never })).toThrow(ArgumentError);
    expect(() => zeros([2], { requiresGrad: 'yes' as never })).toThrow(
      "Expected a boolean for requiresGrad of zeros() but received 'yes' of type string",
    );
    expect(() => tensor([1], { requiresGrad: 1 as never })).toThrow(
      'Expected a boolean for requiresGrad of tensor() but received 1 of type number',
    );
  });
});

describe('unary ops', () => {
  it('values', () => {
    const x = tensor([-2, -0.5, 0, 1, 4]);
    expect(x.neg().toArray()).toEqual([2, 0.5, -0, -1, -4]);
    expect(x.abs().toArray()).toEqual([2, 0.5, 0, 1, 4]);
    expect(x.exp().toArray()).toEqual([...[-2, -0.5, 0, 1, 4].map((v) => Math.fround(Math.exp(v)))]);
    expect(tensor([0, 1, -1]).log().toArray()).toEqual([-Infinity, 0, NaN]);
    expect(tensor([4, 0, -1]).sqrt().toArray()).toEqual([2, 0, NaN]);
    expect(pow(x, 2).toArray()).toEqual([4, 0.25, 0, 1, 16]);
    expect(pow(tensor([-8, 4]), 0.5).toArray()).toEqual([NaN, 2]);
    expect(pow(x, 0).toArray()).toEqual([1, 1, 1, 1, 1]);
  });

  it("PyTorch's gradients at the edges: abs at 0, sqrt at 0, pow with exponent 0", () => {
    const a = tensor([-1, 0, 2]).requiresGrad_();
    sum(a.abs()).backward();
    expect(grad(a)).toEqual([-1, 0, 1]);
    const s = tensor([0, 4]).requiresGrad_();
    sum(s.sqrt()).backward();
    expect(grad(s)).toEqual([Infinity, 0.25]);
    const p = tensor([0, 3]).requiresGrad_();
    sum(p.pow(0)).backward();
    expect(grad(p)).toEqual([0, 0]);
    const q = tensor([0, 3]).requiresGrad_();
    sum(q.pow(2)).backward();
    expect(grad(q)).toEqual([0, 6]);
  });

  it('errors', () => {
    expect(() => pow(tensor([1]), tensor([2]) as never)).toThrow(
      'Expected a number for the exponent of pow() but received an object of type Tensor',
    );
    expect(() => ck.exp([1, 2] as never)).toThrow(`Expected a Tensor for the input of exp() but received ${describeValue([1, 2])}`);
  });
});

describe('expand', () => {
  it('broadcasts (a copy), adds leading dims, keeps -1 dims', () => {
    const x = tensor([[1], [2]]);
    expect(x.expand(2, 3).toArray()).toEqual([[1, 1, 1], [2, 2, 2]]);
    expect(expand(x, [2, 2, -1]).toArray()).toEqual([[[1], [2]], [[1], [2]]]);
    expect(expand(tensor(5), [3]).toArray()).toEqual([5, 5, 5]);
    expect(expand(x, [0, 2, 4]).shape).toEqual([0, 2, 4]);
    const long = arange(40).reshape(1, 40);
    expect(long.expand(3, 40).toArray()).toEqual([long.toArray(), long.toArray(), long.toArray()].map((r) => (r as number[][])[0]));
  });

  it('backward sums over the broadcast dimensions', () => {
    const x = tensor([[1], [2]]).requiresGrad_();
    x.expand(3, 2, 4).backward(ones([3, 2, 4]));
    expect(grad(x)).toEqual([12, 12]);
  });

  it('errors', () => {
    expect(() => expand(zeros([2, 3]), [4, 3])).toThrow(ShapeError);
    expect(() => expand(zeros([2, 3]), [4, 3])).toThrow(
      'expand: cannot expand shape [2, 3] to [4, 3] (dimension 0 has size 2, which is not 1 and differs from 4)',
    );
    expect(() => expand(zeros([2, 3]), [3])).toThrow(
      "expand: the target shape [3] has fewer dimensions than the tensor's shape [2, 3]",
    );
    expect(() => expand(zeros([3]), [-1, 3])).toThrow(
      'expand: -1 is not allowed for the new leading dimension 0 in [-1, 3]',
    );
    expect(() => expand(zeros([3]), [-2, 3])).toThrow('expand: invalid shape [-2, 3]: dimensions must be non-negative integers, or -1 once');
  });
});

describe('max gradient', () => {
  it('ties share the gradient evenly (torch.amax)', () => {
    const x = tensor([[1, 3, 3], [2, 2, 2]]).requiresGrad_();
    max(x, 1).backward(tensor([1, 1]));
    expect(grad(x)).toEqual([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3].map(Math.fround));
    const y = tensor([[1, 3, 3], [2, 2, 2]]).requiresGrad_();
    max(y).backward();
    expect(grad(y)).toEqual([0, 0.5, 0.5, 0, 0, 0]);
    const z = tensor([[1, 5], [5, 0]]).requiresGrad_();
    max(z, 0, { keepdim: true }).backward(tensor([[2, 4]]));
    expect(grad(z)).toEqual([0, 4, 2, 0]);
  });

  it('a slice whose max is NaN gets NaN gradients, as in PyTorch', () => {
    const x = tensor([[1, NaN, 2], [0, 1, 2]]).requiresGrad_();
    max(x, 1).backward(tensor([1, 1]));
    expect(grad(x)).toEqual([NaN, NaN, NaN, 0, 0, 1]);
  });
});

describe('reductions, clone and T', () => {
  it('mean of an axis divides by the reduced count; sum gives ones', () => {
    const x = zeros([2, 3, 4], { requiresGrad: true });
    mean(x, [0, 2]).backward(tensor([1, 2, 3]));
    expect(grad(x).slice(0, 8)).toEqual([1, 1, 1, 1, 2, 2, 2, 2].map((v) => Math.fround(v / 8)));
    const y = zeros([2, 3], { requiresGrad: true });
    sum(y, 1, { keepdim: true }).backward(tensor([[1], [2]]));
    expect(grad(y)).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('clone and T are recorded', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).requiresGrad_();
    const c = x.clone();
    expect(c.gradFn?.name).toBe('clone');
    const t = x.T;
    expect(t.gradFn?.name).toBe('permute');
    t.backward(tensor([[1, 2], [3, 4], [5, 6]]));
    expect(grad(x)).toEqual([1, 3, 5, 2, 4, 6]);
  });
});

describe('package root', () => {
  it('exports the new ops', () => {
    for (const name of ['expand', 'cat', 'split', 'neg', 'abs', 'exp', 'log', 'sqrt', 'pow']) {
      expect(typeof (ck as Record<string, unknown>)[name], name).toBe('function');
    }
    for (const name of ['linear', 'flatten', 'cat', 'split', 'add', 'pad', 'embedding']) {
      expect(typeof (ck.F as Record<string, unknown>)[name], `F.${name}`).toBe('function');
    }
  });
});
