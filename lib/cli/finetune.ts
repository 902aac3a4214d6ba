/**
 * `convkit finetune`: transfer learning from a pretrained model (`--from` an ONNX file, a TF.js
 * layers `model.json`, a PyTorch-named `.safetensors` state dict loaded into the zoo
 * architecture `--model`, or a convkit checkpoint, which carries its architecture). The classifier head is replaced for the dataset's classes, the
 * backbone frozen (`--freeze all`, the default), up to a module (`--freeze layer4`) or not at all
 * (`--freeze none`, the backbone then trains at `--backbone-lr-scale` x `--lr`). With the whole
 * backbone frozen the penultimate features are cached on disk (`--cache-features`, default on)
 * and the head trains on them; a later run with the same backbone, data and preprocessing reuses
 * the cache. Writes a checkpoint of the fine-tuned model and a report like `convkit train`:
 * per-epoch `last`/`best` checkpoints through `fit` (of the head alone while it trains on cached
 * features), resumable with `resume`, and `model.safetensors`, a convkit checkpoint of the whole
 * fine-tuned model that `convkit predict --model` and `convkit evaluate` load. Imported ONNX and
 * TF.js graphs are registered architectures, so they checkpoint exactly as zoo models do.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { DataLoader } from '../data/loader.js';
import type { Dataset, Preprocess, SkippedSample } from '../data/types.js';
import { ArgumentError } from '../errors.js';
import { loadOnnx, OnnxModel } from '../io/onnx/model.js';
import { loadSafetensors } from '../io/safetensors.js';
import { loadTfjsLayers } from '../io/tfjs/index.js';
import { TfjsModel } from '../io/tfjs/model.js';
import { buildModel, modelNames } from '../models/index.js';
import type { Module } from '../nn/module.js';
import { SGD } from '../optim/sgd.js';
import { CosineAnnealingLR } from '../optim/schedulers/cosine-annealing-lr.js';
import { confusionMatrix } from '../report/metrics.js';
import { oneBasedEpochs } from '../report/charts.js';
import { writeReport } from '../report/write-report.js';
import type { BatchSource } from '../data/types.js';
import { loadCheckpoint, saveCheckpoint } from '../train/checkpoint.js';
import { checkResumeSchedule } from './train.js';
import { evaluate, type Evaluation } from '../train/evaluate.js';
import { fit, type FitResult } from '../train/fit.js';
import type { ProgressMode } from '../train/progress.js';
import { cacheFeatures, type FeatureCache } from '../transfer/feature-cache.js';
import { backboneParamGroups, freezeBackbone, unfreezeSchedule, type UnfreezeStage } from '../transfer/freeze.js';
import { FeatureHead, findHead, replaceHead } from '../transfer/head.js';
import { openDataset } from './train.js';

/** Options of {@link runFinetune} (the CLI flags). */
export interface FinetuneCommandOptions {
  /** `model.onnx`, a TF.js layers `model.json`, or `weights.safetensors` (with {@link model}). */
  from: string;
  /** For `.safetensors`: the zoo architecture the PyTorch names load into (`resnet18`, `mobilenetV2`). */
  model?: string;
  data: string;
  out: string;
  epochs: number;
  batchSize?: number;
  /** The head's learning rate (the backbone's is `lr * backboneLrScale`). */
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** `'all'` (default: everything but the head), `'none'`, or the first module to train (`'layer4'`). */
  freeze?: string;
  /**
   * Gradual unfreezing: `epoch:module[+module],...` (1-based epochs, `'3:layer4,5:layer3'`): from
   * that epoch the modules train at the backbone lr. Turns the feature cache off.
   */
  unfreeze?: string;
  /** Train the head on cached penultimate features (default: on when `freeze` is `'all'` and nothing is unfrozen later). */
  cacheFeatures?: boolean;
  /** Where feature caches live (default `$XDG_CACHE_HOME/convkit/features` or `~/.cache/convkit/features`). */
  cacheDir?: string;
  /** Backbone lr as a fraction of `lr` (default 0.1). */
  backboneLrScale?: number;
  /** Input side (default: the imported model's declared input, else 32 for cifarNet, 28 for lenet5, else 224). */
  imageSize?: number;
  scheduler?: 'none' | 'cosine';
  workers?: number;
  seed?: number;
  progress?: ProgressMode;
  /** Continue the run in `out` from its `last.safetensors` (same options as the run that wrote it). */
  resume?: boolean;
  log?: (line: string) => void;
}

/** What {@link runFinetune} returns. */
export interface FinetuneCommandResult {
  fit: FitResult;
  /** The fine-tuned model (new head included). */
  model: Module;
  classes: string[];
  preprocess: Preprocess;
  evaluation: Evaluation | null;
  /** The convkit checkpoint of the fine-tuned model (`<out>/model.safetensors`). */
  checkpoint: string;
  /** Whether head training ran on cached features, and whether the cache was reused. */
  cache: { used: boolean; hit: boolean; path: string | null; buildSeconds: number | null };
  reportFiles: string[];
}

/** The default feature cache directory. */
export function defaultFeatureCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache');
  return join(base, 'convkit', 'features');
}

/** Loads the pretrained model named by `--from` (and `--model` for safetensors). */
export async function loadPretrained(
  from: string,
  model?: string,
): Promise<{ model: Module; name: string; zoo: string | null; channels: 1 | 3; imageSize?: number; preprocess?: Preprocess }> {
  const lower = from.toLowerCase();
  if (lower.endsWith('.onnx')) return { model: loadOnnx(from), name: basename(from), zoo: null, channels: 3 };
  if (lower.endsWith('.json')) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(from, 'utf8'));
    } catch (err) {
      throw new ArgumentError(`--from ${from}: cannot read the JSON: ${(err as Error).message}`);
    }
    if (json === null || typeof json !== 'object' || !('modelTopology' in json)) {
      throw new ArgumentError(`--from ${from}: not a TF.js layers model.json (no modelTopology)`);
    }
    return { model: await loadTfjsLayers(from), name: basename(from), zoo: null, channels: 3 };
  }
  if (lower.endsWith('.safetensors')) {
    const { tensors, metadata } = await loadSafetensors(from);
    if (metadata['convkit'] !== undefined) {
      // A convkit checkpoint: the architecture, preprocessing and run settings travel with it.
      const ckpt = await loadCheckpoint(from);
      const trained = ckpt.meta.settings['model'];
      const zoo = typeof trained === 'string' && modelNames().includes(trained as never) ? trained : null;
      const pre = ckpt.meta.preprocess;
      return { model: ckpt.model, name: basename(from), zoo, channels: pre?.channels ?? 3, ...(pre ? { imageSize: pre.size[0], preprocess: pre } : {}) };
    }
    if (model === undefined || !modelNames().includes(model as never)) {
      throw new ArgumentError(`--from ${from}: a safetensors state dict needs --model, one of ${modelNames().join(', ')}`);
    }
    const probe = findHead(buildModel(model));
    const headWeight = tensors.get(`${probe.path}.weight`);
    const numClasses = headWeight?.shape[0] ?? probe.outFeatures;
    // The first convolution's weight [out, in, kH, kW] says how many channels the weights expect.
    const firstConv = [...tensors.values()].find((t) => t.ndim === 4);
    const inChannels = firstConv?.shape[1] ?? 3;
    if (inChannels !== 1 && inChannels !== 3) throw new ArgumentError(`--from ${from}: the first convolution takes ${inChannels} channels; images give 1 or 3`);
    const built = buildModel(model, { numClasses, inChannels });
    built.loadStateDict(tensors);
    return { model: built, name: model, zoo: model, channels: inChannels };
  }
  throw new ArgumentError(`--from ${from}: expected a .onnx file, a TF.js model.json or a .safetensors state dict`);
}

/** The fixed input side an imported model declares ([N, C, H, W] with H = W), if any. */
function declaredSide(model: Module): number | undefined {
  const shape = model instanceof TfjsModel ? model.inputs[0]?.shape : model instanceof OnnxModel ? model.inputs[0]?.shape : undefined;
  const h = shape?.[2];
  return typeof h === 'number' && h === shape?.[3] ? h : undefined;
}

/**
 * Parses `--unfreeze`: `epoch:module[+module],...` with 1-based epochs.
 * @throws ArgumentError for a malformed list.
 */
export function parseUnfreeze(text: string): UnfreezeStage[] {
  return text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*([^\s:]+)\s*$/.exec(part);
    if (m === null || Number(m[1]) < 1) {
      throw new ArgumentError(`--unfreeze: expected epoch:module[+module],... with epochs from 1 (e.g. 3:layer4,5:layer3); received '${text}'`);
    }
    return { epoch: Number(m[1]) - 1, modules: m[2]!.split('+') };
  });
}

/** Fine-tunes, evaluates, writes the checkpoint and report; see the module comment. */
export async function runFinetune(o: FinetuneCommandOptions): Promise<FinetuneCommandResult> {
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  if (!(typeof o.lr === 'number' && o.lr > 0)) throw new ArgumentError(`--lr: expected a positive number; received ${String(o.lr)}`);
  const freeze = o.freeze ?? 'all';
  const stages = o.unfreeze === undefined || o.unfreeze === '' ? [] : parseUnfreeze(o.unfreeze);
  const useCache = o.cacheFeatures ?? (freeze === 'all' && stages.length === 0);
  if (o.resume === true && (o.scheduler ?? 'cosine') === 'cosine') checkResumeSchedule(o);
  if (useCache && (freeze !== 'all' || stages.length > 0)) {
    throw new ArgumentError(`--cache-features needs --freeze all and no --unfreeze: cached features only fit a backbone that stays frozen`);
  }
  const { model, name, zoo, channels, imageSize: trainedSize, preprocess: trainedPreprocess } = await loadPretrained(o.from, o.model);
  const imageSize = o.imageSize ?? declaredSide(model) ?? trainedSize ?? (zoo === 'cifarNet' ? 32 : zoo === 'lenet5' ? 28 : 224);
  const { detected, preprocess } = openDataset(o.data, zoo ?? 'imported', {
    imageSize,
    channels,
    ...(trainedPreprocess !== undefined && o.imageSize === undefined ? { preprocess: trainedPreprocess } : {}),
  });
  const classes = detected.train.classes;
  if (classes.length < 2) throw new ArgumentError(`--data ${o.data}: found ${classes.length} class(es); training needs at least 2`);
  const head = replaceHead(model, classes.length);
  if (freeze === 'all') freezeBackbone(model);
  else if (freeze === 'none') model.unfreeze();
  else freezeBackbone(model, { until: freeze });
  const batchSize = o.batchSize ?? 32;
  const seed = o.seed ?? 0;
  const workers = o.workers ?? 0;
  const skipped: SkippedSample[] = [];
  const onSkip = (s: SkippedSample): void => {
    skipped.push(s);
    log(`skipped ${s.source}: ${s.reason}`);
  };
  await mkdir(o.out, { recursive: true });
  const settings = {
    from: resolve(o.from),
    model: name,
    data: resolve(o.data),
    format: detected.kind,
    classes: classes.length,
    trainImages: detected.train.length,
    testImages: detected.test?.length ?? 0,
    epochs: o.epochs,
    batchSize,
    lr: o.lr,
    backboneLrScale: o.backboneLrScale ?? 0.1,
    freeze,
    unfreeze: o.unfreeze ?? 'none',
    scheduler: o.scheduler ?? 'cosine',
    cacheFeatures: useCache,
    seed,
    parameters: model.numParameters(),
    trainableParameters: model.numParameters({ trainableOnly: true }),
  };
  log(
    `convkit finetune: ${name} (${settings.trainableParameters.toLocaleString('en-US')} of ${settings.parameters.toLocaleString('en-US')} parameters trainable) ` +
      `on ${detected.kind} ${resolve(o.data)}: ${detected.train.length} training images, ${classes.length} classes`,
  );

  let trainModel: Module = model;
  let trainSet: Dataset = detected.train;
  let testSet: Dataset | undefined = detected.test;
  const cache: FinetuneCommandResult['cache'] = { used: useCache, hit: false, path: null, buildSeconds: null };
  const caches: FeatureCache[] = [];
  if (useCache) {
    const dir = o.cacheDir ?? defaultFeatureCacheDir();
    const preprocessKey = { preprocess, kind: detected.kind };
    const started = performance.now();
    const trainCache = await cacheFeatures({ model }, detected.train, { dir, preprocessKey, batchSize: Math.max(batchSize, 32) });
    caches.push(trainCache);
    cache.hit = trainCache.hit;
    cache.path = trainCache.path;
    cache.buildSeconds = trainCache.index.buildSeconds;
    if (detected.test !== undefined) {
      const testCache = await cacheFeatures({ model }, detected.test, { dir, preprocessKey, batchSize: Math.max(batchSize, 32) });
      caches.push(testCache);
      testSet = testCache;
    }
    trainSet = trainCache;
    trainModel = new FeatureHead(head);
    log(
      `${trainCache.hit ? 'reused' : 'built'} the feature cache ${trainCache.path} (${trainCache.index.shape.join('x')} features per image` +
        `${trainCache.hit ? '' : `, backbone pass ${trainCache.index.buildSeconds.toFixed(1)} s`}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  const groups = useCache ? [{ params: head.parameters() }] : backboneParamGroups(model, { lr: o.lr, ...(o.backboneLrScale !== undefined ? { backboneLrScale: o.backboneLrScale } : {}) });
  const optimizer = new SGD(groups, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
  const scheduler = (o.scheduler ?? 'cosine') === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: Math.max(1, o.epochs) }) : undefined;
  const train = new DataLoader(trainSet, { batchSize, shuffle: true, seed, workers: useCache ? 0 : workers, onSkip });
  const val: BatchSource | undefined = testSet === undefined ? undefined : new DataLoader(testSet, { batchSize: Math.max(batchSize, 128), workers: useCache ? 0 : workers, onSkip });
  try {
    const result = await fit(trainModel, {
      train,
      ...(val !== undefined ? { val } : {}),
      optimizer,
      ...(scheduler !== undefined ? { scheduler } : {}),
      epochs: o.epochs,
      metrics: ['loss', 'accuracy', 'top5'],
      outDir: o.out,
      ...(o.resume === true ? { resume: true as const } : {}),
      ...(stages.length > 0 ? { callbacks: [unfreezeSchedule({ stages })] } : {}),
      classes,
      preprocess,
      seed,
      progress: o.progress ?? 'auto',
      log,
      settings: { ...settings },
    });
    const evalSource = val ?? new DataLoader(trainSet, { batchSize: Math.max(batchSize, 128) });
    const evaluation = result.interrupted ? null : await evaluate(trainModel, evalSource);
    if (evalSource !== val) await evalSource.close();
    const checkpoint = await saveCheckpoint(join(o.out, 'model.safetensors'), { model, classes, preprocess, history: result.history as never, settings });
    const epochSeconds = result.history.length === 0 ? null : result.history.reduce((s, r) => s + r.seconds, 0) / result.history.length;
    const reportSettings = {
      ...settings,
      cacheHit: cache.hit,
      cacheBuildSeconds: cache.buildSeconds,
      meanEpochSeconds: epochSeconds,
      finalAccuracy: evaluation?.accuracy ?? null,
      evaluatedOn: val !== undefined ? 'test split' : 'training split',
      checkpoint,
    };
    const reportFiles = evaluation === null ? [] : await writeReport(o.out, {
      title: `convkit finetune: ${name}`,
      history: oneBasedEpochs(result.history),
      confusion: { matrix: confusionMatrix(evaluation.predicted, evaluation.target, classes.length), classNames: classes },
      settings: reportSettings,
      format: 'both',
    });
    return { fit: result, model, classes, preprocess, evaluation, checkpoint, cache, reportFiles };
  } finally {
    await train.close();
    await val?.close();
    for (const c of caches) c.close();
  }
}
