/** RMSprop, optionally centered and with momentum. */
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

/** The options of {@link RMSprop}, as resolved in each parameter group. */
export interface RMSpropGroupOptions extends GroupOptions {
  /** Smoothing constant α of the running average of the squared gradient (default 0.99). */
  alpha: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Momentum factor μ (default 0). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment (default false). */
  centered: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Constructor options of {@link RMSprop} (all optional; lr defaults to 1e-2). */
export type RMSpropOptions = Partial<RMSpropGroupOptions>;

const KEYS = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'] as const;
const f = Math.fround;

/**
 * RMSprop, as `torch.optim.RMSprop` (PyTorch 1.13). For each parameter θ with gradient g (lr γ,
 * smoothing α, weight decay λ, momentum μ):
 *
 * ```
 * g ← -g                                 if maximize
 * g ← g + λ θ                            if λ ≠ 0
 * v ← α v + (1 - α) g²
 * if centered:  ḡ ← α ḡ + (1 - α) g;  s ← √(v - ḡ²)
 * else:         s ← √v
 * s ← s + ε
 * if μ > 0:     b ← μ b + g / s;  θ ← θ - γ b
 * else:         θ ← θ - γ g / s
 * ```
 *
 * State per parameter: `step`, `squareAvg` (v), `momentumBuffer` (μ > 0), `gradAvg` (ḡ, centered).
 *
 * Differs from PyTorch: buffers are created when first needed, so momentum or centering may be
 * switched on in a group mid-training (PyTorch raises a KeyError).
 */
export class RMSprop extends Optimizer<RMSpropGroupOptions> {
  /** @throws ArgumentError for an invalid option (`Invalid alpha value: -1`). */
  constructor(params: OptimizerParams<RMSpropGroupOptions>, options?: RMSpropOptions) {
    const o = optionsObject(options, 'RMSprop');
    checkKnownKeys(o, KEYS, 'RMSprop');
    super(params, {
      lr: o.lr ?? 1e-2,
      alpha: o.alpha ?? 0.99,
      eps: o.eps ?? 1e-8,
      weightDecay: o.weightDecay ?? 0,
      momentum: o.momentum ?? 0,
      centered: o.centered ?? false,
      maximize: o.maximize ?? false,
    });
  }

  protected override checkOptions(o: Partial<RMSpropGroupOptions>): void {
    if (o.lr !== undefined) checkNonNegative(o.lr, 'lr of RMSprop', 'Invalid learning rate');
    if (o.eps !== undefined) checkNonNegative(o.eps, 'eps of RMSprop', 'Invalid epsilon value');
    if (o.momentum !== undefined) checkNonNegative(o.momentum, 'momentum of RMSprop', 'Invalid momentum value');
    if (o.weightDecay !== undefined) checkNonNegative(o.weightDecay, 'weightDecay of RMSprop', 'Invalid weightDecay value');
    if (o.alpha !== undefined) checkNonNegative(o.alpha, 'alpha of RMSprop', 'Invalid alpha value');
    if (o.centered !== undefined) checkBoolean(o.centered, 'centered of RMSprop');
    if (o.maximize !== undefined) checkBoolean(o.maximize, 'maximize of RMSprop');
  }

  protected override stateSpec(): StateSpec {
    return { step: 'count', squareAvg: 'buffer', momentumBuffer: 'buffer', gradAvg: 'buffer' };
  }

  protected override updateParam(p: Float32Array, g: Float32Array, state: ParamState, group: ParamGroup<RMSpropGroupOptions>): void {
    const { momentum, centered, maximize } = group;
    const n = p.length;
    incrementCount(state);
    const sq = stateBuffer(state, 'squareAvg', n);
    const buf = momentum > 0 ? stateBuffer(state, 'momentumBuffer', n) : null;
    const ga = centered ? stateBuffer(state, 'gradAvg', n) : null;
    // Scalars enter PyTorch's float32 kernels as float32; a multiply-add rounds once (FMA),
    // addcdiv computes (value * a) / b.
    const negLr = f(-group.lr);
    const alpha = f(group.alpha);
    const keep = f(1 - group.alpha);
    const wd = f(group.weightDecay);
    const eps = f(group.eps);
    const mu = f(momentum);
    for (let i = 0; i < n; i++) {
      let gi = maximize ? -(g[i] as number) : (g[i] as number);
      if (wd !== 0) gi = f(gi + wd * (p[i] as number));
      const v = f(f((sq[i] as number) * alpha) + f(keep * gi) * gi);
      sq[i] = v;
      let s: number;
      if (ga !== null) {
        const a = f(f((ga[i] as number) * alpha) + keep * gi);
        ga[i] = a;
        s = f(Math.sqrt(f(v - a * a)));
      } else {
        s = f(Math.sqrt(v));
      }
      s = f(s + eps);
      if (buf !== null) {
        const b = f(f((buf[i] as number) * mu) + f(gi / s));
        buf[i] = b;
        p[i] = (p[i] as number) + negLr * b;
      } else {
        p[i] = (p[i] as number) + f(f(negLr * gi) / s);
      }
    }
  }
}
