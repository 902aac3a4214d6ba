/**
 * Typed errors. Every error convkit throws is a {@link ConvkitError} with a stable `code`, so
 * callers can branch on `err.code` or `instanceof`. Errors raised in C++ cross the N-API boundary
 * as plain errors with a code and are rethrown here as the matching class, with the caller's stack.
 */

export type ErrorCode =
  | 'ERR_SHAPE'
  | 'ERR_ARGUMENT'
  | 'ERR_OOM'
  | 'ERR_UNSUPPORTED_CPU'
  | 'ERR_NATIVE_LOAD'
  | 'ERR_FORMAT'
  | 'ERR_INTERNAL';

export class ConvkitError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Shapes that do not fit together, or a size that does not match the data. */
export class ShapeError extends ConvkitError {
  constructor(message: string) {
    super('ERR_SHAPE', message);
  }
}

/** An argument of the wrong type or with a value outside its domain. */
export class ArgumentError extends ConvkitError {
  constructor(message: string) {
    super('ERR_ARGUMENT', message);
  }
}

/** A native allocation failed. */
export class OutOfMemoryError extends ConvkitError {
  constructor(message: string) {
    super('ERR_OOM', message);
  }
}

/** The requested instruction-set path is not available on this CPU or in this build. */
export class UnsupportedCpuError extends ConvkitError {
  constructor(message: string) {
    super('ERR_UNSUPPORTED_CPU', message);
  }
}

/** The native addon could not be loaded. */
export class NativeLoadError extends ConvkitError {
  constructor(message: string) {
    super('ERR_NATIVE_LOAD', message);
  }
}

/**
 * A file that is not what it claims to be: a truncated or corrupt image, checkpoint, safetensors,
 * ONNX or IDX file. The message names the file and what is wrong (offset, tensor name, expected
 * vs actual length).
 */
export class FormatError extends ConvkitError {
  constructor(message: string) {
    super('ERR_FORMAT', message);
  }
}

/** A bug in convkit: please report it. */
export class InternalError extends ConvkitError {
  constructor(message: string) {
    super('ERR_INTERNAL', message);
  }
}

/**
 * Converts an error thrown by the addon (an Error with a `code`) into the matching typed error. The
 * addon creates its error while the caller's JS frames are on the stack, so the typed error keeps
 * that stack (with its own name and message on the first line).
 */
export function fromNative(err: unknown): Error {
  if (err instanceof ConvkitError || !(err instanceof Error)) return err instanceof Error ? err : new InternalError(String(err));
  const code = (err as { code?: unknown }).code;
  let typed: ConvkitError;
  switch (code) {
    case 'ERR_SHAPE':
      typed = new ShapeError(err.message);
      break;
    case 'ERR_ARGUMENT':
      typed = new ArgumentError(err.message);
      break;
    case 'ERR_OOM':
      typed = new OutOfMemoryError(err.message);
      break;
    case 'ERR_UNSUPPORTED_CPU':
      typed = new UnsupportedCpuError(err.message);
      break;
    case 'ERR_INTERNAL':
      typed = new InternalError(err.message);
      break;
    default:
      return err;
  }
  if (err.stack !== undefined) {
    typed.stack = `${typed.name}: ${typed.message}\n${err.stack.split('\n').slice(1).join('\n')}`;
  }
  return typed;
}

/** Describes a received value for error messages: `spoons of type string`. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.slice(0, 8).map((v) => (Array.isArray(v) ? '[...]' : String(v))).join(', ')}${value.length > 8 ? ', ...' : ''}] of type array`;
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}...` : value}' of type string`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object') return `an object of type ${value.constructor?.name ?? 'object'}`;
  return `${String(value)} of type ${typeof value}`;
}

/** `Expected ${expected} for ${name} but received ${actual}`: one template for argument errors. */
export function invalidArgument(name: string, expected: string, value: unknown): ArgumentError {
  return new ArgumentError(`Expected ${expected} for ${name} but received ${describeValue(value)}`);
}
