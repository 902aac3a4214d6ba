/** Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay. */
import { ArgumentError } from '../errors.js';
import { sgdStep } from '../ops/optim.js';
import { checkBoolean, checkKnownKeys, checkNonNegative, checkNumber, optionsObject } from './check.js';
import { Optimizer, stateBuffer, type GroupOptions, type OptimizerParams, type ParamGroup, type ParamState, type StateSpec } from './optimizer.js';

/** The options of {@link SGD}, as resolved in each parameter group. */
export interface SGDGroupOptions extends GroupOptions {
  /** Momentum factor μ (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** Use Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximise the objective instead of minimising it (default false). */
  maximize: boolean;
}

/** Constructor options of {@link SGD}: `lr` is required (here or in every group). */
export type SGDOptions = Partial<SGDGroupOptions>;

const KEYS = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'] as const;

/**
 * Stochastic gradient descent, as `torch.optim.SGD` (PyTorch 1.13). For each parameter θ with
 * gradient g, at step t (lr γ, weight decay λ, momentum μ, dampening τ):
 *
 * ```
 * g ← -g                               if maximize
 * g ← g + λ θ                          if λ ≠ 0
 * if μ ≠ 0:
 *   b ← g                              at the parameter's first step
 *   b ← μ b + (1 - τ) g                afterwards
 *   g ← g + μ b  if nesterov, else  g ← b
 * θ ← θ - γ g
 * ```
 *
 * As PyTorch notes, this momentum differs from Sutskever et al. (`v ← μ v + γ g; θ ← θ - v`): the
 * learning rate scales the buffer when it is applied, not when it is accumulated.
 *
 * State per parameter: `momentumBuffer` (when momentum ≠ 0).
 *
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 * ```
 *
 * Differs from PyTorch: a parameter stepped without momentum has an empty state object (PyTorch
 * stores `momentum_buffer: None`).
 */
export class SGD extends Optimizer<SGDGroupOptions> {
  /**
   * @throws ArgumentError for a negative lr, momentum or weight decay (`Invalid learning rate: -1`),
   *   Nesterov without momentum or with dampening, or an unknown option.
   */
  constructor(params: OptimizerParams<SGDGroupOptions>, options?: SGDOptions) {
    const o = optionsObject(options, 'SGD');
    checkKnownKeys(o, KEYS, 'SGD');
    super(params, {
      lr: o.lr,
      momentum: o.momentum ?? 0,
      dampening: o.dampening ?? 0,
      weightDecay: o.weightDecay ?? 0,
      nesterov: o.nesterov ?? false,
      maximize: o.maximize ?? false,
    });
  }

  protected override checkOptions(o: Partial<SGDGroupOptions>): void {
    if (o.lr !== undefined) checkNonNegative(o.lr, 'lr of SGD', 'Invalid learning rate');
    if (o.momentum !== undefined) checkNonNegative(o.momentum, 'momentum of SGD', 'Invalid momentum value');
    if (o.weightDecay !== undefined) checkNonNegative(o.weightDecay, 'weightDecay of SGD', 'Invalid weightDecay value');
    if (o.dampening !== undefined) checkNumber(o.dampening, 'dampening of SGD');
    if (o.nesterov !== undefined) checkBoolean(o.nesterov, 'nesterov of SGD');
    if (o.maximize !== undefined) checkBoolean(o.maximize, 'maximize of SGD');
    if (o.nesterov === true && (!((o.momentum ?? 0) > 0) || (o.dampening ?? 0) !== 0)) {
      throw new ArgumentError('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  protected override stateSpec(): StateSpec {
    return { momentumBuffer: 'buffer' };
  }

  protected override updateParam(p: Float32Array, g: Float32Array, state: ParamState, group: ParamGroup<SGDGroupOptions>): void {
    // The update runs natively (native/kernels/optim.cc), in float32 like PyTorch's kernels, so
    // trajectories match torch's to an ulp per step.
    if (group.momentum === 0) {
      sgdStep(p, g, null, false, group);
      return;
    }
    const fresh = !(state['momentumBuffer'] instanceof Float32Array);
    const buf = stateBuffer(state, 'momentumBuffer', p.length);
    sgdStep(p, g, buf, fresh, group);
  }
}
