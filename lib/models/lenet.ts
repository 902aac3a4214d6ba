/**
 * LeNet-5 (LeCun et al., 1998), the classic 6-16-120-84-10 network: on 28x28 input the first
 * convolution pads by 2 to recreate the paper's 32x32 (pass `inputSize: 32` for unpadded 32x32
 * input). `features`: conv 5x5 → 6, pool, conv 5x5 → 16, pool, conv 5x5 → 120 (the paper's C5,
 * fully connected to the 5x5 maps); `classifier`: 120 → 84 → classes. 61,706 parameters with 10
 * classes.
 *
 * Activation and pooling default to ReLU and max pooling (how LeNet is trained today);
 * `{ activation: 'tanh', pooling: 'avg' }` gives the paper's choice (without its trainable
 * subsampling coefficients and sparse C3 connections).
 */
import { invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { AvgPool2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential, Tanh } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, resolveModelOptions, type ModelOptions } from './options.js';

/** Options of {@link lenet5}. */
export interface LeNet5Options extends ModelOptions {
  /** 28 (default: the first conv pads by 2) or 32 (no padding). */
  inputSize?: 28 | 32;
  /** Default 'relu'. */
  activation?: 'relu' | 'tanh';
  /** Default 'max'. */
  pooling?: 'max' | 'avg';
}

/** LeNet-5; see the module comment. */
export class LeNet5 extends Module {
  readonly features: Sequential;
  classifier: Sequential;
  readonly #options: Required<LeNet5Options>;

  constructor(options: LeNet5Options = {}) {
    super();
    const { numClasses, inChannels } = resolveModelOptions(options, 'lenet5', { numClasses: 10, inChannels: 1 });
    const inputSize = options.inputSize ?? 28;
    if (inputSize !== 28 && inputSize !== 32) throw invalidArgument('options.inputSize of lenet5()', '28 or 32', inputSize);
    const activation = options.activation ?? 'relu';
    if (activation !== 'relu' && activation !== 'tanh') throw invalidArgument('options.activation of lenet5()', "'relu' or 'tanh'", activation);
    const pooling = options.pooling ?? 'max';
    if (pooling !== 'max' && pooling !== 'avg') throw invalidArgument('options.pooling of lenet5()', "'max' or 'avg'", pooling);
    this.#options = { numClasses, inChannels, inputSize, activation, pooling };
    const act = (): Module => (activation === 'relu' ? new ReLU() : new Tanh());
    const pool = (): Module => (pooling === 'max' ? new MaxPool2d(2, { stride: 2 }) : new AvgPool2d(2, { stride: 2 }));
    this.features = this.registerModule(
      'features',
      new Sequential(
        new Conv2d(inChannels, 6, 5, { padding: inputSize === 28 ? 2 : 0 }), act(), pool(),
        new Conv2d(6, 16, 5), act(), pool(),
        new Conv2d(16, 120, 5), act(),
      ),
    );
    this.classifier = this.registerModule('classifier', new Sequential(new Linear(120, 84), act(), new Linear(84, numClasses)));
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig(this.#options);
  }

  override describe(): string {
    return 'LeNet-5';
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(this.features.forward(x), { startDim: 1 }));
  }
}

registerModuleType('LeNet5', LeNet5, (config) => new LeNet5(config as LeNet5Options));

/** LeNet-5 (61,706 parameters with 10 classes); defaults 10 classes, 1 input channel. */
export function lenet5(options?: LeNet5Options): LeNet5 {
  return new LeNet5(options);
}
