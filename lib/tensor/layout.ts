/**
 * Layout ops. Every tensor is contiguous, so changing only the shape never moves data:
 * `reshape`, `view`, `flatten`, `squeeze` and `unsqueeze` return a tensor that shares the input's
 * buffer (writes through one show in the other). `transpose` and `permute` reorder the elements and
 * therefore return a copy, which stays contiguous.
 *
 * `expand` broadcasts a tensor to a larger shape, also as a copy.
 *
 * All of them are differentiable: the shape-only ops hand the gradient back reshaped (sharing its
 * buffer), `transpose`/`permute` permute it back with the inverse permutation, and `expand` sums it
 * over the broadcast dimensions.
 *
 * Differs from PyTorch: `torch.transpose`/`permute`/`expand` return strided views; here they copy
 * (so writes to the result do not reach the input). `torch.reshape` shares only when it can; here it
 * always can, so it always shares.
 */
import { recordOp } from '../autograd/record.js';
import { sumToShape } from '../autograd/sum-to-shape.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { allocate, formatShape, invalidShape, normalizeAxis, shapeSize, stridesOf, type Shape } from './shape.js';
import { Tensor } from './tensor.js';
import { broadcastTo } from './walk.js';

function checkTensor(x: unknown, op: string): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument(`the input of ${op}()`, 'a Tensor', x);
  return x;
}

/** Resolves a target shape with at most one -1 against the element count of `x`. */
function resolveShape(x: Tensor, shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw invalidArgument(`the shape of ${op}()`, 'an array of integers', shape);
  const dims = shape as unknown[];
  if (!dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= -1)) throw invalidShape(op, dims, true);
  const nums = dims as number[];
  const infer = nums.filter((d) => d === -1).length;
  if (infer > 1) throw new ShapeError(`${op}: only one dimension can be -1, received ${formatShape(nums)}`);
  const known = nums.reduce((n, d) => (d === -1 ? n : n * d), 1);
  const what = `a tensor of shape ${formatShape(x.shape)} (${x.size} elements)`;
  if (infer === 1) {
    if (known === 0) {
      throw new ShapeError(
        `${op}: cannot infer the -1 in ${formatShape(nums)} for ${what}: the other dimensions multiply to 0`,
      );
    }
    if (x.size % known !== 0) throw new ShapeError(`${op}: cannot reshape ${what} into shape ${formatShape(nums)}`);
    return nums.map((d) => (d === -1 ? x.size / known : d));
  }
  if (known !== x.size) {
    throw new ShapeError(`${op}: cannot reshape ${what} into shape ${formatShape(nums)} (${known} elements)`);
  }
  return nums.slice();
}

/**
 * `x`'s buffer with a new shape (same element count), recorded as `op`. Backward: the gradient
 * with `x`'s shape, sharing the gradient's buffer.
 */
function reshaped(op: string, x: Tensor, shape: Shape): Tensor {
  return recordOp(op, new Tensor(x.data, shape), [x], (g) => [new Tensor(g.data, x.shape)]);
}

/** The permuted copy, recorded as `op`. Backward: the gradient permuted back (inverse permutation). */
function permuted(op: string, x: Tensor, perm: readonly number[]): Tensor {
  const out = permuteCopy(x, perm, op);
  return recordOp(op, out, [x], (g) => {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [permuteCopy(g, inverse, op)];
  });
}

/**
 * The same elements with a new shape. One dimension may be -1: it is inferred from the others.
 * The result shares `x`'s buffer (every tensor is contiguous, so no copy is ever needed); use
 * `reshape(x, shape).clone()` for an independent copy.
 * @throws ShapeError when the element counts differ or the shape is invalid.
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'reshape');
  return reshaped('reshape', x, resolveShape(x, shape, 'reshape'));
}

/**
 * A view of `x` with a new shape (one dimension may be -1). Always shares `x`'s buffer, like
 * `torch.Tensor.view`: writes through either tensor show in both.
 * @throws ShapeError when the element counts differ or the shape is invalid.
 */
export function view(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'view');
  return reshaped('view', x, resolveShape(x, shape, 'view'));
}

/**
 * Merges dimensions `startDim..endDim` (inclusive, negative counts from the end) into one; shares
 * the buffer. A 0-d tensor becomes shape `[1]`, as in PyTorch.
 */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, 'flatten');
  const rank = x.ndim;
  const start = normalizeAxis(startDim, rank, 'flatten', 'dim');
  const end = normalizeAxis(endDim, rank, 'flatten', 'dim');
  if (rank === 0) return reshaped('flatten', x, [1]);
  if (start > end) {
    throw new ShapeError(`flatten: startDim ${startDim} comes after endDim ${endDim} for a tensor of rank ${rank}`);
  }
  const merged = shapeSize(x.shape.slice(start, end + 1));
  return reshaped('flatten', x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
}

/**
 * Removes dimensions of size 1: all of them, or only `dim` (a no-op when that dimension is not 1,
 * as in PyTorch). Shares the buffer.
 */
export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor(x, 'squeeze');
  if (dim === undefined) return reshaped('squeeze', x, x.shape.filter((d) => d !== 1));
  const d = normalizeAxis(dim, x.ndim, 'squeeze', 'dim');
  if (x.ndim === 0 || x.shape[d] !== 1) return reshaped('squeeze', x, x.shape);
  return reshaped('squeeze', x, x.shape.filter((_, i) => i !== d));
}

/**
 * Inserts a dimension of size 1 at position `dim` (in `-(rank+1)..rank`). Shares the buffer.
 */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, 'unsqueeze');
  const r = x.ndim + 1;
  if (typeof dim !== 'number' || !Number.isInteger(dim)) {
    throw invalidArgument('the dim of unsqueeze()', 'an integer', dim);
  }
  if (dim < -r || dim >= r) {
    throw new ShapeError(
      `unsqueeze: dim ${dim} is out of range for a tensor of rank ${x.ndim} (expected ${-r}..${r - 1})`,
    );
  }
  const d = dim < 0 ? dim + r : dim;
  return reshaped('unsqueeze', x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Tile edge for the cache-blocked 2-d copy. */
const TILE = 32;

/** out[o + p*Q + q] = src[s + p*sp + q*sq] for p < P, q < Q, in tiles. */
function copy2d(
  out: Float32Array,
  o: number,
  src: Float32Array,
  s: number,
  P: number,
  Q: number,
  sp: number,
  sq: number,
): void {
  for (let p0 = 0; p0 < P; p0 += TILE) {
    const p1 = Math.min(P, p0 + TILE);
    for (let q0 = 0; q0 < Q; q0 += TILE) {
      const q1 = Math.min(Q, q0 + TILE);
      for (let p = p0; p < p1; p++) {
        const ro = o + p * Q;
        const rs = s + p * sp;
        for (let q = q0; q < q1; q++) out[ro + q] = src[rs + q * sq] as number;
      }
    }
  }
}

/** Copies `x` with its dimensions reordered: output dimension i is input dimension perm[i]. */
function permuteCopy(x: Tensor, perm: readonly number[], op: string): Tensor {
  const outShape = perm.map((p) => x.shape[p] as number);
  const out = allocate(x.size, op);
  if (x.size === 0) return new Tensor(out, outShape);
  const st = stridesOf(x.shape);
  // Drop size-1 dimensions; merge neighbours that are also neighbours, in order, in the source.
  const dims: number[] = [];
  const ss: number[] = [];
  for (let i = 0; i < perm.length; i++) {
    const n = outShape[i] as number;
    if (n === 1) continue;
    const s = st[perm[i] as number] as number;
    const last = dims.length - 1;
    if (last >= 0 && ss[last] === s * n) {
      dims[last] = (dims[last] as number) * n;
      ss[last] = s;
    } else {
      dims.push(n);
      ss.push(s);
    }
  }
  if (dims.length <= 1) {
    out.set(x.data);
    return new Tensor(out, outShape);
  }
  const r = dims.length;
  const P = dims[r - 2] as number;
  const Q = dims[r - 1] as number;
  const sp = ss[r - 2] as number;
  const sq = ss[r - 1] as number;
  const block = P * Q;
  const outer = r - 2;
  const counter = new Array<number>(outer).fill(0);
  let s = 0;
  for (let o = 0; o < x.size; o += block) {
    copy2d(out, o, x.data, s, P, Q, sp, sq);
    for (let d = outer - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (dims[d] as number)) {
        counter[d] = c;
        s += ss[d] as number;
        break;
      }
      counter[d] = 0;
      s -= (c - 1) * (ss[d] as number);
    }
  }
  return new Tensor(out, outShape);
}

/**
 * A copy of `x` with dimensions `dim0` and `dim1` swapped (negative dims count from the end).
 * With no dims, a 2-d tensor is transposed (like `t.T`) and a 0-d or 1-d tensor is copied as is.
 * @throws ShapeError for a dim out of range, or no dims on a tensor of rank above 2.
 */
export function transpose(x: Tensor, dim0?: number, dim1?: number): Tensor {
  checkTensor(x, 'transpose');
  const rank = x.ndim;
  if (dim0 === undefined && dim1 === undefined) {
    if (rank > 2) {
      throw new ShapeError(
        `transpose: a tensor of rank ${rank} (shape ${formatShape(x.shape)}) needs the two dims to swap`,
      );
    }
    return permuted('transpose', x, rank === 2 ? [1, 0] : x.shape.map((_, i) => i));
  }
  if (dim0 === undefined || dim1 === undefined) {
    throw new ArgumentError('transpose: give both dims to swap, or neither for a 2-d tensor');
  }
  const a = normalizeAxis(dim0, rank, 'transpose', 'dim');
  const b = normalizeAxis(dim1, rank, 'transpose', 'dim');
  const perm = x.shape.map((_, i) => i);
  if (rank > 0) {
    perm[a] = b;
    perm[b] = a;
  }
  return permuted('transpose', x, perm);
}

/**
 * A copy of `x` with its dimensions reordered: output dimension i is input dimension `dims[i]`
 * (negative dims count from the end).
 * @throws ShapeError when `dims` is not a permutation of the input's dimensions.
 */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, 'permute');
  if (!Array.isArray(dims)) throw invalidArgument('the dims of permute()', 'an array of integers', dims);
  const rank = x.ndim;
  if (dims.length !== rank) {
    throw new ShapeError(
      `permute: a tensor of shape ${formatShape(x.shape)} needs ${rank} dims, ` +
        `received ${dims.length}: ${formatShape(dims)}`,
    );
  }
  const perm = dims.map((d) => normalizeAxis(d, rank, 'permute', 'dim'));
  if (new Set(perm).size !== perm.length) {
    throw new ShapeError(
      `permute: dims ${formatShape(dims)} repeat a dimension; expected a permutation of 0..${rank - 1}`,
    );
  }
  return permuted('permute', x, perm);
}

/**
 * `x` broadcast to `shape` (a copy), as `torch.Tensor.expand`: `shape` may add leading dimensions,
 * a dimension of size 1 may grow to any size, and -1 keeps a dimension as it is. Backward: the
 * gradient summed over the broadcast dimensions.
 *
 * Differs from PyTorch: the result is a new contiguous tensor, not a view with zero strides.
 * @throws ShapeError when `shape` has fewer dimensions than `x` or a dimension of `x` that is not 1
 *   differs from its target.
 */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkTensor(x, 'expand');
  if (!Array.isArray(shape)) throw invalidArgument('the shape of expand()', 'an array of integers', shape);
  const dims = shape as unknown[];
  if (!dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= -1)) throw invalidShape('expand', dims, true);
  const want = dims as number[];
  const lead = want.length - x.ndim;
  if (lead < 0) {
    throw new ShapeError(
      `expand: the target shape ${formatShape(want)} has fewer dimensions than the tensor's shape ${formatShape(x.shape)}`,
    );
  }
  const target = want.map((d, i) => {
    if (i < lead) {
      if (d === -1) {
        throw new ShapeError(`expand: -1 is not allowed for the new leading dimension ${i} in ${formatShape(want)}`);
      }
      return d;
    }
    const own = x.shape[i - lead] as number;
    if (d === -1) return own;
    if (own !== d && own !== 1) {
      throw new ShapeError(
        `expand: cannot expand shape ${formatShape(x.shape)} to ${formatShape(want)} ` +
          `(dimension ${i} has size ${own}, which is not 1 and differs from ${d})`,
      );
    }
    return d;
  });
  const size = shapeSize(target);
  if (!Number.isSafeInteger(size)) throw new ShapeError(`expand: shape ${formatShape(target)} has too many elements (${size})`);
  const out = new Tensor(broadcastTo(x.data, x.shape, target, allocate(size, 'expand')), target);
  return recordOp('expand', out, [x], (g) => [sumToShape(g, x.shape)]);
}
