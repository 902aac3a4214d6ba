/**
 * Argument checks shared by the built-in layers. Every message uses the one template of
 * `invalidArgument` (`Expected a positive integer for inChannels of Conv2d but received 0 of type
 * number`), naming the option and the layer, so a bad constructor call says which value is wrong.
 * Internal to lib/nn/layers.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../../errors.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { JsonValue } from '../module.js';

/** The largest size a dimension may have (the native kernels index with int32). */
const MAX_DIM = 2147483647;

/**
 * Reads a layer's options object: undefined gives `{}`; anything else must be a plain object whose
 * keys are all in `allowed` (a misspelt option such as `kernel_size` is an error, not ignored).
 */
export function layerOptions(layer: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options) || options instanceof Tensor) {
    const example = allowed.length > 0 ? `{ ${allowed[0]}: ... }` : '{}';
    throw invalidArgument(`the options of ${layer}`, `an object such as ${example}`, options);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const known = allowed.length > 0 ? `expected ${allowed.join(', ')}` : `${layer} takes no options`;
      throw new ArgumentError(`${layer}: unknown option '${key}' (${known})`);
    }
  }
  return options as Record<string, unknown>;
}

/** An integer >= 1. */
export function positiveInt(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIM) {
    throw invalidArgument(`${name} of ${layer}`, 'a positive integer', value);
  }
  return value;
}

/** An integer (any sign), e.g. a dimension that may count from the end. */
export function integer(layer: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidArgument(`${name} of ${layer}`, 'an integer', value);
  return value;
}

/** A boolean, `fallback` when undefined. */
export function bool(layer: string, name: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw invalidArgument(`${name} of ${layer}`, 'a boolean', value);
  return v;
}

/** A finite number >= `min` (default: any finite number), `fallback` when undefined. */
export function finite(layer: string, name: string, value: unknown, fallback: number, min = -Infinity): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw invalidArgument(`${name} of ${layer}`, min === -Infinity ? 'a finite number' : `a finite number >= ${min}`, value);
  }
  return v;
}

/** A probability in [0, 1], `fallback` when undefined. */
export function probability(layer: string, name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalidArgument(`${name} of ${layer}`, 'a probability in [0, 1]', value);
  return v;
}

/**
 * One integer >= `min` per spatial axis: a number (the same for every axis) or an array of `rank`
 * numbers. Returns a fresh array of `rank` entries.
 */
export function perAxis(layer: string, name: string, value: unknown, rank: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(rank).fill(value) : value;
  if (
    !Array.isArray(list) ||
    list.length !== rank ||
    !list.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= MAX_DIM)
  ) {
    const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw invalidArgument(`${name} of ${layer}`, rank === 1 ? what : `${what} or an array of ${rank} such integers`, value);
  }
  return (list as number[]).slice();
}

/** `3` when every axis has the same value, `[3, 5]` otherwise: for `describe()`. */
export function formatAxes(values: readonly number[]): string {
  return values.every((v) => v === values[0]) ? String(values[0]) : `[${values.join(', ')}]`;
}

/** Checks that the input is a Tensor whose rank is one of `ranks`; `dims` names them for the message. */
export function checkInput(layer: string, x: unknown, ranks: readonly number[], dims: string): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${layer}`, 'a Tensor', x);
  if (!ranks.includes(x.ndim)) {
    const expected = ranks.map((r) => `${r}-d`).join(' or ');
    throw new ShapeError(`${layer}: expected a ${expected} input ${dims}, received shape ${formatShape(x.shape)}`);
  }
  return x;
}

/** Reads a JSON config as the options type a factory passes back to its constructor. */
export function configAs<T>(config: { [key: string]: JsonValue }): T {
  return config as unknown as T;
}
