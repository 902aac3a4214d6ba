/**
 * `convkit bench gemm`: GFLOP/s of convkit's GEMM for square and conv-shaped problems at 1 and 2
 * threads, beside OpenBLAS sgemm through numpy measured in the same run, the ratio, and the
 * fraction of this CPU's FP32 roof (a measured FMA loop on the same instruction-set path).
 */
import { callNative } from '../native.js';
import { gemm } from '../ops/gemm.js';
import { getIsa, type Isa } from '../runtime.js';
import { measure } from './measure.js';
import { pythonHas, runPeer } from './peers.js';

export interface GemmShapeRow {
  m: number;
  n: number;
  k: number;
  /** What the shape stands for. */
  label: string;
}

/** Square sizes and the skinny products convolution layers produce (ResNet-18 via im2col). */
export const GEMM_BENCH_SHAPES: GemmShapeRow[] = [
  { m: 256, n: 256, k: 256, label: 'square' },
  { m: 512, n: 512, k: 512, label: 'square' },
  { m: 1024, n: 1024, k: 1024, label: 'square' },
  { m: 2048, n: 2048, k: 2048, label: 'square' },
  { m: 64, n: 3136, k: 576, label: 'conv 3x3, 56x56x64' },
  { m: 128, n: 784, k: 1152, label: 'conv 3x3, 28x28x128' },
  { m: 256, n: 196, k: 2304, label: 'conv 3x3, 14x14x256' },
  { m: 512, n: 49, k: 4608, label: 'conv 3x3, 7x7x512' },
];

export interface GemmBenchRow extends GemmShapeRow {
  threads: number;
  gflops: number;
  /** gflops / roof at this thread count. */
  roofFraction: number;
  /** OpenBLAS GFLOP/s, or null when the peer is unavailable. */
  peerGflops: number | null;
  /** gflops / peerGflops. */
  ratio: number | null;
}

export interface GemmBenchReport {
  isa: Isa;
  clockGhz: number;
  /** Measured FMA-loop GFLOP/s per thread count. */
  roof: Record<number, number>;
  peer: { name: string; detail: string } | { name: string; unavailable: string };
  rows: GemmBenchRow[];
}

export interface GemmBenchOptions {
  threads?: number[];
  shapes?: GemmShapeRow[];
  /** Minimum seconds of timed calls per row (per side). */
  minSeconds?: number;
  peers?: boolean;
  onProgress?: (message: string) => void;
}

interface NumpyReport {
  blas: string;
  numpy: string;
  rows: Array<{ m: number; n: number; k: number; gflops: number }>;
}

function operand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

export function benchGemm(opts: GemmBenchOptions = {}): GemmBenchReport {
  const threadCounts = opts.threads ?? [1, 2];
  const shapes = opts.shapes ?? GEMM_BENCH_SHAPES;
  const minSeconds = opts.minSeconds ?? 0.5;
  const progress = opts.onProgress ?? (() => {});
  const isa = getIsa();

  progress('measuring the FP32 roof (FMA loop) and clock');
  const roof: Record<number, number> = {};
  for (const t of threadCounts) roof[t] = callNative((a) => a._fmaPeak(isa, t));
  const clockGhz = callNative((a) => a._clockGhz());

  const wantPeers = opts.peers ?? true;
  const numpyOk = wantPeers && pythonHas('numpy');
  let peer: GemmBenchReport['peer'] = numpyOk
    ? { name: 'OpenBLAS (numpy)', detail: '' }
    : { name: 'OpenBLAS (numpy)', unavailable: wantPeers ? 'python3-numpy not installed (apt-get install python3-numpy libopenblas0)' : 'disabled' };

  const rows: GemmBenchRow[] = [];
  for (const threads of threadCounts) {
    for (const s of shapes) {
      progress(`convkit ${s.m}x${s.n}x${s.k}, ${threads} thread(s)`);
      const a = operand(s.m * s.k, 1);
      const b = operand(s.k * s.n, 2);
      const c = new Float32Array(s.m * s.n);
      const t = measure(() => gemm({ m: s.m, n: s.n, k: s.k, a, b, c, threads }), minSeconds);
      const gflops = (2 * s.m * s.n * s.k) / t.median * 1e-9;
      rows.push({ ...s, threads, gflops, roofFraction: gflops / roof[threads]!, peerGflops: null, ratio: null });
    }
    if (numpyOk) {
      progress(`OpenBLAS via numpy, ${threads} thread(s)`);
      const r = runPeer<NumpyReport>('numpy_gemm.py', [JSON.stringify(shapes.map((s) => [s.m, s.n, s.k])), String(minSeconds)], {
        OPENBLAS_NUM_THREADS: String(threads),
        OMP_NUM_THREADS: String(threads),
      });
      if (!r.ok) {
        peer = { name: 'OpenBLAS (numpy)', unavailable: r.reason };
      } else {
        peer = { name: 'OpenBLAS (numpy)', detail: `numpy ${r.value.numpy}, ${r.value.blas}` };
        for (const pr of r.value.rows) {
          const row = rows.find((x) => x.threads === threads && x.m === pr.m && x.n === pr.n && x.k === pr.k);
          if (row !== undefined) {
            row.peerGflops = pr.gflops;
            row.ratio = row.gflops / pr.gflops;
          }
        }
      }
    }
  }
  return { isa, clockGhz, roof, peer, rows };
}

/** The report as an aligned text table. */
export function formatGemmReport(r: GemmBenchReport): string {
  const lines: string[] = [];
  const roofs = Object.entries(r.roof).map(([t, g]) => `${g.toFixed(0)} GFLOP/s on ${t} thread(s)`).join(', ');
  lines.push(`GEMM (float32), path ${r.isa}; FP32 roof (measured FMA loop): ${roofs}`);
  if (r.clockGhz > 0) {
    const one = r.roof[1] ?? Object.values(r.roof)[0] ?? 0;
    lines.push(`clock ${r.clockGhz.toFixed(2)} GHz -> ${(one / r.clockGhz).toFixed(1)} FLOP/cycle per core on this path`);
  }
  lines.push('peer' in r && 'unavailable' in r.peer ? `peer: ${r.peer.name} unavailable: ${r.peer.unavailable}` : `peer: ${r.peer.name}, ${'detail' in r.peer ? r.peer.detail : ''}`);
  lines.push('');
  const header = ['threads', 'm', 'n', 'k', 'shape', 'convkit GFLOP/s', '% roof', 'OpenBLAS GFLOP/s', 'ratio'];
  const body = r.rows.map((x) => [
    String(x.threads), String(x.m), String(x.n), String(x.k), x.label, x.gflops.toFixed(1), `${(x.roofFraction * 100).toFixed(0)}%`,
    x.peerGflops === null ? '-' : x.peerGflops.toFixed(1), x.ratio === null ? '-' : `${x.ratio.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((cell, i) => (i === 4 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  lines.push(fmt(header));
  for (const row of body) lines.push(fmt(row));
  return lines.join('\n');
}
