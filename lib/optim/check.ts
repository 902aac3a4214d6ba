/**
 * Option validation shared by the optimisers and schedulers. Range errors use PyTorch's wording with
 * convkit's camelCase names and echo the value (`Invalid learning rate: -1`); type errors use the
 * library-wide template from lib/errors.ts (`Expected a number for lr of SGD but received ...`).
 */
import { ArgumentError, invalidArgument } from '../errors.js';

/** Throws unless `value` is a number (NaN passes here; range checks reject it). */
export function checkNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw invalidArgument(name, 'a number', value);
}

/** Throws unless `value` is a boolean. */
export function checkBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== 'boolean') throw invalidArgument(name, 'a boolean', value);
}

/** Throws `ArgumentError(message + value)` unless `value` is a number >= 0 (rejects NaN). */
export function checkNonNegative(value: unknown, name: string, message: string): void {
  checkNumber(value, name);
  if (!(value >= 0)) throw new ArgumentError(`${message}: ${value}`);
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(value: unknown, name: string, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalidArgument(name, min === 1 ? 'a positive integer' : `an integer >= ${min}`, value);
  }
}

/** `weight_decay` -> `weightDecay`. */
export function camelCase(name: string): string {
  return name.replace(/_([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Throws for keys of an options object that `known` does not list, suggesting the camelCase name
 * for PyTorch's snake_case spelling (`weight_decay`).
 */
export function checkKnownKeys(options: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const camel = camelCase(key);
    const hint = camel !== key && known.includes(camel) ? `; did you mean '${camel}'?` : ` (expected one of ${known.join(', ')})`;
    throw new ArgumentError(`Unknown option '${key}' for ${where}${hint}`);
  }
}

/** Throws unless `options` is undefined or a plain object; returns it or `{}`. */
export function optionsObject<T extends object>(options: T | undefined, where: string): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument(`the options of ${where}`, 'an object', options);
  }
  return options;
}

/** A number applied to every parameter group, or one per group: the list of per-group values. */
export function perGroup(value: unknown, groups: number, name: string): number[] {
  if (Array.isArray(value)) {
    if (value.length !== groups) {
      throw new ArgumentError(`Expected ${groups} values for ${name}, one per parameter group, but got ${value.length}`);
    }
    value.forEach((v, i) => checkNumber(v, `${name}[${i}]`));
    return value.slice() as number[];
  }
  checkNumber(value, name);
  return new Array<number>(groups).fill(value);
}
