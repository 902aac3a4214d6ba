/**
 * Classifier heads: {@link findHead} locates the final linear layer of a zoo model (`fc`, or the
 * last Linear of `classifier`), an imported ONNX model (the parameter group of its last Gemm /
 * MatMul weight) or an imported TF.js model (its last Dense layer); {@link replaceHead} swaps it
 * for a fresh `Linear` with the same in-features and `numClasses` outputs (PyTorch's default init).
 *
 * In imported graphs the new Linear is registered in the old head's place (state-dict names stay
 * `fc.weight`, `dense_3.weight`, ...) and the graph runs through it: an ONNX model reads its head
 * initializers from the module at their path, a TF.js model calls the module now registered under
 * the Dense layer's name (with no activation: the head returns logits, as `crossEntropy`
 * expects). Both record the replacement in `toJSON()`, so checkpoints rebuild it.
 */
import { ArgumentError, invalidArgument } from '../errors.js';
import { OnnxModel } from '../io/onnx/model.js';
import { TfjsModel } from '../io/tfjs/model.js';
import { TfjsLayer } from '../io/tfjs/layers.js';
import { GoogLeNet } from '../models/googlenet.js';
import { Linear } from '../nn/layers/linear.js';
import { Sequential } from '../nn/layers/sequential.js';
import { Module, registerModuleType, type JsonValue } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** Where a model's classifier head is. */
export interface HeadInfo {
  /** The dotted module path of the head (`fc`, `classifier.1`, `dense_3`). */
  path: string;
  /**
   * The head module: a `Linear` for zoo models and replaced heads; for an imported model whose
   * head was not replaced yet, the imported Dense layer or ONNX parameter group.
   */
  module: Module;
  /** Input features of the head (the penultimate feature size). */
  inFeatures: number;
  /** Outputs (classes) of the head. */
  outFeatures: number;
  /** What kind of model holds it. */
  kind: 'zoo' | 'onnx' | 'tfjs';
  /** Other heads trained with the main one (GoogLeNet's auxiliary classifiers' last layers). */
  auxPaths: string[];
}

/** Options of {@link replaceHead}. */
export interface ReplaceHeadOptions {
  /** Give the new Linear a bias (default true). */
  bias?: boolean;
}

function isDense(m: Module): boolean {
  return m instanceof Linear || (m instanceof TfjsLayer && m.className === 'Dense');
}

function denseShape(m: Module): { inFeatures: number; outFeatures: number } {
  if (m instanceof Linear) return { inFeatures: m.inFeatures, outFeatures: m.outFeatures };
  const w = (m as unknown as { weight: Tensor }).weight; // TfjsDense: [out, in]
  return { inFeatures: w.shape[1]!, outFeatures: w.shape[0]! };
}

function onnxHead(model: OnnxModel): HeadInfo | null {
  const params = model.namedParameters();
  for (let i = params.length - 1; i >= 0; i--) {
    const [name, t] = params[i]!;
    if (t.ndim !== 2) continue;
    const cut = name.lastIndexOf('.');
    if (cut < 0) {
      throw new ArgumentError(
        `findHead: the ONNX model's last matrix weight '${name}' has no module prefix (its initializer name has no dots), so it cannot be replaced; export the model from PyTorch so initializers keep their state-dict names`,
      );
    }
    const path = name.slice(0, cut);
    const module = model.getModule(path);
    if (module instanceof Linear) return { path, module, inFeatures: module.inFeatures, outFeatures: module.outFeatures, kind: 'onnx', auxPaths: [] };
    const bias = module.namedParameters().find(([n, p]) => n === 'bias' && p.ndim === 1)?.[1];
    const declared = model.outputs[0]?.shape?.at(-1) ?? null;
    const out = bias?.shape[0] ?? declared ?? t.shape[0]!;
    const transposed = t.shape[0] !== out && t.shape[1] === out;
    return { path, module, inFeatures: transposed ? t.shape[0]! : t.shape[1]!, outFeatures: out, kind: 'onnx', auxPaths: [] };
  }
  return null;
}

/**
 * Finds the classifier head of `model`; see {@link HeadInfo}. Zoo models: `fc` (ResNet, GoogLeNet,
 * with GoogLeNet's auxiliary `aux1.fc2`/`aux2.fc2` in `auxPaths`), the last Linear of
 * `classifier` (VGG, AlexNet, MobileNetV2, LeNet-5, CIFAR net), else the last Linear registered.
 * @throws ArgumentError when the model has no linear head.
 */
export function findHead(model: Module): HeadInfo {
  if (!(model instanceof Module)) throw invalidArgument('the model of findHead()', 'a Module', model);
  if (model instanceof OnnxModel) {
    const head = onnxHead(model);
    if (head !== null) return head;
    throw new ArgumentError('findHead: the ONNX model has no Gemm/MatMul weight (a 2-d parameter) to use as the classifier head');
  }
  if (model instanceof TfjsModel) {
    const children = model.namedChildren();
    for (let i = children.length - 1; i >= 0; i--) {
      const [path, m] = children[i]!;
      if (isDense(m)) return { path, module: m, ...denseShape(m), kind: 'tfjs', auxPaths: [] };
    }
    throw new ArgumentError(`findHead: the TF.js model '${model.modelName}' has no Dense layer to use as the classifier head`);
  }
  const auxPaths: string[] = [];
  if (model instanceof GoogLeNet) {
    for (const aux of ['aux1', 'aux2']) if (model.getChild(aux)?.getChild('fc2') instanceof Linear) auxPaths.push(`${aux}.fc2`);
  }
  const fc = model.getChild('fc');
  if (fc instanceof Linear) return { path: 'fc', module: fc, inFeatures: fc.inFeatures, outFeatures: fc.outFeatures, kind: 'zoo', auxPaths };
  const classifier = model.getChild('classifier');
  if (classifier instanceof Linear) {
    return { path: 'classifier', module: classifier, inFeatures: classifier.inFeatures, outFeatures: classifier.outFeatures, kind: 'zoo', auxPaths };
  }
  if (classifier instanceof Sequential) {
    const layers = classifier.namedChildren();
    for (let i = layers.length - 1; i >= 0; i--) {
      const [name, m] = layers[i]!;
      if (m instanceof Linear) return { path: `classifier.${name}`, module: m, inFeatures: m.inFeatures, outFeatures: m.outFeatures, kind: 'zoo', auxPaths };
    }
  }
  const all = model.namedModules().filter(([path, m]) => path !== '' && m instanceof Linear);
  const last = all.at(-1);
  if (last !== undefined) {
    const m = last[1] as Linear;
    return { path: last[0], module: m, inFeatures: m.inFeatures, outFeatures: m.outFeatures, kind: 'zoo', auxPaths };
  }
  throw new ArgumentError(`findHead: ${model.describe()} has no classifier head (no 'fc', no Linear in 'classifier', no Linear layer at all)`);
}

function checkClasses(numClasses: unknown): number {
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 1) {
    throw invalidArgument('numClasses of replaceHead()', 'a positive integer', numClasses);
  }
  return numClasses;
}

/**
 * Replaces the classifier head of `model` (see {@link findHead}) with a new `Linear(inFeatures,
 * numClasses)` initialised as PyTorch's (and GoogLeNet's auxiliary heads likewise), in place.
 * The new head is trainable. Returns it.
 * @throws ArgumentError for a bad class count or a model without a head.
 */
export function replaceHead(model: Module, numClasses: number, options: ReplaceHeadOptions = {}): Linear {
  checkClasses(numClasses);
  const head = findHead(model);
  const linear = new Linear(head.inFeatures, numClasses, { bias: options.bias ?? true });
  if (head.kind === 'onnx' && linear.bias === null && head.module.namedParameters().some(([n]) => n === 'bias')) {
    throw new ArgumentError(`replaceHead: the ONNX head '${head.path}' has a bias initializer; the new Linear needs one`);
  }
  model.replaceModule(head.path, linear);
  for (const aux of head.auxPaths) {
    const old = model.getModule(aux) as Linear;
    model.replaceModule(aux, new Linear(old.inFeatures, numClasses));
  }
  return linear;
}

/**
 * A classifier head trained on cached features: flattens `[N, ...]` features to `[N, F]` and
 * applies the wrapped Linear (shared with the full model, so training it trains the model's head).
 */
export class FeatureHead extends Module {
  readonly head: Linear;

  constructor(head: Linear) {
    super();
    if (!(head instanceof Linear)) throw invalidArgument('the head of FeatureHead', 'a Linear', head);
    this.head = this.registerModule('head', head);
  }

  override config(): { [key: string]: JsonValue } {
    return { inFeatures: this.head.inFeatures, outFeatures: this.head.outFeatures };
  }

  forward(x: Tensor): Tensor {
    return this.head.forward(x.ndim === 2 ? x : x.reshape([x.shape[0]!, -1]));
  }
}

registerModuleType('FeatureHead', FeatureHead, (config) => new FeatureHead(new Linear(Number(config['inFeatures']), Number(config['outFeatures']))));
