/**
 * Creating tensors: from JS data ({@link tensor}), filled ({@link zeros}, {@link ones},
 * {@link full}) and ranges ({@link arange}). Random tensors are in random.ts.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { allocate, checkShape, formatShape, parseShapeArgs, shapeSize, type Shape } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

/** Options every creation function accepts. */
export interface CreateOptions {
  /** Make the new tensor a leaf that requires grad (default false). */
  requiresGrad?: boolean;
}

/** True for an options object (a plain object, not an array or a typed array). */
function isOptions(value: unknown): value is CreateOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

/** Applies {@link CreateOptions} to a new tensor (validating them) and returns it. */
export function applyCreateOptions(t: Tensor, options: unknown, op: string): Tensor {
  if (options === undefined) return t;
  if (!isOptions(options)) throw invalidArgument(`the options of ${op}()`, 'an object such as { requiresGrad: true }', options);
  const flag = options.requiresGrad;
  if (flag === undefined) return t;
  if (typeof flag !== 'boolean') throw invalidArgument(`requiresGrad of ${op}()`, 'a boolean', flag);
  t.requiresGrad = flag;
  return t;
}

/** Splits trailing options off shape arguments given as `(shape, options?)` or `(...dims)`. */
function splitOptions(args: readonly unknown[]): [unknown[], unknown] {
  const last = args[args.length - 1];
  if (args.length > 1 && (isOptions(last) || last === undefined)) return [args.slice(0, -1), last];
  return [args.slice(), undefined];
}

/** Typed arrays whose elements are numbers; they are copied (converted) to float32. */
export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

/** What {@link tensor} accepts: a number, nested arrays of numbers, or a numeric typed array. */
export type TensorData = NestedArray | NumericArray;

function isNumericArray(value: unknown): value is NumericArray {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}

function path(index: readonly number[]): string {
  return `data${index.map((i) => `[${i}]`).join('')}`;
}

/** Deeper nesting is refused: it is almost surely a cyclic array, which would never end. */
const MAX_NESTING = 64;

/** Infers the shape of nested arrays from their first elements. */
function inferShape(data: readonly unknown[]): number[] {
  const dims: number[] = [];
  let cur: unknown = data;
  while (Array.isArray(cur)) {
    if (dims.length === MAX_NESTING) {
      throw new ShapeError(`tensor: data is nested more than ${MAX_NESTING} levels deep (is an array inside itself?)`);
    }
    dims.push(cur.length);
    cur = cur[0];
  }
  return dims;
}

/** Copies nested arrays of the inferred shape into `out`, checking every entry. */
function fill(out: Float32Array, data: readonly unknown[], dims: readonly number[]): void {
  const rank = dims.length;
  let pos = 0;
  const index: number[] = [];
  const walk = (value: readonly unknown[], depth: number): void => {
    const want = dims[depth] as number;
    if (value.length !== want) {
      const first = index.map(() => 0);
      throw new ShapeError(
        `tensor: ragged nested array: ${path(index)} has ${value.length} elements but ${path(first)} has ${want}`,
      );
    }
    if (depth === rank - 1) {
      // Leaves: a tight loop; the error path rebuilds the index.
      for (let i = 0; i < want; i++) {
        const v = value[i];
        if (typeof v !== 'number') {
          index.push(i);
          if (Array.isArray(v)) {
            const first = index.map(() => 0);
            throw new ShapeError(
              `tensor: ragged nested array: ${path(index)} is an array but ${path(first)} is a number`,
            );
          }
          throw invalidArgument(`${path(index)} of tensor()`, 'a number', v);
        }
        out[pos++] = v;
      }
      return;
    }
    for (let i = 0; i < want; i++) {
      const v = value[i];
      index.push(i);
      if (Array.isArray(v)) {
        walk(v, depth + 1);
      } else {
        if (typeof v === 'number') {
          const first = index.map(() => 0);
          throw new ShapeError(
            `tensor: ragged nested array: ${path(index)} is a number but ${path(first)} is an array`,
          );
        }
        throw invalidArgument(`${path(index)} of tensor()`, 'an array', v);
      }
      index.pop();
    }
  };
  walk(data, 0);
}

/**
 * A new tensor holding a copy of `data`.
 * - A number gives a 0-d tensor (shape `[]`).
 * - Nested arrays give their shape (`[[1, 2, 3], [4, 5, 6]]` is `[2, 3]`); they must not be ragged.
 * - A flat array or a numeric typed array is 1-d unless `shape` is given.
 * When `shape` is given, the data is laid out in that shape and must have exactly its size.
 * Values are rounded to float32; NaN and ±Infinity are kept. `{ requiresGrad: true }` (after the
 * shape, or in its place) makes the result a leaf that requires grad.
 * @throws ArgumentError for a non-numeric entry (the message names its index), ShapeError for
 *   ragged arrays or a size that does not match `shape`.
 */
export function tensor(data: TensorData, options?: CreateOptions): Tensor;
export function tensor(data: TensorData, shape?: Shape, options?: CreateOptions): Tensor;
export function tensor(data: TensorData, shapeOrOptions?: Shape | CreateOptions, options?: CreateOptions): Tensor {
  const optionsFirst = isOptions(shapeOrOptions);
  const shape = optionsFirst ? undefined : shapeOrOptions;
  return applyCreateOptions(build(data, shape), optionsFirst ? shapeOrOptions : options, 'tensor');
}

function build(data: TensorData, shape: Shape | undefined): Tensor {
  const want = shape === undefined ? undefined : checkShape(shape, 'tensor');
  let values: Float32Array;
  let dims: number[];
  if (typeof data === 'number') {
    values = Float32Array.of(data);
    dims = [];
  } else if (isNumericArray(data)) {
    values = Float32Array.from(data);
    dims = [values.length];
  } else if (Array.isArray(data)) {
    dims = inferShape(data);
    values = allocate(shapeSize(dims), 'tensor');
    fill(values, data, dims);
  } else {
    throw invalidArgument('the data of tensor()', 'a number, an array of numbers or a typed array', data);
  }
  if (want === undefined) return new Tensor(values, dims);
  const need = shapeSize(want);
  if (need !== values.length) {
    throw new ShapeError(`tensor: data has ${values.length} elements but shape ${formatShape(want)} needs ${need}`);
  }
  return new Tensor(values, want);
}

/** A tensor of zeros: `zeros([2, 3])`, `zeros(2, 3)` or `zeros([2, 3], { requiresGrad: true })`. */
export function zeros(shape: Shape, options?: CreateOptions): Tensor;
export function zeros(...shape: number[]): Tensor;
export function zeros(...args: unknown[]): Tensor {
  const [rest, options] = splitOptions(args);
  const shape = parseShapeArgs(rest, 'zeros');
  return applyCreateOptions(new Tensor(allocate(shapeSize(shape), 'zeros'), shape), options, 'zeros');
}

/** A tensor of ones: `ones([2, 3])`, `ones(2, 3)` or `ones([2, 3], { requiresGrad: true })`. */
export function ones(shape: Shape, options?: CreateOptions): Tensor;
export function ones(...shape: number[]): Tensor;
export function ones(...args: unknown[]): Tensor {
  const [rest, options] = splitOptions(args);
  const shape = parseShapeArgs(rest, 'ones');
  return applyCreateOptions(new Tensor(allocate(shapeSize(shape), 'ones').fill(1), shape), options, 'ones');
}

/** A tensor of the given shape with every element `value` (rounded to float32). */
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor {
  const dims = checkShape(shape, 'full');
  if (typeof value !== 'number') throw invalidArgument('the value of full()', 'a number', value);
  return applyCreateOptions(new Tensor(allocate(shapeSize(dims), 'full').fill(value), dims), options, 'full');
}

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidArgument(`the ${name} of arange()`, 'a finite number', value);
  }
  return value;
}

/**
 * A 1-d tensor of `start, start + step, ...` up to but excluding `end`, with PyTorch's semantics:
 * `ceil((end - start) / step)` elements, each `start + i * step` computed in float64 and rounded
 * to float32. `arange(end)` starts at 0 with step 1; the step may be negative or fractional.
 * A final `{ requiresGrad: true }` makes the result a leaf that requires grad.
 * @throws ArgumentError for a step of 0, non-finite bounds, or a step that leads away from `end`.
 */
export function arange(end: number, options?: CreateOptions): Tensor;
export function arange(start: number, end: number, step?: number, options?: CreateOptions): Tensor;
export function arange(start: number, end: number, options: CreateOptions): Tensor;
export function arange(...args: unknown[]): Tensor {
  const [rest, options] = splitOptions(args);
  return applyCreateOptions(range(...(rest as [number, number?, number?])), options, 'arange');
}

function range(a: number, b?: number, c?: number): Tensor {
  const start = b === undefined ? 0 : finite(a, 'start');
  const end = b === undefined ? finite(a, 'end') : finite(b, 'end');
  const step = c === undefined ? 1 : finite(c, 'step');
  if (step === 0) throw new ArgumentError('arange: step must be nonzero');
  if ((step > 0 && end < start) || (step < 0 && end > start)) {
    throw new ArgumentError(
      `arange: cannot go from ${start} to ${end} with step ${step} (the step must point from start to end)`,
    );
  }
  const count = Math.max(0, Math.ceil((end - start) / step)); // max: no -0 from ceil(-0)
  if (!Number.isSafeInteger(count)) {
    throw new ArgumentError(`arange: ${start} to ${end} with step ${step} has too many elements`);
  }
  const out = allocate(count, 'arange');
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  return new Tensor(out, [count]);
}
