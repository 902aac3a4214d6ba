/**
 * `convkit bench pipeline`: the data path's speed. Rows (each in a process of its own, see
 * pipeline-worker.ts):
 * - decode + augment + batch of 224x224 JPEGs with 0 (main thread), 1 and 2 worker threads;
 * - end-to-end `predict` over the same folder (decode, forward, top-5 JSON lines) for MobileNetV2
 *   and ResNet-18 at 224, against the same job through onnxruntime-node + sharp, whose models the
 *   PyTorch peer exports from the same torchvision architectures (random weights: speed only).
 *   The two run in alternating processes, `rounds` times (convkit, peer, convkit, peer, ...), so a
 *   change in the shared host's load reaches both sides alike; each side's figure is the median of
 *   all its timed runs, and the row lists every round's ratio.
 * The folder holds `images` JPEGs cut from Debian's darknet photos (/usr/share/darknet/data)
 * when present, else synthetic ones, made fresh in a temporary directory.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { runPeer } from './peers.js';
import type { PipelineWorkerResult, PipelineWorkerSpec } from './pipeline-worker.js';
import { ortVersion, runNodeWorker } from './train.js';

const PHOTOS = '/usr/share/darknet/data';

export interface PipelineBenchOptions {
  threads?: number;
  quick?: boolean;
  peers?: boolean;
  onProgress?: (message: string) => void;
}

export interface PipelineRow {
  label: string;
  convkit: number | null;
  peer: number | null;
  /** convkit / peer (> 1: convkit faster). */
  ratio: number | null;
  /** Each round's ratio (predict rows; rounds alternate the two processes). */
  roundRatios?: number[];
  notes: string[];
}

export interface PipelineBenchReport {
  threads: number;
  images: number;
  /** Alternating convkit / peer processes per predict row. */
  rounds: number;
  source: string;
  peer: string;
  rows: PipelineRow[];
}

/** Writes `count` 224x224 JPEGs into `<dir>/<class>/`; returns where they came from. */
async function makeImages(dir: string, count: number): Promise<string> {
  const photos = existsSync(PHOTOS) ? readdirSync(PHOTOS).filter((f) => f.endsWith('.jpg')).sort().map((f) => join(PHOTOS, f)) : [];
  for (let i = 0; i < count; i++) {
    const cls = join(dir, `class${i % 4}`);
    mkdirSync(cls, { recursive: true });
    let img: Sharp;
    if (photos.length > 0) {
      const src = photos[i % photos.length]!;
      const meta = await sharp(src).metadata();
      const side = Math.min(meta.width!, meta.height!, 160 + ((i * 37) % 300));
      const left = (i * 53) % Math.max(1, meta.width! - side);
      const top = (i * 29) % Math.max(1, meta.height! - side);
      img = sharp(src).extract({ left, top, width: side, height: side }).resize(224, 224);
    } else {
      const raw = Buffer.alloc(224 * 224 * 3);
      for (let p = 0; p < raw.length; p++) raw[p] = (p * (i + 3) + (p >> 7) * 11) & 255;
      img = sharp(raw, { raw: { width: 224, height: 224, channels: 3 } });
    }
    await img.jpeg({ quality: 90 }).toFile(join(cls, `img-${i}.jpg`));
  }
  return photos.length > 0 ? `crops of ${photos.length} darknet photos` : 'synthetic images (darknet photos not installed)';
}

export async function benchPipeline(opts: PipelineBenchOptions = {}): Promise<PipelineBenchReport> {
  const threads = opts.threads ?? 2;
  const quick = opts.quick ?? false;
  const progress = opts.onProgress ?? (() => undefined);
  const count = quick ? 48 : 96;
  const repeats = quick ? 2 : 3;
  // Predict rows: alternating processes, two timed runs each (after the warm-up run). Five rounds:
  // a run is under a second, and with three a single slow round moved the ratio by 0.05.
  const rounds = quick ? 1 : 5;
  const predictRepeats = 2;
  const work = mkdtempSync(join(tmpdir(), 'convkit-bench-pipeline-'));
  const dir = join(work, 'images');
  try {
    progress(`writing ${count} 224x224 JPEGs`);
    const source = await makeImages(dir, count);
    const rows: PipelineRow[] = [];
    for (const workers of [0, 1, 2]) {
      progress(`loader, ${workers} worker(s)`);
      const r = runNodeWorker<PipelineWorkerResult>('pipeline-worker.js', { kind: 'loader', dir, repeats, workers, threads } satisfies PipelineWorkerSpec, threads);
      rows.push({
        label: `decode+augment+batch 224 JPEG, ${workers === 0 ? 'main thread' : `${workers} worker${workers > 1 ? 's' : ''}`}`,
        convkit: r.ok ? r.value.imgPerS : null,
        peer: null,
        ratio: null,
        notes: r.ok ? [] : [r.reason],
      });
    }
    // ONNX files for the peer rows.
    const ort = ortVersion();
    let peer = opts.peers === false ? 'disabled' : 'missing' in ort ? `unavailable: ${ort.missing}` : `onnxruntime-node ${ort.version} + sharp, ${threads} intra-op threads`;
    let files: Record<string, string> = {};
    if (opts.peers !== false && !('missing' in ort)) {
      progress('exporting MobileNetV2 and ResNet-18 to ONNX (PyTorch)');
      const models = ['mobilenet_v2', 'resnet18'].map((model) => ({ model, num_classes: 1000, input: [3, 224, 224] }));
      const r = runPeer<{ files: Record<string, string> }>('torch_train.py', ['export', work, JSON.stringify(models)]);
      if (r.ok) files = r.value.files;
      else peer = `unavailable: ONNX export failed: ${r.reason}`;
    }
    for (const [zoo, torchName, label] of [
      ['mobilenetV2', 'mobilenet_v2', 'MobileNetV2'],
      ['resnet18', 'resnet18', 'ResNet-18'],
    ] as const) {
      const onnx = files[`${torchName}-1000`];
      const ours: number[] = [];
      const theirs: number[] = [];
      const roundRatios: number[] = [];
      const notes = new Set<string>();
      for (let round = 0; round < rounds; round++) {
        progress(`predict ${label}, round ${round + 1} of ${rounds} (convkit${onnx !== undefined ? ', then onnxruntime-node + sharp' : ''})`);
        const c = runNodeWorker<PipelineWorkerResult>('pipeline-worker.js', { kind: 'predict-convkit', dir, repeats: predictRepeats, model: zoo, threads } satisfies PipelineWorkerSpec, threads);
        if (c.ok) ours.push(...c.value.rates);
        else notes.add(c.reason);
        if (onnx === undefined) continue;
        const p = runNodeWorker<PipelineWorkerResult>('pipeline-worker.js', { kind: 'predict-ort', dir, repeats: predictRepeats, onnx, threads } satisfies PipelineWorkerSpec, threads);
        if (p.ok) theirs.push(...p.value.rates);
        else notes.add(p.reason);
        if (c.ok && p.ok) roundRatios.push(c.value.imgPerS / p.value.imgPerS);
      }
      const convkit = ours.length > 0 ? median(ours) : null;
      const peerRate = theirs.length > 0 ? median(theirs) : null;
      rows.push({
        label: `predict folder ${label} 224, top-5 JSONL`,
        convkit,
        peer: peerRate,
        ratio: convkit !== null && peerRate !== null ? convkit / peerRate : null,
        roundRatios,
        notes: [...notes],
      });
    }
    return { threads, images: count, rounds, source, peer, rows };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export function formatPipelineReport(r: PipelineBenchReport): string {
  const fmt = (x: number | null) => (x === null ? '-' : x.toFixed(1));
  const lines = [
    `pipeline: ${r.images} JPEGs (${r.source}), ${r.threads} threads; peer: ${r.peer}`,
    `predict rows: ${r.rounds} round(s) of alternating convkit / peer processes; medians of every timed run; each round's ratio in brackets`,
    `${'row'.padEnd(48)} ${'convkit img/s'.padStart(14)} ${'peer img/s'.padStart(11)} ${'ratio'.padStart(7)}`,
  ];
  for (const row of r.rows) {
    lines.push(
      `${row.label.padEnd(48)} ${fmt(row.convkit).padStart(14)} ${fmt(row.peer).padStart(11)} ${(row.ratio === null ? '-' : `${row.ratio.toFixed(2)}x`).padStart(7)}` +
        (row.roundRatios !== undefined && row.roundRatios.length > 0 ? `  [${row.roundRatios.map((x) => x.toFixed(2)).join(' ')}]` : '') +
        (row.notes.length > 0 ? `  (${row.notes.join('; ')})` : ''),
    );
  }
  return lines.join('\n');
}
