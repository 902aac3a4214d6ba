// Behaviour of the optimiser base and of individual optimisers beyond the PyTorch trajectories:
// zeroGrad, frozen parameters and missing gradients (no update, no state), parameter groups and
// defaults, addParamGroup, lr changes between steps, the closure, options switched on mid-training,
// and training a small model with convkit's autograd until the loss falls.
import { describe, expect, it } from 'vitest';
import * as root from '../../lib/index.js';
import { Tensor, randn, tensor, zeros } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';

const grad = (t: Tensor, ...values: number[]): Tensor => {
  t.grad = new Tensor(Float32Array.from(values), t.shape);
  return t;
};

describe('Optimizer basics', () => {
  it('is exported from the package root as optim', () => {
    expect((root as unknown as { optim: typeof optim }).optim.SGD).toBe(optim.SGD);
    expect((root as unknown as { optim: typeof optim }).optim.clipGradNorm).toBe(optim.clipGradNorm);
  });

  it('SGD: θ ← θ - lr g, in place on the parameter\'s own buffer', () => {
    const p = tensor([1, 2, 3], { requiresGrad: true });
    const buffer = p.data;
    const opt = new optim.SGD([p], { lr: 0.5 });
    grad(p, 1, -2, 0.25);
    opt.step();
    expect(p.data).toBe(buffer);
    expect(Array.from(p.data)).toEqual([0.5, 3, 2.875]);
  });

  it('zeroGrad sets gradients to null by default, or zeroes them in place', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    grad(p, 3, 4);
    opt.zeroGrad();
    expect(p.grad).toBeNull();
    grad(p, 3, 4);
    const g = p.grad!;
    opt.zeroGrad({ setToNone: false });
    expect(p.grad).toBe(g);
    expect(Array.from(g.data)).toEqual([0, 0]);
  });

  it('a zero gradient still steps (momentum, weight decay); a null one does not', () => {
    const a = tensor([1], { requiresGrad: true });
    const b = tensor([1], { requiresGrad: true });
    const opt = new optim.SGD([a, b], { lr: 0.1, weightDecay: 0.5 });
    grad(a, 0);
    opt.step();
    expect(a.data[0]).toBeCloseTo(0.95, 7);
    expect(b.data[0]).toBe(1);
    expect(opt.state.has(a)).toBe(true);
    expect(opt.state.has(b)).toBe(false);
  });

  it('frozen parameters are not updated and get no state, even with a gradient; unfreezing resumes them', () => {
    const backbone = tensor([1, 2], { requiresGrad: true });
    const head = tensor([3], { requiresGrad: true });
    const opt = new optim.Adam([backbone, head], { lr: 0.1 });
    backbone.requiresGrad = false;
    for (let k = 0; k < 3; k++) {
      grad(backbone, 1, 1);
      grad(head, 1);
      opt.step();
    }
    expect(Array.from(backbone.data)).toEqual([1, 2]);
    expect(opt.state.has(backbone)).toBe(false);
    expect(opt.state.get(head)?.['step']).toBe(3);
    expect(Object.keys(opt.stateDict().state)).toEqual(['1']);
    backbone.requiresGrad = true;
    opt.step();
    expect(backbone.data[0]).toBeLessThan(1);
    expect(opt.state.get(backbone)?.['step']).toBe(1);
  });

  it('fills each group\'s missing options from the defaults; groups are independent objects', () => {
    const a = zeros([2]).requiresGrad_();
    const b = zeros([3]).requiresGrad_();
    const opt = new optim.Adam([{ params: [a], lr: 1e-4 }, { params: new Set([b]), weightDecay: 0.1 }], { lr: 1e-3, betas: [0.8, 0.9] });
    expect(opt.paramGroups.map((g) => [g.lr, g.weightDecay, g.betas, g.amsgrad])).toEqual([
      [1e-4, 0, [0.8, 0.9], false],
      [1e-3, 0.1, [0.8, 0.9], false],
    ]);
    expect(opt.paramGroups[0]!.betas).not.toBe(opt.paramGroups[1]!.betas);
    expect(opt.paramGroups[1]!.params).toEqual([b]);
    expect(Object.isFrozen(opt.defaults)).toBe(true);
    expect(opt.defaults).toEqual({ lr: 1e-3, betas: [0.8, 0.9], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
  });

  it('addParamGroup: a new group (e.g. layers unfrozen for fine-tuning) uses its own lr', () => {
    const head = tensor([1], { requiresGrad: true });
    const opt = new optim.SGD([head], { lr: 0.1, momentum: 0.9 });
    const backbone = tensor([1, 1], { requiresGrad: true });
    opt.addParamGroup({ params: backbone, lr: 0.01 });
    expect(opt.paramGroups[1]!.momentum).toBe(0.9);
    grad(head, 1);
    grad(backbone, 1, 2);
    opt.step();
    expect(head.data[0]).toBeCloseTo(0.9, 7);
    expect(Array.from(backbone.data).map((v) => Number(v.toFixed(6)))).toEqual([0.99, 0.98]);
  });

  it('reads group options at every step (a scheduler writing lr)', () => {
    const p = tensor([0], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 1 });
    grad(p, 1);
    opt.step();
    opt.paramGroups[0]!.lr = 0.5;
    opt.step();
    expect(p.data[0]).toBe(-1.5);
  });

  it('runs the closure with gradient recording on and returns its result', () => {
    const p = tensor([2], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.25 });
    const loss = root.noGrad(() =>
      opt.step(() => {
        opt.zeroGrad();
        const l = p.mul(p).sum();
        l.backward();
        return l.item();
      }),
    );
    expect(loss).toBe(4);
    expect(p.data[0]).toBe(1);
    expect(opt.step()).toBeUndefined();
  });

  it('Adam: amsgrad switched on mid-training creates its buffer then', () => {
    const p = tensor([1, -1], { requiresGrad: true });
    const opt = new optim.Adam([p], { lr: 0.1 });
    grad(p, 1, 1);
    opt.step();
    expect(opt.state.get(p)!['maxExpAvgSq']).toBeUndefined();
    opt.paramGroups[0]!.amsgrad = true;
    opt.step();
    expect(Array.from(opt.state.get(p)!['maxExpAvgSq'] as Float32Array)).toEqual(Array.from(opt.state.get(p)!['expAvgSq'] as Float32Array));
  });

  it('Adagrad: state is created at the first update, from initialAccumulatorValue', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new optim.Adagrad([p], { initialAccumulatorValue: 0.5 });
    expect(opt.state.size).toBe(0);
    grad(p, 1, 2);
    opt.step();
    expect(Array.from(opt.state.get(p)!['sum'] as Float32Array)).toEqual([1.5, 4.5]);
  });

  it('SGD without momentum keeps an empty state object (PyTorch: momentum_buffer None)', () => {
    const p = tensor([1], { requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    grad(p, 1);
    opt.step();
    expect(opt.stateDict().state).toEqual({ 0: {} });
  });
});

describe('training a small model with autograd', () => {
  const make: Record<string, (ps: Tensor[]) => optim.Optimizer> = {
    SGD: (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9 }),
    Adam: (ps) => new optim.Adam(ps, { lr: 0.05 }),
    AdamW: (ps) => new optim.AdamW(ps, { lr: 0.05 }),
    RMSprop: (ps) => new optim.RMSprop(ps, { lr: 0.01 }),
    Adagrad: (ps) => new optim.Adagrad(ps, { lr: 0.3 }),
  };
  for (const [name, build] of Object.entries(make)) {
    it(`${name} fits a linear regression (loss falls by 10x in 150 steps)`, () => {
      const x = randn([32, 4], { seed: 11 });
      const trueW = randn([4, 2], { seed: 12 });
      const y = x.matmul(trueW);
      const w = zeros([4, 2]).requiresGrad_();
      const b = zeros([2]).requiresGrad_();
      const opt = build([w, b]);
      const lossOf = (): Tensor => x.matmul(w).add(b).sub(y).pow(2).mean();
      const first = lossOf().item();
      for (let k = 0; k < 150; k++) {
        opt.zeroGrad();
        const loss = lossOf();
        loss.backward();
        optim.clipGradNorm([w, b], 10);
        opt.step();
      }
      expect(lossOf().item()).toBeLessThan(first / 10);
    });
  }
});

describe('schedulers on an optimiser', () => {
  it('construction records initialLr (first scheduler wins) and applies the epoch-0 lr', () => {
    const opt = new optim.SGD([{ params: [zeros([1]).requiresGrad_()] }, { params: [zeros([1]).requiresGrad_()], lr: 0.01 }], { lr: 0.1 });
    const warm = new optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
    expect(opt.paramGroups.map((g) => [g.initialLr, g.lr])).toEqual([[0.1, 0.05], [0.01, 0.005]]);
    expect(warm.getLastLr()).toEqual([0.05, 0.005]);
    expect(warm.baseLrs).toEqual([0.1, 0.01]);
    warm.step();
    warm.step();
    expect(warm.getLastLr().map((v) => Number(v.toPrecision(12)))).toEqual([0.1, 0.01]);
    const later = new optim.StepLR(opt, { stepSize: 1 });
    expect(later.baseLrs).toEqual([0.1, 0.01]);
  });

  it('getLastLr returns a copy', () => {
    const opt = new optim.SGD([zeros([1]).requiresGrad_()], { lr: 0.1 });
    const sched = new optim.ExponentialLR(opt, { gamma: 0.5 });
    sched.getLastLr()[0] = 7;
    expect(sched.getLastLr()).toEqual([0.1]);
  });

  it('ReduceLROnPlateau accepts a one-element tensor as the metric', () => {
    const opt = new optim.SGD([zeros([1]).requiresGrad_()], { lr: 0.1 });
    const sched = new optim.ReduceLROnPlateau(opt, { patience: 0 });
    sched.step(tensor(1));
    sched.step(tensor([2]));
    expect(sched.getLastLr()[0]).toBeCloseTo(0.01, 12);
  });
});
