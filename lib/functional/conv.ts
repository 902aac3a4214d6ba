/**
 * `F.conv1d`, `F.conv2d`, `F.conv3d`: convolution over text (1-D, [N, C, L]), images (2-D,
 * [N, C, H, W]) and video (3-D, [N, C, D, H, W]), as in torch.nn.functional, differentiable.
 * The gradient of a weight is the sum over every position the filter touched (shared weights).
 */
import { recordOp } from '../autograd/record.js';
import { ShapeError, invalidArgument } from '../errors.js';
import { convBackwardData, convBackwardWeight, convBiasGrad, convForward, convGeometry, type ConvOptions } from '../ops/conv.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export type { ConvOptions, Padding } from '../ops/conv.js';

function convNd(op: string, rank: number, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions | undefined): Tensor {
  if (!(input instanceof Tensor)) throw invalidArgument(`the input of ${op}`, 'a Tensor', input);
  if (!(weight instanceof Tensor)) throw invalidArgument(`the weight of ${op}`, 'a Tensor', weight);
  if (bias !== undefined && bias !== null && !(bias instanceof Tensor)) throw invalidArgument(`the bias of ${op}`, 'a Tensor or null', bias);
  const g = convGeometry(op, rank, input.shape, weight.shape, options);
  const b = bias ?? null;
  if (b !== null && (b.shape.length !== 1 || b.shape[0] !== g.outChannels)) {
    throw new ShapeError(`${op}: bias has shape ${formatShape(b.shape)}, expected [${g.outChannels}]`);
  }
  const y = new Tensor(convForward(g, input.data, weight.data, b?.data ?? null), g.outShape);
  return recordOp(op, y, [input, weight, b], (grad, needs) => {
    const dy = grad.data;
    const dx = needs[0] ? new Tensor(convBackwardData(g, dy, weight.data), input.shape) : null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[1]) {
      const r = convBackwardWeight(g, input.data, dy, needs[2] === true);
      dw = new Tensor(r.dw, weight.shape);
      if (r.dbias !== null) db = new Tensor(r.dbias, [g.outChannels]);
    } else if (needs[2]) {
      db = new Tensor(convBiasGrad(g, dy), [g.outChannels]);
    }
    return [dx, dw, db];
  });
}

/** 1-D convolution: input [N, C, L] (or [C, L]), weight [outChannels, C / groups, k]. */
export function conv1d(input: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv1d', 1, input, weight, bias, options);
}

/**
 * 2-D convolution: input [N, C, H, W] (or [C, H, W]), weight [outChannels, C / groups, kH, kW],
 * bias [outChannels] or null. `padding` is a number, one per axis, 'valid' or 'same'.
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv2d', 2, input, weight, bias, options);
}

/** 3-D convolution: input [N, C, D, H, W] (or [C, D, H, W]), weight [outChannels, C / groups, kD, kH, kW]. */
export function conv3d(input: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv3d', 3, input, weight, bias, options);
}
