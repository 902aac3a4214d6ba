/**
 * `fit`: the training loop. Per epoch: training mode, batches from the loader's position
 * (forward, loss, backward, `optimizer.step()`, `zeroGrad()`), then validation in eval mode
 * without gradients (loss, accuracy, top-5), the scheduler's per-epoch step (ReduceLROnPlateau
 * gets the validation loss, or the training loss without validation), a row in
 * `<outDir>/log.jsonl`, and the callbacks' `onEpochEnd`.
 *
 * Interrupts: SIGINT/SIGTERM (or `ctx.interrupt()` from a hook) let the current step finish, save
 * `last.safetensors` with the mid-epoch loader position, remove the handlers and resolve with
 * `interrupted: true`. Resume (`resume: true` or a path) restores the model, optimiser,
 * scheduler, default RNG, history, callback states and loader position, and continues on the
 * same batches: the losses match an uninterrupted run.
 */
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { noGrad } from '../autograd/grad-mode.js';
import type { BatchSource, Preprocess } from '../data/types.js';
import { ArgumentError, invalidArgument } from '../errors.js';
import { crossEntropy } from '../functional/loss.js';
import { Module, type JsonValue } from '../nn/module.js';
import { Optimizer } from '../optim/optimizer.js';
import type { Scheduler } from '../optim/schedulers/lr-scheduler.js';
import { ReduceLROnPlateau } from '../optim/schedulers/reduce-lr-on-plateau.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkpoint as checkpointCallback, type BatchEndInfo, type Callback, type CheckpointCallback, type EpochRecord, type FitContext } from './callbacks.js';
import { loadCheckpoint, restoreTraining, saveCheckpoint, type LoaderPosition } from './checkpoint.js';
import { accumulate, emptySums, summarize, type MetricName, type MetricSums } from './metrics.js';
import { createProgress, type ProgressMode } from './progress.js';
import { RunLog } from './run-log.js';
import { installInterruptHandlers } from './signals.js';

/** Options of {@link fit}. */
export interface FitOptions {
  /** The training batches. */
  train: BatchSource;
  /** Validation batches (epoch 0's order is used every epoch). */
  val?: BatchSource;
  /** The loss of a batch (default: cross-entropy on class indices, mean over the batch). */
  loss?: (logits: Tensor, target: Int32Array) => Tensor;
  optimizer: Optimizer;
  /** The total number of epochs (a resumed run continues up to this). */
  epochs: number;
  /** Stepped once per epoch, after validation. */
  scheduler?: Scheduler;
  /** Metrics to report (default `['loss', 'accuracy']`; loss is always computed). */
  metrics?: MetricName[];
  callbacks?: Callback[];
  /**
   * Where `log.jsonl` goes, and (unless a `checkpoint()` callback names another directory)
   * `last.safetensors` after every epoch and on interrupt.
   */
  outDir?: string;
  /** Class names, stored in checkpoints. */
  classes?: string[];
  /** The preprocessing, stored in checkpoints (so prediction can replay it). */
  preprocess?: Preprocess;
  /** Reseeds the default generator at the start of a fresh run (dropout and other random layers). */
  seed?: number;
  /** Continue from a checkpoint: a path (file or directory), or true for the run's `last.safetensors` (a fresh start when absent). */
  resume?: string | true;
  /** Progress output (default `'auto'`: a bar on a TTY stderr, plain lines otherwise). */
  progress?: ProgressMode;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
  /** In `'lines'` mode, a line every this many batches (default: about 10 per epoch). */
  logEvery?: number;
  /** Free-form run settings stored in checkpoints (model name, batch size, ...). */
  settings?: { [key: string]: JsonValue };
  /** Install SIGINT/SIGTERM handlers during training (default true). */
  handleSignals?: boolean;
}

/** What {@link fit} resolves with. */
export interface FitResult {
  /** Every completed epoch (including those before a resume). */
  history: EpochRecord[];
  /** True when a signal or `ctx.interrupt()` ended training early. */
  interrupted: boolean;
  /** True when a callback (early stopping) ended training. */
  stoppedEarly: boolean;
  /** Why training stopped early, if it did. */
  stopReason: string | null;
  /** Optimiser steps taken in total. */
  steps: number;
  /** Where training stands: the next batch to train on. */
  position: LoaderPosition;
  /** The checkpoint written on interrupt, if any. */
  checkpoint: string | null;
}

const fmt = (x: number | undefined, digits = 4): string => (x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(digits) : String(x));

function checkSource(source: unknown, what: string): BatchSource {
  const s = source as BatchSource;
  if (s === null || typeof s !== 'object' || typeof s.batches !== 'function' || !Number.isInteger(s.batchesPerEpoch)) {
    throw invalidArgument(what, 'a BatchSource (batches(), batchesPerEpoch)', source);
  }
  return s;
}

/** One turn of the event loop (setImmediate), so signals, timers and I/O callbacks run between steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Loop state saved in checkpoints so a mid-epoch resume reports the same epoch totals. */
interface EpochProgress {
  sums: MetricSums;
  seconds: number;
  skipped: number;
  lr: number;
}

/**
 * Trains `model`; see the module comment. Resolves with the history (and `interrupted: true` after
 * SIGINT/SIGTERM, once `last.safetensors` is saved).
 * @throws ArgumentError for invalid options; whatever the loader, model or loss throw.
 */
export async function fit(model: Module, options: FitOptions): Promise<FitResult> {
  if (!(model instanceof Module)) throw invalidArgument('the model of fit()', 'a Module', model);
  if (typeof options !== 'object' || options === null) throw invalidArgument('the options of fit()', 'an object', options);
  const train = checkSource(options.train, 'options.train of fit()');
  const val = options.val === undefined ? undefined : checkSource(options.val, 'options.val of fit()');
  const { optimizer, scheduler } = options;
  if (!(optimizer instanceof Optimizer)) throw invalidArgument('options.optimizer of fit()', 'an Optimizer', optimizer);
  const epochs = options.epochs;
  if (!Number.isInteger(epochs) || epochs < 0) throw invalidArgument('options.epochs of fit()', 'an integer >= 0', epochs);
  const metrics = options.metrics ?? ['loss', 'accuracy'];
  for (const m of metrics) if (m !== 'loss' && m !== 'accuracy' && m !== 'top5') throw invalidArgument('an entry of options.metrics of fit()', "'loss', 'accuracy' or 'top5'", m);
  const top5 = metrics.includes('top5');
  const lossFn = options.loss ?? ((logits: Tensor, target: Int32Array) => crossEntropy(logits, target));
  if (typeof lossFn !== 'function') throw invalidArgument('options.loss of fit()', 'a function (logits, target) => Tensor', lossFn);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const batches = train.batchesPerEpoch;
  const logEvery = options.logEvery ?? Math.max(1, Math.ceil(batches / 10));
  const progress = createProgress(options.progress ?? 'auto', log, logEvery);

  const callbacks: Callback[] = [...(options.callbacks ?? [])];
  let ckptDir = (callbacks.find((c) => (c as CheckpointCallback).kind === 'checkpoint') as CheckpointCallback | undefined)?.dir;
  if (ckptDir === undefined && options.outDir !== undefined) {
    callbacks.push(checkpointCallback({ dir: options.outDir }));
    ckptDir = options.outDir;
  }
  // Checkpoint writers last, so the state they save includes the other callbacks' updates.
  callbacks.sort((a, b) => Number((a as CheckpointCallback).kind === 'checkpoint') - Number((b as CheckpointCallback).kind === 'checkpoint'));
  if (options.outDir !== undefined) await mkdir(options.outDir, { recursive: true });
  const settings: { [key: string]: JsonValue } = { epochs, batchSize: train.batchSize, seed: options.seed ?? null, metrics, ...(options.settings ?? {}) };

  let history: EpochRecord[] = [];
  let position: LoaderPosition = { epoch: 0, batch: 0 };
  let step = 0;
  let current: EpochProgress | null = null;
  let resumePath: string | undefined;
  if (options.resume === true) {
    if (ckptDir === undefined) throw new ArgumentError('fit: resume: true needs outDir or a checkpoint() callback to know where last.safetensors is');
    const candidate = join(ckptDir, 'last.safetensors');
    if (existsSync(candidate)) resumePath = candidate;
    else progress.message(`no checkpoint at ${candidate}; starting a fresh run`);
  } else if (options.resume !== undefined) {
    if (typeof options.resume !== 'string') throw invalidArgument('options.resume of fit()', 'a checkpoint path or true', options.resume);
    resumePath = options.resume;
  }
  if (resumePath !== undefined) {
    const ckpt = await loadCheckpoint(resumePath, { model });
    const restored = restoreTraining(ckpt, optimizer, scheduler);
    history = restored.history as unknown as EpochRecord[];
    position = restored.position;
    step = restored.step;
    const loop = restored.loop as { epoch?: EpochProgress | null; callbacks?: Array<{ [key: string]: JsonValue } | null> };
    current = loop.epoch ?? null;
    loop.callbacks?.forEach((state, i) => {
      if (state !== null) callbacks[i]?.loadStateDict?.(state);
    });
    progress.message(`resumed from ${ckpt.path} at epoch ${position.epoch + 1}, batch ${position.batch} (step ${step})`);
  } else if (options.seed !== undefined) {
    manualSeed(options.seed);
  }
  const runLog = options.outDir === undefined ? null : new RunLog(options.outDir);
  await runLog?.reset(history);

  let stopReason: string | null = null;
  let savedOnInterrupt: string | null = null;
  const flag = installInterruptHandlers(options.handleSignals ?? true, (signal) => progress.message(`${signal}: finishing the current step, then saving`));

  const loopState = (): { [key: string]: JsonValue } => ({
    epoch: current as unknown as JsonValue,
    callbacks: callbacks.map((c) => c.stateDict?.() ?? null),
  });
  const save = async (path: string): Promise<string> => {
    await mkdir(dirname(path), { recursive: true });
    return saveCheckpoint(path, {
      model,
      optimizer,
      ...(scheduler !== undefined ? { scheduler } : {}),
      position,
      step,
      ...(options.classes !== undefined ? { classes: options.classes } : {}),
      ...(options.preprocess !== undefined ? { preprocess: options.preprocess } : {}),
      history: history as unknown as Array<{ [key: string]: JsonValue }>,
      settings,
      loop: loopState(),
    });
  };
  const ctx: FitContext = {
    model,
    optimizer,
    scheduler,
    get history() {
      return history;
    },
    get position() {
      return { ...position };
    },
    get step() {
      return step;
    },
    epochs,
    stop(reason = 'stopped by a callback') {
      stopReason ??= reason;
    },
    interrupt() {
      flag.interrupt('request');
    },
    saveCheckpoint: save,
    log: (line) => progress.message(line),
  };

  const interruptSave = async (): Promise<void> => {
    if (ckptDir === undefined) {
      progress.message('interrupted; no outDir or checkpoint() callback, so nothing was saved');
      return;
    }
    savedOnInterrupt = await save(join(ckptDir, 'last.safetensors'));
    progress.message(`interrupted; saved ${savedOnInterrupt} (epoch ${position.epoch + 1}, batch ${position.batch}); resume to continue`);
  };

  try {
    optimizer.zeroGrad();
    for (const cb of callbacks) await cb.onTrainBegin?.(ctx);
    while (position.epoch < epochs && stopReason === null && flag.reason === null) {
      const epoch = position.epoch;
      if (current === null || position.batch === 0) {
        current = { sums: emptySums(), seconds: 0, skipped: 0, lr: optimizer.paramGroups[0]?.lr ?? NaN };
      }
      const ep: EpochProgress = current;
      model.train();
      progress.startEpoch(epoch, epochs, batches, position.batch);
      let started = performance.now();
      if (position.batch < batches) {
        for await (const batch of train.batches(epoch, position.batch)) {
          ep.skipped += batch.skipped.length;
          const n = batch.target.length;
          let lossValue = NaN;
          if (n > 0) {
            const logits = model.forward(batch.input) as Tensor;
            const loss = lossFn(logits, batch.target);
            loss.backward();
            optimizer.step();
            optimizer.zeroGrad();
            lossValue = loss.item();
            accumulate(ep.sums, lossValue, logits, batch.target, top5);
            step++;
          }
          position = { epoch, batch: position.batch + 1 };
          const now = performance.now();
          ep.seconds += (now - started) / 1000;
          started = now;
          const s = summarize(ep.sums);
          progress.batch({ epoch, epochs, batch: position.batch, batches, loss: s.loss, accuracy: s.accuracy, imagesPerSecond: ep.sums.samples / ep.seconds });
          const info: BatchEndInfo = { epoch, batch: position.batch - 1, step, loss: lossValue, batchSize: n };
          for (const cb of callbacks) await cb.onBatchEnd?.(ctx, info);
          // In-memory loaders resolve with microtasks only: without a macrotask turn, signal
          // handlers (SIGINT/SIGTERM) and timers would not run until training ends.
          await yieldToEventLoop();
          started = performance.now();
          if (flag.reason !== null) break;
        }
      }
      if (flag.reason !== null) {
        progress.stop();
        await interruptSave();
        break;
      }
      // Validation.
      const valStart = performance.now();
      const trainSummary = summarize(ep.sums);
      const record: EpochRecord = {
        epoch,
        trainLoss: trainSummary.loss,
        trainAccuracy: trainSummary.accuracy,
        lr: ep.lr,
        imagesPerSecond: ep.sums.samples / ep.seconds,
        seconds: 0,
        skipped: ep.skipped,
      };
      if (top5) record.trainTop5 = trainSummary.top5;
      if (val !== undefined) {
        model.eval();
        const sums = emptySums();
        for await (const batch of val.batches(0, 0)) {
          if (batch.target.length === 0) continue;
          const { logits, loss } = noGrad(() => {
            const out = model.forward(batch.input) as Tensor;
            return { logits: out, loss: lossFn(out, batch.target).item() };
          });
          accumulate(sums, loss, logits, batch.target, top5);
          await yieldToEventLoop();
        }
        model.train();
        const v = summarize(sums);
        record.valLoss = v.loss;
        record.valAccuracy = v.accuracy;
        if (top5) record.valTop5 = v.top5;
      }
      record.seconds = ep.seconds + (performance.now() - valStart) / 1000;
      if (scheduler !== undefined) {
        if (scheduler instanceof ReduceLROnPlateau) scheduler.step(record.valLoss ?? record.trainLoss);
        else (scheduler as Scheduler & { step(): void }).step();
      }
      history.push(record);
      position = { epoch: epoch + 1, batch: 0 };
      current = null;
      await runLog?.append(record);
      progress.endEpoch(
        `epoch ${epoch + 1}/${epochs} train loss ${fmt(record.trainLoss)} acc ${fmt(record.trainAccuracy)}` +
          (val !== undefined ? ` | val loss ${fmt(record.valLoss)} acc ${fmt(record.valAccuracy)}${top5 ? ` top5 ${fmt(record.valTop5)}` : ''}` : '') +
          ` | lr ${record.lr.toPrecision(4)} | ${fmt(record.imagesPerSecond, 1)} img/s | ${record.seconds.toFixed(1)} s`,
      );
      for (const cb of callbacks) await cb.onEpochEnd?.(ctx, record);
      if (flag.reason !== null) {
        // A signal during validation or the epoch's hooks: the epoch is complete, save its end.
        await interruptSave();
        break;
      }
    }
    if (stopReason !== null) progress.message(stopReason);
    const interrupted = flag.reason !== null;
    for (const cb of callbacks) await cb.onTrainEnd?.(ctx, { interrupted, stoppedEarly: stopReason !== null });
    return { history, interrupted, stoppedEarly: stopReason !== null, stopReason, steps: step, position: { ...position }, checkpoint: savedOnInterrupt };
  } finally {
    flag.dispose();
    progress.stop();
  }
}
