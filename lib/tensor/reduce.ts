/**
 * Reductions: `sum`, `mean` and `max` (values only, like `torch.amax`) over all elements, one axis
 * or several, with PyTorch's `keepdim`.
 *
 * The input is read once, in memory order. Adjacent dimensions that are both reduced or both kept
 * are merged, so the inner loop is either a run summed into one output slot or a run added into a
 * row of outputs. Sums accumulate in float64 and round once to float32, which is at least as
 * accurate as PyTorch's float32 pairwise sums.
 */
import { recordOp } from '../autograd/record.js';
import { expandTo } from '../autograd/sum-to-shape.js';
import { ShapeError, invalidArgument } from '../errors.js';
import { allocate, formatShape, normalizeAxes, shapeSize, stridesOf } from './shape.js';
import { Tensor } from './tensor.js';
import { RunWalker } from './walk.js';

/** One axis or a list of distinct axes; negative axes count from the end. */
export type Axis = number | readonly number[];

export interface ReduceOptions {
  /** Keep each reduced dimension as size 1 (default false). */
  keepdim?: boolean;
}

type Kind = 'sum' | 'mean' | 'max';

function reduce(kind: Kind, x: unknown, axis: unknown, options: unknown): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${kind}()`, 'a Tensor', x);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw invalidArgument(`the options of ${kind}()`, 'an object such as { keepdim: true }', options);
  }
  const keepdim = (options as ReduceOptions | undefined)?.keepdim ?? false;
  if (typeof keepdim !== 'boolean') throw invalidArgument(`keepdim of ${kind}()`, 'a boolean', keepdim);
  const shape = x.shape;
  const rank = shape.length;
  const reduced = new Array<boolean>(rank).fill(axis === undefined || axis === null);
  if (axis !== undefined && axis !== null) {
    // A 0-d tensor accepts axis 0 / -1 (PyTorch); there is nothing to reduce over.
    for (const a of normalizeAxes(axis, rank, kind)) if (a < rank) reduced[a] = true;
  }
  const keptShape = shape.map((d, i) => (reduced[i] ? 1 : d));
  const outShape = keepdim ? keptShape : shape.filter((_, i) => !reduced[i]);
  const count = shape.reduce((n, d, i) => (reduced[i] ? n * d : n), 1);
  if (kind === 'max') {
    const empty = shape.findIndex((d, i) => reduced[i] && d === 0);
    if (empty >= 0) {
      throw new ShapeError(
        axis === undefined || axis === null
          ? `max: cannot take the max of an empty tensor (shape ${formatShape(shape)})`
          : `max: cannot reduce over dimension ${empty} of size 0 (shape ${formatShape(shape)})`,
      );
    }
  }
  const outSize = shapeSize(outShape);
  const out = allocate(outSize, kind);
  if (outSize === 0) return new Tensor(out, outShape);
  const data = x.data;

  if (outSize === 1) {
    // Everything reduces into one value: one loop.
    if (kind === 'max') {
      let m = -Infinity;
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number;
        if (v > m || v !== v) m = v;
        if (m !== m) break;
      }
      out[0] = m;
    } else {
      let s = 0;
      for (let i = 0; i < data.length; i++) s += data[i] as number;
      out[0] = kind === 'mean' ? s / count : s;
    }
    return new Tensor(out, outShape);
  }

  // Merge neighbours with the same role, drop size-1 dimensions.
  const outStrides = stridesOf(keptShape);
  const dims: number[] = [];
  const red: boolean[] = [];
  const ostr: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = shape[d] as number;
    if (n === 1) continue;
    const r = reduced[d] as boolean;
    const s = r ? 0 : (outStrides[d] as number);
    const last = dims.length - 1;
    if (last >= 0 && red[last] === r) {
      dims[last] = (dims[last] as number) * n;
      ostr[last] = s;
    } else {
      dims.push(n);
      red.push(r);
      ostr.push(s);
    }
  }
  const inner = dims.length - 1;
  const n = dims[inner] as number;
  const innerReduced = red[inner] as boolean;
  const acc = kind === 'max' ? out.fill(-Infinity) : new Float64Array(outSize);
  const counter = new Array<number>(inner).fill(0);
  let o = 0;
  for (let i = 0; i < data.length; i += n) {
    if (kind === 'max') {
      if (innerReduced) {
        let m = acc[o] as number;
        for (let j = 0; j < n; j++) {
          const v = data[i + j] as number;
          if (v > m || v !== v) m = v;
        }
        acc[o] = m;
      } else {
        for (let j = 0; j < n; j++) {
          const v = data[i + j] as number;
          const m = acc[o + j] as number;
          if (v > m || v !== v) acc[o + j] = v;
        }
      }
    } else if (innerReduced) {
      let s = 0;
      for (let j = 0; j < n; j++) s += data[i + j] as number;
      acc[o] = (acc[o] as number) + s;
    } else {
      for (let j = 0; j < n; j++) acc[o + j] = (acc[o + j] as number) + (data[i + j] as number);
    }
    for (let d = inner - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (dims[d] as number)) {
        counter[d] = c;
        o += ostr[d] as number;
        break;
      }
      counter[d] = 0;
      o -= (c - 1) * (ostr[d] as number);
    }
  }
  if (kind !== 'max') {
    for (let i = 0; i < outSize; i++) out[i] = kind === 'mean' ? (acc[i] as number) / count : (acc[i] as number);
  }
  return new Tensor(out, outShape);
}

/**
 * Sum of the elements: over all of them (`axis` omitted or null) or over the given axes.
 * With `keepdim`, reduced dimensions stay as size 1. The sum of no elements is 0.
 *
 * Backward: the gradient copied back over the reduced dimensions (one pass).
 *
 * Differs from PyTorch: an empty axis list `[]` reduces over no axes (NumPy's meaning), where
 * `torch.sum(x, dim=[])` reduces over all of them.
 * @throws ShapeError for an axis out of range or repeated.
 */
export function sum(x: Tensor, axis?: Axis | null, options?: ReduceOptions): Tensor {
  const out = reduce('sum', x, axis, options);
  return recordOp('sum', out, [x], (g) => [expandTo(new Tensor(g.data, keptShape(x, axis)), x.shape)]);
}

/**
 * Arithmetic mean over all elements or over the given axes; the mean of no elements is NaN. See
 * {@link sum}. Backward: the gradient divided by the number of reduced elements, copied back over
 * them (PyTorch's `grad.expand(...) / count`, bit for bit).
 */
export function mean(x: Tensor, axis?: Axis | null, options?: ReduceOptions): Tensor {
  const out = reduce('mean', x, axis, options);
  return recordOp('mean', out, [x], (g) => {
    const kept = keptShape(x, axis);
    const count = x.shape.reduce((n, d, i) => (kept[i] === 1 ? n * d : n), 1);
    const scaled = allocate(g.size, 'mean');
    const gd = g.data;
    for (let i = 0; i < scaled.length; i++) scaled[i] = (gd[i] as number) / count;
    return [expandTo(new Tensor(scaled, kept), x.shape)];
  });
}

/** The shape of a reduction's output with keepdim (reduced dimensions as 1). */
function keptShape(x: Tensor, axis: Axis | null | undefined): number[] {
  if (axis === undefined || axis === null) return x.shape.map(() => 1);
  const axes = new Set(normalizeAxes(axis, x.shape.length, 'reduce'));
  return x.shape.map((d, i) => (axes.has(i) ? 1 : d));
}

/**
 * Largest value over all elements or over the given axes (values only, like `torch.amax`).
 * NaN propagates: a slice containing NaN has max NaN. See {@link sum} for `axis` and `keepdim`.
 *
 * Backward, as `torch.amax`: the gradient of each output is shared evenly among the positions that
 * hold the maximum (ties split it), and the other positions get 0. A slice whose max is NaN gets
 * NaN gradients everywhere, as in PyTorch (its `(g / count) * mask` is computed literally).
 * @throws ShapeError when a reduced dimension has size 0 (the max of nothing is undefined).
 */
export function max(x: Tensor, axis?: Axis | null, options?: ReduceOptions): Tensor {
  const out = reduce('max', x, axis, options);
  return recordOp('max', out, [x], (g) => [maxBackward(x, out, g, keptShape(x, axis))]);
}

/** dx = g / count where x equals its slice's max, else 0 (count = ties in the slice). */
function maxBackward(x: Tensor, out: Tensor, g: Tensor, kept: number[]): Tensor {
  const xd = x.data;
  const m = out.data;
  const gd = g.data;
  const dx = allocate(xd.length, 'max');
  if (xd.length === 0) return new Tensor(dx, x.shape);
  const counts = new Float32Array(m.length);
  let w = new RunWalker(kept, x.shape);
  const n = w.run;
  if (w.inner === 0) {
    for (let r = 0, i = 0; r < w.runs; r++, i += n) {
      const o = w.offset;
      const mo = m[o] as number;
      let c = 0;
      for (let j = 0; j < n; j++) if (xd[i + j] === mo) c++;
      counts[o] = (counts[o] as number) + c;
      w.next();
    }
  } else {
    for (let r = 0, i = 0; r < w.runs; r++, i += n) {
      const o = w.offset;
      for (let j = 0; j < n; j++) if (xd[i + j] === m[o + j]) counts[o + j] = (counts[o + j] as number) + 1;
      w.next();
    }
  }
  // PyTorch's (g / count) * mask, literally: where nothing matched (a NaN max) g / 0 * 0 is NaN.
  const share = new Float32Array(m.length);
  for (let o = 0; o < m.length; o++) share[o] = (gd[o] as number) / (counts[o] as number);
  w = new RunWalker(kept, x.shape);
  if (w.inner === 0) {
    for (let r = 0, i = 0; r < w.runs; r++, i += n) {
      const o = w.offset;
      const mo = m[o] as number;
      const s = share[o] as number;
      const z = s * 0;
      for (let j = 0; j < n; j++) dx[i + j] = xd[i + j] === mo ? s : z;
      w.next();
    }
  } else {
    for (let r = 0, i = 0; r < w.runs; r++, i += n) {
      const o = w.offset;
      for (let j = 0; j < n; j++) {
        const s = share[o + j] as number;
        dx[i + j] = xd[i + j] === m[o + j] ? s : s * 0;
      }
      w.next();
    }
  }
  return new Tensor(dx, x.shape);
}
