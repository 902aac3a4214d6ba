/**
 * F.linear, F.flatten, F.cat, F.split, F.add, F.pad and F.embedding: behaviour on small hand-checked
 * inputs, edge cases, and every error with its exact text. Values against PyTorch are in
 * tensor-ops-golden.test.ts, gradients against finite differences in test/autograd/ops.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, ConvkitError, F, ShapeError, Tensor, arange, describeValue, ones, randn, sum, tensor, zeros,
} from '../../lib/index.js';

function expectError(fn: () => unknown, cls: typeof ShapeError | typeof ArgumentError, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(ConvkitError);
  expect((caught as Error).message).toBe(message);
}

describe('F.linear', () => {
  it('computes input @ weight^T + bias over any leading dimensions', () => {
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const w = tensor([[1, 0], [0, 1], [1, 1]]);
    const b = tensor([10, 20, 30]);
    expect(F.linear(x, w, b).toArray()).toEqual([[11, 22, 33], [13, 24, 37], [15, 26, 41]]);
    expect(F.linear(x, w).toArray()).toEqual([[1, 2, 3], [3, 4, 7], [5, 6, 11]]);
    expect(F.linear(x.reshape(3, 1, 2), w, null).shape).toEqual([3, 1, 3]);
    expect(F.linear(tensor([1, 2]), w, b).toArray()).toEqual([11, 22, 33]);
  });

  it('handles empty batches and zero features', () => {
    const y = F.linear(zeros([0, 4]), ones([3, 4]), ones([3]));
    expect(y.shape).toEqual([0, 3]);
    expect(F.linear(zeros([2, 0]), zeros([3, 0]), tensor([1, 2, 3])).toArray()).toEqual([[1, 2, 3], [1, 2, 3]]);
    const x = zeros([2, 0]).requiresGrad_();
    const w = zeros([3, 0]).requiresGrad_();
    const b = zeros([3]).requiresGrad_();
    sum(F.linear(x, w, b)).backward();
    expect([...(b.grad as Tensor).data]).toEqual([2, 2, 2]);
    expect(w.grad?.shape).toEqual([3, 0]);
  });

  it('gradients add up over the batch (shared weights)', () => {
    const x = tensor([[1, 2], [3, 4]]);
    const w = zeros([1, 2]).requiresGrad_();
    const b = zeros([1]).requiresGrad_();
    sum(F.linear(x, w, b)).backward();
    expect([...(w.grad as Tensor).data]).toEqual([4, 6]);
    expect([...(b.grad as Tensor).data]).toEqual([2]);
  });

  it('errors name the shapes', () => {
    expectError(() => F.linear(zeros([2, 5]), zeros([3, 4])), ShapeError,
      'linear: input of shape [2, 5] does not fit weight of shape [3, 4] (the input\'s last dimension must be inFeatures = 4)');
    expectError(() => F.linear(zeros([2, 4]), zeros([4])), ShapeError,
      'linear: weight must be 2-d [outFeatures, inFeatures], received shape [4]');
    expectError(() => F.linear(zeros([2, 4]), zeros([3, 4]), zeros([4])), ShapeError,
      'linear: bias of shape [4] does not fit weight of shape [3, 4] (expected [3])');
    expectError(() => F.linear(zeros([2, 4]), zeros([3, 4]), [1, 2, 3] as never), ArgumentError,
      `Expected a Tensor or null for the bias of linear() but received ${describeValue([1, 2, 3])}`);
  });
});

describe('F.flatten', () => {
  it("defaults to torch.flatten's startDim 0 and shares the buffer", () => {
    const x = zeros([2, 3, 4]);
    expect(F.flatten(x).shape).toEqual([24]);
    expect(F.flatten(x, { startDim: 1 }).shape).toEqual([2, 12]);
    expect(F.flatten(x, { startDim: 0, endDim: 1 }).shape).toEqual([6, 4]);
    expect(F.flatten(x).data).toBe(x.data);
  });
});

describe('F.add', () => {
  it('adds with broadcasting', () => {
    expect(F.add(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray()).toEqual([[11, 22], [13, 24]]);
    expect(F.add(tensor([1, 2]), 1).toArray()).toEqual([2, 3]);
  });
});

describe('F.cat', () => {
  it('joins along any dimension', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const b = tensor([[5, 6]]);
    expect(F.cat([a, b]).toArray()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(F.cat([a, b.reshape(2, 1)], { dim: 1 }).toArray()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(F.cat([a, b.reshape(2, 1)], { dim: -1 }).toArray()).toEqual([[1, 2, 5], [3, 4, 6]]);
    expect(F.cat([a]).data).not.toBe(a.data); // always a new tensor
    expect(F.cat([zeros([0, 2]), a]).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('errors', () => {
    expectError(() => F.cat([zeros([2, 3]), zeros([2, 4])]), ShapeError,
      'cat: tensors must have the same shape except in dimension 0, but tensor 0 has shape [2, 3] and tensor 1 has shape [2, 4]');
    expectError(() => F.cat([zeros([2, 3]), zeros([2, 4]), zeros([3])], { dim: 1 }), ShapeError,
      'cat: tensors must have the same shape except in dimension 1, but tensor 0 has shape [2, 3] and tensor 2 has shape [3]');
    expectError(() => F.cat([]), ArgumentError, 'cat: expected a non-empty array of tensors');
    expectError(() => F.cat([tensor(1), tensor(2)]), ShapeError, 'cat: zero-dimensional tensor 0 cannot be concatenated');
    expectError(() => F.cat([zeros([2, 3])], { dim: 2 }), ShapeError,
      'cat: dim 2 is out of range for a tensor of rank 2 (expected -2..1)');
    expectError(() => F.cat([zeros([2]), 3 as never]), ArgumentError,
      'Expected a Tensor for tensor 1 of cat() but received 3 of type number');
  });
});

describe('F.split', () => {
  it('splits by size (last piece smaller) and by sections, along any dimension', () => {
    const x = arange(10).reshape(2, 5);
    expect(F.split(x, 2, { dim: 1 }).map((t) => t.toArray())).toEqual([[[0, 1], [5, 6]], [[2, 3], [7, 8]], [[4], [9]]]);
    expect(F.split(x, [1, 1]).map((t) => t.toArray())).toEqual([[[0, 1, 2, 3, 4]], [[5, 6, 7, 8, 9]]]);
    expect(F.split(x, [3, 0, 2], { dim: -1 }).map((t) => t.shape)).toEqual([[2, 3], [2, 0], [2, 2]]);
    expect(F.split(x, 5, { dim: 1 }).length).toBe(1);
    expect(F.split(zeros([0, 3]), 2).map((t) => t.shape)).toEqual([[0, 3]]);
  });

  it('pieces along dim 0 share the input buffer, like PyTorch views', () => {
    const x = arange(6).reshape(3, 2);
    const [a, b] = F.split(x, [1, 2]);
    x.data[2] = 42;
    expect(b?.toArray()).toEqual([[42, 3], [4, 5]]);
    expect(a?.toArray()).toEqual([[0, 1]]);
  });

  it('the gradient of an unused piece is zero', () => {
    const x = arange(6).reshape(3, 2).requiresGrad_();
    const [, b] = F.split(x, [1, 2]);
    sum(b as Tensor).backward();
    expect((x.grad as Tensor).toArray()).toEqual([[0, 0], [1, 1], [1, 1]]);
  });

  it('errors', () => {
    expectError(() => F.split(zeros([5, 2]), [2, 2]), ShapeError,
      'split: split sizes [2, 2] add up to 4 but dimension 0 of the tensor (shape [5, 2]) has size 5');
    expectError(() => F.split(zeros([5, 2]), 0), ArgumentError,
      'Expected a positive integer for the split size of split() but received 0 of type number');
    expectError(() => F.split(zeros([5, 2]), [2, -1, 4]), ArgumentError,
      'Expected a non-negative integer for split size 1 of split() but received -1 of type number');
    expectError(() => F.split(tensor(1), 1), ShapeError, 'split: a zero-dimensional tensor cannot be split');
    expectError(() => F.split(zeros([5, 2]), 1, { dim: 2 }), ShapeError,
      'split: dim 2 is out of range for a tensor of rank 2 (expected -2..1)');
  });
});

describe('F.pad', () => {
  const x = arange(1, 7).reshape(2, 3); // [[1, 2, 3], [4, 5, 6]]

  it('constant: pads the last dims first, crops with negative amounts, any number of dims', () => {
    expect(F.pad(x, [1, 2]).toArray()).toEqual([[0, 1, 2, 3, 0, 0], [0, 4, 5, 6, 0, 0]]);
    expect(F.pad(x, [0, 0, 1, 0], { value: -1 }).toArray()).toEqual([[-1, -1, -1], [1, 2, 3], [4, 5, 6]]);
    expect(F.pad(x, [-1, 1, 0, -1]).toArray()).toEqual([[2, 3, 0]]);
    expect(F.pad(tensor([1, 2]), [1, 1], { value: NaN }).toArray()).toEqual([NaN, 1, 2, NaN]);
    expect(F.pad(arange(4).reshape(1, 2, 2), [0, 0, 0, 0, 1, 0]).shape).toEqual([2, 2, 2]);
    expect(F.pad(x, []).toArray()).toEqual(x.toArray());
    expect(F.pad(x, [-3, 0]).shape).toEqual([2, 0]);
  });

  it('reflect and replicate', () => {
    expect(F.pad(x, [2, 1], { mode: 'reflect' }).toArray()).toEqual([[3, 2, 1, 2, 3, 2], [6, 5, 4, 5, 6, 5]]);
    expect(F.pad(x, [1, 1, 1, 1], { mode: 'reflect' }).toArray()).toEqual([
      [5, 4, 5, 6, 5], [2, 1, 2, 3, 2], [5, 4, 5, 6, 5], [2, 1, 2, 3, 2],
    ]);
    expect(F.pad(x, [2, 1], { mode: 'replicate' }).toArray()).toEqual([[1, 1, 1, 2, 3, 3], [4, 4, 4, 5, 6, 6]]);
    expect(F.pad(x, [0, 0, 1, 0], { mode: 'replicate' }).toArray()).toEqual([[1, 2, 3], [1, 2, 3], [4, 5, 6]]);
    expect(F.pad(x, [-1, 2], { mode: 'replicate' }).toArray()).toEqual([[2, 3, 3, 3], [5, 6, 6, 6]]);
  });

  it('reflect backward adds the mirrored positions', () => {
    const t = tensor([1, 2, 3]).requiresGrad_();
    sum(F.pad(t.reshape(1, 3), [2, 2], { mode: 'reflect' })).backward(); // 3 2 [1 2 3] 2 1
    expect([...(t.grad as Tensor).data]).toEqual([2, 3, 2]);
  });

  it('errors', () => {
    expectError(() => F.pad(x, [1, 1, 1]), ArgumentError,
      'pad: the pad list [1, 1, 1] has odd length 3; it needs a (before, after) pair per padded dimension, last dimension first');
    expectError(() => F.pad(x, [1, 1, 1, 1, 1, 1]), ShapeError,
      'pad: the pad list [1, 1, 1, 1, 1, 1] pads 3 dimensions but the input has 2 (shape [2, 3])');
    expectError(() => F.pad(x, [-2, -2]), ShapeError,
      'pad: padding (-2, -2) of dimension 1 (size 3) gives a negative size -1 (input shape [2, 3])');
    expectError(() => F.pad(x, [3, 0], { mode: 'reflect' }), ShapeError,
      'pad: reflect padding (3, 0) of dimension 1 must be less than its size 3 (input shape [2, 3])');
    expectError(() => F.pad(zeros([2, 0]), [1, 0], { mode: 'replicate' }), ShapeError,
      'pad: replicate padding (1, 0) of dimension 1 needs a non-empty dimension (input shape [2, 0])');
    expectError(() => F.pad(zeros([1, 1, 1, 1, 1]), [1, 1, 1, 1, 1, 1, 1, 1], { mode: 'replicate' }), ArgumentError,
      "pad: mode 'replicate' pads the last 1, 2 or 3 dimensions (a pad list of 2, 4 or 6 entries), received 8 entries");
    expectError(() => F.pad(x, [1, 1], { mode: 'reflect', value: 0 }), ArgumentError,
      "pad: mode 'reflect' takes no value (only mode 'constant' fills with a value)");
    expectError(() => F.pad(x, [1, 1], { mode: 'circular' as never }), ArgumentError,
      "Expected 'constant', 'reflect' or 'replicate' for the mode of pad() but received 'circular' of type string");
    expectError(() => F.pad(x, [1.5, 1]), ArgumentError,
      `Expected an array of integers for the pad of pad() but received ${describeValue([1.5, 1])}`);
  });
});

describe('F.embedding', () => {
  const w = tensor([[0, 0], [1, 1], [2, 2], [3, 3]]);

  it('looks up rows; indices as a Tensor, an Int32Array or an array with a shape', () => {
    expect(F.embedding(tensor([[3, 1], [0, 3]]), w).toArray()).toEqual([[[3, 3], [1, 1]], [[0, 0], [3, 3]]]);
    expect(F.embedding(new Int32Array([2, 0]), w).toArray()).toEqual([[2, 2], [0, 0]]);
    expect(F.embedding([1, 2, 3, 0], w, { indicesShape: [2, 2] }).shape).toEqual([2, 2, 2]);
    expect(F.embedding(tensor(2), w).toArray()).toEqual([2, 2]);
    expect(F.embedding([], w).shape).toEqual([0, 2]);
  });

  it('scatter-adds the gradient into the rows, none into paddingIdx, none into the indices', () => {
    const weight = randn([4, 3], { seed: 1 }).requiresGrad_();
    const idx = tensor([1, 3, 1, 0]).requiresGrad_();
    sum(F.embedding(idx, weight, { paddingIdx: -1 })).backward();
    expect((weight.grad as Tensor).toArray()).toEqual([[1, 1, 1], [2, 2, 2], [0, 0, 0], [0, 0, 0]]);
    expect(idx.grad).toBeNull();
  });

  it('errors name the index and the number of embeddings', () => {
    expectError(() => F.embedding(tensor([1, 4]), w), ArgumentError,
      'embedding: index 4 at position 1 is out of range for 4 embeddings (expected 0..3)');
    expectError(() => F.embedding([-1], w), ArgumentError,
      'embedding: index -1 at position 0 is out of range for 4 embeddings (expected 0..3)');
    expectError(() => F.embedding(tensor([0.5]), w), ArgumentError,
      'Expected an integer for indices[0] of embedding() but received 0.5 of type number');
    expectError(() => F.embedding([0], w, { paddingIdx: 4 }), ArgumentError,
      'embedding: paddingIdx 4 is out of range for 4 embeddings (expected -4..3)');
    expectError(() => F.embedding([0], zeros([4])), ShapeError,
      'embedding: weight must be 2-d [numEmbeddings, embeddingDim], received shape [4]');
    expectError(() => F.embedding([0, 1, 2], w, { indicesShape: [2, 2] }), ShapeError,
      'embedding: 3 indices do not fit indicesShape [2, 2] (4 elements)');
  });
});
