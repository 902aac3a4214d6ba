/**
 * The Keras layers a TF.js layers model may hold, as convkit modules working on convkit's layout.
 *
 * Layout: a rank-4 Keras tensor `[N, H, W, C]` is held as `[N, C, H, W]` (and in general the
 * Keras channel axis, last, is axis 1 here); rank-2 tensors `[N, F]` are the same in both. Layers
 * whose meaning depends on the element order (Flatten, Reshape, Dense on rank > 2) move the
 * channel axis back to the end first, so they give exactly Keras's result.
 *
 * Weights: HWIO kernels become OIHW (depthwise `[kH, kW, C, M]` becomes `[C * M, 1, kH, kW]` with
 * `groups = C`), Dense `[in, out]` becomes `[out, in]`. TF 'same' padding is computed per input
 * size as TF does: total = max((ceil(in / s) - 1) * s + (k - 1) * d + 1 - in, 0), with the odd
 * row/column at the bottom/right.
 *
 * Porting notes: BatchNormalization's `momentum` m becomes convkit's `1 - m`, and its running
 * variance is updated with the unbiased batch variance (PyTorch's rule); a BatchNormalization
 * whose parameters are all frozen normalises with its running statistics even in training mode,
 * as Keras does for `trainable: false`.
 */
import { ArgumentError, FormatError, ShapeError } from '../../errors.js';
import * as F from '../../functional/index.js';
import { Module } from '../../nn/module.js';
import { ones } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { isObject, type JsonObject, type KerasLayer } from './topology.js';
import type { DecodedWeight } from './weights.js';

/** An activation a Keras layer may apply (its `activation` attribute or an Activation layer). */
export type TfjsActivation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh' | 'softmax' | 'swish';

const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax', 'swish', 'silu'];

/** Raised by a layer parser for a valid but unsupported feature; collected into one ArgumentError. */
export class Unsupported extends Error {}

/** Largest stride, dilation, pool window, padding or upsampling factor accepted from a config. */
const MAX_GEOMETRY = 65_536;

/** Reads typed values from one layer's config, with FormatErrors naming the file and the layer. */
class ConfigReader {
  constructor(
    readonly config: JsonObject,
    readonly where: string,
  ) {}

  bad(key: string, expected: string): never {
    let value: string;
    try {
      value = JSON.stringify(this.config[key]) ?? 'undefined';
    } catch {
      value = String(this.config[key]);
    }
    throw new FormatError(`${this.where}: config.${key} must be ${expected}, received ${value.slice(0, 80)}`);
  }

  int(key: string, fallback: number | undefined, min: number, max = MAX_GEOMETRY): number {
    const v = this.config[key] ?? fallback;
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) this.bad(key, `an integer in [${min}, ${max}]`);
    return v as number;
  }

  num(key: string, fallback: number): number {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.bad(key, 'a finite number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'boolean') this.bad(key, 'a boolean');
    return v;
  }

  str(key: string, fallback: string): string {
    const v = this.config[key] ?? fallback;
    if (typeof v !== 'string') this.bad(key, 'a string');
    return v;
  }

  /** One integer for both axes, or `[h, w]`. */
  pair(key: string, fallback: number | [number, number] | undefined, min: number): [number, number] {
    const v = this.config[key] ?? fallback;
    const list = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(list) || list.length !== 2 || !list.every((d) => Number.isInteger(d) && d >= min && d <= MAX_GEOMETRY)) {
      this.bad(key, `an integer or a pair of integers in [${min}, ${MAX_GEOMETRY}]`);
    }
    return [list[0] as number, list[1] as number];
  }

  padding(): 'same' | 'valid' {
    const p = this.str('padding', 'valid').toLowerCase();
    if (p === 'causal') throw new Unsupported("padding 'causal'");
    if (p !== 'same' && p !== 'valid') this.bad('padding', "'same' or 'valid'");
    return p;
  }

  channelsLast(): void {
    const f = this.config['data_format'];
    if (f === undefined || f === null || f === 'channels_last') return;
    if (f === 'channels_first') throw new Unsupported("data_format 'channels_first'");
    this.bad('data_format', "'channels_last' or 'channels_first'");
  }

  activation(key = 'activation'): TfjsActivation {
    let v = this.config[key] ?? 'linear';
    // Keras 3 may serialise a built-in activation as { class_name: 'function', config: 'relu' }.
    if (isObject(v) && typeof v['config'] === 'string') v = v['config'];
    if (typeof v !== 'string') this.bad(key, 'an activation name');
    if (!ACTIVATIONS.includes(v)) throw new Unsupported(`activation '${v}'`);
    return v === 'silu' ? 'swish' : (v as TfjsActivation);
  }
}

/** Applies a Keras activation; softmax is over Keras's last axis, the channel axis here. */
export function activate(kind: TfjsActivation, x: Tensor): Tensor {
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return F.relu(x);
    case 'relu6':
      return F.relu6(x);
    case 'sigmoid':
      return F.sigmoid(x);
    case 'tanh':
      return F.tanh(x);
    case 'softmax':
      return F.softmax(x, { dim: x.ndim === 1 ? 0 : 1 });
    case 'swish':
      return x.mul(F.sigmoid(x));
  }
}

/** TF's padding for one axis: [before, after]. */
export function tfPadding(mode: 'same' | 'valid', size: number, kernel: number, stride: number, dilation: number): [number, number] {
  if (mode === 'valid') return [0, 0];
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** The Keras (channels-last) order of a tensor held channels-first. */
function toChannelsLast(x: Tensor): Tensor {
  if (x.ndim < 3) return x;
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return x.permute(dims);
}

/** Back from {@link toChannelsLast}. */
function toChannelsFirst(x: Tensor): Tensor {
  if (x.ndim < 3) return x;
  const dims = [0, x.ndim - 1, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 1)];
  return x.permute(dims);
}

/** A Keras axis of a rank-`rank` tensor, as the axis of the channels-first tensor held here. */
export function heldAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ShapeError(`${where}: axis ${axis} is out of range for a rank-${rank} input`);
  if (rank < 3 || a === 0) return a;
  return a === rank - 1 ? 1 : a + 1;
}

function need4d(x: Tensor, where: string): void {
  if (x.ndim !== 4) throw new ShapeError(`${where}: expected a 4-d input [N, C, H, W], received shape ${formatShape(x.shape)}`);
}

/**
 * One imported Keras layer. `forward` takes the layer's inputs (one tensor for most layers, several
 * for Add and Concatenate) in convkit's layout.
 */
export abstract class TfjsLayer extends Module {
  /** The Keras layer name. */
  readonly layerName: string;
  /** The Keras class name (`Conv2D`, ...). */
  readonly className: string;
  /** `where` prefix of runtime errors. */
  protected readonly where: string;

  constructor(layer: KerasLayer) {
    super();
    this.layerName = layer.name;
    this.className = layer.className;
    this.where = `${layer.className} layer '${layer.name}'`;
  }

  /** Runs the layer on its inputs. */
  abstract call(inputs: readonly Tensor[]): Tensor;

  /** The number of inputs per call: exactly 1, or at least 1 for merge layers. */
  get merges(): boolean {
    return false;
  }

  /** Runs the layer (`forward(x)`, or `forward(a, b, ...)` for Add and Concatenate). */
  forward(...inputs: Tensor[]): Tensor {
    return this.call(inputs);
  }

  override describe(): string {
    return `${this.className}('${this.layerName}')`;
  }

  protected one(inputs: readonly Tensor[]): Tensor {
    const x = inputs[0];
    if (inputs.length !== 1 || !(x instanceof Tensor)) throw new ArgumentError(`${this.where}: expected one input tensor, received ${inputs.length}`);
    return x;
  }
}

/** Fetches one weight of the layer being built; see model.ts. */
export type WeightGetter = (weight: string, expected: readonly (number | null)[]) => DecodedWeight;

/** Conv2D, DepthwiseConv2D and SeparableConv2D (depthwise then pointwise, bias after both). */
class TfjsConv2d extends TfjsLayer {
  readonly weight: Tensor;
  readonly pointwise: Tensor | null;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly dilation: [number, number];
  readonly padding: 'same' | 'valid';
  readonly groups: number;
  readonly activation: TfjsActivation;

  constructor(layer: KerasLayer, o: ConvOptions, weight: Tensor, pointwise: Tensor | null, bias: Tensor | null) {
    super(layer);
    this.stride = o.stride;
    this.dilation = o.dilation;
    this.padding = o.padding;
    this.groups = o.groups;
    this.activation = o.activation;
    this.weight = this.registerParameter('weight', weight);
    this.pointwise = this.registerParameter('pointwise', pointwise);
    this.bias = this.registerParameter('bias', bias);
  }

  call(inputs: readonly Tensor[]): Tensor {
    let x = this.one(inputs);
    need4d(x, this.where);
    const [kh, kw] = [this.weight.shape[2]!, this.weight.shape[3]!];
    const [t, b] = tfPadding(this.padding, x.shape[2]!, kh, this.stride[0], this.dilation[0]);
    const [l, r] = tfPadding(this.padding, x.shape[3]!, kw, this.stride[1], this.dilation[1]);
    let padding: [number, number] = [t, l];
    if (t !== b || l !== r) {
      x = F.pad(x, [l, r, t, b]);
      padding = [0, 0];
    }
    const options = { stride: this.stride, dilation: this.dilation, groups: this.groups, padding };
    let y = F.conv2d(x, this.weight, this.pointwise === null ? this.bias : null, options);
    if (this.pointwise !== null) y = F.conv2d(y, this.pointwise, this.bias);
    return activate(this.activation, y);
  }
}

interface ConvOptions {
  stride: [number, number];
  dilation: [number, number];
  padding: 'same' | 'valid';
  groups: number;
  activation: TfjsActivation;
}

/** Dense: `activation(x W + b)` over the last Keras axis. */
class TfjsDense extends TfjsLayer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly activation: TfjsActivation;

  constructor(layer: KerasLayer, activation: TfjsActivation, weight: Tensor, bias: Tensor | null) {
    super(layer);
    this.activation = activation;
    this.weight = this.registerParameter('weight', weight);
    this.bias = this.registerParameter('bias', bias);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    if (x.ndim < 3) return activate(this.activation, F.linear(x, this.weight, this.bias));
    // Over the Keras last axis (the channel axis here), then back to channels-first; softmax then
    // runs over axis 1, which is that same axis.
    return activate(this.activation, toChannelsFirst(F.linear(toChannelsLast(x), this.weight, this.bias)));
  }
}

/** BatchNormalization over the Keras channel axis, with running statistics (fine-tunable). */
class TfjsBatchNorm extends TfjsLayer {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly eps: number;
  /** convkit's momentum: `1 - ` the Keras momentum. */
  readonly momentum: number;
  readonly axis: number;
  readonly #kerasTrainable: boolean;

  constructor(layer: KerasLayer, o: { eps: number; momentum: number; axis: number; trainable: boolean }, w: Record<'gamma' | 'beta' | 'mean' | 'variance', Tensor | null>) {
    super(layer);
    this.eps = o.eps;
    this.momentum = o.momentum;
    this.axis = o.axis;
    this.#kerasTrainable = o.trainable;
    this.weight = this.registerParameter('weight', w.gamma);
    this.bias = this.registerParameter('bias', w.beta);
    this.runningMean = this.registerBuffer('running_mean', w.mean)!;
    this.runningVar = this.registerBuffer('running_var', w.variance)!;
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    if (heldAxis(this.axis, x.ndim, this.where) !== 1) {
      throw new ArgumentError(`${this.where}: normalising over Keras axis ${this.axis} of a rank-${x.ndim} input is not supported (only the channel axis)`);
    }
    const params = this.parameters();
    const learning = params.length > 0 ? params.some((p) => p.requiresGrad) : this.#kerasTrainable;
    return F.batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training && learning,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

/** Activation layers: Activation, ReLU (max_value null or 6, or a negative slope), LeakyReLU, Softmax. */
class TfjsActivationLayer extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly kind: TfjsActivation | 'leakyRelu',
    readonly slope = 0,
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    return this.kind === 'leakyRelu' ? F.leakyRelu(x, { negativeSlope: this.slope }) : activate(this.kind, x);
  }
}

/** Max/AveragePooling2D with TF's 'same' (padding ignored by both max and mean). */
class TfjsPool2d extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly mode: 'max' | 'avg',
    readonly poolSize: [number, number],
    readonly stride: [number, number],
    readonly padding: 'same' | 'valid',
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    need4d(x, this.where);
    const [t, b] = tfPadding(this.padding, x.shape[2]!, this.poolSize[0], this.stride[0], 1);
    const [l, r] = tfPadding(this.padding, x.shape[3]!, this.poolSize[1], this.stride[1], 1);
    const window = { kernelSize: this.poolSize, stride: this.stride };
    const padded = t + b + l + r > 0;
    if (this.mode === 'max') return F.maxPool2d(padded ? F.pad(x, [l, r, t, b], { value: -Infinity }) : x, window);
    if (!padded) return F.avgPool2d(x, window);
    // TF divides by the number of input elements in each window: sums over the zero-padded input,
    // divided by the same sums over a padded plane of ones.
    const sums = F.avgPool2d(F.pad(x, [l, r, t, b]), { ...window, divisorOverride: 1 });
    const counts = F.avgPool2d(F.pad(ones([1, 1, x.shape[2]!, x.shape[3]!]), [l, r, t, b]), { ...window, divisorOverride: 1 });
    return sums.div(counts);
  }
}

/** GlobalAverage/MaxPooling2D (`keepdims` kept as `[N, C, 1, 1]`). */
class TfjsGlobalPool2d extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly mode: 'max' | 'avg',
    readonly keepdims: boolean,
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    need4d(x, this.where);
    const y = this.mode === 'max' ? F.globalMaxPool2d(x) : F.globalAvgPool2d(x);
    return this.keepdims ? y : y.reshape([x.shape[0]!, x.shape[1]!]);
  }
}

/** ZeroPadding2D: `[[top, bottom], [left, right]]`. */
class TfjsZeroPadding2d extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly pads: [number, number, number, number],
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    need4d(x, this.where);
    const [t, b, l, r] = this.pads;
    return F.pad(x, [l, r, t, b]);
  }
}

/** UpSampling2D, nearest neighbour. */
class TfjsUpSampling2d extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly size: [number, number],
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    need4d(x, this.where);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const [sh, sw] = this.size;
    return x.reshape([n, c, h, 1, w, 1]).expand([n, c, h, sh, w, sw]).reshape([n, c, h * sh, w * sw]);
  }
}

/** Add and Concatenate. */
class TfjsMerge extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly mode: 'add' | 'concat',
    readonly axis: number,
  ) {
    super(layer);
  }

  override get merges(): boolean {
    return true;
  }

  call(inputs: readonly Tensor[]): Tensor {
    if (inputs.length === 0) throw new ArgumentError(`${this.where}: expected at least one input tensor`);
    if (this.mode === 'add') return inputs.slice(1).reduce((a, b) => F.add(a, b), inputs[0]!);
    return F.cat(inputs, { dim: heldAxis(this.axis, inputs[0]!.ndim, this.where) });
  }
}

/** Flatten (Keras's element order) and Reshape (`target_shape` without the batch axis). */
class TfjsReshape extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly target: readonly number[] | null,
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    if (x.ndim === 0) throw new ShapeError(`${this.where}: expected an input with a batch axis, received a 0-d tensor`);
    const n = x.shape[0]!;
    if (this.target === null) return x.ndim === 2 ? x : toChannelsLast(x).reshape([n, -1]);
    return toChannelsFirst(toChannelsLast(x).reshape([n, ...this.target]));
  }
}

/** Dropout and SpatialDropout2D (identity in eval mode). */
class TfjsDropout extends TfjsLayer {
  constructor(
    layer: KerasLayer,
    readonly rate: number,
    readonly spatial: boolean,
  ) {
    super(layer);
  }

  call(inputs: readonly Tensor[]): Tensor {
    const x = this.one(inputs);
    if (!this.training || this.rate === 0) return x;
    return this.spatial ? F.dropout2d(x, { p: this.rate, training: true }) : F.dropout(x, { p: this.rate, training: true });
  }
}

/** What a layer type does with its config: check it (parse) and build the module (build). */
interface LayerType {
  /** Reads and checks the config; throws Unsupported for unsupported features. */
  parse(c: ConfigReader, layer: KerasLayer): unknown;
  /** Builds the module; `get` fetches and checks weights. */
  build(layer: KerasLayer, parsed: unknown, get: WeightGetter): TfjsLayer;
}

function define<P>(parse: (c: ConfigReader, layer: KerasLayer) => P, build: (layer: KerasLayer, p: P, get: WeightGetter) => TfjsLayer): LayerType {
  return { parse, build: (layer, p, get) => build(layer, p as P, get) };
}

function tensorOf(w: DecodedWeight, shape: number[]): Tensor {
  return new Tensor(w.data, shape);
}

/** `[kH, kW, I, O]` to `[O, I, kH, kW]`. */
function hwioToOihw(w: DecodedWeight): Tensor {
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const out = new Float32Array(w.data.length);
  const src = w.data;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < ci; c++) {
        const base = ((i * kw + j) * ci + c) * co;
        for (let o = 0; o < co; o++) out[((o * ci + c) * kh + i) * kw + j] = src[base + o]!;
      }
    }
  }
  return new Tensor(out, [co, ci, kh, kw]);
}

/** Depthwise `[kH, kW, C, M]` to `[C * M, 1, kH, kW]` (output channel c * M + m, as TF). */
function depthwiseToOihw(w: DecodedWeight): Tensor {
  const [kh, kw, c, m] = w.shape as [number, number, number, number];
  // [kH, kW, C, M] is [kH, kW, 1, C * M] in memory.
  return hwioToOihw({ name: w.name, shape: [kh, kw, 1, c * m], data: w.data });
}

/** Dense `[in, out]` to `[out, in]`. */
function denseToLinear(w: DecodedWeight): Tensor {
  const [fi, fo] = w.shape as [number, number];
  const out = new Float32Array(w.data.length);
  for (let i = 0; i < fi; i++) for (let o = 0; o < fo; o++) out[o * fi + i] = w.data[i * fo + o]!;
  return new Tensor(out, [fo, fi]);
}

function convParse(c: ConfigReader, layer: KerasLayer): ConvOptions & { kernel: [number, number]; filters: number; multiplier: number; useBias: boolean } {
  c.channelsLast();
  const kernel = c.pair('kernel_size', undefined, 1);
  const stride = c.pair('strides', 1, 1);
  const dilation = c.pair('dilation_rate', 1, 1);
  if ((stride[0] > 1 || stride[1] > 1) && (dilation[0] > 1 || dilation[1] > 1)) {
    throw new Unsupported('strides > 1 together with dilation_rate > 1 (Keras refuses it too)');
  }
  const depthwise = layer.className === 'DepthwiseConv2D';
  return {
    kernel,
    stride,
    dilation,
    padding: c.padding(),
    groups: layer.className === 'Conv2D' ? c.int('groups', 1, 1) : 1,
    activation: c.activation(),
    filters: depthwise ? 0 : c.int('filters', undefined, 1, 2 ** 31 - 1),
    multiplier: layer.className === 'Conv2D' ? 1 : c.int('depth_multiplier', 1, 1, 2 ** 31 - 1),
    useBias: c.bool('use_bias', true),
  };
}

const CONV = define(convParse, (layer, p, get) => {
  const [kh, kw] = p.kernel;
  let weight: Tensor;
  let pointwise: Tensor | null = null;
  let groups = p.groups;
  let outChannels: number;
  if (layer.className === 'Conv2D') {
    const k = get('kernel', [kh, kw, null, p.filters]);
    if (k.shape[2]! * p.groups === 0) throw new FormatError(`${layer.className} layer '${layer.name}': kernel has shape [${k.shape.join(', ')}] with no input channels`);
    weight = hwioToOihw(k);
    outChannels = p.filters;
    if (p.filters % p.groups !== 0) throw new FormatError(`${layer.className} layer '${layer.name}': filters ${p.filters} is not divisible by groups ${p.groups}`);
  } else {
    const k = get('depthwise_kernel', [kh, kw, null, p.multiplier]);
    groups = k.shape[2]!;
    if (groups === 0) throw new FormatError(`${layer.className} layer '${layer.name}': depthwise_kernel has no input channels`);
    weight = depthwiseToOihw(k);
    outChannels = groups * p.multiplier;
    if (layer.className === 'SeparableConv2D') {
      pointwise = hwioToOihw(get('pointwise_kernel', [1, 1, outChannels, p.filters]));
      outChannels = p.filters;
    }
  }
  const bias = p.useBias ? tensorOf(get('bias', [outChannels]), [outChannels]) : null;
  return new TfjsConv2d(layer, { ...p, groups }, weight, pointwise, bias);
});

const DENSE = define(
  (c) => ({ units: c.int('units', undefined, 1, 2 ** 31 - 1), activation: c.activation(), useBias: c.bool('use_bias', true) }),
  (layer, p, get) => {
    const weight = denseToLinear(get('kernel', [null, p.units]));
    const bias = p.useBias ? tensorOf(get('bias', [p.units]), [p.units]) : null;
    return new TfjsDense(layer, p.activation, weight, bias);
  },
);

/** A Keras axis config: an integer or (Keras 3) a one-element list. */
function axisOf(c: ConfigReader, fallback: number): number {
  let v = c.config['axis'] ?? fallback;
  if (Array.isArray(v) && v.length === 1) v = v[0];
  if (Array.isArray(v)) throw new Unsupported('several axes');
  if (!Number.isInteger(v) || Math.abs(v as number) > 64) c.bad('axis', 'an integer');
  return v as number;
}

const BATCH_NORM = define(
  (c) => {
    const momentum = c.num('momentum', 0.99);
    if (momentum < 0 || momentum > 1) c.bad('momentum', 'a number in [0, 1]');
    const eps = c.num('epsilon', 1e-3);
    if (eps < 0) c.bad('epsilon', 'a non-negative number');
    if (c.config['renorm'] === true) throw new Unsupported('renorm');
    return { axis: axisOf(c, -1), eps, momentum: 1 - momentum, center: c.bool('center', true), scale: c.bool('scale', true), trainable: c.bool('trainable', true) };
  },
  (layer, p, get) => {
    const mean = get('moving_mean', [null]);
    const n = mean.shape[0]!;
    const vec = (w: DecodedWeight): Tensor => tensorOf(w, [n]);
    return new TfjsBatchNorm(layer, p, {
      gamma: p.scale ? vec(get('gamma', [n])) : null,
      beta: p.center ? vec(get('beta', [n])) : null,
      mean: vec(mean),
      variance: vec(get('moving_variance', [n])),
    });
  },
);

const RELU = define(
  (c) => {
    const max = c.config['max_value'];
    const slope = c.num('negative_slope', 0);
    const threshold = c.num('threshold', 0);
    if (threshold !== 0) throw new Unsupported(`threshold ${threshold}`);
    if (max !== null && max !== undefined) {
      if (max !== 6) throw new Unsupported(`max_value ${JSON.stringify(max)} (only null or 6)`);
      if (slope !== 0) throw new Unsupported('max_value with a negative_slope');
      return { kind: 'relu6' as const, slope: 0 };
    }
    return slope === 0 ? { kind: 'relu' as const, slope: 0 } : { kind: 'leakyRelu' as const, slope };
  },
  (layer, p) => new TfjsActivationLayer(layer, p.kind, p.slope),
);

function pool(mode: 'max' | 'avg'): LayerType {
  return define(
    (c) => {
      c.channelsLast();
      const poolSize = c.pair('pool_size', 2, 1);
      const strides = c.config['strides'] === null ? poolSize : c.pair('strides', poolSize, 1);
      return { poolSize, strides, padding: c.padding() };
    },
    (layer, p) => new TfjsPool2d(layer, mode, p.poolSize, p.strides, p.padding),
  );
}

function globalPool(mode: 'max' | 'avg'): LayerType {
  return define(
    (c) => {
      c.channelsLast();
      return { keepdims: c.bool('keepdims', false) };
    },
    (layer, p) => new TfjsGlobalPool2d(layer, mode, p.keepdims),
  );
}

const ZERO_PADDING = define(
  (c) => {
    c.channelsLast();
    const v = c.config['padding'] ?? 1;
    const ok = (d: unknown): d is number => Number.isInteger(d) && (d as number) >= 0 && (d as number) <= MAX_GEOMETRY;
    if (ok(v)) return [v, v, v, v] as [number, number, number, number];
    if (Array.isArray(v) && v.length === 2) {
      const [h, w] = v as unknown[];
      if (ok(h) && ok(w)) return [h, h, w, w] as [number, number, number, number];
      if (Array.isArray(h) && Array.isArray(w) && h.length === 2 && w.length === 2 && [...h, ...w].every(ok)) {
        return [h[0], h[1], w[0], w[1]] as [number, number, number, number];
      }
    }
    return c.bad('padding', 'an integer, [h, w] or [[top, bottom], [left, right]]');
  },
  (layer, p) => new TfjsZeroPadding2d(layer, p),
);

const UPSAMPLING = define(
  (c) => {
    c.channelsLast();
    const interpolation = c.str('interpolation', 'nearest');
    if (interpolation !== 'nearest') throw new Unsupported(`interpolation '${interpolation}'`);
    const size = c.pair('size', 2, 1);
    if (size[0] * size[1] > 4096) c.bad('size', 'upsampling factors whose product is at most 4096');
    return size;
  },
  (layer, p) => new TfjsUpSampling2d(layer, p),
);

const RESHAPE = define(
  (c) => {
    const t: unknown = c.config['target_shape'];
    const ok = (d: unknown): boolean => Number.isInteger(d) && (d === -1 || ((d as number) >= 0 && (d as number) <= 2 ** 31 - 1));
    if (!Array.isArray(t) || t.length === 0 || t.length > 6 || !t.every(ok)) {
      return c.bad('target_shape', 'a list of up to 6 non-negative integers (one may be -1)');
    }
    if (t.filter((d) => d === -1).length > 1) c.bad('target_shape', 'a shape with at most one -1');
    return t as number[];
  },
  (layer, p) => new TfjsReshape(layer, p),
);

/** Every supported Keras class name and how to import it (InputLayer is handled by the model). */
export const LAYER_TYPES: ReadonlyMap<string, LayerType> = new Map<string, LayerType>([
  ['Conv2D', CONV],
  ['DepthwiseConv2D', CONV],
  ['SeparableConv2D', CONV],
  ['Dense', DENSE],
  ['BatchNormalization', BATCH_NORM],
  ['Activation', define((c) => c.activation(), (layer, kind) => new TfjsActivationLayer(layer, kind))],
  ['ReLU', RELU],
  ['LeakyReLU', define((c) => c.num(c.config['negative_slope'] === undefined ? 'alpha' : 'negative_slope', 0.3), (layer, s) => new TfjsActivationLayer(layer, 'leakyRelu', s))],
  [
    'Softmax',
    define(
      (c) => {
        if (axisOf(c, -1) !== -1) throw new Unsupported('an axis other than -1');
        return 'softmax' as const;
      },
      (layer, kind) => new TfjsActivationLayer(layer, kind),
    ),
  ],
  ['MaxPooling2D', pool('max')],
  ['AveragePooling2D', pool('avg')],
  ['GlobalAveragePooling2D', globalPool('avg')],
  ['GlobalMaxPooling2D', globalPool('max')],
  ['ZeroPadding2D', ZERO_PADDING],
  ['UpSampling2D', UPSAMPLING],
  ['Add', define(() => 0, (layer) => new TfjsMerge(layer, 'add', 0))],
  ['Concatenate', define((c) => axisOf(c, -1), (layer, axis) => new TfjsMerge(layer, 'concat', axis))],
  ['Flatten', define((c) => c.channelsLast(), (layer) => new TfjsReshape(layer, null))],
  ['Reshape', RESHAPE],
  [
    'Dropout',
    define(
      (c) => {
        const rate = c.num('rate', 0.5);
        if (rate < 0 || rate > 1) c.bad('rate', 'a number in [0, 1]');
        return rate;
      },
      (layer, rate) => new TfjsDropout(layer, rate, false),
    ),
  ],
  [
    'SpatialDropout2D',
    define(
      (c) => {
        c.channelsLast();
        const rate = c.num('rate', 0.5);
        if (rate < 0 || rate > 1) c.bad('rate', 'a number in [0, 1]');
        return rate;
      },
      (layer, rate) => new TfjsDropout(layer, rate, true),
    ),
  ],
]);

/** A config reader for one layer (exported for the model builder). */
export function configReader(layer: KerasLayer, file: string): ConfigReader {
  return new ConfigReader(layer.config, `${file}: layer '${layer.name}' (${layer.className})`);
}

export type { ConfigReader };
