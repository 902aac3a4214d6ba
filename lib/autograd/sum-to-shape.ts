/**
 * The two halves of broadcasting on the tape. {@link sumToShape} is the backward of broadcasting: a
 * gradient of the broadcast shape summed down to an operand's shape (over the leading dimensions
 * broadcasting added and the dimensions where the operand had size 1). {@link expandTo} is the
 * backward of a reduction: a gradient copied back up to the input's shape.
 *
 * Both return their input unchanged (no copy) when the shapes already match, so the backward of
 * `a + b` with equal shapes hands `gradOutput` itself to both operands.
 */
import { sum } from '../tensor/reduce.js';
import { allocate, shapeSize, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastTo } from '../tensor/walk.js';

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * `grad` summed down to `shape`, which must broadcast to `grad.shape`. Returns `grad` itself when
 * the shapes are equal, and a tensor sharing the sum's buffer otherwise.
 */
export function sumToShape(grad: Tensor, shape: Shape): Tensor {
  if (sameShape(grad.shape, shape)) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length > 0 ? sum(grad, axes, { keepdim: true }) : grad;
  return new Tensor(reduced.data, shape);
}

/**
 * `t` broadcast up to `shape` (a copy in one pass, or `t` itself when the shapes are equal). `t`'s
 * shape must broadcast to `shape`; the caller guarantees it.
 */
export function expandTo(t: Tensor, shape: Shape): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const out = allocate(shapeSize(shape), 'expand');
  return new Tensor(broadcastTo(t.data, t.shape, shape, out), shape);
}
