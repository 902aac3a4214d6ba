/**
 * AlexNet (Krizhevsky et al., 2012) and ZFNet (Zeiler & Fergus, 2013), as lecture notes tabulate
 * them, plus torchvision's single-tower AlexNet.
 *
 * - `alexnet()` is the paper's network on 227x227 input: 96 11x11/4 filters (55x55x96),
 *   local response norm (size 5, alpha 1e-4, beta 0.75, k 2), 3x3/2 overlapping max pools,
 *   256 5x5 (27x27x256), 384 3x3, 384 3x3, 256 3x3 (13x13), with the paper's two-GPU
 *   grouping kept as `groups: 2` on conv2, conv4 and conv5; then FC 4096, 4096, classes with
 *   dropout 0.5. 60,965,224 parameters at 1000 classes.
 * - `alexnet({ variant: 'torchvision' })` is torchvision's (64-192-384-256-256, no LRN, 6x6
 *   adaptive pool), 61,100,840 parameters; its names match torchvision's.
 * - `zfnet()` is AlexNet with a 7x7/2 first layer and 512-1024-512 filters in conv3-5 on 224x224
 *   input (110x110x96, pooled 55x55x96; 26x26x256, pooled 13x13x256; 13x13x512, 13x13x1024,
 *   13x13x512; 6x6x512), as the notes' table draws it.
 *
 * The paper variants end in a fixed-size flatten, so their first FC layer's input size follows
 * from `inputSize` (default 227 for AlexNet, 224 for ZFNet).
 */
import { ArgumentError, invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { AdaptiveAvgPool2d, Conv2d, Dropout, Linear, LocalResponseNorm, MaxPool2d, ReLU, Sequential } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, positiveInteger, resolveModelOptions, type ModelOptions } from './options.js';

/** Options of {@link alexnet}. */
export interface AlexNetOptions extends ModelOptions {
  /** `'paper'` (default: grouped convolutions and LRN) or `'torchvision'`. */
  variant?: 'paper' | 'torchvision';
  /** Square input size for the paper variant (default 227). */
  inputSize?: number;
  /** Dropout probability in the classifier (default 0.5). */
  dropout?: number;
}

/** Options of {@link zfnet}. */
export interface ZFNetOptions extends ModelOptions {
  /** Square input size (default 224). */
  inputSize?: number;
  /** Dropout probability in the classifier (default 0.5). */
  dropout?: number;
}

type Arch = 'alexnet' | 'alexnet-torchvision' | 'zfnet';

function outSize(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  const out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  // PyTorch drops a ceil-mode window that would start in the right padding.
  return ceil && (out - 1) * s >= n + p ? out - 1 : out;
}

/** The `features` / `classifier` network shared by the three architectures. */
export class AlexNet extends Module {
  readonly features: Sequential;
  readonly avgpool: AdaptiveAvgPool2d | null;
  classifier: Sequential;
  readonly arch: Arch;
  readonly #config: { [key: string]: JsonValue };

  constructor(arch: Arch, options: AlexNetOptions & ZFNetOptions = {}) {
    super();
    const name = arch === 'zfnet' ? 'zfnet' : 'alexnet';
    const { numClasses, inChannels } = resolveModelOptions(options, name);
    const dropout = options.dropout ?? 0.5;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout <= 1)) throw invalidArgument(`options.dropout of ${name}()`, 'a probability in [0, 1]', dropout);
    this.arch = arch;
    const lrn = (): LocalResponseNorm => new LocalResponseNorm(5, { alpha: 1e-4, beta: 0.75, k: 2 });
    let flat: number;
    if (arch === 'alexnet-torchvision') {
      this.#config = asConfig({ numClasses, inChannels, dropout });
      this.features = this.registerModule(
        'features',
        new Sequential(
          new Conv2d(inChannels, 64, 11, { stride: 4, padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
          new Conv2d(64, 192, 5, { padding: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
          new Conv2d(192, 384, 3, { padding: 1 }), new ReLU(),
          new Conv2d(384, 256, 3, { padding: 1 }), new ReLU(),
          new Conv2d(256, 256, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
        ),
      );
      this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([6, 6]));
      this.classifier = this.registerModule(
        'classifier',
        new Sequential(
          new Dropout(dropout), new Linear(256 * 6 * 6, 4096), new ReLU(),
          new Dropout(dropout), new Linear(4096, 4096), new ReLU(),
          new Linear(4096, numClasses),
        ),
      );
      return;
    }
    const inputSize = positiveInteger(options.inputSize ?? (arch === 'zfnet' ? 224 : 227), 'options.inputSize', name);
    this.#config = asConfig({ numClasses, inChannels, dropout, inputSize });
    this.avgpool = null;
    let s: number;
    if (arch === 'alexnet') {
      s = outSize(inputSize, 11, 4, 0, false); // conv1
      s = outSize(s, 3, 2, 0, false); // pool1
      s = outSize(s, 3, 2, 0, false); // pool2 (conv2 keeps the size)
      s = outSize(s, 3, 2, 0, false); // pool3
      flat = 256 * s * s;
      this.features = this.registerModule(
        'features',
        new Sequential(
          new Conv2d(inChannels, 96, 11, { stride: 4 }), new ReLU(), lrn(), new MaxPool2d(3, { stride: 2 }),
          new Conv2d(96, 256, 5, { padding: 2, groups: 2 }), new ReLU(), lrn(), new MaxPool2d(3, { stride: 2 }),
          new Conv2d(256, 384, 3, { padding: 1 }), new ReLU(),
          new Conv2d(384, 384, 3, { padding: 1, groups: 2 }), new ReLU(),
          new Conv2d(384, 256, 3, { padding: 1, groups: 2 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
        ),
      );
    } else {
      s = outSize(inputSize, 7, 2, 1, false); // conv1
      s = outSize(s, 3, 2, 0, true); // pool1
      s = outSize(s, 5, 2, 0, false); // conv2
      s = outSize(s, 3, 2, 0, true); // pool2
      s = outSize(s, 3, 2, 0, false); // pool3
      flat = 512 * s * s;
      this.features = this.registerModule(
        'features',
        new Sequential(
          new Conv2d(inChannels, 96, 7, { stride: 2, padding: 1 }), new ReLU(), lrn(), new MaxPool2d(3, { stride: 2, ceilMode: true }),
          new Conv2d(96, 256, 5, { stride: 2 }), new ReLU(), lrn(), new MaxPool2d(3, { stride: 2, ceilMode: true }),
          new Conv2d(256, 512, 3, { padding: 1 }), new ReLU(),
          new Conv2d(512, 1024, 3, { padding: 1 }), new ReLU(),
          new Conv2d(1024, 512, 3, { padding: 1 }), new ReLU(), new MaxPool2d(3, { stride: 2 }),
        ),
      );
    }
    if (s < 1) throw new ArgumentError(`${name}: an input of ${inputSize}x${inputSize} is too small for this network`);
    this.classifier = this.registerModule(
      'classifier',
      new Sequential(
        new Linear(flat, 4096), new ReLU(), new Dropout(dropout),
        new Linear(4096, 4096), new ReLU(), new Dropout(dropout),
        new Linear(4096, numClasses),
      ),
    );
  }

  override config(): { [key: string]: JsonValue } {
    return { arch: this.arch, ...this.#config };
  }

  override describe(): string {
    return this.arch === 'zfnet' ? 'ZFNet' : this.arch === 'alexnet' ? 'AlexNet' : 'AlexNet (torchvision)';
  }

  forward(x: Tensor): Tensor {
    let h = this.features.forward(x);
    if (this.avgpool !== null) h = this.avgpool.forward(h);
    return this.classifier.forward(F.flatten(h, { startDim: 1 }));
  }
}

registerModuleType('AlexNet', AlexNet, (config) => {
  const { arch, ...options } = config as unknown as AlexNetOptions & { arch: Arch };
  return new AlexNet(arch, options);
});

/** AlexNet: the paper's (default, 60,965,224 parameters) or torchvision's (61,100,840). */
export function alexnet(options: AlexNetOptions = {}): AlexNet {
  const variant = options.variant ?? 'paper';
  if (variant !== 'paper' && variant !== 'torchvision') throw invalidArgument('options.variant of alexnet()', "'paper' or 'torchvision'", variant);
  const { variant: _v, ...rest } = options;
  return new AlexNet(variant === 'paper' ? 'alexnet' : 'alexnet-torchvision', rest);
}

/** ZFNet as the notes tabulate it (see the module comment). */
export function zfnet(options: ZFNetOptions = {}): AlexNet {
  return new AlexNet('zfnet', options);
}
