/** Adam, and the update it shares with AdamW. */
import { invalidArgument, ArgumentError } from '../errors.js';
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

/** The options of {@link Adam} and {@link AdamW}, as resolved in each parameter group. */
export interface AdamGroupOptions extends GroupOptions {
  /** Decay rates (β1, β2) of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Use the AMSGrad variant: normalise by the running maximum of the second moment (default false). */
  amsgrad: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Constructor options of {@link Adam} (all optional; lr defaults to 1e-3, weightDecay to 0). */
export type AdamOptions = Partial<AdamGroupOptions>;

/** @internal The option names Adam and AdamW accept. */
export const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'] as const;
const f = Math.fround;

/** @internal Validates Adam / AdamW options (PyTorch's messages). */
export function checkAdamOptions(o: Partial<AdamGroupOptions>, name: string): void {
  if (o.lr !== undefined) checkNonNegative(o.lr, `lr of ${name}`, 'Invalid learning rate');
  if (o.eps !== undefined) checkNonNegative(o.eps, `eps of ${name}`, 'Invalid epsilon value');
  if (o.betas !== undefined) {
    const betas: unknown = o.betas;
    if (!Array.isArray(betas) || betas.length !== 2 || betas.some((b) => typeof b !== 'number')) {
      throw invalidArgument(`betas of ${name}`, 'an array of two numbers', betas);
    }
    betas.forEach((b: number, i) => {
      if (!(b >= 0 && b < 1)) throw new ArgumentError(`Invalid beta parameter at index ${i}: ${b}`);
    });
  }
  if (o.weightDecay !== undefined) checkNonNegative(o.weightDecay, `weightDecay of ${name}`, 'Invalid weightDecay value');
  if (o.amsgrad !== undefined) checkBoolean(o.amsgrad, `amsgrad of ${name}`);
  if (o.maximize !== undefined) checkBoolean(o.maximize, `maximize of ${name}`);
}

/** @internal The state keys of Adam and AdamW. */
export const ADAM_STATE: StateSpec = { step: 'count', expAvg: 'buffer', expAvgSq: 'buffer', maxExpAvgSq: 'buffer' };

/**
 * @internal One Adam step on one parameter; `decoupled` selects AdamW's weight decay. Each
 * intermediate that PyTorch holds in a float32 tensor is rounded to float32 here too.
 */
export function adamUpdate(p: Float32Array, g: Float32Array, state: ParamState, group: AdamGroupOptions, decoupled: boolean): void {
  const { lr, amsgrad, maximize } = group;
  const [beta1, beta2] = group.betas;
  const n = p.length;
  const step = incrementCount(state);
  const m = stateBuffer(state, 'expAvg', n);
  const v = stateBuffer(state, 'expAvgSq', n);
  const vMax = amsgrad ? stateBuffer(state, 'maxExpAvgSq', n) : null;
  // Scalars are computed in float64 as PyTorch's Python code does, then enter its float32 kernels
  // as float32; a multiply-add rounds once (FMA), addcdiv computes (value * a) / b.
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2Sqrt = f(Math.sqrt(1 - beta2 ** step));
  const negStepSize = f(-(lr / biasCorrection1));
  const b1 = f(beta1);
  const b2 = f(beta2);
  const keep1 = f(1 - beta1);
  const keep2 = f(1 - beta2);
  const wd = f(group.weightDecay);
  const eps = f(group.eps);
  if (decoupled && group.weightDecay !== 0) {
    const shrink = f(1 - lr * group.weightDecay);
    for (let i = 0; i < n; i++) p[i] = (p[i] as number) * shrink;
  }
  for (let i = 0; i < n; i++) {
    let gi = maximize ? -(g[i] as number) : (g[i] as number);
    if (!decoupled && wd !== 0) gi = f(gi + wd * (p[i] as number));
    const mi = f(f((m[i] as number) * b1) + keep1 * gi);
    let vi = f(f((v[i] as number) * b2) + f(keep2 * gi) * gi);
    m[i] = mi;
    v[i] = vi;
    if (vMax !== null) {
      vi = Math.max(vMax[i] as number, vi);
      vMax[i] = vi;
    }
    const denom = f(f(f(Math.sqrt(vi)) / biasCorrection2Sqrt) + eps);
    p[i] = (p[i] as number) + f(f(negStepSize * mi) / denom);
  }
}

/** @internal Resolved defaults for Adam / AdamW from constructor options. */
export function adamDefaults(options: AdamOptions | undefined, name: string, weightDecay: number): AdamOptions {
  const o = optionsObject(options, name);
  checkKnownKeys(o, ADAM_KEYS, name);
  return {
    lr: o.lr ?? 1e-3,
    betas: o.betas ?? [0.9, 0.999],
    eps: o.eps ?? 1e-8,
    weightDecay: o.weightDecay ?? weightDecay,
    amsgrad: o.amsgrad ?? false,
    maximize: o.maximize ?? false,
  };
}

/**
 * Adam, as `torch.optim.Adam` (PyTorch 1.13). For each parameter θ with gradient g, at its step t
 * (lr γ, betas β1, β2, weight decay λ):
 *
 * ```
 * g ← -g                                    if maximize
 * g ← g + λ θ                               if λ ≠ 0 (L2 penalty; see AdamW for decoupled decay)
 * m ← β1 m + (1 - β1) g
 * v ← β2 v + (1 - β2) g²
 * v̂max ← max(v̂max, v)                       if amsgrad (then v̂max replaces v below)
 * denom ← √v / √(1 - β2^t) + ε
 * θ ← θ - γ / (1 - β1^t) · m / denom
 * ```
 *
 * The step count t is per parameter: a step where a parameter has no gradient does not count.
 * State per parameter: `step`, `expAvg` (m), `expAvgSq` (v), `maxExpAvgSq` (amsgrad).
 *
 * Differs from PyTorch: `step` is a number (PyTorch: a 0-d tensor).
 */
export class Adam extends Optimizer<AdamGroupOptions> {
  /** @throws ArgumentError for an invalid option (`Invalid beta parameter at index 0: 1`). */
  constructor(params: OptimizerParams<AdamGroupOptions>, options?: AdamOptions) {
    super(params, adamDefaults(options, 'Adam', 0));
  }

  protected override checkOptions(o: Partial<AdamGroupOptions>): void {
    checkAdamOptions(o, 'Adam');
  }

  protected override stateSpec(): StateSpec {
    return ADAM_STATE;
  }

  protected override updateParam(p: Float32Array, g: Float32Array, state: ParamState, group: ParamGroup<AdamGroupOptions>): void {
    adamUpdate(p, g, state, group, false);
  }
}
