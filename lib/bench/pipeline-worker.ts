/**
 * One row of `convkit bench pipeline`, in a process of its own:
 * `node dist/bench/pipeline-worker.js '<PipelineWorkerSpec>'`, printing one JSON line
 * ({@link PipelineWorkerResult}). Rows:
 * - `loader`: decode + augment (mirror, pad-4 crop) + batch of a folder of 224x224 JPEGs through
 *   ImageFolder and DataLoader with `workers` threads (0: on the main thread);
 * - `predict-convkit`: `predictFolder` with a zoo model (random weights: speed only) in its
 *   worker thread, top-5 JSON lines;
 * - `predict-ort`: the same job through onnxruntime-node and sharp: the same decode (decodeImage,
 *   four in flight), batches of 16, softmax top-5, JSON lines appended per batch.
 * Each timed run starts from an empty output file; the figure is the median over `repeats` runs
 * after one untimed warm-up run, the steady state of a long job (model load, session creation,
 * worker start and the first pass's one-off work are not timed).
 */
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DataLoader } from '../data/loader.js';
import { decodeImage } from '../data/image.js';
import { ImageFolder } from '../data/image-folder.js';
import type { Preprocess } from '../data/types.js';
import { Predictor } from '../inference/predictor.js';
import { predictFolder } from '../inference/predict-folder.js';
import { buildModel } from '../models/index.js';

export interface PipelineWorkerSpec {
  kind: 'loader' | 'predict-convkit' | 'predict-ort';
  dir: string;
  repeats: number;
  workers?: number;
  /** Zoo name (convkit) for predict rows. */
  model?: string;
  /** The ONNX file (predict-ort). */
  onnx?: string;
  threads: number;
}

export interface PipelineWorkerResult {
  /** The median of `rates`. */
  imgPerS: number;
  /** Every timed run's images/s. */
  rates: number[];
  runs: number;
  images: number;
}

export const PIPELINE_PREPROCESS: Preprocess = { channels: 3, size: [224, 224], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** One untimed warm-up run (fusion, buffer arenas, ORT's allocation plan), then `repeats` timed. */
async function timeRuns(repeats: number, run: () => Promise<number>): Promise<PipelineWorkerResult> {
  const rates: number[] = [];
  let images = await run();
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    images = await run();
    rates.push(images / ((performance.now() - t0) / 1000));
  }
  return { imgPerS: median(rates), rates, runs: repeats, images };
}

async function loaderRow(spec: PipelineWorkerSpec): Promise<PipelineWorkerResult> {
  const dataset = new ImageFolder(spec.dir, { preprocess: PIPELINE_PREPROCESS });
  const loader = new DataLoader(dataset, {
    batchSize: 32,
    shuffle: true,
    workers: spec.workers ?? 0,
    transform: [{ name: 'mirror' }, { name: 'crop', padding: 4 }],
  });
  try {
    // One untimed epoch starts the worker pool.
    for await (const b of loader.batches(0)) void b;
    let epoch = 1;
    return await timeRuns(spec.repeats, async () => {
      let n = 0;
      for await (const b of loader.batches(epoch)) n += b.indices.length;
      epoch++;
      return n;
    });
  } finally {
    await loader.close();
  }
}

async function predictConvkitRow(spec: PipelineWorkerSpec): Promise<PipelineWorkerResult> {
  const model = buildModel(spec.model ?? 'mobilenetV2', { numClasses: 1000 }).eval();
  const predictor = await Predictor.create(model, { preprocess: PIPELINE_PREPROCESS });
  const out = mkdtempSync(join(tmpdir(), 'convkit-bench-predict-'));
  try {
    let k = 0;
    return await timeRuns(spec.repeats, async () => {
      const r = await predictFolder(predictor, spec.dir, { output: join(out, `run-${k++}.jsonl`), topK: 5, batchSize: 16 });
      return r.processed + r.skipped;
    });
  } finally {
    await predictor.close();
    rmSync(out, { recursive: true, force: true });
  }
}

interface OrtTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}
interface OrtModule {
  InferenceSession: {
    create(path: string, options: Record<string, unknown>): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
}

function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listImages(p));
    else if (/\.jpe?g$/i.test(e.name)) out.push(p);
  }
  return out;
}

function top5(logits: Float32Array, offset: number, classes: number): { label: string; probability: number }[] {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[offset + j]!);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(logits[offset + j]! - max);
  const idx = Array.from({ length: classes }, (_, j) => j).sort((a, b) => logits[offset + b]! - logits[offset + a]!).slice(0, 5);
  return idx.map((j) => ({ label: String(j), probability: Math.exp(logits[offset + j]! - max) / sum }));
}

async function predictOrtRow(spec: PipelineWorkerSpec): Promise<PipelineWorkerResult> {
  const name = 'onnxruntime-node';
  const ort = (await import(name)) as OrtModule;
  const session = await ort.InferenceSession.create(spec.onnx!, {
    intraOpNumThreads: spec.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const out = mkdtempSync(join(tmpdir(), 'convkit-bench-ort-'));
  const plane = 3 * 224 * 224;
  try {
    let k = 0;
    return await timeRuns(spec.repeats, async () => {
      const file = join(out, `run-${k++}.jsonl`);
      writeFileSync(file, '');
      const files = listImages(spec.dir);
      let n = 0;
      for (let start = 0; start < files.length; start += 16) {
        const chunk = files.slice(start, start + 16);
        // Four decodes in flight, as predictFolder.
        const decoded: Float32Array[] = [];
        for (let i = 0; i < chunk.length; i += 4) decoded.push(...(await Promise.all(chunk.slice(i, i + 4).map((f) => decodeImage(f, PIPELINE_PREPROCESS)))));
        const batch = new Float32Array(decoded.length * plane);
        decoded.forEach((d, i) => batch.set(d, i * plane));
        const result = await session.run({ input: new ort.Tensor('float32', batch, [decoded.length, 3, 224, 224]) });
        const logits = Object.values(result)[0]!;
        const classes = logits.dims[1]!;
        const rows = chunk.map((f, i) => JSON.stringify({ path: relative(spec.dir, f), top: top5(logits.data, i * classes, classes) })).join('\n');
        appendFileSync(file, `${rows}\n`);
        n += chunk.length;
      }
      return n;
    });
  } finally {
    await session.release();
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as PipelineWorkerSpec;
  const result =
    spec.kind === 'loader' ? await loaderRow(spec) : spec.kind === 'predict-convkit' ? await predictConvkitRow(spec) : await predictOrtRow(spec);
  console.log(JSON.stringify(result));
  // Idle worker threads are unref'd, but leave no doubt.
  process.exit(0);
}

await main();
