/**
 * Classification metrics on logits [N, K] and integer targets, and a running average over an
 * epoch. Ranking rule (deterministic, as an argmax that picks the first maximum): class j ranks
 * above the target t when `logit[j] > logit[t]`, or when they are equal and `j < t`. A sample is
 * top-k correct when fewer than k classes rank above its target; with k ≥ K every sample is.
 * A NaN target logit is never correct.
 */
import { ShapeError, invalidArgument } from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';

/** The metrics `fit` can report. */
export type MetricName = 'loss' | 'accuracy' | 'top5';

/**
 * How many of the N samples have their target among the `k` highest logits (see the module
 * comment for ties).
 * @throws ShapeError when logits are not [N, K] with N = target.length; ArgumentError for k < 1
 *   or a target outside [0, K).
 */
export function topKCorrect(logits: Tensor, target: Int32Array | readonly number[], k: number): number {
  if (!Number.isInteger(k) || k < 1) throw invalidArgument('k of topKCorrect()', 'an integer >= 1', k);
  if (logits.ndim !== 2 || logits.shape[0] !== target.length) {
    throw new ShapeError(`topKCorrect: expected logits of shape [N, K] with N = ${target.length} targets but received [${logits.shape.join(', ')}]`);
  }
  const n = logits.shape[0] as number;
  const classes = logits.shape[1] as number;
  const x = logits.data;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = target[i] as number;
    if (!Number.isInteger(t) || t < 0 || t >= classes) throw invalidArgument(`target[${i}] of topKCorrect()`, `a class index in [0, ${classes})`, t);
    const row = i * classes;
    const v = x[row + t] as number;
    if (Number.isNaN(v)) continue;
    let above = 0;
    for (let j = 0; j < classes && above < k; j++) {
      const u = x[row + j] as number;
      if (u > v || (u === v && j < t) || Number.isNaN(u)) above++;
    }
    if (above < k) correct++;
  }
  return correct;
}

/** Top-1 accuracy of logits [N, K] against targets, in [0, 1] (NaN for N = 0). */
export function accuracy(logits: Tensor, target: Int32Array | readonly number[]): number {
  return topKCorrect(logits, target, 1) / target.length;
}

/** Top-k accuracy (default k = 5), in [0, 1] (NaN for N = 0). */
export function topKAccuracy(logits: Tensor, target: Int32Array | readonly number[], k = 5): number {
  return topKCorrect(logits, target, k) / target.length;
}

/** Sums over an epoch: sample-weighted loss, top-1 and top-5 hits. Plain JSON, for checkpoints. */
export interface MetricSums {
  samples: number;
  lossSum: number;
  correct: number;
  correct5: number;
}

/** Empty sums. */
export function emptySums(): MetricSums {
  return { samples: 0, lossSum: 0, correct: 0, correct5: 0 };
}

/** Adds one batch (its mean loss, logits and targets) to `sums`. */
export function accumulate(sums: MetricSums, loss: number, logits: Tensor, target: Int32Array, top5: boolean): void {
  const n = target.length;
  sums.samples += n;
  sums.lossSum += loss * n;
  if (logits.ndim === 2) {
    sums.correct += topKCorrect(logits, target, 1);
    if (top5) sums.correct5 += topKCorrect(logits, target, 5);
  }
}

/** Mean loss, accuracy and top-5 accuracy of the sums (NaN when empty). */
export function summarize(sums: MetricSums): { loss: number; accuracy: number; top5: number } {
  const n = sums.samples;
  return { loss: sums.lossSum / n, accuracy: sums.correct / n, top5: sums.correct5 / n };
}
