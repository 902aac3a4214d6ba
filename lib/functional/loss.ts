/**
 * Losses: `F.crossEntropy`, `F.nllLoss`, `F.mseLoss`, `F.smoothL1Loss` and
 * `F.binaryCrossEntropyWithLogits`, with PyTorch's definitions and reductions. Each runs one native
 * kernel forward (cross entropy fuses the log-softmax and the NLL: no log-probability tensor is
 * formed) and records its backward on the tape. Sums are accumulated in double precision.
 *
 * Reductions (option `reduction`, default `'mean'`): `'none'` returns the loss of every position,
 * `'sum'` their sum, `'mean'` their sum divided by PyTorch's denominator: the sum of the class
 * weights of the targets that are not ignored (class-index targets), or the number of positions
 * (everything else). A mean over nothing is NaN, as in PyTorch.
 *
 * Class weights, `posWeight` and integer targets are constants: no gradient flows to them (PyTorch
 * does not differentiate them either). Probability targets of `crossEntropy` and the targets of the
 * pointwise losses do get gradients when they require grad.
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { readOptions, tensorArg } from '../ops/activation.js';
import {
  crossEntropyBackward,
  crossEntropyForward,
  nllLossBackward,
  nllLossForward,
  pointwiseLossBackward,
  pointwiseLossForward,
  type ClassLayout,
  type ClassLossKernelOptions,
  type ClassTarget,
  type LossSums,
  type PointwiseLossKernelOptions,
  type PointwiseLossKind,
} from '../ops/loss.js';
import { allocate, formatShape, shapeSize, stridesOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** How the per-position losses are combined. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Class indices: a Tensor holding integers, an Int32Array, or an array of integers (row-major). */
export type ClassIndices = Tensor | Int32Array | readonly number[];

export interface CrossEntropyOptions {
  /** One weight per class (shape [C]). */
  weight?: Tensor;
  /** Class-index targets equal to this are skipped (default -100). Must be negative with probabilities. */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** Mix the target with the uniform distribution: (1 - s) target + s / C (default 0, in [0, 1]). */
  labelSmoothing?: number;
}

export interface NllLossOptions {
  weight?: Tensor;
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface ReductionOptions {
  reduction?: Reduction;
}

export interface SmoothL1LossOptions {
  reduction?: Reduction;
  /** Where the loss switches from quadratic to linear (default 1, >= 0; 0 is the L1 loss). */
  beta?: number;
}

export interface BceWithLogitsOptions {
  /** Multiplies each element's loss; broadcast to the input's shape. */
  weight?: Tensor;
  /** Weight of the positive term, broadcast to the input's shape (typically [C], one per class). */
  posWeight?: Tensor;
  reduction?: Reduction;
}

// ---------------------------------------------------------------------------------------------
// Shared argument handling

const DEFAULT_IGNORE_INDEX = -100;

function reductionOf(op: string, value: unknown): Reduction {
  const r = value ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw invalidArgument(`reduction of ${op}()`, "'mean', 'sum' or 'none'", r);
  return r;
}

function int32Of(op: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw invalidArgument(`${name} of ${op}()`, 'a 32-bit integer', v);
  }
  return v;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** `[1, 0, 2]` for flat index 5 of shape [2, 2, 3]; '' for a 0-d shape. */
function formatIndex(flat: number, shape: Shape): string {
  if (shape.length === 0) return '';
  const strides = stridesOf(shape);
  return `[${strides.map((s, d) => Math.floor(flat / s) % (shape[d] as number)).join(', ')}]`;
}

/** The loss tensor for a reduction: the per-position losses, or a 0-d sum or mean. */
function reduced(reduction: Reduction, sums: LossSums, losses: Float32Array | null, shape: Shape): Tensor {
  if (reduction === 'none') return new Tensor(losses as Float32Array, shape);
  return new Tensor(Float32Array.of(reduction === 'sum' ? sums.total : sums.total / sums.weight), []);
}

/** The backward's per-position gradient as (grad array, scale); see lib/ops/loss.ts. */
function gradArgs(reduction: Reduction, g: Tensor, sums: LossSums): { grad: Float32Array | null; scale: number } {
  if (reduction === 'none') return { grad: g.data, scale: 1 };
  const g0 = g.data[0] as number;
  return { grad: null, scale: reduction === 'sum' ? g0 : g0 / sums.weight };
}

// ---------------------------------------------------------------------------------------------
// Class losses

interface ClassInput {
  layout: ClassLayout;
  /** The shape of one loss per position: the input's shape without the class dimension. */
  positions: number[];
}

function classInput(op: string, x: Tensor): ClassInput {
  const s = x.shape;
  if (s.length === 0) {
    throw new ShapeError(`${op}: the input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got shape []`);
  }
  if (s.length === 1) return { layout: { batch: 1, classes: s[0] as number, inner: 1 }, positions: [] };
  return {
    layout: { batch: s[0] as number, classes: s[1] as number, inner: shapeSize(s.slice(2)) },
    positions: [s[0] as number, ...s.slice(2)],
  };
}

function classWeight(op: string, value: unknown, classes: number): Float32Array | null {
  if (value === undefined || value === null) return null;
  const w = tensorArg(op, value, 'weight');
  if (w.ndim !== 1 || w.shape[0] !== classes) {
    throw new ShapeError(`${op}: weight must have shape [${classes}] (one value per class), got ${formatShape(w.shape)}`);
  }
  return w.data;
}

/** Reads class indices and checks each against the number of classes. */
function classIndices(op: string, target: unknown, input: Tensor, ci: ClassInput, ignoreIndex: number): Int32Array {
  const count = shapeSize(ci.positions);
  let out: Int32Array;
  if (target instanceof Tensor) {
    if (!sameShape(target.shape, ci.positions)) {
      throw new ShapeError(
        `${op}: target shape ${formatShape(target.shape)} does not fit input shape ${formatShape(input.shape)} ` +
          `(class indices need shape ${formatShape(ci.positions)})`,
      );
    }
    out = new Int32Array(count);
    const d = target.data;
    for (let i = 0; i < count; i++) {
      const v = d[i] as number;
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw invalidArgument(`target${formatIndex(i, ci.positions)} of ${op}()`, 'an integer class index', v);
      }
      out[i] = v;
    }
  } else if (target instanceof Int32Array || Array.isArray(target)) {
    if (target.length !== count) {
      throw new ShapeError(
        `${op}: target has ${target.length} class indices but the input of shape ${formatShape(input.shape)} has ${count} positions`,
      );
    }
    if (target instanceof Int32Array) {
      out = target;
    } else {
      out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v: unknown = target[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
          throw invalidArgument(`target[${i}] of ${op}()`, 'an integer class index', v);
        }
        out[i] = v;
      }
    }
  } else {
    throw invalidArgument(`the target of ${op}()`, 'a Tensor, an Int32Array or an array of class indices', target);
  }
  const classes = ci.layout.classes;
  for (let i = 0; i < count; i++) {
    const t = out[i] as number;
    if (t !== ignoreIndex && (t < 0 || t >= classes)) {
      throw new ArgumentError(
        `${op}: class index ${t} at target${formatIndex(i, ci.positions)} is out of range for ${classes} classes ` +
          `(expected 0 to ${classes - 1}, or ignoreIndex ${ignoreIndex})`,
      );
    }
  }
  return out;
}

/**
 * Cross entropy between logits and targets, PyTorch's `cross_entropy`: log-softmax over the class
 * dimension (dimension 1, or 0 for an unbatched [C] input) and negative log likelihood, fused in
 * one native kernel.
 *
 * `input` is [N, C], [N, C, d1, ...] (per-pixel classes) or [C]. `target` is either
 * - class indices, shaped like the input without the class dimension ([N], [N, d1, ...] or []): a
 *   Tensor holding integers, an Int32Array, or an array of integers (row-major); or
 * - class probabilities: a Tensor with the input's shape (it receives a gradient when it requires
 *   one).
 *
 * With class indices, `weight[c]` scales the loss of targets of class c, targets equal to
 * `ignoreIndex` are skipped, and 'mean' divides by the summed weights of the targets not ignored.
 * `labelSmoothing` s blends in the uniform distribution: the loss is (1 - s) times the NLL plus
 * s / C times sum_c weight[c] (-log p_c). With probabilities, `weight` scales each class's term
 * and 'mean' divides by the number of positions.
 *
 * Differs from PyTorch: index targets are validated in full, so an index that is neither in
 * [0, C) nor `ignoreIndex` is an ArgumentError naming it (PyTorch asserts); integer targets may be
 * float32 tensors holding integers (PyTorch needs an int64 tensor).
 * @throws ShapeError when target or weight do not fit the input; ArgumentError for bad indices,
 * options, or an `ignoreIndex` >= 0 with probability targets.
 */
export function crossEntropy(input: Tensor, target: ClassIndices, options?: CrossEntropyOptions): Tensor {
  const op = 'crossEntropy';
  const x = tensorArg(op, input);
  const opts = readOptions(op, options, ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing']);
  const reduction = reductionOf(op, opts['reduction']);
  const ignoreIndex = int32Of(op, 'ignoreIndex', opts['ignoreIndex'], DEFAULT_IGNORE_INDEX);
  const smoothing = opts['labelSmoothing'] ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) {
    throw invalidArgument(`labelSmoothing of ${op}()`, 'a number in [0, 1]', smoothing);
  }
  const ci = classInput(op, x);
  const kopts: ClassLossKernelOptions = {
    weight: classWeight(op, opts['weight'], ci.layout.classes),
    ignoreIndex,
    labelSmoothing: smoothing,
  };
  let tgt: ClassTarget;
  let probs: Tensor | null = null;
  if (target instanceof Tensor && sameShape(target.shape, x.shape)) {
    if (ignoreIndex >= 0) {
      throw new ArgumentError(
        `${op}: ignoreIndex ${ignoreIndex} is not supported with class-probability targets (as in PyTorch, only a negative ignoreIndex, which matches no class, is accepted)`,
      );
    }
    probs = target;
    tgt = { probs: target.data };
  } else {
    if (target instanceof Tensor && !sameShape(target.shape, ci.positions)) {
      throw new ShapeError(
        `${op}: target shape ${formatShape(target.shape)} fits neither class indices (shape ${formatShape(ci.positions)}) ` +
          `nor class probabilities (shape ${formatShape(x.shape)}) for input shape ${formatShape(x.shape)}`,
      );
    }
    tgt = { index: classIndices(op, target, x, ci, ignoreIndex) };
  }
  const count = shapeSize(ci.positions);
  const stats = allocate(2 * count, op);
  const losses = reduction === 'none' ? allocate(count, op) : null;
  const sums = crossEntropyForward(ci.layout, x.data, tgt, kopts, stats, losses);
  const out = reduced(reduction, sums, losses, ci.positions);
  const probsTensor = probs;
  return recordOp(op, out, [x, probsTensor], (g, needs) => {
    const dx = needs[0] ? allocate(x.size, op) : null;
    const dq = probsTensor !== null && needs[1] ? allocate(x.size, op) : null;
    if (dx === null && dq === null) return [null, null];
    const { grad, scale } = gradArgs(reduction, g, sums);
    crossEntropyBackward(ci.layout, x.data, tgt, kopts, stats, grad, scale, dx, dq);
    return [dx === null ? null : new Tensor(dx, x.shape), dq === null ? null : new Tensor(dq, x.shape)];
  });
}

/**
 * Negative log likelihood of class indices under log-probabilities, PyTorch's `nll_loss`:
 * `-weight[t] * input[n, t, ...]`. `input` is [N, C], [N, C, d1, ...] or [C]; `target` holds class
 * indices shaped like the input without dimension 1 (see {@link crossEntropy}).
 *
 * Differs from PyTorch: out-of-range indices are an ArgumentError naming them (PyTorch asserts).
 * @throws ShapeError when target or weight do not fit the input; ArgumentError for bad indices.
 */
export function nllLoss(input: Tensor, target: ClassIndices, options?: NllLossOptions): Tensor {
  const op = 'nllLoss';
  const x = tensorArg(op, input);
  const opts = readOptions(op, options, ['weight', 'ignoreIndex', 'reduction']);
  const reduction = reductionOf(op, opts['reduction']);
  const ignoreIndex = int32Of(op, 'ignoreIndex', opts['ignoreIndex'], DEFAULT_IGNORE_INDEX);
  const ci = classInput(op, x);
  const kopts: ClassLossKernelOptions = {
    weight: classWeight(op, opts['weight'], ci.layout.classes),
    ignoreIndex,
    labelSmoothing: 0,
  };
  const index = classIndices(op, target, x, ci, ignoreIndex);
  const count = shapeSize(ci.positions);
  const losses = reduction === 'none' ? allocate(count, op) : null;
  const sums = nllLossForward(ci.layout, x.data, index, kopts, losses);
  const out = reduced(reduction, sums, losses, ci.positions);
  return recordOp(op, out, [x], (g) => {
    const dx = allocate(x.size, op);
    const { grad, scale } = gradArgs(reduction, g, sums);
    nllLossBackward(ci.layout, index, kopts, grad, scale, dx);
    return [new Tensor(dx, x.shape)];
  });
}

// ---------------------------------------------------------------------------------------------
// Pointwise losses

/** `value` expanded to `shape` by broadcasting (its dimensions align with the trailing ones). */
function broadcastData(op: string, name: string, value: unknown, shape: Shape): Float32Array | null {
  if (value === undefined || value === null) return null;
  const t = tensorArg(op, value, name);
  if (sameShape(t.shape, shape)) return t.data;
  const lead = shape.length - t.ndim;
  const fits = lead >= 0 && t.shape.every((d, i) => d === 1 || d === shape[lead + i]);
  if (!fits) {
    throw new ShapeError(`${op}: ${name} of shape ${formatShape(t.shape)} does not broadcast to the input shape ${formatShape(shape)}`);
  }
  const out = allocate(shapeSize(shape), op);
  const own = stridesOf(t.shape);
  const outStrides = stridesOf(shape);
  for (let i = 0; i < out.length; i++) {
    let src = 0;
    for (let d = 0; d < t.ndim; d++) {
      if (t.shape[d] !== 1) src += (Math.floor(i / (outStrides[lead + d] as number)) % (shape[lead + d] as number)) * (own[d] as number);
    }
    out[i] = t.data[src] as number;
  }
  return out;
}

function pointwise(
  op: string,
  kind: PointwiseLossKind,
  input: unknown,
  target: unknown,
  reduction: Reduction,
  kopts: PointwiseLossKernelOptions,
): Tensor {
  const x = tensorArg(op, input);
  const t = tensorArg(op, target, 'target');
  if (!sameShape(x.shape, t.shape)) {
    throw new ShapeError(`${op}: input shape ${formatShape(x.shape)} and target shape ${formatShape(t.shape)} differ`);
  }
  const losses = reduction === 'none' ? allocate(x.size, op) : null;
  const sums = pointwiseLossForward(kind, x.data, t.data, kopts, losses);
  const out = reduced(reduction, sums, losses, x.shape);
  return recordOp(op, out, [x, t], (g, needs) => {
    const dx = needs[0] ? allocate(x.size, op) : null;
    const dt = needs[1] ? allocate(x.size, op) : null;
    const { grad, scale } = gradArgs(reduction, g, sums);
    pointwiseLossBackward(kind, x.data, t.data, kopts, grad, scale, dx, dt);
    return [dx === null ? null : new Tensor(dx, x.shape), dt === null ? null : new Tensor(dt, x.shape)];
  });
}

/**
 * Mean squared error `(input - target)^2`, PyTorch's `mse_loss`. Both get gradients.
 *
 * Differs from PyTorch: the shapes must be equal (PyTorch broadcasts them with a warning).
 * @throws ShapeError when the shapes differ.
 */
export function mseLoss(input: Tensor, target: Tensor, options?: ReductionOptions): Tensor {
  const opts = readOptions('mseLoss', options, ['reduction']);
  return pointwise('mseLoss', 'mse', input, target, reductionOf('mseLoss', opts['reduction']), {
    beta: 1,
    weight: null,
    posWeight: null,
  });
}

/**
 * Smooth L1 (Huber-like) loss, PyTorch's `smooth_l1_loss`, as used for bounding-box regression:
 * with d = |input - target|, `0.5 d^2 / beta` when d < beta, else `d - 0.5 beta`. `beta = 0` is
 * the L1 loss (and at d = 0 its gradient is -1, as in PyTorch).
 *
 * Differs from PyTorch: the shapes must be equal (no broadcasting).
 * @throws ShapeError when the shapes differ; ArgumentError for a negative or non-finite beta.
 */
export function smoothL1Loss(input: Tensor, target: Tensor, options?: SmoothL1LossOptions): Tensor {
  const op = 'smoothL1Loss';
  const opts = readOptions(op, options, ['reduction', 'beta']);
  const beta = opts['beta'] ?? 1;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
    throw invalidArgument(`beta of ${op}()`, 'a finite number >= 0', beta);
  }
  return pointwise(op, 'smoothL1', input, target, reductionOf(op, opts['reduction']), {
    beta,
    weight: null,
    posWeight: null,
  });
}

/**
 * Binary cross entropy on logits, PyTorch's `binary_cross_entropy_with_logits`:
 * `weight * ((1 - t) x + (1 + (posWeight - 1) t) log(1 + exp(-x)))`, evaluated in a form that
 * neither overflows nor cancels (for targets in [0, 1]). `weight` and `posWeight` broadcast to the
 * input's shape.
 *
 * Differs from PyTorch: input and target shapes must be equal (no broadcasting), and the result is
 * more accurate where PyTorch's float formula cancels (e.g. |x| ~ 20 with t ~ 0.01).
 * @throws ShapeError when the shapes differ or weight / posWeight do not broadcast.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options?: BceWithLogitsOptions): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  const x = tensorArg(op, input);
  const opts = readOptions(op, options, ['weight', 'posWeight', 'reduction']);
  const reduction = reductionOf(op, opts['reduction']);
  const weight = broadcastData(op, 'weight', opts['weight'], x.shape);
  const posWeight = broadcastData(op, 'posWeight', opts['posWeight'], x.shape);
  return pointwise(op, 'bceWithLogits', x, target, reduction, { beta: 1, weight, posWeight });
}
