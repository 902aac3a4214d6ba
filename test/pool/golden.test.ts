// Pooling against PyTorch fixtures (scripts/golden/pool.py), on every instruction-set path with 1 and
// 2 threads. Tolerances: max pooling outputs and indices are exact (they are copies and positions of
// input elements); its input gradient sums the gradients of overlapping windows in another order,
// hence atol 1e-6 + rtol 1e-5. Average pooling sums a window (at most 27 values ~ N(0, 1)) in a
// different order than PyTorch: atol 1e-5 + rtol 1e-4 for outputs and gradients.
import { describe, expect, it } from 'vitest';
import { F, Tensor, getIsa, getNumThreads, setIsa, setNumThreads, supportedIsas } from '../../lib/index.js';
import { expectClose, loadGolden, type GoldenCase } from '../helpers/golden.js';

const golden = loadGolden('pool');
// expectClose divides by atol + rtol |expected|: the smallest positive atol makes it an exact comparison.
const exact = { atol: Number.MIN_VALUE, rtol: 0 };
const sums = { atol: 1e-5, rtol: 1e-4 };
const routed = { atol: 1e-6, rtol: 1e-5 };

type Fn = (x: Tensor, p: Record<string, unknown>) => Tensor | [Tensor, Tensor];
const windowOps: Record<string, Fn> = {
  maxPool1d: (x, p) => F.maxPool1d(x, { ...(p as { kernelSize: number }), returnIndices: true }),
  maxPool2d: (x, p) => F.maxPool2d(x, { ...(p as { kernelSize: number }), returnIndices: true }),
  maxPool3d: (x, p) => F.maxPool3d(x, { ...(p as { kernelSize: number }), returnIndices: true }),
  avgPool1d: (x, p) => F.avgPool1d(x, p as { kernelSize: number }),
  avgPool2d: (x, p) => F.avgPool2d(x, p as { kernelSize: number }),
  avgPool3d: (x, p) => F.avgPool3d(x, p as { kernelSize: number }),
  adaptiveAvgPool1d: (x, p) => F.adaptiveAvgPool1d(x, p['outputSize'] as number),
  adaptiveAvgPool2d: (x, p) => F.adaptiveAvgPool2d(x, p['outputSize'] as number),
  adaptiveAvgPool3d: (x, p) => F.adaptiveAvgPool3d(x, p['outputSize'] as number),
  adaptiveMaxPool1d: (x, p) => F.adaptiveMaxPool1d(x, p['outputSize'] as number, { returnIndices: true }),
  adaptiveMaxPool2d: (x, p) => F.adaptiveMaxPool2d(x, p['outputSize'] as number, { returnIndices: true }),
  adaptiveMaxPool3d: (x, p) => F.adaptiveMaxPool3d(x, p['outputSize'] as number, { returnIndices: true }),
};

function runCase(c: GoldenCase): void {
  const t = c.tensors;
  const x = new Tensor(t['x']!.data.slice(), t['x']!.shape).requiresGrad_();
  const fn = windowOps[c.op];
  expect(fn, c.op).toBeDefined();
  const result = fn!(x, c.params);
  const isMax = c.op.toLowerCase().includes('max');
  const y = Array.isArray(result) ? result[0] : result;
  expectClose(y, t['y']!, isMax ? exact : sums, `${c.name} y`);
  if (Array.isArray(result)) expectClose(result[1], t['indices']!, exact, `${c.name} indices`);
  y.backward(t['gy']!);
  expectClose(x.grad!, t['dx']!, isMax ? routed : sums, `${c.name} dx`);
}

describe(`pooling vs PyTorch ${golden.torch}`, () => {
  it('covers every op', () => {
    expect(new Set(golden.cases.map((c) => c.op))).toEqual(new Set(Object.keys(windowOps)));
  });
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
