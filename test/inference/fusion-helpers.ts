// Shared by the fusion tests (fuse.test.ts, blocked-chain.test.ts): batch norms with non-trivial
// statistics, a rebuilt copy of a model, and the largest error relative to the reference's scale.
import { expect } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import { BatchNorm2d } from '../../lib/nn/layers/index.js';
import { Module, moduleFromJSON } from '../../lib/nn/module.js';
import type { Tensor } from '../../lib/tensor/tensor.js';

/**
 * Running statistics and affine parameters far from the defaults, so a wrong fold shows. With a
 * `sample` batch, the running statistics are then those of the sample's own activations, layer by
 * layer (one forward pass in training mode with momentum 1), so that a deep random-init model keeps
 * its activations at their scale: with the fixed statistics, MobileNetV2's shrink to ~1e-8 by the
 * last layer, its output hardly depends on the input, and a comparison of outputs at 1e-5 of their
 * scale misses a wrong pixel.
 */
export function perturbBatchNorms(model: Module, sample?: Tensor): void {
  const norms = model.modules().filter((m): m is BatchNorm2d => m instanceof BatchNorm2d);
  for (const m of norms) {
    m.runningMean!.data.forEach((_, i, a) => (a[i] = 0.1 * Math.sin(i)));
    m.runningVar!.data.forEach((_, i, a) => (a[i] = 1 + 0.5 * Math.cos(i)));
    m.weight!.data.forEach((_, i, a) => (a[i] = 1 + 0.2 * Math.sin(3 * i)));
    m.bias!.data.forEach((_, i, a) => (a[i] = 0.05 * Math.cos(5 * i)));
  }
  if (sample === undefined) return;
  const momentum = norms.map((m) => m.momentum);
  // running = batch statistics: momentum is fixed at construction, so it is set behind the type.
  for (const m of norms) (m as { momentum: number | null }).momentum = 1;
  model.train();
  noGrad(() => (model.forward as (t: Tensor) => Tensor)(sample));
  model.eval();
  norms.forEach((m, i) => ((m as { momentum: number | null }).momentum = momentum[i]!));
}

/** The spread of a batch's outputs across its images over their scale: near 0 when they ignore the input. */
export function inputDependence(y: Tensor): number {
  const [n] = y.shape as [number];
  const per = y.size / n;
  let spread = 0;
  let scale = 0;
  for (let j = 0; j < per; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = y.data[i * per + j]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      scale = Math.max(scale, Math.abs(v));
    }
    spread = Math.max(spread, hi - lo);
  }
  return spread / Math.max(scale, 1e-30);
}

/** An independent copy (architecture JSON + state dict), in eval mode. */
export function copyOf(model: Module): Module {
  const c = moduleFromJSON(model.toJSON());
  c.loadStateDict(model.stateDict());
  return c.eval();
}

/** max |a - b| over max |a| (shapes must match). */
export function relErr(a: Tensor, b: Tensor): number {
  expect(b.shape).toEqual(a.shape);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.size; i++) {
    scale = Math.max(scale, Math.abs(a.data[i]!));
    err = Math.max(err, Math.abs(a.data[i]! - b.data[i]!));
  }
  return err / Math.max(scale, 1e-12);
}
