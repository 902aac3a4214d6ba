/**
 * The channel-blocked (NCHW16c) inference kernels (native/kernels/conv_nchwc.h) over raw buffers:
 * weight packing, the convolution and depthwise passes, and the reorders in and out of the
 * layout. A blocked activation of C channels holds ceil(C / 16) planes of H x W pixels x 16
 * channels, the padding channels zero.
 */
import { callNative } from '../../native.js';
import type { ConvActivation } from '../../ops/conv.js';
import { allocateUninitialized } from '../../tensor/shape.js';

export const BLOCK = 16;

/** Channels rounded up to whole blocks. */
export function blockedChannels(c: number): number {
  return Math.ceil(c / BLOCK) * BLOCK;
}

/** An activation in the blocked layout; `channels` counts the real ones. */
export interface BlockedActivation {
  data: Float32Array;
  batch: number;
  channels: number;
  height: number;
  width: number;
}

/** Geometry of one blocked layer (the kernels' 14-integer shape, minus the batch and input block). */
export interface BlockedGeometry {
  inChannels: number;
  outChannels: number;
  height: number;
  width: number;
  outHeight: number;
  outWidth: number;
  kernel: [number, number];
  stride: [number, number];
  /** Padding before (top, left). */
  pad: [number, number];
}

interface NchwcNative {
  _nchwcConv(x: Float32Array, w: Float32Array, bias: Float32Array, residual: Float32Array | null, y: Float32Array, shape: number[], activation: number): void;
  _nchwcDepthwise(x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array, shape: number[], activation: number): void;
  _nchwcInvertedResidual(
    x: Float32Array, wExpand: Float32Array | null, bExpand: Float32Array | null, wDepthwise: Float32Array, bDepthwise: Float32Array,
    wProject: Float32Array, bProject: Float32Array, y: Float32Array, shape: number[], activations: number[], residual: boolean,
  ): void;
  _nchwcReorder(x: Float32Array, y: Float32Array, batch: number, channels: number, spatial: number, toBlocked: boolean): void;
}

const ACTIVATION_CODE: Record<ConvActivation, number> = { none: 0, relu: 1, relu6: 2 };

function nativeShape(g: BlockedGeometry, batch: number, inBlock: 1 | 16): number[] {
  const cin = inBlock === 1 ? g.inChannels : blockedChannels(g.inChannels);
  return [batch, cin, inBlock, g.height, g.width, blockedChannels(g.outChannels), g.outHeight, g.outWidth, ...g.kernel, ...g.stride, ...g.pad];
}

/**
 * Packs a [out, in, kH, kW] weight for {@link blockedConv}: [out/16][in/inBlock][kH][kW][inBlock][16],
 * zero where either channel is padding.
 */
export function packConvWeight(w: Float32Array, shape: readonly number[], inBlock: 1 | 16): Float32Array {
  const [co, ci, kh, kw] = shape as [number, number, number, number];
  const cop = blockedChannels(co);
  const cip = inBlock === 1 ? ci : blockedChannels(ci);
  const taps = kh * kw;
  const out = new Float32Array(cop * cip * taps);
  for (let o = 0; o < co; o++) {
    const ob = Math.floor(o / BLOCK), ol = o % BLOCK;
    for (let i = 0; i < ci; i++) {
      const ib = Math.floor(i / inBlock), il = i % inBlock;
      for (let t = 0; t < taps; t++) {
        out[((((ob * (cip / inBlock) + ib) * taps + t) * inBlock + il) * BLOCK) + ol] = w[(o * ci + i) * taps + t]!;
      }
    }
  }
  return out;
}

/** Packs a depthwise [c, 1, kH, kW] weight: [c/16][kH][kW][16]. */
export function packDepthwiseWeight(w: Float32Array, shape: readonly number[]): Float32Array {
  const [c, , kh, kw] = shape as [number, number, number, number];
  const taps = kh * kw;
  const out = new Float32Array(blockedChannels(c) * taps);
  for (let ch = 0; ch < c; ch++) {
    const b = Math.floor(ch / BLOCK), l = ch % BLOCK;
    for (let t = 0; t < taps; t++) out[(b * taps + t) * BLOCK + l] = w[ch * taps + t]!;
  }
  return out;
}

/** A per-channel vector zero-padded to whole blocks. */
export function padChannels(v: Float32Array): Float32Array {
  const out = new Float32Array(blockedChannels(v.length));
  out.set(v);
  return out;
}

function outputFor(g: BlockedGeometry, batch: number): BlockedActivation {
  const size = batch * blockedChannels(g.outChannels) * g.outHeight * g.outWidth;
  return { data: allocateUninitialized(size, 'blocked conv'), batch, channels: g.outChannels, height: g.outHeight, width: g.outWidth };
}

/**
 * act(conv(x, w) + bias [+ residual]) with groups 1, into a new blocked activation. `x` is blocked
 * (weights packed with inBlock 16) or a plain NCHW buffer of `batch` images (inBlock 1).
 */
export function blockedConv(
  g: BlockedGeometry,
  x: Float32Array,
  batch: number,
  inBlock: 1 | 16,
  packed: Float32Array,
  bias: Float32Array,
  residual: BlockedActivation | null,
  act: ConvActivation,
): BlockedActivation {
  const y = outputFor(g, batch);
  callNative((a) => (a as unknown as NchwcNative)._nchwcConv(x, packed, bias, residual?.data ?? null, y.data, nativeShape(g, batch, inBlock), ACTIVATION_CODE[act]));
  return y;
}

/** act(depthwise(x, w) + bias), multiplier 1, into a new blocked activation. */
export function blockedDepthwise(g: BlockedGeometry, x: BlockedActivation, packed: Float32Array, bias: Float32Array, act: ConvActivation): BlockedActivation {
  const y = outputFor(g, x.batch);
  callNative((a) => (a as unknown as NchwcNative)._nchwcDepthwise(x.data, packed, bias, y.data, nativeShape(g, x.batch, BLOCK), ACTIVATION_CODE[act]));
  return y;
}

/** One layer of an inverted residual block: its packed weight, padded bias and activation. */
export interface BlockLayer {
  packed: Float32Array;
  bias: Float32Array;
  act: ConvActivation;
}

/**
 * MobileNetV2's inverted residual block in one native call (nchwc_inverted_residual_forward):
 * project(depthwise(expand(x))) [+ x], the expanded activations never stored whole. `dw` is the
 * depthwise layer's geometry; `expand` null for a block without expansion.
 */
export function blockedInvertedResidual(
  x: BlockedActivation,
  dw: BlockedGeometry,
  outChannels: number,
  expand: BlockLayer | null,
  depthwise: BlockLayer,
  project: BlockLayer,
  residual: boolean,
): BlockedActivation {
  const y = outputFor({ ...dw, outChannels }, x.batch);
  const shape = [
    x.batch, blockedChannels(x.channels), blockedChannels(dw.inChannels), blockedChannels(outChannels), dw.height, dw.width, dw.outHeight, dw.outWidth,
    ...dw.kernel, ...dw.stride, ...dw.pad,
  ];
  const acts = [ACTIVATION_CODE[expand?.act ?? 'none'], ACTIVATION_CODE[depthwise.act], ACTIVATION_CODE[project.act]];
  callNative((a) =>
    (a as unknown as NchwcNative)._nchwcInvertedResidual(
      x.data, expand?.packed ?? null, expand?.bias ?? null, depthwise.packed, depthwise.bias, project.packed, project.bias, y.data, shape, acts, residual,
    ),
  );
  return y;
}

/** A plain NCHW buffer into the blocked layout. */
export function toBlocked(x: Float32Array, batch: number, channels: number, height: number, width: number): BlockedActivation {
  const data = allocateUninitialized(batch * blockedChannels(channels) * height * width, 'blocked reorder');
  callNative((a) => (a as unknown as NchwcNative)._nchwcReorder(x, data, batch, channels, height * width, true));
  return { data, batch, channels, height, width };
}

/** A blocked activation back to a plain NCHW buffer. */
export function fromBlocked(x: BlockedActivation): Float32Array {
  const out = allocateUninitialized(x.batch * x.channels * x.height * x.width, 'blocked reorder');
  callNative((a) => (a as unknown as NchwcNative)._nchwcReorder(x.data, out, x.batch, x.channels, x.height * x.width, false));
  return out;
}
