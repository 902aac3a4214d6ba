// gemm() from TypeScript: every path against a float64 reference, offsets and strides, the fused
// epilogue, and bad input turning into typed errors (in TypeScript and again at the N-API boundary).
// Tolerance per element: 2 (k + 2) 2^-24 sum_p |a_ip b_pj| (+ |beta c| + |bias|), float32 dot-product bound.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConvkitError, ShapeError, UnsupportedCpuError, gemm, supportedIsas } from '../../lib/index.js';
import { callNative } from '../../lib/native.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

function filled(n: number, rnd: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd();
  return a;
}

interface RefCase {
  m: number; n: number; k: number; transA: boolean; transB: boolean; alpha: number; beta: number;
  lda: number; ldb: number; ldc: number; aOffset: number; bOffset: number; cOffset: number;
}

function reference(c: RefCase, a: Float32Array, b: Float32Array, c0: Float32Array): { value: Float64Array; bound: Float64Array } {
  const value = new Float64Array(c.m * c.n);
  const bound = new Float64Array(c.m * c.n);
  for (let i = 0; i < c.m; i++) {
    for (let j = 0; j < c.n; j++) {
      let acc = 0;
      let mag = 0;
      for (let p = 0; p < c.k; p++) {
        const av = a[c.aOffset + (c.transA ? p * c.lda + i : i * c.lda + p)]!;
        const bv = b[c.bOffset + (c.transB ? j * c.ldb + p : p * c.ldb + j)]!;
        acc += av * bv;
        mag += Math.abs(av * bv);
      }
      const old = c0[c.cOffset + i * c.ldc + j]!;
      value[i * c.n + j] = c.alpha * acc + (c.beta !== 0 ? c.beta * old : 0);
      bound[i * c.n + j] = 2 * (c.k + 2) * 2 ** -24 * (Math.abs(c.alpha) * mag + (c.beta !== 0 ? Math.abs(c.beta * old) : 0)) + 1e-30;
    }
  }
  return { value, bound };
}

describe('gemm against a float64 reference', () => {
  const shapes: Array<[number, number, number]> = [[1, 1, 1], [7, 17, 33], [65, 3, 130], [33, 97, 7], [130, 65, 257], [512, 49, 300]];
  for (const isa of supportedIsas()) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s): all transposes, alpha/beta, offsets and strides`, () => {
        const rnd = lcg(42);
        let variant = 0;
        for (const [m, n, k] of shapes) {
          for (const transA of [false, true]) {
            for (const transB of [false, true]) {
              const pad = variant % 3;
              const c: RefCase = {
                m, n, k, transA, transB, alpha: [1, -0.5, 2][variant % 3]!, beta: [0, 1, 0.25][variant % 3]!,
                lda: (transA ? m : k) + pad, ldb: (transB ? k : n) + pad, ldc: n + pad,
                aOffset: variant % 2 ? 5 : 0, bOffset: variant % 2 ? 0 : 3, cOffset: variant % 2 ? 2 : 0,
              };
              variant++;
              const a = filled(c.aOffset + (transA ? k : m) * c.lda, rnd);
              const b = filled(c.bOffset + (transB ? n : k) * c.ldb, rnd);
              const c0 = filled(c.cOffset + m * c.ldc, rnd);
              if (c.beta === 0) c0.fill(Number.NaN); // must not be read
              const out = c0.slice();
              gemm({ ...c, a, b, c: out, isa, threads });
              const { value, bound } = reference(c, a, b, c0);
              for (let i = 0; i < m; i++) {
                for (let j = 0; j < n; j++) {
                  const got = out[c.cOffset + i * c.ldc + j]!;
                  const err = Math.abs(got - value[i * n + j]!);
                  if (!(err <= bound[i * n + j]!)) {
                    throw new Error(`${isa} t=${threads} ${JSON.stringify(c)}: C(${i},${j}) = ${got}, reference ${value[i * n + j]}`);
                  }
                }
              }
            }
          }
        }
      });
    }
  }

  it('applies the fused bias and ReLU epilogue', () => {
    const a = new Float32Array([1, 2, 3, 4]); // 2 x 2
    const b = new Float32Array([1, 0, 0, 1]); // identity
    const c = new Float32Array(4);
    gemm({ m: 2, n: 2, k: 2, a, b, c, bias: { values: new Float32Array([-2, -10]), per: 'row' }, relu: true });
    expect([...c]).toEqual([0, 0, 0, 0]);
    gemm({ m: 2, n: 2, k: 2, a, b, c, bias: { values: new Float32Array([-2, 1]), per: 'column' }, relu: true });
    expect([...c]).toEqual([0, 3, 1, 5]);
  });
});

describe('gemm rejects bad input with typed errors', () => {
  const a = new Float32Array(6);
  const b = new Float32Array(6);
  it('too-short operands name the operand, its layout and the lengths', () => {
    expect(() => gemm({ m: 2, n: 2, k: 3, a, b: new Float32Array(5), c: new Float32Array(4) })).toThrow(ShapeError);
    expect(() => gemm({ m: 2, n: 2, k: 3, a, b: new Float32Array(5), c: new Float32Array(4) })).toThrow(
      'gemm: b is 3 x 2 with row stride 2 at offset 0, which needs 6 elements; the array has 5',
    );
  });
  it('bad sizes, strides and types', () => {
    expect(() => gemm({ m: -1, n: 2, k: 3, a, b, c: new Float32Array(4) })).toThrow('Expected non-negative integer for m but received -1 of type number');
    expect(() => gemm({ m: 1.5, n: 2, k: 3, a, b, c: new Float32Array(4) })).toThrow(ArgumentError);
    expect(() => gemm({ m: 2, n: 2, k: 3, a: [1, 2] as unknown as Float32Array, b, c: new Float32Array(4) })).toThrow(
      'Expected Float32Array for a but received [1, 2] of type array',
    );
    expect(() => gemm({ m: 2, n: 2, k: 3, a, b, c: new Float32Array(4), lda: 2 })).toThrow('gemm: lda = 2 is smaller than the row length 3');
    expect(() => gemm({ m: 2, n: 2, k: 3, a, b, c: new Float32Array(4), alpha: Number.NaN })).toThrow(ArgumentError);
  });
  it('an unsupported or unknown path is a typed error, not a crash', () => {
    expect(() => gemm({ m: 1, n: 1, k: 1, a, b, c: new Float32Array(1), isa: 'sse9' as never })).toThrow(ArgumentError);
    const missing = (['avx2', 'avx512'] as const).find((isa) => !supportedIsas().includes(isa));
    if (missing !== undefined) {
      expect(() => gemm({ m: 1, n: 1, k: 1, a, b, c: new Float32Array(1), isa: missing })).toThrow(UnsupportedCpuError);
    }
  });
  it('a native error keeps the caller\'s stack', () => {
    const small = new Float32Array(4);
    let caught: unknown;
    try {
      callNative((n) => n._gemm(false, false, 9, 9, 9, 1, small, 0, 9, small, 0, 9, 0, small, 0, 9, 0, null, false, null, null));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ShapeError);
    expect((caught as Error).stack).toMatch(/^ShapeError: a: a 9 x 9 matrix/);
    expect((caught as Error).stack).toContain('gemm.test.ts');
  });
  it('the binding validates again: direct native calls with lying sizes throw, never read out of bounds', () => {
    const small = new Float32Array(4);
    const call = (fn: () => void) => () => callNative(fn);
    expect(call(() => callNative((n) => n._gemm(false, false, 1000, 1000, 1000, 1, small, 0, 1000, small, 0, 1000, 0, small, 0, 1000, 0, null, false, null, null)))).toThrow(ShapeError);
    expect(call(() => callNative((n) => n._gemm(false, false, 2, 2, 2, 1, small, 3, 2, small, 0, 2, 0, small, 0, 2, 0, null, false, null, null)))).toThrow(
      /a: a 2 x 2 matrix with row stride 2 at offset 3 needs 4 elements, the array has 1 after the offset/,
    );
    expect(call(() => callNative((n) => n._gemm(false, false, 2, 2, 2, 1, small, 0, 2, small, 0, 2, 0, small, 0, 2, 1, new Float32Array(1), false, null, null)))).toThrow(ShapeError);
    expect(call(() => callNative((n) => (n._gemm as unknown as (...args: unknown[]) => void)(false, false, 'x', 2, 2)))).toThrow(ConvkitError);
    expect(call(() => callNative((n) => (n._gemm as unknown as (...args: unknown[]) => void)(false, false, 2, 2, 2, 1, [1, 2, 3, 4], 0, 2, small, 0, 2, 0, small, 0, 2, 0, null, false, null, null)))).toThrow(
      'Expected Float32Array for a',
    );
    expect(call(() => callNative((n) => n._gemm(false, false, 2, 2, 2, 1, small, 0, 2, small, 0, 2, 0, small, 0, 2, 0, null, false, null, 0)))).toThrow(
      'Expected integer in 1..1024 for threads but received 0',
    );
  });
});
