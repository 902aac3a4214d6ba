/**
 * MobileNetV2 (Sandler et al., 2018) as torchvision 0.14 builds it: inverted residual blocks
 * (1x1 expand, 3x3 depthwise, 1x1 linear projection, shortcut when shape allows), ReLU6, and
 * `classifier` = dropout 0.2 + linear. Module names match torchvision (`features.0.0.weight`,
 * `features.1.conv.0.0.weight`, `features.18.1.running_var`, `classifier.1.weight`);
 * 3,504,872 parameters at 1000 classes and width 1.
 */
import { invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { BatchNorm2d, Conv2d, Dropout, Linear, ReLU6, Sequential } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import { releaseDead } from '../tensor/buffer-arena.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, resolveModelOptions, torchvisionInit, type ModelOptions } from './options.js';

/** Rounds `v` to a multiple of `divisor`, never more than 10% down (torchvision's `_make_divisible`). */
function makeDivisible(v: number, divisor = 8): number {
  let out = Math.max(divisor, Math.floor(v + divisor / 2) - (Math.floor(v + divisor / 2) % divisor));
  if (out < 0.9 * v) out += divisor;
  return out;
}

/** Conv (no bias) + batch norm + ReLU6, torchvision's `Conv2dNormActivation` (children 0, 1, 2). */
function convBnRelu6(inC: number, outC: number, kernel: number, stride = 1, groups = 1): Sequential {
  return new Sequential(
    new Conv2d(inC, outC, kernel, { stride, padding: (kernel - 1) >> 1, groups, bias: false }),
    new BatchNorm2d(outC),
    new ReLU6(),
  );
}

/** One inverted residual block; `conv` holds the expand / depthwise / project layers. */
export class InvertedResidual extends Module {
  readonly conv: Sequential;
  readonly useResConnect: boolean;
  readonly #args: { inC: number; outC: number; stride: number; expandRatio: number };

  constructor(inC: number, outC: number, stride: number, expandRatio: number) {
    super();
    this.#args = { inC, outC, stride, expandRatio };
    const hidden = Math.round(inC * expandRatio);
    this.useResConnect = stride === 1 && inC === outC;
    const layers: Module[] = [];
    if (expandRatio !== 1) layers.push(convBnRelu6(inC, hidden, 1));
    layers.push(convBnRelu6(hidden, hidden, 3, stride, hidden));
    layers.push(new Conv2d(hidden, outC, 1, { bias: false }), new BatchNorm2d(outC));
    this.conv = this.registerModule('conv', new Sequential(...layers));
  }

  override config(): { [key: string]: JsonValue } {
    return { ...this.#args };
  }

  forward(x: Tensor): Tensor {
    const out = this.conv.forward(x);
    if (!this.useResConnect) return out;
    const sum = F.add(x, out);
    releaseDead(out, sum, x);
    return sum;
  }
}

/** Options of {@link mobilenetV2}. */
export interface MobileNetV2Options extends ModelOptions {
  /** Channel multiplier (default 1). */
  widthMult?: number;
  /** Dropout probability before the classifier (default 0.2). */
  dropout?: number;
}

/** (expansion t, channels c, repeats n, first stride s) per stage, from the paper's table 2. */
const SETTINGS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** MobileNetV2; see the module comment. */
export class MobileNetV2 extends Module {
  readonly features: Sequential;
  classifier: Sequential;
  readonly #options: Required<MobileNetV2Options>;

  constructor(options: MobileNetV2Options = {}) {
    super();
    const { numClasses, inChannels } = resolveModelOptions(options, 'mobilenetV2');
    const widthMult = options.widthMult ?? 1;
    if (typeof widthMult !== 'number' || !(widthMult > 0)) throw invalidArgument('options.widthMult of mobilenetV2()', 'a positive number', widthMult);
    const dropout = options.dropout ?? 0.2;
    this.#options = { numClasses, inChannels, widthMult, dropout };

    let inputChannel = makeDivisible(32 * widthMult);
    const lastChannel = makeDivisible(1280 * Math.max(1, widthMult));
    const layers: Module[] = [convBnRelu6(inChannels, inputChannel, 3, 2)];
    for (const [t, c, n, s] of SETTINGS) {
      const outputChannel = makeDivisible(c * widthMult);
      for (let i = 0; i < n; i++) {
        layers.push(new InvertedResidual(inputChannel, outputChannel, i === 0 ? s : 1, t));
        inputChannel = outputChannel;
      }
    }
    layers.push(convBnRelu6(inputChannel, lastChannel, 1));
    this.features = this.registerModule('features', new Sequential(...layers));
    this.classifier = this.registerModule('classifier', new Sequential(new Dropout(dropout), new Linear(lastChannel, numClasses)));
    torchvisionInit(this, 'normal');
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig(this.#options);
  }

  override describe(): string {
    return 'MobileNetV2';
  }

  forward(x: Tensor): Tensor {
    const pooled = F.adaptiveAvgPool2d(this.features.forward(x), [1, 1]);
    return this.classifier.forward(F.flatten(pooled, { startDim: 1 }));
  }
}

registerModuleType('InvertedResidual', InvertedResidual, (config) => {
  const { inC, outC, stride, expandRatio } = config as { inC: number; outC: number; stride: number; expandRatio: number };
  return new InvertedResidual(inC, outC, stride, expandRatio);
});
registerModuleType('MobileNetV2', MobileNetV2, (config) => new MobileNetV2(config as MobileNetV2Options));

/** MobileNetV2 (3,504,872 parameters at 1000 classes). */
export function mobilenetV2(options?: MobileNetV2Options): MobileNetV2 {
  return new MobileNetV2(options);
}
