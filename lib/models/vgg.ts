/**
 * VGG (Simonyan & Zisserman, 2014) as torchvision builds it: `features` (3x3 convolutions with
 * ReLU, 2x2 max pools), a 7x7 adaptive average pool, and `classifier` (4096-4096-classes with
 * dropout). `vgg11` is configuration A (132,863,336 parameters at 1000 classes), `vgg16`
 * configuration D (138,357,544). Names match torchvision (`features.0.weight`,
 * `classifier.6.bias`); `batchNorm: true` builds torchvision's `vgg11_bn` layout.
 */
import { invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, resolveModelOptions, torchvisionInit, type ModelOptions } from './options.js';

/** The VGG configurations the zoo builds (torchvision's A and D). */
export type VggDepth = 11 | 16;

const CONFIGS: Record<VggDepth, (number | 'M')[]> = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
};

/** Options of the VGG builders. */
export interface VggOptions extends ModelOptions {
  /** Batch norm after every convolution (torchvision's `vgg11_bn`; default false). */
  batchNorm?: boolean;
  /** Dropout probability in the classifier (default 0.5). */
  dropout?: number;
}

/** A VGG network; see the module comment. */
export class VGG extends Module {
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  classifier: Sequential;
  readonly depth: VggDepth;
  readonly #options: Required<VggOptions>;

  constructor(depth: VggDepth, options: VggOptions = {}) {
    super();
    const cfg = CONFIGS[depth];
    if (cfg === undefined) throw invalidArgument('the depth of VGG', '11 or 16', depth);
    const { numClasses, inChannels } = resolveModelOptions(options, `vgg${depth}`);
    const batchNorm = options.batchNorm ?? false;
    const dropout = options.dropout ?? 0.5;
    this.depth = depth;
    this.#options = { numClasses, inChannels, batchNorm, dropout };

    const layers: Module[] = [];
    let channels = inChannels;
    for (const v of cfg) {
      if (v === 'M') {
        layers.push(new MaxPool2d(2, { stride: 2 }));
      } else {
        layers.push(new Conv2d(channels, v, 3, { padding: 1 }));
        if (batchNorm) layers.push(new BatchNorm2d(v));
        layers.push(new ReLU());
        channels = v;
      }
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([7, 7]));
    this.classifier = this.registerModule(
      'classifier',
      new Sequential(
        new Linear(512 * 7 * 7, 4096),
        new ReLU(),
        new Dropout(dropout),
        new Linear(4096, 4096),
        new ReLU(),
        new Dropout(dropout),
        new Linear(4096, numClasses),
      ),
    );
    torchvisionInit(this, 'normal');
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig({ depth: this.depth, ...this.#options });
  }

  override describe(): string {
    return `VGG-${this.depth}${this.#options.batchNorm ? '-BN' : ''}`;
  }

  forward(x: Tensor): Tensor {
    const pooled = this.avgpool.forward(this.features.forward(x));
    return this.classifier.forward(F.flatten(pooled, { startDim: 1 }));
  }
}

registerModuleType('VGG', VGG, (config) => {
  const { depth, ...options } = config as unknown as VggOptions & { depth: VggDepth };
  return new VGG(depth, options);
});

/** VGG-11, configuration A (132,863,336 parameters at 1000 classes). */
export function vgg11(options?: VggOptions): VGG {
  return new VGG(11, options);
}

/** VGG-16, configuration D (138,357,544 parameters at 1000 classes). */
export function vgg16(options?: VggOptions): VGG {
  return new VGG(16, options);
}
