/**
 * The modules {@link fuseForInference} puts in a model: a convolution with its batch norm folded in
 * and its activation applied by its own kernel, and the pass-through that stands in for the
 * activation module it made redundant. Inference only: no backward pass, no serialisation.
 */
import { convForward, convGeometry, type ConvActivation, type ConvOptions } from '../ops/conv.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';

/** Tensors already activated by a fused convolution, by activation. */
const activated = { relu: new WeakSet<Tensor>(), relu6: new WeakSet<Tensor>() };

/** A Conv2d with its batch norm folded in and its activation applied in place. Inference only. */
export class FusedConv2d extends Module {
  readonly #weight: Float32Array;
  readonly #bias: Float32Array;
  readonly #wShape: number[];
  readonly #options: ConvOptions;
  readonly #act: ConvActivation;

  constructor(weight: Float32Array, wShape: number[], bias: Float32Array, options: ConvOptions, act: ConvActivation) {
    super();
    this.#weight = weight;
    this.#wShape = wShape;
    this.#bias = bias;
    this.#options = options;
    this.#act = act;
  }

  /** The folded weight, [out, in / groups, kH, kW]. */
  get weight(): Float32Array {
    return this.#weight;
  }

  get weightShape(): readonly number[] {
    return this.#wShape;
  }

  /** The folded bias (one per output channel). */
  get bias(): Float32Array {
    return this.#bias;
  }

  get options(): ConvOptions {
    return this.#options;
  }

  get activation(): ConvActivation {
    return this.#act;
  }

  override describe(): string {
    return `FusedConv2d(${this.#wShape.join('x')}, ${this.#act})`;
  }

  forward(x: Tensor): Tensor {
    const g = convGeometry('conv2d', 2, x.shape, this.#wShape, this.#options);
    const y = new Tensor(convForward(g, x.data, this.#weight, this.#bias, this.#act), g.outShape);
    if (this.#act !== 'none') activated[this.#act].add(y);
    return y;
  }
}

/** An activation module that passes through what a fused convolution already activated. */
export class PassThroughActivation extends Module {
  readonly #inner: Module;
  readonly #kind: 'relu' | 'relu6';

  constructor(inner: Module, kind: 'relu' | 'relu6') {
    super();
    this.#inner = inner;
    this.#kind = kind;
  }

  /** The activation it stands for. */
  get kind(): 'relu' | 'relu6' {
    return this.#kind;
  }

  forward(x: Tensor): Tensor {
    return activated[this.#kind].has(x) ? x : (this.#inner.forward as (t: Tensor) => Tensor)(x);
  }
}
