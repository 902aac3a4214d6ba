/** StepLR: decay by `gamma` every `stepSize` epochs. */
import { checkInteger, checkKnownKeys, checkNumber, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { readInteger, readNumber, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link StepLR}. */
export interface StepLROptions extends LRSchedulerOptions {
  /** Period of the decay, in epochs (a positive integer). */
  stepSize: number;
  /** Multiplicative factor of the decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies each group's lr by `gamma` every `stepSize` epochs, as `torch.optim.lr_scheduler.StepLR`:
 *
 * ```
 * lr_t = lr_{t-1} · γ   if t > 0 and t mod stepSize = 0,   else lr_{t-1}
 * ```
 *
 * which, with nothing else changing the lr, is `lr_t = initialLr · γ^⌊t / stepSize⌋`.
 *
 * Differs from PyTorch: `stepSize` must be a positive integer (PyTorch does not check it).
 */
export class StepLR extends LRScheduler {
  /** Period of the decay, in epochs. */
  stepSize: number;
  /** Multiplicative factor of the decay. */
  gamma: number;

  /** @throws ArgumentError for a `stepSize` that is not a positive integer or a `gamma` that is not a number. */
  constructor(optimizer: Optimizer, options: StepLROptions) {
    const o = optionsObject(options, 'StepLR');
    checkKnownKeys(o, ['stepSize', 'gamma', 'lastEpoch'], 'StepLR');
    super(optimizer, o);
    checkInteger(o.stepSize, 'stepSize of StepLR', 1);
    const gamma = o.gamma ?? 0.1;
    checkNumber(gamma, 'gamma of StepLR');
    this.stepSize = o.stepSize;
    this.gamma = gamma;
    this.start();
  }

  protected override getLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), stepSize: this.stepSize, gamma: this.gamma };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const sd = stateObject(stateDict, 'StepLR');
    const stepSize = readInteger(sd, 'stepSize', 'StepLR', 1);
    const gamma = readNumber(sd, 'gamma', 'StepLR');
    super.loadStateDict(sd);
    this.stepSize = stepSize;
    this.gamma = gamma;
  }
}
