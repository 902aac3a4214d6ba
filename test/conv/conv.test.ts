// F.conv1d/2d/3d against PyTorch (float64 fixtures: scripts/golden/conv.py), finite differences,
// the shared-weight property, every instruction-set path, and the error messages.
// Tolerance vs PyTorch: atol 3e-5 + rtol 1e-4 (float32 sums of at most 363 products of values in [-1, 1]).
import { describe, expect, it } from 'vitest';
import { ArgumentError, F, Generator, ShapeError, Tensor, gradcheck, randn, setIsa, getIsa, supportedIsas, setNumThreads, getNumThreads, sum, tensor, mul } from '../../lib/index.js';
import type { ConvOptions } from '../../lib/functional/conv.js';
import { expectClose, loadGolden } from '../helpers/golden.js';

const golden = loadGolden('conv');
const tol = { atol: 3e-5, rtol: 1e-4 };
const fns = { conv1d: F.conv1d, conv2d: F.conv2d, conv3d: F.conv3d } as const;

function runCase(c: (typeof golden.cases)[number]) {
  const { x, w, b, dy } = c.tensors;
  const xi = x!.clone().requiresGrad_();
  const wi = w!.clone().requiresGrad_();
  const bi = b === undefined ? null : b.clone().requiresGrad_();
  const fn = fns[c.op as keyof typeof fns];
  const y = fn(xi, wi, bi, c.params as ConvOptions);
  expectClose(y, c.tensors['y']!, tol, `${c.name} y`);
  y.backward(dy);
  expectClose(xi.grad!, c.tensors['dx']!, tol, `${c.name} dx`);
  expectClose(wi.grad!, c.tensors['dw']!, tol, `${c.name} dw`);
  if (bi !== null) expectClose(bi.grad!, c.tensors['db']!, tol, `${c.name} db`);
}

describe(`convolution vs PyTorch ${golden.torch}`, () => {
  const isaBefore = getIsa();
  const threadsBefore = getNumThreads();
  for (const isa of supportedIsas()) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s): ${golden.cases.length} cases`, () => {
        setIsa(isa);
        setNumThreads(threads);
        try {
          for (const c of golden.cases) runCase(c);
        } finally {
          setIsa(isaBefore);
          setNumThreads(threadsBefore);
        }
      });
    }
  }
});

describe('convolution gradients by finite differences', () => {
  const g = new Generator(5);
  const cases: Array<[string, (x: Tensor, w: Tensor, b: Tensor) => Tensor, number[], number[]]> = [
    ['conv1d stride 2 dilation 2', (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 2, dilation: 2 }), [2, 3, 11], [4, 3, 3]],
    ['conv2d stride 2 padding 1', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [2, 3, 7, 6], [4, 3, 3, 3]],
    ['conv2d groups 2', (x, w, b) => F.conv2d(x, w, b, { padding: 'same', groups: 2 }), [1, 4, 5, 5], [4, 2, 3, 2]],
    ['conv2d depthwise', (x, w, b) => F.conv2d(x, w, b, { padding: 1, groups: 3 }), [2, 3, 5, 6], [3, 1, 3, 3]],
    ['conv3d', (x, w, b) => F.conv3d(x, w, b, { padding: 1, stride: [1, 2, 1] }), [1, 2, 4, 5, 4], [3, 2, 3, 3, 3]],
  ];
  for (const [name, fn, xs, ws] of cases) {
    it(name, () => {
      const x = randn(xs, { generator: g }).requiresGrad_();
      const w = randn(ws, { generator: g }).requiresGrad_();
      const b = randn([ws[0]!], { generator: g }).requiresGrad_();
      const r = gradcheck(fn, [x, w, b]);
      expect(r.ok, JSON.stringify(r.mismatches)).toBe(true);
    });
  }
});

describe('convolution semantics', () => {
  it('the gradient of a shared filter is the sum over every position it touched', () => {
    // One 1x1 filter over a 2x3 image: dL/dw = sum of the input values (dL/dy = 1 everywhere).
    const x = tensor([[[[1, 2, 3], [4, 5, 6]]]]);
    const w = tensor([[[[0.5]]]]).requiresGrad_();
    sum(F.conv2d(x, w)).backward();
    expect(w.grad!.item()).toBe(21);
    // A 2x2 filter over a 3x3 image: each tap sees a 2x2 window of positions.
    const x2 = new Tensor(Float32Array.from({ length: 9 }, (_, i) => i + 1), [1, 1, 3, 3]);
    const w2 = new Tensor(new Float32Array(4), [1, 1, 2, 2]).requiresGrad_();
    sum(F.conv2d(x2, w2)).backward();
    expect([...w2.grad!.data]).toEqual([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]);
  });

  it('frozen weights get no gradient and the input still does', () => {
    const x = randn([1, 2, 5, 5], { seed: 3 }).requiresGrad_();
    const w = randn([3, 2, 3, 3], { seed: 4 });
    const b = randn([3], { seed: 5 });
    sum(mul(F.conv2d(x, w, b, { padding: 1 }), 2)).backward();
    expect(w.grad).toBeNull();
    expect(b.grad).toBeNull();
    expect(x.grad!.shape).toEqual([1, 2, 5, 5]);
  });

  it('a batch large enough to need many chunks gives the same result as one image at a time', () => {
    const x = randn([17, 3, 6, 5], { seed: 9 });
    const w = randn([4, 3, 3, 3], { seed: 10 });
    const all = F.conv2d(x, w, null, { padding: 1 });
    for (const n of [0, 7, 16]) {
      const one = F.conv2d(new Tensor(x.data.slice(n * 90, (n + 1) * 90), [1, 3, 6, 5]), w, null, { padding: 1 });
      expect([...all.data.slice(n * 120, (n + 1) * 120)]).toEqual([...one.data]);
    }
  });
});

describe('convolution errors', () => {
  const x = randn([2, 3, 8, 8], { seed: 1 });
  const w = randn([4, 3, 3, 3], { seed: 2 });
  it('names the shapes and what is wrong', () => {
    expect(() => F.conv2d(randn([3, 8]), w)).toThrow(ShapeError);
    expect(() => F.conv2d(randn([3, 8]), w)).toThrow('conv2d: expected a 4-d (batched) or 3-d (unbatched) input, received shape [3, 8]');
    expect(() => F.conv2d(x, randn([4, 3, 3]))).toThrow('conv2d: expected a 4-d weight [outChannels, inChannels / groups, kH, kW], received shape [4, 3, 3]');
    expect(() => F.conv2d(x, randn([4, 2, 3, 3]))).toThrow('conv2d: input [2, 3, 8, 8] has 3 channels, but weight [4, 2, 3, 3] expects 2 per group x 1 group(s) = 2');
    expect(() => F.conv2d(x, w, randn([5]))).toThrow('conv2d: bias has shape [5], expected [4]');
    expect(() => F.conv2d(randn([1, 3, 2, 2]), w)).toThrow('conv2d: the padded input (2 x 2) is smaller than the dilated kernel (3 x 3) for input [1, 3, 2, 2]');
    expect(() => F.conv2d(x, randn([3, 1, 3, 3]), null, { groups: 2 })).toThrow('conv2d: weight [3, 1, 3, 3] has 3 output channels, not divisible by groups = 2');
  });
  it('rejects bad options like PyTorch', () => {
    expect(() => F.conv2d(x, w, null, { padding: 'full' as never })).toThrow(ArgumentError);
    expect(() => F.conv2d(x, w, null, { padding: 'full' as never })).toThrow("conv2d: invalid padding string 'full', should be one of 'valid', 'same'");
    expect(() => F.conv2d(x, w, null, { padding: 'same', stride: 2 })).toThrow("conv2d: padding='same' is not supported for strided convolutions");
    expect(() => F.conv2d(x, w, null, { stride: 0 })).toThrow('Expected an integer >= 1 or an array of 2 such integers for stride of conv2d but received 0 of type number');
    expect(() => F.conv2d(x, w, null, { dilation: [1, 2, 3] })).toThrow(ArgumentError);
    expect(() => F.conv2d(x, w, null, { groups: 0 })).toThrow('Expected a positive integer for groups of conv2d but received 0 of type number');
  });
});
