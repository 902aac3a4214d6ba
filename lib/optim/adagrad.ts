/** Adagrad: per-coordinate learning rates from the accumulated squared gradients. */
import { checkBoolean, checkKnownKeys, checkNonNegative, optionsObject } from './check.js';
import {
  Optimizer,
  incrementCount,
  stateBuffer,
  type GroupOptions,
  type OptimizerParams,
  type ParamGroup,
  type ParamState,
  type StateSpec,
} from './optimizer.js';

/** The options of {@link Adagrad}, as resolved in each parameter group. */
export interface AdagradGroupOptions extends GroupOptions {
  /** Learning-rate decay η: step t uses lr / (1 + (t - 1) η) (default 0). */
  lrDecay: number;
  /** Starting value of the accumulated squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps: number;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Constructor options of {@link Adagrad} (all optional; lr defaults to 1e-2). */
export type AdagradOptions = Partial<AdagradGroupOptions>;

const KEYS = ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'] as const;
const f = Math.fround;

/**
 * Adagrad, as `torch.optim.Adagrad` (PyTorch 1.13). For each parameter θ with gradient g, at its
 * step t (lr γ, lr decay η, weight decay λ, initial accumulator value s₀):
 *
 * ```
 * g ← -g                               if maximize
 * g ← g + λ θ                          if λ ≠ 0
 * γ̃ ← γ / (1 + (t - 1) η)
 * s ← s + g²                           (s starts at s₀)
 * θ ← θ - γ̃ g / (√s + ε)
 * ```
 *
 * State per parameter: `step`, `sum` (s).
 *
 * Differs from PyTorch: the state of a parameter is created at its first update (PyTorch creates
 * every parameter's state in the constructor), so frozen parameters never get any, and `step` is a
 * number (PyTorch: a 0-d tensor). The trajectory is the same.
 */
export class Adagrad extends Optimizer<AdagradGroupOptions> {
  /** @throws ArgumentError for an invalid option (`Invalid lrDecay value: -1`). */
  constructor(params: OptimizerParams<AdagradGroupOptions>, options?: AdagradOptions) {
    const o = optionsObject(options, 'Adagrad');
    checkKnownKeys(o, KEYS, 'Adagrad');
    super(params, {
      lr: o.lr ?? 1e-2,
      lrDecay: o.lrDecay ?? 0,
      weightDecay: o.weightDecay ?? 0,
      initialAccumulatorValue: o.initialAccumulatorValue ?? 0,
      eps: o.eps ?? 1e-10,
      maximize: o.maximize ?? false,
    });
  }

  protected override checkOptions(o: Partial<AdagradGroupOptions>): void {
    if (o.lr !== undefined) checkNonNegative(o.lr, 'lr of Adagrad', 'Invalid learning rate');
    if (o.lrDecay !== undefined) checkNonNegative(o.lrDecay, 'lrDecay of Adagrad', 'Invalid lrDecay value');
    if (o.weightDecay !== undefined) checkNonNegative(o.weightDecay, 'weightDecay of Adagrad', 'Invalid weightDecay value');
    if (o.initialAccumulatorValue !== undefined) {
      checkNonNegative(o.initialAccumulatorValue, 'initialAccumulatorValue of Adagrad', 'Invalid initialAccumulatorValue value');
    }
    if (o.eps !== undefined) checkNonNegative(o.eps, 'eps of Adagrad', 'Invalid epsilon value');
    if (o.maximize !== undefined) checkBoolean(o.maximize, 'maximize of Adagrad');
  }

  protected override stateSpec(): StateSpec {
    return { step: 'count', sum: 'buffer' };
  }

  protected override updateParam(p: Float32Array, g: Float32Array, state: ParamState, group: ParamGroup<AdagradGroupOptions>): void {
    const { lr, lrDecay, initialAccumulatorValue, maximize } = group;
    const n = p.length;
    const step = incrementCount(state);
    const sum = stateBuffer(state, 'sum', n, initialAccumulatorValue);
    // Scalars enter PyTorch's float32 kernels as float32; a multiply-add rounds once (FMA),
    // addcdiv computes (value * a) / b.
    const negClr = f(-(lr / (1 + (step - 1) * lrDecay)));
    const wd = f(group.weightDecay);
    const eps = f(group.eps);
    for (let i = 0; i < n; i++) {
      let gi = maximize ? -(g[i] as number) : (g[i] as number);
      if (wd !== 0) gi = f(gi + wd * (p[i] as number));
      const s = f((sum[i] as number) + gi * gi);
      sum[i] = s;
      p[i] = (p[i] as number) + f(f(negClr * gi) / f(f(Math.sqrt(s)) + eps));
    }
  }
}
