/**
 * A small pool of `worker_threads` running loader-worker.js: tasks queue until a worker is idle; a
 * worker is ref'd only while it has a task, so an idle pool that nobody closed does not keep the
 * process alive. A worker that dies fails its task and the pool (later tasks reject too).
 */
import { Worker } from 'node:worker_threads';
import { InternalError } from '../errors.js';
import type { BatchResult } from './batch-job.js';
import type { LoaderWorkerData, LoaderWorkerTask } from './loader-worker.js';

interface Pending {
  task: LoaderWorkerTask;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

/** Worker threads that run batch tasks. */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  readonly #busy = new Map<Worker, Pending>();
  readonly #queue: Pending[] = [];
  #failed: Error | null = null;
  #closed = false;
  #nextId = 0;

  constructor(script: URL, data: LoaderWorkerData, size: number) {
    for (let i = 0; i < size; i++) {
      const w = new Worker(script, { workerData: data });
      w.unref();
      w.on('message', (msg: { id: number; result?: BatchResult; error?: string }) => {
        const p = this.#busy.get(w);
        this.#busy.delete(w);
        if (p !== undefined) {
          if (msg.result !== undefined) p.resolve(msg.result);
          else p.reject(new InternalError(`data loader worker: ${msg.error ?? 'no result'}`));
        }
        this.#dispatch();
      });
      w.on('error', (err: Error) => this.#fail(new InternalError(`data loader worker failed: ${err.message}`)));
      w.on('exit', (code) => {
        if (!this.#closed) this.#fail(new InternalError(`data loader worker exited with code ${code}`));
      });
      this.#workers.push(w);
    }
  }

  #fail(err: Error): void {
    if (this.#failed === null) this.#failed = err;
    for (const p of [...this.#busy.values(), ...this.#queue.splice(0)]) p.reject(err);
    this.#busy.clear();
  }

  #dispatch(): void {
    for (const w of this.#workers) {
      if (this.#busy.has(w)) continue;
      const p = this.#queue.shift();
      if (p === undefined) {
        w.unref();
        continue;
      }
      this.#busy.set(w, p);
      w.ref();
      w.postMessage(p.task);
    }
  }

  /** Runs one batch in a worker. */
  run(epoch: number, indices: number[]): Promise<BatchResult> {
    if (this.#failed !== null) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new InternalError('data loader worker pool is closed'));
    return new Promise<BatchResult>((resolve, reject) => {
      this.#queue.push({ task: { id: this.#nextId++, epoch, indices }, resolve, reject });
      this.#dispatch();
    });
  }

  /** Terminates every worker; pending tasks reject. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const err = new InternalError('data loader closed');
    for (const p of [...this.#busy.values(), ...this.#queue.splice(0)]) p.reject(err);
    this.#busy.clear();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
