/**
 * Matrix products with `torch.matmul`'s rules, on the native GEMM (`lib/ops/gemm.ts`).
 *
 * Operands are read in place: each batch item is one gemm call whose `aOffset`/`bOffset`/`cOffset`
 * point into the operands' buffers, so nothing is copied. When `b` has no batch (or a batch of 1),
 * `a`'s batch rows are consecutive and the whole product is a single gemm with `m = batch * rows`.
 */
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
  if (out.length === 0 || k === 0) return result;

  if (shapeSize(batchB) === 1) {
    // b is one matrix: a's batch items are consecutive rows of one tall matrix.
    gemm({ m: shapeSize(batchA) * m, n, k, a: a.data, b: b.data, c: out });
    return result;
  }
  const strideA = broadcastStrides(batchA, batch);
  const strideB = broadcastStrides(batchB, batch);
  const rank = batch.length;
  const counter = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let item = 0; item < count; item++) {
    gemm({ m, n, k, a: a.data, aOffset: ia * m * k, b: b.data, bOffset: ib * k * n, c: out, cOffset: item * m * n });
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
  return result;
}
