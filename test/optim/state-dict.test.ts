// Saving and resuming: an optimiser (and scheduler) restored mid-training from a state dict, even
// through JSON, continues exactly as the original does (bitwise: same arithmetic on the same
// float32 values); a restored state is a copy; mismatched state dicts are rejected with typed errors
// before anything changes.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError, Tensor, randn } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';
import { LAMBDAS, makeScheduler, type SchedulerSpec } from './helpers.js';

/** A small regression: loss = mean((x w + b - y)²) + 0.1 Σ extra², parameters in two groups. */
function problem(): { params: Tensor[]; loss: () => Tensor } {
  const x = randn([6, 3], { seed: 1 });
  const y = randn([6, 4], { seed: 2 });
  const w = randn([3, 4], { seed: 3 }).requiresGrad_();
  const b = randn([4], { seed: 4 }).requiresGrad_();
  const extra = randn([5], { seed: 5 }).requiresGrad_();
  const loss = (): Tensor => x.matmul(w).add(b).sub(y).pow(2).mean().add(extra.mul(extra).sum().mul(0.1));
  return { params: [w, b, extra], loss };
}

type Factory = (params: Tensor[]) => optim.Optimizer;
const groupsOf = (params: Tensor[], second: Record<string, unknown> = {}): never =>
  [{ params: [params[0]!, params[1]!] }, { params: [params[2]!], lr: 0.02, ...second }] as never;

const FACTORIES: Record<string, Factory> = {
  'SGD nesterov': (p) => new optim.SGD(groupsOf(p, { weightDecay: 0.1 }), { lr: 0.05, momentum: 0.9, nesterov: true }),
  'SGD dampening': (p) => new optim.SGD(groupsOf(p), { lr: 0.05, momentum: 0.8, dampening: 0.2 }),
  'Adam amsgrad': (p) => new optim.Adam(groupsOf(p, { amsgrad: false }), { lr: 0.01, amsgrad: true, weightDecay: 0.01 }),
  AdamW: (p) => new optim.AdamW(groupsOf(p), { lr: 0.01 }),
  'RMSprop centered momentum': (p) => new optim.RMSprop(groupsOf(p), { lr: 0.01, momentum: 0.5, centered: true }),
  'Adagrad lrDecay': (p) => new optim.Adagrad(groupsOf(p, { initialAccumulatorValue: 0.1 }), { lr: 0.1, lrDecay: 0.01 }),
};

function train(opt: optim.Optimizer, loss: () => Tensor, steps: number, sched?: optim.Scheduler): number[][] {
  const lrs: number[][] = [];
  for (let k = 0; k < steps; k++) {
    opt.zeroGrad();
    loss().backward();
    opt.step();
    if (sched instanceof optim.ReduceLROnPlateau) sched.step(10 / (1 + (k % 4)));
    else if (sched !== undefined) (sched as optim.LRScheduler | optim.SequentialLR).step();
    lrs.push(opt.paramGroups.map((g) => g.lr));
  }
  return lrs;
}

/** JSON round trip, Float32Array buffers written as arrays (as a checkpoint writer might). */
function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))) as T;
}

const snapshot = (params: Tensor[]): number[][] => params.map((p) => Array.from(p.data));

describe('optimizer stateDict / loadStateDict', () => {
  for (const [name, make] of Object.entries(FACTORIES)) {
    it(`${name}: a restored optimiser continues exactly as the original`, () => {
      const a = problem();
      const optA = make(a.params);
      train(optA, a.loss, 5);
      const saved = optA.stateDict();
      const frozenCopy = viaJson(saved);
      const at = snapshot(a.params);
      train(optA, a.loss, 6);
      // The saved dict is a copy: six more steps did not change it.
      expect(viaJson(saved)).toEqual(frozenCopy);

      const b = problem();
      b.params.forEach((p, i) => p.data.set(at[i]!));
      const optB = make(b.params);
      optB.loadStateDict(viaJson(saved));
      train(optB, b.loss, 6);
      expect(snapshot(b.params)).toEqual(snapshot(a.params));

      // Without the state (a fresh optimiser from the same point) the continuation differs, so the
      // comparison above does depend on the restored state.
      const c = problem();
      c.params.forEach((p, i) => p.data.set(at[i]!));
      train(make(c.params), c.loss, 6);
      expect(snapshot(c.params)).not.toEqual(snapshot(a.params));
    });
  }

  it('has PyTorch structure: state by parameter index, groups with options and indices', () => {
    const { params, loss } = problem();
    const opt = new optim.Adam(groupsOf(params), { lr: 0.01 });
    train(opt, loss, 2);
    const sd = opt.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1', '2']);
    expect(sd.state[0]!['step']).toBe(2);
    expect(sd.state[0]!['expAvg']).toBeInstanceOf(Float32Array);
    expect((sd.state[0]!['expAvg'] as Float32Array).length).toBe(12);
    expect(sd.paramGroups).toEqual([
      { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [0, 1] },
      { lr: 0.02, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, params: [2] },
    ]);
    // Loaded buffers are copies too: stepping after a load leaves the loaded dict alone.
    const other = new optim.Adam(groupsOf(params), { lr: 0.01 });
    other.loadStateDict(sd);
    const before = Array.from(sd.state[0]!['expAvg'] as Float32Array);
    train(other, loss, 1);
    expect(Array.from(sd.state[0]!['expAvg'] as Float32Array)).toEqual(before);
  });

  it('restores group options (a scheduler-written lr, initialLr)', () => {
    const { params } = problem();
    const opt = new optim.SGD(groupsOf(params), { lr: 0.1 });
    new optim.StepLR(opt, { stepSize: 1, gamma: 0.5 }).step();
    const sd = opt.stateDict();
    expect(sd.paramGroups.map((g) => [g.lr, g.initialLr])).toEqual([[0.05, 0.1], [0.01, 0.02]]);
    const fresh = new optim.SGD(groupsOf(params), { lr: 0.3 });
    fresh.loadStateDict(sd);
    expect(fresh.paramGroups.map((g) => [g.lr, g.initialLr, g.params.length])).toEqual([[0.05, 0.1, 2], [0.01, 0.02, 1]]);
  });

  describe('rejects a state dict that does not fit, changing nothing', () => {
    const setup = (): { opt: optim.Optimizer; sd: optim.OptimizerStateDict<optim.AdamGroupOptions> } => {
      const { params, loss } = problem();
      const opt = new optim.Adam(groupsOf(params), { lr: 0.01 });
      train(opt, loss, 1);
      return { opt, sd: opt.stateDict() as optim.OptimizerStateDict<optim.AdamGroupOptions> };
    };

    it('a different number of groups', () => {
      const { opt, sd } = setup();
      const before = viaJson(opt.stateDict());
      const bad = { ...sd, paramGroups: sd.paramGroups.slice(0, 1) };
      expect(() => opt.loadStateDict(bad)).toThrow(new ArgumentError('loaded state dict has 1 parameter group but the optimizer has 2'));
      expect(viaJson(opt.stateDict())).toEqual(before);
    });

    it('a group of a different size', () => {
      const { opt, sd } = setup();
      const bad = { ...sd, paramGroups: [{ ...sd.paramGroups[0]!, params: [0] }, { ...sd.paramGroups[1]!, params: [1, 2] }] };
      expect(() => opt.loadStateDict(bad)).toThrow(
        new ArgumentError(
          "loaded state dict contains a parameter group that doesn't match the size of optimizer's group: group 0 has 1 parameters in the state dict but 2 in the optimizer",
        ),
      );
    });

    it('a buffer of the wrong size (ShapeError)', () => {
      const { opt, sd } = setup();
      const before = viaJson(opt.stateDict());
      const bad = { ...sd, state: { ...sd.state, 1: { ...sd.state[1]!, expAvg: new Float32Array(5) } } };
      const err = (() => {
        try {
          opt.loadStateDict(bad);
        } catch (e) {
          return e;
        }
        return null;
      })();
      expect(err).toBeInstanceOf(ShapeError);
      expect((err as Error).message).toBe(
        "loaded state dict has state 'expAvg' of parameter 1 with 5 elements, but the parameter has shape [4] (4 elements)",
      );
      expect(viaJson(opt.stateDict())).toEqual(before);
    });

    it('state of an unknown key or parameter, a bad count, a bad option', () => {
      const { opt, sd } = setup();
      expect(() => opt.loadStateDict({ ...sd, state: { 0: { exp_avg: new Float32Array(12) } } })).toThrow(
        new ArgumentError("loaded state dict has unknown state 'exp_avg' for parameter 0; Adam keeps step, expAvg, expAvgSq, maxExpAvgSq"),
      );
      expect(() => opt.loadStateDict({ ...sd, state: { 7: { step: 1 } } })).toThrow(
        new ArgumentError('loaded state dict has state for parameter 7, which is in none of its parameter groups'),
      );
      expect(() => opt.loadStateDict({ ...sd, state: { 0: { step: 1.5 } } })).toThrow(
        new ArgumentError("Expected a non-negative integer for state 'step' of parameter 0 but received 1.5 of type number"),
      );
      const badLr = { ...sd, paramGroups: [{ ...sd.paramGroups[0]!, lr: -1 }, sd.paramGroups[1]!] };
      expect(() => opt.loadStateDict(badLr)).toThrow(new ArgumentError('Invalid learning rate: -1'));
    });
  });
});

describe('scheduler stateDict / loadStateDict', () => {
  const specs: SchedulerSpec[] = [
    { type: 'StepLR', options: { stepSize: 3, gamma: 0.5 } },
    { type: 'MultiStepLR', options: { milestones: [2, 9, 9], gamma: 0.5 } },
    { type: 'ExponentialLR', options: { gamma: 0.9 } },
    { type: 'CosineAnnealingLR', options: { tMax: 12, etaMin: 0.001 } },
    { type: 'LinearLR', options: { startFactor: 0.2, totalIters: 10 } },
    { type: 'LambdaLR', options: { lrLambda: 'poly' } },
    { type: 'OneCycleLR', options: { maxLr: 0.5, totalSteps: 20 } },
    { type: 'ReduceLROnPlateau', options: { patience: 1, factor: 0.5 } },
    {
      type: 'SequentialLR',
      options: {
        schedulers: [
          { type: 'LinearLR', options: { startFactor: 0.1, totalIters: 4 } },
          { type: 'CosineAnnealingLR', options: { tMax: 12 } },
        ],
        milestones: [4],
      },
    },
  ];
  for (const spec of specs) {
    it(`${spec.type}: restored mid-schedule, continues with the same lrs`, () => {
      const a = problem();
      const optA = new optim.SGD(groupsOf(a.params), { lr: 0.1, momentum: 0.9 });
      const schedA = makeScheduler(optA, spec);
      train(optA, a.loss, 7, schedA);
      const saved = { opt: viaJson(optA.stateDict()), sched: viaJson(schedA.stateDict()) };
      const at = snapshot(a.params);
      const lrsA = train(optA, a.loss, 9, schedA);
      const momentaA = optA.paramGroups.map((g) => (g as optim.ParamGroup<optim.SGDGroupOptions>).momentum);

      const b = problem();
      b.params.forEach((p, i) => p.data.set(at[i]!));
      const optB = new optim.SGD(groupsOf(b.params), { lr: 0.1, momentum: 0.9 });
      const schedB = makeScheduler(optB, spec);
      optB.loadStateDict(saved.opt);
      schedB.loadStateDict(saved.sched);
      expect(schedB.getLastLr()).toEqual(saved.sched['lastLr']);
      const lrsB = train(optB, b.loss, 9, schedB);
      expect(lrsB).toEqual(lrsA);
      expect(optB.paramGroups.map((g) => (g as optim.ParamGroup<optim.SGDGroupOptions>).momentum)).toEqual(momentaA);
      expect(snapshot(b.params)).toEqual(snapshot(a.params));
      expect(new Set(lrsA.flat()).size, 'the schedule should change the lr after the save').toBeGreaterThan(2);
    });
  }

  it('ReduceLROnPlateau: a best of ±Infinity survives JSON (null reads as the mode\'s worst)', () => {
    const { params } = problem();
    const opt = new optim.SGD(params, { lr: 0.1 });
    const sched = new optim.ReduceLROnPlateau(opt, { mode: 'max' });
    const sd = viaJson(sched.stateDict());
    expect(sd['best']).toBeNull();
    const other = new optim.ReduceLROnPlateau(opt, { mode: 'max' });
    other.best = 5;
    other.loadStateDict(sd);
    expect(other.best).toBe(-Infinity);
  });

  it('rejects a state dict for another number of groups or schedulers', () => {
    const { params } = problem();
    const opt = new optim.SGD(groupsOf(params), { lr: 0.1 });
    const step = new optim.StepLR(opt, { stepSize: 2 });
    const sd = step.stateDict();
    expect(() => step.loadStateDict({ ...sd, baseLrs: [0.1] })).toThrow(
      new ArgumentError('baseLrs in the state dict of StepLR has 1 values but the optimizer has 2 parameter groups'),
    );
    expect(() => step.loadStateDict({ ...sd, stepSize: 0 })).toThrow(
      new ArgumentError('Expected an integer >= 1 for stepSize in the state dict of StepLR but received 0 of type number'),
    );
    expect(step.lastEpoch).toBe(0);
    const seq = new optim.SequentialLR(opt, {
      schedulers: [new optim.LambdaLR(opt, { lrLambda: LAMBDAS['inverse']! }), new optim.ExponentialLR(opt, { gamma: 0.5 })],
      milestones: [3],
    });
    const seqSd = seq.stateDict();
    expect(() => seq.loadStateDict({ ...seqSd, schedulers: [] })).toThrow(
      new ArgumentError('schedulers in the state dict of SequentialLR must be an array of 2 state dicts, one per scheduler'),
    );
  });
});
