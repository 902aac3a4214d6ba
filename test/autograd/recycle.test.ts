// The reverse sweep hands the intermediate gradient buffers it has finished with to later
// allocations (lib/tensor/recycled-buffers.ts). These cases check that it recycles something, and
// that nothing still visible to the caller is ever handed out again: leaf gradients (adopted or
// accumulated), retained non-leaf gradients, the caller's seed, gradients that two inputs share
// (add, a residual branch), views of the incoming gradient (reshape, split), and whatever a custom
// op's backward function saw. Every buffer
// recycled is then overwritten with NaN through the allocator, and the gradients must still equal
// those of a first pass copied before the overwrite (exactly: the same kernels on the same inputs).
import { afterEach, describe, expect, it } from 'vitest';
import { F, Generator, Tensor, randn, record } from '../../lib/index.js';
import { allocateUninitialized } from '../../lib/tensor/shape.js';
import { recycledBytes, releaseRecycledBuffers } from '../../lib/tensor/recycled-buffers.js';

type T = InstanceType<typeof Tensor>;

/** Takes every recycled buffer of these sizes and fills it with NaN (as a later op's output would). */
function poisonRecycled(sizes: number[]): number {
  let taken = 0;
  const keep: Float32Array[] = [];
  for (let round = 0; round < 64 && recycledBytes() > 0; round++) {
    for (const n of sizes) {
      const before = recycledBytes();
      const b = allocateUninitialized(n, 'test');
      if (recycledBytes() < before) taken++;
      b.fill(Number.NaN);
      keep.push(b);
    }
  }
  return taken;
}

function params(gen: Generator) {
  return {
    w1: randn([8, 3, 3, 3], { generator: gen }).requiresGrad_(),
    b1: randn([8], { generator: gen }).requiresGrad_(),
    w2: randn([8, 8, 3, 3], { generator: gen }).requiresGrad_(),
    fc: randn([10, 8 * 6 * 6], { generator: gen }).requiresGrad_(),
  };
}

/** conv - relu - conv with a residual add - split/cat - linear: gradients shared, viewed and summed. */
function model(p: ReturnType<typeof params>, x: T): { loss: T; hidden: T } {
  const h = F.relu(F.conv2d(x, p.w1, p.b1, { padding: 1 }));
  h.retainGrad();
  const r = F.add(F.conv2d(h, p.w2, null, { padding: 1 }), h);
  const [a, b] = F.split(r, 4, { dim: 1 });
  const pooled = F.maxPool2d(F.cat([b!, a!], { dim: 1 }), { kernelSize: 2 });
  const logits = F.linear(pooled.reshape([x.shape[0]!, 8 * 6 * 6]), p.fc);
  return { loss: F.crossEntropy(logits, Int32Array.from([1, 7, 3])), hidden: h };
}

afterEach(() => releaseRecycledBuffers());

describe('gradient buffer recycling', () => {
  it('recycles intermediate gradients and never hands out one the caller can still see', () => {
    const x = randn([3, 3, 12, 12], { generator: new Generator(3) });
    const first = params(new Generator(5));
    const run1 = model(first, x);
    run1.loss.backward();
    const want = {
      w1: first.w1.grad!.data.slice(),
      b1: first.b1.grad!.data.slice(),
      w2: first.w2.grad!.data.slice(),
      fc: first.fc.grad!.data.slice(),
      hidden: run1.hidden.grad!.data.slice(),
    };
    releaseRecycledBuffers();

    const second = params(new Generator(5));
    const run2 = model(second, x);
    run2.loss.backward();
    expect(recycledBytes()).toBeGreaterThan(0);
    const sizes = [3 * 8 * 12 * 12, 3 * 4 * 12 * 12, 3 * 8 * 6 * 6, 3 * 10, 8 * 8 * 9, 8 * 27, 10 * 288, 8];
    expect(poisonRecycled(sizes)).toBeGreaterThan(0);
    expect(Array.from(second.w1.grad!.data)).toEqual(Array.from(want.w1));
    expect(Array.from(second.b1.grad!.data)).toEqual(Array.from(want.b1));
    expect(Array.from(second.w2.grad!.data)).toEqual(Array.from(want.w2));
    expect(Array.from(second.fc.grad!.data)).toEqual(Array.from(want.fc));
    expect(Array.from(run2.hidden.grad!.data)).toEqual(Array.from(want.hidden));
  });

  it('keeps the seed of backward(gradOutput) and a gradient shared by two leaves', () => {
    const gen = new Generator(9);
    const a = randn([64], { generator: gen }).requiresGrad_();
    const b = randn([64], { generator: gen }).requiresGrad_();
    const seed = randn([64], { generator: gen });
    const seedCopy = seed.data.slice();
    // add's backward returns the incoming gradient for both inputs: neither leaf may adopt it.
    const y = F.add(a, b).mul(a);
    y.backward(seed);
    poisonRecycled([64]);
    expect(Array.from(seed.data)).toEqual(Array.from(seedCopy));
    for (let i = 0; i < 64; i++) {
      const s = seedCopy[i]!;
      expect(b.grad!.data[i]).toBeCloseTo(s * a.data[i]!, 5);
      expect(a.grad!.data[i]).toBeCloseTo(s * (2 * a.data[i]! + b.data[i]!), 4);
    }
  });

  it('accumulates over two backward passes without recycling the accumulated gradient', () => {
    const gen = new Generator(13);
    const w = randn([4, 16], { generator: gen }).requiresGrad_();
    const x = randn([5, 16], { generator: gen });
    F.relu(F.linear(x, w)).sum().backward();
    const once = w.grad!.data.slice();
    poisonRecycled([80, 64, 20]);
    F.relu(F.linear(x, w)).sum().backward();
    poisonRecycled([80, 64, 20]);
    for (let i = 0; i < once.length; i++) expect(w.grad!.data[i]).toBeCloseTo(2 * once[i]!, 5);
  });

  it("never recycles what a custom op's backward saw (it may keep it)", () => {
    const gen = new Generator(17);
    const w = randn([32], { generator: gen }).requiresGrad_();
    const seen: T[] = [];
    // A custom identity that logs the gradients flowing through it, as a user's debugging op would.
    const logged = (t: T): T =>
      record('logged', new Tensor(t.data.slice(), t.shape), [t], (g) => {
        const out = g.mul(1);
        seen.push(g, out);
        return [out];
      });
    F.relu(logged(w.mul(3))).mul(w).sum().backward();
    const copies = seen.map((t) => t.data.slice());
    poisonRecycled([32]);
    seen.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(copies[i]!)));
  });
});
