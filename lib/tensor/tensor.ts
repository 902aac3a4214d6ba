/**
 * The Tensor class: a shape plus a contiguous row-major Float32Array owned by the JS heap.
 *
 * Import cycles: the op modules (elementwise, reduce, layout, matmul) import this class, and the
 * methods below call those ops. That cycle is safe in ESM because neither side touches the other
 * while its module is being evaluated: the ops use `Tensor` only inside function bodies, and the
 * methods here call the ops only when they run. Keep it that way: no top-level code in an op module
 * may construct a Tensor or subclass it.
 */
import { backward, type BackwardOptions } from '../autograd/backward.js';
import { recordOp } from '../autograd/record.js';
import type { GradNode } from '../autograd/node.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { add, div, mul, sub } from './elementwise.js';
import { formatTensor } from './format.js';
import { expand, flatten, permute, reshape, squeeze, transpose, unsqueeze, view } from './layout.js';
import { matmul } from './matmul.js';
import { max, mean, sum, type Axis, type ReduceOptions } from './reduce.js';
import { abs, exp, log, neg, pow, sqrt } from './unary.js';
import { checkShape, formatShape, shapeSize, stridesOf, type Shape, type ShapeArgs } from './shape.js';

/** A number, or nested arrays of numbers: what {@link Tensor.toArray} returns and `tensor()` reads. */
export type NestedArray = number | NestedArray[];

/**
 * A float32 tensor. `data` holds the elements contiguously in row-major order (the last dimension
 * varies fastest); `shape` lists the dimensions, outermost first. A 0-d tensor (shape `[]`) holds
 * one number.
 *
 * Memory belongs to the JS heap, so there is nothing to dispose. Several tensors may share one
 * `data` buffer (see {@link Tensor.view}); writing to `t.data` is visible through all of them.
 */
export class Tensor {
  /** The elements, row-major. Writable: writes show through every view of this buffer. */
  readonly data: Float32Array;
  /** The dimensions, outermost first (frozen). */
  readonly shape: Shape;
  /**
   * The accumulated gradient of a leaf tensor after `backward()` (null before). Gradients add up
   * over backward passes until reset (`t.grad = null`, or an optimiser's `zeroGrad()`).
   */
  grad: Tensor | null = null;
  private requiresGradFlag = false;
  private node: GradNode | null = null;

  /**
   * Wraps `data` (no copy) with a shape. `shape` defaults to `[data.length]`.
   * @throws ShapeError when `data.length` is not the product of `shape`.
   */
  constructor(data: Float32Array, shape?: Shape) {
    if (!(data instanceof Float32Array)) throw invalidArgument('the data of new Tensor()', 'a Float32Array', data);
    const dims = shape === undefined ? [data.length] : checkShape(shape, 'Tensor');
    const size = shapeSize(dims);
    if (size !== data.length) {
      throw new ShapeError(`Tensor: data has ${data.length} elements but shape ${formatShape(dims)} needs ${size}`);
    }
    this.data = data;
    this.shape = Object.freeze(dims);
  }

  /** Whether gradients flow to this tensor. Settable on leaves (tensors no op produced). */
  get requiresGrad(): boolean {
    return this.requiresGradFlag;
  }

  set requiresGrad(flag: boolean) {
    if (typeof flag !== 'boolean') throw invalidArgument('requiresGrad', 'a boolean', flag);
    if (this.node !== null) {
      throw new ArgumentError(
        `requiresGrad can only be changed on leaf tensors; this one was produced by '${this.node.name}' (use detach() for a leaf copy)`,
      );
    }
    this.requiresGradFlag = flag;
  }

  /** Sets {@link requiresGrad} (default true) and returns this tensor, for chaining. */
  requiresGrad_(flag = true): this {
    this.requiresGrad = flag;
    return this;
  }

  /** The op that produced this tensor while recording, or null for a leaf. */
  get gradFn(): GradNode | null {
    return this.node;
  }

  /** True for tensors no recorded op produced (inputs, parameters). */
  get isLeaf(): boolean {
    return this.node === null;
  }

  /** @internal Used by `recordOp()` when an op joins the tape. */
  setGradFn(node: GradNode): void {
    this.node = node;
    this.requiresGradFlag = true;
  }

  /**
   * Backpropagates from this tensor: every leaf that requires grad and contributed to it gets
   * its gradient added to `.grad`. A non-scalar tensor needs `gradOutput` (same shape). The tape is
   * freed afterwards unless `options.retainGraph` is set.
   */
  backward(gradOutput?: Tensor, options?: BackwardOptions): void {
    backward(this, gradOutput, options);
  }

  /** Keep the gradient of this non-leaf tensor in `.grad` during backward (leaves always keep it). */
  retainGrad(): void {
    if (this.node !== null) this.node.retained = this;
  }

  /** The same data as a new leaf that does not require grad (shares the buffer). */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** Number of dimensions (0 for a scalar tensor). */
  get ndim(): number {
    return this.shape.length;
  }

  /** Row-major strides in elements (one per dimension). */
  get strides(): number[] {
    return stridesOf(this.shape);
  }

  /**
   * The element at one index per dimension; negative indices count from the end.
   * @throws ArgumentError for a wrong number of indices or an index out of range.
   */
  get(...index: number[]): number {
    if (index.length !== this.shape.length) {
      throw new ArgumentError(
        `get: a tensor of shape ${formatShape(this.shape)} needs ${this.shape.length} indices, ` +
          `received ${index.length}`,
      );
    }
    let offset = 0;
    let stride = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      const size = this.shape[d] as number;
      const raw = index[d];
      if (typeof raw !== 'number' || !Number.isInteger(raw)) {
        throw invalidArgument(`index ${d} of get()`, 'an integer', raw);
      }
      if (raw < -size || raw >= size) {
        throw new ArgumentError(`get: index ${raw} is out of range for dimension ${d} of size ${size}`);
      }
      offset += (raw < 0 ? raw + size : raw) * stride;
      stride *= size;
    }
    return this.data[offset] as number;
  }

  /**
   * The value of a one-element tensor (any shape whose size is 1).
   * @throws ShapeError when the tensor does not have exactly one element.
   */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(
        `item: a tensor of shape ${formatShape(this.shape)} has ${this.data.length} elements; item() needs exactly one`,
      );
    }
    return this.data[0] as number;
  }

  /** The elements as nested arrays (a plain number for a 0-d tensor). */
  toArray(): NestedArray {
    if (this.shape.length === 0) return this.data[0] as number;
    const build = (dim: number, offset: number): NestedArray[] => {
      const n = this.shape[dim] as number;
      const out = new Array<NestedArray>(n);
      if (dim === this.shape.length - 1) {
        for (let i = 0; i < n; i++) out[i] = this.data[offset + i] as number;
        return out;
      }
      const stride = shapeSize(this.shape.slice(dim + 1));
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** A copy with its own buffer. Differentiable: the gradient passes through unchanged. */
  clone(): Tensor {
    return recordOp('clone', new Tensor(this.data.slice(), this.shape), [this], (g) => [g]);
  }

  /** `tensor([[1, 2], [3, 4]])`, summarised with `...` for large tensors. */
  toString(): string {
    return formatTensor(this);
  }

  /** So `console.log(t)` prints {@link Tensor.toString}. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  /** Elementwise `this + other` with broadcasting. See {@link add}. */
  add(other: Tensor | number): Tensor {
    return add(this, other);
  }

  /** Elementwise `this - other` with broadcasting. See {@link sub}. */
  sub(other: Tensor | number): Tensor {
    return sub(this, other);
  }

  /** Elementwise `this * other` with broadcasting. See {@link mul}. */
  mul(other: Tensor | number): Tensor {
    return mul(this, other);
  }

  /** Elementwise `this / other` with broadcasting. See {@link div}. */
  div(other: Tensor | number): Tensor {
    return div(this, other);
  }

  /** Sum over all elements or over `axis`. See {@link sum}. */
  sum(axis?: Axis | null, options?: ReduceOptions): Tensor {
    return sum(this, axis, options);
  }

  /** Mean over all elements or over `axis`. See {@link mean}. */
  mean(axis?: Axis | null, options?: ReduceOptions): Tensor {
    return mean(this, axis, options);
  }

  /** Maximum value over all elements or over `axis` (values only, like `torch.amax`). See {@link max}. */
  max(axis?: Axis | null, options?: ReduceOptions): Tensor {
    return max(this, axis, options);
  }

  /** Elementwise `-this`. See {@link neg}. */
  neg(): Tensor {
    return neg(this);
  }

  /** Elementwise absolute value. See {@link abs}. */
  abs(): Tensor {
    return abs(this);
  }

  /** Elementwise `e^this`. See {@link exp}. */
  exp(): Tensor {
    return exp(this);
  }

  /** Elementwise natural logarithm. See {@link log}. */
  log(): Tensor {
    return log(this);
  }

  /** Elementwise square root. See {@link sqrt}. */
  sqrt(): Tensor {
    return sqrt(this);
  }

  /** Elementwise `this ** exponent` for a number exponent. See {@link pow}. */
  pow(exponent: number): Tensor {
    return pow(this, exponent);
  }

  /** Matrix product with PyTorch's `matmul` rules. See {@link matmul}. */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }

  /** Same data, new shape (one dimension may be -1); shares the buffer. See {@link reshape}. */
  reshape(...shape: ShapeArgs): Tensor {
    return reshape(this, shapeFromArgs(shape, 'reshape'));
  }

  /** Same data, new shape (one dimension may be -1); always shares the buffer. See {@link view}. */
  view(...shape: ShapeArgs): Tensor {
    return view(this, shapeFromArgs(shape, 'view'));
  }

  /** Flattens dimensions `startDim..endDim` into one; shares the buffer. See {@link flatten}. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return flatten(this, startDim, endDim);
  }

  /** A copy broadcast to `shape` (-1 keeps a dimension). See {@link expand}. */
  expand(...shape: ShapeArgs): Tensor {
    return expand(this, shapeFromArgs(shape, 'expand'));
  }

  /** A copy with two dimensions swapped (both last two when omitted on a 2-d tensor). See {@link transpose}. */
  transpose(dim0?: number, dim1?: number): Tensor {
    return transpose(this, dim0, dim1);
  }

  /** A copy with the dimensions reordered. See {@link permute}. */
  permute(...dims: ShapeArgs): Tensor {
    return permute(this, shapeFromArgs(dims, 'permute'));
  }

  /** Removes size-1 dimensions (all of them, or only `dim`); shares the buffer. See {@link squeeze}. */
  squeeze(dim?: number): Tensor {
    return squeeze(this, dim);
  }

  /** Inserts a size-1 dimension at `dim`; shares the buffer. See {@link unsqueeze}. */
  unsqueeze(dim: number): Tensor {
    return unsqueeze(this, dim);
  }

  /** The tensor with its dimensions reversed (a copy): the matrix transpose for a 2-d tensor. */
  get T(): Tensor {
    return permute(this, this.shape.map((_, i) => this.shape.length - 1 - i));
  }
}

/** `f([2, 3])` and `f(2, 3)` both give `[2, 3]`; values are checked by the op itself. */
function shapeFromArgs(args: readonly unknown[], op: string): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return (args[0] as number[]).slice();
  if (args.every((a) => typeof a === 'number')) return args.slice() as number[];
  if (args.length === 1) throw invalidArgument(`the shape of ${op}()`, 'an array of integers', args[0]);
  throw invalidArgument(`the shape of ${op}()`, 'integers', args);
}
