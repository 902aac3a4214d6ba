/** LambdaLR: the initial lr times a user function of the epoch. */
import { ArgumentError, invalidArgument } from '../../errors.js';
import { checkKnownKeys, optionsObject } from '../check.js';
import type { Optimizer } from '../optimizer.js';
import { LRScheduler, type LRSchedulerOptions } from './lr-scheduler.js';

/** A multiplicative factor as a function of the epoch index. */
export type LrLambda = (epoch: number) => number;

/** Options of {@link LambdaLR}. */
export interface LambdaLROptions extends LRSchedulerOptions {
  /** One function for every group, or one per group. */
  lrLambda: LrLambda | LrLambda[];
}

/**
 * Sets each group's lr to its initial lr times `lrLambda(epoch)`, as
 * `torch.optim.lr_scheduler.LambdaLR`:
 *
 * ```
 * lr_t = initialLr · lrLambda(t)
 * ```
 *
 * ```ts
 * new LambdaLR(opt, { lrLambda: (epoch) => Math.min(1, (epoch + 1) / 5) });   // 5-epoch warm-up
 * ```
 *
 * The state dict holds the epoch counters, not the functions (PyTorch saves the attributes of
 * callable objects; JS closures have none).
 */
export class LambdaLR extends LRScheduler {
  /** The factor function of each group. */
  readonly lrLambdas: LrLambda[];

  /** @throws ArgumentError when `lrLambda` is not a function, or a list whose length is not the number of groups. */
  constructor(optimizer: Optimizer, options: LambdaLROptions) {
    const o = optionsObject(options, 'LambdaLR');
    checkKnownKeys(o, ['lrLambda', 'lastEpoch'], 'LambdaLR');
    super(optimizer, o);
    const groups = optimizer.paramGroups.length;
    const fns: unknown = o.lrLambda;
    if (Array.isArray(fns)) {
      if (fns.length !== groups) throw new ArgumentError(`Expected ${groups} lrLambdas, but got ${fns.length}`);
      fns.forEach((fn, i) => {
        if (typeof fn !== 'function') throw invalidArgument(`lrLambda[${i}] of LambdaLR`, 'a function', fn);
      });
      this.lrLambdas = fns.slice() as LrLambda[];
    } else {
      if (typeof fns !== 'function') throw invalidArgument('lrLambda of LambdaLR', 'a function or an array of functions', fns);
      this.lrLambdas = new Array<LrLambda>(groups).fill(fns as LrLambda);
    }
    this.start();
  }

  protected override getLr(): number[] {
    return this.baseLrs.map((base, i) => {
      const factor = (this.lrLambdas[i] as LrLambda)(this.lastEpoch);
      if (typeof factor !== 'number') throw invalidArgument(`the value of lrLambda[${i}](${this.lastEpoch})`, 'a number', factor);
      return base * factor;
    });
  }
}
