// BufferArena (lib/tensor/buffer-arena.ts): the ops' output buffers of one run are handed out again
// in the next. Checked: reuse by request order and size, zero-filled `allocate`, the byte cap,
// detached buffers replaced, nesting, buffers released within a run (Sequential, releaseDead) and
// handed out again without touching live tensors, and a whole model's outputs unchanged by reuse
// (to 1e-5 of the largest output) (a kernel that left part of an `allocateUninitialized` output
// unwritten would show the previous run's values).
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import * as F from '../../lib/functional/index.js';
import * as models from '../../lib/models/index.js';
import { Flatten, Identity, Linear, ReLU, Sequential } from '../../lib/nn/layers/index.js';
import { BufferArena, allocate, allocateUninitialized, releaseDead } from '../../lib/tensor/buffer-arena.js';
import { manualSeed, randn } from '../../lib/tensor/random.js';
import type { Tensor } from '../../lib/tensor/tensor.js';

describe('BufferArena', () => {
  it('the k-th request of a size gets the same buffer in every run; distinct within a run', () => {
    const arena = new BufferArena();
    const first = arena.run(() => [allocateUninitialized(10, 't'), allocateUninitialized(10, 't'), allocateUninitialized(7, 't')]);
    const second = arena.run(() => [allocateUninitialized(10, 't'), allocateUninitialized(7, 't'), allocateUninitialized(10, 't')]);
    expect(first[0]).not.toBe(first[1]);
    expect(second[0]).toBe(first[0]);
    expect(second[2]).toBe(first[1]);
    expect(second[1]).toBe(first[2]);
    expect(arena.bytes).toBe((10 + 10 + 7) * 4);
    // Outside a run, allocations are fresh.
    expect(allocateUninitialized(10, 't')).not.toBe(first[0]);
  });

  it('allocate() is zero-filled even when the buffer is reused', () => {
    const arena = new BufferArena();
    const a = arena.run(() => allocate(64, 't').fill(7));
    const b = arena.run(() => allocate(64, 't'));
    expect(b).toBe(a);
    expect(Array.from(b).every((v) => v === 0)).toBe(true);
  });

  it('requests past maxBytes get ordinary buffers that are not kept', () => {
    const arena = new BufferArena(100);
    const [a, b] = arena.run(() => [allocateUninitialized(20, 't'), allocateUninitialized(20, 't')]);
    expect(arena.bytes).toBe(80);
    const [c, d] = arena.run(() => [allocateUninitialized(20, 't'), allocateUninitialized(20, 't')]);
    expect(c).toBe(a);
    expect(d).not.toBe(b);
    expect(d.length).toBe(20);
  });

  it('a buffer transferred away (detached) is replaced', () => {
    const arena = new BufferArena();
    const a = arena.run(() => allocateUninitialized(16, 't'));
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    expect(a.length).toBe(0);
    const b = arena.run(() => allocateUninitialized(16, 't'));
    expect(b.length).toBe(16);
    expect(arena.run(() => allocateUninitialized(16, 't'))).toBe(b);
    expect(arena.bytes).toBe(64);
  });

  it('a nested run serves from the outer arena', () => {
    const outer = new BufferArena();
    const inner = new BufferArena();
    outer.run(() => inner.run(() => allocateUninitialized(5, 't')));
    expect(outer.bytes).toBe(20);
    expect(inner.bytes).toBe(0);
  });

  it('a buffer released in a run goes to the next request of its size; others are not touched', () => {
    const arena = new BufferArena();
    arena.run(() => {
      const a = allocateUninitialized(32, 't');
      const b = allocateUninitialized(32, 't');
      const t = (data: Float32Array) => ({ data }) as unknown as Tensor;
      releaseDead(t(a), t(b));
      expect(allocateUninitialized(32, 't')).toBe(a);
      // Shared with a live tensor: kept.
      releaseDead(t(b), t(b.subarray(4)));
      expect(allocateUninitialized(32, 't')).not.toBe(b);
      // Memory the arena did not hand out is ignored.
      const outside = new Float32Array(32);
      releaseDead(t(outside), t(a));
      expect(allocateUninitialized(32, 't')).not.toBe(outside);
    });
    expect(arena.bytes).toBe(4 * 32 * 4);
  });

  it('Sequential hands back each intermediate once consumed, never its input or a view of its output', () => {
    manualSeed(4);
    const net = new Sequential(new Linear(64, 64), new ReLU(), new Linear(64, 64), new Identity(), new ReLU(), new Flatten()).eval();
    const x = randn([8, 64]);
    const want = noGrad(() => net.forward(F.relu(x))).data.slice();
    const arena = new BufferArena();
    for (let run = 0; run < 2; run++) {
      const out = arena.run(() => {
        // The input itself comes from the run, as a block's input inside a model does.
        const input = noGrad(() => F.relu(x));
        const before = input.data.slice();
        const y = noGrad(() => net.forward(input));
        expect(Array.from(input.data)).toEqual(Array.from(before));
        return y.data.slice();
      });
      expect(Array.from(out)).toEqual(Array.from(want));
    }
    // Without releases the run would hold six 512-float buffers (the input and five outputs).
    expect(arena.bytes).toBeLessThanOrEqual(4 * 512 * 4);
  });

  it.each([
    ['resnet18', () => models.resnet18({ numClasses: 10 }), [3, 3, 40, 40]],
    ['mobilenetV2', () => models.mobilenetV2({ numClasses: 10, widthMult: 0.5 }), [3, 3, 40, 40]],
    ['googlenet', () => models.googlenet({ numClasses: 10, auxLogits: false }), [2, 3, 48, 48]],
  ] as const)('%s: a second input through reused buffers gives its own output', (_name, build, shape) => {
    manualSeed(3);
    const model = build().eval();
    const x1 = randn([...shape]);
    const x2 = F.relu(randn([...shape]));
    const plain = noGrad(() => model.forward(x2) as Tensor).data.slice();
    const arena = new BufferArena();
    arena.run(() => noGrad(() => model.forward(x1)));
    const reused = arena.run(() => noGrad(() => model.forward(x2) as Tensor).data.slice());
    expect(arena.bytes).toBeGreaterThan(0);
    // Equal up to float reassociation (a kernel may pick another SIMD path for another alignment);
    // a stale value from the first run would be off by the size of the outputs themselves.
    const scale = Math.max(...Array.from(plain, Math.abs));
    const err = Math.max(...Array.from(plain, (v, i) => Math.abs(v - reused[i]!)));
    expect(err).toBeLessThanOrEqual(1e-5 * scale);
  });
});
