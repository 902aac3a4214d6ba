// Every error the optim package raises for bad arguments: its class, its code and its exact text.
// Range errors follow PyTorch's wording with convkit's camelCase names and echo the value; type
// errors use the library-wide template of lib/errors.ts.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ConvkitError, ShapeError, Tensor, zeros } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';

type ErrorClass = typeof ArgumentError | typeof ShapeError;

function expectError(fn: () => unknown, cls: ErrorClass, message: string): void {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${cls.name}: ${message}`).toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(ConvkitError);
  expect((caught as ConvkitError).code).toBe(cls === ShapeError ? 'ERR_SHAPE' : 'ERR_ARGUMENT');
  expect((caught as Error).message).toBe(message);
}

const param = (...shape: number[]): Tensor => zeros(shape).requiresGrad_();

describe('optimiser option errors', () => {
  const p = (): Tensor[] => [param(2, 2)];
  const cases: Array<[string, () => unknown, string]> = [
    ['SGD negative lr', () => new optim.SGD(p(), { lr: -1 }), 'Invalid learning rate: -1'],
    ['SGD NaN lr', () => new optim.SGD(p(), { lr: NaN }), 'Invalid learning rate: NaN'],
    ['SGD missing lr', () => new optim.SGD(p()), "parameter group 0 didn't specify a value of required optimization parameter lr"],
    ['SGD string lr', () => new optim.SGD(p(), { lr: '0.1' as never }), "Expected a number for lr of SGD but received '0.1' of type string"],
    ['SGD negative momentum', () => new optim.SGD(p(), { lr: 0.1, momentum: -0.5 }), 'Invalid momentum value: -0.5'],
    ['SGD negative weight decay', () => new optim.SGD(p(), { lr: 0.1, weightDecay: -1 }), 'Invalid weightDecay value: -1'],
    ['SGD nesterov without momentum', () => new optim.SGD(p(), { lr: 0.1, nesterov: true }), 'Nesterov momentum requires a momentum and zero dampening'],
    [
      'SGD nesterov with dampening',
      () => new optim.SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      'Nesterov momentum requires a momentum and zero dampening',
    ],
    ['SGD nesterov not a boolean', () => new optim.SGD(p(), { lr: 0.1, nesterov: 1 as never }), 'Expected a boolean for nesterov of SGD but received 1 of type number'],
    ['SGD snake_case option', () => new optim.SGD(p(), { lr: 0.1, weight_decay: 0.1 } as never), "Unknown option 'weight_decay' for SGD; did you mean 'weightDecay'?"],
    [
      'SGD unknown option',
      () => new optim.SGD(p(), { lr: 0.1, betas: [0.9, 0.9] } as never),
      "Unknown option 'betas' for SGD (expected one of lr, momentum, dampening, weightDecay, nesterov, maximize)",
    ],
    ['Adam beta1 = 1', () => new optim.Adam(p(), { betas: [1, 0.999] }), 'Invalid beta parameter at index 0: 1'],
    ['Adam beta2 > 1', () => new optim.Adam(p(), { betas: [0.9, 1.5] }), 'Invalid beta parameter at index 1: 1.5'],
    ['Adam one beta', () => new optim.Adam(p(), { betas: [0.9] as never }), 'Expected an array of two numbers for betas of Adam but received [0.9] of type array'],
    ['Adam negative eps', () => new optim.Adam(p(), { eps: -1e-8 }), 'Invalid epsilon value: -1e-8'],
    ['Adam negative lr', () => new optim.Adam(p(), { lr: -0.001 }), 'Invalid learning rate: -0.001'],
    ['AdamW negative weight decay', () => new optim.AdamW(p(), { weightDecay: -0.01 }), 'Invalid weightDecay value: -0.01'],
    ['AdamW amsgrad not a boolean', () => new optim.AdamW(p(), { amsgrad: 'yes' as never }), "Expected a boolean for amsgrad of AdamW but received 'yes' of type string"],
    ['RMSprop negative alpha', () => new optim.RMSprop(p(), { alpha: -1 }), 'Invalid alpha value: -1'],
    ['RMSprop negative momentum', () => new optim.RMSprop(p(), { momentum: -0.1 }), 'Invalid momentum value: -0.1'],
    ['RMSprop negative eps', () => new optim.RMSprop(p(), { eps: -1 }), 'Invalid epsilon value: -1'],
    ['Adagrad negative lrDecay', () => new optim.Adagrad(p(), { lrDecay: -1 }), 'Invalid lrDecay value: -1'],
    [
      'Adagrad negative initialAccumulatorValue',
      () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 }),
      'Invalid initialAccumulatorValue value: -1',
    ],
    ['Adagrad negative weight decay', () => new optim.Adagrad(p(), { weightDecay: -2 }), 'Invalid weightDecay value: -2'],
    ['options not an object', () => new optim.Adam(p(), 0.1 as never), 'Expected an object for the options of Adam but received 0.1 of type number'],
  ];
  for (const [name, fn, message] of cases) it(name, () => expectError(fn, ArgumentError, message));
});

describe('parameter and group errors', () => {
  it('validates each group\'s own options, and names snake_case options', () => {
    const a = param(2);
    const b = param(3);
    expectError(() => new optim.SGD([{ params: [a] }, { params: [b], lr: -0.1 }], { lr: 0.1 }), ArgumentError, 'Invalid learning rate: -0.1');
    expectError(
      () => new optim.SGD([{ params: [a], weight_decay: 1 } as never], { lr: 0.1 }),
      ArgumentError,
      "Unknown option 'weight_decay' in parameter group 0; did you mean 'weightDecay'?",
    );
    expectError(() => new optim.Adam([{ params: [a], betas: [0.9, 1] }]), ArgumentError, 'Invalid beta parameter at index 1: 1');
  });

  it('rejects duplicated, empty, non-tensor and non-leaf parameters', () => {
    const a = param(2);
    expectError(() => new optim.SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 }), ArgumentError, 'some parameters appear in more than one parameter group');
    expectError(() => new optim.SGD([a, a], { lr: 0.1 }), ArgumentError, 'optimizer contains a parameter group with duplicate parameters');
    expectError(() => new optim.SGD([], { lr: 0.1 }), ArgumentError, 'optimizer got an empty parameter list');
    expectError(
      () => new optim.SGD(a as never, { lr: 0.1 }),
      ArgumentError,
      'params argument given to the optimizer should be an iterable of Tensors or parameter groups, but got a Tensor (wrap it: [tensor])',
    );
    expectError(() => new optim.SGD([a, 3] as never, { lr: 0.1 }), ArgumentError, 'optimizer can only optimize Tensors, but one of the params is 3 of type number');
    expectError(() => new optim.SGD([a.mul(2)], { lr: 0.1 }), ArgumentError, "can't optimize a non-leaf Tensor");
    expectError(
      () => new optim.SGD([{ params: 5 }] as never, { lr: 0.1 }),
      ArgumentError,
      'Expected a Tensor or an iterable of Tensors for params of parameter group 0 but received 5 of type number',
    );
    const opt = new optim.SGD([a], { lr: 0.1 });
    expectError(() => opt.addParamGroup({ params: [a] }), ArgumentError, 'some parameters appear in more than one parameter group');
    expect(opt.paramGroups).toHaveLength(1);
  });

  it('rejects a gradient whose size differs from its parameter (ShapeError)', () => {
    const a = param(2, 2);
    a.grad = zeros([3]);
    expectError(() => new optim.SGD([param(1), a], { lr: 0.1 }).step(), ShapeError, 'SGD.step: the gradient of parameter 1 has shape [3] but the parameter has shape [2, 2]');
  });
});

describe('scheduler option errors', () => {
  const sgd = (): optim.SGD => new optim.SGD([{ params: [param(2)] }, { params: [param(3)] }], { lr: 0.1, momentum: 0.9 });
  const cases: Array<[string, () => unknown, string]> = [
    ['not an optimiser', () => new optim.StepLR({} as never, { stepSize: 1 }), 'Expected an Optimizer for the optimizer of StepLR but received an object of type Object'],
    ['StepLR stepSize 0', () => new optim.StepLR(sgd(), { stepSize: 0 }), 'Expected a positive integer for stepSize of StepLR but received 0 of type number'],
    ['StepLR snake_case', () => new optim.StepLR(sgd(), { step_size: 2 } as never), "Unknown option 'step_size' for StepLR; did you mean 'stepSize'?"],
    [
      'StepLR resuming without initialLr',
      () => new optim.StepLR(sgd(), { stepSize: 2, lastEpoch: 3 }),
      "param 'initialLr' is not specified in paramGroups[0] when resuming an optimizer",
    ],
    [
      'MultiStepLR fractional milestone',
      () => new optim.MultiStepLR(sgd(), { milestones: [2, 3.5] }),
      'Expected an array of non-negative integers for milestones of MultiStepLR but received [2, 3.5] of type array',
    ],
    ['ExponentialLR without gamma', () => new optim.ExponentialLR(sgd(), {} as never), 'Expected a number for gamma of ExponentialLR but received undefined'],
    ['CosineAnnealingLR tMax 0', () => new optim.CosineAnnealingLR(sgd(), { tMax: 0 }), 'Invalid tMax: 0 (expected a number > 0)'],
    [
      'LinearLR startFactor 0',
      () => new optim.LinearLR(sgd(), { startFactor: 0 }),
      'Starting multiplicative factor expected to be greater than 0 and less or equal to 1, but got 0',
    ],
    ['LinearLR endFactor 1.5', () => new optim.LinearLR(sgd(), { endFactor: 1.5 }), 'Ending multiplicative factor expected to be between 0 and 1, but got 1.5'],
    ['LambdaLR wrong count', () => new optim.LambdaLR(sgd(), { lrLambda: [() => 1] }), 'Expected 2 lrLambdas, but got 1'],
    ['LambdaLR not a function', () => new optim.LambdaLR(sgd(), { lrLambda: 0.5 as never }), 'Expected a function or an array of functions for lrLambda of LambdaLR but received 0.5 of type number'],
    ['OneCycleLR no length', () => new optim.OneCycleLR(sgd(), { maxLr: 0.1 }), 'You must define either totalSteps OR (epochs AND stepsPerEpoch)'],
    ['OneCycleLR pctStart', () => new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, pctStart: 1.5 }), 'Expected float between 0 and 1 pctStart, but got 1.5'],
    [
      'OneCycleLR annealStrategy',
      () => new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never }),
      "Expected 'cos' or 'linear' for annealStrategy of OneCycleLR but received 'exp' of type string",
    ],
    [
      'OneCycleLR maxLr per group',
      () => new optim.OneCycleLR(sgd(), { maxLr: [0.1, 0.2, 0.3], totalSteps: 10 }),
      'Expected 2 values for maxLr of OneCycleLR, one per parameter group, but got 3',
    ],
    [
      'OneCycleLR without momentum',
      () => new optim.OneCycleLR(new optim.Adagrad([param(2)]), { maxLr: 0.1, totalSteps: 10 }),
      'optimizer must support momentum with `cycleMomentum` option enabled',
    ],
    [
      'OneCycleLR zero-length phase',
      () => new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, pctStart: 0.1 }),
      'OneCycleLR: phase 1 of the cycle has zero length (totalSteps 10, pctStart 0.1), so step 0 has no lr',
    ],
    ['ReduceLROnPlateau factor 1', () => new optim.ReduceLROnPlateau(sgd(), { factor: 1 }), 'Invalid factor: 1 (should be >= 0 and < 1.0)'],
    ['ReduceLROnPlateau mode', () => new optim.ReduceLROnPlateau(sgd(), { mode: 'avg' as never }), "Expected 'min' or 'max' for mode of ReduceLROnPlateau but received 'avg' of type string"],
    [
      'ReduceLROnPlateau thresholdMode',
      () => new optim.ReduceLROnPlateau(sgd(), { thresholdMode: 'pct' as never }),
      "Expected 'rel' or 'abs' for thresholdMode of ReduceLROnPlateau but received 'pct' of type string",
    ],
    ['ReduceLROnPlateau minLr per group', () => new optim.ReduceLROnPlateau(sgd(), { minLr: [0.1] }), 'expected 2 minLrs, got 1'],
    ['ReduceLROnPlateau patience', () => new optim.ReduceLROnPlateau(sgd(), { patience: -1 }), 'Expected an integer >= 0 for patience of ReduceLROnPlateau but received -1 of type number'],
    [
      'ReduceLROnPlateau metric',
      () => new optim.ReduceLROnPlateau(sgd()).step('0.5' as never),
      "Expected a number for the metric of ReduceLROnPlateau.step() but received '0.5' of type string",
    ],
  ];
  for (const [name, fn, message] of cases) it(name, () => expectError(fn, ArgumentError, message));

  it('SequentialLR checks its schedulers and milestones', () => {
    const opt = sgd();
    const other = sgd();
    const a = new optim.LinearLR(opt);
    const b = new optim.ExponentialLR(opt, { gamma: 0.9 });
    expectError(
      () => new optim.SequentialLR(opt, { schedulers: [a, new optim.ExponentialLR(other, { gamma: 0.9 })], milestones: [3] }),
      ArgumentError,
      'Sequential Schedulers expects all schedulers to belong to the same optimizer, but got schedulers at index 1 to be different than the optimizer passed in.',
    );
    expectError(
      () => new optim.SequentialLR(opt, { schedulers: [a, b], milestones: [3, 6] }),
      ArgumentError,
      'Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers 2 and the number of milestones to be equal to 2',
    );
    expectError(
      () => new optim.SequentialLR(opt, { schedulers: [a, b, new optim.StepLR(opt, { stepSize: 2 })], milestones: [6, 3] }),
      ArgumentError,
      'Expected an increasing array of non-negative integers for milestones of SequentialLR but received [6, 3] of type array',
    );
  });

  it('OneCycleLR refuses to step past totalSteps', () => {
    const sched = new optim.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 3 });
    for (let k = 0; k < 3; k++) sched.step();
    expectError(() => sched.step(), ArgumentError, 'Tried to step 5 times. The specified number of total steps is 3');
  });
});

describe('clipping errors', () => {
  const withGrad = (...values: number[]): Tensor => {
    const t = param(values.length);
    t.grad = new Tensor(Float32Array.from(values));
    return t;
  };
  it('rejects bad maxNorm, normType, clipValue and params', () => {
    expectError(() => optim.clipGradNorm([withGrad(1)], -1), ArgumentError, 'Invalid maxNorm: -1 (expected a number >= 0)');
    expectError(() => optim.clipGradNorm([withGrad(1)], 1, { normType: 0 }), ArgumentError, 'Invalid normType: 0 (expected a number > 0, or Infinity)');
    expectError(() => optim.clipGradNorm([withGrad(1)], 1, { normType: 'inf' as never }), ArgumentError, "Expected a number for normType of clipGradNorm() but received 'inf' of type string");
    expectError(() => optim.clipGradValue([withGrad(1)], -0.5), ArgumentError, 'Invalid clipValue: -0.5 (expected a number >= 0)');
    expectError(() => optim.clipGradNorm(5 as never, 1), ArgumentError, 'Expected a Tensor or an iterable of Tensors for the params of clipGradNorm() but received 5 of type number');
    expectError(() => optim.clipGradValue([withGrad(1), 2] as never, 1), ArgumentError, 'Expected a Tensor for params[1] of clipGradValue() but received 2 of type number');
  });

  it('errorIfNonfinite: throws on a NaN or infinite norm, and leaves the gradients alone', () => {
    const t = withGrad(1, Infinity);
    expectError(
      () => optim.clipGradNorm([t], 1, { errorIfNonfinite: true }),
      ArgumentError,
      'The total norm of order 2 for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`',
    );
    expect(Array.from(t.grad!.data)).toEqual([1, Infinity]);
    expectError(
      () => optim.clipGradNorm([withGrad(NaN, 1)], 1, { normType: Infinity, errorIfNonfinite: true }),
      ArgumentError,
      'The total norm of order Infinity for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`',
    );
  });
});
