// Shared by the fusion tests (fuse.test.ts, blocked-chain.test.ts): batch norms with non-trivial
// statistics, a rebuilt copy of a model, and the largest error relative to the reference's scale.
import { expect } from 'vitest';
import { BatchNorm2d } from '../../lib/nn/layers/index.js';
import { Module, moduleFromJSON } from '../../lib/nn/module.js';
import type { Tensor } from '../../lib/tensor/tensor.js';

/** Running statistics and affine parameters far from the defaults, so a wrong fold shows. */
export function perturbBatchNorms(model: Module): void {
  for (const m of model.modules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    m.runningMean!.data.forEach((_, i, a) => (a[i] = 0.1 * Math.sin(i)));
    m.runningVar!.data.forEach((_, i, a) => (a[i] = 1 + 0.5 * Math.cos(i)));
    m.weight!.data.forEach((_, i, a) => (a[i] = 1 + 0.2 * Math.sin(3 * i)));
    m.bias!.data.forEach((_, i, a) => (a[i] = 0.05 * Math.cos(5 * i)));
  }
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
