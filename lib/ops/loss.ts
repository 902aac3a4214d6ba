/**
 * Loss kernels on Float32Arrays: the TypeScript entry to native/kernels/loss.h. Forward functions
 * return `{ total, weight }` (the sum of the losses and PyTorch's denominator for reduction 'mean')
 * and fill `losses` when given; backward functions take the gradient of each position as
 * `grad[i] * scale` (or `scale` alone when `grad` is null). Reductions and autograd are in
 * lib/functional/loss.ts.
 */
import { ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';

/** Sum of the losses and the 'mean' denominator. */
export interface LossSums {
  total: number;
  weight: number;
}

/** A class-loss input viewed as [batch, classes, inner]; targets are [batch, inner]. */
export interface ClassLayout {
  batch: number;
  classes: number;
  inner: number;
}

/** Class indices (Int32Array) or class probabilities (Float32Array shaped like the logits). */
export type ClassTarget = { index: Int32Array } | { probs: Float32Array };

export interface ClassLossKernelOptions {
  weight: Float32Array | null;
  ignoreIndex: number;
  labelSmoothing: number;
}

/** The pointwise losses of the native kernel, by code. */
export type PointwiseLossKind = 'mse' | 'smoothL1' | 'bceWithLogits';

const POINTWISE_CODES: Record<PointwiseLossKind, number> = { mse: 0, smoothL1: 1, bceWithLogits: 2 };

export interface PointwiseLossKernelOptions {
  beta: number;
  /** BCE only: one value per element (already broadcast), or null. */
  weight: Float32Array | null;
  posWeight: Float32Array | null;
}

type F32 = Float32Array;
type Sums = [number, number];

interface LossNative {
  _crossEntropyForward(
    batch: number, classes: number, inner: number, logits: F32, target: Int32Array | null, probs: F32 | null,
    weight: F32 | null, ignoreIndex: number, labelSmoothing: number, stats: F32, losses: F32 | null,
  ): Sums;
  _crossEntropyBackward(
    batch: number, classes: number, inner: number, logits: F32, target: Int32Array | null, probs: F32 | null,
    weight: F32 | null, ignoreIndex: number, labelSmoothing: number, stats: F32, grad: F32 | null, scale: number,
    dlogits: F32 | null, dprobs: F32 | null,
  ): void;
  _nllLossForward(
    batch: number, classes: number, inner: number, logp: F32, target: Int32Array, weight: F32 | null,
    ignoreIndex: number, losses: F32 | null,
  ): Sums;
  _nllLossBackward(
    batch: number, classes: number, inner: number, target: Int32Array, weight: F32 | null, ignoreIndex: number,
    grad: F32 | null, scale: number, dlogp: F32,
  ): void;
  _pointwiseLossForward(
    kind: number, input: F32, target: F32, beta: number, weight: F32 | null, posWeight: F32 | null, losses: F32 | null,
  ): Sums;
  _pointwiseLossBackward(
    kind: number, input: F32, target: F32, beta: number, weight: F32 | null, posWeight: F32 | null, grad: F32 | null,
    scale: number, dinput: F32 | null, dtarget: F32 | null,
  ): void;
}

function call<T>(fn: (n: LossNative) => T): T {
  return callNative((a) => fn(a as unknown as LossNative));
}

function sums([total, weight]: Sums): LossSums {
  return { total, weight };
}

function length(op: string, name: string, a: { length: number } | null, want: number): void {
  if (a !== null && a.length !== want) throw new ShapeError(`${op}: ${name} has ${a.length} elements, expected ${want}`);
}

function layoutSizes(op: string, l: ClassLayout): { positions: number; elements: number } {
  for (const [name, v] of [['batch', l.batch], ['classes', l.classes], ['inner', l.inner]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(`${name} of ${op}`, 'a non-negative integer', v);
  }
  return { positions: l.batch * l.inner, elements: l.batch * l.classes * l.inner };
}

/**
 * Cross entropy forward (log-softmax and NLL fused). `stats` (2 * batch * inner floats) receives
 * what the backward needs.
 */
export function crossEntropyForward(
  layout: ClassLayout, logits: F32, target: ClassTarget, opts: ClassLossKernelOptions, stats: F32, losses: F32 | null,
): LossSums {
  const op = 'crossEntropy';
  const { positions, elements } = layoutSizes(op, layout);
  length(op, 'logits', logits, elements);
  length(op, 'stats', stats, 2 * positions);
  length(op, 'losses', losses, positions);
  const index = 'index' in target ? target.index : null;
  const probs = 'probs' in target ? target.probs : null;
  length(op, 'target', index, positions);
  length(op, 'probs', probs, elements);
  length(op, 'weight', opts.weight, layout.classes);
  return sums(call((n) => n._crossEntropyForward(layout.batch, layout.classes, layout.inner, logits, index, probs,
    opts.weight, opts.ignoreIndex, opts.labelSmoothing, stats, losses)));
}

/** Cross entropy backward: gradients of the logits and (probability targets only) of the probabilities. */
export function crossEntropyBackward(
  layout: ClassLayout, logits: F32, target: ClassTarget, opts: ClassLossKernelOptions, stats: F32, grad: F32 | null,
  scale: number, dlogits: F32 | null, dprobs: F32 | null,
): void {
  const op = 'crossEntropy backward';
  const { positions, elements } = layoutSizes(op, layout);
  length(op, 'grad', grad, positions);
  length(op, 'dlogits', dlogits, elements);
  length(op, 'dprobs', dprobs, elements);
  const index = 'index' in target ? target.index : null;
  const probs = 'probs' in target ? target.probs : null;
  call((n) => n._crossEntropyBackward(layout.batch, layout.classes, layout.inner, logits, index, probs, opts.weight,
    opts.ignoreIndex, opts.labelSmoothing, stats, grad, scale, dlogits, dprobs));
}

/** NLL forward on log-probabilities. */
export function nllLossForward(
  layout: ClassLayout, logp: F32, target: Int32Array, opts: ClassLossKernelOptions, losses: F32 | null,
): LossSums {
  const op = 'nllLoss';
  const { positions, elements } = layoutSizes(op, layout);
  length(op, 'input', logp, elements);
  length(op, 'target', target, positions);
  length(op, 'losses', losses, positions);
  return sums(call((n) => n._nllLossForward(layout.batch, layout.classes, layout.inner, logp, target, opts.weight,
    opts.ignoreIndex, losses)));
}

/** NLL backward: the gradient of the log-probabilities (zero except at the targets). */
export function nllLossBackward(
  layout: ClassLayout, target: Int32Array, opts: ClassLossKernelOptions, grad: F32 | null, scale: number, dlogp: F32,
): void {
  const op = 'nllLoss backward';
  const { positions, elements } = layoutSizes(op, layout);
  length(op, 'grad', grad, positions);
  length(op, 'dlogp', dlogp, elements);
  call((n) => n._nllLossBackward(layout.batch, layout.classes, layout.inner, target, opts.weight, opts.ignoreIndex,
    grad, scale, dlogp));
}

/** MSE, smooth L1 or BCE-with-logits forward over equal-length arrays. */
export function pointwiseLossForward(
  kind: PointwiseLossKind, input: F32, target: F32, opts: PointwiseLossKernelOptions, losses: F32 | null,
): LossSums {
  const op = kind;
  length(op, 'target', target, input.length);
  length(op, 'weight', opts.weight, input.length);
  length(op, 'posWeight', opts.posWeight, input.length);
  length(op, 'losses', losses, input.length);
  return sums(call((n) => n._pointwiseLossForward(POINTWISE_CODES[kind], input, target, opts.beta, opts.weight,
    opts.posWeight, losses)));
}

/** Pointwise loss backward: gradients of the input and/or the target (null: not computed). */
export function pointwiseLossBackward(
  kind: PointwiseLossKind, input: F32, target: F32, opts: PointwiseLossKernelOptions, grad: F32 | null, scale: number,
  dinput: F32 | null, dtarget: F32 | null,
): void {
  const op = `${kind} backward`;
  length(op, 'target', target, input.length);
  length(op, 'grad', grad, input.length);
  length(op, 'dinput', dinput, input.length);
  length(op, 'dtarget', dtarget, input.length);
  call((n) => n._pointwiseLossBackward(POINTWISE_CODES[kind], input, target, opts.beta, opts.weight, opts.posWeight,
    grad, scale, dinput, dtarget));
}
