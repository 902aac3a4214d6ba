/**
 * Finite-difference gradient check, like `torch.autograd.gradcheck` but for float32 kernels.
 *
 * The output is projected on a fixed random vector r (L = sum r * f(x), accumulated in float64), so
 * one backward pass gives dL/dx for every input; each checked element is then perturbed by +-eps
 * and the central difference (L(x + e) - L(x - e)) / (2e) is compared with the analytic value,
 * where e is the perturbation float32 actually represented. Float32 rounding limits the precision,
 * hence the default tolerances: |analytic - numeric| <= atol + rtol * |numeric|. Keep inputs away
 * from kinks (ReLU at 0, ties in max) when checking non-smooth ops.
 */
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from './grad-mode.js';

export interface GradcheckOptions {
  /** Perturbation (default 1e-2). */
  eps?: number;
  /** Absolute tolerance (default 1e-2). */
  atol?: number;
  /** Relative tolerance (default 1e-2). */
  rtol?: number;
  /** Check at most this many elements per input, spread evenly (default 256). */
  maxElements?: number;
  /** Seed of the projection vector (default 1). */
  seed?: number;
}

export interface GradcheckMismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** Largest |analytic - numeric| / (atol + rtol |numeric|) seen (<= 1 passes). */
  worst: number;
  mismatches: GradcheckMismatch[];
  checked: number;
}

function projection(size: number, seed: number): Float64Array {
  const r = new Float64Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    r[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return r;
}

function project(y: Tensor, r: Float64Array): number {
  let acc = 0;
  for (let i = 0; i < r.length; i++) acc += (y.data[i] as number) * (r[i] as number);
  return acc;
}

/**
 * Checks the gradients `fn` records against central differences, for every input that requires
 * grad. `fn` must be deterministic (seed any randomness inside it).
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const eps = options.eps ?? 1e-2;
  const atol = options.atol ?? 1e-2;
  const rtol = options.rtol ?? 1e-2;
  const maxElements = options.maxElements ?? 256;
  if (!inputs.some((t) => t.requiresGrad)) throw new ArgumentError('gradcheck: no input requires grad');

  for (const t of inputs) t.grad = null;
  const y = fn(...inputs);
  if (!(y instanceof Tensor)) throw new ArgumentError('gradcheck: fn must return a Tensor');
  const r = projection(y.size, options.seed ?? 1);
  y.backward(new Tensor(Float32Array.from(r), y.shape));

  const result: GradcheckResult = { ok: true, worst: 0, mismatches: [], checked: 0 };
  inputs.forEach((x, which) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad?.data ?? new Float32Array(x.size);
    const step = Math.max(1, Math.ceil(x.size / maxElements));
    for (let i = 0; i < x.size; i += step) {
      const original = x.data[i] as number;
      x.data[i] = original + eps;
      const up = x.data[i] as number;
      const lp = noGrad(() => project(fn(...inputs), r));
      x.data[i] = original - eps;
      const down = x.data[i] as number;
      const lm = noGrad(() => project(fn(...inputs), r));
      x.data[i] = original;
      const numeric = (lp - lm) / (up - down);
      const a = analytic[i] as number;
      const ratio = Math.abs(a - numeric) / (atol + rtol * Math.abs(numeric));
      result.checked++;
      if (!(ratio <= 1)) {
        result.ok = false;
        if (result.mismatches.length < 10) result.mismatches.push({ input: which, index: i, analytic: a, numeric });
      }
      if (ratio > result.worst || Number.isNaN(ratio)) result.worst = Number.isNaN(ratio) ? Infinity : ratio;
    }
  });
  return result;
}
