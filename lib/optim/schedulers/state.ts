/**
 * Scheduler state dicts: their JSON type and the readers that validate a loaded one field by field,
 * so a bad state dict fails with a message naming the field before anything is changed.
 */
import { ArgumentError, invalidArgument } from '../../errors.js';

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A scheduler's state dict: plain JSON (PyTorch's is the scheduler's `__dict__` minus the optimiser).
 * Keys are camelCase versions of PyTorch's (`lastEpoch`, `baseLrs`, `stepCount`, `lastLr`, then the
 * scheduler's own settings). `JSON.stringify` writes ±Infinity as null; readers accept that where
 * a value may be infinite.
 */
export type SchedulerStateDict = { [key: string]: JsonValue };

/** Throws unless `sd` is an object; returns it. */
export function stateObject(sd: unknown, where: string): SchedulerStateDict {
  if (typeof sd !== 'object' || sd === null || Array.isArray(sd)) {
    throw invalidArgument(`the state dict of ${where}.loadStateDict()`, 'an object', sd);
  }
  return sd as SchedulerStateDict;
}

/** `sd[key]` as a number (null reads as `nullAs` when given). */
export function readNumber(sd: SchedulerStateDict, key: string, where: string, nullAs?: number): number {
  const value = sd[key];
  if (value === null && nullAs !== undefined) return nullAs;
  if (typeof value !== 'number') throw invalidArgument(`${key} in the state dict of ${where}`, 'a number', value);
  return value;
}

/** `sd[key]` as an integer >= `min`. */
export function readInteger(sd: SchedulerStateDict, key: string, where: string, min: number): number {
  const value = sd[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidArgument(`${key} in the state dict of ${where}`, `an integer >= ${min}`, value);
  }
  return value;
}

/** `sd[key]` as a boolean. */
export function readBoolean(sd: SchedulerStateDict, key: string, where: string): boolean {
  const value = sd[key];
  if (typeof value !== 'boolean') throw invalidArgument(`${key} in the state dict of ${where}`, 'a boolean', value);
  return value;
}

/** `sd[key]` as one of `choices`. */
export function readChoice<T extends string>(sd: SchedulerStateDict, key: string, where: string, choices: readonly T[]): T {
  const value = sd[key];
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalidArgument(`${key} in the state dict of ${where}`, choices.map((c) => `'${c}'`).join(' or '), value);
  }
  return value as T;
}

/** `sd[key]` as an array of numbers, of `length` elements when given. */
export function readNumbers(sd: SchedulerStateDict, key: string, where: string, length?: number): number[] {
  const value = sd[key];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'number')) {
    throw invalidArgument(`${key} in the state dict of ${where}`, 'an array of numbers', value);
  }
  if (length !== undefined && value.length !== length) {
    throw new ArgumentError(
      `${key} in the state dict of ${where} has ${value.length} values but the optimizer has ${length} parameter groups`,
    );
  }
  return value.slice() as number[];
}

/** The number of elements of the sorted array `sorted` that are <= `x` (Python's `bisect_right`). */
export function bisectRight(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < (sorted[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
