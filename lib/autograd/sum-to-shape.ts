/**
 * The backward of broadcasting: a gradient of the broadcast shape summed down to an operand's shape
 * (over the leading dimensions broadcasting added and the dimensions where the operand had size 1).
 */
import { add } from '../tensor/elementwise.js';
import { reshape } from '../tensor/layout.js';
import { sum } from '../tensor/reduce.js';
import type { Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export function sumToShape(grad: Tensor, shape: Shape): Tensor {
  if (grad.shape.length === shape.length && grad.shape.every((d, i) => d === shape[i])) return grad;
  const lead = grad.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && grad.shape[i] !== 1)) axes.push(i);
  }
  const reduced = axes.length > 0 ? sum(grad, axes, { keepdim: true }) : grad;
  return reshape(reduced, shape);
}

/** `t` broadcast up to `shape` (a copy): the backward of a reduction. */
export function expandTo(t: Tensor, shape: Shape): Tensor {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return t;
  let size = 1;
  for (const d of shape) size *= d;
  return add(t, new Tensor(new Float32Array(size), shape));
}
