/**
 * The messages between a {@link Predictor} and its worker (`predict-worker.ts`), and how errors
 * cross the thread boundary: a worker error travels as `{ code, name, message, stack }` and is
 * rebuilt on the main thread as the ConvkitError class its `code` names, so `instanceof
 * ShapeError` and `err.code` work as for an inline call.
 */
import {
  ArgumentError,
  ConvkitError,
  FormatError,
  InternalError,
  NativeLoadError,
  OutOfMemoryError,
  ShapeError,
  UnsupportedCpuError,
} from '../errors.js';
import type { ModuleJSON } from '../nn/module.js';

/** One state-dict entry, its data copied so the buffer can be transferred. */
export interface StateEntry {
  name: string;
  data: Float32Array;
  shape: number[];
}

/** `workerData` of the predict worker (the state buffers are transferred, not copied). */
export interface PredictWorkerData {
  model: ModuleJSON;
  state: StateEntry[];
  /** Kernel threads to set in the worker (process-wide; see Predictor's `threads`). */
  threads: number | null;
  /** Module URLs the worker imports before rebuilding the model (custom registered types). */
  imports: string[];
  /** Fold batch norms into convolutions and fuse activations at the first request (lib/inference/fuse.ts). */
  fuse: boolean;
  /** Run each request's forward pass in a buffer arena (lib/tensor/buffer-arena.ts). */
  reuseBuffers: boolean;
}

/** A forward request: `input` (transferred) with its shape. */
export interface PredictRequest {
  id: number;
  input: Float32Array;
  shape: number[];
  /**
   * Transfer `input` back with the result, for the caller's next request (predictFolder's batch
   * buffers). Honoured only when the worker reuses buffers: a model that keeps a tensor for a later
   * call runs with `reuseBuffers: false` and could be keeping its input.
   */
  returnInput?: boolean;
}

/** An error as it crosses the thread boundary. */
export interface SerializedError {
  code: string | null;
  name: string;
  message: string;
  stack: string | null;
}

/** What the worker posts back. */
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'init-error'; error: SerializedError }
  | { type: 'result'; id: number; output: Float32Array; shape: number[]; input?: Float32Array }
  | { type: 'error'; id: number; error: SerializedError };

/** Flattens any thrown value for postMessage. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : null, name: err.name, message: err.message, stack: err.stack ?? null };
  }
  return { code: null, name: 'Error', message: String(err), stack: null };
}

/**
 * Rebuilds a worker error on this thread: a ConvkitError subclass chosen by `code` (any other
 * error becomes a plain Error with the same name). The stack shows the worker's frames, then the
 * frames of the call that queued the request (`callerStack`).
 */
export function deserializeError(e: SerializedError, callerStack?: string): Error {
  let err: Error;
  switch (e.code) {
    case 'ERR_SHAPE':
      err = new ShapeError(e.message);
      break;
    case 'ERR_ARGUMENT':
      err = new ArgumentError(e.message);
      break;
    case 'ERR_OOM':
      err = new OutOfMemoryError(e.message);
      break;
    case 'ERR_UNSUPPORTED_CPU':
      err = new UnsupportedCpuError(e.message);
      break;
    case 'ERR_NATIVE_LOAD':
      err = new NativeLoadError(e.message);
      break;
    case 'ERR_FORMAT':
      err = new FormatError(e.message);
      break;
    case 'ERR_INTERNAL':
      err = new InternalError(e.message);
      break;
    default:
      err = new Error(e.message);
      err.name = e.name;
      if (e.code !== null) (err as Error & { code: string }).code = e.code;
  }
  const workerFrames = (e.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  const callerFrames = (callerStack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  err.stack = [`${err.name}: ${err.message}`, ...workerFrames, '    --- in the predict worker; queued from ---', ...callerFrames].join('\n');
  return err;
}

/** True when `err` says a module type is unknown to the registry (the worker lacks a custom type). */
export function isUnknownModuleType(err: Error): boolean {
  return err instanceof ConvkitError && err.code === 'ERR_ARGUMENT' && /unknown module type/.test(err.message);
}
