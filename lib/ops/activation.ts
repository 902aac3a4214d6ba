/**
 * Elementwise activations on Float32Arrays: the TypeScript entry to the native kernels
 * (native/kernels/activation.h). Each function checks its arrays and writes into the output it is
 * given; the binding checks the lengths again. The differentiable versions are in
 * lib/functional/activation.ts.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';
import { Tensor } from '../tensor/tensor.js';

/** The activations the kernels implement (see native/kernels/activation.h for the formulas). */
export type ActivationKind = 'relu' | 'leakyRelu' | 'relu6' | 'sigmoid' | 'tanh' | 'gelu' | 'geluTanh';

const KIND_CODES: Record<ActivationKind, number> = {
  relu: 0,
  leakyRelu: 1,
  relu6: 2,
  sigmoid: 3,
  tanh: 4,
  gelu: 5,
  geluTanh: 6,
};

interface ActivationNative {
  _activationForward(kind: number, param: number, x: Float32Array, y: Float32Array): void;
  _activationBackward(kind: number, param: number, saved: Float32Array, dy: Float32Array, dx: Float32Array): void;
}

function kindCode(kind: unknown): number {
  const code = typeof kind === 'string' ? KIND_CODES[kind as ActivationKind] : undefined;
  if (code === undefined) throw invalidArgument('the activation kind', `one of ${Object.keys(KIND_CODES).join(', ')}`, kind);
  return code;
}

function array(name: string, value: unknown): Float32Array {
  if (!(value instanceof Float32Array)) throw invalidArgument(name, 'a Float32Array', value);
  return value;
}

function sameLength(op: string, names: string[], arrays: Float32Array[]): void {
  const n = arrays[0]?.length ?? 0;
  arrays.forEach((a, i) => {
    if (a.length !== n) {
      throw new ShapeError(`${op}: ${names[i]} has ${a.length} elements but ${names[0]} has ${n}`);
    }
  });
}

function checkParam(param: number): number {
  if (typeof param !== 'number' || !Number.isFinite(param)) throw invalidArgument('the activation parameter', 'a finite number', param);
  return param;
}

/**
 * True when the backward of `kind` reads the forward's output rather than its input: sigmoid and
 * tanh need it; ReLU and ReLU6 give the same gradient from either (their backward tests `v <= 0`,
 * `v >= 6` and NaN, which the clamped output answers as the input does). Saving the output means a
 * batch norm's output that feeds a ReLU is not kept alive until the backward: the ReLU's output is
 * the next convolution's saved input anyway (ResNet-18 training at 224, batch 8: one activation
 * tensor fewer per conv-BN-ReLU).
 */
export function activationSavesOutput(kind: ActivationKind): boolean {
  return kind === 'sigmoid' || kind === 'tanh' || kind === 'relu' || kind === 'relu6';
}

/**
 * `y[i] = f(x[i])`. `param` is the negative slope of `leakyRelu` (ignored otherwise). `y` must be a
 * separate buffer of the same length (the binding rejects overlapping arrays).
 */
export function activationForward(kind: ActivationKind, x: Float32Array, y: Float32Array, param = 0): void {
  const code = kindCode(kind);
  sameLength(`activation ${kind}`, ['x', 'y'], [array('x', x), array('y', y)]);
  const p = checkParam(param);
  callNative((a) => (a as unknown as ActivationNative)._activationForward(code, p, x, y));
}

/**
 * `dx[i] = dy[i] * f'(.)`, where `saved` is the forward's input, or its output for the kinds where
 * {@link activationSavesOutput} is true.
 */
export function activationBackward(kind: ActivationKind, saved: Float32Array, dy: Float32Array, dx: Float32Array, param = 0): void {
  const code = kindCode(kind);
  sameLength(`activation ${kind} backward`, ['saved', 'dy', 'dx'], [array('saved', saved), array('dy', dy), array('dx', dx)]);
  const p = checkParam(param);
  callNative((a) => (a as unknown as ActivationNative)._activationBackward(code, p, saved, dy, dx));
}

// ---------------------------------------------------------------------------------------------
// Argument helpers shared by the functional wrappers of this family (activations, softmax, losses,
// dropout), so every op words its errors the same way.

/** Checks that `value` is a Tensor; `what` names the argument ("input", "target"). */
export function tensorArg(op: string, value: unknown, what = 'input'): Tensor {
  if (!(value instanceof Tensor)) throw invalidArgument(`the ${what} of ${op}()`, 'a Tensor', value);
  return value;
}

/**
 * Reads an options object: undefined gives `{}`; anything else must be a plain object whose keys
 * are all in `allowed` (a misspelt option is an error, not silently ignored).
 */
export function readOptions(op: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options) || options instanceof Tensor) {
    const example = allowed.length > 0 ? `{ ${allowed[0]}: ... }` : '{}';
    throw invalidArgument(`the options of ${op}()`, `an object such as ${example}`, options);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const known = allowed.length > 0 ? `expected ${allowed.join(', ')}` : `${op}() takes no options`;
      throw new ArgumentError(`${op}: unknown option '${key}' (${known})`);
    }
  }
  return options as Record<string, unknown>;
}
