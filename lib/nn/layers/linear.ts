/**
 * `Linear`: the fully connected layer `y = x W^T + b`, as `torch.nn.Linear`, on `F.linear` (one GEMM
 * over every leading dimension). Weight `[outFeatures, inFeatures]`, bias `[outFeatures]`.
 *
 * Default initialisation is PyTorch's: `kaimingUniform_(weight, { a: √5 })` = U(±1/√inFeatures),
 * bias U(±1/√inFeatures).
 */
import { ShapeError, invalidArgument } from '../../errors.js';
import { linear } from '../../functional/tensor-ops.js';
import { zeros } from '../../tensor/create.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { kaimingUniform_, uniform_, type InitOptions } from '../init.js';
import { Module, registerModuleType, type JsonValue } from '../module.js';
import { bool, configAs, layerOptions, positiveInt } from './args.js';

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/** A fully connected layer over the last dimension: `[..., inFeatures]` to `[..., outFeatures]`. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** `[outFeatures, inFeatures]`. */
  readonly weight: Tensor;
  /** `[outFeatures]`, or null with `bias: false`. */
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options?: LinearOptions) {
    super();
    const o = layerOptions('Linear', options, ['bias']);
    this.inFeatures = positiveInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = positiveInt('Linear', 'outFeatures', outFeatures);
    const hasBias = bool('Linear', 'bias', o['bias'], true);
    this.weight = this.registerParameter('weight', zeros([this.outFeatures, this.inFeatures]));
    this.bias = this.registerParameter('bias', hasBias ? zeros([this.outFeatures]) : null);
    this.resetParameters();
  }

  /** PyTorch's default: weight U(±1/√inFeatures) (kaiming uniform, a = √5), bias U(±1/√inFeatures). */
  resetParameters(options: InitOptions = {}): void {
    kaimingUniform_(this.weight, { ...options, a: Math.sqrt(5) });
    if (this.bias !== null) {
      const bound = 1 / Math.sqrt(this.inFeatures);
      uniform_(this.bias, -bound, bound, options);
    }
  }

  /** `x W^T + b` for `x` of shape `[..., inFeatures]`. */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw invalidArgument('the input of Linear', 'a Tensor', x);
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new ShapeError(`${this.describe()}: expected an input whose last dimension is ${this.inFeatures}, received shape ${formatShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }

  override config(): { [key: string]: JsonValue } {
    return { inFeatures: this.inFeatures, outFeatures: this.outFeatures, bias: this.bias !== null };
  }

  /** `Linear(512, 10)`, or `Linear(512, 10, bias=false)`. */
  override describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias === null ? ', bias=false' : ''})`;
  }
}

registerModuleType('Linear', Linear, (config) => {
  const c = configAs<{ inFeatures: number; outFeatures: number; bias?: boolean }>(config);
  return new Linear(c.inFeatures, c.outFeatures, { bias: c.bias });
});
