// Batch norm and local response norm against PyTorch fixtures (scripts/golden/norm.py), on every
// instruction-set path with 1 and 2 threads. Tolerances (float32 throughout; both sides sum in
// different orders):
// - batch norm y: atol 1e-5 + rtol 1e-4. PyTorch normalises as x * a + (b - mean * a); convkit as
//   (x - mean) * a + b, so on the channel with mean 50 and spread 1 the two differ by about
//   50 * 2^-24 * a ~ 3e-6.
// - running statistics: atol 1e-6 + rtol 1e-5 (both compute them in double and round once).
// - batch norm gradients: dx atol 2e-5 + rtol 1e-4 (dx = a (gy - mean(gy) - xhat mean(gy xhat)) is a
//   difference of O(1) terms); dw, db are sums over up to 252 elements: atol 1e-4 + rtol 1e-4.
// - local response norm: y atol 1e-6 + rtol 1e-5 (a few ulp from the window sum and d^beta); dx atol
//   1e-5 + rtol 1e-4 (PyTorch's autograd through pad / avg_pool3d / pow / div against the closed form).
import { describe, expect, it } from 'vitest';
import { F, Tensor, getIsa, getNumThreads, setIsa, setNumThreads, supportedIsas } from '../../lib/index.js';
import { expectClose, loadGolden, type GoldenCase } from '../helpers/golden.js';

const golden = loadGolden('norm');
const tol = {
  y: { atol: 1e-5, rtol: 1e-4 },
  running: { atol: 1e-6, rtol: 1e-5 },
  dx: { atol: 2e-5, rtol: 1e-4 },
  dwb: { atol: 1e-4, rtol: 1e-4 },
  lrnY: { atol: 1e-6, rtol: 1e-5 },
  lrnDx: { atol: 1e-5, rtol: 1e-4 },
};

const copy = (t: Tensor | undefined): Tensor | null => (t === undefined ? null : new Tensor(t.data.slice(), t.shape));

function batchNormCase(c: GoldenCase): void {
  const t = c.tensors;
  const p = c.params as { training: boolean; momentum: number; eps: number };
  const x = copy(t['x'])!.requiresGrad_();
  const weight = copy(t['weight'])?.requiresGrad_() ?? null;
  const bias = copy(t['bias'])?.requiresGrad_() ?? null;
  const rm = copy(t['rm0']);
  const rv = copy(t['rv0']);
  const y = F.batchNorm(x, rm, rv, { weight, bias, training: p.training, momentum: p.momentum, eps: p.eps });
  expectClose(y, t['y']!, tol.y, `${c.name} y`);
  if (rm !== null) {
    expectClose(rm, t['rm1']!, tol.running, `${c.name} runningMean`);
    expectClose(rv!, t['rv1']!, tol.running, `${c.name} runningVar`);
  }
  y.backward(t['gy']!);
  expectClose(x.grad!, t['dx']!, tol.dx, `${c.name} dx`);
  if (weight !== null) expectClose(weight.grad!, t['dw']!, tol.dwb, `${c.name} dw`);
  if (bias !== null) expectClose(bias.grad!, t['db']!, tol.dwb, `${c.name} db`);
}

function lrnCase(c: GoldenCase): void {
  const t = c.tensors;
  const p = c.params as { size: number; alpha: number; beta: number; k: number };
  const x = copy(t['x'])!.requiresGrad_();
  const y = F.localResponseNorm(x, p.size, { alpha: p.alpha, beta: p.beta, k: p.k });
  expectClose(y, t['y']!, tol.lrnY, `${c.name} y`);
  y.backward(t['gy']!);
  expectClose(x.grad!, t['dx']!, tol.lrnDx, `${c.name} dx`);
}

describe(`batch norm and local response norm vs PyTorch ${golden.torch}`, () => {
  it('covers training and evaluation, every rank, both ops', () => {
    const ops = new Set(golden.cases.map((c) => c.op));
    expect(ops).toEqual(new Set(['batchNorm', 'localResponseNorm']));
    const ranks = new Set(golden.cases.filter((c) => c.op === 'batchNorm').map((c) => c.tensors['x']!.ndim));
    expect(ranks).toEqual(new Set([2, 3, 4, 5]));
  });
  const isaBefore = getIsa();
  const threadsBefore = getNumThreads();
  for (const isa of supportedIsas()) {
    for (const threads of [1, 2]) {
      it(`${isa}, ${threads} thread(s): ${golden.cases.length} cases`, () => {
        setIsa(isa);
        setNumThreads(threads);
        try {
          for (const c of golden.cases) (c.op === 'batchNorm' ? batchNormCase : lrnCase)(c);
        } finally {
          setIsa(isaBefore);
          setNumThreads(threadsBefore);
        }
      });
    }
  }
});
