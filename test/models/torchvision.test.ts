// ResNet-18, VGG-11 and MobileNetV2 against torchvision 0.14 with identical weights (filled by
// the integer pattern of scripts/golden/models.py): outputs, input gradients, whole gradients of a
// few parameters, and for every parameter its gradient's L2 norm and a fixed random projection.
// Loss: sum(y * r), so dL/dy = r.
//
// Tolerances: outputs and input gradients |a - e| <= 2e-4 + 2e-3 |e|, stored parameter gradients
// |a - e| <= 2e-3 max|e| + 2e-3 |e| (float32 through 8-20
// layers, GEMM and Winograd summation orders differ from oneDNN's); gradient summaries within
// 1e-3 relative of the norm (norm and projection are sums over up to 2.4M elements).
import { describe, expect, it } from 'vitest';
import { models, type Tensor } from '../../lib/index.js';
import type { Module } from '../../lib/nn/module.js';
import { expectClose, loadGolden } from '../helpers/golden.js';
import { pattern, patternFill } from './pattern.js';

const golden = loadGolden('models');
const TOL = { atol: 2e-4, rtol: 2e-3 };

const BUILD: Record<string, () => Module> = {
  resnet18_eval: () => models.resnet18({ numClasses: 10 }),
  resnet18_train: () => models.resnet18({ numClasses: 10 }),
  vgg11_eval: () => models.vgg11({ numClasses: 10 }),
  mobilenet_v2_eval: () => models.mobilenetV2({ numClasses: 10 }),
};

describe('zoo models against torchvision', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const model = (BUILD[name] as () => Module)();
    patternFill(model);
    model.train(c.params.train as boolean);
    const x = (c.tensors.x as Tensor).detach().requiresGrad_();
    const y = (model.forward as (t: Tensor) => Tensor)(x);
    expectClose(y, c.tensors.y as Tensor, TOL, `${name}: output`);
    y.mul(c.tensors.r as Tensor).sum().backward();
    expectClose(x.grad as Tensor, c.tensors.dx as Tensor, TOL, `${name}: input gradient`);

    const params = new Map(model.namedParameters());
    const buffers = new Map(model.namedBuffers());
    for (const [key, expected] of Object.entries(c.tensors)) {
      if (key.startsWith('grad:')) {
        const p = params.get(key.slice(5));
        expect(p, key).toBeDefined();
        // Weight gradients are sums over the batch and every position, some with cancellation
        // (batch norm in training removes each channel's mean): absolute slack scales with the
        // tensor's largest element.
        let maxAbs = 0;
        for (const v of expected.data) maxAbs = Math.max(maxAbs, Math.abs(v));
        expectClose(p?.grad as Tensor, expected, { atol: 2e-3 * maxAbs, rtol: 2e-3 }, `${name}: ${key}`);
      } else if (key.startsWith('buffer:')) {
        expectClose(buffers.get(key.slice(7)) as Tensor, expected, TOL, `${name}: ${key}`);
      }
    }

    const summaries = c.params.grad_summaries as Record<string, [number, number]>;
    expect([...params.keys()]).toEqual(Object.keys(summaries));
    let k = 0;
    for (const [pname, p] of params) {
      const g = (p.grad as Tensor).data;
      const proj = pattern(g.length, k++, 29);
      let norm = 0;
      let dot = 0;
      for (let i = 0; i < g.length; i++) {
        norm += (g[i] as number) ** 2;
        dot += (g[i] as number) * (proj[i] as number);
      }
      norm = Math.sqrt(norm);
      const [eNorm, eDot] = summaries[pname] as [number, number];
      const scale = 1e-3 * eNorm + 1e-6;
      expect(Math.abs(norm - eNorm), `${name}: |grad ${pname}| = ${norm}, torch ${eNorm}`).toBeLessThanOrEqual(scale);
      expect(Math.abs(dot - eDot), `${name}: grad ${pname} . projection = ${dot}, torch ${eDot}`).toBeLessThanOrEqual(
        scale * Math.sqrt(g.length) * 0.1 + 1e-6,
      );
    }
  }, 240_000); // VGG-11 holds 129M weights: built, filled and run twice; slow on a shared 2-core machine
});

