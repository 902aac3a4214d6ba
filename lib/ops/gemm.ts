/**
 * GEMM on Float32Arrays: `C = act(alpha * op(A) * op(B) + beta * C + bias)`, row-major, with
 * leading dimensions and offsets so views into larger buffers work. This is the TypeScript entry to
 * the native kernel: it validates every argument with a clear message before the call, and the
 * binding checks the buffer extents again.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';
import type { Isa } from '../runtime.js';

export interface GemmOptions {
  /** Use A transposed: A is stored k x m. Default false. */
  transA?: boolean;
  /** Use B transposed: B is stored n x k. Default false. */
  transB?: boolean;
  m: number;
  n: number;
  k: number;
  /** Default 1. */
  alpha?: number;
  /** Default 0: C is not read (it may hold garbage). */
  beta?: number;
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  /** Row strides; default the row length of the stored matrix. */
  lda?: number;
  ldb?: number;
  ldc?: number;
  /** Element offsets of the first element; default 0. */
  aOffset?: number;
  bOffset?: number;
  cOffset?: number;
  /** Bias added after the product: one value per row of C (length m) or per column (length n). */
  bias?: { values: Float32Array; per: 'row' | 'column' };
  /** Apply ReLU after the bias. */
  relu?: boolean;
  /** Force an instruction-set path for this call (tests, benchmarks). */
  isa?: Isa;
  /** Threads for this call; default getNumThreads(). */
  threads?: number;
}

function count(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalidArgument(name, 'non-negative integer', value);
  }
  return value;
}

function matrix(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) throw invalidArgument(name, 'Float32Array', value);
  return value;
}

function extent(name: string, arr: Float32Array, offset: number, rows: number, cols: number, ld: number): void {
  if (rows === 0 || cols === 0) return;
  const need = offset + (rows - 1) * ld + cols;
  if (need > arr.length) {
    throw new ShapeError(
      `gemm: ${name} is ${rows} x ${cols} with row stride ${ld} at offset ${offset}, which needs ${need} elements; the array has ${arr.length}`,
    );
  }
}

/** Runs the GEMM in place on `c`. */
export function gemm(opts: GemmOptions): void {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const m = count('m', opts.m);
  const n = count('n', opts.n);
  const k = count('k', opts.k);
  const alpha = opts.alpha ?? 1;
  const beta = opts.beta ?? 0;
  if (!Number.isFinite(alpha)) throw invalidArgument('alpha', 'finite number', alpha);
  if (!Number.isFinite(beta)) throw invalidArgument('beta', 'finite number', beta);
  const a = matrix('a', opts.a);
  const b = matrix('b', opts.b);
  const c = matrix('c', opts.c);
  const aRows = transA ? k : m;
  const aCols = transA ? m : k;
  const bRows = transB ? n : k;
  const bCols = transB ? k : n;
  const lda = count('lda', opts.lda ?? aCols);
  const ldb = count('ldb', opts.ldb ?? bCols);
  const ldc = count('ldc', opts.ldc ?? n);
  const aOffset = count('aOffset', opts.aOffset ?? 0);
  const bOffset = count('bOffset', opts.bOffset ?? 0);
  const cOffset = count('cOffset', opts.cOffset ?? 0);
  if (aRows > 0 && aCols > 0 && lda < aCols) throw new ArgumentError(`gemm: lda = ${lda} is smaller than the row length ${aCols}`);
  if (bRows > 0 && bCols > 0 && ldb < bCols) throw new ArgumentError(`gemm: ldb = ${ldb} is smaller than the row length ${bCols}`);
  if (m > 0 && n > 0 && ldc < n) throw new ArgumentError(`gemm: ldc = ${ldc} is smaller than the row length ${n}`);
  if (k > 0 && alpha !== 0) {
    extent('a', a, aOffset, aRows, aCols, lda);
    extent('b', b, bOffset, bRows, bCols, ldb);
  }
  extent('c', c, cOffset, m, n, ldc);
  let biasMode: 0 | 1 | 2 = 0;
  let bias: Float32Array | null = null;
  if (opts.bias !== undefined) {
    bias = matrix('bias.values', opts.bias.values);
    if (opts.bias.per !== 'row' && opts.bias.per !== 'column') throw invalidArgument('bias.per', "'row' or 'column'", opts.bias.per);
    biasMode = opts.bias.per === 'row' ? 1 : 2;
    const want = biasMode === 1 ? m : n;
    if (bias.length < want) throw new ShapeError(`gemm: bias per ${opts.bias.per} needs ${want} values, received ${bias.length}`);
  }
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1 || opts.threads > 1024)) {
    throw invalidArgument('threads', 'an integer in 1..1024', opts.threads);
  }
  callNative((addon) =>
    addon._gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc, biasMode, bias,
      opts.relu ?? false, opts.isa ?? null, opts.threads ?? null),
  );
}
