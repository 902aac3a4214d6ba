// Dropout: statistics of the mask, the inverted scale, determinism from seeds and generators, the
// identity cases, p = 1, the backward through the same mask, channel dropout, and the errors.
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, Generator, ShapeError, Tensor, ones, randn, sum, tensor } from '../../lib/index.js';

const N = 100_000;

/** Fraction of nonzero elements. */
function keptFraction(t: Tensor): number {
  let kept = 0;
  for (const v of t.data) if (v !== 0) kept++;
  return kept / t.size;
}

describe('dropout', () => {
  it('keeps a fraction 1 - p of 100k elements, scaled by 1 / (1 - p)', () => {
    // The kept count is Binomial(n, 1 - p): its standard deviation is sqrt(p (1 - p) / n) <= 0.0016
    // of n, so 0.008 (5 standard deviations) is a safe tolerance for a fixed seed.
    for (const p of [0.1, 0.5, 0.8]) {
      const y = F.dropout(ones([N]), { p, seed: 42 });
      expect(Math.abs(keptFraction(y) - (1 - p))).toBeLessThan(0.008);
      const scale = Math.fround(1 / Math.fround(1 - p));
      expect(y.data.every((v) => v === 0 || v === scale)).toBe(true);
      // Inverted dropout keeps the expectation: mean(y) ~ 1.
      expect(Math.abs(sum(y).item() / N - 1)).toBeLessThan(0.04);
    }
  });

  it('is deterministic for a seed, and advances a generator', () => {
    const x = randn([1000], { seed: 1 });
    const a = F.dropout(x, { seed: 7 });
    const b = F.dropout(x, { seed: 7 });
    expect([...a.data]).toEqual([...b.data]);
    expect([...F.dropout(x, { seed: 8 }).data]).not.toEqual([...a.data]);
    const g = new Generator(7);
    expect([...F.dropout(x, { generator: g }).data]).toEqual([...a.data]);
    const state = g.getState();
    const second = F.dropout(x, { generator: g });
    expect([...second.data]).not.toEqual([...a.data]); // the generator moved on
    g.setState(state);
    expect([...F.dropout(x, { generator: g }).data]).toEqual([...second.data]);
  });

  it('is the identity when not training or p = 0, and x * 0 when p = 1', () => {
    const x = tensor([1, NaN, -2]);
    expect(F.dropout(x, { training: false })).toBe(x);
    expect(F.dropout(x, { p: 0 })).toBe(x);
    const y = F.dropout(x, { p: 1 });
    expect(y.data[0]).toBe(0);
    expect(Number.isNaN(y.data[1])).toBe(true); // NaN * 0, as PyTorch
    expect(Object.is(y.data[2], -0)).toBe(true);
  });

  it('backpropagates through the same mask', () => {
    const x = randn([5000], { seed: 2 }).requiresGrad_();
    const y = F.dropout(x, { p: 0.3, seed: 3 });
    const gy = randn([5000], { seed: 4 });
    y.backward(gy);
    const scale = Math.fround(1 / Math.fround(0.7));
    for (let i = 0; i < 5000; i++) {
      const kept = y.data[i] !== 0;
      expect((x.grad!.data[i] as number) + 0).toBe(kept ? Math.fround((gy.data[i] as number) * scale) : 0); // -0 counts as 0
    }
    const z = F.dropout(x, { p: 1 });
    x.grad = null;
    sum(z).backward();
    expect([...x.grad!.data].every((v) => v === 0)).toBe(true);
  });

  it('validates its options', () => {
    const x = tensor([1, 2]);
    expect(() => F.dropout(x, { p: 1.5 })).toThrow(ArgumentError);
    expect(() => F.dropout(x, { p: 1.5 })).toThrow('Expected a probability in [0, 1] for p of dropout() but received 1.5 of type number');
    expect(() => F.dropout(x, { p: -0.1 })).toThrow('Expected a probability in [0, 1] for p of dropout() but received -0.1 of type number');
    expect(() => F.dropout(x, { training: 'yes' as never })).toThrow(
      "Expected a boolean for training of dropout() but received 'yes' of type string",
    );
    expect(() => F.dropout(x, { seed: 1, generator: new Generator(1) })).toThrow('dropout: pass either generator or seed, not both');
    expect(() => F.dropout(x, { inplace: true } as never)).toThrow(
      "dropout: unknown option 'inplace' (expected p, training, generator, seed)",
    );
    expect(() => F.dropout(x, { generator: {} as never })).toThrow(
      'Expected a Generator for the generator of dropout() but received an object of type Object',
    );
  });
});

describe('dropout2d', () => {
  it('zeroes whole channels, about a fraction p of them', () => {
    const x = ones([50, 40, 3, 5]); // 2000 channels of 15 elements
    const y = F.dropout2d(x, { p: 0.5, seed: 9 });
    let kept = 0;
    for (let c = 0; c < 2000; c++) {
      const plane = y.data.subarray(c * 15, c * 15 + 15);
      const first = plane[0] as number;
      expect(plane.every((v) => v === first)).toBe(true);
      expect(first === 0 || first === 2).toBe(true);
      if (first !== 0) kept++;
    }
    // Binomial(2000, 0.5): standard deviation 0.011 of the count; 0.06 is over 5 deviations.
    expect(Math.abs(kept / 2000 - 0.5)).toBeLessThan(0.06);
  });

  it('takes [C, H, W] input, backpropagates through the mask and rejects other ranks', () => {
    const x = randn([6, 2, 2], { seed: 10 }).requiresGrad_();
    const y = F.dropout2d(x, { p: 0.5, seed: 11 });
    sum(y).backward();
    for (let c = 0; c < 6; c++) {
      const kept = y.data[c * 4] !== 0 || x.data[c * 4] === 0;
      for (let i = 0; i < 4; i++) expect(x.grad!.data[c * 4 + i]).toBe(kept ? 2 : 0);
    }
    expect(() => F.dropout2d(randn([2, 3], { seed: 12 }))).toThrow(ShapeError);
    expect(() => F.dropout2d(randn([2, 3], { seed: 12 }))).toThrow(
      'dropout2d: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape [2, 3]',
    );
    expect(F.dropout2d(new Tensor(new Float32Array(0), [2, 3, 0, 4]), { p: 0.5 }).shape).toEqual([2, 3, 0, 4]);
  });
});
