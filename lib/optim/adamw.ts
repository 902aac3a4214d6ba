/** AdamW: Adam with decoupled weight decay. */
import { ADAM_STATE, adamDefaults, adamUpdate, checkAdamOptions, type AdamGroupOptions, type AdamOptions } from './adam.js';
import { Optimizer, type OptimizerParams, type ParamGroup, type ParamState, type StateSpec } from './optimizer.js';

/** Constructor options of {@link AdamW} (all optional; lr defaults to 1e-3, weightDecay to 1e-2). */
export type AdamWOptions = AdamOptions;

/**
 * AdamW, as `torch.optim.AdamW` (PyTorch 1.13): Adam whose weight decay shrinks the weights
 * directly instead of adding an L2 term to the gradient (Loshchilov & Hutter, "Decoupled Weight
 * Decay Regularization"). For each parameter θ with gradient g, at its step t:
 *
 * ```
 * g ← -g                                    if maximize
 * θ ← θ (1 - γ λ)                           decoupled weight decay (default λ = 1e-2)
 * m ← β1 m + (1 - β1) g
 * v ← β2 v + (1 - β2) g²
 * v̂max ← max(v̂max, v)                       if amsgrad (then v̂max replaces v below)
 * denom ← √v / √(1 - β2^t) + ε
 * θ ← θ - γ / (1 - β1^t) · m / denom
 * ```
 *
 * State per parameter: `step`, `expAvg`, `expAvgSq`, `maxExpAvgSq` (amsgrad), as {@link Adam}.
 *
 * Differs from PyTorch: `step` is a number (PyTorch: a 0-d tensor).
 */
export class AdamW extends Optimizer<AdamGroupOptions> {
  /** @throws ArgumentError for an invalid option (`Invalid weightDecay value: -1`). */
  constructor(params: OptimizerParams<AdamGroupOptions>, options?: AdamWOptions) {
    super(params, adamDefaults(options, 'AdamW', 1e-2));
  }

  protected override checkOptions(o: Partial<AdamGroupOptions>): void {
    checkAdamOptions(o, 'AdamW');
  }

  protected override stateSpec(): StateSpec {
    return ADAM_STATE;
  }

  protected override updateParam(p: Float32Array, g: Float32Array, state: ParamState, group: ParamGroup<AdamGroupOptions>): void {
    adamUpdate(p, g, state, group, true);
  }
}
