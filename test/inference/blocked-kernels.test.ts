// The channel-blocked (NCHW16c) inference kernels (native/kernels/conv_nchwc.*) against the plain
// NCHW convolution (lib/ops/conv.ts, itself checked against PyTorch fixtures), on every supported
// instruction set at 1 and 2 threads. Shapes cover channel counts that are not multiples of 16 on
// both sides, odd planes, strides 1 and 2, padding, 1x1, 2x2, 3x3 and 5x5 kernels, the plain-input
// (stem) form, the fused residual, weights summed in several passes, and planes narrower than the
// kernel; MobileNetV2's inverted residual block fused into one call, against the plain layers one
// after another. Tolerance: 1e-5 of the largest output magnitude (the blocked loops sum the taps
// in another order); the fused block must equal the blocked layers it replaces bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import {
  blockedConv, blockedDepthwise, blockedInvertedResidual, fromBlocked, packConvWeight, packDepthwiseWeight, padChannels, toBlocked, type BlockedGeometry,
} from '../../lib/inference/blocked/blocked-kernels.js';
import { convForward, convGeometry, type ConvActivation } from '../../lib/ops/conv.js';
import { getIsa, getNumThreads, setIsa, setNumThreads, supportedIsas } from '../../lib/runtime.js';
import { ShapeError } from '../../lib/errors.js';
import { randn } from '../../lib/tensor/random.js';

function geometryOf(xShape: readonly number[], wShape: readonly number[], stride: number, padding: number): BlockedGeometry {
  const g = convGeometry('conv2d', 2, xShape, wShape, { stride, padding, groups: wShape[1] === 1 && xShape[1] === wShape[0] ? wShape[0] : 1 });
  return {
    inChannels: xShape[1]!, outChannels: wShape[0]!, height: xShape[2]!, width: xShape[3]!, outHeight: g.outSize[0]!, outWidth: g.outSize[1]!,
    kernel: [wShape[2]!, wShape[3]!], stride: [stride, stride], pad: [g.padBegin[0]!, g.padBegin[1]!],
  };
}

function activate(v: number, act: ConvActivation): number {
  if (act === 'none' || Number.isNaN(v)) return v;
  return Math.min(Math.max(v, 0), act === 'relu6' ? 6 : Infinity);
}

function expectClose(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  expect(err / Math.max(scale, 1e-12), what).toBeLessThanOrEqual(1e-5);
}

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride: number;
  padding: number;
  act: ConvActivation;
  residual?: boolean;
  plainInput?: boolean;
}

const CONV_CASES: Case[] = [
  { name: 'pointwise 24 -> 40, 7x5, ReLU6, residual', x: [2, 24, 7, 5], w: [40, 24, 1, 1], stride: 1, padding: 0, act: 'relu6', residual: true },
  { name: 'pointwise 96 -> 16, 14x14', x: [1, 96, 14, 14], w: [16, 96, 1, 1], stride: 1, padding: 0, act: 'none' },
  { name: 'pointwise 16 -> 200, 3x3, ReLU', x: [3, 16, 3, 3], w: [200, 16, 1, 1], stride: 1, padding: 0, act: 'relu' },
  { name: '3x3 pad 1, 32 -> 16, 9x11', x: [2, 32, 9, 11], w: [16, 32, 3, 3], stride: 1, padding: 1, act: 'relu' },
  { name: '3x3 stride 2 pad 1, 20 -> 36, 8x7', x: [2, 20, 8, 7], w: [36, 20, 3, 3], stride: 2, padding: 1, act: 'none', residual: true },
  { name: '1x1 stride 2, 20 -> 36, 8x8', x: [1, 20, 8, 8], w: [36, 20, 1, 1], stride: 2, padding: 0, act: 'none' },
  { name: '2x2 stride 2, 17 -> 18, 9x9', x: [2, 17, 9, 9], w: [18, 17, 2, 2], stride: 2, padding: 0, act: 'relu' },
  { name: '5x5 pad 2, 16 -> 16, 3x4 (plane smaller than the kernel)', x: [1, 16, 3, 4], w: [16, 16, 5, 5], stride: 1, padding: 2, act: 'none' },
  { name: '3x3 pad 1, 256 -> 64, 5x5, residual, ReLU (weights summed in 3 passes)', x: [2, 256, 5, 5], w: [64, 256, 3, 3], stride: 1, padding: 1, act: 'relu', residual: true },
  { name: 'stem 3x3 stride 2 pad 1, plain 3 -> 32, 15x17, ReLU6', x: [2, 3, 15, 17], w: [32, 3, 3, 3], stride: 2, padding: 1, act: 'relu6', plainInput: true },
  { name: 'stem 3x3 stride 2 pad 1, plain 3 -> 32, 9x40 (whole interior tiles)', x: [2, 3, 9, 40], w: [32, 3, 3, 3], stride: 2, padding: 1, act: 'relu6', plainInput: true },
  { name: 'plain 3x3 pad 1, 3 -> 16, 5x30, residual', x: [2, 3, 5, 30], w: [16, 3, 3, 3], stride: 1, padding: 1, act: 'relu', residual: true, plainInput: true },
  { name: 'plain 5 -> 20, 1x1', x: [2, 5, 6, 6], w: [20, 5, 1, 1], stride: 1, padding: 0, act: 'none', plainInput: true },
];

const DEPTHWISE_CASES: Case[] = [
  { name: '3x3 pad 1, 40 channels, 9x13, ReLU6', x: [2, 40, 9, 13], w: [40, 1, 3, 3], stride: 1, padding: 1, act: 'relu6' },
  { name: '3x3 stride 2 pad 1, 24 channels, 14x15', x: [2, 24, 14, 15], w: [24, 1, 3, 3], stride: 2, padding: 1, act: 'relu' },
  { name: '5x5 stride 2 pad 2, 16 channels, 7x7', x: [1, 16, 7, 7], w: [16, 1, 5, 5], stride: 2, padding: 2, act: 'none' },
  { name: '3x3 pad 1, 32 channels, 3x1 (narrower than the kernel)', x: [1, 32, 3, 1], w: [32, 1, 3, 3], stride: 1, padding: 1, act: 'none' },
  { name: '3x3 pad 1, 16 channels, 1x30', x: [3, 16, 1, 30], w: [16, 1, 3, 3], stride: 1, padding: 1, act: 'relu6' },
];

function runConv(c: Case, seed: number): { got: Float32Array; want: Float32Array } {
  const x = randn(c.x, { seed });
  const w = randn(c.w, { seed: seed + 1 });
  const b = randn([c.w[0]!], { seed: seed + 2 });
  const g = geometryOf(c.x, c.w, c.stride, c.padding);
  const ref = convGeometry('conv2d', 2, c.x, c.w, { stride: c.stride, padding: c.padding });
  const want = convForward(ref, x.data, w.data, b.data, 'none');
  const res = c.residual ? randn(ref.outShape, { seed: seed + 3 }) : null;
  for (let i = 0; i < want.length; i++) want[i] = activate(want[i]! + (res?.data[i] ?? 0), c.act);
  const inBlock = c.plainInput ? 1 : 16;
  const input = c.plainInput ? x.data : toBlocked(x.data, c.x[0]!, c.x[1]!, c.x[2]!, c.x[3]!).data;
  const residual = res === null ? null : toBlocked(res.data, ref.outShape[0]!, ref.outShape[1]!, ref.outShape[2]!, ref.outShape[3]!);
  const y = blockedConv(g, input, c.x[0]!, inBlock, packConvWeight(w.data, c.w, inBlock), padChannels(b.data), residual, c.act);
  return { got: fromBlocked(y), want };
}

function runDepthwise(c: Case, seed: number): { got: Float32Array; want: Float32Array } {
  const x = randn(c.x, { seed });
  const w = randn(c.w, { seed: seed + 1 });
  const b = randn([c.w[0]!], { seed: seed + 2 });
  const g = geometryOf(c.x, c.w, c.stride, c.padding);
  const ref = convGeometry('conv2d', 2, c.x, c.w, { stride: c.stride, padding: c.padding, groups: c.x[1]! });
  const want = convForward(ref, x.data, w.data, b.data, c.act);
  const y = blockedDepthwise(g, toBlocked(x.data, c.x[0]!, c.x[1]!, c.x[2]!, c.x[3]!), packDepthwiseWeight(w.data, c.w), padChannels(b.data), c.act);
  return { got: fromBlocked(y), want };
}

interface BlockCase {
  name: string;
  /** [N, C, H, W] of the input. */
  x: number[];
  /** Channels after the expansion (the input's without one), and the block's outputs. */
  hidden: number;
  out: number;
  expand: boolean;
  stride: number;
  residual: boolean;
}

const BLOCK_CASES: BlockCase[] = [
  { name: '24 -> 144 -> 24, 12x10, residual', x: [2, 24, 12, 10], hidden: 144, out: 24, expand: true, stride: 1, residual: true },
  { name: '16 -> 96 -> 24, 11x9, stride 2', x: [1, 16, 11, 9], hidden: 96, out: 24, expand: true, stride: 2, residual: false },
  { name: '32 -> 16 without expansion, 9x9', x: [2, 32, 9, 9], hidden: 32, out: 16, expand: false, stride: 1, residual: false },
];

/** The block fused, the blocked layers one by one, and the plain layers one by one (the reference). */
function runBlock(c: BlockCase, seed: number): { fused: Float32Array; layers: Float32Array; want: Float32Array } {
  const [n, ci, h, w] = c.x as [number, number, number, number];
  const x = randn(c.x, { seed });
  const we = randn([c.hidden, ci, 1, 1], { seed: seed + 1 }), be = randn([c.hidden], { seed: seed + 2 });
  const wd = randn([c.hidden, 1, 3, 3], { seed: seed + 3 }), bd = randn([c.hidden], { seed: seed + 4 });
  const wp = randn([c.out, c.hidden, 1, 1], { seed: seed + 5 }), bp = randn([c.out], { seed: seed + 6 });
  // Plain reference.
  let plain = x.data;
  if (c.expand) {
    plain = convForward(convGeometry('conv2d', 2, c.x, we.shape, {}), plain, we.data, be.data, 'relu6');
  }
  const dwRef = convGeometry('conv2d', 2, [n, c.hidden, h, w], wd.shape, { stride: c.stride, padding: 1, groups: c.hidden });
  plain = convForward(dwRef, plain, wd.data, bd.data, 'relu6');
  const want = convForward(convGeometry('conv2d', 2, dwRef.outShape, wp.shape, {}), plain, wp.data, bp.data, 'none');
  if (c.residual) for (let i = 0; i < want.length; i++) want[i]! += x.data[i]!;
  // Blocked, fused and layer by layer.
  const xb = toBlocked(x.data, n, ci, h, w);
  const dw = geometryOf([n, c.hidden, h, w], wd.shape, c.stride, 1);
  const expand = c.expand ? { packed: packConvWeight(we.data, we.shape, 16), bias: padChannels(be.data), act: 'relu6' as const } : null;
  const depthwise = { packed: packDepthwiseWeight(wd.data, wd.shape), bias: padChannels(bd.data), act: 'relu6' as const };
  const project = { packed: packConvWeight(wp.data, wp.shape, 16), bias: padChannels(bp.data), act: 'none' as const };
  const fused = blockedInvertedResidual(xb, dw, c.out, expand, depthwise, project, c.residual);
  const e = expand === null ? xb : blockedConv(geometryOf(c.x, we.shape, 1, 0), xb.data, n, 16, expand.packed, expand.bias, null, 'relu6');
  const d = blockedDepthwise(dw, e, depthwise.packed, depthwise.bias, 'relu6');
  const y = blockedConv(geometryOf([n, c.hidden, dw.outHeight, dw.outWidth], wp.shape, 1, 0), d.data, n, 16, project.packed, project.bias, c.residual ? xb : null, 'none');
  return { fused: fromBlocked(fused), layers: fromBlocked(y), want };
}

describe('blocked (NCHW16c) inference kernels', () => {
  const saved = { isa: getIsa(), threads: getNumThreads() };
  afterAll(() => {
    setIsa(saved.isa);
    setNumThreads(saved.threads);
  });

  for (const isa of supportedIsas()) {
    for (const threads of [1, 2]) {
      describe(`${isa}, ${threads} thread(s)`, () => {
        CONV_CASES.forEach((c, k) =>
          it(`conv: ${c.name}`, () => {
            setIsa(isa);
            setNumThreads(threads);
            const { got, want } = runConv(c, 100 + 10 * k);
            expectClose(got, want, c.name);
          }),
        );
        DEPTHWISE_CASES.forEach((c, k) =>
          it(`depthwise: ${c.name}`, () => {
            setIsa(isa);
            setNumThreads(threads);
            const { got, want } = runDepthwise(c, 300 + 10 * k);
            expectClose(got, want, c.name);
          }),
        );
        BLOCK_CASES.forEach((c, k) =>
          it(`inverted residual block: ${c.name}`, () => {
            setIsa(isa);
            setNumThreads(threads);
            const { fused, layers, want } = runBlock(c, 500 + 10 * k);
            expectClose(fused, want, c.name);
            expect(fused, c.name).toEqual(layers);
          }),
        );
      });
    }
  }

  it('padding channels come out zero, and the reorders are inverse', () => {
    const x = randn([2, 20, 5, 3], { seed: 7 });
    const blocked = toBlocked(x.data, 2, 20, 5, 3);
    expect(blocked.data.length).toBe(2 * 32 * 15);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 15; p++) for (let c = 4; c < 16; c++) expect(blocked.data[((n * 2 + 1) * 15 + p) * 16 + c]).toBe(0);
    expect([...fromBlocked(blocked)]).toEqual([...x.data]);
    const g = geometryOf([2, 20, 5, 3], [24, 20, 1, 1], 1, 0);
    const y = blockedConv(g, blocked.data, 2, 16, packConvWeight(randn([24, 20, 1, 1], { seed: 8 }).data, [24, 20, 1, 1], 16), padChannels(randn([24], { seed: 9 }).data), null, 'none');
    for (let n = 0; n < 2; n++) for (let p = 0; p < 15; p++) for (let c = 8; c < 16; c++) expect(y.data[((n * 2 + 1) * 15 + p) * 16 + c]).toBe(0);
  });

  it('rejects an inconsistent shape with a ShapeError', () => {
    const g = geometryOf([1, 16, 4, 4], [16, 16, 3, 3], 1, 1);
    const bad = { ...g, outHeight: 9 };
    const x = new Float32Array(16 * 16);
    expect(() => blockedConv(bad, x, 1, 16, new Float32Array(16 * 16 * 9), new Float32Array(16), null, 'none')).toThrow(ShapeError);
    expect(() => blockedConv(g, x.subarray(0, 10), 1, 16, new Float32Array(16 * 16 * 9), new Float32Array(16), null, 'none')).toThrow(ShapeError);
    // An inverted residual block whose residual cannot be added (16 inputs, 32 outputs).
    const layer = (size: number) => ({ packed: new Float32Array(size), bias: new Float32Array(32), act: 'none' as const });
    const dw = geometryOf([1, 32, 4, 4], [32, 1, 3, 3], 1, 1);
    const xb = { data: x, batch: 1, channels: 16, height: 4, width: 4 };
    expect(() => blockedInvertedResidual(xb, dw, 32, layer(32 * 16), layer(32 * 9), layer(32 * 32), true)).toThrow(ShapeError);
    expect(() => blockedInvertedResidual(xb, dw, 32, layer(32 * 16), layer(32 * 9), layer(32 * 32), false)).not.toThrow();
  });
});
