/**
 * Joining and splitting along one dimension: {@link cat} and {@link split} (also `F.cat`/`F.split`).
 *
 * Along dimension `d` of a contiguous tensor, the elements form `outer` rows (the product of the
 * dimensions before `d`), each the concatenation of the pieces' blocks of `size[d] * inner` elements.
 * Both ops copy those blocks row by row; when `outer` is 1 (dim 0, or only size-1 dimensions before
 * it) a piece is one contiguous range, so split returns views and cat's backward hands out views
 * of the gradient, without copying.
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { allocate, formatShape, normalizeAxis, shapeSize, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

/** Options of {@link cat} and {@link split}. */
export interface DimOptions {
  /** The dimension to join or split along (negative counts from the end). Default 0. */
  dim?: number;
}

function readDim(options: unknown, op: string): number {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidArgument(`the options of ${op}()`, 'an object such as { dim: 1 }', options);
  }
  return (options as DimOptions).dim ?? 0;
}

/**
 * Copies `outer` blocks of `len` elements: block o from `src[srcOff + o * srcRow]` to
 * `dst[dstOff + o * dstRow]`.
 */
function copyBlocks(
  src: Float32Array,
  srcOff: number,
  srcRow: number,
  dst: Float32Array,
  dstOff: number,
  dstRow: number,
  outer: number,
  len: number,
): void {
  if (len === 0) return;
  if (len >= 64) {
    for (let o = 0; o < outer; o++) {
      const s = srcOff + o * srcRow;
      dst.set(src.subarray(s, s + len), dstOff + o * dstRow);
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    const s = srcOff + o * srcRow;
    const d = dstOff + o * dstRow;
    for (let j = 0; j < len; j++) dst[d + j] = src[s + j] as number;
  }
}

/**
 * Concatenates tensors along dimension `dim` (default 0), as `torch.cat`. All tensors have the same
 * number of dimensions and the same sizes except along `dim`. Backward: each input that requires
 * grad gets its slice of the gradient (a view of it, without copying, when `outer` is 1).
 *
 * Differs from PyTorch: the legacy rule that skips 1-d empty tensors of shape `[0]` whatever the
 * other shapes is not implemented; every tensor must fit.
 * @throws ShapeError when the list is empty, a tensor is 0-d, or the shapes do not fit; the message
 *   names the shapes.
 */
export function cat(tensors: readonly Tensor[], options?: DimOptions): Tensor {
  if (!Array.isArray(tensors as unknown)) throw invalidArgument('the tensors of cat()', 'an array of Tensors', tensors);
  if (tensors.length === 0) throw new ArgumentError('cat: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw invalidArgument(`tensor ${i} of cat()`, 'a Tensor', t);
  });
  const first = tensors[0] as Tensor;
  const rank = first.ndim;
  if (rank === 0) throw new ShapeError('cat: zero-dimensional tensor 0 cannot be concatenated');
  const dim = normalizeAxis(readDim(options, 'cat'), rank, 'cat', 'dim');
  let total = 0;
  tensors.forEach((t, i) => {
    const same = t.ndim === rank && t.shape.every((d, j) => j === dim || d === first.shape[j]);
    if (!same) {
      throw new ShapeError(
        `cat: tensors must have the same shape except in dimension ${dim}, ` +
          `but tensor 0 has shape ${formatShape(first.shape)} and tensor ${i} has shape ${formatShape(t.shape)}`,
      );
    }
    total += t.shape[dim] as number;
  });
  const outer = shapeSize(first.shape.slice(0, dim));
  const inner = shapeSize(first.shape.slice(dim + 1));
  const outShape = first.shape.slice();
  outShape[dim] = total;
  const row = total * inner;
  const out = allocate(outer * row, 'cat');
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    const len = (t.shape[dim] as number) * inner;
    offsets.push(offset);
    copyBlocks(t.data, 0, len, out, offset, row, outer, len);
    offset += len;
  }
  return recordOp('cat', new Tensor(out, outShape), tensors, (g, needs) =>
    tensors.map((t, i) => {
      if (!needs[i]) return null;
      const len = (t.shape[dim] as number) * inner;
      const start = offsets[i] as number;
      if (outer === 1) return new Tensor(g.data.subarray(start, start + len), t.shape);
      const dx = allocate(t.size, 'cat');
      copyBlocks(g.data, start, row, dx, 0, len, outer, len);
      return new Tensor(dx, t.shape);
    }),
  );
}

/**
 * Splits `x` along dimension `dim` (default 0) into pieces, as `torch.split`: a number gives pieces
 * of that size (the last one smaller when the size does not divide), an array gives the size of
 * each piece (they must add up to the dimension's size). Returns an array of tensors; each piece is
 * its own differentiable op, whose backward places its gradient into a zero gradient of `x`'s shape.
 *
 * Like PyTorch's views, pieces share `x`'s buffer when they are contiguous ranges of it (dim 0, or
 * only size-1 dimensions before `dim`): their `data` is then a `subarray` of `x.data` (nonzero
 * `byteOffset`); otherwise they are copies.
 *
 * Backward cost: tape nodes have one output, so each piece that receives a gradient hands back a
 * gradient of `x`'s full size (zeros outside its slice) and the tape adds them up. Cheap for a few
 * pieces; to cut a tensor into many, prefer ops that consume it whole.
 * @throws ArgumentError for a size that is not a positive integer (0 only for an empty dimension),
 *   ShapeError when the sizes do not add up or `x` is 0-d.
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], options?: DimOptions): Tensor[] {
  if (!(x instanceof Tensor)) throw invalidArgument('the input of split()', 'a Tensor', x);
  if (x.ndim === 0) throw new ShapeError('split: a zero-dimensional tensor cannot be split');
  const dim = normalizeAxis(readDim(options, 'split'), x.ndim, 'split', 'dim');
  const n = x.shape[dim] as number;
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    const size = splitSizeOrSections;
    if (!Number.isInteger(size) || size < 0 || (size === 0 && n > 0)) {
      throw invalidArgument('the split size of split()', 'a positive integer', size);
    }
    sizes = [];
    for (let start = 0; start < n; start += size) sizes.push(Math.min(size, n - start));
    if (sizes.length === 0) sizes.push(0);
  } else if (Array.isArray(splitSizeOrSections as unknown)) {
    sizes = (splitSizeOrSections as readonly number[]).slice();
    sizes.forEach((s, i) => {
      if (typeof s !== 'number' || !Number.isInteger(s) || s < 0) {
        throw invalidArgument(`split size ${i} of split()`, 'a non-negative integer', s);
      }
    });
    const sum = sizes.reduce((a, b) => a + b, 0);
    if (sum !== n) {
      throw new ShapeError(
        `split: split sizes ${formatShape(sizes)} add up to ${sum} but dimension ${dim} of the tensor ` +
          `(shape ${formatShape(x.shape)}) has size ${n}`,
      );
    }
  } else {
    throw invalidArgument('the split sizes of split()', 'a positive integer or an array of integers', splitSizeOrSections);
  }
  const outer = shapeSize(x.shape.slice(0, dim));
  const inner = shapeSize(x.shape.slice(dim + 1));
  const row = n * inner;
  const pieces: Tensor[] = [];
  let start = 0;
  for (const size of sizes) {
    const shape: number[] = x.shape.slice();
    shape[dim] = size;
    const len = size * inner;
    const offset = start;
    let data: Float32Array;
    if (outer === 1) {
      data = x.data.subarray(offset, offset + len);
    } else {
      data = allocate(outer * len, 'split');
      copyBlocks(x.data, offset, row, data, 0, len, outer, len);
    }
    pieces.push(recordOp('split', new Tensor(data, shape), [x], (g) => [placeInto(g, x.shape, outer, row, offset, len)]));
    start += len;
  }
  return pieces;
}

/** A zero tensor of `shape` with `g` written into the blocks one piece of a split occupies. */
function placeInto(g: Tensor, shape: Shape, outer: number, row: number, offset: number, len: number): Tensor {
  const dx = allocate(outer * row, 'split');
  copyBlocks(g.data, 0, len, dx, offset, row, outer, len);
  return new Tensor(dx, shape);
}
