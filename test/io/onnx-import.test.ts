// ONNX import: the committed PyTorch fixture (a tiny conv-bn-relu-pool-gemm net, exported with
// batch norm kept as a node) runs forward and trains (gradients and running statistics checked
// against PyTorch's), parameters get readable names, and bad files fail with typed errors.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArgumentError, FormatError } from '../../lib/errors.js';
import { loadOnnx, loadOnnxTensor, OnnxModel } from '../../lib/io/onnx/index.js';
import { ONNX_PROTO } from '../../lib/io/onnx/schema.js';
import { packageRoot } from '../../lib/native.js';
import { mul } from '../../lib/tensor/elementwise.js';
import { sum } from '../../lib/tensor/reduce.js';
import { Tensor } from '../../lib/tensor/tensor.js';

const DIR = join(packageRoot, 'test', 'fixtures', 'onnx');
const MODEL = join(DIR, 'tiny.onnx');

interface Arr { shape: number[]; data: number[] }
interface Fixture {
  torch: string;
  input: Arr;
  r: Arr;
  shape: number[];
  eval: { output: number[]; grads: Record<string, number[]> };
  train: { output: number[]; grads: Record<string, number[]>; running_mean_before: number[]; running_mean: number[] };
}
const fixture = JSON.parse(readFileSync(join(DIR, 'tiny.json'), 'utf8')) as Fixture;
/** Encodes a ModelProto (opset 13) around a graph given as a plain object. */
function encodeModel(graph: Record<string, unknown>, opset = 13): Uint8Array {
  const type = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return type.encode(type.fromObject({ ir_version: 7, opset_import: [{ domain: '', version: opset }], graph })).finish();
}

const floatInput = (name: string, dims: number[]): Record<string, unknown> => ({
  name,
  type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
});
const t = (a: Arr): Tensor => new Tensor(Float32Array.from(a.data), a.shape);

function expectClose(actual: ArrayLike<number>, expected: readonly number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)));
  expect(worst, what).toBeLessThan(tol);
}

/** Runs forward and backward of sum(out * r); returns the output. */
function step(model: OnnxModel): Tensor {
  for (const p of model.parameters()) p.grad = null;
  const y = model.forward(t(fixture.input)) as Tensor;
  sum(mul(y, t(fixture.r))).backward();
  return y;
}

describe('loadOnnx on a PyTorch-exported net', () => {
  it('names parameters and buffers after the initializers and starts in eval mode', () => {
    const model = loadOnnx(MODEL);
    expect(model.training).toBe(false);
    expect(model.opset).toBe(13);
    expect(model.producer).toMatch(/^pytorch/);
    expect(model.inputs.map((i) => [i.name, i.shape])).toEqual([['input', [2, 3, 8, 8]]]);
    expect(model.outputs.map((o) => o.name)).toEqual(['logits']);
    expect(model.namedParameters().map(([n]) => n).sort()).toEqual(['bn.bias', 'bn.weight', 'conv.bias', 'conv.weight', 'fc.bias', 'fc.weight']);
    expect(model.namedBuffers().map(([n]) => n).sort()).toEqual(['bn.running_mean', 'bn.running_var']);
    expect(model.getModule('conv').namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
  });

  it('matches PyTorch forward and gradients in eval mode', () => {
    const model = loadOnnx(readFileSync(MODEL));
    const y = step(model);
    expect(y.shape).toEqual(fixture.shape);
    expectClose(y.data, fixture.eval.output, 1e-4, 'output');
    const params = new Map(model.namedParameters());
    for (const [name, grad] of Object.entries(fixture.eval.grads)) expectClose(params.get(name)!.grad!.data, grad, 1e-4, `grad of ${name}`);
    // run() gives the same output by name.
    expectClose(model.run({ input: t(fixture.input) })['logits']!.data, fixture.eval.output, 1e-4, 'run()');
  });

  it('trains: batch statistics, gradients and ONNX-momentum running mean match PyTorch', () => {
    const model = loadOnnx(MODEL).train();
    const before = Array.from(model.stateDict().get('bn.running_mean')!.data);
    expectClose(before, fixture.train.running_mean_before, 1e-6, 'running mean before');
    const y = step(model);
    expectClose(y.data, fixture.train.output, 1e-4, 'train output');
    const params = new Map(model.namedParameters());
    for (const [name, grad] of Object.entries(fixture.train.grads)) expectClose(params.get(name)!.grad!.data, grad, 1e-4, `train grad of ${name}`);
    // The exported momentum is 0.9 (ONNX) for PyTorch's 0.1: the running mean moves the same way.
    expectClose(model.stateDict().get('bn.running_mean')!.data, fixture.train.running_mean, 1e-5, 'running mean after');

    // One SGD step lowers the loss.
    const loss = (): number => sum(mul(model.eval().forward(t(fixture.input)) as Tensor, t(fixture.r))).item();
    const l0 = loss();
    step(model.eval());
    for (const p of model.parameters()) for (let i = 0; i < p.size; i++) p.data[i]! -= 0.01 * p.grad!.data[i]!;
    expect(loss()).toBeLessThan(l0);
  });

  it('accepts weights fed as inputs to run()', () => {
    const model = loadOnnx(MODEL);
    const fc = model.stateDict().get('fc.bias')!;
    const base = model.run({ input: t(fixture.input) })['logits']!;
    const shifted = model.run({ input: t(fixture.input), 'fc.bias': new Tensor(fc.data.map((v) => v + 1), fc.shape) })['logits']!;
    expectClose(shifted.data, Array.from(base.data, (v) => v + 1), 1e-5, 'shifted logits');
  });

  it('treats graph inputs that have an initializer as weights (IR < 4 files)', () => {
    const type = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
    const msg = type.toObject(type.decode(readFileSync(MODEL))) as { graph: { input: { name: string }[]; initializer: { name: string }[] } };
    msg.graph.input.push(...msg.graph.initializer.map((i) => ({ name: i.name })));
    const model = loadOnnx(type.encode(type.fromObject(msg)).finish());
    expect(model.inputs.map((i) => i.name)).toEqual(['input']);
    expect(model.numParameters()).toBe(loadOnnx(MODEL).numParameters());
    expectClose((model.forward(t(fixture.input)) as Tensor).data, fixture.eval.output, 1e-4, 'output');
  });

  it('checks inputs', () => {
    const model = loadOnnx(MODEL);
    expect(() => model.forward()).toThrow(/expected 1 input\(s\) \(input\), received 0/);
    expect(() => model.forward(new Tensor(new Float32Array(3 * 64), [1, 3, 8, 8]))).toThrow(/input 'input' has shape \[1, 3, 8, 8\] but the model declares \[2, 3, 8, 8\]/);
    expect(() => model.run({ nope: t(fixture.input) })).toThrow(ArgumentError);
  });
});

describe('operator semantics beyond the conformance data', () => {
  const x = new Tensor(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 3), [2, 3, 4]);

  it('Softmax before opset 13 coerces the input to 2-d at axis; from opset 13 it normalises one axis', () => {
    const graph = { node: [{ op_type: 'Softmax', input: ['x'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 1 }] }], input: [floatInput('x', [2, 3, 4])], output: [{ name: 'y' }] };
    const legacy = loadOnnx(encodeModel(graph, 11)).forward(x) as Tensor;
    const modern = loadOnnx(encodeModel(graph, 13)).forward(x) as Tensor;
    // Opset 11: each batch row of 12 values sums to 1. Opset 13: each (batch, column) of 3 values does.
    for (let b = 0; b < 2; b++) expect(legacy.data.subarray(12 * b, 12 * b + 12).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) expect(modern.get(b, 0, c) + modern.get(b, 1, c) + modern.get(b, 2, c)).toBeCloseTo(1, 5);
  });

  it("runs PyTorch's Shape/Gather/Unsqueeze/Concat/Reshape flatten chain", () => {
    const int64 = (name: string, values: number[], dims: number[]): Record<string, unknown> => ({ name, data_type: 7, dims, int64_data: values });
    const graph = {
      node: [
        { op_type: 'Shape', input: ['x'], output: ['s'] },
        { op_type: 'Gather', input: ['s', 'zero'], output: ['n'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
        { op_type: 'Unsqueeze', input: ['n', 'axes'], output: ['n1'] },
        { op_type: 'Concat', input: ['n1', 'minus1'], output: ['shape'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
        { op_type: 'Reshape', input: ['x', 'shape'], output: ['y'] },
      ],
      initializer: [int64('zero', [0], []), int64('axes', [0], [1]), int64('minus1', [-1], [1])],
      input: [floatInput('x', [2, 3, 4])],
      output: [{ name: 'y' }],
    };
    const model = loadOnnx(encodeModel(graph));
    expect(model.parameters()).toEqual([]);
    const y = model.forward(x) as Tensor;
    expect(y.shape).toEqual([2, 12]);
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });

  it("LRN with an even size uses ONNX's window (one channel before, size/2 after)", () => {
    const graph = {
      node: [{ op_type: 'LRN', input: ['x'], output: ['y'], attribute: [{ name: 'size', type: 2, i: 2 }, { name: 'alpha', type: 1, f: 0.5 }, { name: 'beta', type: 1, f: 0.75 }, { name: 'bias', type: 1, f: 2 }] }],
      input: [floatInput('x', [1, 3, 1, 1])],
      output: [{ name: 'y' }],
    };
    const v = [1, 2, 3];
    const y = loadOnnx(encodeModel(graph)).forward(new Tensor(Float32Array.from(v), [1, 3, 1, 1])) as Tensor;
    const expected = v.map((xc, c) => xc / (2 + (0.5 / 2) * (xc ** 2 + (v[c + 1] ?? 0) ** 2)) ** 0.75);
    expectClose(y.data, expected, 1e-6, 'lrn');
  });
});

describe('loadOnnx errors', () => {
  const bytes = readFileSync(MODEL);

  it('reports a truncated file as a FormatError naming the source and offset', () => {
    const err = (() => {
      try {
        loadOnnx(bytes.subarray(0, bytes.length - 7));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/^<buffer>: not a valid ONNX ModelProto \(\d+ bytes\): index out of range at byte offset \d+$/);
  });

  it('reports tensor data that does not match the dims', () => {
    // Find conv.weight's raw_data length prefix (108 floats = 432 bytes: 0x4a 0xb0 0x03) and shrink it.
    const tag = Buffer.from([0x4a, 0xb0, 0x03]);
    const at = bytes.indexOf(tag);
    expect(at).toBeGreaterThan(0);
    // Rewrite the field as 428 bytes of raw_data followed by a 2-byte unknown field, so the
    // message still parses but the tensor is 4 bytes short.
    const bad = Buffer.from(bytes);
    bad[at + 1] = 0xac; // 428
    bad[at + 3 + 428] = 0x78; // field 15, varint
    bad[at + 3 + 429] = 0x01;
    bad[at + 3 + 430] = 0x78;
    bad[at + 3 + 431] = 0x01;
    expect(() => loadOnnx(bad)).toThrow(FormatError);
    expect(() => loadOnnx(bad)).toThrow(/tensor 'conv.weight' \(FLOAT, dims \[4, 3, 3, 3\]\) needs 432 bytes of raw_data but has 428/);
  });

  it('lists every unsupported operator in one ArgumentError before running', () => {
    const model = encodeModel({
      node: [
        { op_type: 'Selu', name: 'act', input: ['x'], output: ['a'] },
        { op_type: 'Relu', name: 'relu', input: ['a'], output: ['b'] },
        { op_type: 'MinPool', name: 'pool', input: ['b'], output: ['c'] },
        { op_type: 'MaxPool', name: 'mp', input: ['c'], output: ['y', 'idx'], attribute: [{ name: 'kernel_shape', type: 7, ints: [2, 2] }] },
        { op_type: 'Conv', name: 'custom', domain: 'com.example', input: ['y'], output: ['z'] },
      ],
      input: [{ name: 'x' }],
      output: [{ name: 'z' }],
    });
    expect(() => loadOnnx(model)).toThrow(ArgumentError);
    expect(() => loadOnnx(model)).toThrow(
      "<buffer>: unsupported ONNX operators (opset 13): Selu 'act', MinPool 'pool', Conv 'custom' (domain 'com.example')",
    );
  });

  it.each([
    // Worked by hand on x = arange(6) as [1, 1, 2, 3], windows 1x2: the maximum is each window's right element.
    ['row-major', 0, [0, 0, 0, 0], [1, 2, 4, 5], [1, 2, 4, 5]],
    ['column-major (storage_order 1: h + w * H)', 1, [0, 0, 0, 0], [1, 2, 4, 5], [2, 4, 3, 5]],
    ['asymmetric padding (the kernel pools a padded copy; indices still count in the input)', 0, [0, 1, 0, 0], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]],
  ])('MaxPool Indices output, %s', (_name, storageOrder, pads, values, want) => {
    const model = encodeModel({
      node: [
        {
          op_type: 'MaxPool', name: 'mp', input: ['x'], output: ['y', 'idx'],
          attribute: [
            { name: 'kernel_shape', type: 7, ints: [1, 2] },
            { name: 'storage_order', type: 2, i: storageOrder },
            { name: 'pads', type: 7, ints: pads },
          ],
        },
      ],
      input: [{ name: 'x' }],
      output: [{ name: 'y' }, { name: 'idx' }],
    });
    const out = loadOnnx(model).forward(new Tensor(Float32Array.from([0, 1, 2, 3, 4, 5]), [1, 1, 2, 3])) as unknown as [Tensor, Tensor];
    expect(Array.from(out[0].data)).toEqual(values);
    expect(Array.from(out[1].data)).toEqual(want);
    expect(out[1].shape).toEqual(out[0].shape);
  });

  it('refuses external data, unsupported data types and absurd dims before allocating', () => {
    const withInit = (init: Record<string, unknown>): Uint8Array =>
      encodeModel({ node: [{ op_type: 'Relu', input: ['w'], output: ['y'] }], initializer: [{ name: 'w', ...init }], output: [{ name: 'y' }] });
    expect(() => loadOnnx(withInit({ dims: [2], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'w.bin' }] }))).toThrow(
      /tensor 'w' keeps its data in an external file \('w.bin'\)/,
    );
    expect(() => loadOnnx(withInit({ dims: [1], data_type: 8, string_data: [Buffer.from('a')] }))).toThrow(/data type STRING, which convkit does not support/);
    expect(() => loadOnnx(withInit({ dims: [1e6, 1e6, 1e6], data_type: 1, float_data: [1] }))).toThrow(FormatError);
    expect(() => loadOnnx(withInit({ dims: [1e6, 1e6, 1e6], data_type: 1, float_data: [1] }))).toThrow(/declares 1000000000000000000 elements/);
    expect(() => loadOnnx(withInit({ dims: [3], data_type: 1, float_data: [1, 2] }))).toThrow(/tensor 'w' \(FLOAT, dims \[3\]\) needs 3 values of float_data but has 2/);
    expect(() => loadOnnx(withInit({ dims: [-3], data_type: 1 }))).toThrow(/invalid dimension -3/);
    // A well-formed tensor loads.
    const ok = loadOnnx(withInit({ dims: [2], data_type: 1, float_data: [-1, 2] }));
    expect(Array.from((ok.forward() as Tensor).data)).toEqual([0, 2]);
  });

  it('reports a missing file and a non-model', () => {
    expect(() => loadOnnx('/nonexistent/model.onnx')).toThrow(ArgumentError);
    expect(() => loadOnnx(Buffer.from('hello, this is not protobuf'))).toThrow(FormatError);
    expect(() => loadOnnx(new Uint8Array(0))).toThrow(/has no graph/);
    expect(() => loadOnnxTensor(Buffer.from([0x0a, 0x05, 0x01]))).toThrow(FormatError);
  });
});
