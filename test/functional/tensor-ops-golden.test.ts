/**
 * F.linear, F.flatten, F.add, F.cat, F.split, F.pad and F.embedding, forward and backward, against
 * PyTorch: test/fixtures/tensor_grad/ (scripts/golden/tensor_grad.py). Tolerances
 * (|diff| <= atol + rtol |torch|):
 * - linear: rtol 1e-5 + atol 1e-5, output and every gradient (float32 GEMM sums of at most 65
 *   products for the output and dInput, 33 rows for dWeight and dBias, over N(0, 1) inputs).
 * - flatten, cat, split, constant pad, embedding without repeated indices: bit-exact (data movement).
 * - add: output bit-exact; the gradient of a broadcast operand rtol 1e-6 + atol 1e-6 (a sum).
 * - reflect/replicate pad gradients and embedding gradients with repeated indices: rtol 1e-6 +
 *   atol 1e-6 (several output gradients add up into one input element, in another order than torch).
 */
import { describe, expect, it } from 'vitest';
import { F, type Tensor } from '../../lib/index.js';
import { loadGolden, type GoldenCase } from '../helpers/golden.js';
import { expectClose } from '../tensor/helpers.js';

const golden = loadGolden('tensor_grad');

type Tol = { atol: number; rtol: number };
const EXACT: Tol = { atol: 0, rtol: 0 };
const SUMS: Tol = { atol: 1e-6, rtol: 1e-6 };
const LINEAR: Tol = { atol: 1e-5, rtol: 1e-5 };

function forward(c: GoldenCase, inputs: Tensor[]): Tensor[] {
  const p = c.params as Record<string, any>;
  const [x, y, z] = inputs as [Tensor, Tensor, Tensor | undefined];
  switch (c.op) {
    case 'linear': return [F.linear(x, y, p.bias ? z : null)];
    case 'F.flatten': return [F.flatten(x, p.startDim === undefined ? undefined : { startDim: p.startDim })];
    case 'F.add': return [F.add(x, y)];
    case 'cat': return [F.cat(inputs, { dim: p.dim })];
    case 'split': return F.split(x, p.split, { dim: p.dim });
    case 'pad': return [F.pad(x, p.pad, p.value === undefined ? { mode: p.mode } : { mode: p.mode, value: p.value })];
    case 'embedding': return [F.embedding(x, y, p.paddingIdx === undefined ? undefined : { paddingIdx: p.paddingIdx })];
    default: throw new Error(`unknown op ${c.op}`);
  }
}

function tolerances(c: GoldenCase): { out: Tol; grad: (i: number) => Tol } {
  const p = c.params as Record<string, any>;
  switch (c.op) {
    case 'linear': return { out: LINEAR, grad: () => LINEAR };
    case 'F.add': return { out: EXACT, grad: (i) => ((c.tensors[`in${i}`] as Tensor).size === (c.tensors.y as Tensor).size ? EXACT : SUMS) };
    case 'pad': return { out: EXACT, grad: () => (p.mode === 'constant' ? EXACT : SUMS) };
    case 'embedding': return { out: EXACT, grad: () => SUMS };
    default: return { out: EXACT, grad: () => EXACT };
  }
}

const OPS = new Set(['linear', 'F.flatten', 'F.add', 'cat', 'split', 'pad', 'embedding']);

describe(`F shape and linear ops against PyTorch ${golden.torch}`, () => {
  const cases = golden.cases.filter((c) => OPS.has(c.op));
  it('covers every op', () => {
    expect(new Set(cases.map((c) => c.op))).toEqual(OPS);
  });
  for (const c of cases) {
    it(c.name, () => {
      const count = Object.keys(c.tensors).filter((k) => /^in\d+$/.test(k)).length;
      // Inputs with a stored gradient require grad; the others (embedding indices) do not.
      const inputs = Array.from({ length: count }, (_, i) => {
        const t = (c.tensors[`in${i}`] as Tensor).clone();
        return c.tensors[`g${i}`] === undefined ? t : t.requiresGrad_();
      });
      const outs = forward(c, inputs);
      const n = c.params.outputs as number;
      expect(outs.length).toBe(n);
      const tol = tolerances(c);
      outs.forEach((y, j) => {
        const key = n === 1 ? '' : String(j);
        expectClose(y, c.tensors[`y${key}`] as Tensor, tol.out, `${c.name}: output ${j}`);
        y.backward(c.tensors[`gy${key}`] as Tensor);
      });
      inputs.forEach((x, i) => {
        const want = c.tensors[`g${i}`];
        if (want === undefined) {
          expect(x.grad).toBeNull();
          return;
        }
        expect(x.grad, `${c.name}: gradient ${i}`).not.toBeNull();
        expectClose(x.grad as Tensor, want, tol.grad(i), `${c.name}: gradient ${i}`);
      });
    });
  }
});
