/**
 * The DataLoader: a deterministic {@link BatchSource} over a {@link Dataset}.
 *
 * - Order: epoch e visits `epochPermutation(n, seed, e)` when shuffling (dataset order
 *   otherwise), cut into batches of `batchSize` (the last one shorter unless `dropLast`).
 * - Augmentation: sample i of epoch e is transformed with a generator seeded from (seed, e, i)
 *   (seed.ts), so batches are identical whatever `workers` and `prefetch` are.
 * - Workers: with `workers > 0` and a dataset that has `spec()` (every dataset in lib/data), each
 *   batch is read and augmented in a pool of worker threads (dist/data/loader-worker.js) that rebuild
 *   the dataset from its spec; IDX/CIFAR workers reread their files once at start. A dataset
 *   without `spec()` runs on the main thread. Up to `prefetch` batches are in flight; results come
 *   back in order, their buffers transferred.
 * - Failures: a sample that throws (unreadable or corrupt file) is left out of its batch, listed in
 *   `batch.skipped` and passed to `onSkip`; a batch left empty is not yielded.
 * - Lifetime: the pool starts on the first `batches()` and lives across epochs until `close()`;
 *   an iteration abandoned early (break, throw) terminates it (a later call starts a fresh one).
 *
 * The worker script is looked up next to this module (`./loader-worker.js`, i.e. under dist/);
 * when this module runs from the TypeScript sources (vitest), it falls back to
 * `dist/data/loader-worker.js`, so workers need `npm run build:ts` first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { runBatch, type BatchResult } from './batch-job.js';
import { epochPermutation } from './seed.js';
import { hasSpec } from './spec.js';
import { buildPipeline } from './transforms/build.js';
import type { ImageShape, Transform, TransformSpec } from './transforms/types.js';
import type { Batch, BatchSource, Dataset, SkippedSample } from './types.js';
import { WorkerPool } from './worker-pool.js';

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  batchSize?: number;
  /** Shuffle every epoch, from (seed, epoch) only (default false). */
  shuffle?: boolean;
  /** Seed of the shuffles and augmentations (default 0). */
  seed?: number | bigint;
  /** Drop the last batch when it is shorter than batchSize (default false). */
  dropLast?: boolean;
  /** Augmentations, as plain-JSON specs, applied in order (default none). */
  transform?: TransformSpec[];
  /** Worker threads (default 0: everything on the main thread). */
  workers?: number;
  /** Batches in flight (default max(2, 2 * workers)). */
  prefetch?: number;
  /** Called for every sample left out of a batch. */
  onSkip?: (skipped: SkippedSample) => void;
  /** The worker script (default: see the module comment). */
  workerScript?: URL;
}

function checkInt(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ArgumentError(`Expected an integer >= ${min} for ${name} but received ${JSON.stringify(v)}`);
  }
  return v;
}

/** The worker script: next to this module, else under dist/ (when running from lib/). */
export function defaultWorkerScript(): URL {
  const here = new URL('./loader-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  const dist = fileURLToPath(new URL('../../dist/data/loader-worker.js', import.meta.url));
  if (existsSync(dist)) return pathToFileURL(dist);
  throw new ArgumentError(
    `DataLoader: worker script not found at ${fileURLToPath(here)} nor ${dist}; run \`npm run build:ts\` or use workers: 0`,
  );
}

/** Batches of a dataset, deterministic per (seed, epoch); see the module comment. */
export class DataLoader implements BatchSource {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly batchesPerEpoch: number;
  /** [C, H, W] of each sample after augmentation. */
  readonly sampleShape: ImageShape;
  readonly #shuffle: boolean;
  readonly #seed: number | bigint;
  readonly #dropLast: boolean;
  readonly #specs: TransformSpec[];
  readonly #transform: Transform | null;
  readonly #workers: number;
  readonly #prefetch: number;
  readonly #onSkip: ((s: SkippedSample) => void) | undefined;
  readonly #workerScript: URL | undefined;
  #pool: WorkerPool | null = null;

  /** @throws ArgumentError for a bad option or transform spec. */
  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function') {
      throw new ArgumentError(`Expected a Dataset for new DataLoader() but received ${String(dataset)}`);
    }
    this.dataset = dataset;
    this.batchSize = checkInt(options.batchSize ?? 32, 'batchSize', 1);
    this.#shuffle = options.shuffle ?? false;
    const seed = options.seed ?? 0;
    if (!(typeof seed === 'bigint' || Number.isSafeInteger(seed))) throw new ArgumentError(`Expected an integer seed but received ${String(seed)}`);
    this.#seed = seed;
    this.#dropLast = options.dropLast ?? false;
    this.#specs = options.transform ?? [];
    if (!Array.isArray(this.#specs)) throw new ArgumentError(`Expected transform to be an array of specs but received ${typeof this.#specs}`);
    this.#transform = this.#specs.length > 0 ? buildPipeline(this.#specs) : null;
    this.sampleShape = this.#transform === null ? [...dataset.sampleShape] : this.#transform.outputShape([...dataset.sampleShape]);
    this.#workers = checkInt(options.workers ?? 0, 'workers', 0);
    this.#prefetch = checkInt(options.prefetch ?? Math.max(2, 2 * this.#workers), 'prefetch', 1);
    this.#onSkip = options.onSkip;
    this.#workerScript = options.workerScript;
    const n = dataset.length;
    this.batchesPerEpoch = this.#dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Whether batches are made in worker threads. */
  get usesWorkers(): boolean {
    return this.#workers > 0 && hasSpec(this.dataset);
  }

  /** The dataset indices of epoch `epoch`, in visiting order. */
  order(epoch: number): Uint32Array {
    checkInt(epoch, 'epoch', 0);
    const n = this.dataset.length;
    if (this.#shuffle) return epochPermutation(n, this.#seed, epoch);
    return Uint32Array.from({ length: n }, (_, i) => i);
  }

  #pooled(): WorkerPool {
    if (this.#pool === null) {
      if (!hasSpec(this.dataset)) throw new ArgumentError('DataLoader: the dataset has no spec() to rebuild it in workers');
      this.#pool = new WorkerPool(this.#workerScript ?? defaultWorkerScript(), {
        dataset: this.dataset.spec(),
        transform: this.#specs,
        seed: this.#seed,
        outShape: this.sampleShape,
      }, this.#workers);
    }
    return this.#pool;
  }

  /** Batches of `epoch` from batch `startBatch` on; see {@link BatchSource.batches}. */
  async *batches(epoch: number, startBatch = 0): AsyncGenerator<Batch> {
    checkInt(epoch, 'epoch', 0);
    checkInt(startBatch, 'startBatch', 0);
    const order = this.order(epoch);
    const total = this.batchesPerEpoch;
    const workers = this.usesWorkers;
    const pending: Promise<BatchResult>[] = [];
    let next = startBatch;
    const launch = (): void => {
      const indices = Array.from(order.subarray(next * this.batchSize, Math.min((next + 1) * this.batchSize, order.length)));
      next++;
      const p = workers
        ? this.#pooled().run(epoch, indices)
        : runBatch(this.dataset, this.#transform, this.#seed, epoch, indices, this.sampleShape);
      p.catch(() => undefined); // handled when awaited; keeps abandoned ones from being "unhandled"
      pending.push(p);
    };
    let finished = false;
    try {
      while (next < total && pending.length < this.#prefetch) launch();
      while (pending.length > 0) {
        const r = await pending.shift()!;
        if (next < total) launch();
        if (this.#onSkip !== undefined) for (const s of r.skipped) this.#onSkip(s);
        if (r.indices.length === 0) continue;
        yield {
          input: new Tensor(r.data, [r.indices.length, ...this.sampleShape]),
          target: r.labels,
          indices: r.indices,
          skipped: r.skipped,
        };
      }
      finished = true;
    } finally {
      if (!finished && this.#pool !== null) {
        const pool = this.#pool;
        this.#pool = null;
        await pool.close();
      }
    }
  }

  /** Terminates the worker threads. Idempotent; the loader can be iterated again afterwards. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = null;
    if (pool !== null) await pool.close();
  }
}
