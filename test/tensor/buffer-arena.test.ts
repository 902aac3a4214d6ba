// BufferArena (lib/tensor/buffer-arena.ts): the ops' output buffers of one run are handed out again
// in the next. Checked: reuse by request order and size, zero-filled `allocate`, the byte cap,
// detached buffers replaced, nesting, and a whole model's outputs unchanged by reuse (to 1e-5 of
// the largest output) (a kernel that
// left part of an `allocateUninitialized` output unwritten would show the previous run's values).
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../lib/autograd/grad-mode.js';
import * as F from '../../lib/functional/index.js';
import * as models from '../../lib/models/index.js';
import { BufferArena, allocate, allocateUninitialized } from '../../lib/tensor/buffer-arena.js';
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
