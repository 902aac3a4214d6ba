// Every differentiable op of the tensor library and of F's shape/linear family against central
// finite differences (gradcheck, float32: eps 1e-2, atol 1e-2, rtol 1e-2 unless stated), plus the
// tape's contract for each: frozen operands (requiresGrad false) get no gradient and their gradient
// is not computed (the GEMM calls of backward are counted), and gradients are not copied needlessly.
import { describe, expect, it, vi } from 'vitest';

const gemmCalls: Array<{ transA: boolean; transB: boolean; m: number; n: number; k: number }> = [];
vi.mock('../../lib/ops/gemm.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../lib/ops/gemm.js')>();
  return {
    ...original,
    gemm: (opts: Parameters<typeof original.gemm>[0]) => {
      gemmCalls.push({ transA: opts.transA ?? false, transB: opts.transB ?? false, m: opts.m, n: opts.n, k: opts.k });
      original.gemm(opts);
    },
  };
});

const ck = await import('../../lib/index.js');
const { F, Generator, Tensor, gradcheck, randn, record, tensor } = ck;
type T = InstanceType<typeof Tensor>;

const gen = new Generator(11);
function leaf(shape: number[]): T {
  return randn(shape, { generator: gen }).requiresGrad_();
}
/** Values with |v| >= margin (no kinks or ties within eps of them). */
function away(shape: number[], margin = 0.3): T {
  const t = randn(shape, { generator: gen });
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i] as number;
    t.data[i] = v >= 0 ? v + margin : v - margin;
  }
  return t.requiresGrad_();
}
function positive(shape: number[]): T {
  const t = randn(shape, { generator: gen });
  for (let i = 0; i < t.size; i++) t.data[i] = Math.abs(t.data[i] as number) + 0.5;
  return t.requiresGrad_();
}
/** Distinct values spaced 0.1 apart in random order (max has no ties within eps). */
function distinct(shape: number[]): T {
  const t = randn(shape, { generator: gen });
  const order = Array.from(t.data, (v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  order.forEach(([, i], rank) => {
    t.data[i] = rank * 0.1 - 1;
  });
  return t.requiresGrad_();
}

function check(fn: (...xs: T[]) => T, inputs: T[], options?: Parameters<typeof gradcheck>[2]): void {
  const r = gradcheck(fn, inputs, options);
  expect(r.ok, `worst ${r.worst}: ${JSON.stringify(r.mismatches)}`).toBe(true);
  expect(r.checked).toBeGreaterThan(0);
}

describe('gradcheck: tensor library', () => {
  it('add, sub, mul, div with broadcasting (both operands)', () => {
    check((a, b) => ck.add(a, b), [leaf([2, 3, 4]), leaf([3, 1])]);
    check((a, b) => ck.sub(a, b), [leaf([4]), leaf([2, 3, 4])]);
    check((a, b) => ck.mul(a, b), [leaf([2, 1, 4]), leaf([3, 1])]);
    check((a, b) => ck.div(a, b), [leaf([2, 3, 4]), away([3, 1], 0.8)]);
    check((a, b) => ck.div(a, b), [leaf([]), away([2, 3], 0.8)]);
    check((a) => ck.div(2, a), [away([5], 0.8)]);
  });

  it('sum, mean, max over all elements and over axes', () => {
    for (const axis of [null, 1, [0, 2]] as const) {
      check((x) => ck.sum(x, axis), [leaf([3, 4, 2])]);
      check((x) => ck.mean(x, axis, { keepdim: true }), [leaf([3, 4, 2])]);
      check((x) => ck.max(x, axis), [distinct([3, 4, 2])]);
    }
  });

  it('matmul in every torch.matmul case, including broadcast batches', () => {
    const shapes: Array<[number[], number[]]> = [
      [[3, 4], [4, 5]], [[4], [4]], [[4], [4, 3]], [[3, 4], [4]], [[2, 3, 4], [4, 5]], [[3, 4], [2, 4, 5]],
      [[2, 3, 4], [2, 4, 5]], [[1, 3, 4], [2, 4, 5]], [[2, 1, 3, 4], [3, 4, 2]], [[4], [2, 4, 3]], [[2, 3, 4], [4]],
    ];
    for (const [sa, sb] of shapes) check((a, b) => ck.matmul(a, b), [leaf(sa), leaf(sb)]);
  });

  it('layout ops: reshape, view, flatten, squeeze, unsqueeze, transpose, permute, T, clone, expand', () => {
    check((x) => x.reshape([4, -1]), [leaf([2, 3, 4])]);
    check((x) => x.view(6, 4), [leaf([2, 3, 4])]);
    check((x) => x.flatten(1), [leaf([2, 3, 4])]);
    check((x) => x.squeeze(), [leaf([2, 1, 3, 1])]);
    check((x) => x.unsqueeze(1), [leaf([2, 3])]);
    check((x) => x.transpose(0, 2), [leaf([2, 3, 4])]);
    check((x) => x.permute(2, 0, 1), [leaf([2, 3, 4])]);
    check((x) => x.T, [leaf([3, 5])]);
    check((x) => x.clone(), [leaf([3, 5])]);
    check((x) => x.expand(2, 3, 4), [leaf([3, 1])]);
    check((x) => x.expand([3, -1]), [leaf([4])]);
  });

  it('unary ops: neg, abs, exp, log, sqrt, pow', () => {
    check((x) => x.neg(), [leaf([3, 4])]);
    check((x) => x.abs(), [away([3, 4])]);
    check((x) => x.exp(), [leaf([3, 4])]);
    check((x) => x.log(), [positive([3, 4])]);
    check((x) => x.sqrt(), [positive([3, 4])]);
    for (const p of [2, 3, 0.5, -1.5, 0]) check((x) => x.pow(p), [positive([3, 4])]);
  });
});

describe('gradcheck: F shape and linear ops', () => {
  it('linear with and without bias, any leading dims', () => {
    check((x, w, b) => F.linear(x, w, b), [leaf([5, 7]), leaf([3, 7]), leaf([3])]);
    check((x, w, b) => F.linear(x, w, b), [leaf([2, 3, 7]), leaf([4, 7]), leaf([4])]);
    check((x, w) => F.linear(x, w), [leaf([7]), leaf([3, 7])]);
  });

  it('flatten, add, cat, split', () => {
    check((x) => F.flatten(x, { startDim: 1 }), [leaf([2, 3, 4])]);
    check((a, b) => F.add(a, b), [leaf([2, 3, 4, 4]), leaf([3, 1, 1])]);
    check((a, b, c) => F.cat([a, b, c], { dim: 1 }), [leaf([2, 3, 2]), leaf([2, 1, 2]), leaf([2, 2, 2])]);
    check((a, b) => F.cat([a, b]), [leaf([2, 3]), leaf([1, 3])]);
    const joined = (pieces: T[]) => F.cat(pieces.map((p, i) => ck.mul(p.reshape([-1]), i + 1)));
    check((x) => joined(F.split(x, 2, { dim: 1 })), [leaf([2, 5, 3])]);
    check((x) => joined(F.split(x, [1, 3])), [leaf([4, 3])]);
  });

  it('pad: constant (any dims, negative pads), reflect and replicate (1-3 dims)', () => {
    check((x) => F.pad(x, [1, 2]), [leaf([2, 3, 4])]);
    check((x) => F.pad(x, [1, -1, 2, 0, 1, 1], { value: 0.5 }), [leaf([2, 3, 4])]);
    for (const mode of ['reflect', 'replicate'] as const) {
      check((x) => F.pad(x, [2, 1], { mode }), [leaf([2, 3, 4])]);
      check((x) => F.pad(x, [1, 2, 2, 1], { mode }), [leaf([1, 2, 3, 4])]);
      check((x) => F.pad(x, [1, 1, 2, 1, 1, 2], { mode }), [leaf([2, 3, 4, 3])]);
      check((x) => F.pad(x, [-1, 2], { mode }), [leaf([2, 4])]);
    }
  });

  it('embedding (repeated indices, paddingIdx)', () => {
    const idx = tensor([[1, 3, 3], [4, 0, 3]]);
    check((w) => F.embedding(idx, w), [leaf([5, 4])]);
    // The paddingIdx row gets no gradient by definition (as in PyTorch), though it does change the
    // output; every other row matches finite differences.
    const w = leaf([5, 4]);
    const r = gradcheck((v) => F.embedding(idx, v, { paddingIdx: 3 }), [w]);
    expect(r.mismatches.map((m) => Math.floor(m.index / 4))).toEqual([3, 3, 3, 3]);
    expect([...(w.grad as T).data.subarray(12, 16)]).toEqual([0, 0, 0, 0]);
    check((w) => F.embedding(new Int32Array([2, 2, 0, 1]), w, { indicesShape: [2, 2] }), [leaf([3, 2])]);
  });
});

/** The GEMM calls `fn` makes. */
function gemmsOf(fn: () => void): typeof gemmCalls {
  gemmCalls.length = 0;
  fn();
  return gemmCalls.splice(0);
}

describe('frozen operands get no gradient, and it is not computed', () => {
  it('linear with a frozen weight computes dInput and dBias only (two GEMMs, no dWeight product)', () => {
    const x = leaf([6, 5]);
    const w = randn([4, 5], { generator: gen });
    const b = leaf([4]);
    const y = F.linear(x, w, b);
    const calls = gemmsOf(() => ck.sum(y).backward());
    expect(w.grad).toBeNull();
    expect(x.grad?.shape).toEqual([6, 5]);
    expect(b.grad?.shape).toEqual([4]);
    expect(calls).toEqual([
      { transA: false, transB: false, m: 6, n: 5, k: 4 }, // dX = dY W
      { transA: false, transB: false, m: 1, n: 4, k: 6 }, // db = 1^T dY
    ]);
  });

  it('linear on a frozen input (the first layer) computes dWeight and dBias only', () => {
    const x = randn([2, 3, 5], { generator: gen });
    const w = leaf([4, 5]);
    const b = leaf([4]);
    const loss = ck.sum(F.linear(x, w, b));
    const calls = gemmsOf(() => loss.backward());
    expect(x.grad).toBeNull();
    expect(calls).toEqual([
      { transA: true, transB: false, m: 4, n: 5, k: 6 }, // dW = dY^T X over all 6 rows
      { transA: false, transB: false, m: 1, n: 4, k: 6 },
    ]);
  });

  it('a fully frozen linear layer does not join the tape', () => {
    const y = F.linear(leaf([2, 5]).detach(), randn([3, 5], { generator: gen }), null);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it('matmul computes only the product for the operand that requires grad', () => {
    const a = leaf([2, 3, 4]);
    const b = randn([2, 4, 5], { generator: gen });
    const loss = ck.sum(ck.matmul(a, b));
    const calls = gemmsOf(() => loss.backward());
    expect(b.grad).toBeNull();
    expect(calls.every((c) => c.transB && !c.transA)).toBe(true); // dA = G B^T per batch item
    expect(calls.length).toBe(2);
    const a2 = randn([3, 4], { generator: gen });
    const b2 = leaf([4, 5]);
    const loss2 = ck.sum(ck.matmul(a2, b2));
    const calls2 = gemmsOf(() => loss2.backward());
    expect(a2.grad).toBeNull();
    expect(calls2).toEqual([{ transA: true, transB: false, m: 4, n: 5, k: 3 }]);
  });

  it('matmul with a matrix operand (no batch) backpropagates with one GEMM per operand', () => {
    const a = leaf([2, 3, 4]);
    const b = leaf([4, 5]);
    const loss = ck.sum(ck.matmul(a, b));
    const calls = gemmsOf(() => loss.backward());
    expect(calls).toEqual([
      { transA: false, transB: true, m: 6, n: 4, k: 5 },
      { transA: true, transB: false, m: 4, n: 5, k: 6 }, // the batch sum is inside the GEMM
    ]);
  });

  it('elementwise ops, cat and pad leave frozen operands alone', () => {
    const x = leaf([2, 3]);
    const frozen = randn([2, 3], { generator: gen });
    ck.sum(ck.mul(ck.div(ck.sub(ck.add(x, frozen), frozen), frozen), frozen)).backward();
    expect(frozen.grad).toBeNull();
    expect(x.grad).not.toBeNull();
    const y = leaf([1, 3]);
    ck.sum(F.pad(F.cat([frozen, y]), [1, 1], { mode: 'reflect' })).backward();
    expect(frozen.grad).toBeNull();
    expect(y.grad?.shape).toEqual([1, 3]);
  });

  it('the backward of a frozen-operand op is not asked for that gradient', () => {
    const frozen = randn([3], { generator: gen });
    const x = leaf([3]);
    const asked: boolean[][] = [];
    const spy = (t: T): T =>
      record('spy', t.detach().clone(), [t], (g, needs) => {
        asked.push([...needs]);
        return [g];
      });
    ck.sum(spy(ck.mul(frozen, x))).backward();
    expect(asked).toEqual([[true]]);
    expect(frozen.grad).toBeNull();
  });
});

describe('gradients are not copied needlessly', () => {
  /** An identity op that records the gradient tensor it receives. */
  function probe(t: T, seen: T[]): T {
    return record('probe', t.detach(), [t], (g) => {
      seen.push(g);
      return [g];
    });
  }

  it('add of equal shapes hands gradOutput itself to both operands', () => {
    const seen: T[] = [];
    const a = probe(leaf([2, 3]), seen);
    const b = probe(leaf([2, 3]), seen);
    const seed = randn([2, 3], { generator: gen });
    ck.add(a, b).backward(seed);
    expect(seen.length).toBe(2);
    expect(seen[0]).toBe(seed);
    expect(seen[1]).toBe(seed);
  });

  it('reshape, view, flatten, squeeze and unsqueeze pass the gradient buffer through', () => {
    for (const op of [(t: T) => t.reshape(6), (t: T) => t.view(3, 2), (t: T) => t.flatten(), (t: T) => t.unsqueeze(0).squeeze(0)]) {
      const seen: T[] = [];
      const x = probe(leaf([2, 3]), seen);
      const y = op(x);
      const seed = randn([...y.shape], { generator: gen });
      y.backward(seed);
      expect(seen[0]?.data).toBe(seed.data);
      expect(seen[0]?.shape).toEqual([2, 3]);
    }
  });

  it("cat along dim 0 hands out views of the gradient; split along dim 0 returns views of the input", () => {
    const seen: T[] = [];
    const a = probe(leaf([2, 3]), seen);
    const seed = randn([3, 3], { generator: gen });
    F.cat([a, leaf([1, 3])]).backward(seed);
    expect(seen[0]?.data.buffer).toBe(seed.data.buffer);
    const x = leaf([4, 3]);
    const [p, q] = F.split(x, [1, 3]);
    expect(p?.data.buffer).toBe(x.data.buffer);
    expect(q?.data.byteOffset).toBe(3 * 4);
  });
});
