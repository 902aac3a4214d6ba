// Pooling: shapes (batched, unbatched, Inception's same-padded 3x3/1 branch), finite-difference
// gradients, recording only when a gradient is needed, and every error message by its exact text
// (the TypeScript checks and, behind them, the binding's own checks).
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, Generator, ShapeError, Tensor, gradcheck, noGrad, randn, tensor } from '../../lib/index.js';
import { callNative, type NativeAddon } from '../../lib/native.js';

/** Distinct values 0.1 apart in random order: no ties within a finite-difference step of 1e-2. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Array.from({ length: n }, (_, i) => i * 0.1 - n * 0.05);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [v[i], v[j]] = [v[j]!, v[i]!];
  }
  return new Tensor(Float32Array.from(v), shape);
}

describe('pooling shapes', () => {
  it('same-padded 3x3 stride-1 max pooling keeps the spatial size (Inception branch)', () => {
    const x = randn([2, 4, 7, 9], { seed: 1 });
    const y = F.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 });
    expect(y.shape).toEqual([2, 4, 7, 9]);
    // Every output is the max of its clipped 3x3 neighbourhood: check one corner and one interior point.
    const at = (c: number, h: number, w: number) => x.get(1, c, h, w);
    expect(y.get(1, 2, 0, 0)).toBe(Math.max(at(2, 0, 0), at(2, 0, 1), at(2, 1, 0), at(2, 1, 1)));
    let m = -Infinity;
    for (let dh = -1; dh <= 1; dh++) for (let dw = -1; dw <= 1; dw++) m = Math.max(m, at(3, 4 + dh, 5 + dw));
    expect(y.get(1, 3, 4, 5)).toBe(m);
  });

  it('output sizes follow PyTorch, including ceil mode and the last-window rule', () => {
    const x = randn([1, 2, 7, 9], { seed: 2 });
    expect(F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }).shape).toEqual([1, 2, 4, 5]);
    expect(F.maxPool2d(x, { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }).shape).toEqual([1, 2, 4, 5]);
    expect(F.maxPool2d(x, { kernelSize: 2 }).shape).toEqual([1, 2, 3, 4]);
    expect(F.avgPool2d(x, { kernelSize: 2, ceilMode: true }).shape).toEqual([1, 2, 4, 5]);
    expect(F.maxPool1d(randn([3, 10], { seed: 3 }), { kernelSize: 4, stride: 3, padding: 2 }).shape).toEqual([3, 4]);
    expect(F.avgPool3d(randn([2, 5, 7, 6], { seed: 4 }), { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }).shape).toEqual([2, 3, 4, 4]);
    expect(F.adaptiveAvgPool2d(x, [3, null]).shape).toEqual([1, 2, 3, 9]);
    expect(F.globalAvgPool2d(x).shape).toEqual([1, 2, 1, 1]);
    expect(F.globalMaxPool2d(randn([2, 7, 9], { seed: 5 })).shape).toEqual([2, 1, 1]);
  });

  it('global pooling is the mean / max of each plane, with gradients', () => {
    const x = tensor([[[[1, 2], [3, 10]], [[-1, -2], [-3, -4]]]]).requiresGrad_();
    const avg = F.globalAvgPool2d(x);
    const max = F.globalMaxPool2d(x);
    expect([...avg.data]).toEqual([4, -2.5]);
    expect([...max.data]).toEqual([10, -1]);
    max.backward(tensor([[[[1]], [[2]]]]));
    expect([...x.grad!.data]).toEqual([0, 0, 0, 1, 2, 0, 0, 0]);
  });

  it('returnIndices gives the argmax in each input plane, as a float32 tensor', () => {
    const x = tensor([[[1, 5, 5, 2, 9, 9, 9]]]);
    const [y, idx] = F.maxPool1d(x, { kernelSize: 3, stride: 2, ceilMode: true, returnIndices: true });
    expect([...y.data]).toEqual([5, 9, 9]);
    expect([...idx.data]).toEqual([1, 4, 4]); // ties: the first maximum
    expect(idx.shape).toEqual([1, 1, 3]);
  });

  it('records only when the input needs a gradient', () => {
    const x = randn([1, 2, 5, 5], { seed: 6 });
    expect(F.maxPool2d(x, { kernelSize: 2 }).requiresGrad).toBe(false);
    x.requiresGrad_();
    expect(F.maxPool2d(x, { kernelSize: 2 }).gradFn?.name).toBe('maxPool2d');
    expect(noGrad(() => F.avgPool2d(x, { kernelSize: 2 })).requiresGrad).toBe(false);
  });
});

describe('pooling gradients by finite differences', () => {
  const g = new Generator(9);
  const cases: Array<[string, (x: Tensor) => Tensor, number[], boolean]> = [
    ['maxPool2d 3x3/2 padding 1 ceil', (x) => F.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [2, 2, 7, 9], true],
    ['maxPool2d same 3x3/1', (x) => F.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }), [1, 2, 5, 6], true],
    ['maxPool1d dilation 2', (x) => F.maxPool1d(x, { kernelSize: 3, stride: 2, padding: 1, dilation: 2 }), [2, 2, 11], true],
    ['maxPool3d', (x) => F.maxPool3d(x, { kernelSize: [2, 3, 2], stride: [1, 2, 2], padding: 1 }), [1, 2, 4, 5, 6], true],
    ['avgPool2d ceil, padding excluded', (x) => F.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [2, 2, 7, 9], false],
    ['avgPool1d divisorOverride', (x) => F.avgPool1d(x, { kernelSize: 4, stride: 3, padding: 2, divisorOverride: 3 }), [2, 2, 11], false],
    ['avgPool3d', (x) => F.avgPool3d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }), [1, 2, 5, 7, 6], false],
    ['adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, [3, 4]), [2, 2, 7, 9], false],
    ['adaptiveAvgPool1d', (x) => F.adaptiveAvgPool1d(x, 4), [2, 2, 11], false],
    ['adaptiveAvgPool3d', (x) => F.adaptiveAvgPool3d(x, [2, 3, 4]), [1, 2, 5, 7, 6], false],
    ['adaptiveMaxPool2d', (x) => F.adaptiveMaxPool2d(x, [3, 4]), [2, 2, 7, 9], true],
    ['globalMaxPool2d', (x) => F.globalMaxPool2d(x), [2, 3, 4, 5], true],
  ];
  cases.forEach(([name, fn, shape, needsDistinct], i) => {
    it(name, () => {
      const x = (needsDistinct ? distinct(shape, 100 + i) : randn(shape, { generator: g })).requiresGrad_();
      const r = gradcheck(fn, [x]);
      expect(r.mismatches).toEqual([]);
      expect(r.ok).toBe(true);
    });
  });
});

describe('pooling errors', () => {
  const x = randn([1, 2, 7, 9], { seed: 7 });

  it('checks the input', () => {
    expect(() => F.maxPool2d(randn([5, 5], { seed: 1 }), { kernelSize: 2 })).toThrow(ShapeError);
    expect(() => F.maxPool2d(randn([5, 5], { seed: 1 }), { kernelSize: 2 })).toThrow(
      'maxPool2d: expected a 3-d [C, H, W] or 4-d [N, C, H, W] input, received shape [5, 5]',
    );
    expect(() => F.avgPool1d(randn([2, 3, 4, 5], { seed: 1 }), { kernelSize: 2 })).toThrow(
      'avgPool1d: expected a 2-d [C, L] or 3-d [N, C, L] input, received shape [2, 3, 4, 5]',
    );
    expect(() => F.maxPool3d(randn([1, 2, 0, 3, 3], { seed: 1 }), { kernelSize: 1 })).toThrow(
      'maxPool3d: the spatial size must be at least 1 along every axis, received shape [1, 2, 0, 3, 3]',
    );
    expect(() => F.maxPool2d([1, 2] as unknown as Tensor, { kernelSize: 2 })).toThrow(
      'Expected a Tensor for the input of maxPool2d but received [1, 2] of type array',
    );
  });

  it('checks the options', () => {
    expect(() => F.maxPool2d(x, 3 as unknown as { kernelSize: number })).toThrow(
      'Expected an object such as { kernelSize: 2 } for the options of maxPool2d but received 3 of type number',
    );
    expect(() => F.maxPool2d(x, {} as { kernelSize: number })).toThrow(
      'Expected an integer >= 1 or an array of 2 such integers for kernelSize of maxPool2d but received undefined',
    );
    expect(() => F.maxPool2d(x, { kernelSize: [2, 2, 2] })).toThrow(
      'Expected an integer >= 1 or an array of 2 such integers for kernelSize of maxPool2d but received [2, 2, 2] of type array',
    );
    expect(() => F.maxPool2d(x, { kernelSize: 2, stride: 0 })).toThrow(
      'Expected an integer >= 1 or an array of 2 such integers for stride of maxPool2d but received 0 of type number',
    );
    expect(() => F.maxPool2d(x, { kernelSize: 2, padding: -1 })).toThrow(
      'Expected an integer >= 0 or an array of 2 such integers for padding of maxPool2d but received -1 of type number',
    );
    expect(() => F.maxPool2d(x, { kernelSize: 2, dilation: 1.5 })).toThrow(
      'Expected an integer >= 1 or an array of 2 such integers for dilation of maxPool2d but received 1.5 of type number',
    );
    expect(() => F.maxPool2d(x, { kernelSize: 2, ceilMode: 1 as unknown as boolean })).toThrow(
      'Expected a boolean for ceilMode of maxPool2d but received 1 of type number',
    );
    expect(() => F.avgPool2d(x, { kernelSize: 2, divisorOverride: 0 })).toThrow(
      'Expected a positive integer or null for divisorOverride of avgPool2d but received 0 of type number',
    );
    expect(() => F.avgPool2d(x, { kernelSize: 2, countIncludePad: 'yes' as unknown as boolean })).toThrow(
      "Expected a boolean for countIncludePad of avgPool2d but received 'yes' of type string",
    );
    expect(() => F.adaptiveAvgPool2d(x, [3])).toThrow(
      'Expected a positive integer or an array of 2 positive integers or nulls for outputSize of adaptiveAvgPool2d but received [3] of type array',
    );
    expect(() => F.adaptiveMaxPool1d(randn([2, 5], { seed: 1 }), 0)).toThrow(ArgumentError);
  });

  it('checks the geometry as PyTorch does', () => {
    expect(() => F.maxPool2d(x, { kernelSize: 3, padding: 2 })).toThrow(ArgumentError);
    expect(() => F.maxPool2d(x, { kernelSize: 3, padding: 2 })).toThrow(
      'maxPool2d: padding should be at most half of kernel size, but got padding=[2, 2] and kernelSize=[3, 3]',
    );
    expect(() => F.avgPool1d(randn([1, 7], { seed: 1 }), { kernelSize: 3, padding: 2 })).toThrow(
      'avgPool1d: padding should be at most half of kernel size, but got padding=2 and kernelSize=3',
    );
    expect(() => F.maxPool2d(randn([1, 1, 2, 2], { seed: 1 }), { kernelSize: 5 })).toThrow(ShapeError);
    expect(() => F.maxPool2d(randn([1, 1, 2, 2], { seed: 1 }), { kernelSize: 5 })).toThrow(
      'maxPool2d: input size [2, 2] is too small: kernelSize=[5, 5], stride=[5, 5], padding=[0, 0], dilation=[1, 1] give output size [0, 0]',
    );
    // PyTorch returns -inf with an index outside the input here; convkit refuses the geometry.
    expect(() => F.maxPool1d(randn([1, 1, 2], { seed: 1 }), { kernelSize: 2, stride: 1, padding: 1, dilation: 3 })).toThrow(
      'maxPool1d: with dilation=3 and padding=1, a window on an input of size [2] holds only padding',
    );
  });

  it('the binding checks everything again', () => {
    const geometry = { planes: 1, in: [1, 1, 4], kernel: [1, 1, 2], stride: [1, 1, 2], padding: [0, 0, 0], dilation: [1, 1, 1], ceilMode: false };
    type Raw = Record<string, (...args: unknown[]) => void>;
    const raw = (fn: (a: Raw) => void) => callNative((a: NativeAddon) => fn(a as unknown as Raw));
    expect(() => raw((a) => a['_maxPoolForward']!(new Float32Array(3), geometry, new Float32Array(2), null))).toThrow(
      new ShapeError('x: expected 4 elements, the array has 3'),
    );
    expect(() => raw((a) => a['_maxPoolForward']!(new Float32Array(4), geometry, new Float32Array(2), new Int32Array(1)))).toThrow(
      'indices: expected 2 elements, the array has 1',
    );
    expect(() => raw((a) => a['_maxPoolForward']!(new Float32Array(4), { ...geometry, kernel: [1, 1] }, new Float32Array(2), null))).toThrow(
      'Expected an array of 3 integers for geometry.kernel',
    );
    expect(() => raw((a) => a['_maxPoolForward']!(new Float32Array(4), { ...geometry, padding: [0, 0, 2] }, new Float32Array(2), null))).toThrow(
      new ArgumentError('max_pool: padding should be at most half of kernel size, but got padding=2 and kernel_size=2 along width'),
    );
    expect(() => raw((a) => a['_indexPoolBackward']!(new Float32Array(2), Int32Array.of(0, 4), 1, 4, 2, new Float32Array(4)))).toThrow(
      new ArgumentError('max_pool backward: an index lies outside the input plane of 4 elements'),
    );
    expect(() => raw((a) => a['_avgPoolForward']!(new Float32Array(4), geometry, true, -1, new Float32Array(2)))).toThrow(ArgumentError);
    expect(() => raw((a) => a['_adaptiveAvgPoolForward']!(new Float32Array(4), { planes: 1, in: [1, 1, 4], out: [1, 1, 0] }, new Float32Array(0)))).toThrow(
      new ShapeError('adaptive_avg_pool: input size 1x1x4 and output size 1x1x0 must both be positive'),
    );
  });
});
