// The tape: accumulation over shared uses, freeing, misuse errors, noGrad, frozen inputs, and
// gradcheck itself (which must catch a wrong gradient).
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, ShapeError, Tensor, add, gradcheck, mul, noGrad, randn, record, sum, tensor, Generator,
} from '../../lib/index.js';

describe('autograd tape', () => {
  it('keeps leaf inputs but not the outputs of other ops, so their buffers can be freed', () => {
    const w = tensor([0.5, -1, 2]).requiresGrad_();
    const x = tensor([1, 2, 3]);
    const h = mul(x, w); // an op's output: the next node must not hold it
    const y = add(h, w);
    const [hEdge, wEdge] = y.gradFn!.inputs;
    expect(hEdge!.gradFn).toBe(h.gradFn);
    expect(hEdge!.tensor).toBeNull();
    expect(hEdge!.shape).toEqual([3]);
    expect(wEdge!.gradFn).toBeNull();
    expect(wEdge!.tensor).toBe(w);
    expect(h.gradFn!.inputs[0]).toBeNull(); // x needs no gradient
    sum(y).backward();
    expect([...w.grad!.data]).toEqual([2, 3, 4]);
  });

  it('a tensor used several times gets the sum of its gradients', () => {
    const x = tensor([1, 2, 3]).requiresGrad_();
    const y = sum(add(mul(x, x), x)); // sum(x^2 + x): dy/dx = 2x + 1
    y.backward();
    expect([...x.grad!.data]).toEqual([3, 5, 7]);
  });

  it('a shared weight broadcast over positions gets the sum over all positions', () => {
    // w (one filter of 3 taps) is applied at 4 positions: the gradient is the sum of the inputs it saw.
    const x = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]);
    const w = tensor([0.5, -1, 2]).requiresGrad_();
    sum(mul(x, w)).backward();
    expect([...w.grad!.data]).toEqual([22, 26, 30]);
  });

  it('gradients accumulate across backward calls until reset', () => {
    const x = tensor([2]).requiresGrad_();
    sum(mul(x, 3)).backward();
    sum(mul(x, 3)).backward();
    expect(x.grad!.data[0]).toBe(6);
    x.grad = null;
    sum(mul(x, 3)).backward();
    expect(x.grad!.data[0]).toBe(3);
  });

  it('backward twice through a freed graph is a clear error; retainGraph allows it', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = sum(mul(x, x));
    y.backward();
    expect(() => y.backward()).toThrow(ArgumentError);
    expect(() => y.backward()).toThrow(/the graph through 'sum' was already freed by an earlier backward\(\); pass backward\(undefined, \{ retainGraph: true \}\)/);
    const z = sum(mul(x, x));
    x.grad = null;
    z.backward(undefined, { retainGraph: true });
    z.backward();
    expect([...x.grad!.data]).toEqual([4, 8]);
  });

  it('backward of a non-scalar needs a gradient of the same shape', () => {
    const x = randn([2, 3], { seed: 1 }).requiresGrad_();
    const y = mul(x, 2);
    expect(() => y.backward()).toThrow(ShapeError);
    expect(() => y.backward()).toThrow('backward: a gradient can be created implicitly only for a one-element tensor, but this one has shape [2, 3]; pass backward(gradOutput)');
    expect(() => y.backward(tensor([1, 2]))).toThrow('backward: gradOutput has shape [2] but the tensor has shape [2, 3]');
    y.backward(tensor([[1, 1, 1], [1, 1, 1]]));
    expect([...x.grad!.data]).toEqual([2, 2, 2, 2, 2, 2]);
  });

  it('noGrad records nothing, and a tensor without grad cannot backward', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = noGrad(() => sum(mul(x, x)));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => y.backward()).toThrow(/does not require grad and has no gradFn/);
  });

  it('requiresGrad can only be set on leaves; detach gives a leaf sharing the data', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const y = mul(x, 2);
    expect(y.isLeaf).toBe(false);
    expect(y.gradFn?.name).toBe('mul');
    expect(() => { y.requiresGrad = false; }).toThrow("requiresGrad can only be changed on leaf tensors; this one was produced by 'mul'");
    const d = y.detach();
    expect(d.isLeaf && !d.requiresGrad).toBe(true);
    expect(d.data).toBe(y.data);
  });

  it('inputs that do not require grad are not asked for a gradient (frozen weights cost nothing)', () => {
    const frozen = tensor([1, 2, 3]);
    const x = tensor([4, 5, 6]).requiresGrad_();
    const asked: boolean[][] = [];
    const out = record('spy', mul(frozen, x).detach(), [frozen, x], (g, needs) => {
      asked.push([...needs]);
      return [null, mul(g, frozen)];
    });
    sum(out).backward();
    expect(asked).toEqual([[false, true]]);
    expect(frozen.grad).toBeNull();
    expect([...x.grad!.data]).toEqual([1, 2, 3]);
  });

  it('retainGrad keeps the gradient of an intermediate tensor', () => {
    const x = tensor([1, 2]).requiresGrad_();
    const h = mul(x, 3);
    h.retainGrad();
    sum(mul(h, h)).backward();
    expect([...h.grad!.data]).toEqual([6, 12]);
    expect([...x.grad!.data]).toEqual([18, 36]);
  });

  it('a deep chain does not overflow the stack', () => {
    const x = tensor([1]).requiresGrad_();
    let y: Tensor = x;
    for (let i = 0; i < 20000; i++) y = add(y, 1);
    sum(y).backward();
    expect(x.grad!.data[0]).toBe(1);
  });
});

describe('gradcheck', () => {
  const g = new Generator(7);
  it('accepts correct gradients of broadcasting ops', () => {
    const a = randn([3, 4], { generator: g }).requiresGrad_();
    const b = randn([4], { generator: g }).requiresGrad_();
    const r = gradcheck((p, q) => mul(add(p, q), p), [a, b]);
    expect(r.ok, JSON.stringify(r.mismatches)).toBe(true);
    expect(r.checked).toBe(16);
  });
  it('rejects a wrong gradient (the check can fail)', () => {
    const a = randn([5], { generator: g }).requiresGrad_();
    const wrong = (x: Tensor) => record('wrong', mul(x, x).detach(), [x], (grad) => [mul(grad, x)]); // should be 2x
    const r = gradcheck(wrong, [a]);
    expect(r.ok).toBe(false);
    expect(r.mismatches.length).toBeGreaterThan(0);
  });
});

describe('leaf gradients own their buffers', () => {
  it('adopts a fresh gradient, but never the seed or a buffer shared with another gradient', () => {
    const x = tensor([1, 2, 3]).requiresGrad_();
    const y = tensor([4, 5, 6]).requiresGrad_();
    const seed = tensor([1, 1, 1]);
    add(x, y).backward(seed); // add returns the seed itself for both operands
    expect(x.grad!.data.buffer).not.toBe(seed.data.buffer);
    expect(y.grad!.data.buffer).not.toBe(x.grad!.data.buffer);
    add(x, y).backward(seed); // in-place accumulation must not leak into the other leaf or the seed
    expect([...x.grad!.data]).toEqual([2, 2, 2]);
    expect([...y.grad!.data]).toEqual([2, 2, 2]);
    expect([...seed.data]).toEqual([1, 1, 1]);
  });
});
