/**
 * `convkit demo`: the README's first command. Trains LeNet-5 on the Fashion-MNIST subset that
 * ships with the package (data/fashion-mnist-demo: 5,000 training and 1,000 test images, IDX),
 * writes checkpoints, the log and the report, then saves 100 test images as PNG files (plus one
 * deliberately truncated JPEG) and classifies that folder with `predict`, as a user would classify
 * their own images. Needs nothing beyond `npm install`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadMnist } from '../data/idx.js';
import { runPredict } from './predict.js';
import { runTrain, type TrainCommandResult } from './train.js';
import type { ProgressMode } from '../train/progress.js';

/** The bundled dataset (relative to the package root). */
export function demoDataDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'fashion-mnist-demo');
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  out: string;
  epochs?: number;
  model?: string;
  progress?: ProgressMode;
  log?: (line: string) => void;
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  train: TrainCommandResult;
  /** Accuracy of the predictions over the exported PNGs (their folder names are the truth). */
  predictAccuracy: number;
  predictions: string;
}

/** Writes `perClass` test images of each class as PNGs under `<dir>/<class>/`, and a truncated JPEG. */
async function exportImages(dir: string, perClass: number): Promise<void> {
  const test = loadMnist(demoDataDir(), { split: 'test' });
  const taken = new Map<number, number>();
  for (let i = 0; i < test.length; i++) {
    const { input, label } = test.get(i);
    const n = taken.get(label) ?? 0;
    if (n >= perClass) continue;
    taken.set(label, n + 1);
    const name = test.classes[label]!.replace(/[^A-Za-z0-9-]+/g, '_');
    await mkdir(join(dir, name), { recursive: true });
    const pixels = Buffer.from(Uint8Array.from(input, (v) => Math.round(v * 255)));
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, name, `test-${i}.png`));
  }
  const jpeg = await sharp(Buffer.alloc(64 * 64 * 3, 128), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  await writeFile(join(dir, 'truncated.jpg'), jpeg.subarray(0, jpeg.length >> 1));
}

/** Runs the demo; see the module comment. */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const out = resolve(o.out);
  log(`convkit demo: training on the bundled Fashion-MNIST subset (${demoDataDir()}); output in ${out}`);
  const train = await runTrain({
    model: o.model ?? 'lenet5',
    data: demoDataDir(),
    out,
    epochs: o.epochs ?? 10,
    batchSize: 64,
    lr: 0.05,
    optimizer: 'sgd',
    scheduler: 'cosine',
    seed: 1,
    progress: o.progress ?? 'auto',
    log,
  });
  if (train.fit.interrupted) return { train, predictAccuracy: NaN, predictions: '' };
  const images = join(out, 'images');
  await exportImages(images, 10);
  const predictions = join(out, 'predictions.jsonl');
  log(`classifying ${images} (100 PNG files and one truncated JPEG) into ${predictions}`);
  await runPredict({ model: out, input: images, output: predictions, topK: 3, log });
  let right = 0;
  let total = 0;
  for (const line of (await readFile(predictions, 'utf8')).split('\n')) {
    if (line === '') continue;
    const row = JSON.parse(line) as { path: string; top?: { label: string }[] };
    if (row.top === undefined) continue;
    total++;
    const truth = row.path.split(/[\\/]/).slice(-2, -1)[0];
    if (row.top[0]!.label.replace(/[^A-Za-z0-9-]+/g, '_') === truth) right++;
  }
  const predictAccuracy = total === 0 ? NaN : right / total;
  const e = train.evaluation!;
  log('');
  log(`test accuracy ${(e.accuracy * 100).toFixed(1)}% on ${e.count} test images; predict agreed with the labels on ${right}/${total} PNGs`);
  log(`report:      ${join(out, 'report.html')}`);
  log(`checkpoints: ${join(out, 'best.safetensors')}, ${join(out, 'last.safetensors')}`);
  log(`log:         ${join(out, 'log.jsonl')}`);
  log(`predictions: ${predictions}`);
  return { train, predictAccuracy, predictions };
}
