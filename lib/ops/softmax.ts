/**
 * Softmax and log-softmax over one dimension, on Float32Arrays viewed as [outer, n, inner]: the
 * TypeScript entry to native/kernels/softmax.h. The differentiable versions are `F.softmax` and
 * `F.logSoftmax` (lib/functional/activation.ts).
 */
import { ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';

/** The tensor as [outer, n, inner]: the dimension normalised over has size n. */
export interface SoftmaxLayout {
  outer: number;
  n: number;
  inner: number;
}

interface SoftmaxNative {
  _softmaxForward(log: boolean, outer: number, n: number, inner: number, x: Float32Array, y: Float32Array): void;
  _softmaxBackward(
    log: boolean,
    outer: number,
    n: number,
    inner: number,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
  ): void;
}

function size(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(name, 'a non-negative integer', value);
  }
  return value;
}

function check(op: string, layout: SoftmaxLayout, arrays: Record<string, unknown>): void {
  const total = size('outer', layout.outer) * size('n', layout.n) * size('inner', layout.inner);
  for (const [name, a] of Object.entries(arrays)) {
    if (!(a instanceof Float32Array)) throw invalidArgument(name, 'a Float32Array', a);
    if (a.length !== total) {
      throw new ShapeError(
        `${op}: ${name} has ${a.length} elements but [${layout.outer}, ${layout.n}, ${layout.inner}] needs ${total}`,
      );
    }
  }
}

/** Softmax (or log-softmax when `log`) of `x` over the middle dimension of `layout`, into `y`. */
export function softmaxForward(log: boolean, layout: SoftmaxLayout, x: Float32Array, y: Float32Array): void {
  check(log ? 'logSoftmax' : 'softmax', layout, { x, y });
  callNative((a) => (a as unknown as SoftmaxNative)._softmaxForward(log, layout.outer, layout.n, layout.inner, x, y));
}

/** The gradient of the input from the forward's output `y` and the output gradient `dy`, into `dx`. */
export function softmaxBackward(log: boolean, layout: SoftmaxLayout, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  check(log ? 'logSoftmax backward' : 'softmax backward', layout, { y, dy, dx });
  callNative((a) =>
    (a as unknown as SoftmaxNative)._softmaxBackward(log, layout.outer, layout.n, layout.inner, y, dy, dx),
  );
}
