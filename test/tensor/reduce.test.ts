/**
 * sum/mean/max on random shapes and axis sets against a naive reference (float64 loops over
 * unravelled indices, written here). sum/mean: |diff| <= 1e-6 * sum|x| (both sum in float64, the
 * only difference is the order and the final rounding to float32); max: exact.
 * The PyTorch comparison is in golden.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, max, mean, sum, tensor, zeros } from '../../lib/index.js';
import { testValues } from './helpers.js';

function reduceRef(kind: 'sum' | 'mean' | 'max', x: Tensor, axes: number[], keepdim: boolean) {
  const rank = x.ndim;
  const red = x.shape.map((_, i) => axes.includes(i));
  const kept = x.shape.map((d, i) => (red[i] ? 1 : d));
  const outSize = kept.reduce((p, d) => p * d, 1);
  const acc = new Float64Array(outSize).fill(kind === 'max' ? -Infinity : 0);
  const abs = new Float64Array(outSize);
  for (let i = 0; i < x.size; i++) {
    let rest = i;
    let o = 0;
    let stride = 1;
    for (let d = rank - 1; d >= 0; d--) {
      const n = x.shape[d] as number;
      const id = rest % n;
      rest = Math.floor(rest / n);
      if (!red[d]) o += id * stride;
      stride *= kept[d] as number;
    }
    const v = x.data[i] as number;
    if (kind === 'max') acc[o] = Math.max(acc[o] as number, v);
    else acc[o] = (acc[o] as number) + v;
    abs[o] = (abs[o] as number) + Math.abs(v);
  }
  const count = x.shape.reduce((p, d, i) => (red[i] ? p * d : p), 1);
  if (kind === 'mean') for (let i = 0; i < outSize; i++) acc[i] = (acc[i] as number) / count;
  const shape = keepdim ? kept : x.shape.filter((_, i) => !red[i]);
  return { shape, value: acc, scale: abs, count };
}

function cases(): { shape: number[]; axes: number[] }[] {
  const shapes = [[7], [3, 5], [4, 1, 6], [2, 3, 4, 5], [5, 2, 1, 3, 2], [33, 17]];
  const out: { shape: number[]; axes: number[] }[] = [];
  for (const shape of shapes) {
    const rank = shape.length;
    for (let mask = 1; mask < 1 << rank; mask++) {
      out.push({ shape, axes: Array.from({ length: rank }, (_, i) => i).filter((i) => mask & (1 << i)) });
    }
  }
  return out;
}

describe('reductions against a per-element reference', () => {
  let seed = 1;
  for (const { shape, axes } of cases()) {
    for (const keepdim of [false, true]) {
      const x = new Tensor(testValues(shape.reduce((p, d) => p * d, 1), seed), shape);
      // Pass the axes as negative numbers half the time.
      const given = seed++ % 2 === 0 ? axes : axes.map((a) => a - shape.length);
      it(`${JSON.stringify(shape)} over ${JSON.stringify(given)}${keepdim ? ' keepdim' : ''}`, () => {
        for (const kind of ['sum', 'mean', 'max'] as const) {
          const fn = { sum, mean, max }[kind];
          const got = fn(x, given.length === 1 ? given[0] : given, { keepdim });
          const ref = reduceRef(kind, x, axes, keepdim);
          expect(got.shape, kind).toEqual(ref.shape);
          for (let i = 0; i < ref.value.length; i++) {
            const e = ref.value[i] as number;
            if (kind === 'max') {
              expect(got.data[i], `${kind} [${i}]`).toBe(Math.fround(e));
              continue;
            }
            const tol = 1e-6 * ((ref.scale[i] as number) / (kind === 'mean' ? ref.count : 1)) + 1e-30;
            const v = got.data[i] as number;
            if (!(Math.abs(v - e) <= tol)) expect.fail(`${kind} [${i}]: ${v} vs ${e}`);
          }
        }
      });
    }
  }
});

describe('reduction semantics', () => {
  const x = tensor([[1, 2, 3], [4, 5, 6]]);
  it('over everything, with and without keepdim', () => {
    expect(sum(x).shape).toEqual([]);
    expect(sum(x).item()).toBe(21);
    expect(x.mean().item()).toBe(3.5);
    expect(x.max().item()).toBe(6);
    expect(sum(x, null, { keepdim: true }).shape).toEqual([1, 1]);
    expect(x.max(undefined, { keepdim: true }).toArray()).toEqual([[6]]);
  });

  it('one axis and several', () => {
    expect(sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(sum(x, -1).toArray()).toEqual([6, 15]);
    expect(mean(x, 1, { keepdim: true }).toArray()).toEqual([[2], [5]]);
    expect(max(x, [0, 1]).item()).toBe(6);
    expect(sum(x, []).toArray()).toEqual(x.toArray()); // no axes: nothing reduced (NumPy's meaning)
  });

  it('0-d tensors accept axis 0 and -1', () => {
    expect(sum(tensor(4), 0).item()).toBe(4);
    expect(max(tensor(4), -1, { keepdim: true }).shape).toEqual([]);
  });

  it('empty inputs: sum 0, mean NaN', () => {
    expect(sum(zeros([0])).item()).toBe(0);
    expect(mean(zeros([0])).item()).toBeNaN();
    expect(sum(zeros([2, 0]), 1).toArray()).toEqual([0, 0]);
    expect(mean(zeros([2, 0]), 1).data.every((v) => Number.isNaN(v))).toBe(true);
  });

  it('max propagates NaN, like torch.amax', () => {
    const t = tensor([[1, NaN, 3], [4, 5, 6]]);
    expect(max(t).item()).toBeNaN();
    const rows = max(t, 1);
    expect(rows.data[0]).toBeNaN();
    expect(rows.data[1]).toBe(6);
    const cols = max(t, 0);
    expect(cols.data[1]).toBeNaN();
    expect(cols.data[0]).toBe(4);
    expect(max(tensor([-Infinity, -Infinity])).item()).toBe(-Infinity);
  });
});
