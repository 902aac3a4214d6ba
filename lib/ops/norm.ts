/**
 * Batch norm and local response norm on the native kernels, over Float32Arrays seen as
 * `[n, c, s]` (s = the product of the spatial dimensions). The functional API (lib/functional/norm.ts)
 * checks shapes and options and adds autograd on top; the binding checks every length again.
 */
import { callNative } from '../native.js';
import { uninitialized } from './pool.js';

/** The three sizes every norm kernel takes. */
export interface NormDims {
  n: number;
  c: number;
  s: number;
}

interface NormNative {
  _batchNormForwardTrain(
    x: Float32Array, n: number, c: number, s: number, weight: Float32Array | null, bias: Float32Array | null,
    runningMean: Float32Array | null, runningVar: Float32Array | null, eps: number, momentum: number,
    y: Float32Array, saveMean: Float32Array, saveInvstd: Float32Array,
  ): void;
  _batchNormForwardEval(
    x: Float32Array, n: number, c: number, s: number, weight: Float32Array | null, bias: Float32Array | null,
    runningMean: Float32Array, runningVar: Float32Array, eps: number, y: Float32Array,
    saveMean: Float32Array | null, saveInvstd: Float32Array | null,
  ): void;
  _batchNormBackward(
    x: Float32Array, gy: Float32Array, n: number, c: number, s: number, weight: Float32Array | null,
    mean: Float32Array, invstd: Float32Array, training: boolean,
    gx: Float32Array | null, gweight: Float32Array | null, gbias: Float32Array | null,
  ): void;
  _lrnForward(x: Float32Array, n: number, c: number, s: number, size: number, alpha: number, beta: number, k: number, y: Float32Array): void;
  _lrnBackward(x: Float32Array, gy: Float32Array, n: number, c: number, s: number, size: number, alpha: number, beta: number, k: number, gx: Float32Array): void;
}

function norm<T>(fn: (n: NormNative) => T): T {
  return callNative((a) => fn(a as unknown as NormNative));
}

export interface BatchNormSaved {
  /** The mean used per channel (batch mean in training, a copy of the running mean otherwise). */
  mean: Float32Array;
  /** 1 / sqrt(var + eps) per channel. */
  invstd: Float32Array;
}

/**
 * Training-mode forward: batch statistics per channel (shifted sums in double), `y`, the saved
 * mean / invstd, and the running statistics updated in place (momentum, unbiased variance).
 */
export function batchNormForwardTrain(
  x: Float32Array, d: NormDims, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array | null, runningVar: Float32Array | null, eps: number, momentum: number,
): { y: Float32Array } & BatchNormSaved {
  const y = uninitialized(x.length, 'batchNorm');
  const mean = new Float32Array(d.c);
  const invstd = new Float32Array(d.c);
  norm((n) => n._batchNormForwardTrain(x, d.n, d.c, d.s, weight, bias, runningMean, runningVar, eps, momentum, y, mean, invstd));
  return { y, mean, invstd };
}

/** Inference-mode forward with the running statistics; also returns what the backward needs. */
export function batchNormForwardEval(
  x: Float32Array, d: NormDims, weight: Float32Array | null, bias: Float32Array | null,
  runningMean: Float32Array, runningVar: Float32Array, eps: number,
): { y: Float32Array } & BatchNormSaved {
  const y = uninitialized(x.length, 'batchNorm');
  const mean = new Float32Array(d.c);
  const invstd = new Float32Array(d.c);
  norm((n) => n._batchNormForwardEval(x, d.n, d.c, d.s, weight, bias, runningMean, runningVar, eps, y, mean, invstd));
  return { y, mean, invstd };
}

/** Gradients of batch norm; each output is computed only when asked for. */
export function batchNormBackward(
  x: Float32Array, gy: Float32Array, d: NormDims, weight: Float32Array | null, saved: BatchNormSaved, training: boolean,
  needs: { x: boolean; weight: boolean; bias: boolean },
): { gx: Float32Array | null; gweight: Float32Array | null; gbias: Float32Array | null } {
  const gx = needs.x ? uninitialized(x.length, 'batchNorm') : null;
  const gweight = needs.weight ? new Float32Array(d.c) : null;
  const gbias = needs.bias ? new Float32Array(d.c) : null;
  norm((n) => n._batchNormBackward(x, gy, d.n, d.c, d.s, weight, saved.mean, saved.invstd, training, gx, gweight, gbias));
  return { gx, gweight, gbias };
}

/** Local response norm parameters, as torch.nn.functional.local_response_norm takes them. */
export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** Local response norm across channels: `y = x / (k + alpha / size * window sum of x^2)^beta`. */
export function lrnForward(x: Float32Array, d: NormDims, p: LrnParams): Float32Array {
  const y = uninitialized(x.length, 'localResponseNorm');
  norm((n) => n._lrnForward(x, d.n, d.c, d.s, p.size, p.alpha, p.beta, p.k, y));
  return y;
}

/** The input gradient of local response norm (recomputes the window sums from x). */
export function lrnBackward(x: Float32Array, gy: Float32Array, d: NormDims, p: LrnParams): Float32Array {
  const gx = uninitialized(x.length, 'localResponseNorm');
  norm((n) => n._lrnBackward(x, gy, d.n, d.c, d.s, p.size, p.alpha, p.beta, p.k, gx));
  return gx;
}
