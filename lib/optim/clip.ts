/** Gradient clipping: by the total norm of all gradients, or elementwise by value. */
import { ArgumentError, invalidArgument } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkNumber, optionsObject } from './check.js';

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** The p of the p-norm: any number > 0, or `Infinity` for the largest absolute value (default 2). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite, instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

/** The tensors of `params` that have a gradient, with the argument checked. */
function gradsOf(params: Iterable<Tensor> | Tensor, fn: string): Tensor[] {
  let list: unknown[];
  if (params instanceof Tensor) list = [params];
  else if (params !== null && typeof params === 'object' && typeof (params as Iterable<unknown>)[Symbol.iterator] === 'function') {
    list = [...(params as Iterable<unknown>)];
  } else throw invalidArgument(`the params of ${fn}()`, 'a Tensor or an iterable of Tensors', params);
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw invalidArgument(`params[${i}] of ${fn}()`, 'a Tensor', p);
    if (p.grad !== null) grads.push(p.grad);
  });
  return grads;
}

/**
 * Clips the gradients of `params` in place so that their total norm (all gradients viewed as one
 * vector) is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`:
 *
 * ```
 * total ← (Σ over every gradient element |g|^p)^(1/p)      (p = Infinity: max |g|)
 * c ← maxNorm / (total + 1e-6)
 * g ← g · c   for every gradient, if c < 1
 * ```
 *
 * Parameters without a gradient are ignored. Returns the total norm before clipping (0 when no
 * parameter has a gradient), handy for logging.
 *
 * Differs from PyTorch: the norm is accumulated in float64 (PyTorch: per-tensor float32 norms, then
 * the norm of those), so it can differ in the last float32 bits; it returns a number, not a tensor;
 * `maxNorm` must be ≥ 0 and `normType` > 0.
 *
 * @throws ArgumentError for a negative `maxNorm`, a `normType` that is not > 0, or a non-finite
 *   total norm with `errorIfNonfinite`.
 */
export function clipGradNorm(params: Iterable<Tensor> | Tensor, maxNorm: number, options?: ClipGradNormOptions): number {
  checkNumber(maxNorm, 'maxNorm of clipGradNorm()');
  if (!(maxNorm >= 0)) throw new ArgumentError(`Invalid maxNorm: ${maxNorm} (expected a number >= 0)`);
  const o = optionsObject(options, 'clipGradNorm()');
  const p = o.normType ?? 2;
  checkNumber(p, 'normType of clipGradNorm()');
  if (!(p > 0)) throw new ArgumentError(`Invalid normType: ${p} (expected a number > 0, or Infinity)`);
  const errorIfNonfinite = o.errorIfNonfinite ?? false;
  checkBoolean(errorIfNonfinite, 'errorIfNonfinite of clipGradNorm()');
  const grads = gradsOf(params, 'clipGradNorm');
  if (grads.length === 0) return 0;
  let total: number;
  if (p === Infinity) {
    total = 0;
    for (const g of grads) {
      for (const x of g.data) {
        const a = Math.abs(x);
        if (a > total || Number.isNaN(a)) total = a; // once NaN, stays NaN (a > NaN is false)
      }
    }
  } else {
    let acc = 0;
    for (const g of grads) {
      const d = g.data;
      if (p === 2) for (let i = 0; i < d.length; i++) acc += (d[i] as number) * (d[i] as number);
      else if (p === 1) for (let i = 0; i < d.length; i++) acc += Math.abs(d[i] as number);
      else for (let i = 0; i < d.length; i++) acc += Math.abs(d[i] as number) ** p;
    }
    total = p === 1 ? acc : p === 2 ? Math.sqrt(acc) : acc ** (1 / p);
  }
  total = Math.fround(total);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new ArgumentError(
      `The total norm of order ${p} for gradients from \`parameters\` is non-finite, so it cannot be clipped. ` +
        'To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`',
    );
  }
  const coef = Math.fround(maxNorm / Math.fround(total + 1e-6));
  // `!(coef >= 1)` also scales by a NaN coefficient, as PyTorch does (clamp keeps NaN).
  if (!(coef >= 1)) {
    for (const g of grads) {
      const d = g.data;
      for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) * coef;
    }
  }
  return total;
}

/**
 * Clamps every gradient element of `params` into [-clipValue, clipValue], in place, as
 * `torch.nn.utils.clip_grad_value_`. Parameters without a gradient are ignored.
 * @throws ArgumentError for a negative or NaN `clipValue`.
 */
export function clipGradValue(params: Iterable<Tensor> | Tensor, clipValue: number): void {
  checkNumber(clipValue, 'clipValue of clipGradValue()');
  if (!(clipValue >= 0)) throw new ArgumentError(`Invalid clipValue: ${clipValue} (expected a number >= 0)`);
  const hi = Math.fround(clipValue);
  for (const g of gradsOf(params, 'clipGradValue')) {
    const d = g.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i] as number;
      if (x > hi) d[i] = hi;
      else if (x < -hi) d[i] = -hi;
    }
  }
}
