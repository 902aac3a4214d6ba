/** LinearLR: scale the lr by a factor that moves linearly, e.g. a warm-up. */
import { ArgumentError } from '../../errors.js';
import { checkInteger, checkKnownKeys, checkNumber, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { readInteger, readNumber, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link LinearLR}. */
export interface LinearLROptions extends LRSchedulerOptions {
  /** The factor at epoch 0, in (0, 1] (default 1/3). */
  startFactor?: number;
  /** The factor from epoch `totalIters` on, in [0, 1] (default 1). */
  endFactor?: number;
  /** The number of epochs over which the factor moves (a positive integer, default 5). */
  totalIters?: number;
}

/**
 * Multiplies each group's initial lr by a factor moving linearly from `startFactor` to `endFactor`
 * over `totalIters` epochs, then constant: a warm-up (startFactor < endFactor) or a linear decay.
 * As `torch.optim.lr_scheduler.LinearLR`; with nothing else changing the lr,
 *
 * ```
 * lr_t = initialLr · (startFactor + (endFactor - startFactor) · min(t, totalIters) / totalIters)
 * ```
 *
 * computed recursively as PyTorch 1.13 does:
 *
 * ```
 * t = 0:              lr_0 = lr · startFactor
 * t > totalIters:     lr_t = lr_{t-1}
 * otherwise:          lr_t = lr_{t-1} · (1 + (e - s) / (totalIters · s + (t - 1)(e - s)))
 * ```
 *
 * Differs from PyTorch: `startFactor` must be > 0 (PyTorch 1.13 accepts 0 and then produces NaN; 2.x
 * rejects it) and `totalIters` a positive integer.
 */
export class LinearLR extends LRScheduler {
  /** The factor at epoch 0. */
  startFactor: number;
  /** The factor from epoch `totalIters` on. */
  endFactor: number;
  /** The number of epochs over which the factor moves. */
  totalIters: number;

  /** @throws ArgumentError for a factor outside its range or a `totalIters` that is not a positive integer. */
  constructor(optimizer: Optimizer, options: LinearLROptions = {}) {
    const o = optionsObject(options, 'LinearLR');
    checkKnownKeys(o, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch'], 'LinearLR');
    super(optimizer, o);
    const startFactor = o.startFactor ?? 1 / 3;
    const endFactor = o.endFactor ?? 1;
    const totalIters = o.totalIters ?? 5;
    checkNumber(startFactor, 'startFactor of LinearLR');
    checkNumber(endFactor, 'endFactor of LinearLR');
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new ArgumentError(`Starting multiplicative factor expected to be greater than 0 and less or equal to 1, but got ${startFactor}`);
    }
    if (!(endFactor >= 0 && endFactor <= 1)) {
      throw new ArgumentError(`Ending multiplicative factor expected to be between 0 and 1, but got ${endFactor}`);
    }
    checkInteger(totalIters, 'totalIters of LinearLR', 1);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    this.start();
  }

  protected override getLr(): number[] {
    const lrs = this.groupLrs();
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * s);
    if (this.lastEpoch > n) return lrs;
    return lrs.map((lr) => lr * (1 + (e - s) / (n * s + (this.lastEpoch - 1) * (e - s))));
  }

  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n } = this;
    return this.baseLrs.map((base) => base * (s + ((e - s) * Math.min(n, this.lastEpoch)) / n));
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), startFactor: this.startFactor, endFactor: this.endFactor, totalIters: this.totalIters };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const sd = stateObject(stateDict, 'LinearLR');
    const startFactor = readNumber(sd, 'startFactor', 'LinearLR');
    const endFactor = readNumber(sd, 'endFactor', 'LinearLR');
    const totalIters = readInteger(sd, 'totalIters', 'LinearLR', 1);
    super.loadStateDict(sd);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
  }
}
