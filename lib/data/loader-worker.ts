/**
 * The DataLoader's worker thread: rebuilds the dataset and the transform from their specs
 * (`workerData`), then answers `{ id, epoch, indices }` messages with a packed batch, its pixel
 * buffer transferred (not copied). An error outside a sample (there should be none) is sent back
 * as `{ id, error }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runBatch } from './batch-job.js';
import { datasetFromSpec, type DatasetSpec } from './spec.js';
import { buildPipeline } from './transforms/build.js';
import type { ImageShape, TransformSpec } from './transforms/types.js';

/** What the loader passes as `workerData`. */
export interface LoaderWorkerData {
  dataset: DatasetSpec;
  transform: TransformSpec[];
  seed: number | bigint;
  outShape: ImageShape;
}

/** A request to the worker. */
export interface LoaderWorkerTask {
  id: number;
  epoch: number;
  indices: number[];
}

if (parentPort !== null) {
  const port = parentPort;
  const init = workerData as LoaderWorkerData;
  const dataset = datasetFromSpec(init.dataset);
  const transform = init.transform.length > 0 ? buildPipeline(init.transform) : null;
  port.on('message', (task: LoaderWorkerTask) => {
    runBatch(dataset, transform, init.seed, task.epoch, task.indices, init.outShape).then(
      (result) => port.postMessage({ id: task.id, result }, [result.data.buffer as ArrayBuffer]),
      (err: unknown) => port.postMessage({ id: task.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
    );
  });
}
