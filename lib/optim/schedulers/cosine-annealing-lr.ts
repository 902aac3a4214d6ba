/** CosineAnnealingLR: cosine decay from the initial lr to `etaMin` over `tMax` epochs. */
import { ArgumentError } from '../../errors.js';
import { checkKnownKeys, checkNumber, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { readNumber, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions extends LRSchedulerOptions {
  /** Half-period of the cosine, in epochs (> 0). */
  tMax: number;
  /** The minimum lr (default 0). */
  etaMin?: number;
}

/**
 * Cosine annealing, as `torch.optim.lr_scheduler.CosineAnnealingLR` (SGDR without restarts). With
 * nothing else changing the lr, epoch t gets
 *
 * ```
 * lr_t = etaMin + (initialLr - etaMin) · (1 + cos(π t / tMax)) / 2
 * ```
 *
 * falling to `etaMin` at `tMax` and, past it, rising again (a cosine of period 2 tMax). Each step
 * computes it as PyTorch 1.13 does, recursively from the group's current lr, so the values are
 * PyTorch's to the last bits:
 *
 * ```
 * t = 0:                              lr_t = lr_{t-1} (unchanged)
 * (t - 1 - tMax) mod 2 tMax = 0:      lr_t = lr_{t-1} + (initialLr - etaMin) (1 - cos(π / tMax)) / 2
 * otherwise:                          lr_t = (1 + cos(π t / tMax)) / (1 + cos(π (t - 1) / tMax)) · (lr_{t-1} - etaMin) + etaMin
 * ```
 *
 * (and the closed form at the first step when resuming with `lastEpoch` > 0).
 *
 * Differs from PyTorch: `tMax` must be > 0.
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Half-period of the cosine, in epochs. */
  tMax: number;
  /** The minimum lr. */
  etaMin: number;

  /** @throws ArgumentError when `tMax` is not a number > 0 or `etaMin` is not a number. */
  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    const o = optionsObject(options, 'CosineAnnealingLR');
    checkKnownKeys(o, ['tMax', 'etaMin', 'lastEpoch'], 'CosineAnnealingLR');
    super(optimizer, o);
    checkNumber(o.tMax, 'tMax of CosineAnnealingLR');
    if (!(o.tMax > 0)) throw new ArgumentError(`Invalid tMax: ${o.tMax} (expected a number > 0)`);
    const etaMin = o.etaMin ?? 0;
    checkNumber(etaMin, 'etaMin of CosineAnnealingLR');
    this.tMax = o.tMax;
    this.etaMin = etaMin;
    this.start();
  }

  protected override getLr(): number[] {
    const t = this.lastEpoch;
    const { tMax, etaMin } = this;
    const lrs = this.groupLrs();
    if (t === 0) return lrs;
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax))) / 2);
    }
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] as number) - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2);
    }
    return lrs.map(
      (lr) => ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map(
      (base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2,
    );
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), tMax: this.tMax, etaMin: this.etaMin };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const sd = stateObject(stateDict, 'CosineAnnealingLR');
    const tMax = readNumber(sd, 'tMax', 'CosineAnnealingLR');
    const etaMin = readNumber(sd, 'etaMin', 'CosineAnnealingLR');
    super.loadStateDict(sd);
    this.tMax = tMax;
    this.etaMin = etaMin;
  }
}
