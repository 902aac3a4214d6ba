/**
 * The transfer-learning comparison behind the README demo (`scripts/transfer-demo.mjs`) and its
 * reduced test: a small labelled Fashion-MNIST subset, upsampled to RGB, classified four ways with
 * the MobileNetV2 architecture:
 *
 * - (a) the pretrained backbone (nsfwjs's Keras MobileNetV2, ImageNet weights up to `block_10`)
 *   frozen, cut at its global-pool features, a new linear head trained on cached features;
 * - (b) the same architecture with random weights (batch-norm statistics measured on the training
 *   images) frozen, same head training;
 * - (c) the pretrained backbone fine-tuned end to end (a new head; batch norm on batch statistics);
 * - (d) the same architecture trained from scratch end to end, with the same epochs, data,
 *   augmentation, batch size and learning rate as (c);
 *
 * plus the per-epoch time of head training on cached features against training it through the
 * frozen backbone. The caller supplies the TF.js model (model.json object and weights), so this
 * module does not depend on nsfwjs.
 */
import { noGrad } from '../autograd/grad-mode.js';
import { DataLoader } from '../data/loader.js';
import type { TransformSpec } from '../data/transforms/types.js';
import type { Dataset, Sample } from '../data/types.js';
import { ArgumentError } from '../errors.js';
import { crossEntropy } from '../functional/loss.js';
import { tfjsLayersFromMemory, type TfjsArtifacts } from '../io/tfjs/index.js';
import type { TfjsModel } from '../io/tfjs/model.js';
import { mobilenetV2 } from '../models/mobilenet-v2.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { CosineAnnealingLR } from '../optim/schedulers/cosine-annealing-lr.js';
import { manualSeed } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { cacheFeatures, featureExtractor, type FeatureCache } from './feature-cache.js';
import { backboneParamGroups, keepFrozenBatchNormInEval } from './freeze.js';
import { FeatureHead } from './head.js';

/** A subset of a dataset by index list. */
export class SubsetDataset implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly sampleShape: [number, number, number];
  constructor(readonly base: Dataset, readonly indices: readonly number[]) {
    this.length = indices.length;
    this.classes = base.classes;
    this.sampleShape = base.sampleShape;
  }
  get(i: number): Sample | Promise<Sample> {
    return this.base.get(this.indices[i]!);
  }
  source(i: number): string {
    return this.base.source(this.indices[i]!);
  }
}

/** The first `perClass` indices of each class, in dataset order (reads every label it passes). */
export async function balancedIndices(dataset: Dataset, perClass: number, labels?: ArrayLike<number>): Promise<number[]> {
  const counts = new Array<number>(dataset.classes.length).fill(0);
  const out: number[] = [];
  for (let i = 0; i < dataset.length && out.length < perClass * counts.length; i++) {
    const label = labels !== undefined ? labels[i]! : (await dataset.get(i)).label;
    if (counts[label]! < perClass) {
      counts[label]!++;
      out.push(i);
    }
  }
  return out;
}

/**
 * The nsfwjs model.json made size-agnostic: any input side, and its fixed 7x7 average pool
 * replaced by a global average pool (identical at 224 x 224), so smaller inputs run too.
 */
export function sizeAgnosticMobileNetJson(modelJson: unknown): unknown {
  const json = JSON.parse(JSON.stringify(modelJson)) as { modelTopology: { model_config?: { config: { layers: Array<{ class_name: string; name: string; config: Record<string, unknown> }> } }; config?: unknown } };
  const topo = json.modelTopology as { model_config?: { config: { layers: Array<{ class_name: string; config: Record<string, unknown> }> } } };
  const layers = topo.model_config?.config.layers;
  if (layers === undefined) throw new ArgumentError('sizeAgnosticMobileNetJson: no model_config.config.layers in the model.json');
  for (const layer of layers) {
    if (layer.class_name === 'InputLayer') {
      const shape = layer.config['batch_input_shape'] as (number | null)[];
      layer.config['batch_input_shape'] = [null, null, null, shape[3] ?? 3];
    }
    if (layer.class_name === 'AveragePooling2D') {
      layer.class_name = 'GlobalAveragePooling2D';
      layer.config = { name: layer.config['name'], trainable: true, data_format: 'channels_last' };
    }
  }
  return json;
}

/** A TF.js backbone cut at a layer, with a new linear head (end-to-end training; gradients flow). */
export class CutClassifier extends Module {
  readonly backbone: TfjsModel;
  readonly fc: Linear;
  readonly #cut: string;
  constructor(backbone: TfjsModel, cut: string, features: number, numClasses: number) {
    super();
    this.backbone = this.registerModule('backbone', backbone);
    this.fc = this.registerModule('fc', new Linear(features, numClasses));
    this.#cut = cut;
  }
  forward(x: Tensor): Tensor {
    const f = this.backbone.run({ [this.backbone.inputNames[0]!]: x }, { outputs: [this.#cut] })[this.#cut]!;
    return this.fc.forward(f.ndim === 2 ? f : f.reshape([f.shape[0]!, -1]));
  }
}

/** Options of {@link runTransferComparison}. */
export interface TransferComparisonOptions {
  /** The nsfwjs MobileNetV2 (model.json object and concatenated weights). */
  artifacts: TfjsArtifacts;
  train: Dataset;
  test: Dataset;
  /** Where the feature caches go. */
  cacheDir: string;
  /**
   * The preprocessing the datasets apply (size, scaling: any JSON value). It is part of the
   * feature caches' key, with the sample shape: the datasets' files alone do not tell a 64-pixel
   * [0, 1] run from a 96-pixel [-1, 1] one.
   */
  preprocess?: unknown;
  /** Epochs of head training on cached features (default 30). */
  headEpochs?: number;
  /** Epochs of end-to-end training for (c) and (d) (default 4; 0 skips them). */
  endToEndEpochs?: number;
  batchSize?: number;
  seed?: number;
  /**
   * The learning rate of the end-to-end trainings (c) and (d), the same for both (default 0.01:
   * SGD, momentum 0.9, cosine). At 0.05, (c) was unstable (first-epoch loss above chance with the
   * backbone at 0.05 or 0.015) while (d) reached 74.5% against 75.2% at 0.01 (64 px, 4 epochs).
   */
  finetuneLr?: number;
  /** (c)'s backbone learning rate as a fraction of `finetuneLr` (default 1: the whole network at the same rate). */
  backboneLrScale?: number;
  /**
   * (c)'s batch norm: `'train'` (default: batch statistics, running averages at PyTorch's momentum
   * 0.1) or `'frozen'` (pretrained statistics and affine terms). Frozen statistics make a
   * fine-tune unstable here: Fashion-MNIST's activations are far from ImageNet's, and one SGD
   * step at lr 0.005 turned a training loss of 0.07 into 9.
   */
  finetuneBatchNorm?: 'train' | 'frozen';
  /**
   * (c) starts from (a)'s head instead of a fresh one (default false; its feature standardisation
   * folded into the weights, which amplifies the near-constant features that fine-tuning wakes up).
   */
  startFromProbe?: boolean;
  /** Augmentation of the end-to-end trainings (c) and (d), the same for both (default none). */
  augment?: TransformSpec[];
  /** Skip (b) and the through-the-backbone timing (experiments on (c) and (d)). */
  skipRandom?: boolean;
  /** Skip (c) (experiments). */
  skipFinetune?: boolean;
  /** Skip (d) (experiments on (c) only). */
  skipScratch?: boolean;
  log?: (line: string) => void;
}

/** What {@link runTransferComparison} measures (accuracies in [0, 1]). */
export interface TransferComparison {
  pretrainedFrozen: number;
  /** NaN with `skipRandom`. */
  randomFrozen: number;
  pretrainedFinetuned: number | null;
  scratch: number | null;
  /** Seconds per epoch of head training on cached features. */
  cachedEpochSeconds: number;
  /** Seconds per epoch of the same head training through the frozen backbone (measured over one epoch; NaN with `skipRandom`). */
  backboneEpochSeconds: number;
  /** Seconds of the backbone pass that built the training cache (in this run or the one that wrote it). */
  cacheBuildSeconds: number;
  /** True when the training cache was reused from an earlier run. */
  cacheHit: boolean;
}

async function accuracyOf(model: Module, data: Dataset, batchSize: number): Promise<number> {
  const loader = new DataLoader(data, { batchSize });
  let correct = 0;
  let total = 0;
  model.eval();
  for await (const batch of loader.batches(0)) {
    const logits = noGrad(() => model.forward(batch.input) as Tensor);
    const k = logits.shape[1]!;
    batch.target.forEach((t, i) => {
      let best = 0;
      for (let j = 1; j < k; j++) if (logits.data[i * k + j]! > logits.data[i * k + best]!) best = j;
      if (best === t) correct++;
      total++;
    });
  }
  await loader.close();
  return correct / total;
}

/** Trains `model` for `epochs` with SGD + cosine; returns the mean seconds per epoch. */
async function train(model: Module, data: Dataset, epochs: number, opts: { lr: number; backboneLrScale?: number; batchSize: number; seed: number; groups?: boolean; augment?: TransformSpec[]; log: (l: string) => void; name: string }): Promise<number> {
  const params = opts.groups === true ? backboneParamGroups(model, { lr: opts.lr, backboneLrScale: opts.backboneLrScale ?? 0.1 }) : [{ params: model.parameters().filter((p) => p.requiresGrad) }];
  const optimizer = new SGD(params, { lr: opts.lr, momentum: 0.9, weightDecay: 5e-4 });
  const scheduler = new CosineAnnealingLR(optimizer, { tMax: Math.max(1, epochs) });
  const loader = new DataLoader(data, { batchSize: opts.batchSize, shuffle: true, seed: opts.seed, ...(opts.augment !== undefined && opts.augment.length > 0 ? { transform: opts.augment } : {}) });
  let seconds = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train();
    const start = performance.now();
    let loss = 0;
    let n = 0;
    for await (const batch of loader.batches(epoch)) {
      const l = crossEntropy(model.forward(batch.input) as Tensor, batch.target);
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      loss += l.item() * batch.target.length;
      n += batch.target.length;
    }
    scheduler.step();
    seconds += (performance.now() - start) / 1000;
    if (epoch === epochs - 1 || epoch % Math.max(1, Math.floor(epochs / 5)) === 0) opts.log(`${opts.name}: epoch ${epoch + 1}/${epochs} loss ${(loss / n).toFixed(4)} (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  }
  await loader.close();
  return seconds / Math.max(1, epochs);
}

/** Features standardised with the training set's per-feature mean and std (in memory). */
class Standardized implements Dataset {
  readonly length: number;
  readonly classes: string[];
  readonly sampleShape: [number, number, number];
  constructor(readonly base: FeatureCache, readonly mean: Float32Array, readonly std: Float32Array) {
    this.length = base.length;
    this.classes = base.classes;
    this.sampleShape = base.sampleShape;
  }
  get(i: number): Sample {
    const s = this.base.get(i);
    for (let j = 0; j < s.input.length; j++) s.input[j] = (s.input[j]! - this.mean[j]!) / this.std[j]!;
    return s;
  }
  source(i: number): string {
    return this.base.source(i);
  }
}

function stats(cache: FeatureCache): { mean: Float32Array; std: Float32Array } {
  const f = cache.sampleShape[0];
  const mean = new Float32Array(f);
  const sq = new Float32Array(f);
  for (let i = 0; i < cache.length; i++) {
    const x = cache.get(i).input;
    for (let j = 0; j < f; j++) {
      mean[j]! += x[j]!;
      sq[j]! += x[j]! * x[j]!;
    }
  }
  const std = new Float32Array(f);
  for (let j = 0; j < f; j++) {
    mean[j] = mean[j]! / cache.length;
    std[j] = Math.sqrt(Math.max(sq[j]! / cache.length - mean[j]! * mean[j]!, 0)) + 1e-3;
  }
  return { mean, std };
}

/** The batch norm layers of `model` (modules without children that hold a running mean). */
function batchNorms(model: Module): Module[] {
  return model.modules().filter((m) => m.children().length === 0 && m.namedBuffers().some(([n]) => /^running_?mean$/i.test(n)));
}

/** Copies a head trained on standardised features into `target`, folding the standardisation in: W' = W / std, b' = b - W' mean. */
function foldProbeHead(target: Linear, probeHead: Linear, mean: Float32Array, std: Float32Array): void {
  const w = probeHead.weight.data;
  const bias = probeHead.bias!.data;
  const f = mean.length;
  for (let k = 0; k < probeHead.outFeatures; k++) {
    let shift = 0;
    for (let j = 0; j < f; j++) {
      const wj = w[k * f + j]! / std[j]!;
      target.weight.data[k * f + j] = wj;
      shift += wj * mean[j]!;
    }
    target.bias!.data[k] = bias[k]! - shift;
  }
}

/** Frozen features + linear head: returns the test accuracy and the per-epoch seconds. */
async function probe(extract: (x: Tensor) => Tensor, weights: Module, key: string, o: Required<Pick<TransferComparisonOptions, 'headEpochs' | 'batchSize' | 'seed' | 'cacheDir'>> & TransferComparisonOptions, log: (l: string) => void) {
  const opts = { dir: o.cacheDir, preprocessKey: { demo: key, shape: o.train.sampleShape, preprocess: o.preprocess ?? null }, batchSize: 50, cut: key, weights };
  const trainCache = await cacheFeatures(extract, o.train, opts);
  const testCache = await cacheFeatures(extract, o.test, opts);
  const { mean, std } = stats(trainCache);
  const features = trainCache.sampleShape[0];
  manualSeed(o.seed);
  const head = new FeatureHead(new Linear(features, o.train.classes.length));
  const seconds = await train(head, new Standardized(trainCache, mean, std), o.headEpochs, { lr: 0.01, batchSize: o.batchSize, seed: o.seed, log, name: `${key} head` });
  const accuracy = await accuracyOf(head, new Standardized(testCache, mean, std), 256);
  trainCache.close();
  testCache.close();
  return { accuracy, seconds, head, mean, std, buildSeconds: trainCache.index.buildSeconds, hit: trainCache.hit };
}

/**
 * Runs the four trainings and the timing; see the module comment.
 * @throws whatever loading the TF.js model or the datasets throws.
 */
export async function runTransferComparison(options: TransferComparisonOptions): Promise<TransferComparison> {
  const o = { headEpochs: 30, endToEndEpochs: 4, batchSize: 32, seed: 0, finetuneLr: 0.01, backboneLrScale: 1, ...options };
  const log = o.log ?? (() => {});
  const artifacts = { ...o.artifacts, modelJson: sizeAgnosticMobileNetJson(typeof o.artifacts.modelJson === 'string' ? JSON.parse(o.artifacts.modelJson) : o.artifacts.modelJson) as object };
  const numClasses = o.train.classes.length;
  const cut = 'flatten_1';

  // (a) pretrained, frozen, head on cached features.
  const pretrained = tfjsLayersFromMemory(artifacts).eval();
  const extractA = featureExtractor(pretrained, cut);
  const a = await probe(extractA, pretrained, 'nsfwjs-mobilenetv2/flatten_1', o, log);
  log(`(a) pretrained frozen + head: ${(a.accuracy * 100).toFixed(1)}%`);

  let backboneEpochSeconds = Number.NaN;
  let b = { accuracy: Number.NaN };
  if (o.skipRandom !== true) {
    // Speed-up: one epoch of the same head training through the frozen backbone.
    const through = new FeatureHead(new Linear(a.head.head.inFeatures, numClasses));
    const loader = new DataLoader(o.train, { batchSize: o.batchSize, shuffle: true, seed: o.seed });
    const optimizer = new SGD(through.parameters(), { lr: 0.01, momentum: 0.9 });
    const mean = new Tensor(a.mean, [1, a.mean.length]);
    const std = new Tensor(a.std, [1, a.std.length]);
    const start = performance.now();
    for await (const batch of loader.batches(0)) {
      const f = extractA(batch.input);
      const z = f.reshape([f.shape[0]!, -1]).sub(mean).div(std);
      const l = crossEntropy(through.forward(z), batch.target);
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
    }
    backboneEpochSeconds = (performance.now() - start) / 1000;
    await loader.close();

    // (b) same architecture, random weights, batch-norm statistics measured on the training images.
    manualSeed(o.seed);
    const random = mobilenetV2({ numClasses });
    // Batch norm statistics as a cumulative average over the training images (PyTorch's
    // momentum=None): with torchvision's init and the initial statistics, activations vanish.
    const norms = random.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
    for (const bn of norms) (bn as { momentum: number | null }).momentum = null;
    random.train();
    const calib = new DataLoader(o.train, { batchSize: 50 });
    for await (const batch of calib.batches(0)) noGrad(() => random.forward(batch.input));
    await calib.close();
    for (const bn of norms) (bn as { momentum: number | null }).momentum = 0.1;
    random.eval();
    b = await probe(featureExtractor(random), random, `random-mobilenetv2-seed${o.seed}`, o, log);
    log(`(b) random frozen + head: ${(b.accuracy * 100).toFixed(1)}%`);
  }

  let c: number | null = null;
  let d: number | null = null;
  if (o.endToEndEpochs > 0 && o.skipFinetune !== true) {
    // (c) pretrained, fine-tuned end to end (by default the whole network at (d)'s learning rate).
    manualSeed(o.seed);
    const backbone = tfjsLayersFromMemory(artifacts);
    const model = new CutClassifier(backbone, cut, a.head.head.inFeatures, numClasses);
    // Optionally start from the head trained in (a) (linear probe, then fine-tune), its feature
    // standardisation folded into the weights: W' = W / std, b' = b - W' mean.
    if (o.startFromProbe === true) foldProbeHead(model.fc, a.head.head, a.mean, a.std);
    // Every layer trains (nsfwjs's model.json marks Conv1..block_10 untrainable).
    backbone.unfreeze();
    const norms = batchNorms(backbone);
    const bnMode = o.finetuneBatchNorm ?? 'train';
    if (bnMode === 'frozen') for (const m of norms) m.freeze();
    // Keras's momentum 0.999 would leave the running statistics on ImageNet's for hundreds of
    // steps; PyTorch's 0.1 lets them follow the new images.
    else for (const m of norms) (m as unknown as { momentum: number }).momentum = 0.1;
    keepFrozenBatchNormInEval(model);
    await train(model, o.train, o.endToEndEpochs, { lr: o.finetuneLr, backboneLrScale: o.backboneLrScale, batchSize: o.batchSize, seed: o.seed, groups: true, augment: o.augment, log, name: '(c) fine-tune' });
    c = await accuracyOf(model, o.test, 100);
    log(`(c) pretrained fine-tuned: ${(c * 100).toFixed(1)}%`);
  }
  if (o.endToEndEpochs > 0 && o.skipScratch !== true) {
    // (d) the same architecture from scratch, same data, augmentation, epochs and learning rate.
    manualSeed(o.seed);
    const scratch = mobilenetV2({ numClasses });
    await train(scratch, o.train, o.endToEndEpochs, { lr: o.finetuneLr, batchSize: o.batchSize, seed: o.seed, augment: o.augment, log, name: '(d) scratch' });
    d = await accuracyOf(scratch, o.test, 100);
    log(`(d) from scratch: ${(d * 100).toFixed(1)}%`);
  }
  return {
    pretrainedFrozen: a.accuracy,
    randomFrozen: b.accuracy,
    pretrainedFinetuned: c,
    scratch: d,
    cachedEpochSeconds: a.seconds,
    backboneEpochSeconds,
    cacheBuildSeconds: a.buildSeconds,
    cacheHit: a.hit,
  };
}
