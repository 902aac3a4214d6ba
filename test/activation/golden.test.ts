/**
 * Every case of test/fixtures/activation (scripts/golden/activation.py, PyTorch 1.13) replayed
 * through the functional API: outputs and gradients (input, and target where differentiable).
 *
 * Tolerances, |convkit - torch| <= atol + rtol |torch|:
 * - activations: atol 1e-6, rtol 1e-6. Both sides are float32 formulas a few ulp from exact; the
 *   largest gaps are GELU's tails, where PyTorch's erf (1.5e-7 absolute error) and its float
 *   formula (which rounds gelu(-6) to 0) are less accurate than ours.
 * - softmax / log-softmax: atol 1e-6, rtol 1e-5 (float32 sums over the slice).
 * - losses: atol 1e-5, rtol 1e-5 (we accumulate in double, PyTorch in float32; BCE's float formula
 *   in PyTorch cancels by a few ulp of |x| <= 100).
 */
import { describe, expect, it } from 'vitest';
import { F, Tensor } from '../../lib/index.js';
import { expectClose, loadGolden, type GoldenCase } from '../helpers/golden.js';

const golden = loadGolden('activation');

const ACT_TOL = { atol: 1e-6, rtol: 1e-6 };
const SOFTMAX_TOL = { atol: 1e-6, rtol: 1e-5 };
const LOSS_TOL = { atol: 1e-5, rtol: 1e-5 };

function tensorOf(c: GoldenCase, key: string): Tensor {
  const t = c.tensors[key];
  if (t === undefined) throw new Error(`${c.name}: fixture has no tensor '${key}'`);
  return t;
}

/**
 * expectClose, with infinities compared exactly first (the helper's |a - e| is NaN for equal
 * infinities, which it reports as a mismatch).
 */
function close(actual: Tensor, expected: Tensor, tol: { atol: number; rtol: number }, what: string): void {
  const a = actual.data.slice();
  const e = expected.data.slice();
  for (let i = 0; i < e.length; i++) {
    const v = e[i] as number;
    if (v === Infinity || v === -Infinity) {
      expect(a[i], `${what}: element ${i}`).toBe(v);
      a[i] = 0;
      e[i] = 0;
    }
  }
  expectClose(new Tensor(a, actual.shape), new Tensor(e, expected.shape), tol, what);
}

/** A fresh leaf copy that requires grad. */
function leaf(t: Tensor): Tensor {
  return t.clone().requiresGrad_();
}

type Unary = (x: Tensor, options?: never) => Tensor;

function runActivation(c: GoldenCase): void {
  const x = leaf(tensorOf(c, 'x'));
  const fn = (F as unknown as Record<string, Unary>)[c.op];
  if (fn === undefined) throw new Error(`no F.${c.op}`);
  const params = c.params as never;
  const y = Object.keys(c.params).length > 0 ? fn(x, params) : fn(x);
  const tol = c.op === 'softmax' || c.op === 'logSoftmax' ? SOFTMAX_TOL : ACT_TOL;
  close(y, tensorOf(c, 'y'), tol, `${c.name} y`);
  y.backward(tensorOf(c, 'gy'));
  close(x.grad as Tensor, tensorOf(c, 'dx'), tol, `${c.name} dx`);
}

/** Index targets go in by turns as a float Tensor, an Int32Array and a number[]. */
function indexTarget(t: Tensor, turn: number): Tensor | Int32Array | number[] {
  if (turn % 3 === 0) return t;
  if (turn % 3 === 1) return Int32Array.from(t.data);
  return Array.from(t.data);
}

function runLoss(c: GoldenCase, turn: number): void {
  const x = leaf(tensorOf(c, 'x'));
  const p = c.params;
  const differentiableTarget = tensorOf(c, 't').shape.length === x.shape.length && c.tensors['dt'] !== undefined;
  const t = differentiableTarget ? leaf(tensorOf(c, 't')) : tensorOf(c, 't');
  const reduction = p['reduction'] as 'mean' | 'sum' | 'none';
  let y: Tensor;
  switch (c.op) {
    case 'crossEntropy': {
      const options = {
        reduction,
        ...(p['weight'] === true ? { weight: tensorOf(c, 'w') } : {}),
        ...(p['ignoreIndex'] !== undefined ? { ignoreIndex: p['ignoreIndex'] as number } : {}),
        ...(p['labelSmoothing'] !== undefined ? { labelSmoothing: p['labelSmoothing'] as number } : {}),
      };
      y = F.crossEntropy(x, p['targetKind'] === 'probs' ? t : indexTarget(t, turn), options);
      break;
    }
    case 'nllLoss':
      y = F.nllLoss(x, indexTarget(t, turn), {
        reduction,
        ...(p['weight'] === true ? { weight: tensorOf(c, 'w') } : {}),
        ...(p['ignoreIndex'] !== undefined ? { ignoreIndex: p['ignoreIndex'] as number } : {}),
      });
      break;
    case 'mseLoss':
      y = F.mseLoss(x, t, { reduction });
      break;
    case 'smoothL1Loss':
      y = F.smoothL1Loss(x, t, { reduction, beta: p['beta'] as number });
      break;
    case 'binaryCrossEntropyWithLogits':
      y = F.binaryCrossEntropyWithLogits(x, t, {
        reduction,
        ...(p['weight'] === true ? { weight: tensorOf(c, 'w') } : {}),
        ...(p['posWeight'] === true ? { posWeight: tensorOf(c, 'pw') } : {}),
      });
      break;
    default:
      throw new Error(`unknown op ${c.op}`);
  }
  close(y, tensorOf(c, 'y'), LOSS_TOL, `${c.name} y`);
  y.backward(tensorOf(c, 'gy'));
  close(x.grad as Tensor, tensorOf(c, 'dx'), LOSS_TOL, `${c.name} dx`);
  if (differentiableTarget) close(t.grad as Tensor, tensorOf(c, 'dt'), LOSS_TOL, `${c.name} dt`);
}

const ACTIVATION_OPS = new Set(['relu', 'leakyRelu', 'relu6', 'sigmoid', 'tanh', 'gelu', 'softmax', 'logSoftmax']);

describe(`activation family against PyTorch ${golden.torch}`, () => {
  it('has fixtures for every op', () => {
    const ops = new Set(golden.cases.map((c) => c.op));
    for (const op of [...ACTIVATION_OPS, 'crossEntropy', 'nllLoss', 'mseLoss', 'smoothL1Loss', 'binaryCrossEntropyWithLogits']) {
      expect(ops.has(op), op).toBe(true);
    }
  });

  const activationCases = golden.cases.filter((c) => ACTIVATION_OPS.has(c.op));
  it.each(activationCases.map((c) => [c.name, c] as const))('%s', (_name, c) => runActivation(c));

  const lossCases = golden.cases.filter((c) => !ACTIVATION_OPS.has(c.op));
  it.each(lossCases.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => runLoss(c, i));
});
