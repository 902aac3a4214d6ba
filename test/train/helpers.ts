// A tiny synthetic, deterministic BatchSource (the order of epoch e depends only on (seed, e), as
// the contract requires) and a small conv net, shared by the training tests and the child script.
import type { Batch, BatchSource, Dataset } from '../../lib/data/types.js';
import { Generator, Tensor } from '../../lib/index.js';
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../../lib/nn/index.js';

/** `count` samples of [1, 8, 8] in 3 classes: class c has a bright quadrant c plus noise. */
export function syntheticSource(options: { count?: number; batchSize?: number; seed?: number; delayMs?: number } = {}): BatchSource {
  const count = options.count ?? 48;
  const batchSize = options.batchSize ?? 8;
  const seed = options.seed ?? 7;
  const gen = new Generator(seed);
  const inputs: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = i % 3;
    const x = new Float32Array(64);
    gen.fillNormal(x);
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) x[(r + (label === 2 ? 4 : 0)) * 8 + c + (label === 1 ? 4 : 0)]! += 1.5;
    inputs.push(x);
    labels.push(label);
  }
  const dataset: Dataset = {
    length: count,
    classes: ['a', 'b', 'c'],
    sampleShape: [1, 8, 8],
    get: (i) => ({ input: inputs[i]!, label: labels[i]! }),
    source: (i) => `synthetic#${i}`,
  };
  const batchesPerEpoch = Math.ceil(count / batchSize);
  return {
    dataset,
    batchesPerEpoch,
    batchSize,
    async *batches(epoch: number, startBatch = 0): AsyncIterable<Batch> {
      const order = [...Array(count).keys()];
      const g = new Generator(seed * 1000 + epoch);
      for (let i = count - 1; i > 0; i--) {
        const j = g.nextUint32() % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let b = startBatch; b < batchesPerEpoch; b++) {
        if (options.delayMs !== undefined) await new Promise((r) => setTimeout(r, options.delayMs));
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const data = new Float32Array(indices.length * 64);
        indices.forEach((idx, k) => data.set(inputs[idx]!, k * 64));
        yield { input: new Tensor(data, [indices.length, 1, 8, 8]), target: Int32Array.from(indices, (i) => labels[i]!), indices, skipped: [] };
      }
    },
    close: async () => undefined,
  };
}

/** A small conv net with batch norm (buffers) and dropout (RNG use during training). */
export function smallNet(): Sequential {
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Dropout(0.25),
    new Linear(64, 3),
  );
}
