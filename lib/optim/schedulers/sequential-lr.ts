/** SequentialLR: hand over from one scheduler to the next at milestone epochs (warm-up, then decay). */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { checkInteger, checkKnownKeys, optionsObject } from '../check.js';
import { Optimizer } from '../optimizer.js';
import { LRScheduler, type Scheduler } from './lr-scheduler.js';
import { bisectRight, readInteger, readNumbers, stateObject, type JsonValue, type SchedulerStateDict } from './state.js';

/** Options of {@link SequentialLR}. */
export interface SequentialLROptions {
  /** The schedulers, in order, all built on the same optimiser. */
  schedulers: LRScheduler[];
  /** The epochs at which each next scheduler takes over (one fewer than the schedulers, increasing). */
  milestones: number[];
  /** The index of the last epoch (default -1). */
  lastEpoch?: number;
}

/**
 * Runs schedulers one after another, as `torch.optim.lr_scheduler.SequentialLR`: scheduler k drives
 * the lr from epoch `milestones[k - 1]` until the next milestone.
 *
 * ```ts
 * const warmup = new LinearLR(opt, { startFactor: 0.1, totalIters: 5 });
 * const cosine = new CosineAnnealingLR(opt, { tMax: 95 });
 * const schedule = new SequentialLR(opt, { schedulers: [warmup, cosine], milestones: [5] });
 * ```
 *
 * As in PyTorch 1.13: construction resets every group's lr to its `initialLr`, moves each
 * scheduler's `lastEpoch` back by one (undoing the step their constructors took) and restarts the
 * first scheduler. Each step advances the epoch; at a milestone the next scheduler jumps to its
 * epoch 0 in closed form (its own lr from `initialLr`, whatever the previous scheduler left),
 * otherwise the current scheduler takes an ordinary step.
 *
 * Differs from PyTorch: milestones must be increasing non-negative integers, and there must be at
 * least one scheduler.
 */
export class SequentialLR implements Scheduler {
  /** The optimiser whose groups' lr the schedulers write. */
  readonly optimizer: Optimizer;
  /** The index of the latest epoch. */
  lastEpoch: number;
  private readonly schedulers: LRScheduler[];
  private readonly milestones: number[];
  private lastLr: number[];

  /** @throws ArgumentError when a scheduler belongs to another optimiser, or the milestones do not fit the schedulers. */
  constructor(optimizer: Optimizer, options: SequentialLROptions) {
    if (!(optimizer instanceof Optimizer)) throw invalidArgument('the optimizer of SequentialLR', 'an Optimizer', optimizer);
    const o = optionsObject(options, 'SequentialLR');
    checkKnownKeys(o, ['schedulers', 'milestones', 'lastEpoch'], 'SequentialLR');
    const schedulers: unknown = o.schedulers;
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw invalidArgument('schedulers of SequentialLR', 'a non-empty array of schedulers', schedulers);
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) throw invalidArgument(`schedulers[${i}] of SequentialLR`, 'an LRScheduler', s);
      if (s.optimizer !== optimizer) {
        throw new ArgumentError(
          'Sequential Schedulers expects all schedulers to belong to the same optimizer, but ' +
            `got schedulers at index ${i} to be different than the optimizer passed in.`,
        );
      }
    });
    const milestones: unknown = o.milestones;
    if (!Array.isArray(milestones) || milestones.some((m, i) => typeof m !== 'number' || !Number.isInteger(m) || m < 0 || (i > 0 && m <= milestones[i - 1]))) {
      throw invalidArgument('milestones of SequentialLR', 'an increasing array of non-negative integers', milestones);
    }
    if (milestones.length !== schedulers.length - 1) {
      throw new ArgumentError(
        'Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, ' +
          `but got number of schedulers ${schedulers.length} and the number of milestones to be equal to ${milestones.length}`,
      );
    }
    const lastEpoch = o.lastEpoch ?? -1;
    checkInteger(lastEpoch, 'lastEpoch of SequentialLR', -1);
    this.optimizer = optimizer;
    this.schedulers = schedulers.slice() as LRScheduler[];
    this.milestones = milestones.slice() as number[];
    this.lastEpoch = lastEpoch + 1;
    for (const group of optimizer.paramGroups) {
      if (group.initialLr !== undefined) group.lr = group.initialLr;
    }
    for (const s of this.schedulers) s.lastEpoch -= 1;
    const first = this.schedulers[0] as LRScheduler;
    first.initialStep();
    this.lastLr = first.getLastLr();
  }

  /** Advances one epoch: the scheduler for this epoch steps (or starts, at a milestone). */
  step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx] as LRScheduler;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.stepTo(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  /** The lr of each group after the latest step (a copy). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** `{ lastEpoch, milestones, lastLr, schedulers: [each scheduler's state dict] }`. */
  stateDict(): SchedulerStateDict {
    return {
      lastEpoch: this.lastEpoch,
      milestones: this.milestones.slice(),
      lastLr: this.lastLr.slice(),
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  /**
   * Restores a state from {@link stateDict}, including every wrapped scheduler's.
   * @throws ArgumentError for a missing or mistyped field or a different number of schedulers.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const w = 'SequentialLR';
    const sd = stateObject(stateDict, w);
    const lastEpoch = readInteger(sd, 'lastEpoch', w, 0);
    const milestones = readNumbers(sd, 'milestones', w);
    const lastLr = readNumbers(sd, 'lastLr', w, this.optimizer.paramGroups.length);
    const subs: JsonValue = sd['schedulers'] ?? null;
    if (!Array.isArray(subs) || subs.length !== this.schedulers.length) {
      throw new ArgumentError(
        `schedulers in the state dict of SequentialLR must be an array of ${this.schedulers.length} state dicts, one per scheduler`,
      );
    }
    if (milestones.length !== this.milestones.length) {
      throw new ArgumentError(`milestones in the state dict of SequentialLR must have ${this.milestones.length} values`);
    }
    subs.forEach((sub, i) => (this.schedulers[i] as LRScheduler).loadStateDict(stateObject(sub, `schedulers[${i}] of SequentialLR`)));
    this.lastEpoch = lastEpoch;
    this.milestones.splice(0, this.milestones.length, ...milestones);
    this.lastLr = lastLr;
  }
}
