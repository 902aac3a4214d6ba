/**
 * add/sub/mul/div on random broadcastable shape pairs against a naive per-element reference
 * (index unravelling, written here), bit-exact: both compute Math.fround(a op b) of float32 inputs.
 * The PyTorch comparison is in golden.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, add, div, mul, sub, tensor, zeros } from '../../lib/index.js';
import { expectExact, testValues } from './helpers.js';

const OPS = { add, sub, mul, div } as const;
const F: Record<keyof typeof OPS, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
};

function broadcastRef(op: keyof typeof OPS, a: Tensor, b: Tensor): Tensor {
  const rank = Math.max(a.ndim, b.ndim);
  const pad = (s: readonly number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const as = pad(a.shape);
  const bs = pad(b.shape);
  const shape = as.map((d, i) => (d === 1 ? (bs[i] as number) : d));
  const size = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(size);
  for (let o = 0; o < size; o++) {
    let rest = o;
    const idx = new Array<number>(rank).fill(0);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rest % (shape[d] as number);
      rest = Math.floor(rest / (shape[d] as number));
    }
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia = ia * (as[d] as number) + ((as[d] as number) === 1 ? 0 : (idx[d] as number));
      ib = ib * (bs[d] as number) + ((bs[d] as number) === 1 ? 0 : (idx[d] as number));
    }
    out[o] = F[op](a.data[ia] as number, b.data[ib] as number);
  }
  return new Tensor(out, shape);
}

/** Deterministic pseudo-random broadcastable shape pairs. */
function shapePairs(count: number): [number[], number[]][] {
  let s = 12345;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 16) % n;
  };
  const dims = [1, 2, 3, 5, 7];
  const pairs: [number[], number[]][] = [];
  for (let i = 0; i < count; i++) {
    const rank = next(5);
    const full = Array.from({ length: rank }, () => dims[next(dims.length)] as number);
    const pick = (): number[] => {
      const drop = next(rank + 1);
      return full.slice(drop).map((d) => (next(3) === 0 ? 1 : d));
    };
    pairs.push(next(2) === 0 ? [full, pick()] : [pick(), full]);
  }
  return pairs;
}

function values(shape: number[], seed: number, awayFromZero = false): Tensor {
  const v = testValues(shape.reduce((p, d) => p * d, 1), seed);
  if (awayFromZero) for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) + ((v[i] as number) >= 0 ? 0.25 : -0.25);
  return new Tensor(v, shape);
}

describe('broadcasting against a per-element reference', () => {
  const pairs = shapePairs(200);
  it.each(Object.keys(OPS) as (keyof typeof OPS)[])('%s on 200 random shape pairs (ranks 0-4)', (op) => {
    let seed = 1;
    for (const [sa, sb] of pairs) {
      const a = values(sa, seed++);
      const b = values(sb, seed++, true);
      const label = `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`;
      expectExact(OPS[op](a, b), broadcastRef(op, a, b), label);
      expectExact(a[op](b), broadcastRef(op, a, b), `${label} (method)`);
    }
  });

  it('handles the fast paths: same shape, scalar, bias row, column', () => {
    const m = values([64, 33], 3);
    const row = values([33], 4, true);
    const col = values([64, 1], 5, true);
    for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
      expectExact(OPS[op](m, m), broadcastRef(op, m, m), `${op} same`);
      expectExact(OPS[op](m, row), broadcastRef(op, m, row), `${op} row`);
      expectExact(OPS[op](row, m), broadcastRef(op, row, m), `${op} row first`);
      expectExact(OPS[op](m, col), broadcastRef(op, m, col), `${op} column`);
      expectExact(OPS[op](m, 1.5), broadcastRef(op, m, tensor(1.5)), `${op} scalar`);
      expectExact(OPS[op](-3, m), broadcastRef(op, tensor(-3), m), `${op} scalar first`);
    }
  });
});

describe('the native kernel for large same-shape operands', () => {
  it('gives the reference values bit for bit, special values included, above and below the threshold', () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e-39, 3e38, -3e38];
    // NATIVE_BINARY_MIN_ELEMENTS is 32768: one shape above it (native, threaded), one below (JavaScript).
    for (const shape of [[3, 64, 171], [32767]]) {
      const a = values(shape, 41);
      const b = values(shape, 42, true);
      for (let i = 0; i < a.size; i += 97) a.data[i] = specials[(i / 97) % specials.length] as number;
      for (let i = 5; i < b.size; i += 89) b.data[i] = specials[(i / 89 + 3) % specials.length] as number;
      b.data[10] = 0; // x / 0
      a.data[11] = 0;
      b.data[11] = -0; // 0 / -0
      for (const op of Object.keys(OPS) as (keyof typeof OPS)[]) {
        expectExact(OPS[op](a, b), broadcastRef(op, a, b), `${op} ${JSON.stringify(shape)}`);
      }
    }
  });
});

describe('operands', () => {
  it('a number is rounded to float32 first, like a PyTorch scalar', () => {
    const r = add(tensor([1]), 0.1);
    expect(r.data[0]).toBe(Math.fround(1 + Math.fround(0.1)));
    expect(mul(tensor([3]), 1 / 3).data[0]).toBe(Math.fround(3 * Math.fround(1 / 3)));
  });

  it('two numbers give a 0-d tensor; 0-d tensors broadcast', () => {
    const r = div(1, 4);
    expect(r.shape).toEqual([]);
    expect(r.item()).toBe(0.25);
    expect(sub(tensor(10), tensor([1, 2])).toArray()).toEqual([9, 8]);
  });

  it('returns a new buffer and leaves the inputs alone', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([4, 5, 6]);
    const c = a.add(b);
    expect(c.data).not.toBe(a.data);
    expect(a.toArray()).toEqual([1, 2, 3]);
    expect(b.toArray()).toEqual([4, 5, 6]);
  });

  it('empty shapes broadcast to empty results', () => {
    expect(add(zeros([0, 3]), zeros([3])).shape).toEqual([0, 3]);
    expect(mul(zeros([2, 0]), zeros([1, 1])).shape).toEqual([2, 0]);
    expect(add(zeros([0]), 1).shape).toEqual([0]);
  });

  it('IEEE results for division by zero and NaN', () => {
    const r = div(tensor([1, -1, 0, NaN]), 0);
    expect(r.data[0]).toBe(Infinity);
    expect(r.data[1]).toBe(-Infinity);
    expect(r.data[2]).toBeNaN();
    expect(r.data[3]).toBeNaN();
  });
});
