// Gradient clipping against PyTorch's clip_grad_norm_ / clip_grad_value_ (scripts/golden/optim.py):
// 2-, 1-, 3- and infinity-norms, clipped and unclipped, with a parameter that has no gradient.
//
// Tolerances: the returned total norm within rtol 1e-6 (convkit sums in float64, PyTorch takes
// float32 per-tensor norms and then their norm: they differ in the last float32 bits); clipped
// gradients within atol 1e-7 + rtol 1e-6 (the same relative difference, through the scale factor);
// clipGradValue is exact.
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/index.js';
import * as optim from '../../lib/optim/index.js';
import { expectClose, loadGolden } from '../helpers/golden.js';

const golden = loadGolden('optim');
const cases = golden.cases.filter((c) => c.op === 'clipGradNorm' || c.op === 'clipGradValue');

describe(`gradient clipping vs PyTorch ${golden.torch}`, () => {
  it('covers both functions and every norm type', () => {
    expect(new Set(cases.map((c) => c.op)).size).toBe(2);
    const norms = new Set(cases.filter((c) => c.op === 'clipGradNorm').map((c) => c.params['normType']));
    expect([...norms].sort()).toEqual([1, 2, 3, 'inf']);
  });

  for (const c of cases) {
    it(c.name, () => {
      const noGrad = c.params['noGrad'] as number[];
      const count = Object.keys(c.tensors).filter((k) => /^g\d+$/.test(k)).length;
      const params = Array.from({ length: count }, (_, i) => {
        const g = c.tensors[`g${i}`]!;
        const p = new Tensor(new Float32Array(g.size), g.shape).requiresGrad_();
        if (!noGrad.includes(i)) p.grad = new Tensor(g.data.slice(), g.shape);
        return p;
      });
      if (c.op === 'clipGradNorm') {
        const normType = c.params['normType'] === 'inf' ? Infinity : (c.params['normType'] as number);
        const total = optim.clipGradNorm(params, c.params['arg'] as number, { normType });
        const expected = c.params['total'] as number;
        expect(Math.abs(total - expected), `total ${total} vs ${expected}`).toBeLessThanOrEqual(1e-6 * expected);
      } else {
        optim.clipGradValue(params, c.params['arg'] as number);
      }
      const tol = c.op === 'clipGradNorm' ? { atol: 1e-7, rtol: 1e-6 } : { atol: 0, rtol: 0 };
      params.forEach((p, i) => {
        if (noGrad.includes(i)) expect(p.grad).toBeNull();
        else expectClose(p.grad!, c.tensors[`c${i}`]!, tol, `${c.name} c${i}`);
      });
    });
  }
});
