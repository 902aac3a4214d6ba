/**
 * Training callbacks: hooks `fit` calls at the start and end of training, after each batch and
 * after each epoch. Built-ins: {@link earlyStopping} and {@link checkpoint}; any object with some
 * of the hooks is a callback. A callback with `stateDict`/`loadStateDict` has its state saved in
 * checkpoints and restored on resume (matched by position in the callbacks list).
 */
import { join } from 'node:path';
import { invalidArgument } from '../errors.js';
import type { JsonValue, Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Scheduler } from '../optim/schedulers/lr-scheduler.js';
import type { LoaderPosition } from './checkpoint.js';

/** One epoch's results, as `fit` records them in its history and `log.jsonl`. */
export interface EpochRecord {
  /** The loader's epoch index (0-based). */
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  trainTop5?: number;
  valLoss?: number;
  valAccuracy?: number;
  valTop5?: number;
  /** The first group's learning rate during the epoch. */
  lr: number;
  /** Training throughput (validation excluded). */
  imagesPerSecond: number;
  /** Wall time of the epoch's training and validation, in seconds. */
  seconds: number;
  /** Samples skipped by the loader (unreadable) during the epoch. */
  skipped: number;
}

/** The names a monitored value may have (the numeric fields of {@link EpochRecord}). */
export type MonitorName = 'trainLoss' | 'trainAccuracy' | 'trainTop5' | 'valLoss' | 'valAccuracy' | 'valTop5';

/** What a batch hook receives. */
export interface BatchEndInfo {
  epoch: number;
  /** Index of the batch just trained, within the epoch. */
  batch: number;
  /** Optimiser steps taken so far (this one included). */
  step: number;
  loss: number;
  batchSize: number;
}

/** The live training state handed to every hook. */
export interface FitContext {
  readonly model: Module;
  readonly optimizer: Optimizer;
  readonly scheduler: Scheduler | undefined;
  /** Completed epochs so far. */
  readonly history: readonly EpochRecord[];
  /** The next batch the loop will train on. */
  readonly position: LoaderPosition;
  /** Optimiser steps taken so far. */
  readonly step: number;
  readonly epochs: number;
  /** Ends training after the current epoch's hooks (early stopping). */
  stop(reason?: string): void;
  /**
   * Ends training after the current step as SIGINT does: `last.safetensors` is saved with the
   * mid-epoch position and `fit` resolves with `interrupted: true`.
   */
  interrupt(): void;
  /** Saves a checkpoint of the current state (position, history, RNG, ...) to `path`. */
  saveCheckpoint(path: string): Promise<string>;
  /** Writes a line through the progress output. */
  log(line: string): void;
}

/** A training callback: any subset of the hooks. */
export interface Callback {
  onTrainBegin?(ctx: FitContext): void | Promise<void>;
  onBatchEnd?(ctx: FitContext, info: BatchEndInfo): void | Promise<void>;
  onEpochEnd?(ctx: FitContext, record: EpochRecord): void | Promise<void>;
  onTrainEnd?(ctx: FitContext, result: { interrupted: boolean; stoppedEarly: boolean }): void | Promise<void>;
  /** State to keep across a resume (plain JSON). */
  stateDict?(): { [key: string]: JsonValue };
  loadStateDict?(state: { [key: string]: JsonValue }): void;
}

const MONITORS: readonly MonitorName[] = ['trainLoss', 'trainAccuracy', 'trainTop5', 'valLoss', 'valAccuracy', 'valTop5'];

/** Accepts `valLoss` or `val_loss`; returns the camelCase name. */
function monitorName(name: unknown, where: string): MonitorName {
  const camel = typeof name === 'string' ? name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) : name;
  if (!MONITORS.includes(camel as MonitorName)) throw invalidArgument(`monitor of ${where}`, `one of ${MONITORS.join(', ')}`, name);
  return camel as MonitorName;
}

function modeOf(mode: unknown, monitor: MonitorName, where: string): 'min' | 'max' {
  if (mode === undefined || mode === 'auto') return monitor.endsWith('Loss') ? 'min' : 'max';
  if (mode !== 'min' && mode !== 'max') throw invalidArgument(`mode of ${where}`, "'min', 'max' or 'auto'", mode);
  return mode;
}

/** The monitored value of a record; undefined when absent (no validation set). */
function monitored(record: EpochRecord, monitor: MonitorName): number | undefined {
  const v = record[monitor];
  return typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
}

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  /** The value watched (default `'valLoss'`). */
  monitor?: MonitorName | string;
  /** Epochs without improvement tolerated; training stops when this many pass (default 5). */
  patience?: number;
  /** The smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** `'min'`, `'max'`, or `'auto'` (min for losses, max otherwise; the default). */
  mode?: 'min' | 'max' | 'auto';
}

/**
 * Stops training when the monitored value has not improved by more than `minDelta` for
 * `patience` consecutive epochs (Keras's rule: an epoch improves when `value < best - minDelta`
 * in 'min' mode; training stops at the end of the epoch where the count of non-improving epochs
 * reaches `patience`).
 * @throws ArgumentError for an unknown monitor, a negative patience or minDelta.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): Callback & { best: number; wait: number; stoppedEpoch: number | null } {
  const where = 'earlyStopping()';
  const monitor = monitorName(options.monitor ?? 'valLoss', where);
  const mode = modeOf(options.mode, monitor, where);
  const patience = options.patience ?? 5;
  const minDelta = options.minDelta ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw invalidArgument(`patience of ${where}`, 'an integer >= 0', patience);
  if (typeof minDelta !== 'number' || !(minDelta >= 0)) throw invalidArgument(`minDelta of ${where}`, 'a number >= 0', minDelta);
  const cb = {
    best: mode === 'min' ? Infinity : -Infinity,
    wait: 0,
    stoppedEpoch: null as number | null,
    onEpochEnd(ctx: FitContext, record: EpochRecord): void {
      const value = monitored(record, monitor);
      if (value === undefined) return;
      const improved = mode === 'min' ? value < cb.best - minDelta : value > cb.best + minDelta;
      if (improved) {
        cb.best = value;
        cb.wait = 0;
        return;
      }
      cb.wait++;
      if (cb.wait >= patience) {
        cb.stoppedEpoch = record.epoch;
        ctx.stop(`early stopping: ${monitor} did not improve for ${cb.wait} epoch${cb.wait === 1 ? '' : 's'} (best ${cb.best})`);
      }
    },
    stateDict(): { [key: string]: JsonValue } {
      return { best: Number.isFinite(cb.best) ? cb.best : null, wait: cb.wait };
    },
    loadStateDict(state: { [key: string]: JsonValue }): void {
      cb.best = typeof state['best'] === 'number' ? state['best'] : mode === 'min' ? Infinity : -Infinity;
      cb.wait = typeof state['wait'] === 'number' ? state['wait'] : 0;
    },
  };
  return cb;
}

/** Options of {@link checkpoint}. */
export interface CheckpointCallbackOptions {
  /** The directory of `last.safetensors` and `best.safetensors`. */
  dir: string;
  /** Also keep `best.safetensors`, judged by this value (e.g. `'valLoss'`); off when absent. */
  saveBest?: MonitorName | string;
  /** 'min', 'max' or 'auto' for `saveBest` (default 'auto': min for losses). */
  mode?: 'min' | 'max' | 'auto';
  /** Write `last.safetensors` after every epoch (default true). */
  saveLast?: boolean;
  /** Also write `last.safetensors` every this many optimiser steps (mid-epoch position). */
  everyNSteps?: number;
}

/** The checkpoint callback's type: `fit` finds its `dir` to save interrupts there. */
export interface CheckpointCallback extends Callback {
  readonly kind: 'checkpoint';
  readonly dir: string;
  best: number;
}

/**
 * Saves `<dir>/last.safetensors` after every epoch (and every `everyNSteps` steps), and
 * `<dir>/best.safetensors` whenever the `saveBest` value improves. Writes are atomic.
 * @throws ArgumentError for a missing dir, an unknown monitor or a bad `everyNSteps`.
 */
export function checkpoint(options: CheckpointCallbackOptions): CheckpointCallback {
  const where = 'checkpoint()';
  if (typeof options?.dir !== 'string' || options.dir.length === 0) throw invalidArgument(`dir of ${where}`, 'a directory path', options?.dir);
  const monitor = options.saveBest === undefined ? null : monitorName(options.saveBest, where);
  const mode = monitor === null ? 'min' : modeOf(options.mode, monitor, where);
  const saveLast = options.saveLast ?? true;
  const every = options.everyNSteps;
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) throw invalidArgument(`everyNSteps of ${where}`, 'an integer >= 1', every);
  const dir = options.dir;
  const cb: CheckpointCallback = {
    kind: 'checkpoint',
    dir,
    best: mode === 'min' ? Infinity : -Infinity,
    async onBatchEnd(ctx, info) {
      if (every !== undefined && info.step % every === 0) await ctx.saveCheckpoint(join(dir, 'last.safetensors'));
    },
    async onEpochEnd(ctx, record) {
      if (monitor !== null) {
        const value = monitored(record, monitor);
        if (value !== undefined && (mode === 'min' ? value < cb.best : value > cb.best)) {
          cb.best = value;
          await ctx.saveCheckpoint(join(dir, 'best.safetensors'));
        }
      }
      if (saveLast) await ctx.saveCheckpoint(join(dir, 'last.safetensors'));
    },
    stateDict() {
      return { best: Number.isFinite(cb.best) ? cb.best : null };
    },
    loadStateDict(state) {
      cb.best = typeof state['best'] === 'number' ? state['best'] : mode === 'min' ? Infinity : -Infinity;
    },
  };
  return cb;
}

/** Wraps plain functions as a callback: `hooks({ onEpochEnd: (ctx, r) => ... })`. */
export function hooks(fns: Callback): Callback {
  return fns;
}
