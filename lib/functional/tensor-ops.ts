/**
 * Shape and linear ops of the functional API: `F.linear`, `F.flatten`, `F.cat`, `F.split`, `F.add`,
 * `F.pad` and `F.embedding`. All are differentiable. `F.linear` runs on the native GEMM forward and
 * backward (transposed operands are read in place, never copied); the others are data movement in
 * typed-array loops and block copies.
 */
import { recordOp } from '../autograd/record.js';
import { ArgumentError, ShapeError, invalidArgument } from '../errors.js';
import { gemm } from '../ops/gemm.js';
import { cat as catImpl, split as splitImpl, type DimOptions } from '../tensor/concat.js';
import { add as addImpl } from '../tensor/elementwise.js';
import { flatten as flattenImpl } from '../tensor/layout.js';
import { allocate, checkShape, formatShape, shapeSize, stridesOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export type { DimOptions } from '../tensor/concat.js';

// ---------------------------------------------------------------------------------------------
// linear

/** A vector of ones, grown on demand and shared: the left operand of the bias-gradient GEMM. */
let onesCache = new Float32Array(0);

function ones(n: number): Float32Array {
  if (onesCache.length < n) onesCache = new Float32Array(Math.max(n, 2 * onesCache.length)).fill(1);
  return onesCache;
}

/**
 * Applies a linear (fully connected) layer: `input @ weight^T + bias`, as `torch.nn.functional.linear`.
 * `input` is `[..., inFeatures]` (any number of leading dimensions, or a single vector),
 * `weight` is `[outFeatures, inFeatures]` and `bias` (optional) `[outFeatures]`; the result is
 * `[..., outFeatures]`.
 *
 * Forward: one GEMM over all leading dimensions at once, reading `weight` transposed in place, with
 * the bias added in the GEMM's epilogue. Backward, each only for the operands that require grad:
 * `dInput = dY W`, `dWeight = dY^T X` (summed over all leading dimensions by the GEMM itself) and
 * `dBias = 1^T dY`, all on the GEMM with transposed operands read in place.
 *
 * Differs from PyTorch: `bias` must have shape `[outFeatures]` exactly (PyTorch also broadcasts a
 * bias of shape `[1]`).
 * @throws ShapeError when the shapes do not fit; the message names them.
 */
export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (!(input instanceof Tensor)) throw invalidArgument('the input of linear()', 'a Tensor', input);
  if (!(weight instanceof Tensor)) throw invalidArgument('the weight of linear()', 'a Tensor', weight);
  if (bias !== undefined && bias !== null && !(bias instanceof Tensor)) {
    throw invalidArgument('the bias of linear()', 'a Tensor or null', bias);
  }
  if (weight.ndim !== 2) {
    throw new ShapeError(`linear: weight must be 2-d [outFeatures, inFeatures], received shape ${formatShape(weight.shape)}`);
  }
  const outF = weight.shape[0] as number;
  const inF = weight.shape[1] as number;
  if (input.ndim === 0 || input.shape[input.ndim - 1] !== inF) {
    throw new ShapeError(
      `linear: input of shape ${formatShape(input.shape)} does not fit weight of shape ${formatShape(weight.shape)} ` +
        `(the input's last dimension must be inFeatures = ${inF})`,
    );
  }
  const b = bias ?? null;
  if (b !== null && (b.ndim !== 1 || b.shape[0] !== outF)) {
    throw new ShapeError(
      `linear: bias of shape ${formatShape(b.shape)} does not fit weight of shape ${formatShape(weight.shape)} (expected [${outF}])`,
    );
  }
  const rows = inF === 0 ? shapeSize(input.shape.slice(0, -1)) : input.size / inF;
  const outShape = [...input.shape.slice(0, -1), outF];
  const y = allocate(rows * outF, 'linear');
  if (y.length > 0) {
    if (inF === 0) {
      if (b !== null) for (let r = 0; r < rows; r++) y.set(b.data, r * outF);
    } else {
      gemm({
        m: rows, n: outF, k: inF, a: input.data, b: weight.data, transB: true, c: y,
        ...(b === null ? {} : { bias: { values: b.data, per: 'column' as const } }),
      });
    }
  }
  return recordOp('linear', new Tensor(y, outShape), [input, weight, b], (g, needs) => {
    const dy = g.data;
    const empty = rows === 0 || outF === 0;
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[0]) {
      const d = allocate(input.size, 'linear');
      if (!empty && inF > 0) gemm({ m: rows, n: inF, k: outF, a: dy, b: weight.data, c: d });
      dx = new Tensor(d, input.shape);
    }
    if (needs[1]) {
      const d = allocate(weight.size, 'linear');
      if (!empty && inF > 0) gemm({ transA: true, m: outF, n: inF, k: rows, a: dy, b: input.data, c: d });
      dw = new Tensor(d, weight.shape);
    }
    if (needs[2]) {
      const d = allocate(outF, 'linear');
      if (!empty) gemm({ m: 1, n: outF, k: rows, a: ones(rows), b: dy, c: d });
      db = new Tensor(d, [outF]);
    }
    return [dx, dw, db];
  });
}

// ---------------------------------------------------------------------------------------------
// flatten, add, cat, split

/** Options of {@link flatten}. */
export interface FlattenOptions {
  /** First dimension to merge (default 0, as `torch.flatten`). */
  startDim?: number;
  /** Last dimension to merge, inclusive (default -1). */
  endDim?: number;
}

/**
 * Merges dimensions `startDim..endDim` into one, as `torch.flatten`; the result shares `x`'s buffer
 * and its gradient is the output gradient reshaped back.
 *
 * Note: the default `startDim` is 0, as in `torch.flatten`; the `nn.Flatten` layer uses 1 (it keeps
 * the batch dimension), so write `F.flatten(x, { startDim: 1 })` in a model's forward.
 */
export function flatten(x: Tensor, options?: FlattenOptions): Tensor {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidArgument('the options of flatten()', 'an object such as { startDim: 1 }', options);
  }
  return flattenImpl(x, options?.startDim ?? 0, options?.endDim ?? -1);
}

/**
 * Elementwise `a + b` with broadcasting (residual connections), as `torch.add`. Backward: the
 * gradient itself for an operand of the output's shape, summed over broadcast dimensions otherwise.
 *
 * Differs from PyTorch: no `alpha` multiplier.
 */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  return addImpl(a, b);
}

/**
 * Concatenates tensors along `dim` (default 0), as `torch.cat`; see the tensor library's `cat`.
 * @throws ShapeError when the shapes differ outside `dim`; the message names them.
 */
export function cat(tensors: readonly Tensor[], options?: DimOptions): Tensor {
  return catImpl(tensors, options);
}

/**
 * Splits `x` along `dim` (default 0) into pieces of one size or of the listed sizes, as
 * `torch.split`; returns an array, each piece its own differentiable op. See the tensor library's
 * `split`.
 * @throws ShapeError when the listed sizes do not add up to the dimension's size.
 */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], options?: DimOptions): Tensor[] {
  return splitImpl(x, splitSizeOrSections, options);
}

// ---------------------------------------------------------------------------------------------
// pad

/** How {@link pad} fills the border. */
export type PadMode = 'constant' | 'reflect' | 'replicate';

/** Options of {@link pad}. */
export interface PadOptions {
  /** Default 'constant'. */
  mode?: PadMode;
  /** The fill value of constant padding (default 0). Only for mode 'constant'. */
  value?: number;
}

/**
 * Pads (or, with negative amounts, crops) the last dimensions of `x`, as
 * `torch.nn.functional.pad`. `pad` lists `(before, after)` pairs starting from the last dimension:
 * `[left, right]` pads the last dimension, `[left, right, top, bottom]` the last two, and so on.
 * - `'constant'`: fills with `value`; any number of dimensions; negative amounts crop.
 * - `'reflect'`: mirrors without repeating the edge (`[1, 2, 3]` padded by 2 on the left gives
 *   `3, 2, 1, 2, 3`); the last 1, 2 or 3 dimensions; each amount less than the dimension's size.
 * - `'replicate'`: repeats the edge value; the last 1, 2 or 3 dimensions.
 * Backward: the gradient of the kept elements (reflect and replicate add up every output position
 * that read an element).
 *
 * Differs from PyTorch: reflect and replicate accept any number of leading dimensions (PyTorch
 * requires 1 or 2 leading batch/channel dimensions, e.g. a 3-d or 4-d input for 2-d padding).
 * @throws ArgumentError for a pad list that is not an even-length list of integers, an unknown
 *   mode, or `value` with a mode other than 'constant'; ShapeError when the padding does not fit the
 *   input.
 */
export function pad(x: Tensor, pad: readonly number[], options?: PadOptions): Tensor {
  if (!(x instanceof Tensor)) throw invalidArgument('the input of pad()', 'a Tensor', x);
  if (!Array.isArray(pad as unknown) || !pad.every((p) => typeof p === 'number' && Number.isInteger(p))) {
    throw invalidArgument('the pad of pad()', 'an array of integers', pad);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidArgument('the options of pad()', "an object such as { mode: 'reflect' }", options);
  }
  const mode = options?.mode ?? 'constant';
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate') {
    throw invalidArgument('the mode of pad()', "'constant', 'reflect' or 'replicate'", mode);
  }
  const value = options?.value;
  if (value !== undefined && typeof value !== 'number') throw invalidArgument('the value of pad()', 'a number', value);
  if (value !== undefined && mode !== 'constant') {
    throw new ArgumentError(`pad: mode '${mode}' takes no value (only mode 'constant' fills with a value)`);
  }
  if (pad.length % 2 !== 0) {
    throw new ArgumentError(
      `pad: the pad list ${formatShape(pad)} has odd length ${pad.length}; ` +
        'it needs a (before, after) pair per padded dimension, last dimension first',
    );
  }
  const p = pad.length / 2;
  if (p > x.ndim) {
    throw new ShapeError(
      `pad: the pad list ${formatShape(pad)} pads ${p} dimensions but the input has ${x.ndim} (shape ${formatShape(x.shape)})`,
    );
  }
  if (mode !== 'constant' && (p < 1 || p > 3)) {
    throw new ArgumentError(
      `pad: mode '${mode}' pads the last 1, 2 or 3 dimensions (a pad list of 2, 4 or 6 entries), ` +
        `received ${pad.length} entries`,
    );
  }
  const lead = x.ndim - p;
  const maps: Int32Array[] = [];
  const outShape = x.shape.slice();
  for (let j = 0; j < p; j++) {
    const d = lead + j;
    const n = x.shape[d] as number;
    const before = pad[2 * (p - 1 - j)] as number;
    const after = pad[2 * (p - 1 - j) + 1] as number;
    const size = n + before + after;
    const amounts = `(${before}, ${after})`;
    if (size < 0) {
      throw new ShapeError(
        `pad: padding ${amounts} of dimension ${d} (size ${n}) gives a negative size ${size} (input shape ${formatShape(x.shape)})`,
      );
    }
    if (mode === 'reflect' && (before >= n || after >= n) && size > 0) {
      throw new ShapeError(
        `pad: reflect padding ${amounts} of dimension ${d} must be less than its size ${n} (input shape ${formatShape(x.shape)})`,
      );
    }
    if (mode === 'replicate' && n === 0 && size > 0) {
      throw new ShapeError(
        `pad: replicate padding ${amounts} of dimension ${d} needs a non-empty dimension (input shape ${formatShape(x.shape)})`,
      );
    }
    const map = new Int32Array(size);
    for (let o = 0; o < size; o++) {
      const i = o - before;
      if (mode === 'constant') map[o] = i >= 0 && i < n ? i : -1;
      else if (mode === 'replicate') map[o] = i < 0 ? 0 : i >= n ? n - 1 : i;
      else map[o] = i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
    }
    maps.push(map);
    outShape[d] = size;
  }
  checkShape(outShape, 'pad');
  const plan = padPlan(x.shape, outShape, lead, maps);
  const out = allocate(shapeSize(outShape), 'pad');
  const fill = value ?? 0;
  const xd = x.data;
  const last = maps[maps.length - 1];
  if (last === undefined) {
    out.set(xd);
  } else if (mode === 'constant') {
    const [lo, hi, first] = segment(last);
    forEachRow(plan, (o, base) => {
      if (base < 0) {
        if (fill !== 0) out.fill(fill, o, o + plan.row);
        return;
      }
      if (fill !== 0) {
        out.fill(fill, o, o + lo);
        out.fill(fill, o + hi, o + plan.row);
      }
      copyRun(xd, base + first, out, o + lo, hi - lo);
    });
  } else {
    forEachRow(plan, (o, base) => {
      for (let j = 0; j < last.length; j++) out[o + j] = xd[base + (last[j] as number)] as number;
    });
  }
  return recordOp('pad', new Tensor(out, outShape), [x], (g) => {
    const gd = g.data;
    const dx = allocate(x.size, 'pad');
    if (last === undefined) {
      dx.set(gd);
    } else if (mode === 'constant') {
      const [lo, hi, first] = segment(last);
      forEachRow(plan, (o, base) => {
        if (base >= 0) copyRun(gd, o + lo, dx, base + first, hi - lo);
      });
    } else {
      forEachRow(plan, (o, base) => {
        for (let j = 0; j < last.length; j++) {
          const s = base + (last[j] as number);
          dx[s] = (dx[s] as number) + (gd[o + j] as number);
        }
      });
    }
    return [new Tensor(dx, x.shape)];
  });
}

/** dst[d .. d+n) = src[s .. s+n). */
function copyRun(src: Float32Array, s: number, dst: Float32Array, d: number, n: number): void {
  if (n >= 64) dst.set(src.subarray(s, s + n), d);
  else for (let j = 0; j < n; j++) dst[d + j] = src[s + j] as number;
}

/** The output range [lo, hi) a constant-mode map copies, and the source index of `lo`. */
function segment(map: Int32Array): [number, number, number] {
  let lo = 0;
  while (lo < map.length && (map[lo] as number) < 0) lo++;
  let hi = lo;
  while (hi < map.length && (map[hi] as number) >= 0) hi++;
  return [lo, hi, lo < map.length ? (map[lo] as number) : 0];
}

/** The rows of a pad: output row length, and per padded dimension (but the last) its map and strides. */
interface PadPlan {
  /** Product of the unpadded leading dimensions. */
  outer: number;
  /** Length of an output row (the last padded dimension). */
  row: number;
  /** Elements per outer index, in the input and in the output. */
  inOuter: number;
  outOuter: number;
  /** Maps of the padded dimensions before the last, with their input and output strides. */
  maps: Int32Array[];
  inStrides: number[];
  outStrides: number[];
}

function padPlan(inShape: Shape, outShape: Shape, lead: number, maps: Int32Array[]): PadPlan {
  const inSt = stridesOf(inShape);
  const outSt = stridesOf(outShape);
  return {
    outer: shapeSize(inShape.slice(0, lead)),
    row: outShape[outShape.length - 1] ?? 1,
    inOuter: shapeSize(inShape.slice(lead)),
    outOuter: shapeSize(outShape.slice(lead)),
    maps: maps.slice(0, -1),
    inStrides: inSt.slice(lead, -1),
    outStrides: outSt.slice(lead, -1),
  };
}

/**
 * Calls `fn(outOffset, inBase)` for every output row: `inBase` is the input offset of the source row
 * (index 0 of the last dimension), or -1 when the row lies in constant padding.
 */
function forEachRow(plan: PadPlan, fn: (o: number, base: number) => void): void {
  const { maps, inStrides, outStrides } = plan;
  const depth = maps.length;
  const visit = (level: number, o: number, base: number): void => {
    if (level === depth) {
      fn(o, base);
      return;
    }
    const map = maps[level] as Int32Array;
    const so = outStrides[level] as number;
    const si = inStrides[level] as number;
    for (let i = 0; i < map.length; i++) {
      const s = map[i] as number;
      visit(level + 1, o + i * so, base < 0 || s < 0 ? -1 : base + s * si);
    }
  };
  if (plan.row === 0) return;
  for (let q = 0; q < plan.outer; q++) visit(0, q * plan.outOuter, q * plan.inOuter);
}

// ---------------------------------------------------------------------------------------------
// embedding

/** Indices for {@link embedding}: a tensor of integer values, or integers in an Int32Array or array. */
export type EmbeddingIndices = Tensor | Int32Array | readonly number[];

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /**
   * The row that stands for padding: it is looked up as usual but gets no gradient (negative counts
   * from the end). Default: none.
   */
  paddingIdx?: number;
  /** The shape of indices given as an Int32Array or array (default: one dimension, their length). */
  indicesShape?: Shape;
}

/**
 * Looks up rows of `weight` (`[numEmbeddings, embeddingDim]`): the result has the indices' shape
 * plus a last dimension `embeddingDim`, as `torch.nn.functional.embedding`. Indices are integer
 * values in `0..numEmbeddings-1`, given as a Tensor (float values that are integers), an Int32Array
 * or an array of numbers (with `indicesShape` for more than one dimension). Backward: each index's
 * gradient row is added into its weight row (repeated indices add up); the `paddingIdx` row gets
 * none. The indices get no gradient.
 *
 * Differs from PyTorch: `maxNorm`, `normType`, `scaleGradByFreq` and `sparse` are not supported.
 * @throws ArgumentError for an index that is not an integer or is out of range (the message names
 *   the index, its position and the number of embeddings) and for a `paddingIdx` out of range;
 *   ShapeError for a weight that is not 2-d or indices that do not match `indicesShape`.
 */
export function embedding(indices: EmbeddingIndices, weight: Tensor, options?: EmbeddingOptions): Tensor {
  if (!(weight instanceof Tensor)) throw invalidArgument('the weight of embedding()', 'a Tensor', weight);
  if (weight.ndim !== 2) {
    throw new ShapeError(
      `embedding: weight must be 2-d [numEmbeddings, embeddingDim], received shape ${formatShape(weight.shape)}`,
    );
  }
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw invalidArgument('the options of embedding()', 'an object such as { paddingIdx: 0 }', options);
  }
  const num = weight.shape[0] as number;
  const dim = weight.shape[1] as number;
  let values: ArrayLike<number>;
  let shape: number[];
  if (indices instanceof Tensor) {
    if (options?.indicesShape !== undefined) {
      throw new ArgumentError('embedding: indicesShape is only for indices given as an Int32Array or array (a Tensor has its shape)');
    }
    values = indices.data;
    shape = indices.shape.slice();
  } else if (indices instanceof Int32Array || Array.isArray(indices as unknown)) {
    values = indices;
    shape = options?.indicesShape === undefined ? [indices.length] : checkShape(options.indicesShape, 'embedding');
    if (shapeSize(shape) !== indices.length) {
      throw new ShapeError(
        `embedding: ${indices.length} indices do not fit indicesShape ${formatShape(shape)} (${shapeSize(shape)} elements)`,
      );
    }
  } else {
    throw invalidArgument('the indices of embedding()', 'a Tensor, an Int32Array or an array of integers', indices);
  }
  const count = values.length;
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      throw invalidArgument(`indices[${i}] of embedding()`, 'an integer', v);
    }
    if (v < 0 || v >= num) {
      throw new ArgumentError(
        `embedding: index ${v} at position ${i} is out of range for ${num} embeddings (expected 0..${num - 1})`,
      );
    }
    idx[i] = v;
  }
  let padding = -1;
  const pi = options?.paddingIdx;
  if (pi !== undefined) {
    if (typeof pi !== 'number' || !Number.isInteger(pi)) throw invalidArgument('paddingIdx of embedding()', 'an integer', pi);
    if (pi < -num || pi >= num) {
      throw new ArgumentError(`embedding: paddingIdx ${pi} is out of range for ${num} embeddings (expected ${-num}..${num - 1})`);
    }
    padding = pi < 0 ? pi + num : pi;
  }
  const w = weight.data;
  const out = allocate(count * dim, 'embedding');
  for (let i = 0; i < count; i++) copyRun(w, (idx[i] as number) * dim, out, i * dim, dim);
  return recordOp('embedding', new Tensor(out, [...shape, dim]), [weight], (g) => {
    const gd = g.data;
    const dw = allocate(weight.size, 'embedding');
    for (let i = 0; i < count; i++) {
      const r = idx[i] as number;
      if (r === padding) continue;
      const d = r * dim;
      const s = i * dim;
      for (let j = 0; j < dim; j++) dw[d + j] = (dw[d + j] as number) + (gd[s + j] as number);
    }
    return [new Tensor(dw, weight.shape)];
  });
}
