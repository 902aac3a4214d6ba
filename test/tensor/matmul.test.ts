/**
 * matmul against a float64 reference computed here (plain double loops in helpers.ts), on awkward
 * sizes below, at and above the GEMM tile edges, under every instruction-set path this CPU runs and
 * with 1 and 2 threads. Tolerance per element, derived from the float32 dot-product error bound
 * with a factor 2 of slack for blocked and FMA summation orders:
 *   |ours - exact| <= 2 * (k + 2) * 2^-24 * sum_p |a_ip * b_pj|.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Tensor,
  getIsa,
  getNumThreads,
  matmul,
  setIsa,
  setNumThreads,
  supportedIsas,
  type Isa,
} from '../../lib/index.js';
import { expectMatmulClose, matmulRef, testValues } from './helpers.js';

const SIZES = [1, 7, 17, 33, 65];
const LARGE: [number, number, number][] = [
  [130, 130, 130],
  [1, 130, 65],
  [130, 1, 33],
  [65, 130, 7],
  [33, 17, 130],
];
const BATCHED: [number[], number[]][] = [
  [[3, 17, 33], [3, 33, 7]],
  [[5, 7, 65], [65, 17]],
  [[17, 65], [2, 65, 7]],
  [[2, 1, 7, 17], [3, 17, 5]],
  [[1, 33, 7], [4, 7, 17]],
  [[65], [3, 65, 7]],
  [[2, 7, 33], [33]],
];

function operand(shape: number[], seed: number): Tensor {
  return new Tensor(testValues(shape.reduce((p, d) => p * d, 1), seed), shape);
}

interface Case {
  label: string;
  a: Tensor;
  b: Tensor;
  ref: ReturnType<typeof matmulRef>;
}

function buildCases(): Case[] {
  const cases: Case[] = [];
  const triples: [number, number, number][] = [];
  for (const m of SIZES) for (const n of SIZES) for (const k of SIZES) triples.push([m, n, k]);
  triples.push(...LARGE);
  let seed = 1;
  for (const [m, n, k] of triples) {
    const a = operand([m, k], seed++);
    const b = operand([k, n], seed++);
    cases.push({ label: `${m}x${k} @ ${k}x${n}`, a, b, ref: matmulRef(a, b) });
  }
  for (const [sa, sb] of BATCHED) {
    const a = operand(sa, seed++);
    const b = operand(sb, seed++);
    cases.push({ label: `${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`, a, b, ref: matmulRef(a, b) });
  }
  return cases;
}

const cases = buildCases();
const isas = supportedIsas();

describe('matmul vs float64 reference', () => {
  let savedIsa: Isa;
  let savedThreads: number;
  beforeAll(() => {
    savedIsa = getIsa();
    savedThreads = getNumThreads();
  });
  afterAll(() => {
    setIsa(savedIsa);
    setNumThreads(savedThreads);
  });

  it('runs on at least the scalar path', () => {
    expect(isas).toContain('scalar');
  });

  describe.each(isas)('isa %s', (isa) => {
    describe.each([1, 2])('%i thread(s)', (threads) => {
      it(`${cases.length} shapes from 1x1x1 to 130x130x130`, () => {
        setIsa(isa);
        setNumThreads(threads);
        try {
          for (const c of cases) expectMatmulClose(matmul(c.a, c.b), c.ref, `${isa}/${threads}t ${c.label}`);
        } finally {
          setIsa(savedIsa);
          setNumThreads(savedThreads);
        }
      });
    });
  });

  it('reads batch items in place: the operands are not modified', () => {
    const a = operand([3, 17, 33], 7);
    const b = operand([33, 7], 8);
    const a0 = a.data.slice();
    const b0 = b.data.slice();
    matmul(a, b);
    expect(a.data).toEqual(a0);
    expect(b.data).toEqual(b0);
  });

  it('works on views (the 2-d view of a 3-d tensor gives the same rows)', () => {
    const a = operand([2, 5, 3], 11);
    const b = operand([3, 4], 12);
    const batched = matmul(a, b);
    const flat = matmul(a.view(10, 3), b);
    expect(flat.shape).toEqual([10, 4]);
    expect(Array.from(flat.data)).toEqual(Array.from(batched.data));
  });
});
