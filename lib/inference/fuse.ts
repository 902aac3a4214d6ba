/**
 * Inference-time fusion, as onnxruntime does it: a 2-D convolution followed by an eval-mode batch
 * norm has the batch norm folded into its weights and bias (w' = w·γ/√(σ²+ε),
 * b' = (b − μ)·γ/√(σ²+ε) + β), and a ReLU or ReLU6 after it is applied by the convolution itself
 * (ReLU and ReLU6 in the GEMM or depthwise kernel's epilogue). Each fused pair or triple writes one
 * tensor instead of two or three, which is most of the cost of a CNN's inference on a CPU whose
 * fresh pages must be faulted in.
 *
 * The pattern is found by tracing one forward pass on a sample: every leaf module's call is
 * recorded with its input and output tensors, so "the convolution's output feeds this batch norm
 * and nothing else" is a fact of the run, not a guess from the module order. Activation modules
 * may be shared (torchvision's ResNet calls one `relu` twice), so they are not removed: they are
 * wrapped to pass through a tensor a fused convolution has already activated, and to work as
 * before on anything else. Operations outside modules (a residual `add`) are invisible to the
 * trace, so the fused model's output on the sample is compared with the original's and every
 * change is undone when they differ (relative tolerance 1e-4).
 *
 * Then the sequences of fused convolutions move to the channel-blocked layout
 * (blocked/block-for-inference.ts), checked on the same sample and undone on their own when the
 * output differs.
 *
 * Meant for a model that only runs inference (the Predictor's private copy): the fused modules
 * have no backward pass and do not serialise.
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { ConvActivation, ConvOptions } from '../ops/conv.js';
import { BatchNorm2d, Conv2d, Identity, ReLU, ReLU6 } from '../nn/layers/index.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { blockForInference } from './blocked/block-for-inference.js';
import { FusedConv2d, PassThroughActivation } from './fused-conv2d.js';


interface Call {
  path: string;
  module: Module;
  input: unknown;
  output: unknown;
}

/** One forward pass on `sample` with every leaf module's calls recorded. */
function trace(model: Module, sample: Tensor): { calls: Call[]; output: Tensor } {
  const calls: Call[] = [];
  const restore: Array<() => void> = [];
  for (const [path, m] of model.namedModules()) {
    if (m.children().length > 0) continue;
    const own = Object.prototype.hasOwnProperty.call(m, 'forward');
    const original = m.forward;
    (m as { forward: (...a: unknown[]) => unknown }).forward = (...args: unknown[]) => {
      const output = (original as (...a: unknown[]) => unknown).apply(m, args);
      calls.push({ path, module: m, input: args[0], output });
      return output;
    };
    restore.push(() => {
      if (own) (m as { forward: unknown }).forward = original;
      else delete (m as { forward?: unknown }).forward;
    });
  }
  try {
    const output = noGrad(() => (model.forward as (x: Tensor) => Tensor)(sample));
    return { calls, output };
  } finally {
    for (const r of restore) r();
  }
}

function convOptions(c: Conv2d): ConvOptions {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

/** Folds `bn` (eval statistics) into `conv`'s weights; returns [weight, bias]. */
function fold(conv: Conv2d, bn: BatchNorm2d | null): [Float32Array, Float32Array] {
  const out = conv.outChannels;
  const w = conv.weight.data.slice();
  const b = conv.bias === null ? new Float32Array(out) : conv.bias.data.slice();
  if (bn === null) return [w, b];
  const per = w.length / out;
  const mean = bn.runningMean!.data;
  const variance = bn.runningVar!.data;
  for (let o = 0; o < out; o++) {
    const gamma = bn.weight === null ? 1 : bn.weight.data[o]!;
    const beta = bn.bias === null ? 0 : bn.bias.data[o]!;
    const scale = gamma / Math.sqrt(variance[o]! + bn.eps);
    for (let i = o * per; i < (o + 1) * per; i++) w[i] = w[i]! * scale;
    b[o] = (b[o]! - mean[o]!) * scale + beta;
  }
  return [w, b];
}

function maxRelativeError(a: Tensor, b: Tensor): number {
  if (a.size !== b.size) return Infinity;
  let scale = 0;
  for (const v of a.data) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < a.size; i++) err = Math.max(err, Math.abs(a.data[i]! - b.data[i]!));
  return err / Math.max(scale, 1e-6);
}

/** What {@link fuseForInference} did. */
export interface FusionResult {
  /** Convolutions fused (each with its batch norm and/or activation). */
  fused: number;
  /** True when the check on the sample failed and every change was undone. */
  reverted: boolean;
  /** Sequences moved to the channel-blocked layout (lib/inference/blocked/); 0 when their check failed. */
  blockedChains: number;
}

/**
 * Fuses conv + batch norm (+ ReLU/ReLU6) in `model` (put in eval mode) after tracing `sample`;
 * see the module comment. The model is changed in place and is for inference only afterwards.
 */
export function fuseForInference(model: Module, sample: Tensor): FusionResult {
  model.eval();
  const { calls, output: reference } = trace(model, sample);
  const uses = new Map<unknown, number>();
  for (const c of calls) uses.set(c.input, (uses.get(c.input) ?? 0) + 1);
  const callCount = new Map<Module, number>();
  for (const c of calls) callCount.set(c.module, (callCount.get(c.module) ?? 0) + 1);
  const consumer = new Map<unknown, Call>();
  for (const c of calls) if (uses.get(c.input) === 1) consumer.set(c.input, c);

  const undo: Array<() => void> = [];
  const replace = (path: string, m: Module): void => {
    const before = model.getModule(path);
    model.replaceModule(path, m);
    undo.push(() => model.replaceModule(path, before));
  };
  const wrapped = new Set<Module>();
  let fused = 0;
  for (const c of calls) {
    if (!(c.module instanceof Conv2d) || callCount.get(c.module) !== 1 || c.path === '') continue;
    let tail: unknown = c.output;
    let bn: Call | null = null;
    const next = consumer.get(tail);
    if (next !== undefined && next.module instanceof BatchNorm2d && callCount.get(next.module) === 1 && next.module.runningMean !== null && next.module.runningVar !== null) {
      bn = next;
      tail = bn.output;
    }
    let act: Call | null = null;
    const after = consumer.get(tail);
    if (after !== undefined && (after.module instanceof ReLU || after.module instanceof ReLU6)) act = after;
    if (bn === null && act === null) continue;
    const kind: ConvActivation = act === null ? 'none' : act.module instanceof ReLU ? 'relu' : 'relu6';
    const [w, b] = fold(c.module, bn === null ? null : (bn.module as BatchNorm2d));
    replace(c.path, new FusedConv2d(w, [...c.module.weight.shape], b, convOptions(c.module), kind));
    if (bn !== null) replace(bn.path, new Identity());
    if (act !== null && !wrapped.has(act.module) && act.path !== '') {
      wrapped.add(act.module);
      replace(act.path, new PassThroughActivation(act.module, kind === 'relu' ? 'relu' : 'relu6'));
    }
    fused++;
  }
  if (fused === 0) return { fused: 0, reverted: false, blockedChains: 0 };
  if (!matches(model, sample, reference)) {
    for (const u of undo.reverse()) u();
    return { fused: 0, reverted: true, blockedChains: 0 };
  }
  const unblock = blockForInference(model);
  if (unblock.length > 0 && !matches(model, sample, reference)) {
    for (const u of unblock.reverse()) u();
    return { fused, reverted: false, blockedChains: 0 };
  }
  return { fused, reverted: false, blockedChains: unblock.length };
}

/** Whether `model`'s output on `sample` matches `reference` (relative tolerance 1e-4). */
function matches(model: Module, sample: Tensor, reference: Tensor): boolean {
  try {
    const out = noGrad(() => (model.forward as (x: Tensor) => Tensor)(sample));
    return out instanceof Tensor && maxRelativeError(reference, out) <= 1e-4;
  } catch {
    return false;
  }
}
