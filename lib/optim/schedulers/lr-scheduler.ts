/**
 * The {@link LRScheduler} base class (PyTorch's `_LRScheduler`) and the {@link Scheduler} interface
 * every scheduler implements.
 */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { checkInteger } from '../check.js';
import { Optimizer } from '../optimizer.js';
import { readInteger, readNumbers, stateObject, type SchedulerStateDict } from './state.js';

/** What every learning-rate scheduler offers (including `SequentialLR` and `ReduceLROnPlateau`). */
export interface Scheduler {
  /** The optimiser whose groups' `lr` the scheduler writes. */
  readonly optimizer: Optimizer;
  /** The learning rate of each parameter group after the latest step (a copy). */
  getLastLr(): number[];
  /** The scheduler's state, as JSON, for resuming. */
  stateDict(): SchedulerStateDict;
  /** Restores a state from {@link stateDict}. */
  loadStateDict(stateDict: SchedulerStateDict): void;
}

/** Options every {@link LRScheduler} accepts. */
export interface LRSchedulerOptions {
  /**
   * The index of the last epoch (default -1: start from the beginning). When resuming with a value
   * ≥ 0, every group must already have `initialLr` (from the optimiser's loaded state dict).
   */
  lastEpoch?: number;
}

/**
 * Base of the epoch-indexed schedulers, with PyTorch 1.13's `_LRScheduler` semantics:
 *
 * - construction records each group's starting lr as `group.initialLr` (unless already set: the
 *   first scheduler built on an optimiser wins) and `baseLrs`, then performs the first step, which
 *   sets `lastEpoch` to 0 and applies the epoch-0 lr;
 * - {@link step} advances `lastEpoch` by one and writes each group's new `lr`, computed by
 *   {@link getLr} in PyTorch's recursive ("chainable") form from the groups' current lrs where
 *   PyTorch does so, which lets two schedulers act on one optimiser;
 * - {@link getLastLr} returns the lrs written by the latest step.
 *
 * Call `optimizer.step()` before `scheduler.step()` each epoch (or batch, for per-batch schedules).
 *
 * A subclass sets its fields in its constructor, then calls {@link start}; it implements
 * {@link getLr} and, where PyTorch has one, {@link closedFormLr} (used by `SequentialLR` when a
 * scheduler takes over at a milestone).
 *
 * Differs from PyTorch: `step()` takes no epoch argument (deprecated in PyTorch); no warnings about
 * call order; `verbose` is not supported.
 */
export abstract class LRScheduler implements Scheduler {
  /** The optimiser whose groups' lr this scheduler writes. */
  readonly optimizer: Optimizer;
  /** The starting lr of each group (`group.initialLr` when the scheduler was built). */
  baseLrs: number[] = [];
  /** The index of the latest epoch (0 after construction). */
  lastEpoch: number;
  /** How many times the scheduler has stepped, construction included (PyTorch's `_step_count`). */
  protected stepCount = 0;
  /** The lrs written by the latest step. */
  protected lastLr: number[] = [];

  /** @throws ArgumentError when `optimizer` is not an {@link Optimizer} or `lastEpoch` is not an integer ≥ -1. */
  constructor(optimizer: Optimizer, options: LRSchedulerOptions = {}) {
    if (!(optimizer instanceof Optimizer)) throw invalidArgument(`the optimizer of ${new.target.name}`, 'an Optimizer', optimizer);
    const lastEpoch = options.lastEpoch ?? -1;
    checkInteger(lastEpoch, `lastEpoch of ${new.target.name}`, -1);
    this.optimizer = optimizer;
    this.lastEpoch = lastEpoch;
  }

  /**
   * The end of construction, called by each subclass's constructor once its fields are set: records
   * `initialLr` and {@link baseLrs}, then performs the first step.
   * @throws ArgumentError when resuming (`lastEpoch` ≥ 0) and a group has no `initialLr`.
   */
  protected start(): void {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === -1) {
      for (const group of groups) group.initialLr ??= group.lr;
    } else {
      groups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new ArgumentError(`param 'initialLr' is not specified in paramGroups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseLrs = groups.map((group) => group.initialLr as number);
    this.initialStep();
  }

  /** @internal Resets the step count and performs a first step (used by `SequentialLR`). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Advances one epoch (or batch) and writes each group's new lr. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    this.apply(this.getLr());
  }

  /**
   * @internal Jumps to `epoch` using the closed form where there is one (PyTorch's deprecated
   * `step(epoch)`, which `SequentialLR` uses at its milestones).
   */
  stepTo(epoch: number): void {
    this.stepCount++;
    this.lastEpoch = epoch;
    this.apply(this.closedFormLr() ?? this.getLr());
  }

  /** Writes `values` to the groups' lr (as many as both have) and records them. */
  private apply(values: readonly number[]): void {
    const groups = this.optimizer.paramGroups;
    const n = Math.min(groups.length, values.length);
    for (let i = 0; i < n; i++) (groups[i] as { lr: number }).lr = values[i] as number;
    this.lastLr = groups.map((group) => group.lr);
  }

  /** The lr of each group at {@link lastEpoch}, as PyTorch's `get_lr()` (called by {@link step}). */
  protected abstract getLr(): number[];

  /** The lr of each group at {@link lastEpoch} in closed form (from {@link baseLrs}), or null if there is none. */
  protected closedFormLr(): number[] | null {
    return null;
  }

  /** The lr of each group after the latest step (a copy). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** `{ lastEpoch, stepCount, baseLrs, lastLr }` and the subclass's settings. */
  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, stepCount: this.stepCount, baseLrs: this.baseLrs.slice(), lastLr: this.lastLr.slice() };
  }

  /**
   * Restores a state from {@link stateDict} (settings included, as PyTorch does).
   * @throws ArgumentError for a missing or mistyped field, or lr lists whose length differs from the
   *   optimiser's number of groups.
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const where = this.constructor.name;
    const sd = stateObject(stateDict, where);
    const groups = this.optimizer.paramGroups.length;
    const lastEpoch = readInteger(sd, 'lastEpoch', where, -1);
    const stepCount = readInteger(sd, 'stepCount', where, 0);
    const baseLrs = readNumbers(sd, 'baseLrs', where, groups);
    const lastLr = readNumbers(sd, 'lastLr', where, groups);
    this.lastEpoch = lastEpoch;
    this.stepCount = stepCount;
    this.baseLrs = baseLrs;
    this.lastLr = lastLr;
  }

  /** The current lr of every group. */
  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((group) => group.lr);
  }
}
