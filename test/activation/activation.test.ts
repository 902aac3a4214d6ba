// Activations and softmax through the public API: finite-difference gradient checks (inputs kept
// away from the kinks), option validation with exact messages, shapes (0-d, empty, every softmax
// dim), the tape, and a tensor large enough to run the threaded path.
import { describe, expect, it } from 'vitest';
import {
  ArgumentError, F, ShapeError, Tensor, getIsa, gradcheck, noGrad, randn, setIsa, setNumThreads, getNumThreads, sum,
  supportedIsas, tensor,
} from '../../lib/index.js';

/** Normal samples pushed at least `gap` away from each kink. */
function awayFrom(shape: number[], seed: number, kinks: number[], gap = 0.05, scale = 2): Tensor {
  const x = randn(shape, { seed });
  const d = x.data;
  for (let i = 0; i < d.length; i++) {
    let v = (d[i] as number) * scale;
    for (const k of kinks) if (Math.abs(v - k) < gap) v = k + (v < k ? -gap : gap);
    d[i] = v;
  }
  return x;
}

function expectGradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradcheck(fn, inputs);
  expect(r.mismatches, `worst ${r.worst}`).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.checked).toBeGreaterThan(0);
}

describe('activations', () => {
  it('pass a finite-difference gradient check', () => {
    const x = awayFrom([3, 7], 1, [0, 6]).requiresGrad_();
    expectGradcheck((t) => F.relu(t), [x]);
    expectGradcheck((t) => F.leakyRelu(t, { negativeSlope: 0.2 }), [x]);
    expectGradcheck((t) => F.leakyRelu(t), [x]);
    expectGradcheck((t) => F.relu6(t), [awayFrom([3, 7], 2, [0, 6], 0.05, 5).requiresGrad_()]);
    expectGradcheck((t) => F.sigmoid(t), [x]);
    expectGradcheck((t) => F.tanh(t), [x]);
    expectGradcheck((t) => F.gelu(t), [x]);
    expectGradcheck((t) => F.gelu(t, { approximate: 'tanh' }), [x]);
  });

  it('compute the definitions', () => {
    const x = tensor([-2, -0.5, 0, 0.5, 3, 7]);
    expect([...F.relu(x).data]).toEqual([0, 0, 0, 0.5, 3, 7]);
    expect([...F.relu6(x).data]).toEqual([0, 0, 0, 0.5, 3, 6]);
    expect([...F.leakyRelu(x).data]).toEqual([-0.02, -0.005, 0, 0.5, 3, 7].map(Math.fround));
    expect([...F.leakyRelu(x, { negativeSlope: 0.5 }).data]).toEqual([-1, -0.25, 0, 0.5, 3, 7]);
    const near = (a: Float32Array, b: number[]): void => a.forEach((v, i) => expect(v).toBeCloseTo(b[i] as number, 6));
    near(F.sigmoid(x).data, [-2, -0.5, 0, 0.5, 3, 7].map((v) => 1 / (1 + Math.exp(-v))));
    near(F.tanh(x).data, [-2, -0.5, 0, 0.5, 3, 7].map(Math.tanh));
    // gelu(x) = x Phi(x): Phi(-2) = 0.0227501319, Phi(3) = 0.998650102
    near(F.gelu(x).data.subarray(0, 1), [-2 * 0.0227501319]);
    near(F.gelu(x).data.subarray(4, 5), [3 * 0.998650102]);
    // tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    const gt = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    near(F.gelu(x, { approximate: 'tanh' }).data, [-2, -0.5, 0, 0.5, 3, 7].map(gt));
  });

  it('propagate NaN like PyTorch', () => {
    const x = tensor([NaN, 1]);
    for (const y of [F.relu(x), F.relu6(x), F.leakyRelu(x), F.sigmoid(x), F.tanh(x), F.gelu(x)]) {
      expect(Number.isNaN(y.data[0])).toBe(true);
      expect(Number.isNaN(y.data[1])).toBe(false);
    }
  });

  it("give PyTorch's gradients at the kinks, at -0 and at NaN (ReLU and ReLU6 read their output)", () => {
    // torch.relu / relu6 backward of ones at these points (PyTorch 1.13).
    const points = [-2, -0, 0, 0.5, 6, 7, NaN];
    const cases: Array<[(t: Tensor) => Tensor, number[]]> = [
      [(t) => F.relu(t), [0, 0, 0, 1, 1, 1, 1]],
      [(t) => F.relu6(t), [0, 0, 0, 1, 0, 0, 1]],
    ];
    for (const [fn, want] of cases) {
      const x = tensor(points).requiresGrad_();
      sum(fn(x)).backward();
      expect([...x.grad!.data]).toEqual(want);
    }
  });

  it('keep shapes, including 0-d and empty tensors', () => {
    expect(F.relu(tensor(-3)).shape).toEqual([]);
    expect(F.relu(tensor(-3)).item()).toBe(0);
    expect(F.gelu(new Tensor(new Float32Array(0), [2, 0, 3])).shape).toEqual([2, 0, 3]);
    expect(F.sigmoid(randn([2, 3, 4], { seed: 3 })).shape).toEqual([2, 3, 4]);
  });

  it('record on the tape only when an input requires grad', () => {
    const x = randn([4], { seed: 4 });
    expect(F.tanh(x).requiresGrad).toBe(false);
    x.requiresGrad = true;
    const y = F.tanh(x);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.name).toBe('tanh');
    expect(noGrad(() => F.tanh(x)).requiresGrad).toBe(false);
    sum(y).backward();
    const expected = [...y.data].map((v) => 1 - v * v);
    x.grad!.data.forEach((g, i) => expect(g).toBeCloseTo(expected[i] as number, 6));
  });

  it('run the threaded path on a large tensor', () => {
    const n = 300_000;
    const x = randn([n], { seed: 5 }).requiresGrad_();
    const y = F.sigmoid(x);
    for (let i = 0; i < n; i += 9973) expect(y.data[i]).toBeCloseTo(1 / (1 + Math.exp(-(x.data[i] as number))), 6);
    sum(y).backward();
    for (let i = 0; i < n; i += 9973) {
      const s = y.data[i] as number;
      expect(x.grad!.data[i]).toBeCloseTo(s * (1 - s), 6);
    }
  });

  it('reject bad arguments with clear messages', () => {
    const x = tensor([1, 2]);
    expect(() => F.relu([1, 2] as unknown as Tensor)).toThrow(ArgumentError);
    expect(() => F.relu([1, 2] as unknown as Tensor)).toThrow(
      'Expected a Tensor for the input of relu() but received [1, 2] of type array',
    );
    expect(() => F.leakyRelu(x, { negativeSlope: NaN })).toThrow(
      'Expected a finite number for negativeSlope of leakyRelu() but received NaN of type number',
    );
    expect(() => F.leakyRelu(x, { slope: 0.1 } as never)).toThrow("leakyRelu: unknown option 'slope' (expected negativeSlope)");
    expect(() => F.relu(x, { inplace: true } as never)).toThrow("relu: unknown option 'inplace' (relu() takes no options)");
    expect(() => F.gelu(x, { approximate: 'erf' } as never)).toThrow(
      "Expected 'none' or 'tanh' for approximate of gelu() but received 'erf' of type string",
    );
    expect(() => F.gelu(x, 'tanh' as never)).toThrow(
      "Expected an object such as { approximate: ... } for the options of gelu() but received 'tanh' of type string",
    );
  });
});

describe('softmax and logSoftmax', () => {
  it('pass a finite-difference gradient check along every dimension', () => {
    const x = randn([2, 3, 4], { seed: 6 }).requiresGrad_();
    for (const dim of [0, 1, 2, -1]) {
      expectGradcheck((t) => F.softmax(t, { dim }), [x]);
      expectGradcheck((t) => F.logSoftmax(t, { dim }), [x]);
    }
  });

  it('normalise along the chosen dimension and stay finite for huge logits', () => {
    const x = tensor([[1000, 1001, 1002], [-1000, -1001, -1002]]);
    const y = F.softmax(x, { dim: 1 });
    for (let r = 0; r < 2; r++) {
      const row = y.data.subarray(r * 3, r * 3 + 3);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    expect(y.data[2]).toBeCloseTo(Math.exp(2) / (1 + Math.exp(1) + Math.exp(2)), 6);
    const ly = F.logSoftmax(x, { dim: 1 });
    expect(ly.data[2]).toBeCloseTo(2 - Math.log(1 + Math.exp(1) + Math.exp(2)), 5);
    const cols = F.softmax(x, { dim: 0 });
    expect(cols.data[0]).toBe(1);
    expect(cols.data[3]).toBe(0);
  });

  it('handle 0-d tensors and empty dimensions', () => {
    expect(F.softmax(tensor(5), { dim: 0 }).item()).toBe(1);
    expect(F.logSoftmax(tensor(5), { dim: -1 }).item()).toBe(0);
    expect(F.softmax(new Tensor(new Float32Array(0), [3, 0]), { dim: 1 }).shape).toEqual([3, 0]);
  });

  it('make a slice with NaN or +inf entirely NaN', () => {
    const y = F.softmax(tensor([[1, NaN], [Infinity, 0], [1, 1]]), { dim: 1 });
    expect([...y.data].map(Number.isNaN)).toEqual([true, true, true, true, false, false]);
  });

  it('require dim and check its range', () => {
    const x = randn([2, 3], { seed: 7 });
    expect(() => F.softmax(x, undefined as never)).toThrow(
      'softmax: the dim option is required, e.g. softmax(x, { dim: -1 }) for the last dimension',
    );
    expect(() => F.logSoftmax(x, {} as never)).toThrow(ArgumentError);
    expect(() => F.softmax(x, { dim: 2 })).toThrow(ShapeError);
    expect(() => F.softmax(x, { dim: 2 })).toThrow('softmax: dim 2 is out of range for a tensor of rank 2 (expected -2..1)');
    expect(() => F.softmax(x, { dim: 1.5 })).toThrow(
      'Expected an integer for the dim of softmax() but received 1.5 of type number',
    );
  });
});

describe('instruction-set paths', () => {
  it('agree through the public API (forward and backward, 1 and 2 threads)', () => {
    const saved = { isa: getIsa(), threads: getNumThreads() };
    const x = randn([5, 300], { seed: 8 });
    const t = Int32Array.from({ length: 5 }, (_, i) => (i * 37) % 300);
    const run = (): number[][] => {
      const a = x.clone().requiresGrad_();
      const outs = [F.gelu(a), F.sigmoid(a), F.tanh(a), F.gelu(a, { approximate: 'tanh' }), F.logSoftmax(a, { dim: 0 })];
      const loss = F.crossEntropy(a, t, { labelSmoothing: 0.1 });
      sum(outs.reduce((acc, o) => acc.add(o))).add(loss).backward();
      return [...outs.map((o) => [...o.data]), [loss.item()], [...a.grad!.data]];
    };
    try {
      setIsa('scalar');
      setNumThreads(1);
      const reference = run();
      for (const isa of supportedIsas()) {
        for (const threads of [1, 2]) {
          setIsa(isa);
          setNumThreads(threads);
          const got = run();
          got.forEach((arr, k) =>
            arr.forEach((v, i) => {
              const r = reference[k]![i]!;
              if (Number.isNaN(r)) expect(Number.isNaN(v), `${isa}/${threads} output ${k}[${i}]`).toBe(true);
              else expect(Math.abs(v - r), `${isa}/${threads} output ${k}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(r)));
            }),
          );
        }
      }
    } finally {
      setIsa(saved.isa);
      setNumThreads(saved.threads);
    }
  });
});
