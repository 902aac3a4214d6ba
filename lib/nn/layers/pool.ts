/**
 * Pooling layers, as `torch.nn`: `MaxPool1d/2d/3d`, `AvgPool1d/2d/3d`, `AdaptiveAvgPool1d/2d/3d`
 * and `AdaptiveMaxPool1d/2d/3d`, on the `F` pooling functions. Inputs are `[N, C, ...spatial]` or
 * unbatched `[C, ...spatial]`. Options are checked when the layer is built (kernel, stride,
 * padding at most half the kernel), so a bad architecture fails before any data flows.
 *
 * Differs from PyTorch: no `returnIndices` on the layers (use `F.maxPool2d(x, { ..., returnIndices:
 * true })`).
 */
import { ArgumentError, invalidArgument } from '../../errors.js';
import {
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  type AdaptiveOutputSize,
} from '../../functional/pool.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { bool, configAs, formatAxes, layerOptions, perAxis, positiveInt } from './args.js';

type Rank = 1 | 2 | 3;

/** Options of {@link MaxPool2d} (and 1d, 3d). */
export interface MaxPoolLayerOptions {
  /** Step between windows (default: kernelSize). */
  stride?: number | readonly number[] | null;
  /** Implicit -inf padding on both sides, at most half the kernel (default 0). */
  padding?: number | readonly number[];
  /** Spacing between window taps (default 1). */
  dilation?: number | readonly number[];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
}

/** Options of {@link AvgPool2d} (and 1d, 3d). */
export interface AvgPoolLayerOptions {
  /** Step between windows (default: kernelSize). */
  stride?: number | readonly number[] | null;
  /** Implicit zero padding on both sides, at most half the kernel (default 0). */
  padding?: number | readonly number[];
  /** Round the output size up instead of down (default false). */
  ceilMode?: boolean;
  /** Count the padding in the divisor (default true). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this positive integer instead of the window size (default null). */
  divisorOverride?: number | null;
}

interface Window {
  kernelSize: number[];
  stride: number[];
  padding: number[];
}

function readWindow(layer: string, rank: Rank, kernelSize: unknown, o: Record<string, unknown>): Window {
  const kernel = perAxis(layer, 'kernelSize', kernelSize, rank, 1);
  const strideValue = o['stride'];
  const stride = strideValue === undefined || strideValue === null ? kernel.slice() : perAxis(layer, 'stride', strideValue, rank, 1);
  const padding = perAxis(layer, 'padding', o['padding'] ?? 0, rank, 0);
  if (padding.some((p, a) => p > Math.floor(kernel[a]! / 2))) {
    throw new ArgumentError(
      `${layer}: padding should be at most half of kernel size, but got padding=${formatAxes(padding)} and kernelSize=${formatAxes(kernel)}`,
    );
  }
  return { kernelSize: kernel, stride, padding };
}

function windowParts(w: { readonly kernelSize: readonly number[]; readonly stride: readonly number[]; readonly padding: readonly number[] }): string[] {
  const parts = [`kernel=${formatAxes(w.kernelSize)}`];
  if (w.stride.some((s, a) => s !== w.kernelSize[a])) parts.push(`stride=${formatAxes(w.stride)}`);
  if (w.padding.some((p) => p !== 0)) parts.push(`padding=${formatAxes(w.padding)}`);
  return parts;
}

const MAX_FN = { 1: maxPool1d, 2: maxPool2d, 3: maxPool3d } as const;
const AVG_FN = { 1: avgPool1d, 2: avgPool2d, 3: avgPool3d } as const;

abstract class MaxPoolNd extends Module {
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly ceilMode: boolean;
  readonly #layer: string;
  readonly #rank: Rank;

  protected constructor(layer: string, rank: Rank, kernelSize: number | readonly number[], options: MaxPoolLayerOptions | undefined) {
    super();
    this.#layer = layer;
    this.#rank = rank;
    const o = layerOptions(layer, options, ['stride', 'padding', 'dilation', 'ceilMode']);
    const w = readWindow(layer, rank, kernelSize, o);
    this.kernelSize = w.kernelSize;
    this.stride = w.stride;
    this.padding = w.padding;
    this.dilation = perAxis(layer, 'dilation', o['dilation'] ?? 1, rank, 1);
    this.ceilMode = bool(layer, 'ceilMode', o['ceilMode'], false);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${this.#layer}`, 'a Tensor', x);
    return MAX_FN[this.#rank](x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override config(): { [key: string]: JsonValue } {
    return {
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: [...this.padding],
      dilation: [...this.dilation],
      ceilMode: this.ceilMode,
    };
  }

  /** `MaxPool2d(kernel=3, stride=2, padding=1)`; defaults are left out. */
  override describe(): string {
    const parts = windowParts(this);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${formatAxes(this.dilation)}`);
    if (this.ceilMode) parts.push('ceilMode=true');
    return `${this.#layer}(${parts.join(', ')})`;
  }
}

/** 1-D max pooling over `[N, C, L]`, as `torch.nn.MaxPool1d`. */
export class MaxPool1d extends MaxPoolNd {
  constructor(kernelSize: number | readonly number[], options?: MaxPoolLayerOptions) {
    super('MaxPool1d', 1, kernelSize, options);
  }
}

/**
 * 2-D max pooling over `[N, C, H, W]`, as `torch.nn.MaxPool2d`: `new MaxPool2d(2)` halves the size;
 * `new MaxPool2d(3, { stride: 1, padding: 1 })` keeps it (Inception's pooling branch).
 */
export class MaxPool2d extends MaxPoolNd {
  constructor(kernelSize: number | readonly number[], options?: MaxPoolLayerOptions) {
    super('MaxPool2d', 2, kernelSize, options);
  }
}

/** 3-D max pooling over `[N, C, D, H, W]`, as `torch.nn.MaxPool3d`. */
export class MaxPool3d extends MaxPoolNd {
  constructor(kernelSize: number | readonly number[], options?: MaxPoolLayerOptions) {
    super('MaxPool3d', 3, kernelSize, options);
  }
}

abstract class AvgPoolNd extends Module {
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  readonly #layer: string;
  readonly #rank: Rank;

  protected constructor(layer: string, rank: Rank, kernelSize: number | readonly number[], options: AvgPoolLayerOptions | undefined) {
    super();
    this.#layer = layer;
    this.#rank = rank;
    const o = layerOptions(layer, options, ['stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride']);
    const w = readWindow(layer, rank, kernelSize, o);
    this.kernelSize = w.kernelSize;
    this.stride = w.stride;
    this.padding = w.padding;
    this.ceilMode = bool(layer, 'ceilMode', o['ceilMode'], false);
    this.countIncludePad = bool(layer, 'countIncludePad', o['countIncludePad'], true);
    const divisor = o['divisorOverride'] ?? null;
    this.divisorOverride = divisor === null ? null : positiveInt(layer, 'divisorOverride', divisor);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${this.#layer}`, 'a Tensor', x);
    return AVG_FN[this.#rank](x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    });
  }

  override config(): { [key: string]: JsonValue } {
    return {
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: [...this.padding],
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
      divisorOverride: this.divisorOverride,
    };
  }

  /** `AvgPool2d(kernel=3, stride=1, padding=1)`; defaults are left out. */
  override describe(): string {
    const parts = windowParts(this);
    if (this.ceilMode) parts.push('ceilMode=true');
    if (!this.countIncludePad) parts.push('countIncludePad=false');
    if (this.divisorOverride !== null) parts.push(`divisorOverride=${this.divisorOverride}`);
    return `${this.#layer}(${parts.join(', ')})`;
  }
}

/** 1-D average pooling over `[N, C, L]`, as `torch.nn.AvgPool1d`. */
export class AvgPool1d extends AvgPoolNd {
  constructor(kernelSize: number | readonly number[], options?: AvgPoolLayerOptions) {
    super('AvgPool1d', 1, kernelSize, options);
  }
}

/** 2-D average pooling over `[N, C, H, W]`, as `torch.nn.AvgPool2d`. */
export class AvgPool2d extends AvgPoolNd {
  constructor(kernelSize: number | readonly number[], options?: AvgPoolLayerOptions) {
    super('AvgPool2d', 2, kernelSize, options);
  }
}

/** 3-D average pooling over `[N, C, D, H, W]`, as `torch.nn.AvgPool3d`. */
export class AvgPool3d extends AvgPoolNd {
  constructor(kernelSize: number | readonly number[], options?: AvgPoolLayerOptions) {
    super('AvgPool3d', 3, kernelSize, options);
  }
}

function readOutputSize(layer: string, rank: Rank, value: unknown): number | (number | null)[] {
  if (typeof value === 'number') return positiveInt(layer, 'outputSize', value);
  const ok =
    Array.isArray(value) &&
    value.length === rank &&
    value.every((v) => v === null || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 2147483647));
  if (!ok) {
    throw invalidArgument(`outputSize of ${layer}`, `a positive integer or an array of ${rank} positive integers or nulls`, value);
  }
  return (value as (number | null)[]).slice();
}

function formatOutputSize(size: number | readonly (number | null)[]): string {
  return typeof size === 'number' ? String(size) : `[${size.map((v) => (v === null ? 'null' : String(v))).join(', ')}]`;
}

const ADAPTIVE_AVG_FN = { 1: adaptiveAvgPool1d, 2: adaptiveAvgPool2d, 3: adaptiveAvgPool3d } as const;
const ADAPTIVE_MAX_FN = { 1: adaptiveMaxPool1d, 2: adaptiveMaxPool2d, 3: adaptiveMaxPool3d } as const;

abstract class AdaptivePoolNd extends Module {
  /** As given: one number for every axis, or one per axis (null keeps that input size). */
  readonly outputSize: number | readonly (number | null)[];
  readonly #layer: string;
  readonly #rank: Rank;
  readonly #kind: 'avg' | 'max';

  protected constructor(layer: string, rank: Rank, kind: 'avg' | 'max', outputSize: AdaptiveOutputSize) {
    super();
    this.#layer = layer;
    this.#rank = rank;
    this.#kind = kind;
    this.outputSize = readOutputSize(layer, rank, outputSize);
  }

  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${this.#layer}`, 'a Tensor', x);
    return this.#kind === 'avg' ? ADAPTIVE_AVG_FN[this.#rank](x, this.outputSize) : ADAPTIVE_MAX_FN[this.#rank](x, this.outputSize);
  }

  override config(): { [key: string]: JsonValue } {
    return { outputSize: typeof this.outputSize === 'number' ? this.outputSize : [...this.outputSize] };
  }

  /** `AdaptiveAvgPool2d(outputSize=[7, 7])`. */
  override describe(): string {
    return `${this.#layer}(outputSize=${formatOutputSize(this.outputSize)})`;
  }
}

/** Adaptive 1-D average pooling to `outputSize` positions, as `torch.nn.AdaptiveAvgPool1d`. */
export class AdaptiveAvgPool1d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveAvgPool1d', 1, 'avg', outputSize);
  }
}

/**
 * Adaptive 2-D average pooling to `outputSize` (`7` or `[7, 7]`; null keeps that input size), as
 * `torch.nn.AdaptiveAvgPool2d`; `new AdaptiveAvgPool2d(1)` is global average pooling.
 */
export class AdaptiveAvgPool2d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveAvgPool2d', 2, 'avg', outputSize);
  }
}

/** Adaptive 3-D average pooling, as `torch.nn.AdaptiveAvgPool3d` (e.g. averaging video frames). */
export class AdaptiveAvgPool3d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveAvgPool3d', 3, 'avg', outputSize);
  }
}

/** Adaptive 1-D max pooling, as `torch.nn.AdaptiveMaxPool1d` (`1`: max over time for text CNNs). */
export class AdaptiveMaxPool1d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveMaxPool1d', 1, 'max', outputSize);
  }
}

/** Adaptive 2-D max pooling, as `torch.nn.AdaptiveMaxPool2d`. */
export class AdaptiveMaxPool2d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveMaxPool2d', 2, 'max', outputSize);
  }
}

/** Adaptive 3-D max pooling, as `torch.nn.AdaptiveMaxPool3d`. */
export class AdaptiveMaxPool3d extends AdaptivePoolNd {
  constructor(outputSize: AdaptiveOutputSize) {
    super('AdaptiveMaxPool3d', 3, 'max', outputSize);
  }
}

type Windowed = { kernelSize: number[] } & Record<string, JsonValue>;

registerModuleType('MaxPool1d', MaxPool1d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new MaxPool1d(kernelSize, rest as MaxPoolLayerOptions);
});
registerModuleType('MaxPool2d', MaxPool2d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new MaxPool2d(kernelSize, rest as MaxPoolLayerOptions);
});
registerModuleType('MaxPool3d', MaxPool3d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new MaxPool3d(kernelSize, rest as MaxPoolLayerOptions);
});
registerModuleType('AvgPool1d', AvgPool1d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new AvgPool1d(kernelSize, rest as AvgPoolLayerOptions);
});
registerModuleType('AvgPool2d', AvgPool2d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new AvgPool2d(kernelSize, rest as AvgPoolLayerOptions);
});
registerModuleType('AvgPool3d', AvgPool3d, (config) => {
  const { kernelSize, ...rest } = configAs<Windowed>(config);
  return new AvgPool3d(kernelSize, rest as AvgPoolLayerOptions);
});

const outputSizeOf = (config: { [key: string]: JsonValue }): AdaptiveOutputSize => configAs<{ outputSize: AdaptiveOutputSize }>(config).outputSize;
registerModuleType('AdaptiveAvgPool1d', AdaptiveAvgPool1d, (config) => new AdaptiveAvgPool1d(outputSizeOf(config)));
registerModuleType('AdaptiveAvgPool2d', AdaptiveAvgPool2d, (config) => new AdaptiveAvgPool2d(outputSizeOf(config)));
registerModuleType('AdaptiveAvgPool3d', AdaptiveAvgPool3d, (config) => new AdaptiveAvgPool3d(outputSizeOf(config)));
registerModuleType('AdaptiveMaxPool1d', AdaptiveMaxPool1d, (config) => new AdaptiveMaxPool1d(outputSizeOf(config)));
registerModuleType('AdaptiveMaxPool2d', AdaptiveMaxPool2d, (config) => new AdaptiveMaxPool2d(outputSizeOf(config)));
registerModuleType('AdaptiveMaxPool3d', AdaptiveMaxPool3d, (config) => new AdaptiveMaxPool3d(outputSizeOf(config)));
