/**
 * Forward and backward of the tensor library against PyTorch: test/fixtures/tensor_grad/ (written by
 * scripts/golden/tensor_grad.py). Each case runs the op on the stored inputs, backpropagates the
 * stored upstream gradient and compares the output and every input gradient. Tolerances
 * (|diff| <= atol + rtol |torch|):
 * - layout ops (reshape, view, flatten, squeeze, unsqueeze, transpose, permute, T, clone) and neg:
 *   bit-exact, forward and backward (pure data movement).
 * - add/sub/mul/div: outputs bit-exact (both sides round the exact result once); gradients bit-exact
 *   when no broadcasting is undone, else rtol 1e-6 + atol 1e-6 (the sum over broadcast dimensions:
 *   torch sums in float32, convkit in float64).
 * - sum/mean: outputs rtol 1e-5 + atol 1e-6 (summation order); gradients bit-exact (a copy, and
 *   g / count for mean, as torch computes it).
 * - max (amax): bit-exact, including ties (the gradient is split evenly among them).
 * - expand: output bit-exact; gradient rtol 1e-6 + atol 1e-6 (a sum over the broadcast dimensions).
 * - matmul: rtol 1e-5 + atol 1e-5 for outputs and gradients (float32 dot products of length <= 17
 *   over N(0, 1) inputs, blocked/FMA order against torch's).
 * - exp, log, sqrt, pow, abs: rtol 3e-7 forward (about 2 float32 ulps: convkit rounds the float64
 *   result once, torch's vectorised float32 paths are within an ulp); gradients rtol 1e-6.
 */
import { describe, expect, it } from 'vitest';
import * as ck from '../../lib/index.js';
import type { Tensor } from '../../lib/index.js';
import { loadGolden, type GoldenCase } from '../helpers/golden.js';
import { expectClose } from './helpers.js';

const golden = loadGolden('tensor_grad');

type Tol = { atol: number; rtol: number };
const EXACT: Tol = { atol: 0, rtol: 0 };
const SUMS: Tol = { atol: 1e-6, rtol: 1e-6 };
const MATMUL: Tol = { atol: 1e-5, rtol: 1e-5 };
const UNARY: Tol = { atol: 0, rtol: 3e-7 };
const UNARY_GRAD: Tol = { atol: 0, rtol: 1e-6 };

/** Runs case `c` forward; returns the output. */
function forward(c: GoldenCase, inputs: Tensor[]): Tensor {
  const p = c.params as Record<string, any>;
  const [x, y] = inputs as [Tensor, Tensor];
  switch (c.op) {
    case 'add': return ck.add(x, y);
    case 'sub': return ck.sub(x, y);
    case 'mul': return p.number !== undefined ? ck.mul(x, p.number as number) : ck.mul(x, y);
    case 'div': return p.numberFirst !== undefined ? ck.div(p.numberFirst as number, x) : ck.div(x, y);
    case 'sum': return ck.sum(x, p.axis, { keepdim: p.keepdim });
    case 'mean': return ck.mean(x, p.axis, { keepdim: p.keepdim });
    case 'max': return ck.max(x, p.axis, { keepdim: p.keepdim });
    case 'matmul': return ck.matmul(x, y);
    case 'reshape': return x.reshape(p.shape);
    case 'view': return x.view(p.shape);
    case 'flatten': return x.flatten(p.startDim, p.endDim);
    case 'squeeze': return x.squeeze(p.dim);
    case 'unsqueeze': return x.unsqueeze(p.dim);
    case 'transpose': return p.dims.length === 0 ? x.transpose() : x.transpose(p.dims[0], p.dims[1]);
    case 'permute': return x.permute(p.dims);
    case 'T': return x.T;
    case 'clone': return x.clone();
    case 'expand': return x.expand(p.shape);
    case 'neg': return x.neg();
    case 'abs': return x.abs();
    case 'exp': return x.exp();
    case 'log': return x.log();
    case 'sqrt': return x.sqrt();
    case 'pow': return x.pow(p.exponent);
    default: throw new Error(`unknown op ${c.op}`);
  }
}

function tolerances(c: GoldenCase, inputs: Tensor[], y: Tensor): { out: Tol; grad: (i: number) => Tol } {
  const broadcastUndone = (i: number): boolean => (inputs[i] as Tensor).size !== y.size;
  switch (c.op) {
    case 'add': case 'sub': case 'mul': case 'div':
      return { out: EXACT, grad: (i) => (broadcastUndone(i) ? SUMS : EXACT) };
    case 'sum': case 'mean': return { out: { atol: 1e-6, rtol: 1e-5 }, grad: () => EXACT };
    case 'max': return { out: EXACT, grad: () => EXACT };
    case 'expand': return { out: EXACT, grad: () => SUMS };
    case 'matmul': return { out: MATMUL, grad: () => MATMUL };
    case 'exp': case 'log': case 'sqrt': case 'pow': case 'abs': return { out: UNARY, grad: () => UNARY_GRAD };
    default: return { out: EXACT, grad: () => EXACT };
  }
}

const OPS = new Set(['add', 'sub', 'mul', 'div', 'sum', 'mean', 'max', 'matmul', 'reshape', 'view', 'flatten', 'squeeze',
  'unsqueeze', 'transpose', 'permute', 'T', 'clone', 'expand', 'neg', 'abs', 'exp', 'log', 'sqrt', 'pow']);

describe(`tensor library forward and backward against PyTorch ${golden.torch}`, () => {
  const cases = golden.cases.filter((c) => OPS.has(c.op));
  it('covers every differentiable op of the tensor library', () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(OPS);
  });
  for (const c of cases) {
    it(c.name, () => {
      const count = Object.keys(c.tensors).filter((k) => /^in\d+$/.test(k)).length;
      const inputs = Array.from({ length: count }, (_, i) => (c.tensors[`in${i}`] as Tensor).clone().requiresGrad_());
      const y = forward(c, inputs);
      const tol = tolerances(c, inputs, y);
      expectClose(y, c.tensors.y as Tensor, tol.out, `${c.name}: output`);
      y.backward(c.tensors.gy as Tensor);
      inputs.forEach((x, i) => {
        const want = c.tensors[`g${i}`] as Tensor;
        expect(x.grad, `${c.name}: gradient ${i}`).not.toBeNull();
        expectClose(x.grad as Tensor, want, tol.grad(i), `${c.name}: gradient ${i}`);
      });
    });
  }
});
