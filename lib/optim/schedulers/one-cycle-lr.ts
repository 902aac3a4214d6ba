/** OneCycleLR: the 1cycle policy (super-convergence), per batch. */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { checkBoolean, checkInteger, checkKnownKeys, checkNumber, optionsObject, perGroup } from '../check.js';
import type { Optimizer, ParamGroup } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';
import { readBoolean, readChoice, readInteger, readNumber, stateObject, type SchedulerStateDict } from './state.js';

/** Options of {@link OneCycleLR}. Give `totalSteps`, or `epochs` and `stepsPerEpoch`. */
export interface OneCycleLROptions extends LRSchedulerOptions {
  /** The peak lr, for every group or one per group. */
  maxLr: number | number[];
  /** The number of steps in the cycle. */
  totalSteps?: number;
  /** With `stepsPerEpoch`, gives totalSteps = epochs · stepsPerEpoch. */
  epochs?: number;
  /** With `epochs`, gives totalSteps = epochs · stepsPerEpoch. */
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent increasing the lr, in [0, 1] (default 0.3). */
  pctStart?: number;
  /** The annealing curve (default 'cos'). */
  annealStrategy?: 'cos' | 'linear';
  /** Cycle the momentum inversely to the lr (default true): SGD/RMSprop `momentum`, Adam `betas[0]`. */
  cycleMomentum?: boolean;
  /** The momentum at the peak lr, for every group or one per group (default 0.85). */
  baseMomentum?: number | number[];
  /** The momentum at the start and end of the cycle, for every group or one per group (default 0.95). */
  maxMomentum?: number | number[];
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /**
   * Use three phases (default false): up to maxLr, back down to initialLr symmetrically, then down
   * to minLr. With two phases, the second goes from maxLr straight to minLr.
   */
  threePhase?: boolean;
}

/** One phase of the cycle: where it ends, and which group fields it anneals between. */
interface Phase {
  endStep: number;
  startLr: 'initialLr' | 'maxLr';
  endLr: 'initialLr' | 'maxLr' | 'minLr';
  startMomentum: 'maxMomentum' | 'baseMomentum';
  endMomentum: 'maxMomentum' | 'baseMomentum';
}

const KEYS = [
  'maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum', 'baseMomentum',
  'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch',
] as const;

function phasesOf(totalSteps: number, pctStart: number, threePhase: boolean): Phase[] {
  if (threePhase) {
    return [
      { endStep: pctStart * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
      { endStep: 2 * pctStart * totalSteps - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
      { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
    ];
  }
  return [
    { endStep: pctStart * totalSteps - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
    { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
  ];
}

/** A number field of a group that OneCycleLR set. */
function field(group: ParamGroup, name: 'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum'): number {
  const value = group[name];
  if (typeof value !== 'number') {
    throw new ArgumentError(`OneCycleLR: parameter group has no '${name}' (was the optimizer's state replaced after the scheduler was built?)`);
  }
  return value;
}

/**
 * The 1cycle learning-rate policy (Smith & Topin, "Super-Convergence"), as
 * `torch.optim.lr_scheduler.OneCycleLR`. Step it after every batch. Construction sets, per group,
 *
 * ```
 * initialLr = maxLr / divFactor,   minLr = initialLr / finalDivFactor
 * ```
 *
 * (and `maxLr`, `maxMomentum`, `baseMomentum` on the group), then the lr follows phases ending at
 * step `pctStart · totalSteps - 1` and `totalSteps - 1`:
 *
 * ```
 * two phases:    initialLr → maxLr,  maxLr → minLr
 * three phases:  initialLr → maxLr,  maxLr → initialLr (ends at 2 · pctStart · totalSteps - 2),  initialLr → minLr
 * in a phase from step a to step b:  pct = (t - a) / (b - a)
 *   cos:     lr = end + (start - end) / 2 · (1 + cos(π · pct))
 *   linear:  lr = (end - start) · pct + start
 * ```
 *
 * With `cycleMomentum`, the momentum (SGD and RMSprop `momentum`, Adam and AdamW `betas[0]`) moves the
 * other way: maxMomentum → baseMomentum while the lr rises, back to maxMomentum as it falls (and
 * stays there in the third phase).
 *
 * Differs from PyTorch: reaching a zero-length phase (e.g. pctStart · totalSteps = 1) throws an
 * ArgumentError (PyTorch: ZeroDivisionError); `pctStart` may be any number in [0, 1] (PyTorch
 * requires a float).
 */
export class OneCycleLR extends LRScheduler {
  /** The number of steps in the cycle. */
  totalSteps: number;
  /** The fraction of the cycle spent increasing the lr. */
  pctStart: number;
  /** The annealing curve. */
  annealStrategy: 'cos' | 'linear';
  /** Whether the momentum is cycled. */
  cycleMomentum: boolean;
  /** Whether there are three phases. */
  threePhase: boolean;
  /** True when the momentum cycled is Adam's `betas[0]` (the optimiser has `betas`). */
  useBeta1: boolean;
  private phases: Phase[];

  /**
   * @throws ArgumentError when neither totalSteps nor epochs and stepsPerEpoch are given, for an
   *   option outside its range, or for `cycleMomentum` with an optimiser that has no momentum.
   */
  constructor(optimizer: Optimizer, options: OneCycleLROptions) {
    const o = optionsObject(options, 'OneCycleLR');
    checkKnownKeys(o, KEYS, 'OneCycleLR');
    super(optimizer, o);
    let totalSteps: number;
    if (o.totalSteps === undefined && (o.epochs === undefined || o.stepsPerEpoch === undefined)) {
      throw new ArgumentError('You must define either totalSteps OR (epochs AND stepsPerEpoch)');
    } else if (o.totalSteps !== undefined) {
      checkInteger(o.totalSteps, 'totalSteps of OneCycleLR', 1);
      totalSteps = o.totalSteps;
    } else {
      checkInteger(o.epochs, 'epochs of OneCycleLR', 1);
      checkInteger(o.stepsPerEpoch, 'stepsPerEpoch of OneCycleLR', 1);
      totalSteps = (o.epochs as number) * (o.stepsPerEpoch as number);
    }
    const pctStart = o.pctStart ?? 0.3;
    checkNumber(pctStart, 'pctStart of OneCycleLR');
    if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentError(`Expected float between 0 and 1 pctStart, but got ${pctStart}`);
    const annealStrategy = o.annealStrategy ?? 'cos';
    if (annealStrategy !== 'cos' && annealStrategy !== 'linear') {
      throw invalidArgument('annealStrategy of OneCycleLR', "'cos' or 'linear'", annealStrategy);
    }
    const threePhase = o.threePhase ?? false;
    checkBoolean(threePhase, 'threePhase of OneCycleLR');
    const cycleMomentum = o.cycleMomentum ?? true;
    checkBoolean(cycleMomentum, 'cycleMomentum of OneCycleLR');
    const divFactor = o.divFactor ?? 25;
    const finalDivFactor = o.finalDivFactor ?? 1e4;
    checkNumber(divFactor, 'divFactor of OneCycleLR');
    checkNumber(finalDivFactor, 'finalDivFactor of OneCycleLR');
    const phases = phasesOf(totalSteps, pctStart, threePhase);
    const groups = optimizer.paramGroups;
    const maxLrs = perGroup(o.maxLr, groups.length, 'maxLr of OneCycleLR');
    const defaults = optimizer.defaults as Record<string, unknown>;
    const useBeta1 = 'betas' in defaults;
    let maxMomenta: number[] = [];
    let baseMomenta: number[] = [];
    if (cycleMomentum) {
      if (!('momentum' in defaults) && !useBeta1) {
        throw new ArgumentError('optimizer must support momentum with `cycleMomentum` option enabled');
      }
      maxMomenta = perGroup(o.maxMomentum ?? 0.95, groups.length, 'maxMomentum of OneCycleLR');
      baseMomenta = perGroup(o.baseMomentum ?? 0.85, groups.length, 'baseMomentum of OneCycleLR');
    }
    if (this.lastEpoch === -1) {
      groups.forEach((group, i) => {
        group.initialLr = (maxLrs[i] as number) / divFactor;
        group.maxLr = maxLrs[i] as number;
        group.minLr = group.initialLr / finalDivFactor;
        if (cycleMomentum) {
          this.writeMomentum(group, useBeta1, maxMomenta[i] as number);
          group.maxMomentum = maxMomenta[i] as number;
          group.baseMomentum = baseMomenta[i] as number;
        }
      });
    }
    this.totalSteps = totalSteps;
    this.pctStart = pctStart;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.threePhase = threePhase;
    this.useBeta1 = useBeta1;
    this.phases = phases;
    this.start();
  }

  private writeMomentum(group: ParamGroup, useBeta1: boolean, value: number): void {
    const g = group as unknown as Record<string, unknown>;
    if (useBeta1) {
      const betas = g['betas'];
      if (!Array.isArray(betas)) throw invalidArgument('betas of the parameter group', 'an array of two numbers', betas);
      g['betas'] = [value, ...betas.slice(1)];
    } else {
      g['momentum'] = value;
    }
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2.0) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  /** @throws ArgumentError when stepped past `totalSteps`. */
  protected override getLr(): number[] {
    const t = this.lastEpoch;
    if (t > this.totalSteps) {
      throw new ArgumentError(`Tried to step ${t + 1} times. The specified number of total steps is ${this.totalSteps}`);
    }
    return this.optimizer.paramGroups.map((group) => {
      let start = 0;
      let lr = NaN;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i] as Phase;
        if (t <= phase.endStep || i === this.phases.length - 1) {
          if (phase.endStep === start) {
            throw new ArgumentError(
              `OneCycleLR: phase ${i + 1} of the cycle has zero length (totalSteps ${this.totalSteps}, pctStart ${this.pctStart}), so step ${t} has no lr`,
            );
          }
          const pct = (t - start) / (phase.endStep - start);
          lr = this.anneal(field(group, phase.startLr), field(group, phase.endLr), pct);
          if (this.cycleMomentum) {
            const momentum = this.anneal(field(group, phase.startMomentum), field(group, phase.endMomentum), pct);
            this.writeMomentum(group, this.useBeta1, momentum);
          }
          break;
        }
        start = phase.endStep;
      }
      return lr;
    });
  }

  /** The base state (`lastEpoch`, `stepCount`, `baseLrs`, `lastLr`) plus this scheduler's settings. */
  override stateDict(): SchedulerStateDict {
    return {
      ...super.stateDict(),
      totalSteps: this.totalSteps,
      pctStart: this.pctStart,
      annealStrategy: this.annealStrategy,
      cycleMomentum: this.cycleMomentum,
      threePhase: this.threePhase,
      useBeta1: this.useBeta1,
    };
  }

  /**
   * Restores a state from {@link stateDict}, settings included.
   * @throws ArgumentError for a missing or mistyped field.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    const where = 'OneCycleLR';
    const sd = stateObject(stateDict, where);
    const totalSteps = readInteger(sd, 'totalSteps', where, 1);
    const pctStart = readNumber(sd, 'pctStart', where);
    const annealStrategy = readChoice(sd, 'annealStrategy', where, ['cos', 'linear'] as const);
    const cycleMomentum = readBoolean(sd, 'cycleMomentum', where);
    const threePhase = readBoolean(sd, 'threePhase', where);
    const useBeta1 = readBoolean(sd, 'useBeta1', where);
    super.loadStateDict(sd);
    this.totalSteps = totalSteps;
    this.pctStart = pctStart;
    this.annealStrategy = annealStrategy;
    this.cycleMomentum = cycleMomentum;
    this.threePhase = threePhase;
    this.useBeta1 = useBeta1;
    this.phases = phasesOf(totalSteps, pctStart, threePhase);
  }
}
