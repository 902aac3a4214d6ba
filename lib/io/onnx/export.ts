/**
 * ONNX export: {@link saveOnnx} writes a model built from convkit's layers as an ONNX file (opset
 * 13 to 21, default 17) with one input `input` and one output `output`, both with a symbolic batch
 * dimension `N`; {@link exportOnnx} returns the same bytes without writing them.
 *
 * How the graph is found (tracing). A model's `forward` is arbitrary TypeScript (residual adds,
 * `F.cat`, `F.flatten`, ...), so the exporter runs it once, on a pseudo-random input of batch 1
 * in eval mode with gradient recording on (parameters temporarily marked trainable), and watches:
 * - every leaf module of a known class (Conv, Linear, pools, activations, batch norm, LRN, dropout,
 *   Flatten, Identity) is wrapped, as `nn.summary` does, and becomes one ONNX node (or a few),
 *   with its attributes read from the module and its weights as initializers under their
 *   `stateDict` names (`layer1.0.conv1.weight`);
 * - everything between those leaves is read back from the autograd tape: every differentiable op
 *   attaches a `GradNode` (op name and input tensors) to its output, so when a leaf (or the model)
 *   receives a tensor the exporter has not named, it walks that tensor's `gradFn` back to named
 *   tensors and emits the ops on the way (add/sub/mul/div, matmul, cat, reshape/flatten/view/
 *   squeeze/unsqueeze, relu/relu6/sigmoid/tanh/exp/log called functionally, adaptive and global
 *   pooling, linear). The tape keeps no attributes, so they are recovered from the traced shapes
 *   (the concat axis, the target shape, the pooling window); a constant operand of add/sub/mul/div
 *   (`x.mul(0.5)`) is recovered from the traced values and stored as the smallest broadcastable
 *   initializer.
 * Every module's forward is also wrapped to keep the module path, so an op that cannot be
 * expressed (a functional conv or pool whose window the tape does not keep, softmax called
 * functionally, LSTM, Embedding, a tensor made under `noGrad`/`detach`...) raises one
 * ArgumentError naming the op and the module path, before anything is written.
 *
 * Limits, and the check that guards them. A trace sees one execution: data-dependent control flow
 * is frozen, and shapes are those of batch 1 (a reshape is exported with its batch dimension kept
 * as `0`, "copy from the input"). So, unless `verify: false`, the encoded graph is loaded back with
 * convkit's own ONNX importer and run on a second input of batch 2; if it does not reproduce the
 * model's eval forward, export fails with an ArgumentError instead of writing a wrong file. The
 * check is skipped (silently) for graphs holding operators the importer lacks (Erf or Gelu from
 * GELU, Neg, Sqrt, Abs).
 */
import protobuf from 'protobufjs';
import { enableGrad, noGrad } from '../../autograd/grad-mode.js';
import { withTapeTensors } from '../../autograd/record.js';
import { ArgumentError, invalidArgument } from '../../errors.js';
import { Conv1d, Conv2d, Conv3d } from '../../nn/layers/conv.js';
import { Dropout, Dropout2d } from '../../nn/layers/dropout.js';
import { Embedding } from '../../nn/layers/embedding.js';
import { Flatten } from '../../nn/layers/flatten.js';
import { Identity } from '../../nn/layers/identity.js';
import { Linear } from '../../nn/layers/linear.js';
import { LSTM } from '../../nn/layers/lstm.js';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d, LocalResponseNorm } from '../../nn/layers/norm.js';
import { GELU, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, Softmax, Tanh } from '../../nn/layers/activation.js';
import {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
} from '../../nn/layers/pool.js';
import { Module } from '../../nn/module.js';
import { checkShape, formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { version } from '../../version.js';
import { writeFileAtomic } from '../atomic-write.js';
import { saveSafetensors } from '../safetensors.js';
import { loadOnnx } from './model.js';
import { OPERATORS } from './ops.js';
import { ONNX_PROTO } from './schema.js';

/** Options of {@link saveOnnx} and {@link exportOnnx}. */
export interface SaveOnnxOptions {
  /** The input shape without the batch dimension (`[3, 224, 224]`). Required. */
  inputShape: readonly number[];
  /** The default-domain opset, 13 to 21 (default 17). From 20, GELU is exported as `Gelu`. */
  opset?: number;
  /**
   * Reload the graph with convkit's importer and compare it with the model on a batch of 2
   * before writing (default true); see the module comment.
   */
  verify?: boolean;
}

/** What {@link exportOnnx} returns. */
export interface OnnxExport {
  /** The encoded `ModelProto`. */
  bytes: Uint8Array;
  /** The operator types used, in order of first use. */
  opTypes: string[];
  /** The output shape with the batch dimension as `null` when it follows the input's. */
  outputShape: (number | null)[];
  /**
   * Max abs difference found by the batch-2 check, or null when it did not run (`verify: false`
   * or operators the importer lacks).
   */
  verifiedMaxAbsError: number | null;
}

const MIN_OPSET = 13;
const MAX_OPSET = 21;
const DEFAULT_OPSET = 17;

// ONNX enums.
const FLOAT = 1;
const INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

type AttrValue = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

interface AttributeObj {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

interface NodeObj {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  attribute: AttributeObj[];
}

interface TensorObj {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

/** A traced value: its ONNX name and whether its dimension 0 is the (dynamic) batch. */
interface Value {
  name: string;
  batched: boolean;
}

/** Raised inside the trace; turned into the one ArgumentError of the export. */
class Unsupported extends Error {}

function irVersion(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  return 10;
}

function toBytes(data: Float32Array): Uint8Array {
  const copy = new Float32Array(data);
  return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** A deterministic pseudo-random input in [-1, 1) (the global generator is left alone). */
function probe(shape: readonly number[], seed: number): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 2147483648 - 1;
  }
  return new Tensor(data, shape);
}

/** Accumulates nodes and initializers with unique names. */
class GraphBuilder {
  readonly nodes: NodeObj[] = [];
  readonly initializers: TensorObj[] = [];
  readonly opTypes: string[] = [];
  readonly #used = new Set<string>();
  readonly #scalars = new Map<number, string>();
  #nodeCount = 0;

  unique(base: string): string {
    let name = base;
    for (let k = 1; this.#used.has(name); k++) name = `${base}_${k}`;
    this.#used.add(name);
    return name;
  }

  reserve(name: string): void {
    this.#used.add(name);
  }

  floatInit(base: string, data: Float32Array, dims: readonly number[]): string {
    const name = this.unique(base);
    this.initializers.push({ name, dims: [...dims], data_type: FLOAT, raw_data: toBytes(data) });
    return name;
  }

  int64Init(base: string, values: readonly number[]): string {
    const name = this.unique(base);
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], data_type: INT64, raw_data: new Uint8Array(data.buffer) });
    return name;
  }

  /** A shared float scalar (shape `[]`) initializer. */
  scalar(value: number): string {
    let name = this.#scalars.get(value);
    if (name === undefined) {
      name = this.floatInit(`const_${this.#scalars.size}`, Float32Array.of(value), []);
      this.#scalars.set(value, name);
    }
    return name;
  }

  /** Adds a node and returns the name of its (one) output. */
  node(opType: string, inputs: readonly string[], scope: string, attrs: Record<string, AttrValue> = {}, output?: string): string {
    const label = scope === '' ? opType : `${scope}.${opType}`;
    const out = output ?? this.unique(`${label}_out`);
    if (!this.opTypes.includes(opType)) this.opTypes.push(opType);
    const attribute: AttributeObj[] = [];
    for (const [name, v] of Object.entries(attrs)) {
      if (typeof v === 'number') attribute.push({ name, type: ATTR.INT, i: v });
      else if (typeof v === 'string') attribute.push({ name, type: ATTR.STRING, s: new TextEncoder().encode(v) });
      else if ('float' in v) attribute.push({ name, type: ATTR.FLOAT, f: v.float });
      else if ('floats' in v) attribute.push({ name, type: ATTR.FLOATS, floats: [...v.floats] });
      else attribute.push({ name, type: ATTR.INTS, ints: [...v] });
    }
    this.nodes.push({ input: [...inputs], output: [out], name: `${label}_${this.#nodeCount++}`, op_type: opType, attribute });
    return out;
  }
}

type AdaptiveKind = 'avg' | 'max';

/** The state of one trace. */
class Tracer {
  readonly g = new GraphBuilder();
  readonly known = new Map<Tensor, Value>();
  readonly params = new Map<Tensor, string>();
  readonly opset: number;
  /** Module paths of the forwards being run, innermost last. */
  readonly stack: string[] = [];
  #constCount = 0;

  constructor(model: Module, opset: number) {
    this.opset = opset;
    for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
      if (!this.params.has(t)) {
        this.params.set(t, name);
        this.g.reserve(name);
      }
    }
  }

  get scope(): string {
    return this.stack.length === 0 ? '' : (this.stack[this.stack.length - 1] as string);
  }

  /** The initializer of a parameter or buffer, under its stateDict name. */
  param(t: Tensor): string {
    const name = this.params.get(t);
    if (name === undefined) throw new Unsupported('a weight that is not a registered parameter or buffer of the model');
    if (!this.known.has(t)) {
      this.g.initializers.push({ name, dims: [...t.shape], data_type: FLOAT, raw_data: toBytes(t.data) });
      this.known.set(t, { name, batched: false });
    }
    return name;
  }

  /** The ONNX value of `t`, emitting the tape ops that produced it when it is not named yet. */
  resolve(t: Tensor): Value {
    const seen = this.known.get(t);
    if (seen !== undefined) return seen;
    if (this.params.has(t)) return { name: this.param(t), batched: false };
    const node = t.gradFn;
    if (node === null) {
      throw new Unsupported(
        `a tensor of shape ${formatShape(t.shape)} that is neither the input, a parameter nor the result of a recorded op ` +
          '(made inside forward, or computed under noGrad()/detach())',
      );
    }
    const inputs = node.inputs.map((e) => {
      if (e === null) return null;
      if (e.tensor === null) throw new Error(`internal: the tape of '${node.name}' was recorded without its input tensors`);
      return e.tensor;
    });
    const v = this.#emitTapeOp(node.name, t, inputs, node);
    this.known.set(t, v);
    return v;
  }

  #emitTapeOp(op: string, out: Tensor, inputs: ReadonlyArray<Tensor | null>, node: NonNullable<Tensor['gradFn']>): Value {
    const scope = this.scope;
    const unary: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', exp: 'Exp', log: 'Log', neg: 'Neg', sqrt: 'Sqrt', abs: 'Abs', clone: 'Identity' };
    const x = inputs[0] ?? null;
    if (op in unary || op === 'relu6') {
      if (x === null) throw new Unsupported(`'${op}' of a constant`);
      const v = this.resolve(x);
      if (op === 'relu6') return { name: this.g.node('Clip', [v.name, this.g.scalar(0), this.g.scalar(6)], scope), batched: v.batched };
      return { name: this.g.node(unary[op] as string, [v.name], scope), batched: v.batched };
    }
    switch (op) {
      case 'add':
      case 'sub':
      case 'mul':
      case 'div':
        return this.#binary(op, out, inputs, node);
      case 'matmul': {
        const [a, b] = inputs;
        if (a == null || b == null) throw new Unsupported("'matmul' with a constant operand");
        const va = this.resolve(a);
        const vb = this.resolve(b);
        return { name: this.g.node('MatMul', [va.name, vb.name], scope), batched: va.batched || vb.batched };
      }
      case 'linear': {
        const [xi, w, b] = inputs;
        if (xi == null || w == null) throw new Unsupported("'linear' with a constant input or weight");
        return this.linear(this.resolve(xi), xi.shape, this.param(w), b == null ? null : this.param(b), out.shape, scope);
      }
      case 'reshape':
      case 'view':
      case 'flatten':
      case 'squeeze':
      case 'unsqueeze': {
        if (x === null) throw new Unsupported(`'${op}' of a constant`);
        return this.reshape(this.resolve(x), x.shape, out.shape, scope);
      }
      case 'cat':
        return this.#concat(out, inputs);
      default: {
        const adaptive = /^(adaptive|global)(Avg|Max)Pool[123]d$/.exec(op);
        if (adaptive !== null && x !== null) {
          return this.adaptivePool(this.resolve(x), x.shape, out.shape, adaptive[2] === 'Avg' ? 'avg' : 'max', scope);
        }
        throw new Unsupported(`'${op}' called outside a layer (the tape does not keep its attributes; use the matching nn layer)`);
      }
    }
  }

  #binary(op: 'add' | 'sub' | 'mul' | 'div', out: Tensor, inputs: ReadonlyArray<Tensor | null>, node: NonNullable<Tensor['gradFn']>): Value {
    const scope = this.scope;
    const onnx = { add: 'Add', sub: 'Sub', mul: 'Mul', div: 'Div' }[op];
    const [a, b] = inputs;
    if (a != null && b != null) {
      const va = this.resolve(a);
      const vb = this.resolve(b);
      return { name: this.g.node(onnx, [va.name, vb.name], scope), batched: va.batched || vb.batched };
    }
    const known = a ?? b ?? null;
    if (known === null) throw new Unsupported(`'${op}' of two constants`);
    if (known.shape.length !== out.shape.length || known.shape.some((d, i) => d !== out.shape[i])) {
      throw new Unsupported(`'${op}' with a constant operand that broadcasts the traced tensor`);
    }
    const knownFirst = a != null;
    const xd = known.data;
    const od = out.data;
    const c = new Float32Array(out.size);
    if (op === 'add') for (let i = 0; i < c.length; i++) c[i] = (od[i] as number) - (xd[i] as number);
    else if (op === 'sub') for (let i = 0; i < c.length; i++) c[i] = knownFirst ? (xd[i] as number) - (od[i] as number) : (od[i] as number) + (xd[i] as number);
    else if (op === 'div' && !knownFirst) for (let i = 0; i < c.length; i++) c[i] = (od[i] as number) * (xd[i] as number);
    else {
      // x * c or x / c: the gradient with respect to x is c (or 1 / c) for a gradient of ones.
      const ones = new Tensor(new Float32Array(out.size).fill(1), out.shape);
      const grads = noGrad(() => node.apply(ones, knownFirst ? [true, false] : [false, true]));
      const gx = grads[knownFirst ? 0 : 1];
      if (gx == null) throw new Unsupported(`'${op}' with a constant operand`);
      for (let i = 0; i < c.length; i++) c[i] = op === 'mul' ? (gx.data[i] as number) : 1 / (gx.data[i] as number);
    }
    const { data, dims } = compressConstant(c, out.shape);
    const cname = this.g.floatInit(`${scope === '' ? '' : `${scope}.`}constant_${this.#constCount++}`, data, dims);
    const v = this.resolve(known);
    const ins = knownFirst ? [v.name, cname] : [cname, v.name];
    return { name: this.g.node(onnx, ins, scope), batched: v.batched };
  }

  #concat(out: Tensor, inputs: ReadonlyArray<Tensor | null>): Value {
    if (inputs.some((t) => t === null)) throw new Unsupported("'cat' with a constant operand");
    const ts = inputs as readonly Tensor[];
    const first = ts[0] as Tensor;
    let axis = out.shape.findIndex((d, i) => d !== first.shape[i]);
    if (axis < 0) {
      // Every input but one is empty along the axis, or there is one input: any axis where the sizes add up.
      axis = out.shape.findIndex((d, i) => ts.reduce((s, t) => s + (t.shape[i] as number), 0) === d);
      if (axis < 0) throw new Unsupported("'cat' whose axis cannot be recovered from the shapes");
    }
    const vs = ts.map((t) => this.resolve(t));
    const batched = vs.some((v) => v.batched);
    if (batched && axis === 0) throw new Unsupported("'cat' along the batch dimension");
    return { name: this.g.node('Concat', vs.map((v) => v.name), this.scope, { axis }), batched };
  }

  /** A reshape from `inShape` to `outShape` (batch 1 at trace time). */
  reshape(v: Value, inShape: readonly number[], outShape: readonly number[], scope: string): Value {
    if (!v.batched) {
      return { name: this.g.node('Reshape', [v.name, this.g.int64Init(`${scope}.shape`, outShape)], scope), batched: false };
    }
    if (outShape.length === 0 || outShape[0] !== inShape[0]) {
      throw new Unsupported(`a reshape from ${formatShape(inShape)} to ${formatShape(outShape)} that does not keep the batch dimension first`);
    }
    if (outShape.length === 2 && inShape.length >= 2) {
      return { name: this.g.node('Flatten', [v.name], scope, { axis: 1 }), batched: true };
    }
    const shape = [0, ...outShape.slice(1)];
    return { name: this.g.node('Reshape', [v.name, this.g.int64Init(`${scope === '' ? '' : `${scope}.`}shape`, shape)], scope), batched: true };
  }

  linear(x: Value, inShape: readonly number[], w: string, b: string | null, outShape: readonly number[], scope: string): Value {
    const ins = b === null ? [x.name, w] : [x.name, w, b];
    if (inShape.length === 2) return { name: this.g.node('Gemm', ins, scope, { transB: 1 }), batched: x.batched };
    if (inShape.length < 2) throw new Unsupported(`Linear on an input of rank ${inShape.length}`);
    const flat = this.g.node('Flatten', [x.name], scope, { axis: inShape.length - 1 });
    const y = this.g.node('Gemm', b === null ? [flat, w] : [flat, w, b], scope, { transB: 1 });
    const shape = [x.batched ? -1 : (outShape[0] as number), ...outShape.slice(1)];
    return { name: this.g.node('Reshape', [y, this.g.int64Init(`${scope}.shape`, shape)], scope), batched: x.batched };
  }

  /**
   * Adaptive pooling from the traced spatial sizes: global pooling for a 1x1 output, a pool with
   * kernel = stride = in/out along axes that divide evenly, and nearest upsampling (each output
   * reads one input element) along axes where the output is a multiple of the input.
   */
  adaptivePool(v: Value, inShape: readonly number[], outShape: readonly number[], kind: AdaptiveKind, scope: string): Value {
    const ins = inShape.slice(2);
    const outs = outShape.slice(2);
    if (outs.every((o) => o === 1)) {
      return { name: this.g.node(kind === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [v.name], scope), batched: v.batched };
    }
    const kernel: number[] = [];
    const up: number[] = [];
    for (let i = 0; i < ins.length; i++) {
      const a = ins[i] as number;
      const o = outs[i] as number;
      if (a % o === 0) {
        kernel.push(a / o);
        up.push(1);
      } else if (o % a === 0) {
        kernel.push(1);
        up.push(o / a);
      } else {
        throw new Unsupported(
          `adaptive pooling from ${formatShape(ins)} to ${formatShape(outs)} (ONNX has no adaptive pooling; export needs sizes that divide evenly)`,
        );
      }
    }
    let name = v.name;
    if (kernel.some((k) => k !== 1)) {
      name = this.g.node(kind === 'avg' ? 'AveragePool' : 'MaxPool', [name], scope, { kernel_shape: kernel, strides: kernel });
    }
    if (up.some((u) => u !== 1)) {
      // [N, C, a, b] -> [N, C, a, 1, b, 1] * ones[1, 1, 1, ua, 1, ub] -> [N, C, a*ua, b*ub].
      const pooled = ins.map((a, i) => a / (kernel[i] as number));
      const split = [0, inShape[1] as number, ...pooled.flatMap((p) => [p, 1])];
      const onesDims = [1, 1, ...up.flatMap((u) => [1, u])];
      const onesSize = up.reduce((s, u) => s * u, 1);
      const sc = scope === '' ? '' : `${scope}.`;
      const r = this.g.node('Reshape', [name, this.g.int64Init(`${sc}shape`, split)], scope);
      const m = this.g.node('Mul', [r, this.g.floatInit(`${sc}upsample`, new Float32Array(onesSize).fill(1), onesDims)], scope);
      name = this.g.node('Reshape', [m, this.g.int64Init(`${sc}shape`, [0, ...outShape.slice(1)])], scope);
    }
    return { name, batched: v.batched };
  }

  /** Emits the node(s) of a known leaf layer; returns null for a layer class the exporter does not know. */
  leaf(m: Module, path: string, x: Value, xt: Tensor, out: Tensor): Value | null {
    const s = path;
    const same = (name: string): Value => ({ name, batched: x.batched });
    if (m instanceof Conv1d || m instanceof Conv2d || m instanceof Conv3d) {
      const rank = m.kernelSize.length;
      let pads: number[];
      if (m.padding === 'valid') pads = new Array<number>(2 * rank).fill(0);
      else if (m.padding === 'same') {
        const total = m.kernelSize.map((k, i) => (m.dilation[i] as number) * (k - 1));
        const begin = total.map((t) => Math.floor(t / 2));
        pads = [...begin, ...total.map((t, i) => t - (begin[i] as number))];
      } else pads = [...m.padding, ...m.padding];
      const ins = [x.name, this.param(m.weight), ...(m.bias === null ? [] : [this.param(m.bias)])];
      return same(
        this.g.node('Conv', ins, s, {
          kernel_shape: m.kernelSize,
          strides: m.stride,
          pads,
          dilations: m.dilation,
          group: m.groups,
        }),
      );
    }
    if (m instanceof Linear) {
      return this.linear(x, xt.shape, this.param(m.weight), m.bias === null ? null : this.param(m.bias), out.shape, s);
    }
    if (m instanceof MaxPool1d || m instanceof MaxPool2d || m instanceof MaxPool3d) {
      const attrs: Record<string, AttrValue> = { kernel_shape: m.kernelSize, strides: m.stride, pads: [...m.padding, ...m.padding] };
      if (m.dilation.some((d) => d !== 1)) attrs['dilations'] = m.dilation;
      if (m.ceilMode) attrs['ceil_mode'] = 1;
      return same(this.g.node('MaxPool', [x.name], s, attrs));
    }
    if (m instanceof AvgPool1d || m instanceof AvgPool2d || m instanceof AvgPool3d) {
      if (m.divisorOverride !== null) throw new Unsupported('AvgPool with divisorOverride (ONNX AveragePool has no divisor)');
      const attrs: Record<string, AttrValue> = { kernel_shape: m.kernelSize, strides: m.stride, pads: [...m.padding, ...m.padding] };
      if (m.countIncludePad && m.padding.some((p) => p !== 0)) attrs['count_include_pad'] = 1;
      if (m.ceilMode) attrs['ceil_mode'] = 1;
      return same(this.g.node('AveragePool', [x.name], s, attrs));
    }
    if (m instanceof AdaptiveAvgPool1d || m instanceof AdaptiveAvgPool2d || m instanceof AdaptiveAvgPool3d) {
      return this.adaptivePool(x, xt.shape, out.shape, 'avg', s);
    }
    if (m instanceof AdaptiveMaxPool1d || m instanceof AdaptiveMaxPool2d || m instanceof AdaptiveMaxPool3d) {
      return this.adaptivePool(x, xt.shape, out.shape, 'max', s);
    }
    if (m instanceof ReLU) return same(this.g.node('Relu', [x.name], s));
    if (m instanceof LeakyReLU) return same(this.g.node('LeakyRelu', [x.name], s, { alpha: { float: m.negativeSlope } }));
    if (m instanceof ReLU6) return same(this.g.node('Clip', [x.name, this.g.scalar(0), this.g.scalar(6)], s));
    if (m instanceof Sigmoid) return same(this.g.node('Sigmoid', [x.name], s));
    if (m instanceof Tanh) return same(this.g.node('Tanh', [x.name], s));
    if (m instanceof GELU) return same(this.#gelu(x.name, m.approximate, s));
    if (m instanceof Softmax) return same(this.g.node('Softmax', [x.name], s, { axis: m.dim }));
    if (m instanceof LogSoftmax) return same(this.g.node('LogSoftmax', [x.name], s, { axis: m.dim }));
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof BatchNorm3d) {
      if (m.runningMean === null || m.runningVar === null) {
        throw new Unsupported('BatchNorm without running statistics (trackRunningStats: false normalises with batch statistics even in eval mode)');
      }
      const c = m.numFeatures;
      const scale = m.weight === null ? this.g.floatInit(`${s}.scale`, new Float32Array(c).fill(1), [c]) : this.param(m.weight);
      const bias = m.bias === null ? this.g.floatInit(`${s}.shift`, new Float32Array(c), [c]) : this.param(m.bias);
      const ins = [x.name, scale, bias, this.param(m.runningMean), this.param(m.runningVar)];
      return same(this.g.node('BatchNormalization', ins, s, { epsilon: { float: m.eps } }));
    }
    if (m instanceof LocalResponseNorm) {
      if (m.size % 2 === 0) throw new Unsupported(`LocalResponseNorm of even size ${m.size} (ONNX centres an even window differently)`);
      return same(this.g.node('LRN', [x.name], s, { size: m.size, alpha: { float: m.alpha }, beta: { float: m.beta }, bias: { float: m.k } }));
    }
    if (m instanceof Dropout || m instanceof Dropout2d || m instanceof Identity) {
      return out === xt ? x : same(this.g.node('Identity', [x.name], s));
    }
    if (m instanceof Flatten) {
      return this.reshape(x, xt.shape, out.shape, s);
    }
    return null;
  }

  #gelu(x: string, approximate: 'none' | 'tanh', s: string): string {
    if (this.opset >= 20) return this.g.node('Gelu', [x], s, { approximate });
    const g = this.g;
    let inner: string;
    if (approximate === 'none') {
      inner = g.node('Erf', [g.node('Div', [x, g.scalar(Math.SQRT2)], s)], s);
    } else {
      const cube = g.node('Mul', [g.node('Mul', [x, x], s), x], s);
      const arg = g.node('Add', [x, g.node('Mul', [cube, g.scalar(0.044715)], s)], s);
      inner = g.node('Tanh', [g.node('Mul', [arg, g.scalar(Math.sqrt(2 / Math.PI))], s)], s);
    }
    return g.node('Mul', [g.node('Mul', [x, g.node('Add', [inner, g.scalar(1)], s)], s), g.scalar(0.5)], s);
  }
}

/**
 * The smallest broadcastable form of a constant traced at `shape`: axes along which it does not
 * vary (within float rounding of how it was recovered) shrink to 1; an all-equal constant becomes a
 * scalar.
 */
function compressConstant(c: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  let data = c;
  let dims = [...shape];
  const close = (p: number, q: number): boolean => Math.abs(p - q) <= 1e-6 * Math.max(1, Math.abs(p), Math.abs(q));
  for (let axis = 0; axis < dims.length; axis++) {
    const n = dims[axis] as number;
    if (n === 1) continue;
    let inner = 1;
    for (let i = axis + 1; i < dims.length; i++) inner *= dims[i] as number;
    const outer = data.length / (n * inner);
    let constant = true;
    for (let o = 0; o < outer && constant; o++) {
      for (let k = 1; k < n && constant; k++) {
        for (let i = 0; i < inner; i++) {
          if (!close(data[(o * n + k) * inner + i] as number, data[o * n * inner + i] as number)) {
            constant = false;
            break;
          }
        }
      }
    }
    if (!constant) continue;
    const next = new Float32Array(outer * inner);
    for (let o = 0; o < outer; o++) next.set(data.subarray(o * n * inner, o * n * inner + inner), o * inner);
    data = next;
    dims = dims.map((d, i) => (i === axis ? 1 : d));
  }
  if (data.length === 1) return { data, dims: [] };
  return { data, dims };
}

function describeModule(m: Module, path: string): string {
  const where = path === '' ? 'the model' : `'${path}'`;
  return `${m.constructor.name} at ${where}`;
}

const UNSUPPORTED_LAYERS: ReadonlyArray<[new (...args: never[]) => Module, string]> = [
  [LSTM, 'an LSTM layer (recurrent layers are not supported)'],
  [Embedding, 'an Embedding layer (the exported graph takes one float input, not indices)'],
];

function checkOpset(opset: unknown): number {
  if (typeof opset !== 'number' || !Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    throw invalidArgument('options.opset of saveOnnx()', `an integer from ${MIN_OPSET} to ${MAX_OPSET}`, opset);
  }
  return opset;
}

let modelType: protobuf.Type | undefined;

function encodeModel(model: object): Uint8Array {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType.encode(modelType.fromObject(model)).finish();
}

function valueInfo(name: string, dims: readonly (number | null)[]): object {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (d === null ? { dim_param: 'N' } : { dim_value: d })) } } },
  };
}

/** Runs the traced forward of `model` and builds the ONNX graph. */
function trace(model: Module, inputShape: number[], opset: number): { tracer: Tracer; out: Value; outShape: readonly number[] } {
  const tracer = new Tracer(model, opset);
  const names = new Map<Module, string>();
  for (const [name, m] of model.namedModules()) if (!names.has(m)) names.set(m, name);
  const modules = [...names.keys()];
  const modes = modules.map((m) => [m, m.training] as const);
  const flags = model.parameters().map((p) => [p, p.requiresGrad] as const);
  const wrapped: Module[] = [];
  let failure: ArgumentError | null = null;
  const fail = (err: unknown, where: string): never => {
    if (err instanceof Unsupported) {
      failure ??= new ArgumentError(`saveOnnx: cannot export ${err.message} (in ${where})`);
      throw failure;
    }
    throw err;
  };

  for (const m of modules) {
    const path = names.get(m) as string;
    const original = m.forward;
    const isLeaf = m.children().length === 0;
    const fn = (...args: unknown[]): unknown => {
      if (failure !== null) throw failure;
      for (const [cls, why] of UNSUPPORTED_LAYERS) if (m instanceof cls) fail(new Unsupported(why), describeModule(m, path));
      if (isLeaf && args.length >= 1 && args[0] instanceof Tensor) {
        const xt = args[0];
        let x: Value;
        try {
          x = tracer.resolve(xt);
        } catch (err) {
          return fail(err, `the input of ${describeModule(m, path)}, computed in ${tracer.scope === '' ? 'the model forward' : `'${tracer.scope}'`}`);
        }
        const out = original.apply(m, args as never[]) as unknown;
        if (args.length === 1 && out instanceof Tensor) {
          let v: Value | null;
          try {
            v = tracer.leaf(m, path, x, xt, out);
          } catch (err) {
            return fail(err, describeModule(m, path));
          }
          if (v !== null) {
            tracer.known.set(out, v);
            return out;
          }
        }
        // An unknown leaf: its ops are read from the tape below, attributed to its path.
        tracer.stack.push(path);
        try {
          if (out instanceof Tensor) tracer.resolve(out);
        } catch (err) {
          return fail(err, describeModule(m, path));
        } finally {
          tracer.stack.pop();
        }
        return out;
      }
      // Name the inputs now, so ops between modules are attributed to the caller.
      try {
        for (const a of args) if (a instanceof Tensor) tracer.resolve(a);
      } catch (err) {
        return fail(err, `the input of ${describeModule(m, path)}, computed in ${tracer.scope === '' ? 'the model forward' : `'${tracer.scope}'`}`);
      }
      tracer.stack.push(path);
      try {
        const out = original.apply(m, args as never[]) as unknown;
        if (out instanceof Tensor) tracer.resolve(out);
        return out;
      } catch (err) {
        return fail(err, describeModule(m, path));
      } finally {
        tracer.stack.pop();
      }
    };
    Object.defineProperty(m, 'forward', { value: fn, configurable: true, writable: true });
    wrapped.push(m);
  }

  try {
    for (const [p] of flags) p.requiresGrad = true;
    model.eval();
    const input = probe([1, ...inputShape], 0x5eed);
    input.requiresGrad = true;
    tracer.known.set(input, { name: 'input', batched: true });
    tracer.g.reserve('input');
    tracer.g.reserve('output');
    const result = withTapeTensors(() => enableGrad(() => (model.forward as (x: Tensor) => unknown)(input)));
    if (!(result instanceof Tensor)) {
      throw new ArgumentError(`saveOnnx: the model's forward must return one Tensor, received ${result === null ? 'null' : typeof result}`);
    }
    let out: Value;
    try {
      out = tracer.resolve(result);
    } catch (err) {
      return fail(err, 'the model forward');
    }
    tracer.g.node('Identity', [out.name], '', {}, 'output');
    return { tracer, out, outShape: result.shape };
  } catch (err) {
    if (failure !== null) throw failure;
    throw err;
  } finally {
    for (const m of wrapped) delete (m as unknown as { forward?: unknown }).forward;
    for (const [m, mode] of modes) m.training = mode;
    for (const [p, flag] of flags) p.requiresGrad = flag;
  }
}

/**
 * Traces `model` on an input of `options.inputShape` and returns the ONNX bytes (see the module
 * comment for the tracing and its check). The model's weights, running statistics and training
 * flags are left as they were.
 * @throws ArgumentError naming the op and module path of anything the exporter cannot express, for
 *   bad options, or when the batch-2 check finds the graph does not reproduce the model.
 */
export function exportOnnx(model: Module, options: SaveOnnxOptions): OnnxExport {
  if (!(model instanceof Module)) throw invalidArgument('the model of saveOnnx()', 'a Module', model);
  if (options === null || typeof options !== 'object') throw invalidArgument('the options of saveOnnx()', 'an object with inputShape', options);
  const inputShape = checkShape(options.inputShape, 'saveOnnx');
  if (inputShape.some((d) => d < 1)) throw invalidArgument('options.inputShape of saveOnnx()', 'positive dimensions', options.inputShape);
  const opset = checkOpset(options.opset ?? DEFAULT_OPSET);
  const verify = options.verify ?? true;
  if (typeof verify !== 'boolean') throw invalidArgument('options.verify of saveOnnx()', 'a boolean', verify);

  const { tracer, out, outShape } = trace(model, inputShape, opset);
  const outputShape = outShape.map((d, i) => (i === 0 && out.batched ? null : d));
  const g = tracer.g;
  const bytes = encodeModel({
    ir_version: irVersion(opset),
    producer_name: 'convkit',
    producer_version: version,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: model.constructor.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', [null, ...inputShape])],
      output: [valueInfo('output', outputShape)],
    },
  });

  let verifiedMaxAbsError: number | null = null;
  if (verify && g.opTypes.every((op) => OPERATORS[op] !== undefined)) {
    verifiedMaxAbsError = check(model, bytes, inputShape);
  }
  return { bytes, opTypes: [...g.opTypes], outputShape, verifiedMaxAbsError };
}

/** Runs the exported graph (convkit's importer) and the model on one batch of 2; returns the max abs error. */
function check(model: Module, bytes: Uint8Array, inputShape: number[]): number {
  const x = probe([2, ...inputShape], 0xc0ffee);
  const modes = model.modules().map((m) => [m, m.training] as const);
  let expected: Tensor;
  try {
    model.eval();
    expected = noGrad(() => (model.forward as (t: Tensor) => Tensor)(x));
  } finally {
    for (const [m, mode] of modes) m.training = mode;
  }
  const got = noGrad(() => loadOnnx(bytes).forward(x) as Tensor);
  if (got.shape.length !== expected.shape.length || got.shape.some((d, i) => d !== expected.shape[i])) {
    throw new ArgumentError(
      `saveOnnx: the traced graph gives shape ${formatShape(got.shape)} at batch 2 where the model gives ${formatShape(expected.shape)}; ` +
        'its forward depends on the batch size in a way a trace cannot capture',
    );
  }
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < got.size; i++) {
    const e = expected.data[i] as number;
    const d = Math.abs((got.data[i] as number) - e);
    if (!(d <= maxErr)) maxErr = d; // NaN propagates as a failure
    maxRef = Math.max(maxRef, Math.abs(e));
  }
  if (!(maxErr <= 1e-4 * Math.max(1, maxRef))) {
    throw new ArgumentError(
      `saveOnnx: the traced graph does not reproduce the model on a second input of batch 2 (max abs difference ${maxErr}); ` +
        'its forward depends on the input or batch size in a way a trace cannot capture (control flow, values made under noGrad())',
    );
  }
  return maxErr;
}

/**
 * Exports `model` as an ONNX file at `path` (written atomically; nothing is written when export
 * fails). `options.inputShape` is the input shape without the batch, which is dynamic in the file.
 * @example await io.saveOnnx(models.resnet18({ numClasses: 10 }), 'resnet18.onnx', { inputShape: [3, 224, 224] });
 * @throws ArgumentError as {@link exportOnnx}; the file system's error when the write fails.
 */
export async function saveOnnx(model: Module, path: string, options: SaveOnnxOptions): Promise<OnnxExport> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('the path of saveOnnx()', 'a non-empty string', path);
  const result = exportOnnx(model, options);
  await writeFileAtomic(path, result.bytes);
  return result;
}

/**
 * Writes `model.stateDict()` (parameters and buffers under their dotted names, float32) as a
 * safetensors file, atomically: the weights without the graph, e.g. next to an exported `.onnx`.
 * @throws ArgumentError for a model that is not a Module or a bad path; the file system's error on I/O failure.
 */
export async function saveStateDict(model: Module, path: string): Promise<void> {
  if (!(model instanceof Module)) throw invalidArgument('the model of saveStateDict()', 'a Module', model);
  await saveSafetensors(path, model.stateDict());
}
