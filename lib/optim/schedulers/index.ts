/**
 * Learning-rate schedulers, with PyTorch 1.13's `torch.optim.lr_scheduler` semantics: build one on
 * an optimiser (it applies the epoch-0 lr), call `optimizer.step()` then `scheduler.step()` each
 * epoch (each batch for {@link OneCycleLR}).
 */
export { LRScheduler, type Scheduler, type LRSchedulerOptions } from './lr-scheduler.js';
export { StepLR, type StepLROptions } from './step-lr.js';
export { MultiStepLR, type MultiStepLROptions } from './multi-step-lr.js';
export { ExponentialLR, type ExponentialLROptions } from './exponential-lr.js';
export { CosineAnnealingLR, type CosineAnnealingLROptions } from './cosine-annealing-lr.js';
export { LinearLR, type LinearLROptions } from './linear-lr.js';
export { LambdaLR, type LambdaLROptions, type LrLambda } from './lambda-lr.js';
export { OneCycleLR, type OneCycleLROptions } from './one-cycle-lr.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export { SequentialLR, type SequentialLROptions } from './sequential-lr.js';
export type { JsonValue, SchedulerStateDict } from './state.js';
