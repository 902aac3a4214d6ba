// Default initialisation of the built-in layers against PyTorch's formulas (reset_parameters):
// - Conv*/Linear weight: kaiming_uniform_(a=√5) = U(±1/√fanIn), fanIn = in/groups * prod(kernel);
// - Conv*/Linear bias: U(±1/√fanIn);
// - LSTM: every parameter U(±1/√hidden);
// - Embedding: N(0, 1) with the padding row zero;
// - BatchNorm: weight 1, bias 0, running_mean 0, running_var 1, num_batches_tracked 0.
// A uniform U(±b) has standard deviation b/√3. Statistical tolerances: with n samples the sample std
// of a uniform has a relative standard error of about 0.45/√n (0.5/√n for the mean of a normal, 0.71/√n
// for its std), so each check allows more than 5 standard errors: ±3% of std for n >= 16,384, ±5%
// for n >= 4,096. Seeded (manualSeed), so the draws are fixed and the tests are not flaky.
import { beforeEach, describe, expect, it } from 'vitest';
import { Generator, Tensor, manualSeed } from '../../../lib/index.js';
import { BatchNorm2d, Conv1d, Conv2d, Conv3d, Embedding, LSTM, Linear } from '../../../lib/nn/layers/index.js';

function stats(t: Tensor): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  let s2 = 0;
  for (const v of t.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    s += v;
    s2 += v * v;
  }
  const n = t.size;
  const mean = s / n;
  return { min, max, mean, std: Math.sqrt(s2 / n - mean * mean) };
}

/** Checks U(±bound): inside the bounds, reaching near both ends, mean ~0 and std ~bound/√3. */
function expectUniform(t: Tensor, bound: number, stdTol: number, what: string): void {
  const s = stats(t);
  expect(s.min, `${what} min`).toBeGreaterThanOrEqual(-bound);
  expect(s.max, `${what} max`).toBeLessThanOrEqual(bound);
  expect(s.min, `${what} min reaches the bound`).toBeLessThan(-0.95 * bound);
  expect(s.max, `${what} max reaches the bound`).toBeGreaterThan(0.95 * bound);
  expect(Math.abs(s.mean), `${what} mean`).toBeLessThan((6 * bound) / Math.sqrt(3 * t.size));
  expect(Math.abs(s.std / (bound / Math.sqrt(3)) - 1), `${what} std`).toBeLessThan(stdTol);
}

beforeEach(() => {
  manualSeed(1234);
});

describe('default initialisation matches PyTorch', () => {
  it('Conv2d(64, 128, 3): weight and bias U(±1/√576)', () => {
    const conv = new Conv2d(64, 128, 3);
    expect(conv.weight.shape).toEqual([128, 64, 3, 3]);
    const bound = 1 / Math.sqrt(576);
    expectUniform(conv.weight, bound, 0.03, 'weight'); // 73,728 samples
    const b = stats(conv.bias!);
    expect(b.min).toBeGreaterThanOrEqual(-bound);
    expect(b.max).toBeLessThanOrEqual(bound);
    expect(b.std).toBeGreaterThan(0.5 * (bound / Math.sqrt(3))); // 128 samples: only a loose check
  });

  it('grouped Conv1d and Conv3d use fanIn = inChannels / groups * prod(kernel)', () => {
    const c1 = new Conv1d(64, 256, 5, { groups: 4 }); // fanIn 16 * 5 = 80
    expect(c1.weight.shape).toEqual([256, 16, 5]);
    expectUniform(c1.weight, 1 / Math.sqrt(80), 0.05, 'conv1d weight'); // 20,480 samples
    const c3 = new Conv3d(8, 32, [3, 3, 3]); // fanIn 216
    expect(c3.weight.shape).toEqual([32, 8, 3, 3, 3]);
    expectUniform(c3.weight, 1 / Math.sqrt(216), 0.05, 'conv3d weight'); // 6,912 samples
  });

  it('Linear(1000, 100): weight and bias U(±1/√1000)', () => {
    const fc = new Linear(1000, 100);
    expect(fc.weight.shape).toEqual([100, 1000]);
    expectUniform(fc.weight, 1 / Math.sqrt(1000), 0.03, 'weight'); // 100,000 samples
    const b = stats(fc.bias!);
    expect(Math.max(-b.min, b.max)).toBeLessThanOrEqual(1 / Math.sqrt(1000));
  });

  it('LSTM: every parameter U(±1/√hidden)', () => {
    const lstm = new LSTM(64, 128, { numLayers: 2 });
    const bound = 1 / Math.sqrt(128);
    const all = lstm.parameters();
    expect(all).toHaveLength(8);
    for (const [name, p] of lstm.namedParameters()) {
      const s = stats(p);
      expect(s.min, name).toBeGreaterThanOrEqual(-bound);
      expect(s.max, name).toBeLessThanOrEqual(bound);
    }
    expectUniform(lstm.namedParameters().find(([n]) => n === 'weight_hh_l1')![1], bound, 0.03, 'weight_hh_l1'); // 65,536
  });

  it('Embedding: N(0, 1) with the padding row zeroed', () => {
    const emb = new Embedding(1000, 32, { paddingIdx: -1 });
    expect(emb.paddingIdx).toBe(999);
    const s = stats(emb.weight);
    expect(Math.abs(s.mean)).toBeLessThan(0.03); // 32,000 samples: standard error 0.0056
    expect(Math.abs(s.std - 1)).toBeLessThan(0.03); // standard error 0.004
    expect([...emb.weight.data.subarray(999 * 32)].every((v) => v === 0)).toBe(true);
    expect([...emb.weight.data.subarray(998 * 32, 999 * 32)].some((v) => v !== 0)).toBe(true);
  });

  it('BatchNorm2d: ones, zeros and reset running statistics', () => {
    const bn = new BatchNorm2d(16);
    expect([...bn.weight!.data].every((v) => v === 1)).toBe(true);
    expect([...bn.bias!.data].every((v) => v === 0)).toBe(true);
    expect([...bn.runningMean!.data].every((v) => v === 0)).toBe(true);
    expect([...bn.runningVar!.data].every((v) => v === 1)).toBe(true);
    expect(bn.numBatchesTracked!.shape).toEqual([]);
    expect(bn.numBatchesTracked!.item()).toBe(0);
    bn.runningMean!.data.fill(3);
    bn.numBatchesTracked!.data[0] = 7;
    bn.resetRunningStats();
    expect(bn.runningMean!.data[0]).toBe(0);
    expect(bn.numBatchesTracked!.item()).toBe(0);
  });

  it('resetParameters draws from a given generator reproducibly, and parameters require grad', () => {
    const a = new Conv2d(3, 4, 3);
    const b = new Conv2d(3, 4, 3);
    expect(a.weight.data).not.toEqual(b.weight.data); // the default generator advanced
    a.resetParameters({ generator: new Generator(5) });
    b.resetParameters({ generator: new Generator(5) });
    expect(a.weight.data).toEqual(b.weight.data);
    expect(a.bias!.data).toEqual(b.bias!.data);
    expect(a.weight.requiresGrad && a.bias!.requiresGrad).toBe(true);
  });
});
