/**
 * `convkit bench train`: whole-model speed and memory against PyTorch and onnxruntime-node, in
 * images/s at 2 threads.
 *
 * - Training rows time one full step (zero grads, forward, cross entropy against random integer
 *   labels, backward, SGD with lr 0.01 and momentum 0.9) in train mode: LeNet-5 on 1x28x28, the
 *   VGG-style CIFAR net and ResNet-18 on 3x32x32 (10 classes) at batch 64, ResNet-18 on 3x224x224
 *   (1000 classes) at batch 8.
 * - Inference rows time a forward pass without gradients in eval mode: ResNet-18 and MobileNetV2
 *   (1000 classes) at 224x224, batch 1 and 16; onnxruntime-node runs the same torchvision models,
 *   exported to ONNX by the PyTorch peer at bench time.
 * - The leak row trains LeNet-5 for 2,000 steps, sampling resident memory every 100, and reports its
 *   growth over the last 1,000 (the first 1,000 warm the JIT, V8's heap and the C allocator up:
 *   resident memory rises for several hundred steps and then levels off).
 *
 * Each row runs on each side in a process of its own (dist/bench/train-worker.js,
 * scripts/peers/torch_train.py, dist/bench/ort-worker.js), one after the other, so peak resident
 * memory is that row's and the sides do not compete for the cores. Every side times a median over
 * repeated steps after a warm-up, in two rounds (the sides alternate: convkit, PyTorch, ORT,
 * convkit, ...), and reports its better round: on a shared virtual machine the host's other load
 * comes and goes for seconds at a time and can slow a whole process several-fold. Ratios are convkit
 * img/s over the peer's (above 1: convkit faster). A missing peer is reported, never fatal.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArgumentError } from '../errors.js';
import { packageRoot } from '../native.js';
import { PYTHON, pythonHas, runPeer, type PeerResult } from './peers.js';
import type { TrainBenchModel } from './train-models.js';

/** One row of the benchmark. */
export interface TrainBenchRow {
  /** Name for `--rows` (a prefix before '-' selects a group: `resnet18`, `mobilenetv2`). */
  id: string;
  label: string;
  kind: 'train' | 'infer' | 'leak';
  model: TrainBenchModel;
  numClasses: number;
  /** [C, H, W] of one image. */
  input: [number, number, number];
  batch: number;
  /** The speed target, convkit img/s over PyTorch's. */
  target: number;
}

type Chw = [number, number, number];
const train = (id: string, label: string, model: TrainBenchModel, classes: number, input: Chw, batch: number, target: number): TrainBenchRow => ({
  id, label, kind: 'train', model, numClasses: classes, input, batch, target,
});
const infer = (id: string, label: string, model: TrainBenchModel, batch: number): TrainBenchRow => ({
  id, label, kind: 'infer', model, numClasses: 1000, input: [3, 224, 224], batch, target: 1,
});

/** The rows of the issue, in order. */
export const TRAIN_BENCH_ROWS: TrainBenchRow[] = [
  train('lenet5', 'LeNet-5 train, 1x28x28, batch 64', 'lenet5', 10, [1, 28, 28], 64, 1.5),
  train('cifar', 'CIFAR net train, 3x32x32, batch 64', 'cifar_net', 10, [3, 32, 32], 64, 1.5),
  train('resnet18-32', 'ResNet-18 train, 3x32x32, batch 64', 'resnet18', 10, [3, 32, 32], 64, 1),
  train('resnet18-224', 'ResNet-18 train, 3x224x224, batch 8', 'resnet18', 1000, [3, 224, 224], 8, 1),
  infer('resnet18-infer-b1', 'ResNet-18 infer, 224x224, batch 1', 'resnet18', 1),
  infer('resnet18-infer-b16', 'ResNet-18 infer, 224x224, batch 16', 'resnet18', 16),
  infer('mobilenetv2-infer-b1', 'MobileNetV2 infer, 224x224, batch 1', 'mobilenet_v2', 1),
  infer('mobilenetv2-infer-b16', 'MobileNetV2 infer, 224x224, batch 16', 'mobilenet_v2', 16),
  { ...train('leak', 'LeNet-5 train, RSS over 1,000 steps', 'lenet5', 10, [1, 28, 28], 64, 1), kind: 'leak' },
];

/** What a worker (convkit, PyTorch peer or ORT) is asked to run; the PyTorch peer reads the same JSON. */
export interface TrainWorkerSpec {
  kind: 'train' | 'infer' | 'leak';
  model: TrainBenchModel;
  numClasses: number;
  input: [number, number, number];
  batch: number;
  threads: number;
  /** Untimed calls first. */
  warmup: number;
  /** Timed calls continue until this many seconds have passed... */
  minSeconds: number;
  /** ...and at least this many calls, at most maxRuns. */
  minRuns: number;
  maxRuns: number;
  /** Leak row: training steps, and the RSS sampling interval. */
  steps: number;
  sampleEvery: number;
}

/** The ORT worker's spec: an inference spec plus the exported model. */
export interface OrtWorkerSpec extends TrainWorkerSpec {
  onnx: string;
}

export interface RssSample {
  step: number;
  rssMb: number;
}

/** What a convkit or ORT worker prints. */
export interface TrainWorkerResult {
  imgPerSec: number;
  runs: number;
  peakRssMb: number;
  /** Loss after the last step (training rows); a sanity check that the step computed something. */
  loss: number | null;
  /** Leak row: RSS at every sampleEvery steps. */
  rss?: RssSample[];
}

interface TorchTrainResult {
  torch: string;
  threads: number;
  blas_capped: boolean;
  img_per_s: number;
  runs: number;
  peak_rss_mb: number;
  loss: number | null;
  rss?: Array<{ step: number; rssMb: number | null }>;
}

/** Resident memory over the leak row, from the first sample at or after the warm-up to the last. */
export interface LeakFigures {
  samples: RssSample[];
  fromStep: number;
  toStep: number;
  growthMb: number;
  /** growthMb over the RSS at fromStep, in percent. */
  growthPct: number;
  /** Growth above {@link LEAK_FLAG_PCT}. */
  flagged: boolean;
}

/** RSS growth (percent) over the leak row above which the report flags it. */
export const LEAK_FLAG_PCT = 5;

export interface TrainBenchResult {
  id: string;
  label: string;
  kind: TrainBenchRow['kind'];
  batch: number;
  numClasses: number;
  /** img/s (the best round's median), null when that side did not run. */
  convkit: number | null;
  torch: number | null;
  ort: number | null;
  /** convkit / torch and convkit / ort: above 1 means convkit is faster. */
  ratio: number | null;
  ortRatio: number | null;
  target: number;
  convkitPeakRssMb: number | null;
  torchPeakRssMb: number | null;
  ortPeakRssMb: number | null;
  convkitLoss: number | null;
  torchLoss: number | null;
  /** Each round's median img/s per side. */
  rounds: { convkit: number[]; torch: number[]; ort: number[] };
  /** Share of the CPUs other processes took while this row ran (see {@link TrainBenchReport.otherLoad}). */
  otherLoad: number | null;
  /** Leak row only. */
  leak?: { convkit: LeakFigures | null; torch: LeakFigures | null };
  /** Why a side is missing. */
  notes: string[];
}

export interface TrainBenchReport {
  threads: number;
  quick: boolean;
  /** Timing policy used on every side. */
  timing: { warmup: number; minSeconds: number; minRuns: number; maxRuns: number; leakSteps: number; leakFrom: number; rounds: number };
  peers: { torch: string; ort: string };
  /**
   * Share of the machine's CPU time that other processes (and the hypervisor: steal) took during the
   * run, 0 to 1, or null off Linux: the noise indicator of a shared machine.
   */
  otherLoad: number | null;
  cpus: number;
  rows: TrainBenchResult[];
}

export interface TrainBenchOptions {
  threads?: number;
  /** Fewer steps (smoke tests): 2 warm-up steps, 0.3 s and 3 timed steps per side, one round, 300 leak steps. */
  quick?: boolean;
  peers?: boolean;
  /** Row ids or id prefixes (`lenet5,cifar`, `resnet18`); all rows when absent. */
  rows?: string[];
  onProgress?: (m: string) => void;
}

/**
 * The rows `filter` names: an entry selects the row with that id, or every row whose id starts
 * with it followed by '-' (`resnet18` selects the four ResNet-18 rows).
 * @throws ArgumentError for an entry that selects nothing, listing the ids.
 */
export function selectTrainRows(filter: string[] | undefined): TrainBenchRow[] {
  if (filter === undefined || filter.length === 0) return TRAIN_BENCH_ROWS;
  const matches = (row: TrainBenchRow, f: string) => row.id === f || row.id.startsWith(`${f}-`);
  for (const f of filter) {
    if (!TRAIN_BENCH_ROWS.some((row) => matches(row, f))) {
      throw new ArgumentError(`unknown train bench row '${f}' (rows: ${TRAIN_BENCH_ROWS.map((r) => r.id).join(', ')})`);
    }
  }
  return TRAIN_BENCH_ROWS.filter((row) => filter.some((f) => matches(row, f)));
}

/** Runs a compiled worker under dist/bench/ with `node` and parses the JSON on its last stdout line. */
export function runNodeWorker<T>(script: string, spec: object, threads: number): PeerResult<T> {
  const path = join(packageRoot, 'dist', 'bench', script);
  if (!existsSync(path)) return { ok: false, reason: `${path} missing (npm run build:ts)` };
  const r = spawnSync(process.execPath, [path, JSON.stringify(spec)], {
    encoding: 'utf8',
    env: { ...process.env, CONVKIT_NUM_THREADS: String(threads) },
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const why = (r.stderr ?? '').trim().split('\n').slice(-1)[0] || `exit ${r.status ?? r.signal}`;
    return { ok: false, reason: `${script}: ${why}` };
  }
  const last = r.stdout.trim().split('\n').slice(-1)[0] ?? '';
  try {
    return { ok: true, value: JSON.parse(last) as T };
  } catch {
    return { ok: false, reason: `${script}: unreadable output` };
  }
}

function leakFigures(samples: Array<{ step: number; rssMb: number | null }> | undefined, fromStep: number): LeakFigures | null {
  const s = (samples ?? []).filter((x): x is RssSample => x.rssMb !== null);
  const first = s.find((x) => x.step >= fromStep);
  const last = s[s.length - 1];
  if (first === undefined || last === undefined) return null;
  const growthMb = last.rssMb - first.rssMb;
  const growthPct = (growthMb / first.rssMb) * 100;
  return { samples: s, fromStep: first.step, toStep: last.step, growthMb, growthPct, flagged: growthPct > LEAK_FLAG_PCT };
}

/** The installed onnxruntime-node version, or why it is unavailable (the package is not loaded here). */
export function ortVersion(): { version: string } | { missing: string } {
  try {
    const pkg = createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string };
    return { version: pkg.version };
  } catch {
    return { missing: 'onnxruntime-node not installed (npm install --save-dev onnxruntime-node)' };
  }
}

/** Share of other processes' CPU time above which the report warns that its figures are noise. */
export const OTHER_LOAD_WARN = 0.1;

/**
 * Jiffies from /proc: the whole machine's total and busy time (steal counts as busy), and this
 * process's own time plus that of its waited-for children (the workers), or null off Linux.
 */
interface CpuTimes {
  total: number;
  busy: number;
  own: number;
}

function cpuTimes(): CpuTimes | null {
  try {
    const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name: state is field 3, utime/stime/cutime/cstime fields 14-17.
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
    return Number.isFinite(total + own) ? { total, busy: total - idle, own } : null;
  } catch {
    return null;
  }
}

/** The share of the machine's CPU time between two {@link cpuTimes} that went to other processes. */
function otherShare(a: CpuTimes | null, b: CpuTimes | null): number | null {
  if (a === null || b === null || b.total <= a.total) return null;
  const others = b.busy - a.busy - (b.own - a.own);
  return Math.min(1, Math.max(0, others / (b.total - a.total)));
}

interface ExportResult {
  torch: string;
  files: Record<string, string>;
}

export function benchTrain(opts: TrainBenchOptions = {}): TrainBenchReport {
  const threads = opts.threads ?? 2;
  const quick = opts.quick ?? false;
  const rows = selectTrainRows(opts.rows);
  const progress = opts.onProgress ?? (() => {});
  const cpuStart = cpuTimes();
  const timing = quick
    ? { warmup: 2, minSeconds: 0.3, minRuns: 3, maxRuns: 50, leakSteps: 300, leakFrom: 100, rounds: 1 }
    : { warmup: 3, minSeconds: 2, minRuns: 10, maxRuns: 200, leakSteps: 2000, leakFrom: 1000, rounds: 2 };
  const specOf = (row: TrainBenchRow): TrainWorkerSpec => ({
    kind: row.kind, model: row.model, numClasses: row.numClasses, input: row.input, batch: row.batch, threads,
    warmup: timing.warmup, minSeconds: timing.minSeconds, minRuns: timing.minRuns, maxRuns: timing.maxRuns,
    steps: timing.leakSteps, sampleEvery: 100,
  });

  const wantPeers = opts.peers ?? true;
  const torchOk = wantPeers && pythonHas('torch, torchvision');
  let torchPeer = !wantPeers
    ? 'disabled'
    : torchOk
      ? 'PyTorch'
      : `unavailable: ${PYTHON} lacks torch/torchvision (apt-get install python3-torch python3-torchvision python3-threadpoolctl)`;
  const ort = ortVersion();
  let ortPeer = !wantPeers
    ? 'disabled'
    : 'missing' in ort
      ? `unavailable: ${ort.missing}`
      : `onnxruntime-node ${ort.version}, ${threads} intra-op threads`;

  // ONNX files for the ORT rows, exported by the PyTorch peer from the same torchvision models.
  const inferRows = rows.filter((r) => r.kind === 'infer');
  let onnxDir: string | null = null;
  let onnxFiles: Record<string, string> = {};
  if (wantPeers && inferRows.length > 0 && !('missing' in ort)) {
    if (!torchOk) {
      ortPeer = `unavailable: the ONNX models are exported by PyTorch, which is missing`;
    } else {
      progress('exporting ResNet-18 and MobileNetV2 to ONNX (PyTorch)');
      onnxDir = mkdtempSync(join(tmpdir(), 'convkit-bench-train-'));
      const wanted = new Map(inferRows.map((r) => [`${r.model}-${r.numClasses}`, { model: r.model, num_classes: r.numClasses, input: r.input }]));
      const r = runPeer<ExportResult>('torch_train.py', ['export', onnxDir, JSON.stringify([...wanted.values()])]);
      if (r.ok) onnxFiles = r.value.files;
      else ortPeer = `unavailable: ONNX export failed: ${r.reason}`;
    }
  }

  const results: TrainBenchResult[] = [];
  try {
    for (const row of rows) {
      const spec = specOf(row);
      const res: TrainBenchResult = {
        id: row.id, label: row.label, kind: row.kind, batch: row.batch, numClasses: row.numClasses,
        convkit: null, torch: null, ort: null, ratio: null, ortRatio: null, target: row.target,
        convkitPeakRssMb: null, torchPeakRssMb: null, ortPeakRssMb: null, convkitLoss: null, torchLoss: null,
        rounds: { convkit: [], torch: [], ort: [] }, otherLoad: null, notes: [],
      };
      if (row.kind === 'leak') res.leak = { convkit: null, torch: null };
      const rowStart = cpuTimes();

      // Sides alternate within each round; each side's figure is its best round (see `rounds`).
      const onnx = row.kind === 'infer' ? onnxFiles[`${row.model}-${row.numClasses}`] : undefined;
      const failed = new Set<string>();
      const nRounds = row.kind === 'leak' ? 1 : timing.rounds;
      const max = (a: number | null, b: number) => (a === null ? b : Math.max(a, b));
      for (let round = 1; round <= nRounds; round++) {
        const of = nRounds > 1 ? ` (round ${round} of ${nRounds})` : '';
        if (!failed.has('convkit')) {
          progress(`convkit: ${row.label}${of}`);
          const c = runNodeWorker<TrainWorkerResult>('train-worker.js', spec, threads);
          if (c.ok) {
            res.rounds.convkit.push(c.value.imgPerSec);
            res.convkit = max(res.convkit, c.value.imgPerSec);
            res.convkitPeakRssMb = max(res.convkitPeakRssMb, c.value.peakRssMb);
            res.convkitLoss = c.value.loss;
            if (res.leak !== undefined) res.leak.convkit = leakFigures(c.value.rss, timing.leakFrom);
          } else {
            failed.add('convkit');
            res.notes.push(`convkit failed: ${c.reason}`);
          }
        }
        if (torchOk && !failed.has('torch')) {
          progress(`PyTorch: ${row.label}${of}`);
          const t = runPeer<TorchTrainResult>('torch_train.py', ['run', JSON.stringify(spec)]);
          if (t.ok) {
            const blas = t.value.blas_capped ? 'BLAS pool capped at 1 (threadpoolctl)' : 'BLAS pool NOT capped (python3-threadpoolctl missing)';
            torchPeer = `PyTorch ${t.value.torch}, ${t.value.threads} threads, ${blas}`;
            res.rounds.torch.push(t.value.img_per_s);
            res.torch = max(res.torch, t.value.img_per_s);
            res.torchPeakRssMb = max(res.torchPeakRssMb, t.value.peak_rss_mb);
            res.torchLoss = t.value.loss;
            if (res.leak !== undefined) res.leak.torch = leakFigures(t.value.rss, timing.leakFrom);
          } else {
            failed.add('torch');
            res.notes.push(`PyTorch failed: ${t.reason}`);
          }
        }
        if (onnx !== undefined && !failed.has('ort')) {
          progress(`onnxruntime-node: ${row.label}${of}`);
          const o = runNodeWorker<TrainWorkerResult>('ort-worker.js', { ...spec, onnx } satisfies OrtWorkerSpec, threads);
          if (o.ok) {
            res.rounds.ort.push(o.value.imgPerSec);
            res.ort = max(res.ort, o.value.imgPerSec);
            res.ortPeakRssMb = max(res.ortPeakRssMb, o.value.peakRssMb);
          } else {
            failed.add('ort');
            res.notes.push(`onnxruntime-node failed: ${o.reason}`);
          }
        }
      }

      res.otherLoad = otherShare(rowStart, cpuTimes());
      if (row.kind !== 'leak') {
        if (res.convkit !== null && res.torch !== null) res.ratio = res.convkit / res.torch;
        if (res.convkit !== null && res.ort !== null) res.ortRatio = res.convkit / res.ort;
      }
      results.push(res);
    }
  } finally {
    if (onnxDir !== null) rmSync(onnxDir, { recursive: true, force: true });
  }
  const otherLoad = otherShare(cpuStart, cpuTimes());
  const peers = { torch: torchPeer, ort: ortPeer };
  return { threads, quick, timing, peers, otherLoad, cpus: availableParallelism(), rows: results };
}

/** The report as an aligned text table, the leak figures and the targets missed. */
export function formatTrainReport(r: TrainBenchReport): string {
  const num = (v: number | null, d = 0) => (v === null ? '-' : v.toFixed(d));
  const ratio = (v: number | null, target: number | null) => (v === null ? '-' : `${v.toFixed(2)}x${target !== null && v < target ? ' *' : ''}`);
  const speedRows = r.rows.filter((x) => x.kind !== 'leak');
  const header = ['row', 'convkit img/s', 'PyTorch img/s', 'ratio', 'ORT img/s', 'ratio vs ORT', 'convkit peak RSS MB', 'PyTorch peak RSS MB', 'other load'];
  const body = speedRows.map((x) => {
    const memOver = x.convkitPeakRssMb !== null && x.torchPeakRssMb !== null && x.convkitPeakRssMb > x.torchPeakRssMb;
    return [
      x.label, num(x.convkit, x.convkit !== null && x.convkit < 100 ? 1 : 0), num(x.torch, x.torch !== null && x.torch < 100 ? 1 : 0), ratio(x.ratio, x.target),
      x.kind === 'infer' ? num(x.ort, x.ort !== null && x.ort < 100 ? 1 : 0) : '', x.kind === 'infer' ? ratio(x.ortRatio, 1) : '',
      `${num(x.convkitPeakRssMb)}${memOver ? ' *' : ''}`, num(x.torchPeakRssMb),
      x.otherLoad === null ? '-' : `${(x.otherLoad * 100).toFixed(0)}%${x.otherLoad > OTHER_LOAD_WARN ? ' !' : ''}`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [
    `Whole models at ${r.threads} threads, images/s (median of timed steps, best of ${r.timing.rounds} round${r.timing.rounds > 1 ? 's' : ''} per side${r.quick ? ', --quick' : ''}); ratio = convkit / peer (above 1: convkit faster)`,
    `PyTorch: ${r.peers.torch}`,
    `ORT:     ${r.peers.ort}`,
    r.otherLoad === null
      ? 'other load on the machine: unknown'
      : `other processes took ${(r.otherLoad * 100).toFixed(0)}% of the ${r.cpus} CPUs during the run` +
        (r.otherLoad > OTHER_LOAD_WARN ? ': the figures are unreliable, run again on a quiet machine' : ''),
    '',
  ];
  if (body.length > 0) lines.push(fmt(header), ...body.map(fmt));
  for (const x of r.rows.filter((y) => y.kind === 'leak')) {
    const side = (name: string, l: LeakFigures | null | undefined) => {
      if (l === null || l === undefined) return `  ${name}: -`;
      const sign = (v: number) => (v >= 0 ? '+' : '');
      return `  ${name}: ${sign(l.growthMb)}${l.growthMb.toFixed(1)} MB (${sign(l.growthPct)}${l.growthPct.toFixed(1)}%) from step ${l.fromStep} to ${l.toStep}` +
        `${l.flagged ? `, GROWING (over ${LEAK_FLAG_PCT}%)` : ', flat'}; MB every ${l.samples.length > 1 ? l.samples[1]!.step - l.samples[0]!.step : 0} steps: ` +
        l.samples.map((s) => s.rssMb.toFixed(1)).join(' ');
    };
    lines.push(
      '',
      `Leak check, resident memory over LeNet-5 training at batch 64 (growth after ${r.timing.leakFrom} warm-up steps):`,
      side('convkit', x.leak?.convkit),
      side('PyTorch', x.leak?.torch),
    );
  }
  const notes = r.rows.flatMap((x) => x.notes.map((n) => `${x.label}: ${n}`));
  if (notes.length > 0) lines.push('', ...notes);
  if (body.some((row) => row[row.length - 1]!.endsWith(' !'))) {
    lines.push('', `! other processes took over ${OTHER_LOAD_WARN * 100}% of the CPUs while the row ran: its figures are noise (OpenMP teams stall when a core is taken)`);
  }
  if (body.some((row) => row.some((c) => c.endsWith(' *')))) {
    lines.push('', "* below target: ratio >= 1.5x on LeNet-5 and the CIFAR net, >= 1.0x elsewhere (PyTorch and ORT); convkit peak RSS <= PyTorch's");
  }
  return lines.join('\n');
}
