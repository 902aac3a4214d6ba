/**
 * Elementwise arithmetic (`add`, `sub`, `mul`, `div`) with NumPy/PyTorch broadcasting.
 *
 * One strided loop serves every case. Output dimensions of size 1 are dropped and adjacent
 * dimensions that both operands traverse the same way are merged, so the common cases reduce to a
 * single tight loop over typed arrays: same shape (one run), tensor with scalar (one run, stride
 * 0), and a bias row added to every row of a matrix (one run per row). Each op has its own loops,
 * so the JIT sees one monomorphic arithmetic operation per loop.
 *
 * A number operand is rounded to float32 first, as PyTorch does when it combines a float32 tensor
 * with a Python scalar; each result is then the correctly rounded float32 of the exact result.
 */
import { recordOp } from '../autograd/record.js';
import { sumToShape } from '../autograd/sum-to-shape.js';
import { invalidArgument } from '../errors.js';
import { negated, negateInPlace } from './unary.js';
import { binaryForward, NATIVE_BINARY_MIN_ELEMENTS } from '../ops/elementwise.js';
import { allocateUninitialized, broadcastShapes, broadcastStrides, shapeSize, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

type Op = 'add' | 'sub' | 'mul' | 'div';

interface Operand {
  data: Float32Array;
  shape: Shape;
}

function operand(value: unknown, op: Op, which: 'first' | 'second'): Operand {
  if (value instanceof Tensor) return value;
  if (typeof value === 'number') return { data: Float32Array.of(value), shape: [] };
  throw invalidArgument(`the ${which} operand of ${op}()`, 'a Tensor or a number', value);
}

/**
 * One contiguous run: `out[o + i] = a[ia + i*sa] op b[ib + i*sb]` for i < n, with sa, sb in {0, 1}.
 */
function run(
  op: Op,
  n: number,
  out: Float32Array,
  o: number,
  a: Float32Array,
  ia: number,
  sa: number,
  b: Float32Array,
  ib: number,
  sb: number,
): void {
  if (sa === 1 && sb === 1) {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) + (b[ib + i] as number); return;
      case 'sub': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) - (b[ib + i] as number); return;
      case 'mul': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) * (b[ib + i] as number); return;
      case 'div': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) / (b[ib + i] as number); return;
    }
  }
  if (sa === 1) {
    const y = b[ib] as number;
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) + y; return;
      case 'sub': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) - y; return;
      case 'mul': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) * y; return;
      case 'div': for (let i = 0; i < n; i++) out[o + i] = (a[ia + i] as number) / y; return;
    }
  }
  const x = a[ia] as number;
  if (sb === 1) {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[o + i] = x + (b[ib + i] as number); return;
      case 'sub': for (let i = 0; i < n; i++) out[o + i] = x - (b[ib + i] as number); return;
      case 'mul': for (let i = 0; i < n; i++) out[o + i] = x * (b[ib + i] as number); return;
      case 'div': for (let i = 0; i < n; i++) out[o + i] = x / (b[ib + i] as number); return;
    }
  }
  const y = b[ib] as number;
  let v: number;
  switch (op) {
    case 'add': v = x + y; break;
    case 'sub': v = x - y; break;
    case 'mul': v = x * y; break;
    case 'div': v = x / y; break;
  }
  out.fill(v, o, o + n);
}

function binary(op: Op, av: unknown, bv: unknown): Tensor {
  const a = operand(av, op, 'first');
  const b = operand(bv, op, 'second');
  const shape = broadcastShapes(a.shape, b.shape, op);
  const size = shapeSize(shape);
  const out = allocateUninitialized(size, op); // every path below writes every element
  if (size === 0) return new Tensor(out, shape);
  const stA = broadcastStrides(a.shape, shape);
  const stB = broadcastStrides(b.shape, shape);
  // Drop size-1 dimensions and merge neighbours both operands walk contiguously (or both skip).
  const dims: number[] = [];
  const sa: number[] = [];
  const sb: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d] as number;
    if (n === 1) continue;
    const ad = stA[d] as number;
    const bd = stB[d] as number;
    const last = dims.length - 1;
    if (last >= 0 && sa[last] === ad * n && sb[last] === bd * n) {
      dims[last] = (dims[last] as number) * n;
      sa[last] = ad;
      sb[last] = bd;
    } else {
      dims.push(n);
      sa.push(ad);
      sb.push(bd);
    }
  }
  if (dims.length === 0) {
    run(op, 1, out, 0, a.data, 0, 0, b.data, 0, 0);
    return new Tensor(out, shape);
  }
  const inner = dims.length - 1;
  const n = dims[inner] as number;
  const ia = sa[inner] as number;
  const ib = sb[inner] as number;
  if (inner === 0) {
    // Two whole arrays of one shape (a residual addition): the threaded native loop.
    if (ia === 1 && ib === 1 && n >= NATIVE_BINARY_MIN_ELEMENTS && a.data.length === n && b.data.length === n) {
      binaryForward(op, a.data, b.data, out);
      return new Tensor(out, shape);
    }
    run(op, n, out, 0, a.data, 0, ia, b.data, 0, ib);
    return new Tensor(out, shape);
  }
  if (inner === 1) {
    const rows = dims[0] as number;
    const ra = sa[0] as number;
    const rb = sb[0] as number;
    for (let r = 0; r < rows; r++) run(op, n, out, r * n, a.data, r * ra, ia, b.data, r * rb, ib);
    return new Tensor(out, shape);
  }
  // General case: an odometer over the outer dimensions.
  const counter = new Array<number>(inner).fill(0);
  let offA = 0;
  let offB = 0;
  for (let o = 0; o < size; o += n) {
    run(op, n, out, o, a.data, offA, ia, b.data, offB, ib);
    for (let d = inner - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (dims[d] as number)) {
        counter[d] = c;
        offA += sa[d] as number;
        offB += sb[d] as number;
        break;
      }
      counter[d] = 0;
      offA -= (c - 1) * (sa[d] as number);
      offB -= (c - 1) * (sb[d] as number);
    }
  }
  return new Tensor(out, shape);
}

/** The tensor operand, or null for a number (which gets no gradient). */
function tensorOrNull(v: Tensor | number): Tensor | null {
  return v instanceof Tensor ? v : null;
}

/**
 * Elementwise `a + b`. Shapes broadcast as in NumPy and PyTorch: trailing dimensions are aligned,
 * and each pair must be equal or contain a 1. A number acts as a 0-d tensor.
 *
 * Backward: `gradOutput` summed down to each operand's shape; an operand of the output's shape gets
 * `gradOutput` itself (no copy).
 * @throws ShapeError when the shapes do not broadcast.
 */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  const out = binary('add', a, b);
  const ta = tensorOrNull(a);
  const tb = tensorOrNull(b);
  return recordOp('add', out, [ta, tb], (g, needs) => [
    ta === null || !needs[0] ? null : sumToShape(g, ta.shape),
    tb === null || !needs[1] ? null : sumToShape(g, tb.shape),
  ]);
}

/** Elementwise `a - b` with broadcasting; see {@link add}. */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  const out = binary('sub', a, b);
  const ta = tensorOrNull(a);
  const tb = tensorOrNull(b);
  return recordOp('sub', out, [ta, tb], (g, needs) => {
    let gb: Tensor | null = null;
    if (tb !== null && needs[1]) {
      const summed = sumToShape(g, tb.shape);
      gb = summed === g ? negated(g) : negateInPlace(summed); // sum first: fewer elements to negate
    }
    return [ta === null || !needs[0] ? null : sumToShape(g, ta.shape), gb];
  });
}

/** Elementwise `a * b` with broadcasting; see {@link add}. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  const out = binary('mul', a, b);
  const ta = tensorOrNull(a);
  const tb = tensorOrNull(b);
  return recordOp('mul', out, [ta, tb], (g, needs) => [
    ta === null || !needs[0] ? null : sumToShape(binary('mul', g, b), ta.shape),
    tb === null || !needs[1] ? null : sumToShape(binary('mul', g, a), tb.shape),
  ]);
}

/**
 * Elementwise true division `a / b` with broadcasting; see {@link add}. Division by zero follows
 * IEEE 754: `±inf`, or NaN for `0 / 0`.
 *
 * Backward (PyTorch's formulas and order of operations): `da = g / b`, `db = -g * ((a / b) / b)`,
 * each summed down to its operand's shape.
 */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  const out = binary('div', a, b);
  const ta = tensorOrNull(a);
  const tb = tensorOrNull(b);
  return recordOp('div', out, [ta, tb], (g, needs) => [
    ta === null || !needs[0] ? null : sumToShape(binary('div', g, b), ta.shape),
    // PyTorch: -g * ((a / b) / b), where a / b is the output. Negating after the sum gives the same
    // values (fewer elements to negate).
    tb === null || !needs[1] ? null : negateInPlace(sumToShape(binary('mul', g, binary('div', out, tb)), tb.shape)),
  ]);
}
