/** Test helpers for the tensor suites: fixture decoding, comparisons and float64 references. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { Tensor } from '../../lib/index.js';

/** A float32 value as the fixture writes it: a number, or "nan" / "inf" / "-inf". */
export type Encoded = number | 'nan' | 'inf' | '-inf';

export interface EncodedTensor {
  shape: number[];
  data: Encoded[];
}

export function decodeValue(v: Encoded): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v;
}

/** The fixture tensor as a convkit Tensor (values rounded to float32, exactly as written). */
export function decode(t: EncodedTensor): Tensor {
  return new Tensor(Float32Array.from(t.data, decodeValue), t.shape);
}

export function readFixture<T>(relative: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/tensor/${relative}`, import.meta.url), 'utf8')) as T;
}

/** Distance in float32 units in the last place (0 for identical values, including NaN vs NaN). */
export function ulpDistance(a: number, b: number): number {
  if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) return 0;
  if (Number.isNaN(a) || Number.isNaN(b)) return Infinity;
  const ia = new Int32Array(Float32Array.of(a).buffer)[0] as number;
  const ib = new Int32Array(Float32Array.of(b).buffer)[0] as number;
  const oa = ia < 0 ? -2147483648 - ia : ia;
  const ob = ib < 0 ? -2147483648 - ib : ib;
  return Math.abs(oa - ob);
}

/**
 * Expects the same shape and, per element, `|actual - expected| <= atol + rtol * |expected|`
 * (NaN matches NaN, infinities must match exactly). The failure names the first bad index.
 */
export function expectClose(
  actual: Tensor,
  expected: Tensor,
  tol: { rtol?: number; atol?: number },
  label: string,
): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  const rtol = tol.rtol ?? 0;
  const atol = tol.atol ?? 0;
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i] as number;
    const e = expected.data[i] as number;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      if (!Object.is(a, e)) expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      const diff = Math.abs(a - e);
      expect.fail(`${label}: element ${i} is ${a}, expected ${e} (|diff| ${diff} > ${atol} + ${rtol} * |expected|)`);
    }
  }
}

/** Expects identical shapes and bit-identical float32 values (NaN matches NaN; +0 and -0 differ). */
export function expectExact(actual: Tensor, expected: Tensor, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(expected.shape);
  for (let i = 0; i < expected.size; i++) {
    const a = actual.data[i] as number;
    const e = expected.data[i] as number;
    if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) {
      expect.fail(`${label}: element ${i} is ${a}, expected ${e}`);
    }
  }
}

/** Deterministic test inputs (a small LCG, independent of the library's generator). */
export function testValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/**
 * A float64 reference for `torch.matmul`, written independently of lib/tensor/matmul.ts: plain
 * index arithmetic per output element. Returns the product and, per element, `sum |a||b|` (the
 * scale of the rounding-error bound).
 */
export interface MatmulRef {
  shape: number[];
  value: Float64Array;
  absSum: Float64Array;
  k: number;
}

export function matmulRef(a: Tensor, b: Tensor): MatmulRef {
  const as = a.ndim === 1 ? [1, a.shape[0] as number] : [...a.shape];
  const bs = b.ndim === 1 ? [b.shape[0] as number, 1] : [...b.shape];
  const m = as[as.length - 2] as number;
  const k = as[as.length - 1] as number;
  const n = bs[bs.length - 1] as number;
  const ba = as.slice(0, -2);
  const bb = bs.slice(0, -2);
  const rank = Math.max(ba.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const x = ba[ba.length - rank + i] ?? 1;
    const y = bb[bb.length - rank + i] ?? 1;
    batch.push(Math.max(x, y));
  }
  const count = batch.reduce((p, d) => p * d, 1);
  const value = new Float64Array(count * m * n);
  const absSum = new Float64Array(count * m * n);
  for (let item = 0; item < count; item++) {
    // Unravel the batch index, then map it into each operand (size-1 / missing dims read index 0).
    let rest = item;
    const idx = new Array<number>(rank).fill(0);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = rest % (batch[d] as number);
      rest = Math.floor(rest / (batch[d] as number));
    }
    const flat = (shape: number[]): number => {
      let off = 0;
      for (let d = 0; d < shape.length; d++) {
        const size = shape[d] as number;
        off = off * size + (size === 1 ? 0 : (idx[rank - shape.length + d] as number));
      }
      return off;
    };
    const oa = flat(ba) * m * k;
    const ob = flat(bb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        let t = 0;
        for (let p = 0; p < k; p++) {
          const x = a.data[oa + i * k + p] as number;
          const y = b.data[ob + p * n + j] as number;
          s += x * y;
          t += Math.abs(x * y);
        }
        value[item * m * n + i * n + j] = s;
        absSum[item * m * n + i * n + j] = t;
      }
    }
  }
  const shape = [...batch];
  if (a.ndim > 1) shape.push(m);
  if (b.ndim > 1) shape.push(n);
  return { shape, value, absSum, k };
}

/**
 * The error bound for one float32 dot product of length k against the exact value, with a factor
 * of 2 of slack for blocked/FMA summation orders: |err| <= 2 * (k + 2) * 2^-24 * sum |a_p b_p|.
 */
export function matmulBound(k: number, absSum: number): number {
  return 2 * (k + 2) * 2 ** -24 * absSum;
}

/** Expects `actual` within {@link matmulBound} of the float64 reference, element by element. */
export function expectMatmulClose(actual: Tensor, ref: MatmulRef, label: string): void {
  expect(actual.shape, `${label}: shape`).toEqual(ref.shape);
  for (let i = 0; i < ref.value.length; i++) {
    const err = Math.abs((actual.data[i] as number) - (ref.value[i] as number));
    const bound = matmulBound(ref.k, ref.absSum[i] as number);
    if (!(err <= bound)) {
      const got = actual.data[i] as number;
      expect.fail(`${label}: element ${i} is ${got}, reference ${ref.value[i]} (|err| ${err} > bound ${bound})`);
    }
  }
}
