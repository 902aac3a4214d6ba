/**
 * A run of fused convolutions executed in the channel-blocked layout (NCHW16c, see
 * blocked-kernels.ts): it stands in for a `Sequential` of a model that only runs inference, takes
 * and returns plain NCHW tensors, and keeps everything in between blocked, as onnxruntime does.
 *
 * A chain is compiled from modules into steps:
 * - `conv`: a {@link FusedConv2d} with groups 1 (any kernel, stride and padding, no dilation);
 * - `depthwise`: a FusedConv2d with groups == channels (multiplier 1);
 * - `residual`: steps whose result is added to their input (MobileNetV2's inverted residual with
 *   its shortcut); the add runs in the last convolution's epilogue, which must have no activation.
 * Identity modules, eval-mode dropout and the pass-throughs that stand in for an activation a
 * convolution already applied compile to nothing. Anything else stops the compilation
 * ({@link compileChain} returns null) and the model keeps its plain path.
 *
 * The first convolution reads a plain input of at most 4 channels directly (the 3-channel stem:
 * padding its input to 16 channels would multiply its work by 5); any other plain input is
 * reordered first. Inside a {@link BufferArena} run, every blocked buffer is handed back as soon as
 * the next step has consumed it.
 */
import { ArgumentError } from '../../errors.js';
import { InvertedResidual } from '../../models/mobilenet-v2.js';
import { Dropout, Identity, Sequential } from '../../nn/layers/index.js';
import { Module } from '../../nn/module.js';
import { convGeometry } from '../../ops/conv.js';
import { releaseBuffer } from '../../tensor/buffer-arena.js';
import { Tensor } from '../../tensor/tensor.js';
import { FusedConv2d, PassThroughActivation } from '../fused-conv2d.js';
import {
  blockedConv, blockedDepthwise, fromBlocked, packConvWeight, packDepthwiseWeight, padChannels, toBlocked, type BlockedActivation, type BlockedGeometry,
} from './blocked-kernels.js';

/** Plain inputs with at most this many channels are read directly by the first convolution. */
const MAX_PLAIN_INPUT_CHANNELS = 4;

interface ConvStep {
  kind: 'conv';
  conv: FusedConv2d;
  bias: Float32Array;
  /** Packed weights per input block (1: plain input, 16: blocked), made on first use. */
  packed: Map<1 | 16, Float32Array>;
}

interface DepthwiseStep {
  kind: 'depthwise';
  conv: FusedConv2d;
  bias: Float32Array;
  packed: Float32Array;
}

interface ResidualStep {
  kind: 'residual';
  steps: Step[];
}

export type Step = ConvStep | DepthwiseStep | ResidualStep;

/** Where the data is between steps. */
type Flow = { kind: 'plain'; tensor: Tensor } | { kind: 'blocked'; act: BlockedActivation };

function isPlainDilation(conv: FusedConv2d): boolean {
  const d = conv.options.dilation;
  return d === undefined || d === 1 || (Array.isArray(d) && d.every((v) => v === 1));
}

function convStep(conv: FusedConv2d): Step | null {
  const shape = conv.weightShape;
  if (shape.length !== 4 || !isPlainDilation(conv)) return null;
  const groups = conv.options.groups ?? 1;
  const out = shape[0]!;
  if (groups === 1) return { kind: 'conv', conv, bias: padChannels(conv.bias), packed: new Map() };
  if (groups === out && shape[1] === 1) return { kind: 'depthwise', conv, bias: padChannels(conv.bias), packed: packDepthwiseWeight(conv.weight, shape) };
  return null;
}

function activationOf(step: Step | undefined): string | null {
  return step !== undefined && step.kind !== 'residual' ? step.conv.activation : null;
}

/** Compiles `modules`, run one after another, into steps; null when one of them has no blocked form. */
export function compileModules(modules: readonly Module[]): Step[] | null {
  const steps: Step[] = [];
  for (const m of modules) {
    if (m instanceof Identity || (m instanceof Dropout && !m.training)) continue;
    if (m instanceof PassThroughActivation) {
      if (activationOf(steps[steps.length - 1]) !== m.kind) return null;
      continue;
    }
    if (m instanceof FusedConv2d) {
      const step = convStep(m);
      if (step === null) return null;
      steps.push(step);
      continue;
    }
    if (m instanceof Sequential) {
      const inner = compileModules(m.children());
      if (inner === null) return null;
      steps.push(...inner);
      continue;
    }
    if (m instanceof InvertedResidual) {
      const inner = compileModules(m.conv.children());
      if (inner === null) return null;
      if (!m.useResConnect) {
        steps.push(...inner);
        continue;
      }
      const last = inner[inner.length - 1];
      if (last === undefined || last.kind !== 'conv' || last.conv.activation !== 'none') return null;
      steps.push({ kind: 'residual', steps: inner });
      continue;
    }
    return null;
  }
  return steps;
}

/** Convolution and depthwise steps in `steps`, nested ones included. */
export function kernelSteps(steps: readonly Step[]): number {
  return steps.reduce((n, s) => n + (s.kind === 'residual' ? kernelSteps(s.steps) : 1), 0);
}

function geometry(conv: FusedConv2d, batch: number, channels: number, height: number, width: number): BlockedGeometry {
  const g = convGeometry('conv2d', 2, [batch, channels, height, width], conv.weightShape, conv.options);
  return {
    inChannels: channels,
    outChannels: g.outChannels,
    height,
    width,
    outHeight: g.outSize[0]!,
    outWidth: g.outSize[1]!,
    kernel: [g.kernel[0]!, g.kernel[1]!],
    stride: [g.stride[0]!, g.stride[1]!],
    pad: [g.padBegin[0]!, g.padBegin[1]!],
  };
}

function blocked(flow: Flow): BlockedActivation {
  if (flow.kind === 'blocked') return flow.act;
  const t = flow.tensor;
  if (t.shape.length !== 4) throw new ArgumentError(`a blocked chain takes a 4-d NCHW input, received shape [${t.shape.join(', ')}]`);
  const [n, c, h, w] = t.shape as [number, number, number, number];
  return toBlocked(t.data, n, c, h, w);
}

function runConv(step: ConvStep, flow: Flow, residual: BlockedActivation | null): BlockedActivation {
  if (flow.kind === 'plain' && flow.tensor.shape.length === 4 && flow.tensor.shape[1]! <= MAX_PLAIN_INPUT_CHANNELS) {
    const [n, c, h, w] = flow.tensor.shape as [number, number, number, number];
    let packed = step.packed.get(1);
    if (packed === undefined) step.packed.set(1, (packed = packConvWeight(step.conv.weight, step.conv.weightShape, 1)));
    return blockedConv(geometry(step.conv, n, c, h, w), flow.tensor.data, n, 1, packed, step.bias, residual, step.conv.activation);
  }
  const x = blocked(flow);
  let packed = step.packed.get(16);
  if (packed === undefined) step.packed.set(16, (packed = packConvWeight(step.conv.weight, step.conv.weightShape, 16)));
  const y = blockedConv(geometry(step.conv, x.batch, x.channels, x.height, x.width), x.data, x.batch, 16, packed, step.bias, residual, step.conv.activation);
  if (flow.kind === 'plain') releaseBuffer(x.data);
  return y;
}

function runDepthwise(step: DepthwiseStep, flow: Flow): BlockedActivation {
  const x = blocked(flow);
  const y = blockedDepthwise(geometry(step.conv, x.batch, x.channels, x.height, x.width), x, step.packed, step.bias, step.conv.activation);
  if (flow.kind === 'plain') releaseBuffer(x.data);
  return y;
}

/**
 * Runs `steps` on `input`. Blocked buffers the steps made are released once consumed; `input`'s own
 * buffer only when `ownsInput`. `residual`, when given, is added by the last step (a convolution).
 */
function runSteps(steps: readonly Step[], input: Flow, ownsInput: boolean, residual: BlockedActivation | null): Flow {
  let flow = input;
  let owned = ownsInput;
  steps.forEach((step, i) => {
    let next: BlockedActivation;
    if (step.kind === 'conv') {
      next = runConv(step, flow, i === steps.length - 1 ? residual : null);
    } else if (step.kind === 'depthwise') {
      next = runDepthwise(step, flow);
    } else {
      const x = blocked(flow);
      if (flow.kind === 'plain') owned = true;
      flow = { kind: 'blocked', act: x };
      next = (runSteps(step.steps, flow, false, x) as { act: BlockedActivation }).act;
    }
    if (owned && flow.kind === 'blocked') releaseBuffer(flow.act.data);
    flow = { kind: 'blocked', act: next };
    owned = true;
  });
  return flow;
}

/** A Sequential's inference in the blocked layout; see the module comment. Inference only. */
export class BlockedChain extends Module {
  readonly #steps: Step[];
  readonly #replaced: string;

  /** `steps` from {@link compileModules}; `replaced` names what it stands for (for describe()). */
  constructor(steps: Step[], replaced: string) {
    super();
    this.#steps = steps;
    this.#replaced = replaced;
  }

  override describe(): string {
    return `BlockedChain(${kernelSteps(this.#steps)} convolutions in NCHW16c, for ${this.#replaced})`;
  }

  forward(x: Tensor): Tensor {
    const out = runSteps(this.#steps, { kind: 'plain', tensor: x }, false, null);
    if (out.kind === 'plain') return out.tensor;
    const a = out.act;
    const data = fromBlocked(a);
    releaseBuffer(a.data);
    return new Tensor(data, [a.batch, a.channels, a.height, a.width]);
  }
}
