/**
 * Pooling on the native kernels: PyTorch's shape rules and option checks, and the forward and
 * backward passes over Float32Arrays. Every pooling op works on planes `[planes, D, H, W]` (planes =
 * every leading dimension; 1-D and 2-D pooling use size-1 depth/height with kernel 1), so one native
 * kernel serves 1-D, 2-D and 3-D. The functional API (lib/functional/pool.ts) adds autograd on top.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';
import { allocateUninitialized, formatShape } from '../tensor/shape.js';

/**
 * An output buffer the kernel overwrites completely, without zeroing it first: a new Float32Array
 * is zero-filled, a pass over memory that costs as much as a batch-norm forward on this machine
 * (measured: batch norm on 32x64x56x56 takes 3.2 ms into a zeroed buffer, 2.1 ms into this one).
 * Still an ArrayBuffer the GC owns. Only for kernels that write every element (the native tests
 * fill outputs with NaN first to check that they do).
 */
export function uninitialized(size: number, op: string): Float32Array {
  return allocateUninitialized(size, op);
}

function uninitializedIndices(size: number, op: string): Int32Array {
  const f = uninitialized(size, op);
  return new Int32Array(f.buffer, f.byteOffset, size);
}

/** One value per axis, in D, H, W order. */
export type Triple = [number, number, number];

/** What the native kernels need: the input planes and the window along D, H and W. */
export interface PoolGeometry {
  planes: number;
  in: Triple;
  kernel: Triple;
  stride: Triple;
  padding: Triple;
  dilation: Triple;
  ceilMode: boolean;
}

/** Adaptive pooling: the input planes and the output size along D, H and W. */
export interface AdaptivePoolGeometry {
  planes: number;
  in: Triple;
  out: Triple;
}

interface PoolNative {
  _maxPoolForward(x: Float32Array, g: PoolGeometry, y: Float32Array, indices: Int32Array | null): void;
  _indexPoolBackward(gy: Float32Array, indices: Int32Array, planes: number, inPlane: number, outPlane: number, gx: Float32Array): void;
  _avgPoolForward(x: Float32Array, g: PoolGeometry, countIncludePad: boolean, divisorOverride: number, y: Float32Array): void;
  _avgPoolBackward(gy: Float32Array, g: PoolGeometry, countIncludePad: boolean, divisorOverride: number, gx: Float32Array): void;
  _adaptiveAvgPoolForward(x: Float32Array, g: AdaptivePoolGeometry, y: Float32Array): void;
  _adaptiveAvgPoolBackward(gy: Float32Array, g: AdaptivePoolGeometry, gx: Float32Array): void;
  _adaptiveMaxPoolForward(x: Float32Array, g: AdaptivePoolGeometry, y: Float32Array, indices: Int32Array | null): void;
}

function pool(): (fn: (n: PoolNative) => void) => void {
  return (fn) => callNative((a) => fn(a as unknown as PoolNative));
}

/**
 * PyTorch's pooling output size along one axis:
 * `floor((in + 2p - d(k-1) - 1 + (ceilMode ? s - 1 : 0)) / s) + 1`, less one in ceil mode when the
 * last window would start past the input and its left padding. May be <= 0 (window too large).
 */
export function poolOutputSize(inSize: number, kernel: number, stride: number, padding: number, dilation: number, ceilMode: boolean): number {
  const num = inSize + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(num / stride) + 1;
  if (ceilMode && (out - 1) * stride >= inSize + padding) out--;
  return out;
}

/** The output size along D, H and W (checked geometry). */
export function poolOutputShape(g: PoolGeometry): Triple {
  return [0, 1, 2].map((a) => poolOutputSize(g.in[a]!, g.kernel[a]!, g.stride[a]!, g.padding[a]!, g.dilation[a]!, g.ceilMode)) as Triple;
}

/**
 * Checks a geometry the way PyTorch does, with messages that name the op and PyTorch's option
 * names: padding at most half the kernel, a non-empty output, and (convkit's addition, where
 * PyTorch returns -inf with an index outside the input) no window made only of padding.
 * `axes` are the pooled axes (of D, H, W) and their user-facing order.
 */
export function checkPoolGeometry(op: string, g: PoolGeometry, axes: readonly number[]): Triple {
  const pick = (t: Triple): number[] => axes.map((a) => t[a]!);
  for (const a of axes) {
    const k = g.kernel[a]!;
    const p = g.padding[a]!;
    if (p > Math.floor(k / 2)) {
      throw new ArgumentError(
        `${op}: padding should be at most half of kernel size, but got padding=${formatList(pick(g.padding))} and kernelSize=${formatList(pick(g.kernel))}`,
      );
    }
  }
  const out = poolOutputShape(g);
  if (axes.some((a) => out[a]! < 1)) {
    throw new ShapeError(
      `${op}: input size ${formatShape(pick(g.in))} is too small: kernelSize=${formatList(pick(g.kernel))}, stride=${formatList(pick(g.stride))}, ` +
        `padding=${formatList(pick(g.padding))}, dilation=${formatList(pick(g.dilation))} give output size ${formatShape(pick(out))}`,
    );
  }
  for (const a of axes) {
    const d = g.dilation[a]!;
    // Only windows starting in the left padding can miss the input (the others start inside it).
    for (let o = 0; o < out[a]!; o++) {
      const start = o * g.stride[a]! - g.padding[a]!;
      if (start >= 0) break;
      const first = start + Math.ceil(-start / d) * d;
      if (first > start + (g.kernel[a]! - 1) * d || first >= g.in[a]!) {
        throw new ArgumentError(
          `${op}: with dilation=${formatList(pick(g.dilation))} and padding=${formatList(pick(g.padding))}, a window on an input of size ${formatShape(pick(g.in))} holds only padding`,
        );
      }
    }
  }
  return out;
}

function formatList(v: readonly number[]): string {
  return v.length === 1 ? String(v[0]) : formatShape(v);
}

function planeSize(t: Triple): number {
  return t[0] * t[1] * t[2];
}

/** Max pooling; `indices` (int32 offsets in each input plane) only when asked for. */
export function maxPoolForward(x: Float32Array, g: PoolGeometry, withIndices: boolean, op = 'maxPool'): { y: Float32Array; indices: Int32Array | null; out: Triple } {
  const out = poolOutputShape(g);
  const y = uninitialized(g.planes * planeSize(out), op);
  const indices = withIndices ? uninitializedIndices(y.length, op) : null;
  pool()((n) => n._maxPoolForward(x, g, y, indices));
  return { y, indices, out };
}

/** gx = the gradient gy routed through saved indices (max and adaptive max pooling backward). */
export function indexPoolBackward(gy: Float32Array, indices: Int32Array, planes: number, inPlane: number, outPlane: number, op = 'maxPool'): Float32Array {
  const gx = uninitialized(planes * inPlane, op);
  pool()((n) => n._indexPoolBackward(gy, indices, planes, inPlane, outPlane, gx));
  return gx;
}

/** Average pooling with PyTorch's divisor rules; `divisorOverride` 0 means none. */
export function avgPoolForward(x: Float32Array, g: PoolGeometry, countIncludePad: boolean, divisorOverride: number, op = 'avgPool'): { y: Float32Array; out: Triple } {
  const out = poolOutputShape(g);
  const y = uninitialized(g.planes * planeSize(out), op);
  pool()((n) => n._avgPoolForward(x, g, countIncludePad, divisorOverride, y));
  return { y, out };
}

/** The input gradient of average pooling: each output gradient / divisor spread over its window. */
export function avgPoolBackward(gy: Float32Array, g: PoolGeometry, countIncludePad: boolean, divisorOverride: number, op = 'avgPool'): Float32Array {
  const gx = uninitialized(g.planes * planeSize(g.in), op);
  pool()((n) => n._avgPoolBackward(gy, g, countIncludePad, divisorOverride, gx));
  return gx;
}

/** Adaptive average pooling: output i averages input [floor(i * in / out), ceil((i + 1) * in / out)) per axis. */
export function adaptiveAvgPoolForward(x: Float32Array, g: AdaptivePoolGeometry, op = 'adaptiveAvgPool'): Float32Array {
  const y = uninitialized(g.planes * planeSize(g.out), op);
  pool()((n) => n._adaptiveAvgPoolForward(x, g, y));
  return y;
}

/** The input gradient of adaptive average pooling. */
export function adaptiveAvgPoolBackward(gy: Float32Array, g: AdaptivePoolGeometry, op = 'adaptiveAvgPool'): Float32Array {
  const gx = uninitialized(g.planes * planeSize(g.in), op);
  pool()((n) => n._adaptiveAvgPoolBackward(gy, g, gx));
  return gx;
}

/** Adaptive max pooling (windows as adaptive average pooling); `indices` only when asked for. */
export function adaptiveMaxPoolForward(x: Float32Array, g: AdaptivePoolGeometry, withIndices: boolean, op = 'adaptiveMaxPool'): { y: Float32Array; indices: Int32Array | null } {
  const y = uninitialized(g.planes * planeSize(g.out), op);
  const indices = withIndices ? uninitializedIndices(y.length, op) : null;
  pool()((n) => n._adaptiveMaxPoolForward(x, g, y, indices));
  return { y, indices };
}

/** Reads one per-axis option: a number for every axis or an array of `rank` numbers >= `min`. */
export function perAxis(op: string, name: string, value: unknown, rank: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(rank).fill(value) : value;
  if (!Array.isArray(list) || list.length !== rank || !list.every((v) => Number.isInteger(v) && v >= min && v <= 2147483647)) {
    throw invalidArgument(`${name} of ${op}`, `an integer >= ${min} or an array of ${rank} such integers`, value);
  }
  return list as number[];
}
