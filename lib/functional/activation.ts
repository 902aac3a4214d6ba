/**
 * Activations and softmax: `F.relu`, `F.leakyRelu`, `F.relu6`, `F.sigmoid`, `F.tanh`, `F.gelu`,
 * `F.softmax`, `F.logSoftmax`. Each runs a native kernel forward (vectorised per instruction set,
 * threaded over large tensors) and records its backward on the tape. The backward reads what
 * PyTorch saves: the input for relu, leakyRelu, relu6 and gelu, the output for sigmoid, tanh,
 * softmax and logSoftmax.
 *
 * NaN handling is PyTorch's: every activation maps NaN to NaN, and a NaN or +inf anywhere along
 * the softmax dimension makes that whole slice NaN.
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, invalidArgument } from '../errors.js';
import {
  activationBackward,
  activationForward,
  activationSavesOutput,
  readOptions,
  tensorArg,
  type ActivationKind,
} from '../ops/activation.js';
import { softmaxBackward, softmaxForward, type SoftmaxLayout } from '../ops/softmax.js';
import { allocate, allocateUninitialized, normalizeAxis, shapeSize } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Runs one activation kernel and records its backward. */
function activation(op: string, kind: ActivationKind, x: Tensor, param = 0): Tensor {
  const out = new Tensor(allocateUninitialized(x.size, op), x.shape); // the kernel writes every element
  activationForward(kind, x.data, out.data, param);
  const saved = activationSavesOutput(kind) ? out : x;
  return recordOp(op, out, [x], (g) => {
    const dx = new Tensor(allocateUninitialized(x.size, op), x.shape);
    activationBackward(kind, saved.data, g.data, dx.data, param);
    return [dx];
  });
}

/**
 * `max(0, x)` elementwise. The gradient at 0 is 0; NaN gives NaN (and passes the gradient through,
 * as PyTorch's `threshold_backward` does).
 *
 * Differs from PyTorch: no `inplace` option (the output is always a new tensor).
 */
export function relu(input: Tensor, options?: Record<string, never>): Tensor {
  const x = tensorArg('relu', input);
  readOptions('relu', options, []);
  return activation('relu', 'relu', x);
}

export interface LeakyReluOptions {
  /** Slope for x <= 0 (default 0.01). Any finite number. */
  negativeSlope?: number;
}

/**
 * `x` for x > 0, `negativeSlope * x` otherwise.
 *
 * Differs from PyTorch: no `inplace` option.
 * @throws ArgumentError for a non-finite slope or an unknown option.
 */
export function leakyRelu(input: Tensor, options?: LeakyReluOptions): Tensor {
  const x = tensorArg('leakyRelu', input);
  const opts = readOptions('leakyRelu', options, ['negativeSlope']);
  const slope = opts['negativeSlope'] ?? 0.01;
  if (typeof slope !== 'number' || !Number.isFinite(slope)) {
    throw invalidArgument('negativeSlope of leakyRelu()', 'a finite number', slope);
  }
  return activation('leakyRelu', 'leakyRelu', x, slope);
}

/**
 * `min(max(0, x), 6)` (PyTorch's `hardtanh(x, 0, 6)`): the gradient is 0 at and beyond both kinks.
 *
 * Differs from PyTorch: no `inplace` option.
 */
export function relu6(input: Tensor, options?: Record<string, never>): Tensor {
  const x = tensorArg('relu6', input);
  readOptions('relu6', options, []);
  return activation('relu6', 'relu6', x);
}

/** `1 / (1 + exp(-x))`, computed without overflow for any x. The backward uses the output. */
export function sigmoid(input: Tensor, options?: Record<string, never>): Tensor {
  const x = tensorArg('sigmoid', input);
  readOptions('sigmoid', options, []);
  return activation('sigmoid', 'sigmoid', x);
}

/** The hyperbolic tangent. The backward uses the output: `dy * (1 - y^2)`. */
export function tanh(input: Tensor, options?: Record<string, never>): Tensor {
  const x = tensorArg('tanh', input);
  readOptions('tanh', options, []);
  return activation('tanh', 'tanh', x);
}

export interface GeluOptions {
  /**
   * `'none'` (default): the exact `x * Phi(x)` with the normal CDF Phi (through erf). `'tanh'`:
   * `x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
   */
  approximate?: 'none' | 'tanh';
}

/**
 * The Gaussian error linear unit, exact (erf) by default as in PyTorch.
 *
 * Differs from PyTorch: the far negative tail is more accurate (Phi comes from erfc there, so
 * `gelu(-6)` is -5.9e-9 rather than 0); the difference from PyTorch is below 1e-6 everywhere.
 * @throws ArgumentError when `approximate` is not `'none'` or `'tanh'`.
 */
export function gelu(input: Tensor, options?: GeluOptions): Tensor {
  const x = tensorArg('gelu', input);
  const opts = readOptions('gelu', options, ['approximate']);
  const approximate = opts['approximate'] ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw invalidArgument('approximate of gelu()', "'none' or 'tanh'", approximate);
  }
  return activation('gelu', approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
}

export interface SoftmaxOptions {
  /** The dimension to normalise over; negative counts from the end. Required. */
  dim: number;
}

function softmaxLayout(op: string, x: Tensor, options: unknown): SoftmaxLayout {
  const opts = readOptions(op, options, ['dim']);
  if (opts['dim'] === undefined) {
    throw new ArgumentError(`${op}: the dim option is required, e.g. ${op}(x, { dim: -1 }) for the last dimension`);
  }
  const dim = normalizeAxis(opts['dim'], x.ndim, op, 'dim');
  const shape = x.shape;
  return {
    outer: shapeSize(shape.slice(0, dim)),
    n: shape[dim] ?? 1,
    inner: shapeSize(shape.slice(dim + 1)),
  };
}

function softmaxOp(op: string, log: boolean, input: Tensor, options: unknown): Tensor {
  const x = tensorArg(op, input);
  const layout = softmaxLayout(op, x, options);
  const out = new Tensor(allocate(x.size, op), x.shape);
  softmaxForward(log, layout, x.data, out.data);
  return recordOp(op, out, [x], (g) => {
    const dx = new Tensor(allocate(x.size, op), x.shape);
    softmaxBackward(log, layout, out.data, g.data, dx.data);
    return [dx];
  });
}

/**
 * Softmax along `dim`: `exp(x - max) / sum(exp(x - max))`, stable for any finite input. A 0-d
 * tensor gives 1.
 *
 * Differs from PyTorch: `dim` is required (PyTorch's implicit choice is deprecated), and there is
 * no `dtype` option.
 * @throws ArgumentError when `dim` is missing; ShapeError when it is out of range.
 */
export function softmax(input: Tensor, options: SoftmaxOptions): Tensor {
  return softmaxOp('softmax', false, input, options);
}

/**
 * Log-softmax along `dim`: `(x - max) - log(sum(exp(x - max)))`, without forming the softmax, so
 * it stays accurate where the softmax underflows.
 *
 * Differs from PyTorch: `dim` is required and there is no `dtype` option.
 * @throws ArgumentError when `dim` is missing; ShapeError when it is out of range.
 */
export function logSoftmax(input: Tensor, options: SoftmaxOptions): Tensor {
  return softmaxOp('logSoftmax', true, input, options);
}
