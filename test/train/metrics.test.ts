// Accuracy and top-k against hand-checked cases (ties, k >= classes, NaN).
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/index.js';
import { accuracy, topKAccuracy, topKCorrect } from '../../lib/train/index.js';

const logits = new Tensor(
  new Float32Array([
    // sample 0: ranks 2 > 0 > 1 > 3 > 4 > 5
    0.5, 0.1, 0.9, 0.0, -1, -2,
    // sample 1: ranks 5 > 4 > 3 > 2 > 1 > 0
    0, 1, 2, 3, 4, 5,
    // sample 2: all equal: the rank is the class index
    1, 1, 1, 1, 1, 1,
    // sample 3: NaN target logit
    0, NaN, 0, 0, 0, 0,
  ]),
  [4, 6],
);

describe('metrics', () => {
  it('top-1: only sample 0 with target 2 hits', () => {
    expect(topKCorrect(logits, [2, 5, 0, 1], 1)).toBe(3); // 0: 2 is argmax; 1: 5 is argmax; 2: tie -> first (0)
    expect(topKCorrect(logits, [0, 4, 1, 1], 1)).toBe(0);
    expect(accuracy(logits, Int32Array.from([2, 0, 0, 1]))).toBe(0.5);
  });

  it('top-5 by hand', () => {
    // sample 0 target 5 is rank 6 (miss); sample 1 target 1 is rank 5 (hit); sample 2 target 5 rank 6 (miss), target 4 rank 5 (hit); NaN misses
    expect(topKCorrect(logits, [5, 1, 5, 1], 5)).toBe(1);
    expect(topKCorrect(logits, [3, 1, 4, 1], 5)).toBe(3);
    expect(topKCorrect(logits, [3, 1, 4, 0], 5)).toBe(4); // sample 3, target 0: the NaN class ranks above it, still top-5
    expect(topKAccuracy(logits, [3, 1, 4, 1])).toBe(0.75);
  });

  it('k >= classes: every (non-NaN) sample is correct', () => {
    const small = new Tensor(new Float32Array([3, 1, 2, 0, 0, 9]), [2, 3]);
    expect(topKCorrect(small, [1, 0], 5)).toBe(2);
    expect(topKCorrect(small, [1, 0], 2)).toBe(1);
  });

  it('rejects bad shapes and targets', () => {
    expect(() => topKCorrect(logits, [0, 1], 1)).toThrow(/N = 2 targets but received \[4, 6\]/);
    expect(() => topKCorrect(logits, [0, 1, 2, 6], 1)).toThrow(/a class index in \[0, 6\)/);
  });
});
