/**
 * Convolution layers: `Conv1d` (text: [N, C, L]), `Conv2d` (images: [N, C, H, W]) and `Conv3d`
 * (video: [N, C, D, H, W]), as `torch.nn.Conv1d/2d/3d`. Each holds a weight
 * `[outChannels, inChannels / groups, ...kernelSize]` and an optional bias `[outChannels]`, and
 * calls `F.conv1d/2d/3d`; the weight gradient sums over every position the filter touched.
 *
 * Default initialisation is PyTorch's: `kaimingUniform_(weight, { a: √5 })`, that is
 * U(-1/√fanIn, 1/√fanIn) with `fanIn = inChannels / groups * prod(kernelSize)`, and the bias from
 * the same U(-1/√fanIn, 1/√fanIn).
 *
 * Differs from PyTorch: no `paddingMode` (zero padding only; pad with `F.pad` for reflect or
 * replicate) and no `device`/`dtype`.
 */
import { ArgumentError, ShapeError } from '../../errors.js';
import { conv1d, conv2d, conv3d, type Padding } from '../../functional/conv.js';
import { zeros } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_, type InitOptions } from '../init.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { bool, checkInput, configAs, formatAxes, layerOptions, perAxis, positiveInt } from './args.js';

/** Options of {@link Conv1d}, {@link Conv2d} and {@link Conv3d} (PyTorch's, in camelCase). */
export interface ConvLayerOptions {
  /** Step between windows: one number or one per spatial axis (default 1). */
  stride?: number | readonly number[];
  /**
   * Zeros added on both sides (one number or one per axis), `'valid'` (none) or `'same'` (output
   * size = input size; stride 1 only, an odd total puts the extra zero at the end). Default 0.
   */
  padding?: Padding;
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly number[];
  /** Channel groups (default 1); inChannels and outChannels must both be divisible by it. */
  groups?: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

const OPTION_KEYS = ['stride', 'padding', 'dilation', 'groups', 'bias'] as const;
const AXIS_NAMES: Record<number, string> = { 1: 'L', 2: 'H, W', 3: 'D, H, W' };
const CONV_FN = { 1: conv1d, 2: conv2d, 3: conv3d } as const;

/** The shared implementation of Conv1d/2d/3d (spatial rank 1, 2 or 3). */
abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  /** One entry per spatial axis. */
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  /** One entry per spatial axis, or 'valid' / 'same'. */
  readonly padding: readonly number[] | 'valid' | 'same';
  readonly dilation: readonly number[];
  readonly groups: number;
  /** `[outChannels, inChannels / groups, ...kernelSize]`. */
  readonly weight: Tensor;
  /** `[outChannels]`, or null with `bias: false`. */
  readonly bias: Tensor | null;
  readonly #rank: 1 | 2 | 3;
  readonly #layer: string;

  protected constructor(
    layer: string,
    rank: 1 | 2 | 3,
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly number[],
    options: ConvLayerOptions | undefined,
  ) {
    super();
    this.#layer = layer;
    this.#rank = rank;
    const o = layerOptions(layer, options, OPTION_KEYS);
    this.inChannels = positiveInt(layer, 'inChannels', inChannels);
    this.outChannels = positiveInt(layer, 'outChannels', outChannels);
    this.kernelSize = perAxis(layer, 'kernelSize', kernelSize, rank, 1);
    this.stride = perAxis(layer, 'stride', o['stride'] ?? 1, rank, 1);
    const padding = o['padding'] ?? 0;
    if (padding === 'valid' || padding === 'same') {
      if (padding === 'same' && this.stride.some((s) => s !== 1)) {
        throw new ArgumentError(`${layer}: padding='same' is not supported for strided convolutions (stride ${formatAxes(this.stride)})`);
      }
      this.padding = padding;
    } else if (typeof padding === 'string') {
      throw new ArgumentError(`${layer}: invalid padding string '${padding}', should be one of 'valid', 'same'`);
    } else {
      this.padding = perAxis(layer, 'padding', padding, rank, 0);
    }
    this.dilation = perAxis(layer, 'dilation', o['dilation'] ?? 1, rank, 1);
    this.groups = positiveInt(layer, 'groups', o['groups'] ?? 1);
    if (this.inChannels % this.groups !== 0) {
      throw new ArgumentError(`${layer}: inChannels must be divisible by groups, received inChannels = ${this.inChannels} and groups = ${this.groups}`);
    }
    if (this.outChannels % this.groups !== 0) {
      throw new ArgumentError(`${layer}: outChannels must be divisible by groups, received outChannels = ${this.outChannels} and groups = ${this.groups}`);
    }
    const hasBias = bool(layer, 'bias', o['bias'], true);
    this.weight = this.registerParameter('weight', zeros([this.outChannels, this.inChannels / this.groups, ...this.kernelSize]));
    this.bias = this.registerParameter('bias', hasBias ? zeros([this.outChannels]) : null);
    this.resetParameters();
  }

  /**
   * PyTorch's default initialisation: weight `kaimingUniform_(w, { a: √5 })` = U(±1/√fanIn), bias
   * U(±1/√fanIn). `options.generator` draws from a given generator instead of the default one.
   */
  resetParameters(options: InitOptions = {}): void {
    kaimingUniform_(this.weight, { ...options, a: Math.sqrt(5) });
    if (this.bias !== null) {
      const [fanIn] = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound, options);
    }
  }

  /** Convolves `x`: `[N, inChannels, ...spatial]` (or unbatched `[inChannels, ...spatial]`). */
  forward(x: Tensor): Tensor {
    const r = this.#rank;
    checkInput(this.#layer, x, [r + 1, r + 2], `[N, C, ${AXIS_NAMES[r]}] (or unbatched [C, ${AXIS_NAMES[r]}])`);
    const channels = x.shape[x.ndim - r - 1];
    if (channels !== this.inChannels) {
      throw new ShapeError(`${this.describe()}: expected an input with ${this.inChannels} channels, received shape ${formatShape(x.shape)}`);
    }
    return CONV_FN[r](x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override config(): { [key: string]: JsonValue } {
    return {
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      kernelSize: [...this.kernelSize],
      stride: [...this.stride],
      padding: typeof this.padding === 'string' ? this.padding : [...this.padding],
      dilation: [...this.dilation],
      groups: this.groups,
      bias: this.bias !== null,
    };
  }

  /** `Conv2d(3, 64, kernel=7, stride=2, padding=3)`; options at their defaults are left out. */
  override describe(): string {
    const parts = [String(this.inChannels), String(this.outChannels), `kernel=${formatAxes(this.kernelSize)}`];
    if (this.stride.some((s) => s !== 1)) parts.push(`stride=${formatAxes(this.stride)}`);
    if (typeof this.padding === 'string') parts.push(`padding='${this.padding}'`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${formatAxes(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${formatAxes(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (this.bias === null) parts.push('bias=false');
    return `${this.#layer}(${parts.join(', ')})`;
  }
}

interface ConvConfig extends ConvLayerOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number | number[];
}

function convOptions(c: ConvConfig): ConvLayerOptions {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups, bias: c.bias };
}

/**
 * 1-D convolution over `[N, inChannels, L]` (or `[inChannels, L]`), as `torch.nn.Conv1d`: e.g.
 * over word embeddings for text, `new Conv1d(300, 100, 3, { padding: 1 })`.
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options?: ConvLayerOptions) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2-D convolution over `[N, inChannels, H, W]` (or `[inChannels, H, W]`), as `torch.nn.Conv2d`:
 * `new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false })`.
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options?: ConvLayerOptions) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-D convolution over `[N, inChannels, D, H, W]` (or `[inChannels, D, H, W]`), as `torch.nn.Conv3d`. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: number | readonly number[], options?: ConvLayerOptions) {
    super('Conv3d', 3, inChannels, outChannels, kernelSize, options);
  }
}

registerModuleType('Conv1d', Conv1d, (config) => {
  const c = configAs<ConvConfig>(config);
  return new Conv1d(c.inChannels, c.outChannels, c.kernelSize, convOptions(c));
});
registerModuleType('Conv2d', Conv2d, (config) => {
  const c = configAs<ConvConfig>(config);
  return new Conv2d(c.inChannels, c.outChannels, c.kernelSize, convOptions(c));
});
registerModuleType('Conv3d', Conv3d, (config) => {
  const c = configAs<ConvConfig>(config);
  return new Conv3d(c.inChannels, c.outChannels, c.kernelSize, convOptions(c));
});
