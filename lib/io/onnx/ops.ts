/**
 * The ONNX operators convkit runs, each compiled once per node at load time (attributes read and
 * checked there) into a kernel that maps input values to output values with convkit's
 * differentiable ops, so gradients flow through an imported graph.
 */
import { recordOp } from '../../autograd/record.js';
import { ArgumentError, ShapeError } from '../../errors.js';
import * as F from '../../functional/index.js';
import { cat as catTensors } from '../../tensor/concat.js';
import { add, div, mul, sub } from '../../tensor/elementwise.js';
import { reshape, transpose } from '../../tensor/layout.js';
import { matmul } from '../../tensor/matmul.js';
import { max, mean, sum } from '../../tensor/reduce.js';
import { exp, log } from '../../tensor/unary.js';
import { broadcastShapes, formatShape, shapeSize } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { IntTensor, int64, isIntType, tensorFromProto, type AttributeMsg, type NodeMsg, type Value } from './proto.js';

/** What a kernel sees while the graph runs. */
export interface RunContext {
  /** The model's training flag (dropout, batch statistics). */
  training: boolean;
  /** Whether a tensor is one of the model's buffers (batch norm updates only those in place). */
  isBuffer(t: Tensor): boolean;
}

/** A compiled node: input values (undefined for an absent optional input) to output values. */
export type Kernel = (inputs: (Value | undefined)[], ctx: RunContext) => (Value | undefined)[];

/** What a compiler gets: the node, its opset and its source for messages. */
export interface NodeSpec {
  node: NodeMsg;
  opset: number;
  /** `Conv 'conv1'` in messages. */
  label: string;
  source: string;
}

const ATTR_TYPES: Record<number, string> = {
  1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS', 9: 'TENSORS', 10: 'GRAPHS',
};

/** Typed access to a node's attributes, with errors naming the node. */
class Attrs {
  readonly #byName = new Map<string, AttributeMsg>();
  constructor(readonly spec: NodeSpec) {
    for (const a of spec.node.attribute) this.#byName.set(a.name, a);
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  #get(name: string, type: number): AttributeMsg | undefined {
    const a = this.#byName.get(name);
    if (a === undefined) return undefined;
    if (a.ref_attr_name !== '') throw new ArgumentError(`${this.spec.source}: ${this.spec.label}: attribute '${name}' refers to a function attribute, which convkit does not support`);
    // IR version 1 files have no type field; trust the field then.
    if (a.type !== 0 && a.type !== type) {
      throw new ArgumentError(
        `${this.spec.source}: ${this.spec.label}: attribute '${name}' has type ${ATTR_TYPES[a.type] ?? a.type}, expected ${ATTR_TYPES[type]}`,
      );
    }
    return a;
  }

  int(name: string, fallback: number): number {
    const a = this.#get(name, 2);
    return a === undefined ? fallback : int64(a.i);
  }

  float(name: string, fallback: number): number {
    const a = this.#get(name, 1);
    return a === undefined ? fallback : a.f;
  }

  string(name: string, fallback: string): string {
    const a = this.#get(name, 3);
    return a === undefined ? fallback : new TextDecoder().decode(a.s);
  }

  ints(name: string): number[] | undefined {
    const a = this.#get(name, 7);
    return a === undefined ? undefined : a.ints.map(int64);
  }

  floats(name: string): number[] | undefined {
    const a = this.#get(name, 6);
    return a === undefined ? undefined : a.floats.slice();
  }

  tensor(name: string): Value | undefined {
    const a = this.#get(name, 4);
    if (a === undefined) return undefined;
    if (a.t === null) throw new ArgumentError(`${this.spec.source}: ${this.spec.label}: attribute '${name}' holds no tensor`);
    return tensorFromProto(a.t, this.spec.source);
  }

  /** Throws for an attribute this kernel does not honour, when it is set to anything but `ok`. */
  unsupported(name: string, ok: (a: Attrs) => boolean, what: string): void {
    if (this.has(name) && !ok(this)) throw new ArgumentError(`${this.spec.source}: ${this.spec.label}: ${what} is not supported`);
  }
}

// ---------------------------------------------------------------------------------------------
// value helpers

function fail(spec: NodeSpec, message: string): ArgumentError {
  return new ArgumentError(`${spec.source}: ${spec.label}: ${message}`);
}

function required(spec: NodeSpec, inputs: (Value | undefined)[], i: number): Value {
  const v = inputs[i];
  if (v === undefined) throw fail(spec, `input ${i} is required`);
  return v;
}

function floatInput(spec: NodeSpec, inputs: (Value | undefined)[], i: number): Tensor {
  const v = required(spec, inputs, i);
  return v instanceof Tensor ? v : v.toTensor();
}

function optionalFloat(inputs: (Value | undefined)[], i: number): Tensor | undefined {
  const v = inputs[i];
  return v === undefined ? undefined : v instanceof Tensor ? v : v.toTensor();
}

function intsOf(v: Value): number[] {
  return v instanceof IntTensor ? v.data.slice() : Array.from(v.data, (x) => Math.round(x));
}

function scalarOf(v: Value): number {
  if (v.size !== 1) throw new ShapeError(`expected a single value, received shape ${formatShape(v.shape)}`);
  return v instanceof IntTensor ? v.data[0]! : v.data[0]!;
}

function axis(spec: NodeSpec, a: number, rank: number, name = 'axis'): number {
  if (!Number.isInteger(a) || a < -rank || a >= rank) throw fail(spec, `${name} ${a} is out of range for rank ${rank}`);
  return a < 0 ? a + rank : a;
}

function reshapeValue(v: Value, shape: number[]): Value {
  return v instanceof Tensor ? reshape(v, shape) : new IntTensor(v.data, shape, v.dtype);
}

/** Elementwise integer arithmetic with broadcasting (shape computations). */
function intBinary(op: string, a: IntTensor, b: IntTensor): IntTensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const n = shapeSize(shape);
  const idx = (t: IntTensor, flat: number): number => {
    let off = 0;
    let stride = 1;
    let rem = flat;
    const lead = shape.length - t.shape.length;
    const coords: number[] = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      coords[d] = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    for (let d = t.shape.length - 1; d >= 0; d--) {
      const size = t.shape[d]!;
      off += (size === 1 ? 0 : coords[d + lead]!) * stride;
      stride *= size;
    }
    return off;
  };
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a.data[idx(a, i)]!;
    const y = b.data[idx(b, i)]!;
    out[i] = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : Math.trunc(x / y);
  }
  // Wrap like the fixed-width type for the small unsigned/signed types ONNX tests use.
  const wrap: Record<number, (v: number) => number> = { 2: (v) => v & 0xff, 3: (v) => (v << 24) >> 24 };
  const w = wrap[a.dtype];
  return new IntTensor(w === undefined ? out : out.map(w), shape, a.dtype);
}

/** `[b0, e0, b1, e1, ...]` per axis to F.pad's list (last axis first), covering `first..rank-1`. */
function padList(begin: number[], end: number[], first = 0): number[] {
  const list: number[] = [];
  for (let d = begin.length - 1; d >= first; d--) list.push(begin[d]!, end[d]!);
  return list;
}

// ---------------------------------------------------------------------------------------------
// convolution and pooling geometry

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  end: number[];
}

function windowOf(spec: NodeSpec, a: Attrs, spatial: readonly number[], kernel: number[]): Window {
  const rank = spatial.length;
  const strides = a.ints('strides') ?? new Array<number>(rank).fill(1);
  const dilations = a.ints('dilations') ?? new Array<number>(rank).fill(1);
  if (kernel.length !== rank || strides.length !== rank || dilations.length !== rank) {
    throw fail(spec, `kernel_shape ${formatShape(kernel)}, strides ${formatShape(strides)} and dilations ${formatShape(dilations)} must each have ${rank} entries for an input with ${rank} spatial axes`);
  }
  if (![...kernel, ...strides, ...dilations].every((v) => Number.isInteger(v) && v >= 1)) {
    throw fail(spec, `kernel_shape, strides and dilations must be positive integers`);
  }
  const autoPad = a.string('auto_pad', 'NOTSET');
  let begin = new Array<number>(rank).fill(0);
  let end = new Array<number>(rank).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < rank; i++) {
      const out = Math.ceil(spatial[i]! / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - spatial[i]!);
      const small = Math.floor(total / 2);
      begin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      end[i] = total - begin[i]!;
    }
  } else if (autoPad === 'NOTSET') {
    const pads = a.ints('pads');
    if (pads !== undefined) {
      if (pads.length !== 2 * rank || !pads.every((p) => Number.isInteger(p) && p >= 0)) {
        throw fail(spec, `pads ${formatShape(pads)} must be ${2 * rank} non-negative integers`);
      }
      begin = pads.slice(0, rank);
      end = pads.slice(rank);
    }
  } else if (autoPad !== 'VALID') {
    throw fail(spec, `auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  return { kernel, strides, dilations, begin, end };
}

/**
 * The most elements a padded intermediate may have (2^28 float32, 1 GiB): padding amounts beyond
 * any real model's are refused before anything is allocated.
 */
const MAX_PADDED_ELEMENTS = 2 ** 28;

function checkPadded(spec: NodeSpec, shape: readonly number[], begin: number[], end: number[], channels = 0): void {
  const first = shape.length - begin.length;
  let n = 1;
  for (let i = 0; i < first; i++) n *= i === 1 ? Math.max(shape[1]!, channels) : shape[i]!;
  begin.forEach((b, i) => (n *= shape[first + i]! + b + end[i]!));
  if (n > MAX_PADDED_ELEMENTS) {
    throw fail(spec, `padding ${formatShape(begin)} / ${formatShape(end)} of an input ${formatShape(shape)} would need ${n} elements, more than convkit allows (${MAX_PADDED_ELEMENTS})`);
  }
}

function symmetric(w: Window, limitHalfKernel: boolean): boolean {
  return w.begin.every((b, i) => b === w.end[i] && (!limitHalfKernel || b <= Math.floor(w.kernel[i]! / 2)));
}

function spatialRank(spec: NodeSpec, x: Tensor): number {
  const rank = x.ndim - 2;
  if (rank < 1 || rank > 3) throw fail(spec, `expected an input [N, C, ...] with 1 to 3 spatial axes, received shape ${formatShape(x.shape)}`);
  return rank;
}

const CONV = [F.conv1d, F.conv2d, F.conv3d] as const;
const MAXPOOL = [F.maxPool1d, F.maxPool2d, F.maxPool3d] as const;
const AVGPOOL = [F.avgPool1d, F.avgPool2d, F.avgPool3d] as const;

function compileConv(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const groups = a.int('group', 1);
  const kernelShape = a.ints('kernel_shape');
  if (kernelShape !== undefined) windowOf(spec, a, kernelShape, kernelShape); // checks attributes early
  return (inputs) => {
    let x = floatInput(spec, inputs, 0);
    const w = floatInput(spec, inputs, 1);
    const b = optionalFloat(inputs, 2) ?? null;
    const rank = spatialRank(spec, x);
    const kernel = w.shape.slice(2);
    if (kernelShape !== undefined && formatShape(kernelShape) !== formatShape(kernel)) {
      throw fail(spec, `kernel_shape ${formatShape(kernelShape)} does not match the weight's shape ${formatShape(w.shape)}`);
    }
    const win = windowOf(spec, a, x.shape.slice(2), kernel);
    checkPadded(spec, x.shape, win.begin, win.end, w.shape[0]);
    let padding: number[] = win.begin;
    if (!symmetric(win, false)) {
      x = F.pad(x, padList(win.begin, win.end));
      padding = new Array<number>(rank).fill(0);
    }
    return [CONV[rank - 1]!(x, w, b, { stride: win.strides, padding, dilation: win.dilations, groups })];
  };
}

function compilePool(spec: NodeSpec, kind: 'max' | 'avg'): Kernel {
  const a = new Attrs(spec);
  const kernel = a.ints('kernel_shape');
  if (kernel === undefined) throw fail(spec, 'the kernel_shape attribute is required');
  windowOf(spec, a, kernel, kernel);
  const ceilMode = a.int('ceil_mode', 0) === 1;
  const countIncludePad = a.int('count_include_pad', 0) === 1;
  // MaxPool's optional second output: the flat index of each maximum in the input tensor.
  const wantIndices = kind === 'max' && spec.node.output.length > 1 && spec.node.output[1] !== '';
  const columnMajor = a.int('storage_order', 0) === 1;
  if (kind === 'avg') a.unsupported('dilations', (t) => (t.ints('dilations') ?? []).every((d) => d === 1), 'AveragePool with dilations');
  return (inputs) => {
    let x = floatInput(spec, inputs, 0);
    const rank = spatialRank(spec, x);
    const win = windowOf(spec, a, x.shape.slice(2), kernel);
    checkPadded(spec, x.shape, win.begin, win.end);
    const base = { kernelSize: win.kernel, stride: win.strides, ceilMode };
    if (kind === 'max') {
      const inner = x.shape.slice(2);
      let padding = win.begin;
      let shift = new Array<number>(rank).fill(0);
      if (!symmetric(win, true)) {
        x = F.pad(x, padList(win.begin, win.end), { value: -Infinity });
        padding = new Array<number>(rank).fill(0);
        shift = win.begin;
      }
      if (!wantIndices) return [MAXPOOL[rank - 1]!(x, { ...base, padding, dilation: win.dilations })];
      const [y, local] = MAXPOOL[rank - 1]!(x, { ...base, padding, dilation: win.dilations, returnIndices: true }) as unknown as [Tensor, Tensor];
      return [y, onnxPoolIndices(local, x.shape.slice(2), inner, shift, columnMajor)];
    }
    const pool = AVGPOOL[rank - 1]!;
    if (symmetric(win, true)) return [pool(x, { ...base, padding: win.begin, countIncludePad })];
    const zero = new Array<number>(rank).fill(0);
    const list = padList(win.begin, win.end);
    const padded = F.pad(x, list);
    const sum = pool(padded, { ...base, padding: zero, countIncludePad: true });
    if (countIncludePad) return [sum];
    // Exclude the padding from the divisor: divide by the mean of a padded mask of ones.
    const ones = new Tensor(new Float32Array(shapeSize(x.shape.slice(2))).fill(1), [1, 1, ...x.shape.slice(2)]);
    const coverage = pool(F.pad(ones, list), { ...base, padding: zero, countIncludePad: true });
    return [div(sum, coverage)];
  };
}

/**
 * ONNX MaxPool's Indices: for each output, the index of its maximum in the input tensor, flattened
 * as (n * C + c) * plane + the position within the plane (row-major, or column-major with
 * storage_order 1, as ONNX's reference computes it). `local` holds positions within the planes the
 * kernel pooled (`pooled` sizes), which were the input shifted by `shift` when padding was applied
 * separately.
 */
function onnxPoolIndices(local: Tensor, pooled: readonly number[], input: readonly number[], shift: readonly number[], columnMajor: boolean): IntTensor {
  const outPlane = shapeSize(local.shape.slice(2));
  const inPlane = shapeSize(input);
  const rank = input.length;
  const values = new Array<number>(local.size);
  const coord = new Array<number>(rank);
  for (let i = 0; i < local.size; i++) {
    let r = local.data[i]!;
    for (let d = rank - 1; d >= 0; d--) {
      coord[d] = (r % pooled[d]!) - shift[d]!;
      r = Math.floor(r / pooled[d]!);
    }
    let flat = 0;
    if (columnMajor) for (let d = rank - 1; d >= 0; d--) flat = flat * input[d]! + coord[d]!;
    else for (let d = 0; d < rank; d++) flat = flat * input[d]! + coord[d]!;
    values[i] = Math.floor(i / outPlane) * inPlane + flat;
  }
  return new IntTensor(values, local.shape, 7);
}

function compileGlobalPool(spec: NodeSpec, kind: 'max' | 'avg'): Kernel {
  return (inputs) => {
    const x = floatInput(spec, inputs, 0);
    if (x.ndim < 3) throw fail(spec, `expected an input [N, C, ...] with spatial axes, received shape ${formatShape(x.shape)}`);
    const axes = x.shape.slice(2).map((_, i) => i + 2);
    return [kind === 'avg' ? mean(x, axes, { keepdim: true }) : max(x, axes, { keepdim: true })];
  };
}

// ---------------------------------------------------------------------------------------------
// dense

function compileGemm(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const alpha = a.float('alpha', 1);
  const beta = a.float('beta', 1);
  const transA = a.int('transA', 0) === 1;
  const transB = a.int('transB', 0) === 1;
  return (inputs) => {
    let A = floatInput(spec, inputs, 0);
    let B = floatInput(spec, inputs, 1);
    const C = optionalFloat(inputs, 2);
    if (A.ndim !== 2 || B.ndim !== 2) throw fail(spec, `expected 2-d A and B, received ${formatShape(A.shape)} and ${formatShape(B.shape)}`);
    if (transA) A = transpose(A);
    if (transB) B = transpose(B);
    let y = matmul(A, B);
    if (alpha !== 1) y = mul(y, alpha);
    if (C !== undefined && beta !== 0) y = add(y, beta === 1 ? C : mul(C, beta));
    return [y];
  };
}

// ---------------------------------------------------------------------------------------------
// normalisation

function compileBatchNorm(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const eps = a.float('epsilon', 1e-5);
  const momentum = a.float('momentum', 0.9);
  const trainingMode = a.int('training_mode', 0) === 1;
  if (spec.opset < 9) a.unsupported('spatial', (t) => t.int('spatial', 1) === 1, 'BatchNormalization with spatial = 0');
  return (inputs, ctx) => {
    const x = floatInput(spec, inputs, 0);
    const weight = floatInput(spec, inputs, 1);
    const bias = floatInput(spec, inputs, 2);
    const runningMean = floatInput(spec, inputs, 3);
    const runningVar = floatInput(spec, inputs, 4);
    if (!(ctx.training || trainingMode)) return [F.batchNorm(x, runningMean, runningVar, { weight, bias, eps })];
    const y = F.batchNorm(x, null, null, { weight, bias, eps, training: true });
    // ONNX's convention: running = running * momentum + batch * (1 - momentum), biased variance.
    const c = x.shape[1]!;
    const n = x.shape[0]!;
    const s = shapeSize(x.shape.slice(2));
    const newMean = new Float32Array(c);
    const newVar = new Float32Array(c);
    for (let ch = 0; ch < c; ch++) {
      let sum = 0;
      let sq = 0;
      for (let b = 0; b < n; b++) {
        const off = (b * c + ch) * s;
        for (let i = 0; i < s; i++) sum += x.data[off + i]!;
      }
      const m = sum / (n * s);
      for (let b = 0; b < n; b++) {
        const off = (b * c + ch) * s;
        for (let i = 0; i < s; i++) sq += (x.data[off + i]! - m) ** 2;
      }
      newMean[ch] = runningMean.data[ch]! * momentum + m * (1 - momentum);
      newVar[ch] = runningVar.data[ch]! * momentum + (sq / (n * s)) * (1 - momentum);
    }
    const outMean = new Tensor(newMean, [c]);
    const outVar = new Tensor(newVar, [c]);
    if (ctx.isBuffer(runningMean) && ctx.isBuffer(runningVar)) {
      runningMean.data.set(newMean);
      runningVar.data.set(newVar);
    }
    return [y, outMean, outVar];
  };
}

function compileLrn(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const size = a.int('size', 0);
  if (!Number.isInteger(size) || size < 1) throw fail(spec, `the size attribute must be a positive integer, received ${size}`);
  const alpha = a.float('alpha', 1e-4);
  const beta = a.float('beta', 0.75);
  const k = a.float('bias', 1);
  return (inputs) => {
    const x = floatInput(spec, inputs, 0);
    if (size % 2 === 1) return [F.localResponseNorm(x, size, { alpha, beta, k })];
    // Even sizes: ONNX's window is c - (size/2 - 1) .. c + size/2, PyTorch's the mirror image, so
    // sum the squares with a padded average pool along the channels.
    if (x.ndim < 3) throw fail(spec, `expected an input [N, C, ...], received shape ${formatShape(x.shape)}`);
    const [n, c] = [x.shape[0]!, x.shape[1]!];
    const s = shapeSize(x.shape.slice(2));
    const sq = reshape(mul(x, x), [n, 1, c, s]);
    const padded = F.pad(sq, [0, 0, size / 2 - 1, size / 2]);
    const sums = mul(F.avgPool2d(padded, { kernelSize: [size, 1], stride: 1 }), alpha);
    return [div(x, add(reshape(sums, x.shape), k).pow(beta))];
  };
}

// ---------------------------------------------------------------------------------------------
// activations

function compileClip(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const attrMin = a.float('min', -Infinity);
  const attrMax = a.float('max', Infinity);
  return (inputs) => {
    const xv = required(spec, inputs, 0);
    const lo = spec.opset >= 11 ? (inputs[1] === undefined ? -Infinity : scalarOf(inputs[1])) : attrMin;
    const hi = spec.opset >= 11 ? (inputs[2] === undefined ? Infinity : scalarOf(inputs[2])) : attrMax;
    if (xv instanceof IntTensor) return [new IntTensor(xv.data.map((v) => Math.min(Math.max(v, lo), hi)), xv.shape, xv.dtype)];
    const out = new Float32Array(xv.size);
    const d = xv.data;
    for (let i = 0; i < out.length; i++) out[i] = Math.min(Math.max(d[i]!, lo), hi);
    const y = new Tensor(out, xv.shape);
    return [
      recordOp('clip', y, [xv], (g) => {
        const gx = new Float32Array(g.size);
        for (let i = 0; i < gx.length; i++) gx[i] = d[i]! >= lo && d[i]! <= hi ? g.data[i]! : 0;
        return [new Tensor(gx, xv.shape)];
      }),
    ];
  };
}

function compileSoftmax(spec: NodeSpec, log: boolean): Kernel {
  const a = new Attrs(spec);
  const legacy = spec.opset < 13;
  const ax = a.int('axis', legacy ? 1 : -1);
  const fn = log ? F.logSoftmax : F.softmax;
  return (inputs) => {
    const x = floatInput(spec, inputs, 0);
    const d = axis(spec, ax, Math.max(x.ndim, 1));
    if (!legacy) return [fn(x, { dim: d })];
    // Before opset 13 the input is coerced to 2-d [prod(shape[:axis]), prod(shape[axis:])].
    const flat = reshape(x, [shapeSize(x.shape.slice(0, d)), shapeSize(x.shape.slice(d))]);
    return [reshape(fn(flat, { dim: 1 }), x.shape)];
  };
}

function compileDropout(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const attrRatio = a.float('ratio', 0.5);
  const isTest = spec.opset < 7 && a.int('is_test', 0) === 1;
  return (inputs, ctx) => {
    const x = floatInput(spec, inputs, 0);
    const ratio = spec.opset >= 12 && inputs[1] !== undefined ? scalarOf(inputs[1]) : attrRatio;
    const trainingMode = spec.opset >= 12 && inputs[2] !== undefined ? scalarOf(inputs[2]) !== 0 : ctx.training && !isTest;
    if (!trainingMode || ratio === 0) {
      return [x, new IntTensor(new Array<number>(x.size).fill(1), x.shape, 9)];
    }
    const y = F.dropout(x, { p: ratio, training: true });
    // The mask is read back from the output (an element that was 0 counts as kept).
    return [y, new IntTensor(Array.from(y.data, (v, i) => (v !== 0 || x.data[i] === 0 ? 1 : 0)), x.shape, 9)];
  };
}

// ---------------------------------------------------------------------------------------------
// shapes and data movement

function compileConcat(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  if (!a.has('axis') && spec.opset >= 4) throw fail(spec, 'the axis attribute is required');
  const ax = a.int('axis', 1);
  return (inputs) => {
    const values = inputs.filter((v): v is Value => v !== undefined);
    if (values.length === 0) throw fail(spec, 'needs at least one input');
    const rank = values[0]!.shape.length;
    const d = axis(spec, ax, rank);
    if (values.every((v) => v instanceof IntTensor)) {
      const ints = values as IntTensor[];
      const outer = shapeSize(ints[0]!.shape.slice(0, d));
      const out: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const v of ints) {
          const chunk = shapeSize(v.shape.slice(d));
          out.push(...v.data.slice(o * chunk, (o + 1) * chunk));
        }
      }
      const shape = ints[0]!.shape.slice();
      shape[d] = ints.reduce((s, v) => s + v.shape[d]!, 0);
      return [new IntTensor(out, shape, ints[0]!.dtype)];
    }
    return [catTensors(values.map((v) => (v instanceof Tensor ? v : v.toTensor())), { dim: d })];
  };
}

function compileFlatten(spec: NodeSpec): Kernel {
  const ax = new Attrs(spec).int('axis', 1);
  return (inputs) => {
    const x = required(spec, inputs, 0);
    const rank = x.shape.length;
    if (ax < -rank || ax > rank) throw fail(spec, `axis ${ax} is out of range for rank ${rank}`);
    const d = ax < 0 ? ax + rank : ax;
    return [reshapeValue(x, [shapeSize(x.shape.slice(0, d)), shapeSize(x.shape.slice(d))])];
  };
}

function compileReshape(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const allowZero = a.int('allowzero', 0) === 1;
  const attrShape = a.ints('shape');
  return (inputs) => {
    const x = required(spec, inputs, 0);
    const target = spec.opset >= 5 ? intsOf(required(spec, inputs, 1)) : attrShape;
    if (target === undefined) throw fail(spec, 'needs a shape');
    const shape = target.map((d, i) => {
      if (d === 0 && !allowZero) {
        if (i >= x.shape.length) throw fail(spec, `shape ${formatShape(target)} copies dimension ${i} (0), which the input ${formatShape(x.shape)} lacks`);
        return x.shape[i]!;
      }
      return d;
    });
    const infer = shape.filter((d) => d === -1).length;
    if (infer > 1 || shape.some((d) => d < -1 || !Number.isSafeInteger(d))) throw fail(spec, `invalid shape ${formatShape(target)}`);
    if (infer === 1) {
      const known = shapeSize(shape.filter((d) => d !== -1));
      if (known === 0 || x.size % known !== 0) throw new ShapeError(`${spec.label}: cannot reshape ${formatShape(x.shape)} to ${formatShape(target)}`);
      shape[shape.indexOf(-1)] = x.size / known;
    }
    if (shapeSize(shape) !== x.size) throw new ShapeError(`${spec.label}: cannot reshape ${formatShape(x.shape)} (${x.size} elements) to ${formatShape(target)}`);
    return [reshapeValue(x, shape)];
  };
}

function compilePad(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const mode = a.string('mode', 'constant');
  const modes: Record<string, F.PadMode> = { constant: 'constant', reflect: 'reflect', edge: 'replicate' };
  const padMode = modes[mode];
  if (padMode === undefined) throw fail(spec, `mode '${mode}' is not supported (constant, reflect, edge)`);
  const attrPads = a.ints(spec.opset < 2 ? 'paddings' : 'pads');
  const attrValue = a.float('value', 0);
  return (inputs) => {
    const x = floatInput(spec, inputs, 0);
    const rank = x.ndim;
    const pads = spec.opset >= 11 ? intsOf(required(spec, inputs, 1)) : attrPads;
    if (pads === undefined) throw fail(spec, 'needs pads');
    const value = spec.opset >= 11 && inputs[2] !== undefined ? scalarOf(inputs[2]) : attrValue;
    let axes = Array.from({ length: rank }, (_, i) => i);
    if (spec.opset >= 18 && inputs[3] !== undefined) axes = intsOf(inputs[3]).map((v) => axis(spec, v, rank, 'axes'));
    if (pads.length !== 2 * axes.length) throw fail(spec, `pads ${formatShape(pads)} needs ${2 * axes.length} entries for ${axes.length} axes`);
    const begin = new Array<number>(rank).fill(0);
    const end = new Array<number>(rank).fill(0);
    axes.forEach((d, i) => {
      begin[d] = pads[i]!;
      end[d] = pads[i + axes.length]!;
    });
    let first = 0;
    while (first < rank && begin[first] === 0 && end[first] === 0) first++;
    if (first === rank) return [x];
    checkPadded(spec, x.shape, begin.map((b) => Math.max(b, 0)), end.map((e) => Math.max(e, 0)));
    const list = padList(begin, end, first);
    return [padMode === 'constant' ? F.pad(x, list, { value }) : F.pad(x, list, { mode: padMode })];
  };
}

function compileConstant(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  let value: Value | undefined;
  if (a.has('value')) value = a.tensor('value');
  else if (a.has('value_float')) value = new Tensor(Float32Array.of(a.float('value_float', 0)), []);
  else if (a.has('value_floats')) {
    const f = a.floats('value_floats')!;
    value = new Tensor(Float32Array.from(f), [f.length]);
  } else if (a.has('value_int')) value = new IntTensor([a.int('value_int', 0)], [], 7);
  else if (a.has('value_ints')) {
    const v = a.ints('value_ints')!;
    value = new IntTensor(v, [v.length], 7);
  } else throw fail(spec, 'needs a value attribute (sparse_value and value_string(s) are not supported)');
  const v = value!;
  return () => [v];
}

function compileConstantOfShape(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const value = a.tensor('value') ?? new Tensor(Float32Array.of(0), [1]);
  if (value.size !== 1) throw fail(spec, 'the value attribute must hold one element');
  return (inputs) => {
    const shape = intsOf(required(spec, inputs, 0));
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || shapeSize(shape) > MAX_PADDED_ELEMENTS) throw fail(spec, `invalid shape ${formatShape(shape)}`);
    const n = shapeSize(shape);
    if (value instanceof IntTensor) return [new IntTensor(new Array<number>(n).fill(value.data[0]!), shape, value.dtype)];
    return [new Tensor(new Float32Array(n).fill(value.data[0]!), shape)];
  };
}

function compileShape(spec: NodeSpec): Kernel {
  const a = new Attrs(spec);
  const start = a.int('start', 0);
  const end = a.has('end') ? a.int('end', 0) : undefined;
  return (inputs) => {
    const x = required(spec, inputs, 0);
    const r = x.shape.length;
    const clampIndex = (i: number): number => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
    const dims = x.shape.slice(clampIndex(start), end === undefined ? r : clampIndex(end));
    return [new IntTensor(dims, [dims.length], 7)];
  };
}

function compileGather(spec: NodeSpec): Kernel {
  const ax = new Attrs(spec).int('axis', 0);
  return (inputs) => {
    const data = required(spec, inputs, 0);
    const indicesValue = required(spec, inputs, 1);
    const indices = intsOf(indicesValue);
    const rank = data.shape.length;
    const d = axis(spec, ax, rank);
    const n = data.shape[d]!;
    const idx = indices.map((i) => {
      if (!Number.isInteger(i) || i < -n || i >= n) throw fail(spec, `index ${i} is out of range for axis ${d} of size ${n}`);
      return i < 0 ? i + n : i;
    });
    const outer = shapeSize(data.shape.slice(0, d));
    const inner = shapeSize(data.shape.slice(d + 1));
    const shape = [...data.shape.slice(0, d), ...indicesValue.shape, ...data.shape.slice(d + 1)];
    const gather = <T>(src: ArrayLike<number>, out: { [i: number]: number } & T): T => {
      let o = 0;
      for (let b = 0; b < outer; b++) {
        for (const i of idx) {
          const base = (b * n + i) * inner;
          for (let j = 0; j < inner; j++) out[o++] = src[base + j]!;
        }
      }
      return out;
    };
    if (data instanceof IntTensor) return [new IntTensor(gather(data.data, new Array<number>(shapeSize(shape))), shape, data.dtype)];
    const y = new Tensor(gather(data.data, new Float32Array(shapeSize(shape))), shape);
    return [
      recordOp('gather', y, [data], (g) => {
        const gx = new Float32Array(data.size);
        let o = 0;
        for (let b = 0; b < outer; b++) {
          for (const i of idx) {
            const base = (b * n + i) * inner;
            for (let j = 0; j < inner; j++) gx[base + j]! += g.data[o++]!;
          }
        }
        return [new Tensor(gx, data.shape)];
      }),
    ];
  };
}

function compileSqueezeLike(spec: NodeSpec, unsq: boolean): Kernel {
  const attrAxes = new Attrs(spec).ints('axes');
  return (inputs) => {
    const x = required(spec, inputs, 0);
    const axesValue = spec.opset >= 13 ? inputs[1] : undefined;
    const axes = axesValue !== undefined ? intsOf(axesValue) : attrAxes;
    if (unsq) {
      if (axes === undefined) throw fail(spec, 'needs axes');
      const outRank = x.shape.length + axes.length;
      const set = new Set(axes.map((v) => axis(spec, v, outRank, 'axes')));
      if (set.size !== axes.length) throw fail(spec, `repeated axes ${formatShape(axes)}`);
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < outRank; i++) shape.push(set.has(i) ? 1 : x.shape[j++]!);
      return [reshapeValue(x, shape)];
    }
    const rank = x.shape.length;
    const set = new Set(axes === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((v) => axis(spec, v, rank, 'axes')));
    for (const d of set) if (x.shape[d] !== 1) throw new ShapeError(`${spec.label}: cannot squeeze axis ${d} of shape ${formatShape(x.shape)}`);
    return [reshapeValue(x, x.shape.filter((_, i) => !set.has(i)))];
  };
}

function compileCast(spec: NodeSpec): Kernel {
  const to = new Attrs(spec).int('to', 1);
  const toFloat = to === 1 || to === 10 || to === 11;
  if (!toFloat && !isIntType(to)) throw fail(spec, `casting to data type ${to} is not supported`);
  return (inputs) => {
    const x = required(spec, inputs, 0);
    if (toFloat) return [x instanceof Tensor ? x : x.toTensor()];
    const data = x instanceof IntTensor ? x.data : Array.from(x.data, (v) => (to === 9 ? (v !== 0 ? 1 : 0) : Math.trunc(v)));
    return [new IntTensor(data, x.shape, to)];
  };
}

function compileBinary(spec: NodeSpec): Kernel {
  const op = spec.node.op_type;
  const a = new Attrs(spec);
  if (spec.opset < 7 && a.int('broadcast', 0) === 1 && a.has('axis')) throw fail(spec, 'legacy broadcasting with an axis attribute is not supported');
  const fns = { Add: add, Sub: sub, Mul: mul, Div: div } as const;
  const fn = fns[op as keyof typeof fns];
  return (inputs) => {
    const x = required(spec, inputs, 0);
    const y = required(spec, inputs, 1);
    if (x instanceof IntTensor && y instanceof IntTensor) return [intBinary(op, x, y)];
    return [fn(x instanceof Tensor ? x : x.toTensor(), y instanceof Tensor ? y : y.toTensor())];
  };
}

function compileReduce(spec: NodeSpec, fn: typeof sum): Kernel {
  const a = new Attrs(spec);
  const keepdim = a.int('keepdims', 1) === 1;
  const noopWithEmptyAxes = a.int('noop_with_empty_axes', 0) === 1;
  const attrAxes = a.ints('axes');
  // ReduceSum takes its axes as an input from opset 13, the other reductions from opset 18.
  const axesFromInput = spec.opset >= (spec.node.op_type === 'ReduceSum' ? 13 : 18);
  return (inputs) => {
    const x = floatInput(spec, inputs, 0);
    const axes = axesFromInput ? (inputs[1] === undefined ? undefined : intsOf(inputs[1])) : attrAxes;
    if (axes === undefined || axes.length === 0) {
      if (noopWithEmptyAxes) return [x];
      return [fn(x, x.shape.map((_, i) => i), { keepdim })];
    }
    return [fn(x, axes.map((v) => axis(spec, v, x.ndim, 'axes')), { keepdim })];
  };
}

function unary(fn: (x: Tensor) => Tensor): (spec: NodeSpec) => Kernel {
  return (spec) => (inputs) => [fn(floatInput(spec, inputs, 0))];
}

/** The supported operators (default domain), by op_type. */
export const OPERATORS: Record<string, (spec: NodeSpec) => Kernel> = {
  Conv: compileConv,
  Gemm: compileGemm,
  MatMul: (spec) => (inputs) => [matmul(floatInput(spec, inputs, 0), floatInput(spec, inputs, 1))],
  MaxPool: (spec) => compilePool(spec, 'max'),
  AveragePool: (spec) => compilePool(spec, 'avg'),
  GlobalAveragePool: (spec) => compileGlobalPool(spec, 'avg'),
  GlobalMaxPool: (spec) => compileGlobalPool(spec, 'max'),
  Relu: unary((x) => F.relu(x)),
  LeakyRelu: (spec) => {
    const alpha = new Attrs(spec).float('alpha', 0.01);
    return unary((x) => F.leakyRelu(x, { negativeSlope: alpha }))(spec);
  },
  Sigmoid: unary((x) => F.sigmoid(x)),
  Tanh: unary((x) => F.tanh(x)),
  Clip: compileClip,
  BatchNormalization: compileBatchNorm,
  LRN: compileLrn,
  Add: compileBinary,
  Sub: compileBinary,
  Mul: compileBinary,
  Div: compileBinary,
  Concat: compileConcat,
  Flatten: compileFlatten,
  Reshape: compileReshape,
  Pad: compilePad,
  Dropout: compileDropout,
  Softmax: (spec) => compileSoftmax(spec, false),
  LogSoftmax: (spec) => compileSoftmax(spec, true),
  Exp: unary(exp),
  Log: unary(log),
  ReduceSum: (spec) => compileReduce(spec, sum),
  ReduceMean: (spec) => compileReduce(spec, mean),
  ReduceMax: (spec) => compileReduce(spec, max),
  Identity: (spec) => (inputs) => [required(spec, inputs, 0)],
  Constant: compileConstant,
  ConstantOfShape: compileConstantOfShape,
  Shape: compileShape,
  Gather: compileGather,
  Unsqueeze: (spec) => compileSqueezeLike(spec, true),
  Squeeze: (spec) => compileSqueezeLike(spec, false),
  Cast: compileCast,
};
