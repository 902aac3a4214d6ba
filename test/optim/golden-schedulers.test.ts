// Learning-rate schedulers against PyTorch (scripts/golden/optim.py): every scheduler's lr sequence
// for 30 steps on an optimiser with two groups (lr 0.1 and 0.01), OneCycleLR's momentum / beta1
// sequence, ReduceLROnPlateau on fixed metric sequences, SequentialLR chains, and the error
// OneCycleLR raises past totalSteps.
//
// Tolerance: relative 1e-12 (absolute 1e-18 near zero). Both sides compute in float64 with the same
// formulas in the same order (the recursive forms included), so they agree to the last bit or two;
// the only differences come from Math.cos / ** against glibc's cos / pow (≤ 1 ulp each).
import { describe, expect, it } from 'vitest';
import { ArgumentError, Tensor } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';
import { loadGolden } from '../helpers/golden.js';
import { makeScheduler, type SchedulerSpec } from './helpers.js';

const golden = loadGolden('optim');
const cases = golden.cases.filter((c) => c.op === 'scheduler');

interface SchedParams {
  scheduler: SchedulerSpec;
  optimizer: 'SGD' | 'Adam';
  lrs: number[][];
  lastLrs: number[][];
  momenta?: number[][];
  metrics?: number[];
  error?: string;
  steps: number;
}

function expectSeq(actual: number[], expected: number[], what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    if (!(Math.abs(a - e) <= 1e-18 + 1e-12 * Math.abs(e))) throw new Error(`${what}[${i}] is ${a}, expected ${e}`);
  });
}

function build(p: SchedParams): { opt: optim.Optimizer; sched: optim.Scheduler } {
  const params = [new Tensor(new Float32Array(2)).requiresGrad_(), new Tensor(new Float32Array(3)).requiresGrad_()];
  const groups = [
    { params: [params[0]!], lr: 0.1 },
    { params: [params[1]!], lr: 0.01 },
  ];
  const opt =
    p.optimizer === 'SGD'
      ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 })
      : new optim.Adam(groups, { lr: 0.1, betas: [0.9, 0.999] });
  return { opt, sched: makeScheduler(opt, p.scheduler) };
}

const momenta = (opt: optim.Optimizer): number[] =>
  opt.paramGroups.map((g) => {
    const r = g as unknown as { momentum?: number; betas?: [number, number] };
    return r.betas !== undefined ? r.betas[0] : (r.momentum as number);
  });

describe(`schedulers vs PyTorch ${golden.torch}`, () => {
  it('covers every scheduler', () => {
    const types = new Set(cases.map((c) => (c.params['scheduler'] as SchedulerSpec).type));
    expect([...types].sort()).toEqual([
      'CosineAnnealingLR', 'ExponentialLR', 'LambdaLR', 'LinearLR', 'MultiStepLR', 'OneCycleLR', 'ReduceLROnPlateau',
      'SequentialLR', 'StepLR',
    ]);
  });

  for (const c of cases) {
    it(`${c.name}: ${JSON.stringify(c.params['scheduler'])}`, () => {
      const p = c.params as unknown as SchedParams;
      const { opt, sched } = build(p);
      expectSeq(opt.paramGroups.map((g) => g.lr), p.lrs[0]!, `${c.name} lr after construction`);
      if (p.scheduler.type !== 'ReduceLROnPlateau') expectSeq(sched.getLastLr(), p.lastLrs[0]!, `${c.name} getLastLr after construction`);
      if (p.momenta) expectSeq(momenta(opt), p.momenta[0]!, `${c.name} momentum after construction`);
      for (let k = 0; k < p.steps; k++) {
        opt.step();
        if (sched instanceof optim.ReduceLROnPlateau) sched.step(p.metrics![k]!);
        else (sched as optim.LRScheduler | optim.SequentialLR).step();
        expectSeq(opt.paramGroups.map((g) => g.lr), p.lrs[k + 1]!, `${c.name} lr after step ${k + 1}`);
        const last = p.scheduler.type === 'ReduceLROnPlateau' ? p.lastLrs[k]! : p.lastLrs[k + 1]!;
        expectSeq(sched.getLastLr(), last, `${c.name} getLastLr after step ${k + 1}`);
        if (p.momenta) expectSeq(momenta(opt), p.momenta[k + 1]!, `${c.name} momentum after step ${k + 1}`);
      }
      if (p.error !== undefined) {
        opt.step();
        expect(() => (sched as optim.OneCycleLR).step()).toThrow(p.error);
        expect(() => (sched as optim.OneCycleLR).step()).toThrow(ArgumentError);
      }
    });
  }
});
