// Batch norm and local response norm: finite-difference gradients (training and evaluation,
// affine or not), the running-statistics update, gradients computed only where needed, and every
// error message by its exact text (the TypeScript checks and, behind them, the binding's own).
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, Generator, ShapeError, Tensor, gradcheck, noGrad, randn, tensor } from '../../lib/index.js';
import { callNative, type NativeAddon } from '../../lib/native.js';

describe('batchNorm', () => {
  it('training normalises with the batch statistics and updates the running ones (unbiased variance)', () => {
    // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased variance 1.25, unbiased 5/3); channel 1 holds 10 x 4.
    const x = tensor([[[1, 2], [10, 10]], [[3, 4], [10, 10]]]);
    const rm = tensor([1, 2]);
    const rv = tensor([2, 3]);
    const y = F.batchNorm(x, rm, rv, { training: true, momentum: 0.5, eps: 0 });
    const s = Math.sqrt(1.25);
    expect([...y.data].map((v) => Number(v.toFixed(5)))).toEqual(
      [-1.5 / s, -0.5 / s, NaN, NaN, 0.5 / s, 1.5 / s, NaN, NaN].map((v) => Number(v.toFixed(5))),
    );
    expect(rm.data[0]).toBeCloseTo(0.5 * 1 + 0.5 * 2.5, 6);
    expect(rm.data[1]).toBeCloseTo(0.5 * 2 + 0.5 * 10, 5);
    expect(rv.data[0]).toBeCloseTo(0.5 * 2 + 0.5 * (5 / 3), 6);
    expect(rv.data[1]).toBeCloseTo(0.5 * 3, 6);
  });

  it('evaluation uses the running statistics and leaves them alone', () => {
    const x = randn([3, 2, 4], { seed: 1 });
    const rm = tensor([0.5, -1]);
    const rv = tensor([4, 0.25]);
    const y = F.batchNorm(x, rm, rv, { weight: tensor([2, 3]), bias: tensor([1, -1]), eps: 0 });
    expect([...rm.data]).toEqual([0.5, -1]);
    expect(y.get(2, 1, 3)).toBeCloseTo(((x.get(2, 1, 3) + 1) / 0.5) * 3 - 1, 5);
    expect(y.get(0, 0, 0)).toBeCloseTo(((x.get(0, 0, 0) - 0.5) / 2) * 2 + 1, 5);
  });

  it('computes only the gradients that are needed', () => {
    const x = randn([4, 3, 5], { seed: 2 });
    const w = randn([3], { seed: 3 }).requiresGrad_();
    const b = randn([3], { seed: 4 });
    const y = F.batchNorm(x, null, null, { weight: w, bias: b, training: true });
    y.backward(randn([4, 3, 5], { seed: 5 }));
    expect(w.grad?.shape).toEqual([3]);
    expect(x.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(noGrad(() => F.batchNorm(x, null, null, { weight: w, training: true })).requiresGrad).toBe(false);
  });

  const g = new Generator(7);
  const cases: Array<[string, number[], boolean, boolean]> = [
    ['training, affine, [N, C, H, W]', [3, 2, 3, 4], true, true],
    ['training, plain, [N, C]', [6, 3], true, false],
    ['training, affine, [N, C, D, H, W]', [2, 2, 2, 3, 2], true, true],
    ['evaluation, affine, [N, C, L]', [3, 2, 5], false, true],
  ];
  for (const [name, shape, training, affine] of cases) {
    it(`gradients by finite differences: ${name}`, () => {
      const c = shape[1]!;
      const x = randn(shape, { generator: g }).requiresGrad_();
      const w = affine ? randn([c], { generator: g }).requiresGrad_() : null;
      const b = affine ? randn([c], { generator: g }).requiresGrad_() : null;
      const rm = randn([c], { generator: g });
      const rv = new Tensor(Float32Array.from({ length: c }, (_, i) => 0.5 + i), [c]);
      const inputs = [x, ...(affine ? [w!, b!] : [])];
      const fn = (xi: Tensor, wi?: Tensor, bi?: Tensor) =>
        F.batchNorm(xi, training ? null : rm, training ? null : rv, { weight: wi ?? null, bias: bi ?? null, training });
      const r = gradcheck(fn, inputs);
      expect(r.mismatches).toEqual([]);
      expect(r.ok).toBe(true);
    });
  }

  it('checks its arguments', () => {
    const x = randn([2, 3, 4], { seed: 6 });
    const c3 = randn([3], { seed: 7 });
    expect(() => F.batchNorm(randn([3], { seed: 1 }), null, null, { training: true })).toThrow(
      new ShapeError('batchNorm: expected an input of at least 2 dimensions [N, C, ...], received shape [3]'),
    );
    expect(() => F.batchNorm(x, randn([4], { seed: 1 }), c3)).toThrow(
      new ShapeError('batchNorm: runningMean has shape [4] but the input [2, 3, 4] has 3 channels'),
    );
    expect(() => F.batchNorm(x, c3, c3, { weight: randn([3, 1], { seed: 1 }) })).toThrow(
      'batchNorm: weight has shape [3, 1] but the input [2, 3, 4] has 3 channels',
    );
    expect(() => F.batchNorm(x, c3, null, { training: true })).toThrow(
      new ArgumentError('batchNorm: runningMean and runningVar must both be given or both be null'),
    );
    expect(() => F.batchNorm(x, null, null)).toThrow(
      new ArgumentError('batchNorm: runningMean and runningVar are required when training is false (evaluation mode)'),
    );
    expect(() => F.batchNorm(randn([1, 3], { seed: 1 }), null, null, { training: true })).toThrow(
      new ShapeError('batchNorm: expected more than 1 value per channel when training, got input of shape [1, 3]'),
    );
    expect(() => F.batchNorm(x, c3, c3, { eps: -1 })).toThrow('Expected a finite number >= 0 for eps of batchNorm but received -1 of type number');
    expect(() => F.batchNorm(x, c3, c3, { momentum: NaN })).toThrow('Expected a finite number for momentum of batchNorm but received NaN of type number');
    expect(() => F.batchNorm(x, c3, c3, { training: 1 as unknown as boolean })).toThrow(
      'Expected a boolean for training of batchNorm but received 1 of type number',
    );
    expect(() => F.batchNorm(x, c3, c3, { bias: [1, 2, 3] as unknown as Tensor })).toThrow(
      'Expected a Tensor or null for bias of batchNorm but received [1, 2, 3] of type array',
    );
  });

  it('the binding checks every length again', () => {
    type Raw = Record<string, (...args: unknown[]) => void>;
    const raw = (fn: (a: Raw) => void) => callNative((a: NativeAddon) => fn(a as unknown as Raw));
    const f = (n: number) => new Float32Array(n);
    expect(() => raw((a) => a['_batchNormForwardTrain']!(f(11), 2, 3, 2, null, null, null, null, 1e-5, 0.1, f(12), f(3), f(3)))).toThrow(
      new ShapeError('x: expected 12 elements, the array has 11'),
    );
    expect(() => raw((a) => a['_batchNormForwardTrain']!(f(12), 2, 3, 2, f(2), null, null, null, 1e-5, 0.1, f(12), f(3), f(3)))).toThrow(
      'weight: expected 3 elements, the array has 2',
    );
    expect(() => raw((a) => a['_batchNormForwardTrain']!(f(12), 2, 3, 2, null, null, f(3), null, 1e-5, 0.1, f(12), f(3), f(3)))).toThrow(
      new ArgumentError('batch_norm: running_mean and running_var must both be given or both be null'),
    );
    expect(() => raw((a) => a['_batchNormBackward']!(f(12), f(12), 2, 3, 2, null, f(3), f(3), true, f(13), null, null))).toThrow(
      'gx: expected 12 elements, the array has 13',
    );
    expect(() => raw((a) => a['_lrnForward']!(f(12), 2, 3, 2, 0, 1, 0.75, 1, f(12)))).toThrow(
      'Expected integer in 1..1073741824 for size but received 0',
    );
  });
});

describe('localResponseNorm', () => {
  it('uses PyTorch asymmetric window for even sizes', () => {
    // size 2: the window of channel c is [c - 1, c] (size // 2 = 1 before, (size - 1) // 2 = 0 after).
    const x = tensor([[[1], [2], [3]]]);
    const y = F.localResponseNorm(x, 2, { alpha: 2, beta: 1, k: 1 });
    expect([...y.data]).toEqual([1 / (1 + 1), 2 / (1 + 5), 3 / (1 + 13)].map((v) => Math.fround(v)));
  });

  const g = new Generator(8);
  const cases: Array<[string, number[], number, number, number, number]> = [
    ['size 5, beta 0.75', [2, 6, 3, 2], 5, 1.0, 0.75, 1],
    ['size 4 (even), beta 0.75', [1, 5, 2, 3], 4, 2.0, 0.75, 1],
    ['size 3, general beta, 3-D input', [2, 4, 5], 3, 0.5, 0.6, 2],
    ['size 2, beta 1, 5-D input', [1, 3, 2, 2, 2], 2, 1.5, 1, 1],
  ];
  for (const [name, shape, size, alpha, beta, k] of cases) {
    it(`gradient by finite differences: ${name}`, () => {
      const x = randn(shape, { generator: g }).requiresGrad_();
      const r = gradcheck((xi) => F.localResponseNorm(xi, size, { alpha, beta, k }), [x]);
      expect(r.mismatches).toEqual([]);
      expect(r.ok).toBe(true);
    });
  }

  it('checks its arguments', () => {
    const x = randn([2, 3, 4], { seed: 1 });
    expect(() => F.localResponseNorm(randn([2, 3], { seed: 1 }), 2)).toThrow(
      new ShapeError('localResponseNorm: expected an input of at least 3 dimensions [N, C, ...], received shape [2, 3]'),
    );
    expect(() => F.localResponseNorm(x, 0)).toThrow('Expected a positive integer for size of localResponseNorm but received 0 of type number');
    expect(() => F.localResponseNorm(x, 2, { beta: Infinity })).toThrow(
      'Expected a finite number for beta of localResponseNorm but received Infinity of type number',
    );
    expect(() => F.localResponseNorm(x, 2, null as unknown as object)).toThrow(
      'Expected an object such as { alpha: 1e-4, beta: 0.75, k: 1 } for the options of localResponseNorm but received null',
    );
  });
});
