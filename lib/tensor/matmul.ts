/**
 * Matrix products with `torch.matmul`'s rules, on the native GEMM (`lib/ops/gemm.ts`).
 *
 * Operands are read in place: each batch item is one gemm call whose `aOffset`/`bOffset`/`cOffset`
 * point into the operands' buffers, so nothing is copied. When `b` has no batch (or a batch of 1),
 * `a`'s batch rows are consecutive and the whole product is a single gemm with `m = batch * rows`.
 *
 * Backward: `dA = G B^T` and `dB = A^T G` through the GEMM's transposed-operand paths (no transposed
 * copies), summed over the batch dimensions an operand was broadcast along (the GEMM accumulates
 * with beta = 1). When `b` is one matrix, each is again a single gemm: `dB = A^T G` with A and G as
 * tall matrices sums over the batch by itself. Only the operands that require grad are computed.
 */
import { recordOp } from '../autograd/record.js';
import { ShapeError, invalidArgument } from '../errors.js';
import { gemm } from '../ops/gemm.js';
import { allocate, broadcastStrides, formatShape, shapeSize, tryBroadcastShapes } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * Matrix product of `a` and `b`, as `torch.matmul`:
 * - 1-d @ 1-d: dot product (0-d result);
 * - 2-d @ 2-d: matrix product `[m, k] @ [k, n] -> [m, n]`;
 * - 1-d @ 2-d: `[k] @ [k, n] -> [n]` (the vector is a row, then dropped);
 * - 2-d @ 1-d: `[m, k] @ [k] -> [m]` (the vector is a column, then dropped);
 * - N-d: the last two dimensions multiply as matrices and the leading (batch) dimensions broadcast
 *   (`[b, m, k] @ [k, n]`, `[m, k] @ [b, k, n]`, `[1, m, k] @ [b, k, n]` ...).
 * @throws ShapeError when an operand is 0-d, the inner dimensions differ or the batch dimensions
 *   do not broadcast; the message names both shapes.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor)) throw invalidArgument('the first operand of matmul()', 'a Tensor', a);
  if (!(b instanceof Tensor)) throw invalidArgument('the second operand of matmul()', 'a Tensor', b);
  const fa = formatShape(a.shape);
  const fb = formatShape(b.shape);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new ShapeError(`matmul: both operands need at least one dimension, received shapes ${fa} and ${fb}`);
  }
  const as = a.ndim === 1 ? [1, a.shape[0] as number] : a.shape;
  const bs = b.ndim === 1 ? [b.shape[0] as number, 1] : b.shape;
  const m = as[as.length - 2] as number;
  const k = as[as.length - 1] as number;
  const kb = bs[bs.length - 2] as number;
  const n = bs[bs.length - 1] as number;
  if (k !== kb) {
    throw new ShapeError(`matmul: cannot multiply shapes ${fa} and ${fb} (inner dimensions ${k} and ${kb} differ)`);
  }
  const batchA = as.slice(0, -2);
  const batchB = bs.slice(0, -2);
  const batch = tryBroadcastShapes(batchA, batchB);
  if (batch === undefined) {
    throw new ShapeError(
      `matmul: cannot multiply shapes ${fa} and ${fb} ` +
        `(batch dimensions ${formatShape(batchA)} and ${formatShape(batchB)} cannot be broadcast)`,
    );
  }
  const outShape = [...batch];
  if (a.ndim > 1) outShape.push(m);
  if (b.ndim > 1) outShape.push(n);
  const count = shapeSize(batch);
  const out = allocate(count * m * n, 'matmul');
  const result = new Tensor(out, outShape);
  const p: Problem = { a: a.data, b: b.data, m, n, k, batch, batchA, batchB };
  if (out.length > 0 && k > 0) forward(p, out);
  return recordOp('matmul', result, [a, b], (g, needs) => {
    const da = needs[0] ? allocate(a.size, 'matmul') : null;
    const db = needs[1] ? allocate(b.size, 'matmul') : null;
    if (g.size > 0 && k > 0) backward(p, g.data, da, db);
    return [da === null ? null : new Tensor(da, a.shape), db === null ? null : new Tensor(db, b.shape)];
  });
}

/** One product: operands as stacks of matrices `[...batchA, m, k]` and `[...batchB, k, n]`. */
interface Problem {
  a: Float32Array;
  b: Float32Array;
  m: number;
  n: number;
  k: number;
  /** The broadcast batch shape, and each operand's own batch shape. */
  batch: number[];
  batchA: readonly number[];
  batchB: readonly number[];
}

/**
 * Calls `fn(item, ia, ib)` for every item of the broadcast batch, with the batch indices of the
 * operand matrices it reads (broadcast dimensions repeat an index).
 */
function forEachItem(p: Problem, fn: (item: number, ia: number, ib: number) => void): void {
  const { batch } = p;
  const strideA = broadcastStrides(p.batchA, batch);
  const strideB = broadcastStrides(p.batchB, batch);
  const rank = batch.length;
  const count = shapeSize(batch);
  const counter = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let item = 0; item < count; item++) {
    fn(item, ia, ib);
    for (let d = rank - 1; d >= 0; d--) {
      const c = (counter[d] as number) + 1;
      if (c < (batch[d] as number)) {
        counter[d] = c;
        ia += strideA[d] as number;
        ib += strideB[d] as number;
        break;
      }
      counter[d] = 0;
      ia -= (c - 1) * (strideA[d] as number);
      ib -= (c - 1) * (strideB[d] as number);
    }
  }
}

function forward(p: Problem, out: Float32Array): void {
  const { m, n, k } = p;
  if (shapeSize(p.batchB) === 1) {
    // b is one matrix: a's batch items are consecutive rows of one tall matrix.
    gemm({ m: shapeSize(p.batchA) * m, n, k, a: p.a, b: p.b, c: out });
    return;
  }
  forEachItem(p, (item, ia, ib) => {
    gemm({ m, n, k, a: p.a, aOffset: ia * m * k, b: p.b, bOffset: ib * k * n, c: out, cOffset: item * m * n });
  });
}

/**
 * dA = G B^T and dB = A^T G per batch item, on the GEMM with transposed operands (no transposed
 * copies). Items of a broadcast operand accumulate (beta = 1 after the first one written).
 */
function backward(p: Problem, g: Float32Array, da: Float32Array | null, db: Float32Array | null): void {
  const { m, n, k } = p;
  const sizeA = shapeSize(p.batchA);
  const sizeB = shapeSize(p.batchB);
  if (sizeB === 1) {
    // One matrix B: G and A are tall matrices of sizeA * m rows. dB sums over the batch by itself.
    const rows = sizeA * m;
    if (da !== null) gemm({ m: rows, n: k, k: n, a: g, b: p.b, transB: true, c: da });
    if (db !== null) gemm({ transA: true, m: k, n, k: rows, a: p.a, b: g, c: db });
    return;
  }
  const count = shapeSize(p.batch);
  // An operand's matrix is read by several items when its batch is broadcast: accumulate into it.
  const seenA = da !== null && sizeA < count ? new Uint8Array(sizeA) : null;
  const seenB = db !== null && sizeB < count ? new Uint8Array(sizeB) : null;
  forEachItem(p, (item, ia, ib) => {
    if (da !== null) {
      const beta = seenA !== null && seenA[ia] === 1 ? 1 : 0;
      if (seenA !== null) seenA[ia] = 1;
      gemm({
        m, n: k, k: n, a: g, aOffset: item * m * n, b: p.b, bOffset: ib * k * n, transB: true,
        c: da, cOffset: ia * m * k, beta,
      });
    }
    if (db !== null) {
      const beta = seenB !== null && seenB[ib] === 1 ? 1 : 0;
      if (seenB !== null) seenB[ib] = 1;
      gemm({
        transA: true, m: k, n, k: m, a: p.a, aOffset: ia * m * k, b: g, bOffset: item * m * n,
        c: db, cOffset: ib * k * n, beta,
      });
    }
  });
}
