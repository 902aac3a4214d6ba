/** MultiStepLR: decay by `gamma` at each milestone epoch. */
import { invalidArgument } from '../../errors.js';
import { checkKnownKeys, checkNumber, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { bisectRight, readNumber, readNumbers, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link MultiStepLR}. */
export interface MultiStepLROptions extends LRSchedulerOptions {
  /** Epoch indices at which to decay (non-negative integers; a repeated milestone decays once per repeat). */
  milestones: number[];
  /** Multiplicative factor of the decay (default 0.1). */
  gamma?: number;
}

function checkMilestones(value: unknown, where: string): number[] {
  if (!Array.isArray(value) || value.some((m) => typeof m !== 'number' || !Number.isInteger(m) || m < 0)) {
    throw invalidArgument(where, 'an array of non-negative integers', value);
  }
  return value.slice() as number[];
}

/**
 * Multiplies each group's lr by `gamma` once the epoch reaches each milestone, as
 * `torch.optim.lr_scheduler.MultiStepLR`:
 *
 * ```
 * lr_t = lr_{t-1} · γ^c   where c = how many times t appears in milestones (0: unchanged)
 * ```
 *
 * which, with nothing else changing the lr, is `lr_t = initialLr · γ^(number of milestones ≤ t)`.
 */
export class MultiStepLR extends LRScheduler {
  /** The milestones, as given. */
  milestones: number[];
  /** Multiplicative factor of the decay. */
  gamma: number;
  private counts = new Map<number, number>();

  /** @throws ArgumentError for milestones that are not non-negative integers or a `gamma` that is not a number. */
  constructor(optimizer: Optimizer, options: MultiStepLROptions) {
    const o = optionsObject(options, 'MultiStepLR');
    checkKnownKeys(o, ['milestones', 'gamma', 'lastEpoch'], 'MultiStepLR');
    super(optimizer, o);
    this.milestones = checkMilestones(o.milestones, 'milestones of MultiStepLR');
    const gamma = o.gamma ?? 0.1;
    checkNumber(gamma, 'gamma of MultiStepLR');
    this.gamma = gamma;
    this.countMilestones();
    this.start();
  }

  private countMilestones(): void {
    this.counts = new Map();
    for (const m of this.milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
  }

  protected override getLr(): number[] {
    const count = this.counts.get(this.lastEpoch);
    const lrs = this.groupLrs();
    if (count === undefined) return lrs;
    return lrs.map((lr) => lr * this.gamma ** count);
  }

  protected override closedFormLr(): number[] {
    const passed = bisectRight(this.milestones.slice().sort((a, b) => a - b), this.lastEpoch);
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return { ...super.stateDict(), milestones: this.milestones.slice(), gamma: this.gamma };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const sd = stateObject(stateDict, 'MultiStepLR');
    const milestones = checkMilestones(readNumbers(sd, 'milestones', 'MultiStepLR'), 'milestones in the state dict of MultiStepLR');
    const gamma = readNumber(sd, 'gamma', 'MultiStepLR');
    super.loadStateDict(sd);
    this.milestones = milestones;
    this.gamma = gamma;
    this.countMilestones();
  }
}
