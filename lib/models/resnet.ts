/**
 * ResNet (He et al., 2015) as torchvision builds it: `resnet18`, `resnet34` (basic blocks) and
 * `resnet50` (bottlenecks, stride on the 3x3 as torchvision's "ResNet v1.5"), with torchvision's
 * module names (`conv1`, `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`, `fc`), so a torchvision
 * state dict loads by name. Parameter counts at 1000 classes: 11,689,512 / 21,797,672 / 25,557,032.
 */
import { invalidArgument } from '../errors.js';
import * as F from '../functional/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers/index.js';
import { forwardChain } from '../nn/layers/sequential.js';
import { releaseDead } from '../tensor/buffer-arena.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { asConfig, resolveModelOptions, torchvisionInit, type ModelOptions } from './options.js';

function conv3x3(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 3, { stride, padding: 1, bias: false });
}

function conv1x1(inPlanes: number, outPlanes: number, stride = 1): Conv2d {
  return new Conv2d(inPlanes, outPlanes, 1, { stride, bias: false });
}

/** Two 3x3 convolutions with a shortcut: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`. */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly #args: { inPlanes: number; planes: number; stride: number };
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.#args = { inPlanes, planes, stride };
    this.conv1 = this.registerModule('conv1', conv3x3(inPlanes, planes, stride));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  override config(): { [key: string]: JsonValue } {
    return { ...this.#args, downsample: this.downsample !== null };
  }

  forward(x: Tensor): Tensor {
    const out = forwardChain(x, [this.conv1, this.bn1, this.relu, this.conv2, this.bn2]) as Tensor;
    return residualSum(x, out, this.downsample, this.relu);
  }
}

/**
 * relu(out + shortcut(x)), the end of both block types. Inside a buffer-arena run the branch output,
 * the projected shortcut and the sum are handed back to the arena as soon as they are consumed.
 */
function residualSum(x: Tensor, out: Tensor, downsample: Sequential | null, relu: ReLU): Tensor {
  const identity = downsample === null ? x : downsample.forward(x);
  const sum = F.add(out, identity);
  releaseDead(out, sum, x);
  if (identity !== x) releaseDead(identity, sum, x);
  const y = relu.forward(sum);
  releaseDead(sum, y, x);
  return y;
}

/** 1x1 reduce, 3x3 (with the stride), 1x1 expand by 4, plus the shortcut. */
export class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly #args: { inPlanes: number; planes: number; stride: number };
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly relu: ReLU;
  readonly downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.#args = { inPlanes, planes, stride };
    this.conv1 = this.registerModule('conv1', conv1x1(inPlanes, planes));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes, stride));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.registerModule('conv3', conv1x1(planes, planes * Bottleneck.expansion));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * Bottleneck.expansion));
    this.relu = this.registerModule('relu', new ReLU());
    this.downsample = downsample === null ? null : this.registerModule('downsample', downsample);
  }

  override config(): { [key: string]: JsonValue } {
    return { ...this.#args, downsample: this.downsample !== null };
  }

  forward(x: Tensor): Tensor {
    const chain = [this.conv1, this.bn1, this.relu, this.conv2, this.bn2, this.relu, this.conv3, this.bn3];
    return residualSum(x, forwardChain(x, chain) as Tensor, this.downsample, this.relu);
  }
}

/** The ResNet depths the zoo builds. */
export type ResNetDepth = 18 | 34 | 50;

const LAYOUTS: Record<ResNetDepth, { block: 'basic' | 'bottleneck'; layers: [number, number, number, number] }> = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
};

/** Options of the ResNet builders. */
export interface ResNetOptions extends ModelOptions {
  /**
   * Start each residual branch's last batch norm at zero, so every block begins as the identity
   * (torchvision's `zero_init_residual`; default false).
   */
  zeroInitResidual?: boolean;
}

/**
 * A ResNet: stem (7x7/2 conv, batch norm, ReLU, 3x3/2 max pool), four stages of residual blocks
 * (64, 128, 256, 512 planes; stages 2-4 halve the resolution), global average pool and `fc`.
 * Any input of at least 32x32 works (the pool is adaptive). Initialised as torchvision.
 */
export class ResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly relu: ReLU;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly avgpool: AdaptiveAvgPool2d;
  fc: Module;
  readonly depth: ResNetDepth;
  readonly #options: Required<ResNetOptions>;

  constructor(depth: ResNetDepth, options: ResNetOptions = {}) {
    super();
    const name = `resnet${depth}`;
    const layout = LAYOUTS[depth];
    if (layout === undefined) throw invalidArgument('the depth of ResNet', '18, 34 or 50', depth);
    const { numClasses, inChannels } = resolveModelOptions(options, name);
    const zeroInitResidual = options.zeroInitResidual ?? false;
    this.depth = depth;
    this.#options = { numClasses, inChannels, zeroInitResidual };
    const Block = layout.block === 'basic' ? BasicBlock : Bottleneck;
    const expansion = Block.expansion;

    this.conv1 = this.registerModule('conv1', new Conv2d(inChannels, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.relu = this.registerModule('relu', new ReLU());
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inPlanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      let downsample: Sequential | null = null;
      if (stride !== 1 || inPlanes !== planes * expansion) {
        downsample = shortcut(inPlanes, planes * expansion, stride);
      }
      const layer = new Sequential(new Block(inPlanes, planes, stride, downsample));
      inPlanes = planes * expansion;
      for (let i = 1; i < blocks; i++) layer.append(new Block(inPlanes, planes));
      return layer;
    };
    this.layer1 = this.registerModule('layer1', makeLayer(64, layout.layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, layout.layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, layout.layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, layout.layers[3], 2));
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d([1, 1]));
    this.fc = this.registerModule('fc', new Linear(512 * expansion, numClasses));

    torchvisionInit(this, 'default');
    if (zeroInitResidual) {
      for (const m of this.modules()) {
        if (m instanceof Bottleneck && m.bn3.weight !== null) m.bn3.weight.data.fill(0);
        if (m instanceof BasicBlock && m.bn2.weight !== null) m.bn2.weight.data.fill(0);
      }
    }
  }

  override config(): { [key: string]: JsonValue } {
    return asConfig({ depth: this.depth, ...this.#options });
  }

  override describe(): string {
    return `ResNet-${this.depth}`;
  }

  /** The pooled 512 (2048 for ResNet-50) features before `fc`, shape [N, features]. */
  features(x: Tensor): Tensor {
    const stages = [this.conv1, this.bn1, this.relu, this.maxpool, this.layer1, this.layer2, this.layer3, this.layer4, this.avgpool];
    return F.flatten(forwardChain(x, stages) as Tensor, { startDim: 1 });
  }

  forward(x: Tensor): Tensor {
    return (this.fc.forward as (t: Tensor) => Tensor)(this.features(x));
  }
}

function shortcut(inPlanes: number, outPlanes: number, stride: number): Sequential {
  return new Sequential(conv1x1(inPlanes, outPlanes, stride), new BatchNorm2d(outPlanes));
}

for (const Block of [BasicBlock, Bottleneck] as (typeof BasicBlock)[]) {
  registerModuleType(Block.name, Block, (config) => {
    const { inPlanes, planes, stride, downsample } = config as { inPlanes: number; planes: number; stride: number; downsample: boolean };
    return new Block(inPlanes, planes, stride, downsample ? shortcut(inPlanes, planes * Block.expansion, stride) : null);
  });
}

registerModuleType('ResNet', ResNet, (config) => {
  const { depth, ...options } = config as unknown as ResNetOptions & { depth: ResNetDepth };
  return new ResNet(depth, options);
});

/** ResNet-18 (11,689,512 parameters at 1000 classes). */
export function resnet18(options?: ResNetOptions): ResNet {
  return new ResNet(18, options);
}

/** ResNet-34 (21,797,672 parameters at 1000 classes). */
export function resnet34(options?: ResNetOptions): ResNet {
  return new ResNet(34, options);
}

/** ResNet-50 (25,557,032 parameters at 1000 classes). */
export function resnet50(options?: ResNetOptions): ResNet {
  return new ResNet(50, options);
}
