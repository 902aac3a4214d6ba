/**
 * Optimisers, learning-rate schedulers and gradient clipping, exported from the package root as
 * `optim`: PyTorch's `torch.optim` (1.13) with camelCase names.
 *
 * ```ts
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
 * const schedule = new optim.CosineAnnealingLR(opt, { tMax: epochs });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   F.crossEntropy(model.forward(x), y).backward();
 *   optim.clipGradNorm(model.parameters(), 5);
 *   opt.step();
 * }
 * schedule.step();
 * ```
 */
export {
  Optimizer,
  type GroupOptions,
  type SchedulerGroupFields,
  type ParamGroup,
  type ParamGroupInput,
  type OptimizerParams,
  type ParamState,
  type StateValue,
  type StateSpec,
  type SavedParamGroup,
  type OptimizerStateDict,
  type OptimizerStateDictLike,
  type ZeroGradOptions,
} from './optimizer.js';
export { SGD, type SGDOptions, type SGDGroupOptions } from './sgd.js';
export { Adam, type AdamOptions, type AdamGroupOptions } from './adam.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { RMSprop, type RMSpropOptions, type RMSpropGroupOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions, type AdagradGroupOptions } from './adagrad.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions } from './clip.js';
export * from './schedulers/index.js';
