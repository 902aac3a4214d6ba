/**
 * One row of `convkit bench train` on the convkit side, in a process of its own so that its peak
 * resident memory belongs to that row alone: `node dist/bench/train-worker.js '<TrainWorkerSpec>'`.
 * Prints one JSON line ({@link TrainWorkerResult}) on stdout; an error exits non-zero with the
 * message on stderr. scripts/peers/torch_train.py does the same in PyTorch from the same spec.
 */
import { noGrad } from '../autograd/grad-mode.js';
import * as F from '../functional/index.js';
import { fuseForInference } from '../inference/fuse.js';
import type { Module } from '../nn/module.js';
import { SGD } from '../optim/index.js';
import { setNumThreads } from '../runtime.js';
import { BufferArena } from '../tensor/buffer-arena.js';
import { randn } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { measure } from './measure.js';
import { peakRssMb, rssMb } from './memory.js';
import { buildBenchModel } from './train-models.js';
import type { RssSample, TrainWorkerResult, TrainWorkerSpec } from './train.js';

/** Number of label sets the training steps cycle through (as the PyTorch peer). */
const LABEL_SETS = 16;

/** Integer class labels in [0, classes), from a fixed LCG (as random as the benchmark needs). */
function labels(n: number, classes: number): Int32Array {
  const out = new Int32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = Math.floor((s / 2 ** 32) * classes);
  }
  return out;
}

export function runTrainWorker(spec: TrainWorkerSpec): TrainWorkerResult {
  setNumThreads(spec.threads);
  const model = buildBenchModel(spec.model, spec.numClasses);
  const forward = (x: Tensor): Tensor => (model as unknown as { forward(x: Tensor): Tensor }).forward(x);
  const x = randn([spec.batch, ...spec.input], { seed: 1 });

  if (spec.kind === 'infer') {
    // As the Predictor's worker runs a model: batch norm folded into the convolutions, activations
    // fused into their epilogues, one batch's activation buffers reused by the next.
    model.eval();
    const rowSize = x.size / spec.batch;
    fuseForInference(model as Module, new Tensor(x.data.slice(0, rowSize), [1, ...spec.input]));
    const arena = new BufferArena();
    const run = () => arena.run(() => noGrad(() => forward(x)));
    for (let i = 1; i < spec.warmup; i++) run();
    const t = measure(run, spec.minSeconds, spec.minRuns, spec.maxRuns);
    return { imgPerSec: spec.batch / t.median, runs: t.runs, peakRssMb: peakRssMb(), loss: null };
  }

  model.train();
  const opt = new SGD((model as Module).parameters(), { lr: 0.01, momentum: 0.9 });
  // A pool of label sets, a different one each step, so that the model cannot memorise the one
  // fixed input batch (its loss would run to zero and its gradients into the denormal range).
  const pool = labels(spec.batch * LABEL_SETS, spec.numClasses);
  let loss = Number.NaN;
  let n = 0;
  const step = () => {
    const k = n++ % LABEL_SETS;
    const y = pool.subarray(k * spec.batch, (k + 1) * spec.batch);
    opt.zeroGrad();
    const l = F.crossEntropy(forward(x), y);
    l.backward();
    opt.step();
    loss = l.item();
  };

  if (spec.kind === 'leak') {
    const samples: RssSample[] = [];
    const t0 = process.hrtime.bigint();
    for (let i = 1; i <= spec.steps; i++) {
      step();
      if (i % spec.sampleEvery === 0) samples.push({ step: i, rssMb: rssMb() });
    }
    const seconds = Number(process.hrtime.bigint() - t0) * 1e-9;
    return { imgPerSec: (spec.steps * spec.batch) / seconds, runs: spec.steps, peakRssMb: peakRssMb(), loss, rss: samples };
  }

  for (let i = 1; i < spec.warmup; i++) step();
  const t = measure(step, spec.minSeconds, spec.minRuns, spec.maxRuns);
  return { imgPerSec: spec.batch / t.median, runs: t.runs, peakRssMb: peakRssMb(), loss };
}

// Run as a script: the spec is the first argument.
const arg = process.argv[2];
if (arg !== undefined && process.argv[1] !== undefined && /train-worker\.[jt]s$/.test(process.argv[1])) {
  try {
    console.log(JSON.stringify(runTrainWorker(JSON.parse(arg) as TrainWorkerSpec)));
  } catch (err) {
    console.error(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
    process.exitCode = 1;
  }
}
