// Shared by the optim tests: builds optimisers and schedulers from the JSON specs that
// scripts/golden/optim.py stores in test/fixtures/optim (camelCase options, as convkit takes them).
import { Tensor } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';

export type OptimizerName = 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad';
export interface SchedulerSpec {
  type: string;
  options: Record<string, unknown>;
}
export interface GroupSpec {
  params: number[];
  [option: string]: unknown;
}

type AnyOptimizerClass = new (params: optim.OptimizerParams<never>, options?: Record<string, unknown>) => optim.Optimizer;
export const OPTIMIZERS = {
  SGD: optim.SGD,
  Adam: optim.Adam,
  AdamW: optim.AdamW,
  RMSprop: optim.RMSprop,
  Adagrad: optim.Adagrad,
} as unknown as Record<OptimizerName, AnyOptimizerClass>;

/** The optimiser `name` over `params`, one group or the groups of `groups` (indices into params). */
export function makeOptimizer(name: OptimizerName, params: Tensor[], options: Record<string, unknown>, groups: GroupSpec[] | null = null): optim.Optimizer {
  const Cls = OPTIMIZERS[name];
  if (groups === null) return new Cls(params as never, options);
  const input = groups.map(({ params: idx, ...rest }) => ({ ...rest, params: idx.map((i) => params[i]!) }));
  return new Cls(input as never, options);
}

/** LambdaLR's functions, by name: the same formulas as LAMBDAS in scripts/golden/optim.py. */
export const LAMBDAS: Record<string, optim.LrLambda> = {
  poly: (e) => (1 - e / 40) ** 0.9,
  inverse: (e) => 1 / (1 + 0.1 * e),
  warmupStep: (e) => (e < 4 ? (e + 1) / 5 : 0.5 ** Math.floor((e - 4) / 6)),
};

/** Builds the scheduler a fixture spec describes (nested for SequentialLR). */
export function makeScheduler(opt: optim.Optimizer, spec: SchedulerSpec): optim.Scheduler {
  const o = spec.options;
  switch (spec.type) {
    case 'StepLR':
      return new optim.StepLR(opt, o as unknown as optim.StepLROptions);
    case 'MultiStepLR':
      return new optim.MultiStepLR(opt, o as unknown as optim.MultiStepLROptions);
    case 'ExponentialLR':
      return new optim.ExponentialLR(opt, o as unknown as optim.ExponentialLROptions);
    case 'CosineAnnealingLR':
      return new optim.CosineAnnealingLR(opt, o as unknown as optim.CosineAnnealingLROptions);
    case 'LinearLR':
      return new optim.LinearLR(opt, o as optim.LinearLROptions);
    case 'OneCycleLR':
      return new optim.OneCycleLR(opt, o as unknown as optim.OneCycleLROptions);
    case 'ReduceLROnPlateau':
      return new optim.ReduceLROnPlateau(opt, o as optim.ReduceLROnPlateauOptions);
    case 'LambdaLR': {
      const names = o['lrLambda'] as string | string[];
      const lrLambda = Array.isArray(names) ? names.map((n) => LAMBDAS[n]!) : LAMBDAS[names]!;
      return new optim.LambdaLR(opt, { lrLambda });
    }
    case 'SequentialLR': {
      const schedulers = (o['schedulers'] as SchedulerSpec[]).map((s) => makeScheduler(opt, s) as optim.LRScheduler);
      return new optim.SequentialLR(opt, { schedulers, milestones: o['milestones'] as number[] });
    }
    default:
      throw new Error(`unknown scheduler ${spec.type}`);
  }
}

/** Row `k` of a stacked tensor [steps, ...shape], as a new tensor of `shape`. */
export function row(stacked: Tensor, k: number): Tensor {
  const shape = stacked.shape.slice(1);
  const size = shape.reduce((a, b) => a * b, 1);
  return new Tensor(stacked.data.slice(k * size, (k + 1) * size), shape);
}
