/**
 * The thread behind a {@link Predictor}: `new Worker(new URL('./predict-worker.js', import.meta.url))`.
 * Imports the layer and zoo registries (plus any module URLs the caller listed, for custom
 * registered types), rebuilds the model from `workerData` (moduleFromJSON + loadStateDict), puts
 * it in eval mode, posts `ready`, then answers each {@link PredictRequest} in arrival order with
 * the logits of a forward pass under noGrad. Requests queue on the message port; one runs at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { noGrad } from '../autograd/grad-mode.js';
import { InternalError } from '../errors.js';
// Side-effect imports: the module types a model JSON may name (layers, zoo, imported graphs).
import '../io/onnx/model.js';
import '../io/tfjs/model.js';
import '../models/index.js';
import '../nn/index.js';
import { moduleFromJSON, type Module } from '../nn/module.js';
import { setNumThreads } from '../runtime.js';
import { BufferArena } from '../tensor/buffer-arena.js';
import { Tensor } from '../tensor/tensor.js';
import { fuseForInference } from './fuse.js';
import { serializeError, type PredictRequest, type PredictWorkerData, type WorkerReply } from './protocol.js';

const port = parentPort;
if (port === null) throw new InternalError('predict-worker.js runs only as a worker thread (see Predictor.create)');

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(reply, transfer);
}

async function build(data: PredictWorkerData): Promise<Module> {
  for (const url of data.imports) await import(url);
  if (data.threads !== null) setNumThreads(data.threads);
  const model = moduleFromJSON(data.model);
  model.loadStateDict(new Map(data.state.map((e) => [e.name, new Tensor(e.data, e.shape)])));
  return model.eval();
}

let fusePending = (workerData as PredictWorkerData).fuse;
const arena = (workerData as PredictWorkerData).reuseBuffers ? new BufferArena() : null;

function run(model: Module, req: PredictRequest): void {
  try {
    const input = new Tensor(req.input, req.shape);
    if (fusePending) {
      fusePending = false;
      const rowSize = req.shape.slice(1).reduce((a, b) => a * b, 1);
      // Traced on the first image; a failure leaves the model as it was (fuse.ts undoes itself).
      if (req.shape.length >= 2 && rowSize > 0) fuseForInference(model, new Tensor(req.input.slice(0, rowSize), [1, ...req.shape.slice(1)]));
    }
    // Activations reuse the previous request's buffers (lib/tensor/buffer-arena.ts); the output is
    // copied out before the next request can overwrite it.
    const out: unknown = arena === null ? noGrad(() => model.forward(input)) : arena.run(() => noGrad(() => model.forward(input)));
    if (!(out instanceof Tensor)) throw new InternalError(`the model's forward returned ${typeof out}, not a Tensor`);
    // A copy: the output may share its buffer with the model (an identity layer returning a weight)
    // or with the arena.
    const output = out.data.slice();
    if (req.returnInput === true && arena !== null) {
      post({ type: 'result', id: req.id, output, shape: [...out.shape], input: req.input }, [output.buffer as ArrayBuffer, req.input.buffer as ArrayBuffer]);
    } else {
      post({ type: 'result', id: req.id, output, shape: [...out.shape] }, [output.buffer as ArrayBuffer]);
    }
  } catch (err) {
    post({ type: 'error', id: req.id, error: serializeError(err) });
  }
}

try {
  const model = await build(workerData as PredictWorkerData);
  port.on('message', (req: PredictRequest) => run(model, req));
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'init-error', error: serializeError(err) });
}
