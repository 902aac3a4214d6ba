/**
 * `convkit bench conv`: forward and forward+backward milliseconds of convkit's functional ops on
 * ResNet-18's convolutions and the other layer shapes of the notes, beside PyTorch measured in the
 * same run (same shapes, same thread count, its BLAS pool capped at one thread), the ratio per
 * row, and GFLOP/s (2 x multiply-adds, forward; forward+backward counts three times that).
 */
import { noGrad } from '../autograd/grad-mode.js';
import * as F from '../functional/index.js';
import { setNumThreads, getNumThreads } from '../runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { measure } from './measure.js';
import { pythonHas, runPeer } from './peers.js';

export interface ConvBenchRow {
  id: string;
  label: string;
  kind: 'conv' | 'maxpool' | 'batchnorm';
  x: number[];
  /** conv */
  w?: number[];
  rank?: number;
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number;
  groups?: number;
  /** maxpool */
  kernel?: number;
}

const conv2d = (id: string, label: string, n: number, c: number, hw: number, co: number, k: number, stride: number, padding: number, groups = 1): ConvBenchRow => ({
  id, label, kind: 'conv', rank: 2, x: [n, c, hw, hw], w: [co, c / groups, k, k], stride, padding, dilation: 1, groups,
});

/** The rows of the issue: ResNet-18 at batch 32, AlexNet conv1, MobileNetV2 depthwise, CIFAR, text, video, pooling, BN. */
export const CONV_BENCH_ROWS: ConvBenchRow[] = [
  conv2d('r18-3x3-56', 'ResNet-18 3x3, 56x56x64', 32, 64, 56, 64, 3, 1, 1),
  conv2d('r18-3x3-28', 'ResNet-18 3x3, 28x28x128', 32, 128, 28, 128, 3, 1, 1),
  conv2d('r18-3x3-14', 'ResNet-18 3x3, 14x14x256', 32, 256, 14, 256, 3, 1, 1),
  conv2d('r18-3x3-7', 'ResNet-18 3x3, 7x7x512', 32, 512, 7, 512, 3, 1, 1),
  conv2d('r18-stem', 'ResNet-18 stem 7x7/2, 224x224x3', 32, 3, 224, 64, 7, 2, 3),
  conv2d('r18-down-128', 'ResNet-18 1x1/2, 56x56x64->128', 32, 64, 56, 128, 1, 2, 0),
  conv2d('r18-down-256', 'ResNet-18 1x1/2, 28x28x128->256', 32, 128, 28, 256, 1, 2, 0),
  conv2d('r18-down-512', 'ResNet-18 1x1/2, 14x14x256->512', 32, 256, 14, 512, 1, 2, 0),
  conv2d('alexnet-conv1', 'AlexNet 11x11/4, 227x227x3->96', 32, 3, 227, 96, 11, 4, 0),
  conv2d('mbv2-dw', 'MobileNetV2 depthwise 3x3, 56x56x144', 32, 144, 56, 144, 3, 1, 1, 144),
  conv2d('cifar-3x3', 'CIFAR 3x3, 32x32x32', 32, 32, 32, 32, 3, 1, 1),
  { id: 'text-conv1d', label: 'conv1d k3 over 300-d embeddings, len 64 -> 100', kind: 'conv', rank: 1, x: [32, 300, 64], w: [100, 300, 3], stride: 1, padding: 1, dilation: 1, groups: 1 },
  { id: 'video-conv3d', label: 'conv3d 3x3x3, 16x112x112x3 -> 64', kind: 'conv', rank: 3, x: [2, 3, 16, 112, 112], w: [64, 3, 3, 3, 3], stride: 1, padding: 1, dilation: 1, groups: 1 },
  { id: 'maxpool-3x3s2', label: 'max pool 3x3/2, 112x112x64', kind: 'maxpool', x: [32, 64, 112, 112], kernel: 3, stride: 2, padding: 1 },
  { id: 'batchnorm', label: 'batch norm (train), 56x56x64', kind: 'batchnorm', x: [32, 64, 56, 56] },
];

export interface ConvBenchResult {
  id: string;
  label: string;
  gflop: number;
  fwdMs: number | null;
  fwdBwdMs: number | null;
  torchFwdMs: number | null;
  torchFwdBwdMs: number | null;
  /** torch time / convkit time: above 1 means convkit is faster. */
  fwdRatio: number | null;
  fwdBwdRatio: number | null;
  note?: string;
}

export interface ConvBenchReport {
  threads: number;
  peer: string;
  rows: ConvBenchResult[];
}

function filled(shape: number[], scale: number, seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    d[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return new Tensor(d, shape);
}

function flopsOf(row: ConvBenchRow, out: readonly number[]): number {
  if (row.kind !== 'conv') return 0;
  const w = row.w!;
  const macsPerOutput = w.slice(1).reduce((a, b) => a * b, 1);
  return (2 * out.reduce((a, b) => a * b, 1) * macsPerOutput) / 1e9;
}

type Op = (x: Tensor, params: Tensor[]) => Tensor;

function opFor(row: ConvBenchRow): { op: Op; params: Tensor[] } | { missing: string } {
  if (row.kind === 'conv') {
    const fn = row.rank === 1 ? F.conv1d : row.rank === 3 ? F.conv3d : F.conv2d;
    const opts = { stride: row.stride ?? 1, padding: row.padding ?? 0, dilation: row.dilation ?? 1, groups: row.groups ?? 1 };
    return { op: (x, [w]) => fn(x, w!, null, opts), params: [filled(row.w!, 0.1, 7)] };
  }
  const anyF = F as unknown as Record<string, unknown>;
  if (row.kind === 'maxpool') {
    const pool = anyF['maxPool2d'] as ((x: Tensor, o: object) => Tensor) | undefined;
    if (pool === undefined) return { missing: 'F.maxPool2d not available' };
    return { op: (x) => pool(x, { kernelSize: row.kernel, stride: row.stride, padding: row.padding }), params: [] };
  }
  const bn = anyF['batchNorm'] as ((x: Tensor, m: Tensor, v: Tensor, o: object) => Tensor) | undefined;
  if (bn === undefined) return { missing: 'F.batchNorm not available' };
  const c = row.x[1]!;
  const mean = new Tensor(new Float32Array(c), [c]);
  const variance = new Tensor(new Float32Array(c).fill(1), [c]);
  return {
    op: (x, [weight, bias]) => bn(x, mean, variance, { weight, bias, training: true }),
    params: [new Tensor(new Float32Array(c).fill(1), [c]), new Tensor(new Float32Array(c), [c])],
  };
}

interface TorchReport {
  torch: string;
  blas_capped: boolean;
  rows: Array<{ id: string; fwd_ms: number; fwdbwd_ms: number }>;
}

export interface ConvBenchOptions {
  threads?: number;
  minSeconds?: number;
  peers?: boolean;
  rows?: ConvBenchRow[];
  onProgress?: (m: string) => void;
}

export function benchConv(opts: ConvBenchOptions = {}): ConvBenchReport {
  const threads = opts.threads ?? 2;
  const minSeconds = opts.minSeconds ?? 0.5;
  const rows = opts.rows ?? CONV_BENCH_ROWS;
  const progress = opts.onProgress ?? (() => {});
  const before = getNumThreads();
  setNumThreads(threads);
  const results: ConvBenchResult[] = [];
  try {
    for (const row of rows) {
      progress(`convkit ${row.label}`);
      const made = opFor(row);
      if ('missing' in made) {
        results.push({ id: row.id, label: row.label, gflop: 0, fwdMs: null, fwdBwdMs: null, torchFwdMs: null, torchFwdBwdMs: null, fwdRatio: null, fwdBwdRatio: null, note: made.missing });
        continue;
      }
      const x = filled(row.x, 1, 3);
      const y0 = noGrad(() => made.op(x, made.params));
      const fwd = measure(() => noGrad(() => made.op(x, made.params)), minSeconds).median * 1e3;
      const xg = x.detach().requiresGrad_();
      const pg = made.params.map((p) => p.detach().requiresGrad_());
      const dy = new Tensor(new Float32Array(y0.size).fill(0.01), y0.shape);
      const fwdBwd = measure(() => {
        xg.grad = null;
        for (const p of pg) p.grad = null;
        made.op(xg, pg).backward(dy);
      }, minSeconds).median * 1e3;
      results.push({ id: row.id, label: row.label, gflop: flopsOf(row, y0.shape), fwdMs: fwd, fwdBwdMs: fwdBwd, torchFwdMs: null, torchFwdBwdMs: null, fwdRatio: null, fwdBwdRatio: null });
    }
  } finally {
    setNumThreads(before);
  }
  let peer = 'PyTorch unavailable (apt-get install python3-torch python3-threadpoolctl)';
  if ((opts.peers ?? true) && pythonHas('torch')) {
    progress('PyTorch');
    const r = runPeer<TorchReport>('torch_ops.py', [JSON.stringify(rows), String(minSeconds), String(threads)]);
    if (r.ok) {
      peer = `PyTorch ${r.value.torch}, ${threads} threads${r.value.blas_capped ? ', BLAS pool capped at 1' : ' (threadpoolctl missing: BLAS pool not capped)'}`;
      for (const t of r.value.rows) {
        const res = results.find((x) => x.id === t.id);
        if (res === undefined) continue;
        res.torchFwdMs = t.fwd_ms;
        res.torchFwdBwdMs = t.fwdbwd_ms;
        res.fwdRatio = res.fwdMs === null ? null : t.fwd_ms / res.fwdMs;
        res.fwdBwdRatio = res.fwdBwdMs === null ? null : t.fwdbwd_ms / res.fwdBwdMs;
      }
    } else {
      peer = `PyTorch failed: ${r.reason}`;
    }
  }
  return { threads, peer, rows: results };
}

export function formatConvReport(r: ConvBenchReport): string {
  const f = (v: number | null, d = 1) => (v === null ? '-' : v.toFixed(d));
  const gf = (gflop: number, ms: number | null, mult: number) => (ms === null || gflop === 0 ? '-' : ((gflop * mult) / (ms / 1e3)).toFixed(0));
  const header = ['layer', 'fwd ms', 'GFLOP/s', 'torch ms', 'ratio', 'fwd+bwd ms', 'GFLOP/s', 'torch ms', 'ratio'];
  const body = r.rows.map((x) => [
    x.label + (x.note !== undefined ? ` (${x.note})` : ''),
    f(x.fwdMs), gf(x.gflop, x.fwdMs, 1), f(x.torchFwdMs), x.fwdRatio === null ? '-' : `${x.fwdRatio.toFixed(2)}x`,
    f(x.fwdBwdMs), gf(x.gflop, x.fwdBwdMs, 3), f(x.torchFwdBwdMs), x.fwdBwdRatio === null ? '-' : `${x.fwdBwdRatio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`Convolution, pooling and batch norm at ${r.threads} threads; ratio = PyTorch time / convkit time (above 1: convkit faster)`, `peer: ${r.peer}`, '', fmt(header), ...body.map(fmt)].join('\n');
}
