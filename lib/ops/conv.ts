/**
 * Convolution on the native kernels: shape rules and validation (PyTorch's), and the three passes
 * (forward, backward-data, backward-weight) over Float32Arrays. The functional API
 * (lib/functional/conv.ts) adds autograd on top.
 */
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { callNative } from '../native.js';
import { allocateUninitialized, formatShape } from '../tensor/shape.js';

export type Padding = number | readonly number[] | 'valid' | 'same';

export interface ConvOptions {
  /** Step between windows, one number or one per spatial axis (default 1). */
  stride?: number | readonly number[];
  /** Zeros added on both sides (one number or one per axis), or 'valid' (none) or 'same' (output size = input size, stride 1 only). Default 0. */
  padding?: Padding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups: 1 (default), or up to inChannels (depthwise). */
  groups?: number;
}

/** Everything the kernels need, resolved from shapes and options. */
export interface ConvGeometry {
  /** Spatial rank (1, 2 or 3). */
  rank: number;
  batch: number;
  inChannels: number;
  outChannels: number;
  groups: number;
  /** Per spatial axis (rank entries). */
  inSize: number[];
  outSize: number[];
  kernel: number[];
  stride: number[];
  padBegin: number[];
  padEnd: number[];
  dilation: number[];
  /** The input had no batch axis (PyTorch's unbatched form). */
  unbatched: boolean;
  /** Output shape, unbatched when the input was. */
  outShape: number[];
}

interface ConvNative {
  _convForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, params: number[], activation: number): void;
  _convBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, params: number[]): void;
  _convBackwardWeight(x: Float32Array, dy: Float32Array, dw: Float32Array, dbias: Float32Array | null, params: number[]): void;
}

function perAxis(op: string, name: string, value: unknown, rank: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(rank).fill(value) : value;
  if (!Array.isArray(list) || list.length !== rank || !list.every((v) => Number.isInteger(v) && v >= min)) {
    throw invalidArgument(`${name} of ${op}`, `an integer >= ${min} or an array of ${rank} such integers`, value);
  }
  return list as number[];
}

/** Resolves shapes and options the way torch.nn.functional.conv{1,2,3}d does, with clear errors. */
export function convGeometry(op: string, rank: number, xShape: readonly number[], wShape: readonly number[], options: ConvOptions = {}): ConvGeometry {
  if (typeof options !== 'object' || options === null) throw invalidArgument(`the options of ${op}`, 'an object such as { stride: 2 }', options);
  const unbatched = xShape.length === rank + 1;
  if (xShape.length !== rank + 2 && !unbatched) {
    throw new ShapeError(`${op}: expected a ${rank + 2}-d (batched) or ${rank + 1}-d (unbatched) input, received shape ${formatShape(xShape)}`);
  }
  if (wShape.length !== rank + 2) {
    const dims = ['kD', 'kH', 'kW'].slice(3 - rank).join(', ');
    throw new ShapeError(`${op}: expected a ${rank + 2}-d weight [outChannels, inChannels / groups, ${dims}], received shape ${formatShape(wShape)}`);
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw invalidArgument(`groups of ${op}`, 'a positive integer', groups);
  const batch = unbatched ? 1 : xShape[0]!;
  const inChannels = xShape[unbatched ? 0 : 1]!;
  const inSize = xShape.slice(unbatched ? 1 : 2);
  const outChannels = wShape[0]!;
  const kernel = wShape.slice(2);
  if (outChannels % groups !== 0) {
    throw new ShapeError(`${op}: weight ${formatShape(wShape)} has ${outChannels} output channels, not divisible by groups = ${groups}`);
  }
  if (wShape[1]! * groups !== inChannels) {
    throw new ShapeError(
      `${op}: input ${formatShape(xShape)} has ${inChannels} channels, but weight ${formatShape(wShape)} expects ${wShape[1]} per group x ${groups} group(s) = ${wShape[1]! * groups}`,
    );
  }
  const stride = perAxis(op, 'stride', options.stride ?? 1, rank, 1);
  const dilation = perAxis(op, 'dilation', options.dilation ?? 1, rank, 1);
  let padBegin: number[];
  let padEnd: number[];
  const padding = options.padding ?? 0;
  if (padding === 'valid') {
    padBegin = new Array<number>(rank).fill(0);
    padEnd = padBegin.slice();
  } else if (padding === 'same') {
    if (stride.some((s) => s !== 1)) throw new ArgumentError(`${op}: padding='same' is not supported for strided convolutions`);
    // Total padding d (k - 1); an odd total puts the extra zero at the end, as PyTorch does.
    const total = kernel.map((k, a) => dilation[a]! * (k - 1));
    padBegin = total.map((t) => Math.floor(t / 2));
    padEnd = total.map((t, a) => t - padBegin[a]!);
  } else if (typeof padding === 'string') {
    throw new ArgumentError(`${op}: invalid padding string '${padding}', should be one of 'valid', 'same'`);
  } else {
    padBegin = perAxis(op, 'padding', padding, rank, 0);
    padEnd = padBegin.slice();
  }
  const outSize = inSize.map((n, a) => {
    const padded = n + padBegin[a]! + padEnd[a]!;
    const reach = dilation[a]! * (kernel[a]! - 1) + 1;
    return padded < reach ? -1 : Math.floor((padded - reach) / stride[a]!) + 1;
  });
  if (outSize.some((o) => o < 1) || inSize.some((n) => n < 1)) {
    const padded = inSize.map((n, a) => n + padBegin[a]! + padEnd[a]!);
    const reach = kernel.map((k, a) => dilation[a]! * (k - 1) + 1);
    throw new ShapeError(
      `${op}: the padded input (${padded.join(' x ')}) is smaller than the dilated kernel (${reach.join(' x ')}) for input ${formatShape(xShape)}`,
    );
  }
  const outShape = unbatched ? [outChannels, ...outSize] : [batch, outChannels, ...outSize];
  return { rank, batch, inChannels, outChannels, groups, inSize, outSize, kernel, stride, padBegin, padEnd, dilation, unbatched, outShape };
}

/** The 25-integer parameter list of the native entry points (spatial axes padded to 3 with 1s). */
export function nativeConvParams(g: ConvGeometry): number[] {
  const pad3 = (v: number[], fill: number) => [...new Array<number>(3 - v.length).fill(fill), ...v];
  return [
    g.batch, g.inChannels, g.outChannels, g.groups,
    ...pad3(g.inSize, 1), ...pad3(g.outSize, 1), ...pad3(g.kernel, 1), ...pad3(g.stride, 1),
    ...pad3(g.padBegin, 0), ...pad3(g.padEnd, 0), ...pad3(g.dilation, 1),
  ];
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** y = conv(x, w) + bias, optionally followed by ReLU (fused into the GEMM epilogue). */
/** An activation the convolution applies to its own output (fused into the GEMM epilogue). */
export type ConvActivation = 'none' | 'relu' | 'relu6';
const ACTIVATION_CODE: Record<ConvActivation, number> = { none: 0, relu: 1, relu6: 2 };

export function convForward(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array | null, activation: ConvActivation = 'none'): Float32Array {
  const y = allocateUninitialized(size(g.outShape), 'conv');
  callNative((a) => (a as unknown as ConvNative)._convForward(x, w, bias, y, nativeConvParams(g), ACTIVATION_CODE[activation]));
  return y;
}

/** Gradient of the input. */
export function convBackwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array): Float32Array {
  const dx = allocateUninitialized(g.batch * g.inChannels * size(g.inSize), 'conv backward');
  callNative((a) => (a as unknown as ConvNative)._convBackwardData(dy, w, dx, nativeConvParams(g)));
  return dx;
}

/** Gradients of the weight and (when wanted) the bias. */
export function convBackwardWeight(g: ConvGeometry, x: Float32Array, dy: Float32Array, wantBias: boolean): { dw: Float32Array; dbias: Float32Array | null } {
  const dw = allocateUninitialized(g.outChannels * (g.inChannels / g.groups) * size(g.kernel), 'conv backward');
  const dbias = wantBias ? new Float32Array(g.outChannels) : null;
  callNative((a) => (a as unknown as ConvNative)._convBackwardWeight(x, dy, dw, dbias, nativeConvParams(g)));
  return { dw, dbias };
}

/** Sum of dy over batch and space per output channel (the bias gradient alone). */
export function convBiasGrad(g: ConvGeometry, dy: Float32Array): Float32Array {
  const out = new Float32Array(g.outChannels);
  const spatial = size(g.outSize);
  for (let n = 0; n < g.batch; n++) {
    for (let c = 0; c < g.outChannels; c++) {
      let s = 0;
      const base = (n * g.outChannels + c) * spatial;
      for (let i = 0; i < spatial; i++) s += dy[base + i]!;
      out[c] = out[c]! + s;
    }
  }
  return out;
}
