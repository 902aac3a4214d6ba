/**
 * Activation layers, as `torch.nn`: `ReLU`, `LeakyReLU`, `ReLU6`, `Sigmoid`, `Tanh`, `GELU`,
 * `Softmax`, `LogSoftmax`. Each calls the matching `F` function (a native kernel with its backward).
 *
 * Differs from PyTorch: no `inplace` option; `Softmax` and `LogSoftmax` need `dim` (PyTorch's implicit
 * choice is deprecated).
 */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { gelu, leakyRelu, logSoftmax, relu, relu6, sigmoid, softmax, tanh } from '../../functional/activation.js';
import { Tensor } from '../../tensor/tensor.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { configAs, finite, integer, layerOptions } from './args.js';

function input(layer: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${layer}`, 'a Tensor', x);
  return x;
}

/** `max(0, x)`. */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(input('ReLU', x));
  }
}

/** Options of {@link LeakyReLU}. */
export interface LeakyReLUOptions {
  /** Slope for x <= 0 (default 0.01). */
  negativeSlope?: number;
}

/** `x` for x > 0, `negativeSlope * x` otherwise. */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;

  constructor(options?: LeakyReLUOptions) {
    super();
    const o = layerOptions('LeakyReLU', options, ['negativeSlope']);
    this.negativeSlope = finite('LeakyReLU', 'negativeSlope', o['negativeSlope'], 0.01);
  }

  forward(x: Tensor): Tensor {
    return leakyRelu(input('LeakyReLU', x), { negativeSlope: this.negativeSlope });
  }

  override config(): { [key: string]: JsonValue } {
    return { negativeSlope: this.negativeSlope };
  }

  override describe(): string {
    return `LeakyReLU(negativeSlope=${this.negativeSlope})`;
  }
}

/** `min(max(0, x), 6)`. */
export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(input('ReLU6', x));
  }
}

/** `1 / (1 + exp(-x))`. */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(input('Sigmoid', x));
  }
}

/** The hyperbolic tangent. */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(input('Tanh', x));
  }
}

/** Options of {@link GELU}. */
export interface GELUOptions {
  /** `'none'` (default): exact, through erf; `'tanh'`: the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** The Gaussian error linear unit (see `F.gelu`). */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor(options?: GELUOptions) {
    super();
    const o = layerOptions('GELU', options, ['approximate']);
    const approximate = o['approximate'] ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh') throw invalidArgument('approximate of GELU', "'none' or 'tanh'", approximate);
    this.approximate = approximate;
  }

  forward(x: Tensor): Tensor {
    return gelu(input('GELU', x), { approximate: this.approximate });
  }

  override config(): { [key: string]: JsonValue } {
    return { approximate: this.approximate };
  }

  override describe(): string {
    return this.approximate === 'none' ? 'GELU()' : `GELU(approximate='${this.approximate}')`;
  }
}

/** Options of {@link Softmax} and {@link LogSoftmax}. */
export interface SoftmaxLayerOptions {
  /** The dimension to normalise over (negative counts from the end). Required. */
  dim: number;
}

function readDim(layer: string, options: unknown): number {
  const o = layerOptions(layer, options, ['dim']);
  if (o['dim'] === undefined) {
    throw new ArgumentError(`${layer}: the dim option is required, e.g. new ${layer}({ dim: 1 }) for the class dimension of [N, C]`);
  }
  return integer(layer, 'dim', o['dim']);
}

/** Softmax along `dim`. */
export class Softmax extends Module {
  readonly dim: number;

  constructor(options: SoftmaxLayerOptions) {
    super();
    this.dim = readDim('Softmax', options);
  }

  forward(x: Tensor): Tensor {
    return softmax(input('Softmax', x), { dim: this.dim });
  }

  override config(): { [key: string]: JsonValue } {
    return { dim: this.dim };
  }

  override describe(): string {
    return `Softmax(dim=${this.dim})`;
  }
}

/** Log-softmax along `dim` (accurate where the softmax underflows). */
export class LogSoftmax extends Module {
  readonly dim: number;

  constructor(options: SoftmaxLayerOptions) {
    super();
    this.dim = readDim('LogSoftmax', options);
  }

  forward(x: Tensor): Tensor {
    return logSoftmax(input('LogSoftmax', x), { dim: this.dim });
  }

  override config(): { [key: string]: JsonValue } {
    return { dim: this.dim };
  }

  override describe(): string {
    return `LogSoftmax(dim=${this.dim})`;
  }
}

registerModuleType('ReLU', ReLU, () => new ReLU());
registerModuleType('LeakyReLU', LeakyReLU, (config) => new LeakyReLU(configAs<LeakyReLUOptions>(config)));
registerModuleType('ReLU6', ReLU6, () => new ReLU6());
registerModuleType('Sigmoid', Sigmoid, () => new Sigmoid());
registerModuleType('Tanh', Tanh, () => new Tanh());
registerModuleType('GELU', GELU, (config) => new GELU(configAs<GELUOptions>(config)));
registerModuleType('Softmax', Softmax, (config) => new Softmax(configAs<SoftmaxLayerOptions>(config)));
registerModuleType('LogSoftmax', LogSoftmax, (config) => new LogSoftmax(configAs<SoftmaxLayerOptions>(config)));
