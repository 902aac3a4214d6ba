/**
 * Layout ops: which results share storage and which copy, -1 inference, and transpose/permute
 * against a naive per-element index reference (the PyTorch cases are in golden.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  Tensor,
  arange,
  flatten,
  permute,
  reshape,
  squeeze,
  tensor,
  transpose,
  unsqueeze,
  view,
  zeros,
} from '../../lib/index.js';
import { testValues } from './helpers.js';

/** out[i0..in] = x[i_perm^-1 ...]: computed one element at a time by unravelling indices. */
function permuteRef(x: Tensor, perm: number[]): number[] {
  const rank = x.ndim;
  const outShape = perm.map((p) => x.shape[p] as number);
  const size = x.size;
  const out: number[] = [];
  for (let o = 0; o < size; o++) {
    const idx = new Array<number>(rank).fill(0);
    let rest = o;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rest % (outShape[d] as number);
      rest = Math.floor(rest / (outShape[d] as number));
    }
    const src = new Array<number>(rank).fill(0);
    for (let d = 0; d < rank; d++) src[perm[d] as number] = idx[d] as number;
    let off = 0;
    for (let d = 0; d < rank; d++) off = off * (x.shape[d] as number) + (src[d] as number);
    out.push(x.data[off] as number);
  }
  return out;
}

function randomTensor(shape: number[], seed: number): Tensor {
  return new Tensor(testValues(shape.reduce((p, d) => p * d, 1), seed), shape);
}

describe('view and reshape share storage', () => {
  it('view writes through in both directions', () => {
    const x = arange(6);
    const v = x.view(2, 3);
    expect(v.data).toBe(x.data);
    v.data[4] = 100;
    expect(x.data[4]).toBe(100);
    x.data[0] = -1;
    expect(v.get(0, 0)).toBe(-1);
    expect(v.toArray()).toEqual([[-1, 1, 2], [3, 100, 5]]);
    expect(view(x, [3, 2]).data).toBe(x.data);
  });

  it('reshape also shares (every tensor is contiguous); clone() gives an independent copy', () => {
    const x = arange(6);
    const r = reshape(x, [3, -1]);
    expect(r.shape).toEqual([3, 2]);
    expect(r.data).toBe(x.data);
    const c = r.clone();
    c.data[0] = 42;
    expect(x.data[0]).toBe(0);
  });

  it('infers one -1 dimension', () => {
    const x = zeros([2, 3, 4]);
    expect(x.reshape(-1).shape).toEqual([24]);
    expect(x.reshape(4, -1).shape).toEqual([4, 6]);
    expect(x.reshape([-1, 2, 3]).shape).toEqual([4, 2, 3]);
    expect(x.view(2, -1, 4).shape).toEqual([2, 3, 4]);
    expect(zeros([0, 3]).reshape(-1).shape).toEqual([0]);
    expect(zeros([0, 3]).reshape(3, 0).shape).toEqual([3, 0]);
    expect(tensor(5).reshape([]).shape).toEqual([]);
    expect(tensor(5).reshape(1, 1).shape).toEqual([1, 1]);
  });

  it('flatten, squeeze and unsqueeze share storage', () => {
    const x = zeros([2, 1, 3, 1]);
    expect(flatten(x).shape).toEqual([6]);
    expect(x.flatten(1).shape).toEqual([2, 3]);
    expect(x.flatten(1, 2).shape).toEqual([2, 3, 1]);
    expect(flatten(tensor(3)).shape).toEqual([1]);
    expect(squeeze(x).shape).toEqual([2, 3]);
    expect(x.squeeze(1).shape).toEqual([2, 3, 1]);
    expect(x.squeeze(-1).shape).toEqual([2, 1, 3]);
    expect(x.squeeze(0).shape).toEqual([2, 1, 3, 1]); // not size 1: unchanged, as in PyTorch
    expect(unsqueeze(x, 0).shape).toEqual([1, 2, 1, 3, 1]);
    expect(x.unsqueeze(-1).shape).toEqual([2, 1, 3, 1, 1]);
    expect(tensor(1).unsqueeze(0).shape).toEqual([1]);
    for (const t of [flatten(x), squeeze(x), unsqueeze(x, 2)]) expect(t.data).toBe(x.data);
  });

  it('shapes are frozen copies', () => {
    const shape = [2, 3];
    const x = zeros(shape);
    shape[0] = 5;
    expect(x.shape).toEqual([2, 3]);
    expect(Object.isFrozen(x.shape)).toBe(true);
  });
});

describe('transpose and permute copy', () => {
  it('transpose of a matrix is correct and does not share', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const t = x.transpose();
    expect(t.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(t.data).not.toBe(x.data);
    t.data[0] = 99;
    expect(x.data[0]).toBe(1);
    expect(transpose(x, 1, 0).toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(x.T.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
    expect(transpose(x, -1, -2).shape).toEqual([3, 2]);
    expect(transpose(arange(3)).toArray()).toEqual([0, 1, 2]); // 1-d: a copy
  });

  it('matches a per-element reference on awkward shapes (incl. the tiled path)', () => {
    const cases: [number[], number[]][] = [
      [[70, 45], [1, 0]],
      [[3, 50, 40], [0, 2, 1]],
      [[2, 3, 4, 5], [3, 1, 0, 2]],
      [[5, 1, 7, 1, 3], [4, 2, 0, 3, 1]],
      [[33, 1, 65], [2, 1, 0]],
      [[2, 3, 4], [0, 1, 2]],
      [[0, 3], [1, 0]],
      [[17, 9, 2], [1, 2, 0]],
    ];
    let seed = 1;
    for (const [shape, perm] of cases) {
      const x = randomTensor(shape, seed++);
      const p = permute(x, perm);
      expect(p.shape).toEqual(perm.map((d) => shape[d]));
      expect(Array.from(p.data), `${JSON.stringify(shape)} ${JSON.stringify(perm)}`).toEqual(permuteRef(x, perm));
      expect(p.data).not.toBe(x.data);
    }
  });

  it('transpose(d0, d1) equals permute with the two dims swapped; T reverses all dims', () => {
    const x = randomTensor([4, 6, 5], 3);
    expect(Array.from(transpose(x, 0, 2).data)).toEqual(permuteRef(x, [2, 1, 0]));
    expect(Array.from(x.transpose(1, -1).data)).toEqual(permuteRef(x, [0, 2, 1]));
    expect(Array.from(x.T.data)).toEqual(permuteRef(x, [2, 1, 0]));
    expect(Array.from(x.transpose(1, 1).data)).toEqual(Array.from(x.data));
  });
});
