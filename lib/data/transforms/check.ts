/** Argument checks shared by the transforms' spec parsing. */
import { ArgumentError } from '../../errors.js';

/** @returns p when it is a number in [0, 1]. */
export function checkProbability(p: unknown, name: string): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`Expected a probability in [0, 1] for ${name} but received ${JSON.stringify(p)}`);
  return p;
}

/** @returns v when it is a finite number in [min, max]. */
export function checkNumber(v: unknown, name: string, min = 0, max = Number.POSITIVE_INFINITY): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new ArgumentError(`Expected a number in [${min}, ${max}] for ${name} but received ${JSON.stringify(v)}`);
  }
  return v;
}

/** @returns v when it is [a, b] with a <= b, both finite and positive. */
export function checkRange(v: unknown, name: string): [number, number] {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0) || v[0] > v[1]) {
    throw new ArgumentError(`Expected [min, max] with 0 < min <= max for ${name} but received ${JSON.stringify(v)}`);
  }
  return [v[0] as number, v[1] as number];
}

/** @returns v when it is [height, width] of positive integers, or undefined. */
export function checkSize(v: unknown, name: string): [number, number] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1)) {
    throw new ArgumentError(`Expected [height, width] of positive integers for ${name} but received ${JSON.stringify(v)}`);
  }
  return [v[0] as number, v[1] as number];
}
