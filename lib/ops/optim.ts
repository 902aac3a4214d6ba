/**
 * Optimiser updates on Float32Arrays: the TypeScript entry to the native kernels
 * (native/kernels/optim.h). The optimisers in lib/optim call these per parameter; the binding
 * checks lengths and overlaps again.
 */
import { callNative } from '../native.js';

interface OptimNative {
  _sgdStep(
    p: Float32Array,
    g: Float32Array,
    buf: Float32Array | null,
    fresh: boolean,
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov: boolean,
    maximize: boolean,
  ): void;
}

/** The SGD hyper-parameters of one parameter group. */
export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/**
 * One SGD step in place on `p` (and the momentum buffer `buf`, required when momentum is not 0;
 * `fresh` on the first step initialises it to the gradient), as torch.optim.SGD.
 */
export function sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, fresh: boolean, o: SgdStepOptions): void {
  callNative((a) =>
    (a as unknown as OptimNative)._sgdStep(p, g, buf, fresh, o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov, o.maximize),
  );
}
