// The binding's second line of defence: calls that bypass the TypeScript checks (wrong types,
// lengths that do not match the sizes, overlapping outputs, out-of-range class indices, overflowing
// sizes) become typed errors, never a crash or an out-of-bounds access.
import { describe, expect, it } from 'vitest';
import { ArgumentError, ShapeError } from '../../lib/index.js';
import { callNative, type NativeAddon } from '../../lib/native.js';

type Fn = (...args: unknown[]) => unknown;

/** Calls the addon's entry point `name` through callNative (typed errors). */
function call(name: string, ...args: unknown[]): unknown {
  return callNative((a: NativeAddon) => ((a as unknown as Record<string, Fn>)[name] as Fn)(...args));
}

const f32 = (n: number): Float32Array => new Float32Array(n);

describe('activation-family binding', () => {
  it('checks kinds, types and lengths of the activations', () => {
    expect(() => call('_activationForward', 7, 0, f32(4), f32(4))).toThrow(ArgumentError);
    expect(() => call('_activationForward', 7, 0, f32(4), f32(4))).toThrow('Expected integer in 0..6 for kind but received 7');
    expect(() => call('_activationForward', 0, 0, [1, 2], f32(2))).toThrow('Expected Float32Array for x');
    expect(() => call('_activationForward', 0, 0, f32(4), f32(3))).toThrow(ShapeError);
    expect(() => call('_activationForward', 0, 0, f32(4), f32(3))).toThrow('_activationForward: y has 3 elements, expected 4');
    expect(() => call('_activationBackward', 3, 0, f32(4), f32(4), f32(5))).toThrow('_activationBackward: dx has 5 elements, expected 4');
    expect(() => call('_activationForward', 0, 0, f32(4))).toThrow('_activationForward: expected 4 arguments, received 3');
  });

  it('rejects outputs that overlap an input', () => {
    const buf = f32(8);
    expect(() => call('_activationForward', 0, 0, buf.subarray(0, 4), buf.subarray(2, 6))).toThrow(
      '_activationForward: y overlaps x',
    );
    expect(() => call('_softmaxBackward', false, 1, 4, 1, f32(4), buf.subarray(0, 4), buf.subarray(3, 7))).toThrow(
      '_softmaxBackward: dx overlaps dy',
    );
    // Adjacent, not overlapping: fine.
    expect(() => call('_activationForward', 0, 0, buf.subarray(0, 4), buf.subarray(4, 8))).not.toThrow();
  });

  it('checks softmax sizes, including overflow', () => {
    expect(() => call('_softmaxForward', false, 2, 3, 4, f32(24), f32(23))).toThrow('_softmaxForward: y has 23 elements, expected 24');
    expect(() => call('_softmaxForward', false, 2 ** 40, 2 ** 40, 1, f32(1), f32(1))).toThrow('_softmaxForward: sizes overflow');
    expect(() => call('_softmaxForward', false, -1, 3, 4, f32(24), f32(24))).toThrow(ArgumentError);
  });

  it('validates class losses before touching memory', () => {
    const logits = f32(6);
    const stats = f32(4);
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0, 9), null, null, -100, 0, stats, null)).toThrow(
      'cross_entropy: class index 9 at position 1 is out of range for 3 classes (ignore_index is -100)',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0, 1), f32(6), null, -100, 0, stats, null)).toThrow(
      '_crossEntropyForward: pass exactly one of target and probs',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, f32(2), null, null, -100, 0, stats, null)).toThrow(
      'Expected Int32Array for target',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0), null, null, -100, 0, stats, null)).toThrow(
      '_crossEntropyForward: target has 1 elements, expected 2',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0, 1), null, f32(2), -100, 0, stats, null)).toThrow(
      '_crossEntropyForward: weight has 2 elements, expected 3',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0, 1), null, null, -100, 2, stats, null)).toThrow(
      'cross_entropy: label_smoothing must be in [0, 1], got 2.000000',
    );
    expect(() => call('_crossEntropyForward', 2, 3, 1, logits, Int32Array.of(0, 1), null, null, 2 ** 40, 0, stats, null)).toThrow(
      'Expected a 32-bit integer for ignoreIndex',
    );
    expect(() => call('_nllLossBackward', 2, 3, 1, Int32Array.of(0, 5), null, -100, null, 1, f32(6))).toThrow(
      'nll_loss: class index 5 at position 1 is out of range for 3 classes (ignore_index is -100)',
    );
    expect(() => call('_crossEntropyBackward', 2, 3, 1, logits, Int32Array.of(0, 1), null, null, -100, 0, stats, null, 1, f32(6), f32(6))).toThrow(
      '_crossEntropyBackward: dprobs needs probs',
    );
    // A mean over zero weight passes an infinite scale: accepted.
    expect(() => call('_crossEntropyBackward', 2, 3, 1, logits, Int32Array.of(0, 1), null, null, -100, 0, stats, null, Infinity, f32(6), null)).not.toThrow();
  });

  it('checks pointwise losses', () => {
    expect(() => call('_pointwiseLossForward', 3, f32(2), f32(2), 1, null, null, null)).toThrow('Expected integer in 0..2 for kind but received 3');
    expect(() => call('_pointwiseLossForward', 0, f32(2), f32(3), 1, null, null, null)).toThrow('_pointwiseLossForward: target has 3 elements, expected 2');
    expect(() => call('_pointwiseLossForward', 0, f32(2), f32(2), 1, f32(2), null, null)).toThrow(
      '_pointwiseLossForward: weight and posWeight apply to BCE only',
    );
    expect(() => call('_pointwiseLossForward', 1, f32(2), f32(2), -1, null, null, null)).toThrow(
      'smooth_l1_loss: beta must be a finite number >= 0, got -1.000000',
    );
    const x = f32(4);
    expect(() => call('_pointwiseLossBackward', 0, x, f32(4), 1, null, null, null, 1, x, null)).toThrow(
      '_pointwiseLossBackward: dinput overlaps input',
    );
    expect(call('_pointwiseLossForward', 0, Float32Array.of(1, 2), Float32Array.of(0, 0), 1, null, null, null)).toEqual([5, 2]);
  });
});
