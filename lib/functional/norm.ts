/**
 * Normalisation: `batchNorm` and `localResponseNorm`, as `torch.nn.functional` defines them. Each runs
 * native kernels forward and records its backward on the tape (input, weight and bias gradients,
 * each computed only when needed).
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { batchNormBackward, batchNormForwardEval, batchNormForwardTrain, lrnBackward, lrnForward, type NormDims } from '../ops/norm.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export interface BatchNormOptions {
  /** Per-channel scale (gamma), shape [C]; default none (1). */
  weight?: Tensor | null;
  /** Per-channel shift (beta), shape [C]; default none (0). */
  bias?: Tensor | null;
  /** Normalise with the batch statistics and update the running ones (default false). */
  training?: boolean;
  /** Weight of the new batch statistic in the running average (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

export interface LocalResponseNormOptions {
  /** Scale of the sum of squares (default 1e-4; PyTorch divides it by size). */
  alpha?: number;
  /** Exponent (default 0.75). */
  beta?: number;
  /** Additive constant (default 1). */
  k?: number;
}

function finite(op: string, name: string, value: unknown, fallback: number, min = -Infinity): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw invalidArgument(`${name} of ${op}`, min === 0 ? 'a finite number >= 0' : 'a finite number', value);
  }
  return v;
}

function channelVector(op: string, name: string, value: unknown, channels: number, xShape: readonly number[]): Tensor | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Tensor)) throw invalidArgument(`${name} of ${op}`, 'a Tensor or null', value);
  if (value.ndim !== 1 || value.shape[0] !== channels) {
    throw new ShapeError(`${op}: ${name} has shape ${formatShape(value.shape)} but the input ${formatShape(xShape)} has ${channels} channels`);
  }
  return value;
}

/**
 * Batch normalisation over the channel axis of `[N, C]`, `[N, C, L]`, `[N, C, H, W]` or
 * `[N, C, D, H, W]`, as `torch.nn.functional.batch_norm`:
 * `y = (x - mean) / sqrt(var + eps) * weight + bias` per channel.
 *
 * With `training: true` the mean and (biased) variance are those of the batch, and the running
 * statistics, when given, are updated in place:
 * `running = (1 - momentum) * running + momentum * batch`, with the unbiased variance for
 * `runningVar`, exactly as PyTorch. With `training: false` (the default) the running statistics are
 * used and left unchanged. The backward gives the input gradient through the batch statistics in
 * training mode (and through fixed statistics in inference mode), and the weight and bias gradients.
 *
 * Statistics are computed in one pass of shifted sums accumulated in double (accurate even when the
 * mean is large against the spread). Running statistics are never part of the gradient.
 *
 * Differs from PyTorch: `runningMean` and `runningVar` must be given together (both or neither), a
 * negative `eps` is an ArgumentError, and `momentum` cannot be null (no cumulative average).
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, options: BatchNormOptions = {}): Tensor {
  const op = 'batchNorm';
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${op}`, 'a Tensor', x);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument(`the options of ${op}`, 'an object such as { training: true }', options);
  }
  if (x.ndim < 2) throw new ShapeError(`${op}: expected an input of at least 2 dimensions [N, C, ...], received shape ${formatShape(x.shape)}`);
  const d: NormDims = { n: x.shape[0]!, c: x.shape[1]!, s: x.shape.slice(2).reduce((a, b) => a * b, 1) };
  const rm = channelVector(op, 'runningMean', runningMean, d.c, x.shape);
  const rv = channelVector(op, 'runningVar', runningVar, d.c, x.shape);
  if ((rm === null) !== (rv === null)) throw new ArgumentError(`${op}: runningMean and runningVar must both be given or both be null`);
  const weight = channelVector(op, 'weight', options.weight, d.c, x.shape);
  const bias = channelVector(op, 'bias', options.bias, d.c, x.shape);
  const training = options.training ?? false;
  if (typeof training !== 'boolean') throw invalidArgument(`training of ${op}`, 'a boolean', options.training);
  const momentum = finite(op, 'momentum', options.momentum, 0.1);
  const eps = finite(op, 'eps', options.eps, 1e-5, 0);

  let result;
  if (training) {
    if (d.n * d.s <= 1) {
      throw new ShapeError(`${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`);
    }
    result = batchNormForwardTrain(x.data, d, weight?.data ?? null, bias?.data ?? null, rm?.data ?? null, rv?.data ?? null, eps, momentum);
  } else {
    if (rm === null || rv === null) {
      throw new ArgumentError(`${op}: runningMean and runningVar are required when training is false (evaluation mode)`);
    }
    result = batchNormForwardEval(x.data, d, weight?.data ?? null, bias?.data ?? null, rm.data, rv.data, eps);
  }
  const saved = { mean: result.mean, invstd: result.invstd };
  return recordOp(op, new Tensor(result.y, x.shape), [x, weight, bias], (gy, needs) => {
    const g = batchNormBackward(x.data, gy.data, d, weight?.data ?? null, saved, training, {
      x: needs[0] === true,
      weight: needs[1] === true,
      bias: needs[2] === true,
    });
    return [
      g.gx === null ? null : new Tensor(g.gx, x.shape),
      g.gweight === null ? null : new Tensor(g.gweight, [d.c]),
      g.gbias === null ? null : new Tensor(g.gbias, [d.c]),
    ];
  });
}

/**
 * Local response normalisation across channels (AlexNet), exactly as
 * `torch.nn.functional.local_response_norm(x, size, alpha, beta, k)`:
 * `y[c] = x[c] / (k + alpha / size * sum x[c']^2) ^ beta`, the sum over channels
 * `c - floor(size / 2) <= c' <= c + floor((size - 1) / 2)` inside the input (PyTorch's asymmetric
 * window for even sizes; the divisor is `size` even where the window is clipped). `x` is
 * `[N, C, ...]` with at least 3 dimensions. The backward recomputes the sums from `x`.
 */
export function localResponseNorm(x: Tensor, size: number, options: LocalResponseNormOptions = {}): Tensor {
  const op = 'localResponseNorm';
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${op}`, 'a Tensor', x);
  if (x.ndim < 3) throw new ShapeError(`${op}: expected an input of at least 3 dimensions [N, C, ...], received shape ${formatShape(x.shape)}`);
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 2 ** 30) {
    throw invalidArgument(`size of ${op}`, 'a positive integer', size);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument(`the options of ${op}`, 'an object such as { alpha: 1e-4, beta: 0.75, k: 1 }', options);
  }
  const p = {
    size,
    alpha: finite(op, 'alpha', options.alpha, 1e-4),
    beta: finite(op, 'beta', options.beta, 0.75),
    k: finite(op, 'k', options.k, 1),
  };
  const d: NormDims = { n: x.shape[0]!, c: x.shape[1]!, s: x.shape.slice(2).reduce((a, b) => a * b, 1) };
  const y = lrnForward(x.data, d, p);
  return recordOp(op, new Tensor(y, x.shape), [x], (gy, needs) => [needs[0] ? new Tensor(lrnBackward(x.data, gy.data, d, p), x.shape) : null]);
}
