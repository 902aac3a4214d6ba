/** ReduceLROnPlateau: cut the lr when a metric stops improving. */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkInteger, checkKnownKeys, checkNumber, optionsObject, perGroup } from '../check.js';
import { Optimizer } from '../optimizer.js';
import type { Scheduler } from './lr-scheduler.js';
import { readChoice, readInteger, readNumber, readNumbers, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link ReduceLROnPlateau}. */
export interface ReduceLROnPlateauOptions {
  /** 'min': the metric should decrease (a loss); 'max': increase (an accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** Multiply the lr by this when reducing, in [0, 1) (default 0.1). */
  factor?: number;
  /** Epochs without improvement to tolerate before reducing (default 10). */
  patience?: number;
  /** How much better than the best a metric must be to count as an improvement (default 1e-4). */
  threshold?: number;
  /** 'rel': better than best · (1 ∓ threshold); 'abs': better than best ∓ threshold. Default 'rel'. */
  thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** A lower bound on the lr, for every group or one per group (default 0). */
  minLr?: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

const KEYS = ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'] as const;

/**
 * Reduces each group's lr when a metric has stopped improving, as
 * `torch.optim.lr_scheduler.ReduceLROnPlateau`. Call `step(metric)` once per epoch, after
 * validation:
 *
 * ```
 * better(a) = a < best · (1 - threshold)      mode 'min', thresholdMode 'rel'
 *             a < best - threshold            mode 'min', thresholdMode 'abs'
 *             a > best · (1 + threshold)      mode 'max', thresholdMode 'rel'
 *             a > best + threshold            mode 'max', thresholdMode 'abs'
 * if better(metric): best ← metric, badEpochs ← 0   else badEpochs ← badEpochs + 1
 * if in cooldown:    cooldownCounter ← cooldownCounter - 1, badEpochs ← 0
 * if badEpochs > patience:
 *   for each group:  new ← max(lr · factor, minLr);  lr ← new if lr - new > eps
 *   cooldownCounter ← cooldown, badEpochs ← 0
 * ```
 *
 * `best` starts at +Infinity ('min') or -Infinity ('max').
 *
 * Differs from PyTorch: `factor` must also be ≥ 0; `getLastLr()` works before the first step (it
 * returns the current lrs); `step` takes no epoch argument.
 */
export class ReduceLROnPlateau implements Scheduler {
  /** The optimiser whose groups' lr this scheduler writes. */
  readonly optimizer: Optimizer;
  /** Whether the metric should decrease ('min') or increase ('max'). */
  mode: 'min' | 'max';
  /** The factor applied to the lr when reducing. */
  factor: number;
  /** Epochs without improvement tolerated before reducing. */
  patience: number;
  /** The improvement threshold. */
  threshold: number;
  /** How the threshold applies. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs of cooldown after a reduction. */
  cooldown: number;
  /** The lower bound on each group's lr. */
  minLrs: number[];
  /** Reductions smaller than this are skipped. */
  eps: number;
  /** The best metric seen (±Infinity before the first step). */
  best: number;
  /** Consecutive epochs without improvement. */
  numBadEpochs = 0;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** The number of steps taken. */
  lastEpoch = 0;
  private lastLr: number[];

  /** @throws ArgumentError for an invalid option (`Invalid factor: 1.5 (should be >= 0 and < 1.0)`). */
  constructor(optimizer: Optimizer, options?: ReduceLROnPlateauOptions) {
    if (!(optimizer instanceof Optimizer)) throw invalidArgument('the optimizer of ReduceLROnPlateau', 'an Optimizer', optimizer);
    const o = optionsObject(options, 'ReduceLROnPlateau');
    checkKnownKeys(o, KEYS, 'ReduceLROnPlateau');
    const factor = o.factor ?? 0.1;
    checkNumber(factor, 'factor of ReduceLROnPlateau');
    if (!(factor >= 0 && factor < 1)) throw new ArgumentError(`Invalid factor: ${factor} (should be >= 0 and < 1.0)`);
    const mode = o.mode ?? 'min';
    if (mode !== 'min' && mode !== 'max') throw invalidArgument('mode of ReduceLROnPlateau', "'min' or 'max'", mode);
    const thresholdMode = o.thresholdMode ?? 'rel';
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
      throw invalidArgument('thresholdMode of ReduceLROnPlateau', "'rel' or 'abs'", thresholdMode);
    }
    const patience = o.patience ?? 10;
    checkInteger(patience, 'patience of ReduceLROnPlateau', 0);
    const cooldown = o.cooldown ?? 0;
    checkInteger(cooldown, 'cooldown of ReduceLROnPlateau', 0);
    const threshold = o.threshold ?? 1e-4;
    checkNumber(threshold, 'threshold of ReduceLROnPlateau');
    const eps = o.eps ?? 1e-8;
    checkNumber(eps, 'eps of ReduceLROnPlateau');
    const groups = optimizer.paramGroups.length;
    const minLr = o.minLr ?? 0;
    if (Array.isArray(minLr) && minLr.length !== groups) throw new ArgumentError(`expected ${groups} minLrs, got ${minLr.length}`);
    this.optimizer = optimizer;
    this.mode = mode;
    this.factor = factor;
    this.patience = patience;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
    this.cooldown = cooldown;
    this.minLrs = perGroup(minLr, groups, 'minLr of ReduceLROnPlateau');
    this.eps = eps;
    this.best = this.modeWorse();
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  /** The starting value of {@link best}: +Infinity for 'min', -Infinity for 'max'. */
  private modeWorse(): number {
    return this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Whether `a` improves on `best` (see the class doc). */
  isBetter(a: number, best: number): boolean {
    if (this.mode === 'min' && this.thresholdMode === 'rel') return a < best * (1 - this.threshold);
    if (this.mode === 'min') return a < best - this.threshold;
    if (this.thresholdMode === 'rel') return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** True while in cooldown after a reduction. */
  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  /**
   * Records one epoch's metric (a number or a one-element tensor) and reduces the lrs if it has not
   * improved for more than `patience` epochs.
   * @throws ArgumentError when `metric` is neither a number nor a one-element tensor.
   */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    checkNumber(current, 'the metric of ReduceLROnPlateau.step()');
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const oldLr = group.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i] ?? 0);
      if (oldLr - newLr > this.eps) group.lr = newLr;
    });
  }

  /** The lr of each group after the latest step (a copy). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Every setting and counter; `best` may be ±Infinity (null after a JSON round trip). */
  stateDict(): SchedulerStateDict {
    return {
      mode: this.mode,
      factor: this.factor,
      patience: this.patience,
      threshold: this.threshold,
      thresholdMode: this.thresholdMode,
      cooldown: this.cooldown,
      cooldownCounter: this.cooldownCounter,
      minLrs: this.minLrs.slice(),
      eps: this.eps,
      best: this.best,
      numBadEpochs: this.numBadEpochs,
      lastEpoch: this.lastEpoch,
      lastLr: this.lastLr.slice(),
    };
  }

  /**
   * Restores a state from {@link stateDict}; a null `best` (JSON's ±Infinity) reads as the mode's
   * starting value.
   * @throws ArgumentError for a missing or mistyped field.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const w = 'ReduceLROnPlateau';
    const sd = stateObject(stateDict, w);
    const groups = this.optimizer.paramGroups.length;
    const mode = readChoice(sd, 'mode', w, ['min', 'max'] as const);
    const next = {
      mode,
      factor: readNumber(sd, 'factor', w),
      patience: readInteger(sd, 'patience', w, 0),
      threshold: readNumber(sd, 'threshold', w),
      thresholdMode: readChoice(sd, 'thresholdMode', w, ['rel', 'abs'] as const),
      cooldown: readInteger(sd, 'cooldown', w, 0),
      cooldownCounter: readInteger(sd, 'cooldownCounter', w, 0),
      minLrs: readNumbers(sd, 'minLrs', w, groups),
      eps: readNumber(sd, 'eps', w),
      best: readNumber(sd, 'best', w, mode === 'min' ? Infinity : -Infinity),
      numBadEpochs: readInteger(sd, 'numBadEpochs', w, 0),
      lastEpoch: readInteger(sd, 'lastEpoch', w, 0),
    };
    const lastLr = readNumbers(sd, 'lastLr', w, groups);
    Object.assign(this, next);
    this.lastLr = lastLr;
  }
}
