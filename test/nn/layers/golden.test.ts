// The built-in layers against PyTorch (fixtures from scripts/golden/layers.py). Each case rebuilds
// the layer with moduleFromJSON() from the architecture the script wrote, loads PyTorch's state dict
// by PyTorch's names with loadStateDict (strict), runs one forward in the same mode, backpropagates
// the loss sum(y * r) and compares the output, the input gradient, every parameter gradient and the
// state afterwards (batch norm's running statistics and num_batches_tracked).
//
// Tolerance: atol 1e-5 + rtol 1e-5 for outputs, states and gradients alike. Both sides compute in
// float32 and sum in different orders (conv/linear sums of <= ~300 terms of O(1) products, batch-norm
// input gradients as differences of O(1) terms, LSTM gradients back through up to 37 steps); on these
// small fixtures every value agrees within 1e-6 + 1e-6 relative (checked), so 1e-5 leaves a 10x
// margin for other instruction-set paths and thread counts while still catching a wrong formula,
// a swapped gate or a missed running-statistics update (each of those is off by 1e-2 or more).
import { describe, expect, it } from 'vitest';
import { Tensor, add, mul, sum } from '../../../lib/index.js';
import { LSTM } from '../../../lib/nn/layers/index.js';
import { moduleFromJSON, type Module, type ModuleJSON } from '../../../lib/nn/module.js';
import { expectClose, loadGolden, type GoldenCase } from '../../helpers/golden.js';

const golden = loadGolden('layers');
const tol = {
  y: { atol: 1e-5, rtol: 1e-5 },
  grad: { atol: 1e-5, rtol: 1e-5 },
};

const copy = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape);

/** The tensors whose key starts with `prefix.`, by the rest of the key. */
function group(c: GoldenCase, prefix: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [key, t] of Object.entries(c.tensors)) if (key.startsWith(`${prefix}.`)) out.set(key.slice(prefix.length + 1), copy(t));
  return out;
}

function build(c: GoldenCase): Module {
  const module = moduleFromJSON(c.params['module'] as ModuleJSON);
  module.loadStateDict(group(c, 's0'));
  module.train(c.params['train'] as boolean);
  return module;
}

function checkParametersAndState(c: GoldenCase, module: Module): void {
  const expectedGrads = group(c, 'g');
  const params = module.namedParameters();
  expect(params.map(([n]) => n).sort()).toEqual([...expectedGrads.keys()].sort());
  for (const [name, p] of params) expectClose(p.grad!, expectedGrads.get(name)!, tol.grad, `${c.name} grad ${name}`);
  const after = group(c, 's1');
  if (after.size > 0) {
    const state = module.stateDict();
    expect([...state.keys()]).toEqual([...after.keys()]);
    for (const [name, t] of after) expectClose(state.get(name)!, t, tol.y, `${c.name} state after ${name}`);
  }
}

function layerCase(c: GoldenCase): void {
  const t = c.tensors;
  const module = build(c);
  const x = copy(t['x']!).requiresGrad_();
  const y = (module.forward as (x: Tensor) => Tensor)(x);
  expectClose(y, t['y']!, tol.y, `${c.name} y`);
  y.backward(t['r']!);
  expectClose(x.grad!, t['dx']!, tol.grad, `${c.name} dx`);
  checkParametersAndState(c, module);
}

function embeddingCase(c: GoldenCase): void {
  const t = c.tensors;
  const module = build(c);
  const y = (module.forward as (x: Tensor) => Tensor)(copy(t['x']!));
  expectClose(y, t['y']!, tol.y, `${c.name} y`);
  y.backward(t['r']!);
  checkParametersAndState(c, module);
}

function lstmCase(c: GoldenCase): void {
  const t = c.tensors;
  const module = build(c) as LSTM;
  expect(module).toBeInstanceOf(LSTM);
  const x = copy(t['x']!).requiresGrad_();
  const withState = c.params['withState'] as boolean;
  const h0 = withState ? copy(t['h0']!).requiresGrad_() : null;
  const c0 = withState ? copy(t['c0']!).requiresGrad_() : null;
  const [y, [hN, cN]] = module.forward(x, withState ? [h0!, c0!] : undefined);
  expectClose(y, t['y']!, tol.y, `${c.name} output`);
  expectClose(hN, t['hN']!, tol.y, `${c.name} hN`);
  expectClose(cN, t['cN']!, tol.y, `${c.name} cN`);
  add(add(sum(mul(y, t['r']!)), sum(mul(hN, t['rh']!))), sum(mul(cN, t['rc']!))).backward();
  expectClose(x.grad!, t['dx']!, tol.grad, `${c.name} dx`);
  if (withState) {
    expectClose(h0!.grad!, t['dh0']!, tol.grad, `${c.name} dh0`);
    expectClose(c0!.grad!, t['dc0']!, tol.grad, `${c.name} dc0`);
  }
  checkParametersAndState(c, module);
}

describe(`layers vs PyTorch ${golden.torch}`, () => {
  it('covers every layer type', () => {
    const types = new Set(golden.cases.map((c) => c.op));
    for (const type of [
      'Conv1d', 'Conv2d', 'Conv3d', 'Linear', 'MaxPool1d', 'MaxPool2d', 'MaxPool3d', 'AvgPool1d', 'AvgPool2d', 'AvgPool3d',
      'AdaptiveAvgPool1d', 'AdaptiveAvgPool2d', 'AdaptiveAvgPool3d', 'AdaptiveMaxPool2d', 'ReLU', 'LeakyReLU', 'ReLU6',
      'Sigmoid', 'Tanh', 'GELU', 'Softmax', 'LogSoftmax', 'Identity', 'Flatten', 'BatchNorm1d', 'BatchNorm2d',
      'BatchNorm3d', 'LocalResponseNorm', 'Embedding', 'Sequential', 'LSTM',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
  });

  for (const c of golden.cases) {
    it(`${c.name} (${c.op}${c.params['train'] === true ? ', training' : ''})`, () => {
      if (c.op === 'LSTM') lstmCase(c);
      else if (c.op === 'Embedding') embeddingCase(c);
      else layerCase(c);
    });
  }
});
