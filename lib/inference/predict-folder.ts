/**
 * `predictFolder`: classify every image below a folder and stream the results to a JSONL or CSV
 * file, resumably.
 *
 * - **Walk.** Lazy and deterministic (see walk.ts): entries sorted per directory, depth first;
 *   only the directories on the current path are held in memory.
 * - **Which files.** Files whose extension (any case) is one of {@link IMAGE_EXTENSIONS} are
 *   images; every other file (`.txt`, `.json`, no extension, ...) is skipped silently and counted
 *   nowhere. An image-extension file that cannot be decoded (truncated, corrupt, not an image
 *   at all) gets a row with an `error` field, and so does a subdirectory that cannot be read.
 * - **Pipeline.** Up to `concurrency` decodes (sharp, on libuv's pool) run while a batch is in
 *   the model, so decoding overlaps the forward pass, and the next batch is normalised into its
 *   buffer meanwhile (two batches in flight); rows keep the walk's order. Batch buffers move to
 *   the Predictor's worker and back without copies and are refilled (Predictor.classifyRecycling).
 * - **Output.** Each batch's rows go out in one append `write`, so a crash leaves at most a torn
 *   last line. Paths in rows are relative to `dir`, with '/' separators.
 * - **Resume.** An existing output is read first (streamed, line by line); its paths are skipped
 *   (`resumed`), and a torn last line (no trailing newline, or unparsable) is truncated away
 *   before appending. A run stopped by `signal` keeps every row written before the stop.
 *
 * Prints nothing; progress goes to `onProgress`.
 */
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { checkPreprocess, decodePixels, hwcToChwInto, IMAGE_EXTENSIONS } from '../data/image.js';
import type { Preprocess } from '../data/types.js';
import { ArgumentError, invalidArgument } from '../errors.js';
import { Module } from '../nn/module.js';
import { Predictor, type Classification, type PredictorOptions } from './predictor.js';
import { appendAll, formatRows, openResults, type OutputFormat, type ResultRow } from './results-file.js';
import { walkFiles, type WalkEntry } from './walk.js';

/** The image extensions (the data path's list); other files are skipped silently. */
const IMAGE_EXTENSION_SET: ReadonlySet<string> = new Set(IMAGE_EXTENSIONS);

/** Options of {@link predictFolder}. */
export interface PredictFolderOptions {
  /** The output file: `*.jsonl` or `*.csv` (the extension picks the format). Appended to and resumed. */
  output: string;
  /** How images become input; default: the Predictor's `preprocess`. Required otherwise. */
  preprocess?: Preprocess;
  /** Class names (default: the Predictor's, else the class index as a string). */
  classes?: readonly string[];
  /** Classes per row (default 5). */
  topK?: number;
  /** Images per forward pass (default 16). */
  batchSize?: number;
  /** Descend into subdirectories (default true). */
  recursive?: boolean;
  /** Decodes in flight (default 4). */
  concurrency?: number;
  /** Options of the Predictor created when a Module is passed (ignored for a Predictor). */
  predictor?: Omit<PredictorOptions, 'classes' | 'preprocess'>;
  /** Called after each batch is written. */
  onProgress?: (progress: PredictFolderProgress) => void;
  /**
   * Stops at the next batch boundary; the promise rejects with `signal.reason`. Rows already
   * written stay; a batch still in the model is dropped, and a rerun redoes its images.
   */
  signal?: AbortSignal;
}

/** What {@link predictFolder} reports. */
export interface PredictFolderResult {
  /** Images classified (a row with `top`) in this run. */
  processed: number;
  /** Images given an `error` row in this run (unreadable, corrupt, not an image). */
  skipped: number;
  /** Images skipped because the output already had their row. */
  resumed: number;
  /** `processed / seconds`. */
  imagesPerSecond: number;
  /** Wall time of this run, including the resume scan. */
  seconds: number;
}

/** {@link PredictFolderResult} so far, plus the last path written. */
export interface PredictFolderProgress extends PredictFolderResult {
  lastPath: string;
}

interface Item {
  path: string;
  /** The decoded image: uint8 HWC, normalised into the batch when the batch is assembled. */
  pixels?: Uint8Array;
  error?: string;
}

/** A batch whose forward pass was requested: its items and the classification to come. */
interface InFlight {
  batch: Item[];
  /** Null when no image of the batch decoded. */
  job: Promise<{ results: Classification[]; buffer: Float32Array | null } | null>;
}

/** A bounded FIFO between the producer (walk + decode) and the consumer (batches). */
class Channel<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #closed = false;
  #failure: unknown = undefined;
  #wake: (() => void) | null = null;
  #space: (() => void) | null = null;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Waits for room, then enqueues; false when the channel was closed meanwhile. */
  async put(item: T): Promise<boolean> {
    while (!this.#closed && this.#items.length >= this.#capacity) await new Promise<void>((r) => (this.#space = r));
    if (this.#closed) return false;
    this.#items.push(item);
    this.#wake?.();
    return true;
  }

  /** The next item, or undefined once closed and drained; rethrows a producer failure. */
  async take(): Promise<T | undefined> {
    for (;;) {
      if (this.#failure !== undefined) throw this.#failure;
      if (this.#items.length > 0) {
        const item = this.#items.shift()!;
        this.#space?.();
        return item;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  close(failure?: unknown): void {
    this.#closed = true;
    if (failure !== undefined) this.#failure = failure;
    this.#wake?.();
    this.#space?.();
  }
}

/** A counting semaphore for decodes in flight. */
class Slots {
  #free: number;
  readonly #waiters: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free--;
      return;
    }
    await new Promise<void>((r) => this.#waiters.push(r));
  }
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next();
    else this.#free++;
  }
}

function positive(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidArgument(`options.${name} of predictFolder()`, 'a positive integer', value);
  return value;
}

/** One line for an error cell: sharp's messages can span lines. */
function oneLine(message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, '; ').trim();
}

/**
 * Classifies every image below `dir` with `model` (a Module, run through a new Predictor that is
 * closed at the end, or a Predictor you own) and appends one row per image to `options.output`;
 * see the module comment for files, order, output formats and resuming.
 * @throws ArgumentError for bad options or when `dir` is not a directory; the model's typed error
 * when a forward pass fails (rows of earlier batches stay written); `signal.reason` when aborted.
 */
export async function predictFolder(model: Module | Predictor, dir: string, options: PredictFolderOptions): Promise<PredictFolderResult> {
  const started = performance.now();
  if (!(model instanceof Module) && !(model instanceof Predictor)) throw invalidArgument('the model of predictFolder()', 'a Module or a Predictor', model);
  if (typeof dir !== 'string' || dir === '') throw invalidArgument('the folder of predictFolder()', 'a path', dir);
  if (options === null || typeof options !== 'object') throw invalidArgument('the options of predictFolder()', 'an object with `output`', options);
  if (typeof options.output !== 'string') throw invalidArgument('options.output of predictFolder()', "a path ending in '.jsonl' or '.csv'", options.output);
  const ext = extname(options.output).toLowerCase();
  if (ext !== '.jsonl' && ext !== '.csv') throw invalidArgument('options.output of predictFolder()', "a path ending in '.jsonl' or '.csv'", options.output);
  const format: OutputFormat = ext === '.csv' ? 'csv' : 'jsonl';
  const topK = positive(options.topK, 'topK', 5);
  const batchSize = positive(options.batchSize, 'batchSize', 16);
  const concurrency = positive(options.concurrency, 'concurrency', 4);
  const recursive = options.recursive ?? true;
  const preprocess = options.preprocess ?? (model instanceof Predictor ? model.preprocess : undefined);
  if (preprocess === undefined) throw new ArgumentError('predictFolder: options.preprocess is required (the Predictor has none)');
  checkPreprocess(preprocess, 'options.preprocess of predictFolder()');
  const classes = options.classes ?? (model instanceof Predictor ? model.classes : undefined);
  const { signal, onProgress } = options;
  signal?.throwIfAborted();

  const root = resolve(dir);
  const rootStat = await stat(root).catch(() => null);
  if (rootStat === null || !rootStat.isDirectory()) throw new ArgumentError(`predictFolder: ${dir} is not a directory`);

  const results = await openResults(resolve(options.output), format, topK);
  const own = model instanceof Module;
  let predictor: Predictor | undefined;
  const channel = new Channel<Promise<Item>>(batchSize + concurrency);
  let stop = false;
  let producer: Promise<void> = Promise.resolve();
  const counts = { processed: 0, skipped: 0, resumed: 0 };
  const report = (): PredictFolderResult => {
    const seconds = (performance.now() - started) / 1000;
    return { ...counts, imagesPerSecond: seconds > 0 ? counts.processed / seconds : 0, seconds };
  };
  try {
    predictor = own ? await Predictor.create(model, { ...options.predictor, preprocess }) : model;
    const slots = new Slots(concurrency);
    const decode = async (entry: WalkEntry): Promise<Item> => {
      try {
        if (entry.error !== undefined) return { path: entry.path, error: entry.error };
        return { path: entry.path, pixels: await decodePixels(entry.absolute, preprocess, entry.path) };
      } catch (err) {
        return { path: entry.path, error: oneLine((err as Error).message) };
      } finally {
        slots.release();
      }
    };
    producer = (async () => {
      try {
        for await (const entry of walkFiles(root, { recursive })) {
          if (stop) break;
          if (entry.error === undefined && !IMAGE_EXTENSION_SET.has(extname(entry.path).toLowerCase())) continue;
          if (results.done.has(entry.path)) {
            counts.resumed++;
            continue;
          }
          await slots.acquire();
          if (!(await channel.put(decode(entry)))) break;
        }
        channel.close();
      } catch (err) {
        channel.close(err);
      }
    })();

    const [channels, height, width] = [preprocess.channels, preprocess.size[0], preprocess.size[1]];
    const imageSize = channels * height * width;
    // Batch buffers come back from the worker with the results and are filled again, so a long run
    // allocates (and faults in) no new input memory.
    const buffers: Float32Array[] = [];
    const submit = (batch: Item[]): InFlight => {
      const good = batch.filter((b) => b.pixels !== undefined);
      if (good.length === 0) return { batch, job: Promise.resolve(null) };
      const whole = buffers.pop() ?? new Float32Array(batchSize * imageSize);
      const data = good.length * imageSize === whole.length ? whole : whole.subarray(0, good.length * imageSize);
      good.forEach((b, i) => hwcToChwInto(b.pixels!, channels, height, width, preprocess.mean, preprocess.std, data, i * imageSize));
      const job = predictor!.classifyRecycling(data, [good.length, channels, height, width], { topK, ...(classes !== undefined ? { classes } : {}) });
      job.catch(() => undefined);  // awaited in finish(); this only marks it handled meanwhile
      return { batch, job };
    };
    const finish = async ({ batch, job }: InFlight): Promise<void> => {
      const classified = await job;
      if (classified !== null && classified.buffer !== null) buffers.push(new Float32Array(classified.buffer.buffer));
      const rows: ResultRow[] = batch.map((b) => ({ path: b.path, ...(b.error !== undefined ? { error: b.error } : {}) }));
      let g = 0;
      batch.forEach((b, i) => {
        if (b.pixels === undefined) return;
        rows[i]!.top = classified!.results[g++]!.topK.map((t) => ({ label: t.label, probability: t.probability }));
      });
      await appendAll(results.handle, formatRows(format, rows, topK));
      counts.processed += g;
      counts.skipped += batch.length - g;
      onProgress?.({ ...report(), lastPath: batch[batch.length - 1]!.path });
    };
    // Two batches in flight: the next one is gathered and normalised while the worker runs this one.
    let pending: InFlight | null = null;
    for (;;) {
      // An abort drops the batch still in the model (its images are redone on resume).
      signal?.throwIfAborted();
      const batch: Item[] = [];
      while (batch.length < batchSize) {
        const next = await channel.take();
        if (next === undefined) break;
        batch.push(await next);
      }
      if (batch.length === 0) break;
      signal?.throwIfAborted();
      const submitted = submit(batch);
      if (pending !== null) await finish(pending);
      pending = submitted;
    }
    if (pending !== null) await finish(pending);
    return report();
  } finally {
    stop = true;
    channel.close();
    await producer;
    await results.handle.close();
    if (own) await predictor?.close();
  }
}
