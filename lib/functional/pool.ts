/**
 * Pooling: `maxPool1d/2d/3d`, `avgPool1d/2d/3d`, `adaptiveAvgPool1d/2d/3d`, `adaptiveMaxPool1d/2d/3d`
 * and convkit's `globalAvgPool2d` / `globalMaxPool2d`, as `torch.nn.functional` defines them. Each
 * runs one native kernel forward (every spatial rank maps onto the same 3-D kernel with size-1
 * axes) and records its backward on the tape: max pooling routes the gradient to the saved argmax
 * (int32 indices, kept only when a gradient is needed), average pooling spreads it over the window.
 */
import { needsRecord, recordOp } from '../autograd/record.js';
import { ShapeError, invalidArgument } from '../errors.js';
import {
  adaptiveAvgPoolBackward,
  adaptiveAvgPoolForward,
  adaptiveMaxPoolForward,
  avgPoolBackward,
  avgPoolForward,
  checkPoolGeometry,
  indexPoolBackward,
  maxPoolForward,
  perAxis,
  type AdaptivePoolGeometry,
  type PoolGeometry,
  type Triple,
} from '../ops/pool.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export interface MaxPoolOptions {
  /** Window size: one number for every spatial axis, or one per axis. Required. */
  kernelSize: number | readonly number[];
  /** Step between windows (default: kernelSize). */
  stride?: number | readonly number[] | null;
  /** Implicit -inf padding on both sides, at most half the kernel (default 0). */
  padding?: number | readonly number[];
  /** Spacing between window taps (default 1). */
  dilation?: number | readonly number[];
  /** Round the output size up instead of down; the last window must still start inside the input or its left padding (default false). */
  ceilMode?: boolean;
  /** Also return the argmax of every window (default false). */
  returnIndices?: boolean;
}

export interface AvgPoolOptions {
  /** Window size: one number for every spatial axis, or one per axis. Required. */
  kernelSize: number | readonly number[];
  /** Step between windows (default: kernelSize). */
  stride?: number | readonly number[] | null;
  /** Implicit zero padding on both sides, at most half the kernel (default 0). */
  padding?: number | readonly number[];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count the padding in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this positive integer instead of the window size. */
  divisorOverride?: number | null;
}

export interface AdaptiveMaxPoolOptions {
  /** Also return the argmax of every window (default false). */
  returnIndices?: boolean;
}

/** One entry per spatial axis; null keeps that axis's input size. */
export type AdaptiveOutputSize = number | readonly (number | null)[];

const AXES: Record<number, number[]> = { 1: [2], 2: [1, 2], 3: [0, 1, 2] };

interface Layout {
  /** Leading dimensions (N, C or just C). */
  lead: number[];
  planes: number;
  /** Spatial sizes in D, H, W order, with 1 for the axes this rank does not use. */
  in: Triple;
}

function layout(op: string, rank: number, x: unknown): Layout {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${op}`, 'a Tensor', x);
  const names = ['D', 'H', 'W'].slice(3 - rank);
  if (rank === 1) names[0] = 'L';
  if (x.ndim !== rank + 1 && x.ndim !== rank + 2) {
    throw new ShapeError(
      `${op}: expected a ${rank + 1}-d [C, ${names.join(', ')}] or ${rank + 2}-d [N, C, ${names.join(', ')}] input, received shape ${formatShape(x.shape)}`,
    );
  }
  const spatial = x.shape.slice(x.ndim - rank);
  if (spatial.some((d) => d < 1)) {
    throw new ShapeError(`${op}: the spatial size must be at least 1 along every axis, received shape ${formatShape(x.shape)}`);
  }
  const lead = x.shape.slice(0, x.ndim - rank);
  const inSize: Triple = [1, 1, 1];
  AXES[rank]!.forEach((a, i) => (inSize[a] = spatial[i]!));
  return { lead, planes: lead.reduce((n, d) => n * d, 1), in: inSize };
}

function checkOptions(op: string, options: unknown, example: string): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument(`the options of ${op}`, `an object such as ${example}`, options);
  }
  return options as Record<string, unknown>;
}

function triple(rank: number, values: number[], fill: number): Triple {
  const t: Triple = [fill, fill, fill];
  AXES[rank]!.forEach((a, i) => (t[a] = values[i]!));
  return t;
}

function windowGeometry(op: string, rank: number, l: Layout, o: Record<string, unknown>, dilated: boolean): PoolGeometry {
  if (o['kernelSize'] === undefined) throw invalidArgument(`kernelSize of ${op}`, `an integer >= 1 or an array of ${rank} such integers`, undefined);
  const kernel = perAxis(op, 'kernelSize', o['kernelSize'], rank, 1);
  const strideValue = o['stride'];
  const stride = strideValue === undefined || strideValue === null ? kernel : perAxis(op, 'stride', strideValue, rank, 1);
  const padding = perAxis(op, 'padding', o['padding'] ?? 0, rank, 0);
  const dilation = dilated ? perAxis(op, 'dilation', o['dilation'] ?? 1, rank, 1) : new Array<number>(rank).fill(1);
  const ceilMode = o['ceilMode'] ?? false;
  if (typeof ceilMode !== 'boolean') throw invalidArgument(`ceilMode of ${op}`, 'a boolean', ceilMode);
  return {
    planes: l.planes,
    in: l.in,
    kernel: triple(rank, kernel, 1),
    stride: triple(rank, stride, 1),
    padding: triple(rank, padding, 0),
    dilation: triple(rank, dilation, 1),
    ceilMode,
  };
}

function outShape(rank: number, l: Layout, out: Triple): number[] {
  return [...l.lead, ...AXES[rank]!.map((a) => out[a]!)];
}

function maxPoolNd(op: string, rank: number, x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  const l = layout(op, rank, x);
  const o = checkOptions(op, options, '{ kernelSize: 2 }');
  const g = windowGeometry(op, rank, l, o, true);
  const returnIndices = o['returnIndices'] ?? false;
  if (typeof returnIndices !== 'boolean') throw invalidArgument(`returnIndices of ${op}`, 'a boolean', returnIndices);
  checkPoolGeometry(op, g, AXES[rank]!);
  const { y, indices, out } = maxPoolForward(x.data, g, returnIndices || needsRecord(x), op);
  const shape = outShape(rank, l, out);
  const inPlane = l.in[0] * l.in[1] * l.in[2];
  const outPlane = out[0] * out[1] * out[2];
  const result = recordOp(op, new Tensor(y, shape), [x], (gy, needs) => [
    needs[0] ? new Tensor(indexPoolBackward(gy.data, indices!, g.planes, inPlane, outPlane, op), x.shape) : null,
  ]);
  if (!returnIndices) return result;
  return [result, new Tensor(Float32Array.from(indices!), shape)];
}

/**
 * 1-D max pooling over the last axis of `[N, C, L]` (or unbatched `[C, L]`), as
 * `torch.nn.functional.max_pool1d`. Ties pick the first maximum, NaN propagates (the last NaN of a
 * window wins); the backward routes the gradient to the argmax.
 *
 * Differs from PyTorch: indices (with `returnIndices`) are a float32 tensor (exact below 2^24);
 * a window made only of padding (possible with a large dilation) is an ArgumentError instead of -inf.
 */
export function maxPool1d(x: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(x: Tensor, options: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool1d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor];
export function maxPool1d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd('maxPool1d', 1, x, options);
}

/**
 * 2-D max pooling over `[N, C, H, W]` (or unbatched `[C, H, W]`), as
 * `torch.nn.functional.max_pool2d`: `F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 })`.
 * Padding counts as -inf, so same-padded stride-1 pooling (Inception's 3x3/1 branch,
 * `{ kernelSize: 3, stride: 1, padding: 1 }`) keeps the spatial size. Ties pick the first maximum
 * in row-major window order, NaN propagates; the backward routes the gradient to the argmax.
 *
 * Differs from PyTorch: indices (with `returnIndices`) are a float32 tensor (exact below 2^24);
 * a window made only of padding (possible with a large dilation) is an ArgumentError instead of -inf.
 */
export function maxPool2d(x: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, options: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor];
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd('maxPool2d', 2, x, options);
}

/**
 * 3-D max pooling over `[N, C, D, H, W]` (or unbatched `[C, D, H, W]`), as
 * `torch.nn.functional.max_pool3d`; ties, NaN and the backward as {@link maxPool2d}.
 *
 * Differs from PyTorch: indices (with `returnIndices`) are a float32 tensor (exact below 2^24);
 * a window made only of padding (possible with a large dilation) is an ArgumentError instead of -inf.
 */
export function maxPool3d(x: Tensor, options: MaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function maxPool3d(x: Tensor, options: MaxPoolOptions & { returnIndices?: false }): Tensor;
export function maxPool3d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor];
export function maxPool3d(x: Tensor, options: MaxPoolOptions): Tensor | [Tensor, Tensor] {
  return maxPoolNd('maxPool3d', 3, x, options);
}

function avgPoolNd(op: string, rank: number, x: Tensor, options: AvgPoolOptions): Tensor {
  const l = layout(op, rank, x);
  const o = checkOptions(op, options, '{ kernelSize: 2 }');
  const g = windowGeometry(op, rank, l, o, false);
  const countIncludePad = o['countIncludePad'] ?? true;
  if (typeof countIncludePad !== 'boolean') throw invalidArgument(`countIncludePad of ${op}`, 'a boolean', countIncludePad);
  const divisorValue = o['divisorOverride'] ?? null;
  if (divisorValue !== null && !(Number.isInteger(divisorValue) && (divisorValue as number) >= 1 && (divisorValue as number) <= 2147483647)) {
    throw invalidArgument(`divisorOverride of ${op}`, 'a positive integer or null', divisorValue);
  }
  const divisor = (divisorValue as number | null) ?? 0;
  checkPoolGeometry(op, g, AXES[rank]!);
  const { y, out } = avgPoolForward(x.data, g, countIncludePad, divisor, op);
  return recordOp(op, new Tensor(y, outShape(rank, l, out)), [x], (gy, needs) => [
    needs[0] ? new Tensor(avgPoolBackward(gy.data, g, countIncludePad, divisor, op), x.shape) : null,
  ]);
}

/**
 * 1-D average pooling over `[N, C, L]` (or `[C, L]`), as `torch.nn.functional.avg_pool1d`. The
 * divisor is the window size clipped to the padded input (`countIncludePad`, default), the number of
 * input elements in the window (`countIncludePad: false`), or `divisorOverride`.
 *
 * Differs from PyTorch: `divisorOverride` is accepted here too (PyTorch has it for 2-D and 3-D only).
 */
export function avgPool1d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool1d', 1, x, options);
}

/**
 * 2-D average pooling over `[N, C, H, W]` (or `[C, H, W]`), as `torch.nn.functional.avg_pool2d`,
 * with PyTorch's divisor rules: the window clipped to the padded input (`countIncludePad`, default;
 * with `ceilMode` the last windows are clipped at the padded border), the input elements in the
 * window only (`countIncludePad: false`), or `divisorOverride`.
 *
 * Differs from PyTorch: a zero or negative `divisorOverride` is an ArgumentError.
 */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool2d', 2, x, options);
}

/**
 * 3-D average pooling over `[N, C, D, H, W]` (or `[C, D, H, W]`), as
 * `torch.nn.functional.avg_pool3d`; divisor rules as {@link avgPool2d}.
 *
 * Differs from PyTorch: a zero or negative `divisorOverride` is an ArgumentError.
 */
export function avgPool3d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool3d', 3, x, options);
}

function adaptiveGeometry(op: string, rank: number, x: unknown, outputSize: unknown): { l: Layout; g: AdaptivePoolGeometry } {
  const l = layout(op, rank, x);
  const list = typeof outputSize === 'number' ? new Array<number>(rank).fill(outputSize) : outputSize;
  if (!Array.isArray(list) || list.length !== rank || !list.every((v) => v === null || (Number.isInteger(v) && v >= 1 && v <= 2147483647))) {
    throw invalidArgument(`outputSize of ${op}`, `a positive integer or an array of ${rank} positive integers or nulls`, outputSize);
  }
  const out: Triple = [1, 1, 1];
  AXES[rank]!.forEach((a, i) => (out[a] = (list[i] as number | null) ?? l.in[a]!));
  return { l, g: { planes: l.planes, in: l.in, out } };
}

function adaptiveAvgPoolNd(op: string, rank: number, x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  const { l, g } = adaptiveGeometry(op, rank, x, outputSize);
  const y = adaptiveAvgPoolForward(x.data, g, op);
  return recordOp(op, new Tensor(y, outShape(rank, l, g.out)), [x], (gy, needs) => [
    needs[0] ? new Tensor(adaptiveAvgPoolBackward(gy.data, g, op), x.shape) : null,
  ]);
}

/**
 * Adaptive 1-D average pooling to `outputSize` positions, as
 * `torch.nn.functional.adaptive_avg_pool1d`: output i averages input
 * `[floor(i * L / out), ceil((i + 1) * L / out))`.
 *
 * Differs from PyTorch: an output size of 0 is an ArgumentError.
 */
export function adaptiveAvgPool1d(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool1d', 1, x, outputSize);
}

/**
 * Adaptive 2-D average pooling to `outputSize` (`7` or `[7, 7]`; a null entry keeps that input size),
 * as `torch.nn.functional.adaptive_avg_pool2d`: output (i, j) averages rows
 * `[floor(i * H / oh), ceil((i + 1) * H / oh))` and the matching columns.
 *
 * Differs from PyTorch: an output size of 0 is an ArgumentError.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool2d', 2, x, outputSize);
}

/**
 * Adaptive 3-D average pooling, as `torch.nn.functional.adaptive_avg_pool3d` (windows as
 * {@link adaptiveAvgPool2d}, along D, H and W).
 *
 * Differs from PyTorch: an output size of 0 is an ArgumentError.
 */
export function adaptiveAvgPool3d(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool3d', 3, x, outputSize);
}

function adaptiveMaxPoolNd(op: string, rank: number, x: Tensor, outputSize: AdaptiveOutputSize, options: AdaptiveMaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  const { l, g } = adaptiveGeometry(op, rank, x, outputSize);
  const o = checkOptions(op, options, '{ returnIndices: true }');
  const returnIndices = o['returnIndices'] ?? false;
  if (typeof returnIndices !== 'boolean') throw invalidArgument(`returnIndices of ${op}`, 'a boolean', returnIndices);
  const { y, indices } = adaptiveMaxPoolForward(x.data, g, returnIndices || needsRecord(x), op);
  const shape = outShape(rank, l, g.out);
  const inPlane = g.in[0] * g.in[1] * g.in[2];
  const outPlane = g.out[0] * g.out[1] * g.out[2];
  const result = recordOp(op, new Tensor(y, shape), [x], (gy, needs) => [
    needs[0] ? new Tensor(indexPoolBackward(gy.data, indices!, g.planes, inPlane, outPlane, op), x.shape) : null,
  ]);
  if (!returnIndices) return result;
  return [result, new Tensor(Float32Array.from(indices!), shape)];
}

/**
 * Adaptive 1-D max pooling, as `torch.nn.functional.adaptive_max_pool1d` (windows as
 * {@link adaptiveAvgPool1d}; ties and NaN as {@link maxPool2d}).
 *
 * Differs from PyTorch: indices are a float32 tensor; an output size of 0 is an ArgumentError.
 */
export function adaptiveMaxPool1d(x: Tensor, outputSize: AdaptiveOutputSize, options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool1d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool1d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool1d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd('adaptiveMaxPool1d', 1, x, outputSize, options);
}

/**
 * Adaptive 2-D max pooling, as `torch.nn.functional.adaptive_max_pool2d` (windows as
 * {@link adaptiveAvgPool2d}; ties and NaN as {@link maxPool2d}).
 *
 * Differs from PyTorch: indices are a float32 tensor; an output size of 0 is an ArgumentError.
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveOutputSize, options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd('adaptiveMaxPool2d', 2, x, outputSize, options);
}

/**
 * Adaptive 3-D max pooling, as `torch.nn.functional.adaptive_max_pool3d`.
 *
 * Differs from PyTorch: indices are a float32 tensor; an output size of 0 is an ArgumentError.
 */
export function adaptiveMaxPool3d(x: Tensor, outputSize: AdaptiveOutputSize, options: AdaptiveMaxPoolOptions & { returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool3d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions & { returnIndices?: false }): Tensor;
export function adaptiveMaxPool3d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor];
export function adaptiveMaxPool3d(x: Tensor, outputSize: AdaptiveOutputSize, options?: AdaptiveMaxPoolOptions): Tensor | [Tensor, Tensor] {
  return adaptiveMaxPoolNd('adaptiveMaxPool3d', 3, x, outputSize, options);
}

/**
 * Global average pooling (convkit's name; PyTorch spells it `adaptive_avg_pool2d(x, 1)`): the mean of
 * every `[H, W]` plane of `[N, C, H, W]` (or `[C, H, W]`), keeping the axes: `[N, C, 1, 1]`. The head of
 * ResNet, Inception and most classifiers.
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  return adaptiveAvgPoolNd('globalAvgPool2d', 2, x, 1);
}

/**
 * Global max pooling (convkit's name; PyTorch spells it `adaptive_max_pool2d(x, 1)`): the maximum of
 * every `[H, W]` plane, `[N, C, H, W]` -> `[N, C, 1, 1]`; the gradient goes to the first maximum.
 */
export function globalMaxPool2d(x: Tensor): Tensor {
  return adaptiveMaxPoolNd('globalMaxPool2d', 2, x, 1) as Tensor;
}
