/**
 * A run of fused convolutions executed in the channel-blocked layout (NCHW16c, see
 * blocked-kernels.ts): it stands in for a `Sequential` of a model that only runs inference, takes
 * and returns plain NCHW tensors, and keeps everything in between blocked, as onnxruntime does.
 *
 * A chain is compiled from modules into steps:
 * - `conv`: a {@link FusedConv2d} with groups 1 (any kernel, stride and padding, no dilation);
 * - `depthwise`: a FusedConv2d with groups == channels (multiplier 1);
 * - `residual`: act(steps(x) + shortcut(x)), the shortcut being x itself or steps of its own
 *   (MobileNetV2's inverted residual: identity, no activation; ResNet's basic and bottleneck
 *   blocks: identity or the 1x1 downsample, then ReLU). The add and the activation run in the
 *   last convolution's epilogue, whose own activation must be none;
 * - `block`: MobileNetV2's inverted residual block ([1x1 expansion,] depthwise, 1x1 projection
 *   [+ x]) as one native call per band of rows, its expanded activations never stored whole
 *   ({@link BlockStep}).
 * Identity modules, eval-mode dropout and the pass-throughs that stand in for an activation a
 * convolution already applied compile to nothing. Anything else stops the compilation
 * ({@link compileModules} returns null) and the model keeps its plain path.
 *
 * The first convolution reads a plain input of at most 4 channels directly (the 3-channel stem:
 * padding its input to 16 channels would multiply its work by 5); any other plain input is
 * reordered first. Inside a {@link BufferArena} run, every blocked buffer is handed back as soon as
 * the next step has consumed it.
 *
 * Dense 3x3 stride-1 layers run faster through the plain path's Winograd kernels on large planes
 * (ResNet-18's 14x14x256 layers at batch 16: 8.5 ms plain, 11.0 blocked) and slower on small ones
 * (the same at batch 1: 1.27 plain, 0.73 blocked; 7x7x512: 1.59 and 0.76). So a chain with such
 * layers runs blocked only while the largest of their outputs holds at most
 * {@link MAX_DENSE_POSITIONS} positions (batch x height x width), and otherwise calls the module it
 * replaced. MobileNetV2's chain has none and always runs blocked.
 *
 * A batch whose early activations overflow the last-level cache runs its leading steps in
 * sub-batches ({@link subBatchPlan}): each sub-batch's activations stay in the cache from the layer
 * that writes them to the one that reads them, instead of going to memory and back. The
 * sub-batches' outputs are gathered into one batch for the remaining steps.
 */
import { ArgumentError } from '../../errors.js';
import { InvertedResidual } from '../../models/mobilenet-v2.js';
import { BasicBlock, Bottleneck } from '../../models/resnet.js';
import { Dropout, Identity, ReLU, Sequential } from '../../nn/layers/index.js';
import { Module } from '../../nn/module.js';
import { convGeometry, type ConvActivation } from '../../ops/conv.js';
import { releaseBuffer } from '../../tensor/buffer-arena.js';
import { Tensor } from '../../tensor/tensor.js';
import { FusedConv2d, PassThroughActivation } from '../fused-conv2d.js';
import { allocateUninitialized } from '../../tensor/shape.js';
import {
  blockedChannels, blockedConv, blockedDepthwise, blockedInvertedResidual, fromBlocked, packConvWeight, packDepthwiseWeight, padChannels, toBlocked, type BlockedActivation, type BlockedGeometry,
} from './blocked-kernels.js';

/** Plain inputs with at most this many channels are read directly by the first convolution. */
const MAX_PLAIN_INPUT_CHANNELS = 4;

/** See the module comment: the measured crossover lies between 784 and 3,136 positions. */
export const MAX_DENSE_POSITIONS = 2048;

/**
 * Bytes of one activation (a layer's input or output) that a sub-batch may reach: a part of a
 * 32 MB last-level cache, leaving room for the weights and the other operand. MobileNetV2 at
 * batch 16 (224x224) runs its first 5 steps (the stem and 4 blocks, to the 28x28 stage) in
 * sub-batches of 4: 96 x 112 x 112 floats per image is 4.8 MB. Measured with the blocks unfused,
 * in one process, alternating: forward 2.6-4.5% faster, folder prediction 3.7% (sub-batches of 2
 * and 8: 2% and 3%; splitting where a 144-channel 56x56 activation crosses the boundary: 3% slower,
 * for its copy). Since the blocks run fused, their expanded activations are no longer stored, the
 * sizes here still count them, and the sub-batches measured neither faster nor slower (53.9-55.1
 * against 54.1-57.6 ms at batch 16, three alternating pairs).
 */
export const SUB_BATCH_BYTES = 20 * 1024 * 1024;

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
  /** Steps of the shortcut; null: the input itself. */
  shortcut: Step[] | null;
  /** Applied after the add. */
  act: ConvActivation;
}

/**
 * MobileNetV2's inverted residual block (1x1 expansion, depthwise, 1x1 projection [+ x]) as one
 * native call that keeps the expanded activations in per-band buffers in the L2 cache
 * (nchwc_inverted_residual_forward), on every plane size: MobileNetV2's forward at 224 took 53-54
 * instead of 64-65 ms at batch 16, 4.5 instead of 5.3 ms at batch 1, and fusing only the blocks
 * on 28x28 planes or larger was no faster than fusing all.
 */
interface BlockStep {
  kind: 'block';
  expand: ConvStep | null;
  depthwise: DepthwiseStep;
  project: ConvStep;
  residual: boolean;
  /** The same block as separate steps (for the size and sub-batch arithmetic). */
  unfused: Step[];
}

export type Step = ConvStep | DepthwiseStep | ResidualStep | BlockStep;

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
  return step !== undefined && (step.kind === 'conv' || step.kind === 'depthwise') ? step.conv.activation : null;
}

/** Whether `step` is a 1x1 convolution with stride 1 and no padding (its dilation is 1: convStep). */
function isPointwise(step: Step | undefined): step is ConvStep {
  if (step === undefined || step.kind !== 'conv') return false;
  const g = geometry(step.conv, 1, step.conv.weightShape[1]!, 4, 4);
  return g.kernel[0] === 1 && g.kernel[1] === 1 && g.stride[0] === 1 && g.stride[1] === 1 && g.pad[0] === 0 && g.pad[1] === 0;
}

/** The fused form of an inverted residual block's steps ([expand,] depthwise, project), or null. */
function blockStep(inner: Step[], residual: boolean, unfused: Step[]): BlockStep | null {
  const expand = inner.length === 3 ? inner[0] : null;
  const [depthwise, project] = inner.slice(-2) as [Step | undefined, Step | undefined];
  if (inner.length < 2 || inner.length > 3 || (expand !== null && !isPointwise(expand))) return null;
  if (depthwise?.kind !== 'depthwise' || !isPointwise(project)) return null;
  return { kind: 'block', expand: expand as ConvStep | null, depthwise, project, residual, unfused };
}

/**
 * Compiles `modules`, run one after another, into steps; null when one of them has no blocked form.
 * `fuseBlocks: false` keeps inverted residual blocks as their separate steps.
 */
export function compileModules(modules: readonly Module[], options: { fuseBlocks?: boolean } = {}): Step[] | null {
  const fuseBlocks = options.fuseBlocks ?? true;
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
      const inner = compileModules(m.children(), options);
      if (inner === null) return null;
      steps.push(...inner);
      continue;
    }
    if (m instanceof InvertedResidual) {
      const inner = compileModules(m.conv.children());
      if (inner === null) return null;
      const residual = m.useResConnect ? residualStep(inner, null, 'none') : null;
      if (m.useResConnect && residual === null) return null;
      const unfused = residual === null ? inner : [residual];
      const block = fuseBlocks ? blockStep(inner, m.useResConnect, unfused) : null;
      steps.push(...(block === null ? unfused : [block]));
      continue;
    }
    if (m instanceof BasicBlock || m instanceof Bottleneck) {
      const branch = m instanceof BasicBlock ? [m.conv1, m.bn1, m.relu, m.conv2, m.bn2] : [m.conv1, m.bn1, m.relu, m.conv2, m.bn2, m.relu, m.conv3, m.bn3];
      const inner = compileModules(branch);
      const shortcut = m.downsample === null ? null : compileModules(m.downsample.children());
      // The block ends with its own ReLU module (wrapped by the fusion when a convolution took it over).
      const relu = m.relu as Module;
      const isRelu = relu instanceof PassThroughActivation ? relu.kind === 'relu' : relu instanceof ReLU;
      if (inner === null || (m.downsample !== null && shortcut === null) || !isRelu) return null;
      const step = residualStep(inner, shortcut, 'relu');
      if (step === null) return null;
      steps.push(step);
      continue;
    }
    return null;
  }
  return steps;
}

/** A residual step, or null when the branch does not end in a convolution without activation. */
function residualStep(steps: Step[], shortcut: Step[] | null, act: ConvActivation): ResidualStep | null {
  const last = steps[steps.length - 1];
  if (last === undefined || last.kind !== 'conv' || last.conv.activation !== 'none') return null;
  return { kind: 'residual', steps, shortcut, act };
}

/** Convolution and depthwise steps in `steps`, nested ones included. */
export function kernelSteps(steps: readonly Step[]): number {
  return steps.reduce(
    (n, s) => n + (s.kind === 'residual' ? kernelSteps(s.steps) + kernelSteps(s.shortcut ?? []) : s.kind === 'block' ? kernelSteps(s.unfused) : 1),
    0,
  );
}

/**
 * The largest output (batch x height x width) of a dense spatial stride-1 convolution in `steps`
 * for an input of the given size, and the size the steps output; 0 when there is none.
 */
function densePositions(steps: readonly Step[], batch: number, size: [number, number, number]): { positions: number; size: [number, number, number] } {
  let positions = 0;
  let [c, h, w] = size;
  for (const step of steps) {
    if (step.kind === 'block') {
      const inner = densePositions(step.unfused, batch, [c, h, w]);
      positions = Math.max(positions, inner.positions);
      [c, h, w] = inner.size;
      continue;
    }
    if (step.kind === 'residual') {
      const inner = densePositions(step.steps, batch, [c, h, w]);
      positions = Math.max(positions, inner.positions, densePositions(step.shortcut ?? [], batch, [c, h, w]).positions);
      [c, h, w] = inner.size;
      continue;
    }
    const g = geometry(step.conv, batch, c, h, w);
    const dense = step.kind === 'conv' && g.kernel[0] * g.kernel[1] > 1 && g.stride[0] === 1 && g.stride[1] === 1;
    if (dense) positions = Math.max(positions, batch * g.outHeight * g.outWidth);
    [c, h, w] = [g.outChannels, g.outHeight, g.outWidth];
  }
  return { positions, size: [c, h, w] };
}

/**
 * Per image, in blocked floats: the largest activation each top-level step reads or writes
 * (nested steps included) and the step's output, for an input of `size`.
 */
function footprints(steps: readonly Step[], size: [number, number, number]): { largest: number[]; output: number[]; size: [number, number, number] } {
  const largest: number[] = [];
  const output: number[] = [];
  let [c, h, w] = size;
  for (const step of steps) {
    const input = blockedChannels(c) * h * w;
    if (step.kind === 'block') {
      const inner = footprints(step.unfused, [c, h, w]);
      largest.push(Math.max(input, ...inner.largest));
      [c, h, w] = inner.size;
    } else if (step.kind === 'residual') {
      const inner = footprints(step.steps, [c, h, w]);
      const shortcut = footprints(step.shortcut ?? [], [c, h, w]);
      largest.push(Math.max(input, ...inner.largest, ...shortcut.largest));
      [c, h, w] = inner.size;
    } else {
      const g = geometry(step.conv, 1, c, h, w);
      [c, h, w] = [g.outChannels, g.outHeight, g.outWidth];
      largest.push(Math.max(input, blockedChannels(c) * h * w));
    }
    output.push(blockedChannels(c) * h * w);
  }
  return { largest, output, size: [c, h, w] };
}

/** Run steps [0, steps) in sub-batches of `size` images, the rest on the whole batch. */
export interface SubBatchPlan {
  steps: number;
  size: number;
}

/**
 * How a batch of `batch` inputs of `size` [C, H, W] runs `steps`. Only the leading run of steps
 * with large activations per image (at least 1/32 of `budget`) is considered: each sub-batch costs
 * a call per layer (about 10 us), more than the cache saves on small planes (MobileNetV2 at batch
 * 64 ran 3% slower when its 14x14 stage, too, went in sub-batches of 4). Null when the run's
 * activations fit the budget on the whole batch, or when no sub-batch could be smaller than the
 * batch. Otherwise the run, and up to two more steps where that gives a narrower output (the
 * sub-batches' outputs are copied there), goes in sub-batches as large as the budget allows. The
 * whole run, not only its steps that overflow on the whole batch: MobileNetV2 at batch 8 gained
 * 1.8% with its first 10 layers (now 5 steps) in sub-batches, nothing with the first 6.
 */
export function subBatchPlan(steps: readonly Step[], batch: number, size: [number, number, number], budget = SUB_BATCH_BYTES): SubBatchPlan | null {
  const { largest, output } = footprints(steps, size);
  // The leading run of steps with large activations per image (at least 1/32 of the budget).
  let first = 0;
  while (first < largest.length && largest[first]! * 4 * 32 >= budget) first++;
  if (first === 0 || Math.max(...largest.slice(0, first)) * 4 * batch <= budget) return null;
  const subSize = Math.max(1, Math.floor(budget / (4 * Math.max(...largest.slice(0, first)))));
  if (subSize >= batch) return null;
  let split = first;
  for (let k = first + 1; k <= Math.min(first + 2, steps.length); k++) {
    if (output[k - 1]! < output[split - 1]!) split = k;
  }
  return { steps: split, size: subSize };
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

/** A convolution's weights packed for blocked input. */
function packedForBlocked(step: ConvStep): Float32Array {
  let packed = step.packed.get(16);
  if (packed === undefined) step.packed.set(16, (packed = packConvWeight(step.conv.weight, step.conv.weightShape, 16)));
  return packed;
}

function runConv(step: ConvStep, flow: Flow, residual: BlockedActivation | null, act: ConvActivation): BlockedActivation {
  if (flow.kind === 'plain' && flow.tensor.shape.length === 4 && flow.tensor.shape[1]! <= MAX_PLAIN_INPUT_CHANNELS) {
    const [n, c, h, w] = flow.tensor.shape as [number, number, number, number];
    let packed = step.packed.get(1);
    if (packed === undefined) step.packed.set(1, (packed = packConvWeight(step.conv.weight, step.conv.weightShape, 1)));
    return blockedConv(geometry(step.conv, n, c, h, w), flow.tensor.data, n, 1, packed, step.bias, residual, act);
  }
  const x = blocked(flow);
  const y = blockedConv(geometry(step.conv, x.batch, x.channels, x.height, x.width), x.data, x.batch, 16, packedForBlocked(step), step.bias, residual, act);
  if (flow.kind === 'plain') releaseBuffer(x.data);
  return y;
}

function runDepthwise(step: DepthwiseStep, flow: Flow): BlockedActivation {
  const x = blocked(flow);
  const y = blockedDepthwise(geometry(step.conv, x.batch, x.channels, x.height, x.width), x, step.packed, step.bias, step.conv.activation);
  if (flow.kind === 'plain') releaseBuffer(x.data);
  return y;
}

/** An inverted residual block, fused. */
function runBlock(step: BlockStep, flow: Flow): BlockedActivation {
  const x = blocked(flow);
  const dw = geometry(step.depthwise.conv, x.batch, step.expand === null ? x.channels : step.expand.conv.weightShape[0]!, x.height, x.width);
  const layer = (s: ConvStep) => ({ packed: packedForBlocked(s), bias: s.bias, act: s.conv.activation });
  const y = blockedInvertedResidual(
    x, dw, step.project.conv.weightShape[0]!, step.expand === null ? null : layer(step.expand),
    { packed: step.depthwise.packed, bias: step.depthwise.bias, act: step.depthwise.conv.activation }, layer(step.project), step.residual,
  );
  if (flow.kind === 'plain') releaseBuffer(x.data);
  return y;
}

/**
 * Runs `steps` on `input`. Blocked buffers the steps made are released once consumed; `input`'s own
 * buffer only when `ownsInput`. `residual`, when given, is added by the last step (a convolution),
 * which then applies `act` instead of its own activation.
 */
function runSteps(steps: readonly Step[], input: Flow, ownsInput: boolean, residual: BlockedActivation | null, act: ConvActivation | null): Flow {
  let flow = input;
  let owned = ownsInput;
  steps.forEach((step, i) => {
    let next: BlockedActivation;
    if (step.kind === 'conv') {
      const last = i === steps.length - 1 && residual !== null;
      next = runConv(step, flow, last ? residual : null, last && act !== null ? act : step.conv.activation);
    } else if (step.kind === 'depthwise') {
      next = runDepthwise(step, flow);
    } else if (step.kind === 'block') {
      next = runBlock(step, flow);
    } else {
      const x = blocked(flow);
      if (flow.kind === 'plain') owned = true;
      flow = { kind: 'blocked', act: x };
      const shortcut = step.shortcut === null ? x : (runSteps(step.shortcut, flow, false, null, null) as { act: BlockedActivation }).act;
      next = (runSteps(step.steps, flow, false, shortcut, step.act) as { act: BlockedActivation }).act;
      if (shortcut !== x) releaseBuffer(shortcut.data);
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
  readonly #replaced: Module;
  readonly #name: string;
  /** How an input shape runs (blocked or not, in which sub-batches), for the shapes seen lately. */
  readonly #decisions = new Map<string, { blocked: boolean; plan: SubBatchPlan | null }>();

  /** `steps` from {@link compileModules} of `replaced`, a module at `name` (for describe()). */
  constructor(steps: Step[], replaced: Module, name: string) {
    super();
    this.#steps = steps;
    this.#replaced = replaced;
    this.#name = name;
  }

  override describe(): string {
    const blocks = this.#steps.filter((s) => s.kind === 'block').length;
    return `BlockedChain(${kernelSteps(this.#steps)} convolutions in NCHW16c${blocks > 0 ? `, ${blocks} inverted residual blocks fused` : ''}, for ${this.#name})`;
  }

  /** The module this chain stands in for (it still runs inputs the chain does not run blocked). */
  get replaced(): Module {
    return this.#replaced;
  }

  /** Whether an input of `shape` runs blocked (see the module comment) rather than on the replaced module. */
  runsBlocked(shape: readonly number[]): boolean {
    return this.#decide(shape).blocked;
  }

  /** The sub-batches an input of `shape` runs in ({@link subBatchPlan}); null: the whole batch at once. */
  subBatches(shape: readonly number[]): SubBatchPlan | null {
    return this.#decide(shape).plan;
  }

  #decide(shape: readonly number[]): { blocked: boolean; plan: SubBatchPlan | null } {
    if (shape.length !== 4) return { blocked: false, plan: null };
    const key = shape.join(',');
    let decision = this.#decisions.get(key);
    if (decision === undefined) {
      const [n, c, h, w] = shape as [number, number, number, number];
      const blocked = densePositions(this.#steps, n, [c, h, w]).positions <= MAX_DENSE_POSITIONS;
      decision = { blocked, plan: blocked ? subBatchPlan(this.#steps, n, [c, h, w]) : null };
      if (this.#decisions.size >= 64) this.#decisions.clear();  // a stream of ever-new shapes stays bounded
      this.#decisions.set(key, decision);
    }
    return decision;
  }

  forward(x: Tensor): Tensor {
    const { blocked, plan } = this.#decide(x.shape);
    if (!blocked) return (this.#replaced.forward as (t: Tensor) => Tensor)(x);
    const out = plan === null ? runSteps(this.#steps, { kind: 'plain', tensor: x }, false, null, null) : this.#runInSubBatches(x, plan);
    if (out.kind === 'plain') return out.tensor;
    const a = out.act;
    const data = fromBlocked(a);
    releaseBuffer(a.data);
    return new Tensor(data, [a.batch, a.channels, a.height, a.width]);
  }

  /** The plan's leading steps per sub-batch, their outputs gathered into one batch, then the rest. */
  #runInSubBatches(x: Tensor, plan: SubBatchPlan): Flow {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const per = c * h * w;
    const head = this.#steps.slice(0, plan.steps);
    let gathered: BlockedActivation | null = null;
    for (let start = 0; start < n; start += plan.size) {
      const images = Math.min(plan.size, n - start);
      const part = new Tensor(x.data.subarray(start * per, (start + images) * per), [images, c, h, w]);
      // A plan has at least one step, so the flow ends blocked.
      const a = (runSteps(head, { kind: 'plain', tensor: part }, false, null, null) as { act: BlockedActivation }).act;
      const perImage = a.data.length / images;
      gathered ??= { ...a, batch: n, data: allocateUninitialized(perImage * n, 'blocked sub-batches') };
      gathered.data.set(a.data, start * perImage);
      releaseBuffer(a.data);
    }
    const all: Flow = { kind: 'blocked', act: gathered! };
    return plan.steps < this.#steps.length ? runSteps(this.#steps.slice(plan.steps), all, true, null, null) : all;
  }
}
