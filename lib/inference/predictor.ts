/**
 * `Predictor`: a model's forward pass on a worker thread, so a server's event loop stays free
 * while a batch runs. The model is copied into the worker once (architecture via `toJSON()`,
 * weights as transferred Float32Arrays) and rebuilt there with `moduleFromJSON` +
 * `loadStateDict`; later changes to the original model do not reach the worker.
 *
 * ```ts
 * const p = await Predictor.create(models.resnet18({ numClasses: 10 }), { classes });
 * const logits = await p.predict(batch);               // [N, 10], computed off the main thread
 * const top = await p.classify(batch, { topK: 3 });    // [{ topK: [{ label, index, probability }] }]
 * await p.close();
 * ```
 *
 * **Inline fallback.** A model whose class (or a child's) is not registered with
 * `registerModuleType` cannot be serialised, and a type registered only on the main thread is
 * unknown to the worker (pass its module URL in `imports` to register it there). In both cases the
 * predictor runs on the main thread instead (`mode === 'inline'`, `fallbackReason` says why): one
 * image at a time, yielding to the event loop (setImmediate) between images, on the live model
 * (no snapshot), in eval mode for the duration of each image's forward pass.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { noGrad } from '../autograd/grad-mode.js';
import type { Preprocess } from '../data/types.js';
import { ArgumentError, InternalError, ShapeError, invalidArgument } from '../errors.js';
import { softmax } from '../functional/activation.js';
import { packageRoot } from '../native.js';
import { Module } from '../nn/module.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import {
  deserializeError,
  isUnknownModuleType,
  type PredictRequest,
  type PredictWorkerData,
  type StateEntry,
  type WorkerReply,
} from './protocol.js';

/** Options of {@link Predictor.create}. */
export interface PredictorOptions {
  /** Class names, index = logit column; labels of {@link Predictor.classify} (default: the index as a string). */
  classes?: readonly string[];
  /** How images become the model's input; kept for `predictFolder` (the predictor itself takes tensors). */
  preprocess?: Preprocess;
  /**
   * Kernel threads for the worker's forward passes. The native thread budget is one process-wide
   * setting, so this also changes it for the main thread and every other worker; leave it unset
   * to keep the current budget.
   */
  threads?: number;
  /**
   * Module URLs (or paths) the worker imports before rebuilding the model, so custom module types
   * they register with `registerModuleType` resolve there. They must import convkit from the same
   * installation as the worker (the package's dist/).
   */
  imports?: readonly (string | URL)[];
  /** Run inline on the main thread even when the model could be serialised (default false). */
  inline?: boolean;
  /**
   * Fold batch norms into the preceding convolutions and fuse ReLU/ReLU6 into them in the worker's
   * copy, checked on the first request's first image (default true; see lib/inference/fuse.ts).
   * The inline fallback runs the live model and never fuses.
   */
  fuse?: boolean;
  /**
   * Reuse the activation buffers of one request in the next (lib/tensor/buffer-arena.ts), so that
   * a batch does not fault in fresh memory for every activation (default true). Turn it off for a
   * model whose forward pass keeps a tensor it computed for a later call. The inline fallback never
   * reuses buffers.
   */
  reuseBuffers?: boolean;
}

/** One ranked class of {@link Predictor.classify}. */
export interface ClassScore {
  label: string;
  index: number;
  /** Softmax probability. */
  probability: number;
}

/** The classification of one input row. */
export interface Classification {
  /** The `topK` most probable classes, most probable first (ties: lower index first). */
  topK: ClassScore[];
}

/** Options of {@link Predictor.classify}. */
export interface ClassifyOptions {
  /** Classes to return per row (default 5, at most the number of classes). */
  topK?: number;
  /** Labels for this call, overriding the predictor's `classes`. */
  classes?: readonly string[];
}

/** Where a predictor runs its forward passes. */
export type PredictorMode = 'worker' | 'inline';

/** A forward pass's output, and the input buffer when it was handed back for reuse. */
interface BackendResult {
  output: Tensor;
  /** The request's input, transferred back (worker, `returnInput`) or never taken (inline); else null. */
  input: Float32Array | null;
}

interface Backend {
  run(input: Float32Array, shape: number[], callerStack: string | undefined, returnInput: boolean): Promise<BackendResult>;
  close(): Promise<void>;
}

/**
 * The worker script: `./predict-worker.js` beside this file. Running from the TypeScript sources
 * (vitest, tsx) there is no such file; the compiled one under dist/ is used (`npm run build:ts`).
 */
export function predictWorkerUrl(): URL {
  const here = new URL('./predict-worker.js', import.meta.url);
  if (here.protocol !== 'file:' || existsSync(fileURLToPath(here))) return here;
  const compiled = join(packageRoot, 'dist', 'inference', 'predict-worker.js');
  if (existsSync(compiled)) return pathToFileURL(compiled);
  throw new InternalError(`the predict worker script is missing: neither ${fileURLToPath(here)} nor ${compiled} exists (run npm run build:ts)`);
}

/**
 * The parent's Node flags minus `--input-type`, which a worker inherits by default but which makes
 * loading a worker *file* fail (ERR_INPUT_TYPE_NOT_ALLOWED) when the parent runs `node -e`.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--input-type=')) continue;
    if (a === '--input-type') {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

class WorkerBackend implements Backend {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: BackendResult) => void; reject: (e: Error) => void; stack: string | undefined }>();
  #nextId = 0;
  #dead: Error | null = null;
  #exited: Promise<void>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (reply: WorkerReply) => this.#onReply(reply));
    worker.on('error', (err) => this.#fail(err instanceof Error ? err : new InternalError(String(err))));
    worker.on('exit', (code) => this.#fail(new InternalError(`the predict worker exited (code ${code})`)));
  }

  /** Starts the worker and waits for the model to be rebuilt; rejects with the worker's error. */
  static start(data: PredictWorkerData, transfer: ArrayBuffer[]): Promise<WorkerBackend> {
    const worker = new Worker(predictWorkerUrl(), { workerData: data, transferList: transfer, execArgv: workerExecArgv() });
    return new Promise((resolve, reject) => {
      const onMessage = (reply: WorkerReply): void => {
        if (reply.type !== 'ready' && reply.type !== 'init-error') return;
        cleanup();
        if (reply.type === 'init-error') {
          void worker.terminate();
          reject(deserializeError(reply.error));
          return;
        }
        const backend = new WorkerBackend(worker);
        worker.unref();
        resolve(backend);
      };
      const onError = (err: Error): void => {
        cleanup();
        void worker.terminate();
        reject(err);
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new InternalError(`the predict worker exited (code ${code}) before the model was loaded`));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  run(input: Float32Array, shape: number[], stack: string | undefined, returnInput: boolean): Promise<BackendResult> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<BackendResult>((resolve, reject) => {
      // Idle workers are unref'd so a finished script can exit; a pending request keeps it alive.
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject, stack });
      const request: PredictRequest = { id, input, shape, ...(returnInput ? { returnInput } : {}) };
      this.#worker.postMessage(request, [input.buffer as ArrayBuffer]);
    });
  }

  #settle(id: number): { resolve: (r: BackendResult) => void; reject: (e: Error) => void; stack: string | undefined } | undefined {
    const entry = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.#dead === null) this.#worker.unref();
    return entry;
  }

  #onReply(reply: WorkerReply): void {
    if (reply.type === 'result') {
      this.#settle(reply.id)?.resolve({ output: new Tensor(reply.output, reply.shape), input: reply.input ?? null });
    } else if (reply.type === 'error') {
      const entry = this.#settle(reply.id);
      entry?.reject(deserializeError(reply.error, entry.stack));
    }
  }

  #fail(err: Error): void {
    if (this.#dead === null) this.#dead = err;
    for (const entry of this.#pending.values()) entry.reject(this.#dead);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#fail(new ArgumentError('the predictor was closed'));
    await this.#worker.terminate();
    await this.#exited;
  }
}

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

class InlineBackend implements Backend {
  readonly #model: Module;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(model: Module) {
    this.#model = model;
  }

  run(input: Float32Array, shape: number[]): Promise<BackendResult> {
    const job = this.#queue.then(async () => ({ output: await this.#runNow(input, shape), input }));
    this.#queue = job.catch(() => undefined);
    return job;
  }

  /** One image at a time (a forward pass on [1, ...]), yielding to the event loop between images. */
  async #runNow(input: Float32Array, shape: number[]): Promise<Tensor> {
    if (this.#closed) throw new ArgumentError('the predictor was closed');
    const n = shape[0]!;
    const rowShape = [1, ...shape.slice(1)];
    const rowSize = n === 0 ? 0 : input.length / n;
    if (n <= 1) return this.#forward(new Tensor(input, shape));
    const outputs: Tensor[] = [];
    for (let i = 0; i < n; i++) {
      await nextTick();
      if (this.#closed) throw new ArgumentError('the predictor was closed');
      const out = this.#forward(new Tensor(input.subarray(i * rowSize, (i + 1) * rowSize), rowShape));
      if (out.shape[0] !== 1) {
        throw new ShapeError(`the model's forward on one image ${formatShape(rowShape)} returned ${formatShape(out.shape)}; expected a leading 1`);
      }
      outputs.push(out);
    }
    const first = outputs[0]!;
    const data = new Float32Array(n * first.size);
    outputs.forEach((o, i) => {
      if (o.size !== first.size) throw new ShapeError(`the model returned ${formatShape(o.shape)} for image ${i} but ${formatShape(first.shape)} for image 0`);
      data.set(o.data, i * first.size);
    });
    return new Tensor(data, [n, ...first.shape.slice(1)]);
  }

  /** A forward pass in eval mode under noGrad; the modules' training flags are restored afterwards. */
  #forward(x: Tensor): Tensor {
    const modules = this.#model.modules();
    const modes = modules.map((m) => m.training);
    this.#model.eval();
    try {
      const out: unknown = noGrad(() => this.#model.forward(x));
      if (!(out instanceof Tensor)) throw new InternalError(`the model's forward returned ${typeof out}, not a Tensor`);
      // Detached copy: the caller must not alias model memory.
      return new Tensor(out.data.slice(), out.shape);
    } finally {
      modules.forEach((m, i) => {
        m.training = modes[i]!;
      });
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
  }
}

function checkClasses(classes: unknown, what: string): readonly string[] | undefined {
  if (classes === undefined) return undefined;
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) throw invalidArgument(what, 'an array of strings', classes);
  return Object.freeze([...(classes as string[])]);
}

/**
 * The indices of `row`'s `keep` largest values, largest first; equal values keep index order, and
 * NaN ranks below every number. One pass keeping a sorted list of `keep` indices, instead of a
 * full sort of every 1,000-class row on the main thread.
 */
export function topIndices(row: Float32Array, keep: number): number[] {
  const best: number[] = [];
  const above = (v: number, i: number): boolean => {
    const w = row[i]!;
    return v > w || (w !== w && v === v);
  };
  for (let j = 0; j < row.length; j++) {
    const v = row[j]!;
    if (best.length === keep && !above(v, best[keep - 1]!)) continue;
    let pos = best.length === keep ? keep - 1 : best.length;
    while (pos > 0 && above(v, best[pos - 1]!)) pos--;
    if (best.length === keep) best.pop();
    best.splice(pos, 0, j);
  }
  return best;
}

/** Runs a model's forward pass on a worker thread (or inline; see the module comment). */
export class Predictor {
  /** `'worker'`, or `'inline'` when the model could not be moved to a worker (see {@link fallbackReason}). */
  readonly mode: PredictorMode;
  /** Why the predictor runs inline (undefined in worker mode or when `inline: true` was asked for). */
  readonly fallbackReason: string | undefined;
  /** Class names, index = logit column (undefined: labels are the indices). */
  readonly classes: readonly string[] | undefined;
  /** The preprocessing images need before {@link predict} (undefined when not given). */
  readonly preprocess: Preprocess | undefined;
  readonly #backend: Backend;
  #closed = false;

  private constructor(backend: Backend, mode: PredictorMode, fallbackReason: string | undefined, options: PredictorOptions) {
    this.#backend = backend;
    this.mode = mode;
    this.fallbackReason = fallbackReason;
    this.classes = checkClasses(options.classes, 'options.classes of Predictor.create()');
    this.preprocess = options.preprocess;
  }

  /**
   * Copies `model` (architecture and a snapshot of its weights) into a new worker thread and waits
   * until the worker has rebuilt it. Falls back to inline execution when the model cannot be
   * serialised or rebuilt there (see the module comment).
   * @throws ArgumentError for bad options; the worker's typed error when loading fails otherwise.
   */
  static async create(model: Module, options: PredictorOptions = {}): Promise<Predictor> {
    if (!(model instanceof Module)) throw invalidArgument('the model of Predictor.create()', 'a Module', model);
    if (options === null || typeof options !== 'object') throw invalidArgument('the options of Predictor.create()', 'an object', options);
    const { threads } = options;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 1024)) {
      throw invalidArgument('options.threads of Predictor.create()', 'an integer in 1..1024', threads);
    }
    checkClasses(options.classes, 'options.classes of Predictor.create()');
    if (options.imports !== undefined && !(Array.isArray(options.imports) && options.imports.every((u) => typeof u === 'string' || u instanceof URL))) {
      throw invalidArgument('options.imports of Predictor.create()', 'an array of module paths or URLs', options.imports);
    }
    if (options.fuse !== undefined && typeof options.fuse !== 'boolean') throw invalidArgument('options.fuse of Predictor.create()', 'a boolean', options.fuse);
    if (options.reuseBuffers !== undefined && typeof options.reuseBuffers !== 'boolean') {
      throw invalidArgument('options.reuseBuffers of Predictor.create()', 'a boolean', options.reuseBuffers);
    }
    if (options.inline === true) return new Predictor(new InlineBackend(model), 'inline', undefined, options);
    let json;
    try {
      json = model.toJSON();
    } catch (err) {
      if (!(err instanceof ArgumentError)) throw err;
      return new Predictor(new InlineBackend(model), 'inline', err.message, options);
    }
    const state: StateEntry[] = [];
    for (const [name, t] of model.stateDict()) state.push({ name, data: t.data.slice(), shape: [...t.shape] });
    const imports = (options.imports ?? []).map((u) => (u instanceof URL ? u.href : /^[a-z][a-z0-9+.-]+:/i.test(u) ? u : pathToFileURL(resolve(u)).href));
    const data: PredictWorkerData = { model: json, state, threads: threads ?? null, imports, fuse: options.fuse ?? true, reuseBuffers: options.reuseBuffers ?? true };
    try {
      const backend = await WorkerBackend.start(data, state.map((e) => e.data.buffer as ArrayBuffer));
      return new Predictor(backend, 'worker', undefined, options);
    } catch (err) {
      if (err instanceof Error && isUnknownModuleType(err)) {
        return new Predictor(new InlineBackend(model), 'inline', `the worker cannot rebuild the model: ${err.message}`, options);
      }
      throw err;
    }
  }

  /**
   * The model's output (logits) for `input` ([N, ...], a batch along dimension 0). Requests queue
   * and run one at a time in call order; the input is copied, so it may be reused at once.
   * @throws the worker's error as the same ConvkitError class (ShapeError for a wrong input shape).
   */
  predict(input: Tensor): Promise<Tensor> {
    if (this.#closed) return Promise.reject(new ArgumentError('predict: the predictor was closed'));
    if (!(input instanceof Tensor)) return Promise.reject(invalidArgument('the input of predict()', 'a Tensor', input));
    if (input.ndim < 1) return Promise.reject(new ShapeError('predict: the input needs a batch dimension; received a 0-d tensor'));
    const stack = new Error().stack;
    const data = this.mode === 'worker' ? input.data.slice() : input.data;
    return this.#backend.run(data, [...input.shape], stack, false).then((r) => r.output);
  }

  /**
   * Softmax probabilities of {@link predict}'s logits ([N, K]), ranked: per row the `topK` classes
   * with their labels.
   * @throws ShapeError when the model does not return [N, K] logits.
   */
  async classify(input: Tensor, options: ClassifyOptions = {}): Promise<Classification[]> {
    const { topK, classes } = this.#classifyOptions(options);
    return this.#rank(await this.predict(input), topK, classes);
  }

  /**
   * @internal predictFolder's batches: {@link classify} of `[N, ...shape]` held in `data`, whose
   * buffer moves to the worker instead of being copied (it is detached here on return) and comes
   * back in `buffer` for the next batch when the worker can hand it back (null otherwise: allocate
   * another).
   */
  async classifyRecycling(data: Float32Array, shape: number[], options: ClassifyOptions = {}): Promise<{ results: Classification[]; buffer: Float32Array | null }> {
    if (this.#closed) throw new ArgumentError('classify: the predictor was closed');
    const { topK, classes } = this.#classifyOptions(options);
    const r = await this.#backend.run(data, [...shape], new Error().stack, true);
    return { results: this.#rank(r.output, topK, classes), buffer: r.input };
  }

  #classifyOptions(options: ClassifyOptions): { topK: number; classes: readonly string[] | undefined } {
    const topK = options.topK ?? 5;
    if (!Number.isInteger(topK) || topK < 1) throw invalidArgument('options.topK of classify()', 'a positive integer', topK);
    return { topK, classes: checkClasses(options.classes, 'options.classes of classify()') ?? this.classes };
  }

  /** Softmax of `logits` ([N, K]), each row's `topK` classes ranked (ties: lower index first). */
  #rank(logits: Tensor, topK: number, classes: readonly string[] | undefined): Classification[] {
    if (logits.ndim !== 2) throw new ShapeError(`classify: the model returned ${formatShape(logits.shape)}; expected [N, classes] logits`);
    const [n, k] = logits.shape as [number, number];
    if (classes !== undefined && classes.length !== k) {
      throw new ShapeError(`classify: the model has ${k} output classes but ${classes.length} class names were given`);
    }
    const probs = noGrad(() => softmax(logits, { dim: 1 })).data;
    const keep = Math.min(topK, k);
    const out: Classification[] = [];
    for (let r = 0; r < n; r++) {
      const row = probs.subarray(r * k, (r + 1) * k);
      out.push({ topK: topIndices(row, keep).map((index) => ({ label: classes?.[index] ?? String(index), index, probability: row[index]! })) });
    }
    return out;
  }

  /** Stops the worker; pending requests reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#backend.close();
  }
}
