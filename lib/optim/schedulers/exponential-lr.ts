/** ExponentialLR: decay by `gamma` every epoch. */
import { checkKnownKeys, checkNumber, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { readNumber, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link ExponentialLR}. */
export interface ExponentialLROptions extends LRSchedulerOptions {
  /** Multiplicative factor of the decay, applied every epoch. */
  gamma: number;
}

/**
 * Multiplies each group's lr by `gamma` every epoch, as `torch.optim.lr_scheduler.ExponentialLR`:
 *
 * ```
 * lr_0 = lr (unchanged);   lr_t = lr_{t-1} · γ
 * ```
 */
export class ExponentialLR extends LRScheduler {
  /** Multiplicative factor of the decay. */
  gamma: number;

  /** @throws ArgumentError when `gamma` is not a number. */
  constructor(optimizer: Optimizer, options: ExponentialLROptions) {
    const o = optionsObject(options, 'ExponentialLR');
    checkKnownKeys(o, ['gamma', 'lastEpoch'], 'ExponentialLR');
    super(optimizer, o);
    checkNumber(o.gamma, 'gamma of ExponentialLR');
    this.gamma = o.gamma;
    this.start();
  }

  protected override getLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), gamma: this.gamma };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const sd = stateObject(stateDict, 'ExponentialLR');
    const gamma = readNumber(sd, 'gamma', 'ExponentialLR');
    super.loadStateDict(sd);
    this.gamma = gamma;
  }
}
