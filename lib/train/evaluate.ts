/**
 * `evaluate`: a model's predictions over every batch of a loader, in eval mode without the tape:
 * mean loss, accuracy, top-5, and the predicted and true class of every sample (for confusion
 * matrices and per-class precision/recall). Restores the model's training mode afterwards.
 */
import { noGrad } from '../autograd/grad-mode.js';
import type { BatchSource } from '../data/types.js';
import { crossEntropy } from '../functional/loss.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { topKCorrect } from './metrics.js';

/** What {@link evaluate} returns. */
export interface Evaluation {
  /** Mean cross-entropy over the samples. */
  loss: number;
  accuracy: number;
  top5: number;
  /** Samples evaluated (skipped ones excluded). */
  count: number;
  /** Predicted class of each sample, in loader order. */
  predicted: Int32Array;
  /** True class of each sample, in loader order. */
  target: Int32Array;
}

/** Argmax of each row of [N, C] logits. */
function argmaxRows(logits: Tensor): Int32Array {
  const [n, c] = logits.shape as [number, number];
  const out = new Int32Array(n);
  const d = logits.data;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (d[i * c + j]! > d[i * c + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/** Evaluates `model` on epoch 0 of `source`; see the module comment. */
export async function evaluate(model: Module, source: BatchSource): Promise<Evaluation> {
  const wasTraining = model.training;
  model.eval();
  const predicted: number[] = [];
  const target: number[] = [];
  let lossSum = 0;
  let top5 = 0;
  try {
    for await (const batch of source.batches(0)) {
      noGrad(() => {
        const logits = (model.forward as (x: Tensor) => Tensor)(batch.input);
        lossSum += crossEntropy(logits, batch.target, { reduction: 'sum' }).item();
        const classes = logits.shape[1]!;
        top5 += topKCorrect(logits, batch.target, Math.min(5, classes));
        predicted.push(...argmaxRows(logits));
        target.push(...batch.target);
      });
    }
  } finally {
    model.train(wasTraining);
  }
  const count = target.length;
  let correct = 0;
  for (let i = 0; i < count; i++) if (predicted[i] === target[i]) correct++;
  return {
    loss: count === 0 ? NaN : lossSum / count,
    accuracy: count === 0 ? NaN : correct / count,
    top5: count === 0 ? NaN : top5 / count,
    count,
    predicted: Int32Array.from(predicted),
    target: Int32Array.from(target),
  };
}
