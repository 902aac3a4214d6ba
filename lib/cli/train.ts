/**
 * `convkit train`: a zoo model (or an architecture JSON) trained on a dataset whose format is
 * detected from the path (image folder, CSV manifest, MNIST-format IDX files, CIFAR binaries),
 * evaluated on the standard test split after each epoch when there is one, with checkpoints,
 * a JSON-lines log and a report in `--out`. `convkit demo` runs the same code on the bundled data.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { detectDataset, type DetectedDataset } from '../data/detect.js';
import { CIFAR10_MEAN, CIFAR10_STD } from '../data/cifar.js';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/image.js';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD } from '../data/idx.js';
import { DataLoader } from '../data/loader.js';
import { parseAugmentList } from '../data/transforms/index.js';
import type { Dataset, Preprocess, SkippedSample } from '../data/types.js';
import { ArgumentError } from '../errors.js';
import { buildModel, modelNames } from '../models/index.js';
import { Conv2d } from '../nn/layers/index.js';
import { Module, moduleFromJSON, type ModuleJSON } from '../nn/module.js';
import { Adam, AdamW, SGD, type Optimizer } from '../optim/index.js';
import { CosineAnnealingLR } from '../optim/schedulers/cosine-annealing-lr.js';
import type { Scheduler } from '../optim/schedulers/lr-scheduler.js';
import { oneBasedEpochs } from '../report/charts.js';
import { writeReport } from '../report/write-report.js';
import { confusionMatrix } from '../report/metrics.js';
import { checkpoint, type Callback } from '../train/callbacks.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';
import { fit, type FitResult } from '../train/fit.js';
import type { ProgressMode } from '../train/progress.js';

/** Options of {@link runTrain} (the CLI flags). */
export interface TrainCommandOptions {
  /** A zoo name or a path to an architecture JSON (`model.toJSON()`). */
  model: string;
  data: string;
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  momentum?: number;
  weightDecay?: number;
  scheduler?: 'none' | 'cosine';
  /** `mirror,crop,...` (see `parseAugmentList`), or undefined for none. */
  augment?: string;
  resume?: boolean;
  workers?: number;
  seed?: number;
  /** For image files: the model's input side (default by model: 28 LeNet-5, 32 CIFAR net, else 224). */
  imageSize?: number;
  /** For image files: 1 (grey) or 3 (RGB); default 1 for LeNet-5, else 3. */
  channels?: 1 | 3;
  progress?: ProgressMode;
  /** Where status lines go (default stderr). */
  log?: (line: string) => void;
}

/** What {@link runTrain} returns. */
export interface TrainCommandResult {
  fit: FitResult;
  model: Module;
  classes: string[];
  preprocess: Preprocess;
  /** Final evaluation on the test split (or the training split when there is none); null when interrupted. */
  evaluation: Evaluation | null;
  reportFiles: string[];
}

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;

/** Mean/std for array datasets (IDX, CIFAR), picked from the format and folder name. */
function arrayStats(path: string, kind: DetectedDataset['kind']): { mean: number[]; std: number[] } {
  if (kind === 'idx') {
    return /fashion/i.test(resolve(path)) ? { mean: [FASHION_MNIST_MEAN], std: [FASHION_MNIST_STD] } : { mean: [MNIST_MEAN], std: [MNIST_STD] };
  }
  return { mean: CIFAR10_MEAN, std: CIFAR10_STD };
}

/** The preprocessing of image files for `model`: torchvision's resize-then-centre-crop. */
function imagePreprocess(model: string, size?: number, channels?: 1 | 3): Preprocess {
  const side = size ?? (model === 'lenet5' ? 28 : model === 'cifarNet' ? 32 : 224);
  const c = channels ?? (model === 'lenet5' ? 1 : 3);
  const grey = { mean: [0.5], std: [0.5] };
  const stats = c === 1 ? grey : { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  return { channels: c, size: [side, side], resize: Math.round((side * 256) / 224), ...stats };
}

/** Opens the dataset at `path` with the preprocessing the model needs; returns the splits and that preprocessing. */
export function openDataset(
  path: string,
  model: string,
  options: { imageSize?: number; channels?: 1 | 3; preprocess?: Preprocess } = {},
): { detected: DetectedDataset; preprocess: Preprocess } {
  // Image files: the given preprocessing (a checkpoint's, when fine-tuning it), else the model's default.
  const filePreprocess = options.preprocess ?? imagePreprocess(model, options.imageSize, options.channels);
  const probe = detectDataset(path, { preprocess: filePreprocess });
  if (probe.kind === 'image-folder' || probe.kind === 'csv') return { detected: probe, preprocess: filePreprocess };
  const stats = arrayStats(path, probe.kind);
  const [c, h, w] = probe.train.sampleShape;
  const wantChannels = options.channels ?? (c as 1 | 3);
  const size: [number, number] = options.imageSize === undefined ? [h, w] : [options.imageSize, options.imageSize];
  const resample = wantChannels !== c || size[0] !== h || size[1] !== w;
  const mean = wantChannels === stats.mean.length ? stats.mean : new Array<number>(wantChannels).fill(stats.mean[0]!);
  const std = wantChannels === stats.std.length ? stats.std : new Array<number>(wantChannels).fill(stats.std[0]!);
  const detected = detectDataset(path, { mean, std, ...(resample ? { size, channels: wantChannels } : {}) });
  return { detected, preprocess: { channels: wantChannels, size, mean, std } };
}

/** Builds the model: a zoo name (sized for the data) or an architecture JSON file. */
export function buildTrainModel(spec: string, numClasses: number, sampleShape: readonly number[]): Module {
  if (spec.endsWith('.json')) {
    let json: ModuleJSON;
    try {
      json = JSON.parse(readFileSync(spec, 'utf8')) as ModuleJSON;
    } catch (err) {
      throw new ArgumentError(`--model ${spec}: cannot read the architecture JSON: ${(err as Error).message}`);
    }
    return moduleFromJSON(json);
  }
  if (!modelNames().includes(spec as never)) {
    throw new ArgumentError(`--model: unknown model '${spec}'; expected one of ${modelNames().join(', ')} or an architecture .json file`);
  }
  const [c, h] = sampleShape as [number, number, number];
  const options: Record<string, unknown> = { numClasses, inChannels: c };
  if (spec === 'cifarNet') options['inputSize'] = h;
  if (spec === 'lenet5') options['inputSize'] = h === 32 ? 32 : 28;
  return buildModel(spec, options);
}

function makeOptimizer(model: Module, o: TrainCommandOptions): Optimizer {
  const params = model.parameters().filter((p) => p.requiresGrad);
  switch (o.optimizer) {
    case 'sgd':
      return new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
    case 'adam':
      return new Adam(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0 });
    case 'adamw':
      return new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0.01 });
    default:
      throw new ArgumentError(`--optimizer: expected one of ${OPTIMIZERS.join(', ')}; received '${String(o.optimizer)}'`);
  }
}

/** The first 2-D convolution of the model (whose filters the report draws), if any. */
function firstConv(model: Module): Conv2d | undefined {
  return model.modules().find((m): m is Conv2d => m instanceof Conv2d);
}

/**
 * A cosine schedule is laid out over the run's epochs; resuming it with another `--epochs` would
 * restart the cosine. Refuses that with the way out (the sidecar of last.safetensors says how the
 * run was started).
 */
export function checkResumeSchedule(o: { out: string; epochs: number }): void {
  let settings: { epochs?: unknown; scheduler?: unknown };
  try {
    settings = (JSON.parse(readFileSync(join(o.out, 'last.json'), 'utf8')) as { settings?: typeof settings }).settings ?? {};
  } catch {
    return; // no previous run (fit starts fresh and says so), or no sidecar: nothing to compare
  }
  if (settings.scheduler === 'cosine' && typeof settings.epochs === 'number' && settings.epochs !== o.epochs) {
    throw new ArgumentError(
      `--resume: the run in ${o.out} was started with --epochs ${settings.epochs} and a cosine schedule laid out over them; ` +
        `resume with --epochs ${settings.epochs}, or start runs you mean to extend with --scheduler none`,
    );
  }
}

/** Trains, evaluates and writes the report; see the module comment. */
export async function runTrain(o: TrainCommandOptions): Promise<TrainCommandResult> {
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const modelName = o.model.endsWith('.json') ? basename(o.model, '.json') : o.model;
  const { detected, preprocess } = openDataset(o.data, o.model, { imageSize: o.imageSize, channels: o.channels });
  const classes = detected.train.classes;
  if (classes.length < 2) throw new ArgumentError(`--data ${o.data}: found ${classes.length} class(es); training needs at least 2`);
  const model = buildTrainModel(o.model, classes.length, detected.train.sampleShape);
  const seed = o.seed ?? 0;
  const skipped: SkippedSample[] = [];
  const onSkip = (s: SkippedSample): void => {
    skipped.push(s);
    log(`skipped ${s.source}: ${s.reason}`);
  };
  const transform = o.augment === undefined || o.augment === '' ? [] : parseAugmentList(o.augment);
  const workers = o.workers ?? 0;
  const train = new DataLoader(detected.train, { batchSize: o.batchSize, shuffle: true, seed, transform, workers, onSkip });
  const test: Dataset | undefined = detected.test;
  const val = test === undefined ? undefined : new DataLoader(test, { batchSize: Math.max(o.batchSize, 256), workers, onSkip });
  if (o.resume === true) checkResumeSchedule(o);
  const optimizer = makeOptimizer(model, o);
  const scheduler: Scheduler | undefined = (o.scheduler ?? 'cosine') === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: Math.max(1, o.epochs) }) : undefined;
  await mkdir(o.out, { recursive: true });
  const callbacks: Callback[] = [checkpoint({ dir: o.out, ...(val !== undefined ? { saveBest: 'valAccuracy' } : {}) })];
  const settings = {
    model: modelName,
    data: resolve(o.data),
    format: detected.kind,
    classes: classes.length,
    trainImages: detected.train.length,
    testImages: test?.length ?? 0,
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer: o.optimizer,
    lr: o.lr,
    scheduler: o.scheduler ?? 'cosine',
    augment: o.augment ?? 'none',
    seed,
    parameters: model.numParameters(),
  };
  log(
    `convkit train: ${modelName} (${model.numParameters().toLocaleString('en-US')} parameters) on ${detected.kind} ` +
      `${resolve(o.data)}: ${detected.train.length} training images, ${test?.length ?? 0} test images, ${classes.length} classes`,
  );
  try {
    const result = await fit(model, {
      train,
      ...(val !== undefined ? { val } : {}),
      optimizer,
      ...(scheduler !== undefined ? { scheduler } : {}),
      epochs: o.epochs,
      metrics: ['loss', 'accuracy', 'top5'],
      callbacks,
      outDir: o.out,
      classes,
      preprocess,
      seed,
      ...(o.resume === true ? { resume: true as const } : {}),
      progress: o.progress ?? 'auto',
      log,
      settings,
    });
    if (result.interrupted) {
      log(`interrupted: saved ${result.checkpoint ?? join(o.out, 'last.safetensors')}; rerun with --resume to continue`);
      return { fit: result, model, classes, preprocess, evaluation: null, reportFiles: [] };
    }
    const evalSource = val ?? new DataLoader(detected.train, { batchSize: Math.max(o.batchSize, 256), onSkip });
    const evaluation = await evaluate(model, evalSource);
    const conv = firstConv(model);
    const reportFiles = await writeReport(o.out, {
      title: `convkit train: ${modelName}`,
      history: oneBasedEpochs(result.history),
      confusion: { matrix: confusionMatrix(evaluation.predicted, evaluation.target, classes.length), classNames: classes },
      ...(conv !== undefined ? { firstConvWeight: conv.weight } : {}),
      settings: { ...settings, finalAccuracy: evaluation.accuracy, evaluatedOn: val !== undefined ? 'test split' : 'training split' },
      format: 'both',
    });
    if (evalSource !== val) await evalSource.close();
    return { fit: result, model, classes, preprocess, evaluation, reportFiles };
  } finally {
    await train.close();
    await val?.close();
  }
}
