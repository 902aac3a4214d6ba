/**
 * The VGG-style CIFAR net, small enough to train on a laptop CPU in minutes:
 * `features`: conv3x3 → 32, ReLU, conv3x3 → 32, ReLU, maxpool 2, conv3x3 → 64, ReLU, conv3x3 → 64,
 * ReLU, maxpool 2 (all convs padded by 1); `classifier`: flatten, fc → 512, ReLU, dropout (p=0.5 by
 * default; 0 gives the benchmark's plain net), fc → classes. On 3x32x32 (CIFAR) the flattened
 * features are 64x8x8; on 1x28x28 (MNIST, Fashion-MNIST) 64x7x7. 2,168,362 parameters at 32x32
 * with 10 classes. PyTorch's default initialisation.
 */
import { invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { Conv2d, Dropout, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, positiveInteger, resolveModelOptions, type ModelOptions } from './options.js';

/** Options of {@link cifarNet}. */
export interface CifarNetOptions extends ModelOptions {
  /** Input height = width, at least 4 (default 32; 28 for MNIST-sized images). */
  inputSize?: number;
  /** Dropout before the last layer (default 0.5). */
  dropout?: number;
}

/** The VGG-style CIFAR net; see the module comment. */
export class CifarNet extends Module {
  readonly features: Sequential;
  classifier: Sequential;
  readonly #options: Required<CifarNetOptions>;

  constructor(options: CifarNetOptions = {}) {
    super();
    const { numClasses, inChannels } = resolveModelOptions(options, 'cifarNet', { numClasses: 10, inChannels: 3 });
    const inputSize = positiveInteger(options.inputSize ?? 32, 'options.inputSize', 'cifarNet');
    if (inputSize < 4) throw invalidArgument('options.inputSize of cifarNet()', 'an integer of at least 4', inputSize);
    const dropout = options.dropout ?? 0.5;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
      throw invalidArgument('options.dropout of cifarNet()', 'a number in [0, 1)', dropout);
    }
    this.#options = { numClasses, inChannels, inputSize, dropout };
    const side = Math.floor(Math.floor(inputSize / 2) / 2);
    this.features = this.registerModule(
      'features',
      new Sequential(
        new Conv2d(inChannels, 32, 3, { padding: 1 }), new ReLU(),
        new Conv2d(32, 32, 3, { padding: 1 }), new ReLU(),
        new MaxPool2d(2, { stride: 2 }),
        new Conv2d(32, 64, 3, { padding: 1 }), new ReLU(),
        new Conv2d(64, 64, 3, { padding: 1 }), new ReLU(),
        new MaxPool2d(2, { stride: 2 }),
      ),
    );
    const head: Module[] = [new Linear(64 * side * side, 512), new ReLU()];
    if (dropout > 0) head.push(new Dropout(dropout));
    head.push(new Linear(512, numClasses));
    this.classifier = this.registerModule('classifier', new Sequential(...head));
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig(this.#options);
  }

  override describe(): string {
    return 'CifarNet';
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(F.flatten(this.features.forward(x), { startDim: 1 }));
  }
}

registerModuleType('CifarNet', CifarNet, (config) => new CifarNet(config as CifarNetOptions));

/** The VGG-style CIFAR net (defaults: 10 classes, 3 channels, 32x32 input, dropout 0.5). */
export function cifarNet(options?: CifarNetOptions): CifarNet {
  return new CifarNet(options);
}
