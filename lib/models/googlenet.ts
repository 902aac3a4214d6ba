/**
 * GoogLeNet / Inception v1 (Szegedy et al., 2014) as torchvision 0.14 builds it: conv + batch
 * norm (eps 1e-3) units, nine Inception modules whose four parallel branches (1x1; 1x1 then 3x3;
 * 1x1 then "5x5", which torchvision builds as 3x3; a same-padded 3x3 stride-1 max pool then 1x1)
 * are concatenated along channels, and two auxiliary side classifiers after `inception4a` and
 * `inception4d`. 13,004,888 parameters at 1000 classes with the auxiliaries
 * (`googlenet(aux_logits=True)`); names match torchvision (`inception3a.branch2.1.conv.weight`).
 *
 * `forward(x)` returns the main logits only (the auxiliaries cost nothing when not wanted);
 * {@link GoogLeNet.forwardWithAux} also returns the auxiliary logits in training mode, and
 * {@link GoogLeNet.trainingLoss} is the paper's loss: main + 0.3 x each auxiliary in training,
 * main alone in eval.
 */
import * as F from '../functional/index.js';
import type { ClassIndices, CrossEntropyOptions } from '../functional/loss.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Sequential } from '../nn/layers/index.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, resolveModelOptions, type ModelOptions } from './options.js';
import * as init from '../nn/init.js';

/** Conv (no bias) + batch norm (eps 1e-3) + ReLU: torchvision's `BasicConv2d` (`conv`, `bn`). */
export class BasicConv2d extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly #args: { inC: number; outC: number; kernelSize: number; stride: number; padding: number };

  constructor(inC: number, outC: number, kernelSize: number, options: { stride?: number; padding?: number } = {}) {
    super();
    this.#args = { inC, outC, kernelSize, stride: options.stride ?? 1, padding: options.padding ?? 0 };
    this.conv = this.registerModule('conv', new Conv2d(inC, outC, kernelSize, { ...options, bias: false }));
    this.bn = this.registerModule('bn', new BatchNorm2d(outC, { eps: 0.001 }));
  }

  override config(): { [key: string]: JsonValue } {
    return { ...this.#args };
  }

  forward(x: Tensor): Tensor {
    return F.relu(this.bn.forward(this.conv.forward(x)));
  }
}

/** Four parallel branches concatenated along channels: 1x1 | 1x1→3x3 | 1x1→3x3 | pool→1x1. */
export class Inception extends Module {
  readonly branch1: BasicConv2d;
  readonly branch2: Sequential;
  readonly branch3: Sequential;
  readonly branch4: Sequential;
  readonly #args: number[];

  constructor(inC: number, ch1x1: number, ch3x3red: number, ch3x3: number, ch5x5red: number, ch5x5: number, poolProj: number) {
    super();
    this.#args = [inC, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj];
    this.branch1 = this.registerModule('branch1', new BasicConv2d(inC, ch1x1, 1));
    this.branch2 = this.registerModule('branch2', new Sequential(new BasicConv2d(inC, ch3x3red, 1), new BasicConv2d(ch3x3red, ch3x3, 3, { padding: 1 })));
    // torchvision uses a 3x3 here where the paper has 5x5; kept for weight compatibility.
    this.branch3 = this.registerModule('branch3', new Sequential(new BasicConv2d(inC, ch5x5red, 1), new BasicConv2d(ch5x5red, ch5x5, 3, { padding: 1 })));
    this.branch4 = this.registerModule(
      'branch4',
      new Sequential(new MaxPool2d(3, { stride: 1, padding: 1, ceilMode: true }), new BasicConv2d(inC, poolProj, 1)),
    );
  }

  override config(): { [key: string]: JsonValue } {
    return { channels: [...this.#args] };
  }

  forward(x: Tensor): Tensor {
    return F.cat([this.branch1.forward(x), this.branch2.forward(x), this.branch3.forward(x), this.branch4.forward(x)], { dim: 1 });
  }
}

/** Auxiliary side classifier: 4x4 average pool, 1x1 conv to 128, fc 2048→1024, dropout 0.7, fc. */
export class InceptionAux extends Module {
  readonly conv: BasicConv2d;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly dropout: Dropout;
  readonly #args: { inC: number; numClasses: number };

  constructor(inC: number, numClasses: number) {
    super();
    this.#args = { inC, numClasses };
    this.conv = this.registerModule('conv', new BasicConv2d(inC, 128, 1));
    this.fc1 = this.registerModule('fc1', new Linear(2048, 1024));
    this.fc2 = this.registerModule('fc2', new Linear(1024, numClasses));
    this.dropout = this.registerModule('dropout', new Dropout(0.7));
  }

  override config(): { [key: string]: JsonValue } {
    return { ...this.#args };
  }

  forward(x: Tensor): Tensor {
    const pooled = this.conv.forward(F.adaptiveAvgPool2d(x, [4, 4]));
    const hidden = this.dropout.forward(F.relu(this.fc1.forward(F.flatten(pooled, { startDim: 1 }))));
    return this.fc2.forward(hidden);
  }
}

/** Options of {@link googlenet}. */
export interface GoogLeNetOptions extends ModelOptions {
  /** Build the two auxiliary classifiers (default true, as torchvision's training setup). */
  auxLogits?: boolean;
  /** Dropout before `fc` (default 0.2). */
  dropout?: number;
}

/** What {@link GoogLeNet.forwardWithAux} returns. */
export interface GoogLeNetOutputs {
  logits: Tensor;
  /** Logits of the side classifiers after inception4a and inception4d; empty in eval mode. */
  aux: Tensor[];
}

/** GoogLeNet; see the module comment. */
export class GoogLeNet extends Module {
  readonly conv1: BasicConv2d;
  readonly maxpool1: MaxPool2d;
  readonly conv2: BasicConv2d;
  readonly conv3: BasicConv2d;
  readonly maxpool2: MaxPool2d;
  readonly inception3a: Inception;
  readonly inception3b: Inception;
  readonly maxpool3: MaxPool2d;
  readonly inception4a: Inception;
  readonly inception4b: Inception;
  readonly inception4c: Inception;
  readonly inception4d: Inception;
  readonly inception4e: Inception;
  readonly maxpool4: MaxPool2d;
  readonly inception5a: Inception;
  readonly inception5b: Inception;
  readonly aux1: InceptionAux | null;
  readonly aux2: InceptionAux | null;
  readonly avgpool: AdaptiveAvgPool2d;
  readonly dropout: Dropout;
  fc: Module;
  /** Weight of each auxiliary loss in {@link trainingLoss} (0.3, as the paper). */
  auxLossWeight = 0.3;
  readonly #options: Required<GoogLeNetOptions>;

  constructor(options: GoogLeNetOptions = {}) {
    super();
    const { numClasses, inChannels } = resolveModelOptions(options, 'googlenet');
    const auxLogits = options.auxLogits ?? true;
    const dropout = options.dropout ?? 0.2;
    this.#options = { numClasses, inChannels, auxLogits, dropout };
    const pool = (k: number): MaxPool2d => new MaxPool2d(k, { stride: 2, ceilMode: true });

    this.conv1 = this.registerModule('conv1', new BasicConv2d(inChannels, 64, 7, { stride: 2, padding: 3 }));
    this.maxpool1 = this.registerModule('maxpool1', pool(3));
    this.conv2 = this.registerModule('conv2', new BasicConv2d(64, 64, 1));
    this.conv3 = this.registerModule('conv3', new BasicConv2d(64, 192, 3, { padding: 1 }));
    this.maxpool2 = this.registerModule('maxpool2', pool(3));
    this.inception3a = this.registerModule('inception3a', new Inception(192, 64, 96, 128, 16, 32, 32));
    this.inception3b = this.registerModule('inception3b', new Inception(256, 128, 128, 192, 32, 96, 64));
    this.maxpool3 = this.registerModule('maxpool3', pool(3));
    this.inception4a = this.registerModule('inception4a', new Inception(480, 192, 96, 208, 16, 48, 64));
    this.inception4b = this.registerModule('inception4b', new Inception(512, 160, 112, 224, 24, 64, 64));
    this.inception4c = this.registerModule('inception4c', new Inception(512, 128, 128, 256, 24, 64, 64));
    this.inception4d = this.registerModule('inception4d', new Inception(512, 112, 144, 288, 32, 64, 64));
    this.inception4e = this.registerModule('inception4e', new Inception(528, 256, 160, 320, 32, 128, 128));
    this.maxpool4 = this.registerModule('maxpool4', pool(2));
    this.inception5a = this.registerModule('inception5a', new Inception(832, 256, 160, 320, 32, 128, 128));
    this.inception5b = this.registerModule('inception5b', new Inception(832, 384, 192, 384, 48, 128, 128));
    this.aux1 = auxLogits ? this.registerModule('aux1', new InceptionAux(512, numClasses)) : null;
    this.aux2 = auxLogits ? this.registerModule('aux2', new InceptionAux(528, numClasses)) : null;
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.dropout = this.registerModule('dropout', new Dropout(dropout));
    this.fc = this.registerModule('fc', new Linear(1024, numClasses));

    // torchvision: truncated N(0, 0.01²) in [-2, 2] for convolutions and linear layers; BN 1 / 0.
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof Linear) {
        init.truncNormal_(m.weight, 0, 0.01, -2, 2);
        if (m.bias !== null) init.zeros_(m.bias);
      } else if (m instanceof BatchNorm2d) {
        if (m.weight !== null) init.ones_(m.weight);
        if (m.bias !== null) init.zeros_(m.bias);
      }
    }
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig(this.#options);
  }

  override describe(): string {
    return 'GoogLeNet';
  }

  /** Main logits, plus the auxiliary logits when training with auxiliaries. */
  forwardWithAux(x: Tensor): GoogLeNetOutputs {
    const wantAux = this.training && this.aux1 !== null && this.aux2 !== null;
    const aux: Tensor[] = [];
    x = this.maxpool1.forward(this.conv1.forward(x));
    x = this.maxpool2.forward(this.conv3.forward(this.conv2.forward(x)));
    x = this.maxpool3.forward(this.inception3b.forward(this.inception3a.forward(x)));
    x = this.inception4a.forward(x);
    if (wantAux) aux.push((this.aux1 as InceptionAux).forward(x));
    x = this.inception4d.forward(this.inception4c.forward(this.inception4b.forward(x)));
    if (wantAux) aux.push((this.aux2 as InceptionAux).forward(x));
    x = this.maxpool4.forward(this.inception4e.forward(x));
    x = this.inception5b.forward(this.inception5a.forward(x));
    x = this.dropout.forward(F.flatten(this.avgpool.forward(x), { startDim: 1 }));
    return { logits: (this.fc.forward as (t: Tensor) => Tensor)(x), aux };
  }

  forward(x: Tensor): Tensor {
    const wasTraining = this.training;
    // Skip the side classifiers: run as in eval for them only (flags of other modules unchanged).
    if (!wasTraining) return this.forwardWithAux(x).logits;
    this.training = false;
    try {
      return this.forwardWithAux(x).logits;
    } finally {
      this.training = wasTraining;
    }
  }

  /**
   * Cross-entropy of the main logits plus {@link auxLossWeight} times that of each auxiliary
   * classifier in training mode (the paper's recipe); the main loss alone in eval mode.
   */
  trainingLoss(x: Tensor, target: ClassIndices, options?: CrossEntropyOptions): Tensor {
    const { logits, aux } = this.forwardWithAux(x);
    let loss = F.crossEntropy(logits, target, options);
    for (const a of aux) loss = F.add(loss, F.crossEntropy(a, target, options).mul(this.auxLossWeight));
    return loss;
  }
}

registerModuleType('BasicConv2d', BasicConv2d, (config) => {
  const { inC, outC, kernelSize, stride, padding } = config as { inC: number; outC: number; kernelSize: number; stride: number; padding: number };
  return new BasicConv2d(inC, outC, kernelSize, { stride, padding });
});
registerModuleType('Inception', Inception, (config) => {
  const c = config['channels'] as number[];
  return new Inception(c[0] as number, c[1] as number, c[2] as number, c[3] as number, c[4] as number, c[5] as number, c[6] as number);
});
registerModuleType('InceptionAux', InceptionAux, (config) => new InceptionAux(config['inC'] as number, config['numClasses'] as number));
registerModuleType('GoogLeNet', GoogLeNet, (config) => new GoogLeNet(config as GoogLeNetOptions));

/** GoogLeNet with auxiliary classifiers (13,004,888 parameters at 1000 classes). */
export function googlenet(options?: GoogLeNetOptions): GoogLeNet {
  return new GoogLeNet(options);
}
