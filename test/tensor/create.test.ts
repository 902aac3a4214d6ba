/** Creating tensors and reading them back: tensor(), zeros/ones/full, arange, accessors, printing. */
import { describe, expect, it } from 'vitest';
import { Tensor, arange, full, ones, tensor, zeros } from '../../lib/index.js';

describe('tensor()', () => {
  it('infers the shape of nested arrays', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.size).toBe(6);
    expect(t.ndim).toBe(2);
    expect(t.strides).toEqual([3, 1]);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensor([[[1], [2]], [[3], [4]]]).shape).toEqual([2, 2, 1]);
  });

  it('a number is a 0-d tensor; flat data is 1-d unless a shape is given', () => {
    const s = tensor(2.5);
    expect(s.shape).toEqual([]);
    expect(s.ndim).toBe(0);
    expect(s.item()).toBe(2.5);
    expect(s.toArray()).toBe(2.5);
    expect(tensor([1, 2, 3, 4]).shape).toEqual([4]);
    expect(tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(7, [1, 1]).shape).toEqual([1, 1]);
    expect(tensor([[1, 2], [3, 4]], [4]).toArray()).toEqual([1, 2, 3, 4]);
  });

  it('copies typed arrays, converting to float32', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, [3, 2]);
    expect(t.data).not.toBe(src);
    src[0] = 9;
    expect(t.data[0]).toBe(1);
    expect(Array.from(tensor(new Int32Array([1, -2])).data)).toEqual([1, -2]);
    expect(tensor(new Float64Array([0.1])).data[0]).toBe(Math.fround(0.1));
    expect(tensor(new Uint8Array([255])).item()).toBe(255);
  });

  it('rounds to float32 and keeps NaN/infinities', () => {
    const t = tensor([0.1, 1e40, -1e-50]);
    expect(t.data[0]).toBe(Math.fround(0.1));
    expect(t.data[1]).toBe(Infinity);
    expect(Object.is(t.data[2], -0)).toBe(true);
  });

  it('empty arrays give empty tensors', () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([], [0, 5]).shape).toEqual([0, 5]);
  });
});

describe('new Tensor()', () => {
  it('wraps a Float32Array without copying; the shape defaults to 1-d', () => {
    const data = new Float32Array(6);
    const t = new Tensor(data, [2, 3]);
    expect(t.data).toBe(data);
    expect(new Tensor(data).shape).toEqual([6]);
  });
});

describe('filled tensors', () => {
  it('zeros / ones take an array or one number per dimension', () => {
    expect(zeros([2, 3]).shape).toEqual([2, 3]);
    expect(zeros(2, 3).shape).toEqual([2, 3]);
    expect(Array.from(ones(2, 2).data)).toEqual([1, 1, 1, 1]);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([]).item()).toBe(0);
    expect(zeros(0).size).toBe(0);
    expect(Object.is(zeros([-0]).shape[0], 0)).toBe(true);
  });

  it('full fills with one float32 value', () => {
    expect(full([2, 2], 7).toArray()).toEqual([[7, 7], [7, 7]]);
    expect(full([1], 0.1).item()).toBe(Math.fround(0.1));
    expect(full([2], NaN).data.every((v) => Number.isNaN(v))).toBe(true);
  });
});

describe('arange', () => {
  it('follows PyTorch: ceil((end - start) / step) elements', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(2, 5).toArray()).toEqual([2, 3, 4]);
    expect(arange(1, 10, 3).toArray()).toEqual([1, 4, 7]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(0, 1, 0.3).size).toBe(4);
    expect(arange(3, 3).shape).toEqual([0]);
    expect(Object.is(arange(3, 3, -1).shape[0], 0)).toBe(true);
  });
});

describe('reading values', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  it('get() takes one index per dimension, negative from the end', () => {
    expect(t.get(0, 0)).toBe(1);
    expect(t.get(1, 2)).toBe(6);
    expect(t.get(-1, -3)).toBe(4);
    expect(tensor(3).get()).toBe(3);
  });

  it('item() reads any one-element tensor', () => {
    expect(tensor([[5]]).item()).toBe(5);
  });

  it('toArray() nests like the input', () => {
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
  });

  it('clone() copies', () => {
    const c = t.clone();
    expect(c.data).not.toBe(t.data);
    expect(c.toArray()).toEqual(t.toArray());
  });
});

describe('toString', () => {
  it('prints like PyTorch', () => {
    expect(tensor(1.5).toString()).toBe('tensor(1.5)');
    expect(tensor([1, 2, 3]).toString()).toBe('tensor([1, 2, 3])');
    expect(tensor([[1, 2], [30, 4]]).toString()).toBe('tensor([[ 1,  2],\n        [30,  4]])');
    const cube = 'tensor([[[1],\n         [2]],\n\n        [[3],\n         [4]]])';
    expect(tensor([[[1], [2]], [[3], [4]]]).toString()).toBe(cube);
    expect(tensor([0.1, NaN, -Infinity]).toString()).toBe('tensor([ 0.1,  nan, -inf])');
    expect(zeros([0, 3]).toString()).toBe('tensor([], shape=[0, 3])');
    expect(String(tensor([1]))).toBe('tensor([1])');
  });

  it('summarises large tensors', () => {
    const s = arange(2000).toString();
    expect(s).toBe('tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000])');
    const m = arange(40 * 50).reshape(40, 50).toString();
    expect(m.split('\n')).toHaveLength(7);
    expect(m).toContain('...');
    expect(m.endsWith('shape=[40, 50])')).toBe(true);
  });
});
