/**
 * Elementwise functions of one tensor: `neg`, `abs`, `exp`, `log`, `sqrt` and `pow` (tensor to a
 * number power). Each is one typed-array loop forward and one backward; values are computed in
 * float64 and rounded once to float32 (PyTorch's vectorised float32 paths are within an ulp or two
 * of that).
 *
 * Backward formulas are PyTorch's, in the same order of operations: `exp`: g * out; `log`: g / x;
 * `sqrt`: g / (2 * out); `pow`: g * (p * x^(p-1)), and zeros for p = 0; `abs`: g * sign(x) (0 at
 * 0); `neg`: -g.
 */
import { recordOp } from '../autograd/record.js';
import { invalidArgument } from '../errors.js';
import { allocate } from './shape.js';
import { Tensor } from './tensor.js';

function input(x: unknown, op: string): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${op}()`, 'a Tensor', x);
  return x;
}

/** -t into a new tensor (internal: no checks, no recording). */
export function negated(t: Tensor): Tensor {
  const src = t.data;
  const out = allocate(src.length, 'neg');
  for (let i = 0; i < src.length; i++) out[i] = -(src[i] as number);
  return new Tensor(out, t.shape);
}

/** Negates the elements of `t` in place and returns it (internal: `t` must be a buffer the caller owns). */
export function negateInPlace(t: Tensor): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = -(d[i] as number);
  return t;
}

/** Elementwise negation `-x`. */
export function neg(x: Tensor): Tensor {
  const out = negated(input(x, 'neg'));
  return recordOp('neg', out, [x], (g) => [negated(g)]);
}

/** Elementwise absolute value. The gradient at 0 is 0, as in PyTorch. */
export function abs(x: Tensor): Tensor {
  const src = input(x, 'abs').data;
  const out = allocate(src.length, 'abs');
  for (let i = 0; i < src.length; i++) out[i] = Math.abs(src[i] as number);
  return recordOp('abs', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const dx = allocate(src.length, 'abs');
    for (let i = 0; i < src.length; i++) {
      const v = src[i] as number;
      dx[i] = v > 0 ? (gd[i] as number) : v < 0 ? -(gd[i] as number) : v === 0 ? 0 : NaN;
    }
    return [new Tensor(dx, x.shape)];
  });
}

/** Elementwise `e^x`. */
export function exp(x: Tensor): Tensor {
  const src = input(x, 'exp').data;
  const out = allocate(src.length, 'exp');
  for (let i = 0; i < src.length; i++) out[i] = Math.exp(src[i] as number);
  return recordOp('exp', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const dx = allocate(out.length, 'exp');
    for (let i = 0; i < out.length; i++) dx[i] = (gd[i] as number) * (out[i] as number);
    return [new Tensor(dx, x.shape)];
  });
}

/** Elementwise natural logarithm: `-inf` at 0 and NaN below 0, as in IEEE 754. */
export function log(x: Tensor): Tensor {
  const src = input(x, 'log').data;
  const out = allocate(src.length, 'log');
  for (let i = 0; i < src.length; i++) out[i] = Math.log(src[i] as number);
  return recordOp('log', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const dx = allocate(src.length, 'log');
    for (let i = 0; i < src.length; i++) dx[i] = (gd[i] as number) / (src[i] as number);
    return [new Tensor(dx, x.shape)];
  });
}

/** Elementwise square root (NaN below 0). The gradient at 0 is `inf`, as in PyTorch. */
export function sqrt(x: Tensor): Tensor {
  const src = input(x, 'sqrt').data;
  const out = allocate(src.length, 'sqrt');
  for (let i = 0; i < src.length; i++) out[i] = Math.sqrt(src[i] as number);
  return recordOp('sqrt', new Tensor(out, x.shape), [x], (g) => {
    const gd = g.data;
    const dx = allocate(out.length, 'sqrt');
    for (let i = 0; i < out.length; i++) dx[i] = (gd[i] as number) / Math.fround(2 * (out[i] as number));
    return [new Tensor(dx, x.shape)];
  });
}

/**
 * Elementwise `x ** exponent` for a number exponent (`Math.pow` semantics: a negative base to a
 * fractional power is NaN). The gradient is `exponent * x^(exponent-1)`, and 0 everywhere for
 * exponent 0, as in PyTorch.
 *
 * Differs from PyTorch: the exponent must be a number; `torch.pow(tensor, tensor)` is not supported.
 */
export function pow(x: Tensor, exponent: number): Tensor {
  const src = input(x, 'pow').data;
  if (typeof exponent !== 'number') throw invalidArgument('the exponent of pow()', 'a number', exponent);
  const p = exponent;
  const out = allocate(src.length, 'pow');
  if (p === 2) {
    for (let i = 0; i < src.length; i++) {
      const v = src[i] as number;
      out[i] = v * v;
    }
  } else {
    for (let i = 0; i < src.length; i++) out[i] = Math.pow(src[i] as number, p);
  }
  return recordOp('pow', new Tensor(out, x.shape), [x], (g) => {
    const dx = allocate(src.length, 'pow');
    if (p === 0) return [new Tensor(dx, x.shape)];
    const gd = g.data;
    const pf = Math.fround(p);
    const q = p - 1;
    if (q === 1) {
      for (let i = 0; i < src.length; i++) dx[i] = (gd[i] as number) * Math.fround(pf * (src[i] as number));
    } else {
      for (let i = 0; i < src.length; i++) {
        dx[i] = (gd[i] as number) * Math.fround(pf * Math.fround(Math.pow(src[i] as number, q)));
      }
    }
    return [new Tensor(dx, x.shape)];
  });
}
