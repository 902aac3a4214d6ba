/**
 * `predict(model, input)`: the one-call form of {@link Predictor}. The first call for a model
 * starts a worker holding a **snapshot** of the model's weights taken at that moment; later calls
 * reuse it. Changing the model's parameters afterwards (training, loadStateDict) does not reach the
 * snapshot: call {@link releasePredictor} to drop it (the next call snapshots again), or use
 * {@link predictor} / `Predictor.create` for explicit control. Cached predictors are keyed weakly
 * by model and their idle workers do not keep the process alive.
 */
import { invalidArgument } from '../errors.js';
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { Predictor, type PredictorOptions } from './predictor.js';

const cache = new WeakMap<Module, Promise<Predictor>>();

/**
 * The cached {@link Predictor} of `model`, created on first use with `options` (later calls
 * return the same predictor and ignore `options`).
 */
export function predictor(model: Module, options: PredictorOptions = {}): Promise<Predictor> {
  if (!(model instanceof Module)) return Promise.reject(invalidArgument('the model of predictor()', 'a Module', model));
  let p = cache.get(model);
  if (p === undefined) {
    p = Predictor.create(model, options);
    cache.set(model, p);
    // A failed start is not cached: the next call tries again.
    p.catch(() => {
      if (cache.get(model) === p) cache.delete(model);
    });
  }
  return p;
}

/**
 * The model's output (logits) for `input` ([N, ...]), computed off the main thread by the cached
 * predictor (see the module comment for the snapshot it holds).
 */
export async function predict(model: Module, input: Tensor): Promise<Tensor> {
  return (await predictor(model)).predict(input);
}

/** Closes and forgets `model`'s cached predictor, if any; the next {@link predict} snapshots the weights again. */
export async function releasePredictor(model: Module): Promise<void> {
  const p = cache.get(model);
  if (p === undefined) return;
  cache.delete(model);
  try {
    await (await p).close();
  } catch {
    // It never started: nothing to close.
  }
}
