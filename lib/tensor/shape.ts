/**
 * Shapes: validation, sizes, strides, axes and broadcasting. Every op checks its shape and axis
 * arguments through these helpers, so a wrong shape reads the same whichever op it reached.
 */
import { ShapeError, invalidArgument } from '../errors.js';

/** A tensor shape: one non-negative integer per dimension, outermost first. */
export type Shape = readonly number[];

/**
 * Shape arguments in either spelling: one array (`zeros([2, 3])`) or one number per dimension
 * (`zeros(2, 3)`).
 */
export type ShapeArgs = [shape: Shape] | number[];

/** Formats a shape (or any array a caller passed as one) as `[2, 3]`. */
export function formatShape(shape: readonly unknown[]): string {
  return `[${shape.map(formatEntry).join(', ')}]`;
}

function formatEntry(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return formatShape(v);
  return String(v);
}

/** Number of elements of a shape (1 for the 0-d shape `[]`). */
export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor of this shape, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] ?? 1;
  }
  return strides;
}

/** True when every entry is an integer >= 0. */
function isDims(value: readonly unknown[]): value is number[] {
  return value.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0);
}

/** The one wording for a bad dimension list, used by every op. */
export function invalidShape(op: string, shape: readonly unknown[], allowInfer = false): ShapeError {
  const rule = `dimensions must be non-negative integers${allowInfer ? ', or -1 once' : ''}`;
  return new ShapeError(`${op}: invalid shape ${formatShape(shape)}: ${rule}`);
}

/**
 * Checks that `shape` is an array of non-negative integers whose element count is a safe integer,
 * and returns a fresh copy of it.
 */
export function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw invalidArgument(`the shape of ${op}()`, 'an array of non-negative integers', shape);
  if (!isDims(shape)) throw invalidShape(op, shape);
  const size = shapeSize(shape);
  if (!Number.isSafeInteger(size)) {
    throw new ShapeError(`${op}: shape ${formatShape(shape)} has too many elements (${size})`);
  }
  return shape.map((d) => (d === 0 ? 0 : d)); // a copy, with -0 written as 0
}

/** Reads shape arguments given as one array or as one number per dimension, and checks them. */
export function parseShapeArgs(args: readonly unknown[], op: string): number[] {
  if (args.length === 0) throw invalidArgument(`the shape of ${op}()`, 'an array of non-negative integers', undefined);
  if (args.length === 1 && typeof args[0] !== 'number') return checkShape(args[0], op);
  return checkShape(args.slice(), op);
}

export { allocate, allocateUninitialized } from './buffer-arena.js';

/**
 * Checks one axis against a rank and returns it in 0..rank-1. Negative axes count from the end.
 * A 0-d tensor accepts axis 0 and -1, as in PyTorch.
 */
export function normalizeAxis(axis: unknown, rank: number, op: string, what = 'axis'): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis)) {
    throw invalidArgument(`the ${what} of ${op}()`, 'an integer', axis);
  }
  const r = Math.max(rank, 1);
  if (axis < -r || axis >= r) {
    throw new ShapeError(
      `${op}: ${what} ${axis} is out of range for a tensor of rank ${rank} (expected ${-r}..${r - 1})`,
    );
  }
  return axis < 0 ? axis + r : axis;
}

/** Checks a list of distinct axes; returns them normalized and sorted ascending. */
export function normalizeAxes(axes: unknown, rank: number, op: string, what = 'axis'): number[] {
  if (!Array.isArray(axes)) return [normalizeAxis(axes, rank, op, what)];
  const out = axes.map((a) => normalizeAxis(a, rank, op, what));
  const seen = new Set<number>();
  for (let i = 0; i < out.length; i++) {
    const a = out[i] as number;
    if (seen.has(a)) {
      throw new ShapeError(`${op}: ${what} ${String(axes[i])} appears more than once in ${formatShape(axes)}`);
    }
    seen.add(a);
  }
  return out.sort((x, y) => x - y);
}

/**
 * The broadcast shape of two shapes under NumPy/PyTorch rules (align trailing dimensions; each
 * pair must be equal or contain a 1), or `undefined` when they do not broadcast.
 */
export function tryBroadcastShapes(a: Shape, b: Shape): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Like {@link tryBroadcastShapes}, but throws a ShapeError naming both shapes and the op. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const out = tryBroadcastShapes(a, b);
  if (out !== undefined) return out;
  const rank = Math.max(a.length, b.length);
  let detail = '';
  for (let i = rank - 1; i >= 0; i--) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      detail = ` (sizes ${da} and ${db} at dimension ${i - rank} differ and neither is 1)`;
      break;
    }
  }
  throw new ShapeError(`${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast${detail}`);
}

/**
 * Strides for reading a contiguous tensor of shape `from` as if it had the broadcast shape `to`:
 * 0 for dimensions that are broadcast (missing or size 1), the row-major stride otherwise.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const own = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const lead = to.length - from.length;
  for (let d = 0; d < from.length; d++) {
    if ((from[d] ?? 1) !== 1) out[lead + d] = own[d] ?? 0;
  }
  return out;
}
